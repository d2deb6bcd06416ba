"""Lower-level APIs: where the high-level layer lacks something (a projection, another activation, a recurrent
dropout, a hand-controlled loop), does the framework offer a one-step cell that reproduces the layer when looped
by hand? Checked before a page or a finding says "no counterpart": the cell is where a workaround starts.
"""

from __future__ import annotations

import numpy as np

from ..checks import CheckContext
from ..checks.arguments import Args, Setup
from ..compare import within_tolerance
from ..errors import Unsupported
from ..tolerances import forward_tolerance
from . import Finding, register


class CellArgs(Args):
    setup: Setup = Setup()


@register("cell_loop", "lower_level_api", CellArgs)
def cell_loop(args: CellArgs, ctx: CheckContext) -> Finding:
    """The framework's one-step cell, looped over time by hand with the layer's weights"""
    problem = args.setup.problem(args.setup.spec(ctx.op, batch_first=True), ctx.seed)
    try:
        output = ctx.adapter.cell_loop(problem)
    except Unsupported as exc:
        return Finding("no one-step cell class", detail=str(exc))
    ref = problem.reference().output
    gap = float(np.abs(output - ref).max())
    ok = bool(np.all(within_tolerance(output, ref, forward_tolerance(ctx.framework, problem.spec.dtype, padded=False))))
    return Finding("a one-step cell looped by hand reproduces the layer" if ok else
                   "a one-step cell exists; looped by hand it differs from the layer", figure=gap,
                   figure_label="max |hand loop over the cell - float64 reference|", trap=not ok)
