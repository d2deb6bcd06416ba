"""The order in which a framework enumerates a layer's parameters, and what a positional weight copy does.

A port often copies weights by position: ``for src, dst in zip(torch_model.parameters(), ms_net.trainable_params())``.
That is right only where both sides list the same arrays in the same order, with the same shapes. The probe takes
PyTorch's order (the canonical layout: per layer and direction, ``w_ih, w_hh, b_ih, b_hh``) and copies it by
position into a freshly built layer of this framework with the framework's own assignment
(:meth:`Adapter.assign_in_order`), then runs it. ``input_size == hidden_size`` by default, so that arrays of
different roles have the same shapes and a wrong order can pass every shape check.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ..checks import CheckContext
from ..checks.arguments import Args, Setup
from ..errors import one_line
from ..weights import random_weights
from . import Finding, register


class PositionalCopyArgs(Args):
    num_layers: int = Field(default=2, gt=0, le=3)
    bidirectional: bool = False
    bias: bool = True
    setup: Setup = Setup(input_size=4, hidden_size=4)


@register("positional_copy", "parameter_order", PositionalCopyArgs)
def positional_copy(args: PositionalCopyArgs, ctx: CheckContext) -> Finding:
    """PyTorch-ordered weights copied by position into this framework's parameter list"""
    adapter = ctx.adapter
    problem = args.setup.problem(args.setup.spec(ctx.op, batch_first=True, num_layers=args.num_layers,
                                                 bidirectional=args.bidirectional, bias=args.bias), ctx.seed)
    spec = problem.spec
    canonical = [a for key in problem.weights.keys() for a in problem.weights[key].arrays().values()]
    model = adapter.build(spec, random_weights(spec, seed=ctx.seed + 11))
    names = [name for name, _ in adapter.parameters_in_order(model)]
    order = f"{len(names)} arrays, first {', '.join(n.split('/')[-1].split(':')[0] for n in names[:4])}"
    try:
        adapter.assign_in_order(model, canonical)
    except Exception as exc:  # noqa: BLE001 - refusing the copy is the measurement
        return Finding("refused", detail=f"{order}; {type(exc).__name__}: {one_line(exc, 160)}")
    try:
        result = adapter.run(model, problem)
    except Exception as exc:  # noqa: BLE001 - accepted, then failing at the first call
        return Finding("accepted, then the layer fails when called", trap=True,
                       detail=f"{order}; {type(exc).__name__}: {one_line(exc, 160)}")
    gap = float(np.abs(result.output - problem.reference().output).max())
    if gap <= 1e-5:
        return Finding("same order: the copy is right", figure=gap, figure_label="max |output - reference|",
                       detail=order)
    return Finding("accepted silently, wrong weights", figure=gap, figure_label="max |output - reference|",
                   trap=True, detail=order)
