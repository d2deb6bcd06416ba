"""What a freshly built layer holds: Keras's initialisers, MindSpore's defaults, and the recipe that matches them.

Tested statistically on a layer large enough (64 units, 32 inputs: 8192 kernel entries) that the bounds
below, six standard errors wide, fail a correct initialiser with negligible probability.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from pydantic import Field

from ..adapters import get_adapter
from ..spec import MAX_FEATURES
from ..verdicts import Verdict
from . import CheckContext, Measurement, Outcome, register
from .native import Args, constructor_parameters

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


def _keras_fresh(fw: str, args: InitializerArgs, **options):
    from ..adapters import get_adapter

    keras = get_adapter(fw).keras()
    keras.utils.set_random_seed(1234)
    layer = keras.layers.LSTM(args.hidden_size, **options)
    layer.build((None, None, args.input_size))
    kernel, recurrent, bias = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
    return kernel, recurrent, bias


def _check_properties(m: Measurement, label: str, kernel_t, recurrent_t, bias, args, forget_one: bool, what):
    """Check the Keras defaults' properties on canonical-layout arrays (kernel_t is (4H, F))."""
    h, f = args.hidden_size, args.input_size
    if what == "kernel":
        limit = np.sqrt(6.0 / (f + 4 * h))
        ok, implied = uniform_fit(kernel_t, limit)
        m.note(f"{label}: kernel looks U(-a, a) with a = {implied:.4f}; glorot_uniform a = {limit:.4f}")
        return ok
    if what == "recurrent_kernel":
        err = orthogonality_error(recurrent_t.T)
        m.note(f"{label}: max |R R^T - I| = {err:.2e}")
        return err < 1e-5
    gates = bias.reshape(4, h)
    others = float(np.abs(gates[[0, 2, 3]]).max())
    forget = gates[1]
    m.note(f"{label}: max |bias| outside the forget gate {others:.3g}; forget gate bias in "
           f"[{forget.min():.3g}, {forget.max():.3g}]")
    return others == 0.0 and bool(np.all(forget == (1.0 if forget_one else 0.0)))


@register("initializer", InitializerArgs)
def initializer(args: InitializerArgs, ctx: CheckContext) -> Outcome:
    """A fresh Keras layer has the page's default initialisation; MindSpore has no such parameter, and the recipe
    (MindSpore's own initialisers applied after construction) gives the same distribution."""
    m = Measurement(ctx.framework, tol=ctx.tolerance)
    fw = ctx.framework
    params = constructor_parameters(fw)
    name = KERAS_PARAMETER[args.target]
    what = "bias" if args.target == "unit_forget_bias" else args.target
    if fw in ("tfkeras", "keras2"):
        if name not in params:
            m.note(f"no parameter {name}")
            return m.outcome(Verdict.NOT_APPLICABLE)
        m.expect(params[name] == args.keras_default, f"{name} defaults to {params[name]!r}, the case records "
                                                      f"{args.keras_default!r}")
        kernel, recurrent, bias = _keras_fresh(fw, args)
        forget_one = bool(params.get("unit_forget_bias", False))
        ok = _check_properties(m, "fresh Keras layer", kernel.T, recurrent.T, bias, args, forget_one, what)
        if args.target == "unit_forget_bias":
            _, _, plain = _keras_fresh(fw, args, unit_forget_bias=False)
            ok = ok and _check_properties(m, "unit_forget_bias=False", None, None, plain, args, False, "bias")
        m.expect(ok, f"a fresh Keras layer no longer has the {args.keras_default!r} {args.target} initialisation")
        return m.outcome(Verdict.EQUIVALENT_WITH_RECIPE if not m.problems else Verdict.DIVERGES)

    # MindSpore: no parameter; show its own default and check the recipe.
    import mindspore

    m.expect(name not in params, f"mindspore.nn.LSTM now has {name}")
    saved = np.random.get_state()  # nn.LSTM draws its initial weights with numpy's global generator:
    np.random.seed(1234)           # seed it for repeatability, and give the caller's state back below
    mindspore.set_seed(1234)
    try:
        return _mindspore_side(args, m, what)
    finally:
        np.random.set_state(saved)


def _mindspore_side(args: InitializerArgs, m: Measurement, what: str) -> Outcome:
    """MindSpore's own default initialisation, then the recipe applied to a built LSTM."""
    import mindspore
    from mindspore import Tensor
    from mindspore.common import initializer as init

    adapter = get_adapter("mindspore")
    from ..spec import LSTMSpec
    from ..weights import random_weights

    spec = LSTMSpec(input_size=args.input_size, hidden_size=args.hidden_size)
    net = adapter.build(spec, random_weights(spec, seed=0))  # weights are overwritten below
    from mindspore import nn

    fresh = nn.LSTM(args.input_size, args.hidden_size)
    w = adapter.export_weights(fresh, spec)[0, 0]
    default_ok = _check_properties(m, "MindSpore default", w.w_ih, w.w_hh, w.b_ih + w.b_hh, args, True, what)
    m.note(f"MindSpore's own default {'already matches' if default_ok else 'differs'}; "
           f"all its weights start U(-1/sqrt(hidden), 1/sqrt(hidden)) = ±{1 / np.sqrt(args.hidden_size):.4f}")
    h = args.hidden_size
    params_by_name = {p.name.split(".")[-1]: p for p in net.get_parameters()}
    recipe = {
        "weight_ih_l0": init.initializer(init.XavierUniform(), (4 * h, args.input_size), mindspore.float32),
        "weight_hh_l0": init.initializer(init.Orthogonal(), (4 * h, h), mindspore.float32),
    }
    forget = np.zeros(4 * h, np.float32)
    forget[h:2 * h] = 1.0
    for name_, value in recipe.items():
        params_by_name[name_].set_data(value.init_data() if hasattr(value, "init_data") else value)
    params_by_name["bias_ih_l0"].set_data(Tensor(forget))
    params_by_name["bias_hh_l0"].set_data(Tensor(np.zeros(4 * h, np.float32)))
    r = adapter.export_weights(net, spec)[0, 0]
    ok = _check_properties(m, "after the recipe", r.w_ih, r.w_hh, r.b_ih + r.b_hh, args, True, what)
    m.expect(ok, "the recipe no longer reproduces Keras's initialisation")
    return m.outcome(Verdict.EQUIVALENT_WITH_RECIPE if not m.problems else Verdict.DIVERGES)
