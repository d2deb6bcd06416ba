"""Checks about parameters themselves: renamed, absent with the same default, without a counterpart."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from ..errors import ArgsError
from ..problem import Problem
from ..verdicts import Verdict
from ..weights import CanonicalWeights
from . import CheckContext, Outcome, register
from .arguments import Args, Setup, covers, per_framework
from .measure import Measurement


class RenamedParameterArgs(Args):
    field: str  # the spec field both names stand for
    values: list[Any] = Field(min_length=1, max_length=64)  # each a valid value of `field`, typed as the spec types it
    names: dict[str, str]  # framework (or family) -> the page's name for it
    setup: Setup = Setup()

    def check_case(self, names: list[str], op: str) -> None:
        for index, value in enumerate(self.values):
            self.setup.spec_for_value(op, self.field, value, at=f"values.{index}")
        covers(self, "names", names)


@register("renamed_parameter", RenamedParameterArgs)
def renamed_parameter(args: RenamedParameterArgs, ctx: CheckContext) -> Outcome:
    """The parameter exists under the page's name, and for several values it computes what the reference does."""
    name = per_framework(args.names, ctx.framework)
    m = ctx.measurement()
    if name not in ctx.adapter.constructor_parameters(ctx.op):
        m.note(f"the constructor has no parameter {name!r}")
        return m.outcome(Verdict.NOT_APPLICABLE)
    for value in args.values:
        problem = args.setup.problem(args.setup.spec(ctx.op, **{args.field: value}), ctx.seed)
        m.compare(f"{name}={value!r}", ctx.adapter.forward(problem), problem.reference(), problem=problem)
    if m.ok:
        m.note(f"{name} exists and matches the reference for values {args.values}")
    return m.outcome(Verdict.EQUIVALENT if m.ok else Verdict.DIVERGES)


class AbsentSameDefaultArgs(Args):
    field: str  # spec field (activation, recurrent_activation, reset_after)
    default: str | bool  # the default the page states, as a spec value
    # A non-default value, per framework where the names differ. A list gives alternatives, the first one the
    # installed framework can build is used: the same native name can stand for different functions across
    # releases (tf.keras's 'hard_sigmoid' is Keras 3's relu6 form since TF 2.16, the legacy clip form before).
    other: str | bool | list[str] | dict[str, str | list[str]]
    names: dict[str, str | None]  # framework -> its parameter name, None where the page says it has none
    native_default: dict[str, str] = {}  # framework -> how its signature spells the default
    setup: Setup = Setup()

    def check_case(self, names: list[str], op: str) -> None:
        self.setup.spec_for_value(op, self.field, self.default, at="default")
        others = self.other if isinstance(self.other, dict) else {"": self.other}
        for key, value in others.items():
            single = not isinstance(value, list)
            for index, candidate in enumerate([value] if single else value):
                at = ".".join(p for p in ("other", key, "" if single else str(index)) if p)
                self.setup.spec_for_value(op, self.field, candidate, at=at)
            if not single and not value:
                raise ArgsError(f"other.{key}".rstrip("."), "name at least one other value")
        covers(self, "names", names)
        covers(self, "other", names)
        covers(self, "native_default", [])


@register("absent_same_default", AbsentSameDefaultArgs)
def absent_same_default(args: AbsentSameDefaultArgs, ctx: CheckContext) -> Outcome:
    """One side lacks the parameter: both agree at the stated default, and another value changes the result."""
    name = per_framework(args.names, ctx.framework)
    candidates = per_framework(args.other, ctx.framework)
    candidates = list(candidates) if isinstance(candidates, list) else [candidates]
    m = ctx.measurement()
    adapter = ctx.adapter
    params = adapter.constructor_parameters(ctx.op)
    spec_default = args.setup.spec(ctx.op, **{args.field: args.default})
    # the first alternative this framework can build (or the first, where it can build none of them)
    other = next((c for c in candidates
                  if adapter.unsupported_reason(args.setup.spec(ctx.op, **{args.field: c})) is None), candidates[0])
    at_default_problem = args.setup.problem(spec_default, ctx.seed)
    other_spec = args.setup.spec(ctx.op, **{args.field: other})
    # the same weights, described by the other spec (a field such as GRU's reset_after changes how they convert)
    other_problem = at_default_problem.replace(
        spec=other_spec, weights=CanonicalWeights(spec=other_spec, cells=at_default_problem.weights.cells))
    at_default, at_other = at_default_problem.reference(), other_problem.reference()
    if name is None:
        m.expect(args.field not in params, f"the page says there is no {args.field}, but the constructor has one")
        m.note(f"no parameter for {args.field}; the fixed behaviour is compared with {args.field}={args.default!r}")
        m.compare("fixed behaviour vs default", adapter.forward(at_default_problem), at_default,
                  problem=at_default_problem)
    else:
        if name not in params:
            m.note(f"the constructor has no parameter {name!r}")
            return m.outcome(Verdict.NOT_APPLICABLE)
        stated = per_framework(args.native_default, ctx.framework)
        stated = stated if isinstance(stated, str) else args.default  # no entry for this framework: the default
        m.note(f"signature default of {name}: {params[name]!r}")
        m.expect(params[name] == stated, f"{name} defaults to {params[name]!r}, the case records {stated!r}")
        m.compare(f"{name} at default", adapter.forward(at_default_problem), at_default, problem=at_default_problem)
        m.compare(f"{name}={other!r}", adapter.forward(other_problem), at_other, problem=other_problem)
    m.expect(m.differs(f"reference at {args.default!r} vs {other!r}", at_default.output, at_other.output),
             f"{args.field}={other!r} does not change the result, so 'equal at the default' proves nothing")
    return m.outcome(Verdict.EQUAL_AT_DEFAULT if m.ok else Verdict.DIVERGES)


