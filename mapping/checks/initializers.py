"""What a freshly built layer holds: Keras's initialisers, MindSpore's defaults, and the recipe that matches them.

Tested statistically on a layer large enough (64 units, 32 inputs: 8192 kernel entries) that the bounds
below, six standard errors wide, fail a correct initialiser with negligible probability.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from .. import recipes
from ..spec import MAX_FEATURES, LayerSpec
from ..verdicts import Verdict
from ..weights import random_weights
from . import CheckContext, Measurement, Outcome, register
from .arguments import Args

KERAS_PARAMETER = {
    "kernel": "kernel_initializer",
    "recurrent_kernel": "recurrent_initializer",
    "bias": "bias_initializer",
    "unit_forget_bias": "unit_forget_bias",
}


class InitializerArgs(Args):
    target: Literal["kernel", "recurrent_kernel", "bias", "unit_forget_bias"]
    keras_default: str | bool
    input_size: int = Field(default=32, gt=0, le=MAX_FEATURES)
    hidden_size: int = Field(default=64, gt=0, le=MAX_FEATURES)


def uniform_fit(samples: np.ndarray, limit: float) -> tuple[bool, float]:
    """Whether ``samples`` look like U(-limit, limit); also the limit implied by their variance."""
    x = np.asarray(samples, dtype=np.float64).ravel()
    n = x.size
    var = float(x.var())
    ok_range = float(np.abs(x).max()) <= limit * (1 + 1e-6) and float(np.abs(x).max()) >= limit * (1 - 10.0 / n)
    ok_mean = abs(float(x.mean())) < 6 * limit / np.sqrt(3 * n)
    ok_var = abs(var - limit**2 / 3) < 6 * limit**2 * np.sqrt(4 / (45 * n))
    return ok_range and ok_mean and ok_var, float(np.sqrt(3 * var))


def orthogonality_error(rows_by_cols: np.ndarray) -> float:
    """max |A A^T - I| for a wide matrix (orthonormal rows), the property Keras's orthogonal init gives."""
    a = np.asarray(rows_by_cols, dtype=np.float64)
    return float(np.abs(a @ a.T - np.eye(a.shape[0])).max())


def _check_properties(m: Measurement, label: str, kernel_t, recurrent_t, bias, args, forget_one: bool, what):
    """Check the Keras defaults' properties on canonical-layout arrays (kernel_t is (4H, F))."""
    h, f = args.hidden_size, args.input_size
    if what == "kernel":
        limit = np.sqrt(6.0 / (f + 4 * h))
        ok, implied = uniform_fit(kernel_t, limit)
        m.note(f"{label}: kernel looks U(-a, a) with a = {implied:.4f}; glorot_uniform a = {limit:.4f}")
        m.decide(f"{label}: the bound a of U(-a, a) implied by the kernel's variance", implied,
                 compared_with="glorot_uniform's bound", threshold=limit,
                 test="range, mean and variance within six standard errors of U(-a, a)", holds=ok)
        return ok
    if what == "recurrent_kernel":
        err = orthogonality_error(recurrent_t.T)
        m.note(f"{label}: max |R R^T - I| = {err:.2e}")
        m.decide(f"{label}: max |R Rᵀ − I|", err, compared_with="an orthogonal matrix", threshold=1e-5,
                 test="orthogonal when below the threshold", holds=err < 1e-5)
        return err < 1e-5
    gates = bias.reshape(4, h)
    others = float(np.abs(gates[[0, 2, 3]]).max())
    forget = gates[1]
    m.note(f"{label}: max |bias| outside the forget gate {others:.3g}; forget gate bias in "
           f"[{forget.min():.3g}, {forget.max():.3g}]")
    holds = others == 0.0 and bool(np.all(forget == (1.0 if forget_one else 0.0)))
    m.decide(f"{label}: largest |bias − expected|", max(others, float(np.abs(forget - (1.0 if forget_one else 0.0)).max())),
             compared_with=f"zeros, {'ones' if forget_one else 'zeros'} in the forget gate", threshold=0.0,
             test="exactly equal", holds=holds)
    return holds


