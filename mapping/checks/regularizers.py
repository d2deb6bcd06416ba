"""Regularisers and constraints: Keras computes them for you; on MindSpore the user writes them. Checked against
what Keras actually computes, including the two places a literal port goes wrong: Keras's single bias is the
sum of MindSpore's two, and Keras's kernel is MindSpore's transposed (so a per-unit norm runs along another axis).
"""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np
from pydantic import Field

from .. import recipes
from ..verdicts import Verdict
from ..weights import CanonicalWeights
from . import CheckContext, Outcome, register
from .arguments import Args, Setup


class RegularizerArgs(Args):
    target: Literal["kernel", "recurrent", "bias", "activity"]
    l2: float = Field(default=0.01, gt=0, le=1e3, allow_inf_nan=False)
    setup: Setup = Setup()


def recipe_penalty(target: str, l2: float, weights: CanonicalWeights, last_h: np.ndarray) -> float:
    """The L2 penalty a MindSpore user adds to the loss to match Keras (canonical layout)."""
    cell = weights[0, 0]
    if target == "kernel":
        return l2 * float(np.sum(cell.w_ih**2))
    if target == "recurrent":
        return l2 * float(np.sum(cell.w_hh**2))
    if target == "bias":
        return l2 * float(np.sum((cell.b_ih + cell.b_hh) ** 2))  # Keras's one bias is the sum
    return l2 * float(np.sum(last_h**2)) / last_h.shape[0]  # Keras divides activity losses by the batch size


@register("regularizer", RegularizerArgs)
def regularizer(args: RegularizerArgs, ctx: CheckContext) -> Outcome:
    """Keras's regulariser loss equals the penalty the recipe computes from the other side's own weights or outputs."""
    m = ctx.measurement()
    adapter = ctx.adapter
    problem = args.setup.problem(args.setup.spec(ctx.op, batch_first=True), ctx.seed)
    spec, w, x = problem.spec, problem.weights, problem.x
    expected = recipe_penalty(args.target, args.l2, w, problem.reference().h_n[0])
    name = f"{args.target}_regularizer"
    if name in adapter.constructor_parameters(ctx.op):
        value = recipes.get(ctx.framework, "regularizer_loss")(adapter, spec, w, x, args.target, args.l2)
        m.compare(f"Keras {name} loss vs recipe", value, expected, against="the recipe's penalty in float64")
        m.note(f"Keras loss {value:.6g}, recipe {expected:.6g}")
        if args.target == "bias":
            cell = w[0, 0]
            naive = args.l2 * float(np.sum(cell.b_ih**2) + np.sum(cell.b_hh**2))
            m.note(f"penalising b_ih and b_hh separately would give {naive:.6g} instead")
        if args.target == "activity":
            m.note(f"without the division by the batch size the penalty would be {expected * args.setup.batch:.6g}")
    else:
        model = adapter.build(spec, w)
        own = adapter.export_weights(model, spec)
        h_last = adapter.run(model, problem).h_n[0]
        value = recipe_penalty(args.target, args.l2, own, h_last)
        m.compare(f"recipe on {adapter.label}'s own weights/outputs vs reference", value, expected,
                  against="the recipe's penalty in float64")
        m.note(f"recipe value {value:.6g}")
        if hasattr(adapter, "tensor"):  # a test double without native layers cannot run the framework's code
            _run_recipe(ctx, m, f"{args.target}_l2", model, {"x": adapter.tensor(x, like=model), "l2": args.l2},
                        lambda got: {"penalty": (float(adapter.numpy(got)), expected)},
                        "Keras's loss for the same weights and input")
    return m.outcome(Verdict.EQUIVALENT_WITH_RECIPE if m.ok else Verdict.DIVERGES)