class RenamedCallArgumentArgs(Args):
    names: dict[str, str]  # framework -> the page's name of the call argument
    #: which argument the row is about: the input sequence, or the initial state (passed by the page's name)
    argument: Literal["input", "state"] = "input"
    setup: Setup = Setup()

    def check_case(self, names: list[str], op: str) -> None:
        covers(self, "names", names)


@register("renamed_call_argument", RenamedCallArgumentArgs)
def renamed_call_argument(args: RenamedCallArgumentArgs, ctx: CheckContext) -> Outcome:
    """The call argument exists under the page's name and passing it by that keyword gives the reference result."""
    name = per_framework(args.names, ctx.framework)
    m = ctx.measurement()
    names = ctx.adapter.call_parameters(ctx.op)
    m.note(f"call arguments: {', '.join(names)}")
    state = args.argument == "state"
    problem = args.setup.problem(args.setup.spec(ctx.op, batch_first=True), ctx.seed, state=state)
    if name not in names:
        m.note(f"no call argument named {name!r}; " + (f"the second argument is {names[1]!r}" if state
                                                      else f"the first argument is {names[0]!r}"))
        if state:
            # the state by position, as the page's example passes it: the mapping itself holds
            m.compare("the state passed by position", *_call(ctx, problem, None))
        else:
            m.decide(f"a call argument named {name!r}", None,
                     compared_with=f"the call signature (first: {names[0]!r})", holds=False)
        return m.outcome(Verdict.DIVERGES)
    if state and problem.spec.form == "cell":
        try:  # does the previous state default to zeros when left out, as a user porting cell(x) needs?
            ctx.adapter.call_native(ctx.adapter.build(problem.spec, problem.weights), problem.x[:, 0])
            m.note("left out, the previous state defaults to zeros")
        except TypeError as exc:
            m.note(f"left out, the call fails: {str(exc).splitlines()[0][:120]} (no default state)")
    m.compare(f"called with {name}=", *_call(ctx, problem, name, state, m))
    return m.outcome(Verdict.EQUIVALENT if m.ok else Verdict.DIVERGES)


def _call(ctx: CheckContext, problem: Problem, name: str | None, state: bool = True,
          m: Measurement | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(output, reference output) of one call: the input by keyword ``name`` (``state`` False), or the input by
    position and the problem's initial state by keyword ``name`` or by position (None). A cell takes one step,
    (batch, features), and each state as (batch, hidden)."""
    spec = problem.spec
    model = ctx.adapter.build(spec, problem.weights)
    initial, x = problem.initial_state, problem.x
    if spec.form == "cell":
        first = problem.x[:, :1] if spec.batch_first else problem.x[:1]
        x = first[:, 0] if spec.batch_first else first[0]
        initial = initial and tuple(s[0] for s in initial)
        problem = problem.replace(x=first)
    expected = problem.reference().output
    if not state:
        try:
            out = ctx.adapter.call_native(model, **{name: x})
        except TypeError as exc:  # a cell whose previous state has no default: give zeros by its own keyword
            if spec.form != "cell":
                raise
            if m is not None:
                m.note(f"{name}= alone fails ({str(exc).splitlines()[0][:120]}): the state has no default here")
            zeros = tuple(np.zeros((x.shape[0], size)) for size in spec.state_sizes().values())
            out = ctx.adapter.call_native(model, **{name: x, ctx.adapter.call_parameters(ctx.op)[1]:
                                                    zeros if len(zeros) > 1 else zeros[0]})
    else:
        arg = initial if len(initial) > 1 else initial[0]
        out = ctx.adapter.call_native(model, x, **{name: arg}) if name else ctx.adapter.call_native(model, x, arg)
    return out[0].reshape(expected.shape), expected


class NoCounterpartArgs(Args):
    field: str  # spec field for the feature (proj_size)
    value: Any
    names: dict[str, str | None]  # framework -> parameter name, None where it has none
    setup: Setup = Setup()

    def check_case(self, names: list[str], op: str) -> None:
        self.setup.spec_for_value(op, self.field, self.value, at="value")
        covers(self, "names", names)


@register("feature_without_counterpart", NoCounterpartArgs)
def feature_without_counterpart(args: NoCounterpartArgs, ctx: CheckContext) -> Outcome:
    """Where the feature exists it works as the reference says; where the page says it is missing, it is."""
    name = per_framework(args.names, ctx.framework)
    m = ctx.measurement()
    params = ctx.adapter.constructor_parameters(ctx.op)
    if name is None:
        present = args.field in params
        m.note(f"constructor parameters: {', '.join(params)}")
        if present:
            m.note(f"{args.field} now exists: the feature has a counterpart")
            return m.outcome(Verdict.EQUIVALENT)
        return m.outcome(Verdict.NO_COUNTERPART)
    if name not in params:
        m.note(f"the constructor has no parameter {name!r}")
        return m.outcome(Verdict.NOT_APPLICABLE)
    problem = args.setup.problem(args.setup.spec(ctx.op, **{args.field: args.value}), ctx.seed)
    result = ctx.adapter.forward(problem)
    m.compare(f"{name}={args.value!r}", result, problem.reference(), problem=problem)
    m.note(f"output shape {result.output.shape}, " + ", ".join(f"{k} {v.shape}" for k, v in result.states.items()))
    return m.outcome(Verdict.NO_COUNTERPART if m.ok else Verdict.DIVERGES)
