"""The pages' code examples, re-expressed with the harness: do they run, and print the shapes their comments state?

The examples are not copied: each is described by its configuration (arguments, input shape, state
shape) in the case file and rebuilt here, so the check is what the example claims, not its text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..adapters import get_adapter
from ..errors import MappingError
from ..reference import reference_lstm
from ..spec import LSTMSpec
from ..verdicts import Verdict
from ..weights import random_weights
from . import CheckContext, Measurement, Outcome, register
from .native import Args, keras_layer


class ExampleArgs(Args):
    """One side of an example: the LSTM it builds, what it feeds, and the shapes its comments state."""

    side: dict[str, dict[str, Any]]  # framework -> {spec: {...}, input: [...], state: [...]|null, fill: ...}
    claimed: dict[str, dict[str, list[int] | None]]  # framework -> {output: shape, h: shape, c: shape}
    keras_wrapper_without_units: bool = False  # the example also builds Bidirectional(LSTM()) with no units


def _native_call(fw: str, spec: LSTMSpec, x: np.ndarray, state):
    """Run the example's call exactly as written, bypassing the harness's own shape checks."""
    w = random_weights(spec, seed=0)
    adapter = get_adapter(fw)
    model = adapter.build(spec, w)
    if fw == "mindspore":
        from mindspore import Tensor

        hx = None if state is None else (Tensor(state[0].astype(np.float32)), Tensor(state[1].astype(np.float32)))
        out, (h, c) = model(Tensor(x.astype(np.float32)), hx)
        return out.asnumpy(), h.asnumpy(), c.asnumpy(), w
    if fw == "torch":
        import torch

        hx = None if state is None else tuple(torch.from_numpy(s.astype(np.float32)) for s in state)
        with torch.no_grad():
            out, (h, c) = model(torch.from_numpy(x.astype(np.float32)), hx)
        return out.numpy(), h.numpy(), c.numpy(), w
    layer = keras_layer(fw, spec, w, return_sequences=True, return_state=True)
    out, h, c = (np.asarray(t) for t in layer(x.astype(np.float32)))
    return out, h, c, w


@register("code_example", ExampleArgs)
def code_example(args: ExampleArgs, ctx: CheckContext) -> Outcome:
    """The example's configuration runs and returns the shapes its comments claim, with the reference's values."""
    fw = ctx.framework
    m = Measurement(fw, tol=ctx.tolerance)
    side = args.side[fw]
    spec = LSTMSpec.parse(side["spec"], where=f"example side {fw}")
    fill = side.get("fill", "ones")
    x = np.ones(side["input"]) if fill == "ones" else np.random.default_rng(0).standard_normal(side["input"])
    state = None
    if side.get("state") is not None:
        value = side.get("state_fill", 0.0)
        state = (np.full(side["state"], value), np.full(side["state"], value))
    try:
        out, h, c, w = _native_call(fw, spec, x, state)
    except (MappingError, Exception) as exc:  # the example itself failing is the finding
        m.note(f"the example fails: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        return m.outcome(Verdict.DIVERGES)
    got = {"output": list(out.shape), "h": list(h.shape), "c": list(c.shape)}
    m.note("shapes: " + ", ".join(f"{k} {tuple(v)}" for k, v in got.items()))
    if fw in ("tfkeras", "keras2"):
        ref = reference_lstm(spec, w, x)
        m.compare("values", out, ref.output)
        m.compare("h", h, ref.h_n[0])
    else:
        ref = reference_lstm(spec, w, x, state)
        m.compare("values", out, ref.output)
        m.compare("h", h, ref.h_n)
    shapes_ok = all(got[k] == list(v) for k, v in args.claimed[fw].items() if v is not None)
    if not shapes_ok:
        m.note(f"the comments state {args.claimed[fw]}")
    if args.keras_wrapper_without_units and fw in ("tfkeras", "keras2"):
        try:
            keras = get_adapter(fw).keras()
            keras.layers.Bidirectional(keras.layers.LSTM())
            m.note("Bidirectional(LSTM()) builds")
        except TypeError as exc:
            m.note(f"the example's Bidirectional(LSTM()) fails: {exc}")
            shapes_ok = False
    return m.outcome(Verdict.EQUIVALENT if shapes_ok and m.ok else Verdict.DIVERGES)
