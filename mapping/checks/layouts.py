"""Default input layouts: which axis a framework reads as the batch when the user passes nothing."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..adapters import get_adapter
from ..diagnose import Problem
from ..reference import reference_lstm
from ..verdicts import Verdict
from . import CheckContext, Measurement, Outcome, register
from .native import Args, Setup, constructor_parameters, covers

Layout = Literal["batch_major", "time_major"]


class LayoutArgs(Args):
    claimed_default: dict[str, Layout]  # the default layout the row states for each framework
    absent: dict[str, list[str]] = {}  # parameters the row says a framework does not have
    setup: Setup = Setup(batch=2, steps=5)

    def check_frameworks(self, frameworks: list[str]) -> None:
        covers(self, "claimed_default", frameworks, families=False)
        covers(self, "absent", [], families=False)


def default_layout(fw: str) -> Layout:
    params = constructor_parameters(fw)
    if "batch_first" in params:
        return "batch_major" if params["batch_first"] else "time_major"
    if params.get("time_major"):
        return "time_major"
    return "batch_major"


@register("default_layout", LayoutArgs)
def default_layout_check(args: LayoutArgs, ctx: CheckContext) -> Outcome:
    """The default layout is what the row says, proven numerically; parameters the row calls absent are absent."""
    fw = ctx.framework
    m = Measurement(fw, tol=ctx.tolerance)
    layout = default_layout(fw)
    spec = args.setup.spec(batch_first=layout == "batch_major")
    w, x, _ = args.setup.problem(spec, ctx.seed)
    adapter = get_adapter(fw)
    m.compare(f"default layout ({layout})", adapter.forward(spec, w, x), reference_lstm(spec, w, x),
              problem=Problem(spec, w, x))
    if layout == "time_major":
        keras_layout = np.ascontiguousarray(x.transpose(1, 0, 2))  # (batch, time, features), as Keras takes it
        wrong = adapter.forward(spec, w, keras_layout)
        right = reference_lstm(spec.replace(batch_first=True), w, keras_layout)
        gap = float(np.abs(wrong.output - right.output).max())  # same (batch, time) positions
        m.note(f"a (batch, time, features) input fed with the default runs without error and is off by {gap:.3g}")
    params = constructor_parameters(fw)
    present = [name for name in args.absent.get(fw, []) if name in params]
    for name in present:
        m.note(f"the row says there is no {name!r}, but the constructor has it (default {params[name]!r})")
    claimed = args.claimed_default.get(fw)
    m.note(f"default input layout: {layout}; the row states {claimed}")
    holds = m.ok and claimed == layout and not present
    return m.outcome(Verdict.EQUIVALENT if holds else Verdict.DIVERGES)
