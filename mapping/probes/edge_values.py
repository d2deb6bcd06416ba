"""Edge values: a zero length, unsorted lengths, lengths equal to the sequence, sizes of one.

Lengths go through the framework's own length mechanism (:attr:`Adapter.length_mechanism`: packed sequences,
``seq_length``, a Keras mask), as :meth:`Adapter.forward` runs them; the results are compared with the float64
reference or with the same framework's run without lengths.
"""

from __future__ import annotations

import numpy as np

from ..checks import CheckContext
from ..checks.arguments import Args, Setup
from ..compare import within_tolerance
from ..errors import one_line
from ..problem import Problem
from ..tolerances import forward_tolerance
from . import Finding, register


class LengthArgs(Args):
    setup: Setup = Setup(batch=3)


def _problem(args: LengthArgs, ctx: CheckContext, lengths: list[int]):
    problem = args.setup.problem(args.setup.spec(ctx.op, batch_first=True), ctx.seed)
    lengths = np.asarray(lengths, dtype=np.int64)
    real = (np.arange(problem.steps)[None, :] < lengths[:, None])[..., None]
    # built directly: Problem.replace validates, and the harness refuses a length of zero
    return Problem(problem.spec, problem.weights, np.where(real, problem.x, 0.0), problem.initial_state, lengths)


def _raised(exc: BaseException) -> Finding:
    return Finding("raises", detail=f"{type(exc).__name__}: {one_line(exc, 200)}")


@register("zero_length", "edge_values", LengthArgs)
def zero_length(args: LengthArgs, ctx: CheckContext) -> Finding:
    """A sample of length zero in a padded batch: refused, or what comes back for it"""
    steps = args.setup.steps
    problem = _problem(args, ctx, [steps] + [0] + [steps] * (args.setup.batch - 2))
    try:
        result = ctx.adapter.run_unchecked(ctx.adapter.build(problem.spec, problem.weights), problem)
    except Exception as exc:  # noqa: BLE001 - refusing is the measurement
        return _raised(exc)
    finals = max(float(np.abs(s[:, 1]).max()) for s in result.states.values())
    output = float(np.abs(result.output[1]).max())
    others = problem.replace(x=np.delete(problem.x, 1, axis=0), lengths=None).reference()
    rest = float(np.abs(np.delete(result.output, 1, axis=0) - others.output).max())
    behaviour = ("runs; its final states " + ("stay zero" if finals == 0 else "are not zero")
                 + ", its output " + ("is zeros" if output == 0 else "is not zeros"))
    return Finding(behaviour, figure=max(finals, output), figure_label="max |output or final state of the empty "
                   "sample|", trap=finals != 0 or output != 0 or rest > 1e-4,
                   detail=f"the other samples' max error against the reference {rest:.3g}")


@register("unsorted_lengths", "edge_values", LengthArgs)
def unsorted_lengths(args: LengthArgs, ctx: CheckContext) -> Finding:
    """Lengths in no particular order (not sorted longest first)"""
    steps = args.setup.steps
    problem = _problem(args, ctx, [max(1, steps // 2), steps] + [max(1, steps - 1)] * (args.setup.batch - 2))
    try:
        result = ctx.adapter.forward(problem)
    except Exception as exc:  # noqa: BLE001
        return _raised(exc)
    ref = problem.reference()
    tol = forward_tolerance(ctx.framework, problem.spec.dtype, padded=True)
    mask = problem.output_mask()
    gaps, ok = [], True
    for name, want in ref.fields().items():
        got = result.fields()[name]
        select = np.broadcast_to(mask, want.shape) if name == "output" and mask is not None else np.ones(want.shape,
                                                                                                          bool)
        ok &= bool(np.all(within_tolerance(got, want, tol)[select]))
        gaps.append(float(np.abs(got - want)[select].max()))
    return Finding("accepted; real steps and final states match the reference" if ok else
                   "accepted; real steps or final states differ from the reference", figure=max(gaps),
                   figure_label="max |result - float64 reference| at real steps and final states", trap=not ok)


@register("full_lengths", "edge_values", LengthArgs)
def full_lengths(args: LengthArgs, ctx: CheckContext) -> Finding:
    """Every length equal to the sequence: the same as passing no lengths?"""
    problem = _problem(args, ctx, [args.setup.steps] * args.setup.batch)
    adapter = ctx.adapter
    model = adapter.build(problem.spec, problem.weights)
    with_lengths = adapter.run(model, problem)
    without = adapter.run(model, problem.replace(lengths=None))
    gap = max(float(np.abs(with_lengths.fields()[k] - v).max()) for k, v in without.fields().items())
    error = max(float(np.abs(with_lengths.fields()[k] - v).max())
                for k, v in problem.reference().fields().items())
    label = "max |with full lengths - without lengths|"
    if gap == 0.0:
        return Finding("bit for bit the run without lengths", figure=gap, figure_label=label)
    if gap <= 1e-6:
        return Finding("the run without lengths up to rounding", figure=gap, figure_label=label)
    return Finding("differs from the run without lengths (another computation)", figure=gap, figure_label=label,
                   detail=f"max error against the float64 reference with lengths {error:.3g}")


class SizeOneArgs(Args):
    setup: Setup = Setup(input_size=1, hidden_size=1, batch=1, steps=1)


@register("size_one", "edge_values", SizeOneArgs)
def size_one(args: SizeOneArgs, ctx: CheckContext) -> Finding:
    """One feature, one unit, one sample, one step"""
    problem = args.setup.problem(args.setup.spec(ctx.op, batch_first=True), ctx.seed)
    try:
        result = ctx.adapter.forward(problem)
    except Exception as exc:  # noqa: BLE001
        return _raised(exc)
    ref = problem.reference()
    tol = forward_tolerance(ctx.framework, problem.spec.dtype, padded=False)
    ok = all(np.all(within_tolerance(result.fields()[k], v, tol)) for k, v in ref.fields().items())
    gap = max(float(np.abs(result.fields()[k] - v).max()) for k, v in ref.fields().items())
    return Finding("runs; matches the reference" if ok else "runs; differs from the reference", figure=gap,
                   figure_label="max |result - float64 reference|", trap=not ok)