def _run_recipe(ctx: CheckContext, m, name: str, model, given: dict, compared: Callable, what: str) -> None:
    """Execute the framework's recipe ``name`` on ``model`` (its parameters filled by name from ``given``) and
    record how it compared: ``compared(result)`` gives ``{label: (got, expected)}``."""
    from ..compare import within_tolerance
    from ..recipes.contracts import bind

    try:
        fn = recipes.shown(ctx.framework, name)
    except LookupError as exc:
        m.expect(False, str(exc))
        return
    pairs = compared(fn(model, **bind(fn, {}, given)))
    ok = all(bool(np.all(within_tolerance(np.asarray(g, np.float64), np.asarray(e, np.float64), m.tol)))
             for g, e in pairs.values())
    gap = max(float(np.abs(np.asarray(g, np.float64) - e).max()) for g, e in pairs.values())
    m.recipe(fn, ok=ok, max_abs=gap, compared_with=what)
    m.expect(ok, f"the recipe {name} no longer reproduces {what} (max abs {gap:.3g})")


class ConstraintArgs(Args):
    target: Literal["kernel", "recurrent", "bias"]
    max_norm: float = Field(default=0.3, gt=0, le=1e3, allow_inf_nan=False)
    setup: Setup = Setup()


def max_norm_canonical(target: str, max_norm: float, weights: CanonicalWeights) -> dict[str, np.ndarray]:
    """The recipe: Keras's MaxNorm(axis=0) in canonical layout (per gate unit = per row), bias on the sum."""
    cell = weights[0, 0]

    def clip(w, axis):
        norms = np.sqrt(np.sum(w**2, axis=axis, keepdims=True))
        return w * np.clip(norms, 0, max_norm) / (1e-7 + norms)  # Keras's epsilon

    if target == "kernel":
        return {"w_ih": clip(cell.w_ih, 1)}
    if target == "recurrent":
        return {"w_hh": clip(cell.w_hh, 1)}
    return {"bias": clip(cell.b_ih + cell.b_hh, 0)}


@register("constraint", ConstraintArgs)
def constraint(args: ConstraintArgs, ctx: CheckContext) -> Outcome:
    """Keras applies the constraint after each optimiser step; the recipe applies the same function to the other
    side's parameters, along that side's axes."""
    m = ctx.measurement()
    adapter = ctx.adapter
    problem = args.setup.problem(args.setup.spec(ctx.op, batch_first=True), ctx.seed)
    spec, w = problem.spec, problem.weights
    expected = max_norm_canonical(args.target, args.max_norm, w)
    name = f"{args.target}_constraint"
    if name in adapter.constructor_parameters(ctx.op):
        got = recipes.get(ctx.framework, "constrained_after_step")(adapter, spec, w, args.target, args.max_norm)
        for key in expected:
            m.compare(f"Keras after one optimiser step ({key})", got[key], expected[key],
                      against="Keras's MaxNorm in float64")
        if args.target != "bias":
            literal = w[0, 0].w_ih if args.target == "kernel" else w[0, 0].w_hh
            norms = np.sqrt(np.sum(literal**2, axis=0, keepdims=True))
            wrong = literal * np.clip(norms, 0, args.max_norm) / (1e-7 + norms)
            gap = float(np.abs(wrong - next(iter(expected.values()))).max())
            m.note(f"MaxNorm(axis=0) applied literally to MindSpore's (4*hidden, input) layout differs by {gap:.3g}")
    else:
        model = adapter.build(spec, w)
        expected = max_norm_canonical(args.target, args.max_norm, adapter.export_weights(model, spec))

        def after(_):
            w = adapter.export_weights(model, spec)[0, 0]
            got = {"w_ih": w.w_ih, "w_hh": w.w_hh, "bias": w.b_ih + w.b_hh}
            for key in expected:
                m.compare(f"recipe on {adapter.label}'s parameters ({key})", got[key], expected[key],
                          against="Keras's MaxNorm in float64")
            return {key: (got[key], expected[key]) for key in expected}

        _run_recipe(ctx, m, f"{args.target}_max_norm", model, {"max_value": args.max_norm}, after,
                    "Keras's MaxNorm after an optimiser step (NumPy, on the same weights)")
    return m.outcome(Verdict.EQUIVALENT_WITH_RECIPE if m.ok else Verdict.DIVERGES)
