"""Regularisers and constraints: Keras computes them for you; on MindSpore the user writes them. Checked against
what Keras actually computes, including the two places a literal port goes wrong: Keras's single bias is the
sum of MindSpore's two, and Keras's kernel is MindSpore's transposed (so a per-unit norm runs along another axis).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from pydantic import Field

from ..adapters import get_adapter
from ..reference import reference_lstm
from ..verdicts import Verdict
from ..weights import CanonicalWeights
from . import CheckContext, Measurement, Outcome, register
from .native import Args, Setup, constructor_parameters, keras_call, keras_layer


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
    """Keras's regulariser loss equals the penalty the recipe computes from MindSpore's own weights or outputs."""
    fw = ctx.framework
    m = Measurement(fw, tol=ctx.tolerance)
    spec = args.setup.spec(batch_first=True)
    w, x, _ = args.setup.problem(spec, ctx.seed)
    ref = reference_lstm(spec, w, x)
    expected = recipe_penalty(args.target, args.l2, w, ref.h_n[0])
    name = f"{args.target}_regularizer"
    if fw in ("tfkeras", "keras2"):
        if name not in constructor_parameters(fw):
            return m.outcome(Verdict.NOT_APPLICABLE)
        keras = get_adapter(fw).keras()
        layer = keras_layer(fw, spec, w, **{name: keras.regularizers.L2(args.l2)})
        keras_call(layer, x)
        value = float(sum(float(v) for v in layer.losses))
        m.compare(f"Keras {name} loss vs recipe", value, expected)
        m.note(f"Keras loss {value:.6g}, recipe {expected:.6g}")
        if args.target == "bias":
            cell = w[0, 0]
            naive = args.l2 * float(np.sum(cell.b_ih**2) + np.sum(cell.b_hh**2))
            m.note(f"penalising b_ih and b_hh separately would give {naive:.6g} instead")
        if args.target == "activity":
            m.note(f"without the division by the batch size the penalty would be {expected * args.setup.batch:.6g}")
    else:
        m.expect(name not in constructor_parameters(fw), f"{fw} now has {name}")
        adapter = get_adapter(fw)
        model = adapter.build(spec, w)
        own = adapter.export_weights(model, spec)
        h_last = adapter.run(model, spec, x).h_n[0]
        value = recipe_penalty(args.target, args.l2, own, h_last)
        m.compare("recipe on MindSpore's own weights/outputs vs reference", value, expected)
        m.note(f"recipe value {value:.6g}")
    return m.outcome(Verdict.EQUIVALENT_WITH_RECIPE if m.ok else Verdict.DIVERGES)


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
    """Keras applies the constraint after each optimiser step; the recipe applies the same function to MindSpore's
    parameters, along MindSpore's axes."""
    fw = ctx.framework
    m = Measurement(fw, tol=ctx.tolerance)
    spec = args.setup.spec(batch_first=True)
    w, x, _ = args.setup.problem(spec, ctx.seed)
    expected = max_norm_canonical(args.target, args.max_norm, w)
    name = f"{args.target}_constraint"
    if fw in ("tfkeras", "keras2"):
        if name not in constructor_parameters(fw):
            return m.outcome(Verdict.NOT_APPLICABLE)
        keras = get_adapter(fw).keras()
        import tensorflow as tf

        layer = keras_layer(fw, spec, w, **{name: keras.constraints.MaxNorm(args.max_norm)})
        optimizer = keras.optimizers.SGD(learning_rate=0.0)
        variables = layer.trainable_weights
        optimizer.apply_gradients([(tf.zeros(v.shape, dtype=v.dtype), v) for v in variables])
        kernel, recurrent, bias = (np.asarray(v, dtype=np.float64) for v in layer.get_weights())
        got = {"kernel": {"w_ih": kernel.T}, "recurrent": {"w_hh": recurrent.T}, "bias": {"bias": bias}}[args.target]
        for key in expected:
            m.compare(f"Keras after one optimiser step ({key})", got[key], expected[key])
        if args.target != "bias":
            literal = w[0, 0].w_ih if args.target == "kernel" else w[0, 0].w_hh
            norms = np.sqrt(np.sum(literal**2, axis=0, keepdims=True))
            wrong = literal * np.clip(norms, 0, args.max_norm) / (1e-7 + norms)
            gap = float(np.abs(wrong - next(iter(expected.values()))).max())
            m.note(f"MaxNorm(axis=0) applied literally to MindSpore's (4*hidden, input) layout differs by {gap:.3g}")
    else:
        m.expect(name not in constructor_parameters(fw), f"{fw} now has {name}")
        from mindspore import Tensor

        adapter = get_adapter(fw)
        model = adapter.build(spec, w)
        params = {p.name.split(".")[-1]: p for p in model.get_parameters()}
        own = adapter.export_weights(model, spec)
        constrained = max_norm_canonical(args.target, args.max_norm, own)
        if "w_ih" in constrained:
            params["weight_ih_l0"].set_data(Tensor(constrained["w_ih"].astype(np.float32)))
        if "w_hh" in constrained:
            params["weight_hh_l0"].set_data(Tensor(constrained["w_hh"].astype(np.float32)))
        if "bias" in constrained:
            params["bias_ih_l0"].set_data(Tensor(constrained["bias"].astype(np.float32)))
            params["bias_hh_l0"].set_data(Tensor(np.zeros_like(constrained["bias"], dtype=np.float32)))
        after = adapter.export_weights(model, spec)[0, 0]
        got = {"w_ih": after.w_ih, "w_hh": after.w_hh, "bias": after.b_ih + after.b_hh}
        for key in expected:
            m.compare(f"recipe on MindSpore's parameters ({key})", got[key], expected[key])
    return m.outcome(Verdict.EQUIVALENT_WITH_RECIPE if m.ok else Verdict.DIVERGES)
