"""The pages' code examples, re-expressed with the harness: do they run, and print the shapes their comments state?

The examples are not copied: each is described by its configuration (arguments, input shape, state
shape) in the case file and rebuilt here, so the check is what the example claims, not its text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..problem import Problem
from ..spec import LayerSpec
from ..verdicts import Verdict
from ..weights import random_weights
from . import CheckContext, Outcome, register
from .arguments import Args


class ExampleArgs(Args):
    """One side of an example: the layer it builds, what it feeds, and the shapes its comments state."""

    side: dict[str, dict[str, Any]]  # framework -> {spec: {...}, input: [...], state: [...]|null, fill: ...}
    claimed: dict[str, dict[str, list[int] | None]]  # framework -> {output: shape, h: shape, c: shape}
    # frameworks whose side of the example also wraps a layer built without units (Bidirectional(LSTM()))
    wrapper_without_units: list[str] = []


@register("code_example", ExampleArgs)
def code_example(args: ExampleArgs, ctx: CheckContext) -> Outcome:
    """The example's configuration runs and returns the shapes its comments claim, with the reference's values."""
    fw = ctx.framework
    adapter = ctx.adapter
    m = ctx.measurement()
    side = args.side[fw]
    spec = LayerSpec.parse(side["spec"], where=f"example side {fw}", op=ctx.op)
    fill = side.get("fill", "ones")
    x = np.ones(side["input"]) if fill == "ones" else np.random.default_rng(0).standard_normal(side["input"])
    state = None
    if side.get("state") is not None:
        value = side.get("state_fill", 0.0)
        state = tuple(np.full(side["state"], value) for _ in ops.of(spec).states)
    w = random_weights(spec, seed=0)
    try:
        # the example's call exactly as written, bypassing the harness's own shape checks
        outputs = adapter.call_native(adapter.build(spec, w), x, *([state] if state is not None else []))
    except Exception as exc:  # the example itself failing is the finding
        m.note(f"the example fails: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        return m.outcome(Verdict.DIVERGES)
    got = {name: list(a.shape) for name, a in zip(("output",) + ops.of(spec).states, outputs)}
    m.note("shapes: " + ", ".join(f"{k} {tuple(v)}" for k, v in got.items()))
    ref = Problem(spec, w, x, state).reference()
    out, h = outputs[0], outputs[1]
    m.compare("values", out, ref.output)
    # Keras returns each final state as (batch, units), without the (layers * directions) axis
    m.compare("h", h, ref.h_n[0] if h.ndim == ref.h_n.ndim - 1 else ref.h_n)
    shapes_ok = all(got[k] == list(v) for k, v in args.claimed[fw].items() if v is not None)
    if not shapes_ok:
        m.note(f"the comments state {args.claimed[fw]}")
    if fw in args.wrapper_without_units:
        try:
            adapter.construct(ctx.op, bidirectional=True)
            m.note(f"Bidirectional({ctx.op.upper()}()) builds")
        except TypeError as exc:
            m.note(f"the example's Bidirectional({ctx.op.upper()}()) fails: {exc}")
            shapes_ok = False
    return m.outcome(Verdict.EQUIVALENT if shapes_ok and m.ok else Verdict.DIVERGES)
