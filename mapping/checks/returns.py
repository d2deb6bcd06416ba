"""What one call returns, as its user unpacks it: a page that says two APIs return their states in different forms
(PyTorch's pair against MindSpore's tuple) is checked against the nesting each framework really returns."""

from __future__ import annotations

from ..errors import ArgsError, show
from ..verdicts import Verdict
from . import CheckContext, Outcome, register
from .arguments import Args, Setup, covers


class ReturnFormArgs(Args):
    #: framework -> the nesting it returns, as measured (``(tensor (2, 4), tensor (2, 4))``), recorded in the case
    forms: dict[str, str]
    counterpart: dict[str, str]  # framework -> the framework on the other side of the page
    #: whether the page says the two sides return their results in different forms
    claimed_differ: bool
    setup: Setup = Setup(batch=2, steps=1)

    def check_case(self, names: list[str], op: str) -> None:
        covers(self, "forms", names, families=False)
        covers(self, "counterpart", names, families=False)
        for framework in names:
            if self.counterpart[framework] not in self.forms:
                raise ArgsError(f"counterpart.{framework}", f"{show(self.counterpart[framework])} has no recorded "
                                                            "form in forms")


@register("return_form", ReturnFormArgs)
def return_form(args: ReturnFormArgs, ctx: CheckContext) -> Outcome:
    """Call once with an initial state and describe the result's nesting; the row holds when the sides' recorded
    forms differ exactly when the page says they do."""
    fw = ctx.framework
    m = ctx.measurement()
    problem = args.setup.problem(args.setup.spec(ctx.op, batch_first=True), ctx.seed, state=True)
    spec, state, x = problem.spec, problem.initial_state, problem.x
    if spec.form == "cell":  # one step: (batch, features) in, each state (batch, hidden)
        state, x = tuple(s[0] for s in state), x[:, 0]
    form = ctx.adapter.call_form(ctx.adapter.build(spec, problem.weights), x, state if len(state) > 1 else state[0])
    other = args.counterpart[fw]
    m.note(f"{fw} returns {form}; {other} recorded as {args.forms[other]}")
    m.expect(form == args.forms[fw], f"{fw} now returns {form}, the case records {args.forms[fw]}")
    differ = args.forms[fw] != args.forms[other]
    return m.outcome(Verdict.EQUIVALENT if differ == args.claimed_differ else Verdict.DIVERGES)
