"""Default input layouts: which axis a framework reads as the batch when the user passes nothing."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..verdicts import Verdict
from . import CheckContext, Outcome, register
from .arguments import Args, Setup, covers

Layout = Literal["batch_major", "time_major"]


class LayoutArgs(Args):
    claimed_default: dict[str, Layout]  # the default layout the row states for each framework
    absent: dict[str, list[str]] = {}  # parameters the row says a framework does not have
    setup: Setup = Setup(batch=2, steps=5)

    def check_case(self, names: list[str], op: str) -> None:
        covers(self, "claimed_default", names, families=False)
        covers(self, "absent", [], families=False)


def default_layout(params: dict) -> Layout:
    """The layout a constructor with these parameters (and defaults) reads when the user passes nothing."""
    if "batch_first" in params:
        return "batch_major" if params["batch_first"] else "time_major"
    if params.get("time_major"):
        return "time_major"
    return "batch_major"


@register("default_layout", LayoutArgs)
def default_layout_check(args: LayoutArgs, ctx: CheckContext) -> Outcome:
    """The default layout is what the row says, proven numerically; parameters the row calls absent are absent."""
    fw = ctx.framework
    m = ctx.measurement()
    params = ctx.adapter.constructor_parameters(ctx.op)
    layout = default_layout(params)
    problem = args.setup.problem(args.setup.spec(ctx.op, batch_first=layout == "batch_major"), ctx.seed)
    m.compare(f"default layout ({layout})", ctx.adapter.forward(problem), problem.reference(), problem=problem)
    if layout == "time_major":
        keras_layout = np.ascontiguousarray(problem.x.transpose(1, 0, 2))  # (batch, time, features), as Keras takes it
        wrong = ctx.adapter.forward(problem.replace(x=keras_layout))
        right = problem.replace(spec=problem.spec.replace(batch_first=True), x=keras_layout).reference()
        gap = float(np.abs(wrong.output - right.output).max())  # same (batch, time) positions
        m.note(f"a (batch, time, features) input fed with the default runs without error and is off by {gap:.3g}")
        m.decide("a (batch, time, features) input fed to the default layer: largest |output difference|", gap,
                 compared_with="the reference for that input read as batch-first", threshold=m.tol,
                 test="the same result when the difference is within tolerance", holds=gap <= m.tol)
    present = [name for name in args.absent.get(fw, []) if name in params]
    for name in present:
        m.note(f"the row says there is no {name!r}, but the constructor has it (default {params[name]!r})")
        m.decide(f"a constructor parameter {name!r}", None, compared_with="the row, which says there is none",
                 holds=False)
    claimed = args.claimed_default.get(fw)
    m.note(f"default input layout: {layout}; the row states {claimed}")
    holds = m.ok and claimed == layout and not present
    return m.outcome(Verdict.EQUIVALENT if holds else Verdict.DIVERGES)
