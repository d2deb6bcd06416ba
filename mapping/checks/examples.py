"""The pages' code examples, re-expressed with the harness: do they run, and print the shapes their comments state?

The examples are not copied: each is described by its configuration (arguments, input shape, state
shape, the input and state values it types in, and for a cell the loop it writes) in the case file and rebuilt
here, so the check is what the example claims, not its text.

A cell's example either calls the cell once (``loop: none``, input (batch, features)) or loops over the first axis
of a (time, batch, features) input: ``carry`` feeds each step's new state to the next (a recurrence), ``fixed``
calls every step from the example's initial state, as a loop that never reassigns the state it passes does. The
values are compared with the recurrence the example says it computes.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import ops
from ..errors import ArgsError, SpecError
from ..problem import Problem
from ..spec import MAX_PROBLEM_NUMBERS, LayerSpec, split_api
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
    #: the values the example types in (nested lists of the shape above), instead of ``fill``/``state_fill``
    input_values: list | None = None
    state_values: list | None = None
    #: a cell's example: one call, or a loop over time that carries the state or keeps passing the initial one
    loop: Literal["none", "carry", "fixed"] = "none"

    @model_validator(mode="after")
    def _bounded(self) -> "ExampleSide":
        for name in ("input", "state"):
            shape = getattr(self, name) or []
            if any(size <= 0 for size in shape) or math.prod(shape) > MAX_PROBLEM_NUMBERS:
                raise ValueError(f"{name}: shape {shape}: sizes must be positive and hold at most "
                                 f"{MAX_PROBLEM_NUMBERS:,} numbers")
            values = getattr(self, f"{name}_values")
            if values is not None:
                try:
                    array = np.asarray(values, dtype=float)
                except (TypeError, ValueError):
                    raise ValueError(f"{name}_values: not a nested list of numbers") from None
                if list(array.shape) != list(shape) or not np.all(np.isfinite(array)):
                    raise ValueError(f"{name}_values: finite numbers of shape {shape} expected, got shape "
                                     f"{list(array.shape)}")
        return self

    def arrays(self, states: tuple[str, ...]) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """The example's input and initial state (one array per state, each as the example shapes it)."""
        if self.input_values is not None:
            x = np.asarray(self.input_values, dtype=float)
        else:
            x = np.ones(self.input) if self.fill == "ones" else np.random.default_rng(0).standard_normal(self.input)
        if self.state is None:
            return x, None
        if self.state_values is not None:
            return x, tuple(np.asarray(self.state_values, dtype=float) for _ in states)
        return x, tuple(np.full(self.state, self.state_fill) for _ in states)


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
            side = self.side[framework]
            cell = split_api(op)[1] == "cell"
            if not cell and side.loop != "none":
                raise ArgsError(f"side.{framework}.loop", f"{op} is a layer: only a cell's example loops")
            if cell and len(side.input) != (2 if side.loop == "none" else 3):
                raise ArgsError(f"side.{framework}.input", "a cell's input is (batch, features) for one call, "
                                                           "(time, batch, features) for a loop")


def _cell_example(args_side: ExampleSide, ctx: CheckContext, spec: LayerSpec, m) -> dict[str, list[int]] | None:
    """Run a cell's example as it is written (one call, or its loop) and compare with the recurrence it claims."""
    states = ops.of(spec).states
    x, state = args_side.arrays(states)
    steps = x[None] if args_side.loop == "none" else x
    batch = steps.shape[1]
    if state is None:
        state = tuple(np.zeros((batch, spec.hidden_size)) for _ in states)
    w = random_weights(spec, seed=0)
    cell = ctx.adapter.build(spec, w)
    outputs, current = [], state
    try:
        for t in range(steps.shape[0]):
            new = ctx.adapter.call_native(cell, steps[t], current if len(states) > 1 else current[0])
            outputs.append(new[0])
            if args_side.loop != "fixed":
                current = tuple(new)
    except Exception as exc:  # the example itself failing is the finding
        m.note(f"the example fails: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        return None
    # the recurrence the example describes: the state carried from step to step
    ref = Problem(spec.replace(batch_first=False), w, steps, tuple(s[None] for s in state)).reference()
    m.compare("values", np.stack(outputs), ref.output)
    if args_side.loop == "fixed":
        first = [Problem(spec.replace(batch_first=False), w, steps[t:t + 1], tuple(s[None] for s in state))
                 .reference().output[0] for t in range(steps.shape[0])]
        gap = float(np.max(np.abs(np.stack(outputs) - np.stack(first))))
        m.note(f"every step of the loop starts again from the initial state: each equals one step from it "
               f"(max diff {gap:.2g}), not the sequence")
    got = {"output": list(outputs[0].shape)}
    got.update({name: list(a.shape) for name, a in zip(states, new)})
    return got


@register("code_example", ExampleArgs)
def code_example(args: ExampleArgs, ctx: CheckContext) -> Outcome:
    """The example's configuration runs and returns the shapes its comments claim, with the reference's values."""
    fw = ctx.framework
    adapter = ctx.adapter
    m = ctx.measurement()
    side = args.side[fw]
    spec = LayerSpec.parse(side.spec, where=f"example side {fw}", op=ctx.op)
    if spec.form == "cell":
        got = _cell_example(side, ctx, spec, m)
        if got is None:
            return m.outcome(Verdict.DIVERGES)
        m.note("shapes: " + ", ".join(f"{k} {tuple(v)}" for k, v in got.items()))
        shapes_ok = all(got[k] == list(v) for k, v in args.claimed[fw].items() if v is not None)
        if not shapes_ok:
            m.note(f"the comments state {args.claimed[fw]}")
        return m.outcome(Verdict.EQUIVALENT if shapes_ok and m.ok else Verdict.DIVERGES)
    x, state = side.arrays(ops.of(spec).states)
    w = random_weights(spec, seed=0)
    try:
        # the example's call exactly as written, bypassing the harness's own shape checks
        # the state as the example passes it: one tensor, or a tuple of them (LSTM's (h, c))
        passed = [] if state is None else [state if len(state) > 1 else state[0]]
        outputs = adapter.call_native(adapter.build(spec, w), x, *passed)
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
