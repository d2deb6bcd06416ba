"""The pages' code examples, re-expressed with the harness: do they run, and print the shapes their comments state?

The examples are not copied: each is described by its configuration (arguments, input shape, state
shape) in the case file and rebuilt here, so the check is what the example claims, not its text.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import ops
from ..errors import ArgsError, SpecError
from ..problem import Problem
from ..spec import MAX_PROBLEM_NUMBERS, LayerSpec
from ..verdicts import Verdict
from ..weights import random_weights
from . import CheckContext, Outcome, register
from .arguments import Args, covers

#: An example's array shape: up to four positive sizes (wrong ranks and sizes are the example's own finding).
Shape = list[int]


class ExampleSide(BaseModel):
    """One side of an example: the layer it builds (a spec, validated strictly against the page's op), the
    input shape it feeds, the initial state's shape (or none), and how both are filled."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    spec: dict[str, Any]
    input: Shape = Field(min_length=1, max_length=4)
    state: Shape | None = Field(default=None, min_length=1, max_length=4)
    fill: Literal["ones", "normal"] = "ones"
    state_fill: float = Field(default=0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounded(self) -> "ExampleSide":
        for name in ("input", "state"):
            shape = getattr(self, name) or []
            if any(size <= 0 for size in shape) or math.prod(shape) > MAX_PROBLEM_NUMBERS:
                raise ValueError(f"{name}: shape {shape}: sizes must be positive and hold at most "
                                 f"{MAX_PROBLEM_NUMBERS:,} numbers")
        return self


class ExampleArgs(Args):
    """One side of an example: the layer it builds, what it feeds, and the shapes its comments state."""

    side: dict[str, ExampleSide]  # framework -> {spec: {...}, input: [...], state: [...]|null, fill: ...}
    claimed: dict[str, dict[str, list[int] | None]]  # framework -> {output: shape, h: shape, c: shape}
    # frameworks whose side of the example also wraps a layer built without units (Bidirectional(LSTM()))
    wrapper_without_units: list[str] = []

    def check_case(self, names: list[str], op: str) -> None:
        covers(self, "side", names, families=False)
        covers(self, "claimed", names, families=False)
        outputs = ("output",) + ops.get(op).states
        for framework in names:
            try:
                LayerSpec.parse(self.side[framework].spec, op=op, strict=True)
            except SpecError as exc:
                raise ArgsError(f"side.{framework}", f"{exc.field or 'spec'}: {exc.problem}") from None
            unknown = [k for k in self.claimed[framework] if k not in outputs]
            if unknown:
                raise ArgsError(f"claimed.{framework}.{unknown[0]}", f"not an output of {op}; use {', '.join(outputs)}")


@register("code_example", ExampleArgs)
def code_example(args: ExampleArgs, ctx: CheckContext) -> Outcome:
    """The example's configuration runs and returns the shapes its comments claim, with the reference's values."""
    fw = ctx.framework
    adapter = ctx.adapter
    m = ctx.measurement()
    side = args.side[fw]
    spec = LayerSpec.parse(side.spec, where=f"example side {fw}", op=ctx.op)
    x = np.ones(side.input) if side.fill == "ones" else np.random.default_rng(0).standard_normal(side.input)
    state = None
    if side.state is not None:
        state = tuple(np.full(side.state, side.state_fill) for _ in ops.of(spec).states)
    w = random_weights(spec, seed=0)
    try:
        # the example's call exactly as written, bypassing the harness's own shape checks
        outputs = adapter.call_native(adapter.build(spec, w), x, *([state] if state is not None else []))
    except Exception as exc:  # the example itself failing is the finding
        m.note(f"the example fails: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        m.decide(f"the example's call raises {type(exc).__name__}", None, compared_with="the output its comments state",
                 holds=False)
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
        m.decide("the shapes the example returns", None, compared_with="the shapes its comments state", holds=False)
    if fw in args.wrapper_without_units:
        try:
            adapter.construct(ctx.op, bidirectional=True)
            m.note(f"Bidirectional({ctx.op.upper()}()) builds")
        except TypeError as exc:
            m.note(f"the example's Bidirectional({ctx.op.upper()}()) fails: {exc}")
            m.decide(f"the example's Bidirectional({ctx.op.upper()}()) raises TypeError", None,
                     compared_with="a layer the example can build", holds=False)
            shapes_ok = False
    return m.outcome(Verdict.EQUIVALENT if shapes_ok and m.ok else Verdict.DIVERGES)