def _fresh(ctx: CheckContext, spec, **options):
    """Layer 0 of a freshly built one-layer layer with the parameter's options, in the canonical layout."""
    ctx.adapter.seed(1234)
    layer = ctx.adapter.native_layer(spec, **options)
    return ctx.adapter.export_weights(layer, spec)[0, 0]


@register("initializer", InitializerArgs)
def initializer(args: InitializerArgs, ctx: CheckContext) -> Outcome:
    """A fresh Keras layer has the page's default initialisation; a framework without the parameter starts
    otherwise, and its recipe (its own initialisers applied after construction) gives the same distribution."""
    m = ctx.measurement()
    params = ctx.adapter.constructor_parameters(ctx.op)
    name = KERAS_PARAMETER[args.target]
    what = "bias" if args.target == "unit_forget_bias" else args.target
    spec = LayerSpec.parse({"input_size": args.input_size, "hidden_size": args.hidden_size}, op=ctx.op)
    if name in params:
        m.expect(params[name] == args.keras_default, f"{name} defaults to {params[name]!r}, the case records "
                                                      f"{args.keras_default!r}")
        w = _fresh(ctx, spec)
        forget_one = bool(params.get("unit_forget_bias", False))
        ok = _check_properties(m, "fresh Keras layer", w.w_ih, w.w_hh, w.b_ih + w.b_hh, args, forget_one, what)
        if args.target == "unit_forget_bias":
            plain = _fresh(ctx, spec, unit_forget_bias=False)
            ok = ok and _check_properties(m, "unit_forget_bias=False", None, None, plain.b_ih + plain.b_hh, args,
                                          False, "bias")
        m.expect(ok, f"a fresh Keras layer no longer has the {args.keras_default!r} {args.target} initialisation")
        return m.outcome(Verdict.EQUIVALENT_WITH_RECIPE if not m.problems else Verdict.DIVERGES)
    try:
        recipe = recipes.get(ctx.framework, "keras_initialization")
    except LookupError as exc:
        m.note(f"no parameter {name} and {exc}")
        return m.outcome(Verdict.NOT_APPLICABLE)
    with ctx.adapter.seeded(1234):
        return _recipe_side(ctx, args, m, spec, recipe, what)


def _recipe_side(ctx: CheckContext, args: InitializerArgs, m: Measurement, spec, recipe, what: str) -> Outcome:
    """The framework's own default initialisation, then the recipe applied to a built layer."""
    adapter = ctx.adapter
    net = adapter.build(spec, random_weights(spec, seed=0))  # weights are overwritten below
    fresh = adapter.construct(ctx.op, args.input_size, args.hidden_size)
    w = adapter.export_weights(fresh, spec)[0, 0]
    default_ok = _check_properties(m, f"{adapter.label} default", w.w_ih, w.w_hh, w.b_ih + w.b_hh, args, True, what)
    m.note(f"{adapter.label}'s own default {'already matches' if default_ok else 'differs'}; "
           f"all its weights start U(-1/sqrt(hidden), 1/sqrt(hidden)) = ±{1 / np.sqrt(args.hidden_size):.4f}")
    recipe(net, args.input_size, args.hidden_size)
    r = adapter.export_weights(net, spec)[0, 0]
    ok = _check_properties(m, "after the recipe", r.w_ih, r.w_hh, r.b_ih + r.b_hh, args, True, what)
    m.expect(ok, "the recipe no longer reproduces Keras's initialisation")
    m.recipe(recipe, ok=ok, max_abs=None, compared_with=f"the properties of Keras's default {what} initialisation")
    return m.outcome(Verdict.EQUIVALENT_WITH_RECIPE if not m.problems else Verdict.DIVERGES)
