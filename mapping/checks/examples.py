"""The pages' code examples, re-expressed with the harness: do they run, and print the shapes their comments state?

The examples are not copied: each is described by its configuration (arguments, input shape, state
shape) in the case file and rebuilt here, so the check is what the example claims, not its text.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..adapters import get_adapter
from ..errors import MappingError, SpecError
from ..reference import reference_lstm
from ..spec import MAX_PROBLEM_NUMBERS, LSTMSpec
from ..verdicts import Verdict
from ..weights import random_weights
from . import CheckContext, Measurement, Outcome, register
from .native import Args, covers, keras_layer

#: An example's array shape: up to four positive sizes (wrong ranks and sizes are the example's own finding).
Shape = list[int]


class ExampleSide(BaseModel):
    """One side of an example: the LSTM it builds (a spec, validated strictly), the input shape it feeds, the
    initial state's shape (or none), and how both are filled."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    spec: dict[str, Any]
    input: Shape = Field(min_length=1, max_length=4)
    state: Shape | None = Field(default=None, min_length=1, max_length=4)
    fill: Literal["ones", "normal"] = "ones"
    state_fill: float = Field(default=0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounded(self) -> "ExampleSide":
        try:
            LSTMSpec.parse(self.spec, strict=True)
        except SpecError as exc:  # a ValueError: pydantic adds where this side is
            raise ValueError(f"{exc.field or 'spec'}: {exc.problem}") from None
        for name in ("input", "state"):
            shape = getattr(self, name) or []
            if any(size <= 0 for size in shape) or math.prod(shape) > MAX_PROBLEM_NUMBERS:
                raise ValueError(f"{name}: shape {shape}: sizes must be positive and hold at most "
                                 f"{MAX_PROBLEM_NUMBERS:,} numbers")
        return self


class ExampleArgs(Args):
    """One side of an example: the LSTM it builds, what it feeds, and the shapes its comments state."""

    side: dict[str, ExampleSide]  # framework -> {spec: {...}, input: [...], state: [...]|null, fill: ...}
    claimed: dict[str, dict[Literal["output", "h", "c"], list[int] | None]]  # framework -> {output: shape, ...}
    keras_wrapper_without_units: bool = False  # the example also builds Bidirectional(LSTM()) with no units

    def check_frameworks(self, frameworks: list[str]) -> None:
        covers(self, "side", frameworks, families=False)
        covers(self, "claimed", frameworks, families=False)


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
    spec = LSTMSpec.parse(side.spec, where=f"example side {fw}")
    x = np.ones(side.input) if side.fill == "ones" else np.random.default_rng(0).standard_normal(side.input)
    state = None
    if side.state is not None:
        state = (np.full(side.state, side.state_fill), np.full(side.state, side.state_fill))
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
