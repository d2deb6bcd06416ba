"""Defaults and starting modes, and where initial weights come from: what a freshly built layer holds and does
before anyone sets anything, and which seed makes it reproducible.

Each probe builds the layer a user gets from the constructor alone (:meth:`Adapter.fresh_layer`) and reads its
weights in the canonical layout (:meth:`Adapter.export_weights`), so the same words describe every framework.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ..checks import CheckContext
from ..checks.arguments import Args, Setup
from ..errors import one_line
from . import Finding, calls, register

#: A fresh layer of this size gives each initialiser enough draws to be told apart.
FRESH = Setup(input_size=8, hidden_size=16, batch=2, steps=4)


class FreshArgs(Args):
    bias: bool = True
    setup: Setup = FRESH


def _is_orthogonal(w: np.ndarray) -> bool:
    small, large = sorted(w.shape)
    gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    return bool(np.allclose(gram, np.eye(small), atol=1e-4))


def _weight_kind(w: np.ndarray, hidden: int, fan_in: int, fan_out: int) -> str:
    if _is_orthogonal(w):
        return "orthogonal"
    peak = float(np.abs(w).max())
    if peak <= 1 / np.sqrt(hidden) + 1e-7:
        return "uniform within 1/sqrt(hidden)"
    if peak <= np.sqrt(6 / (fan_in + fan_out)) + 1e-7:
        return "uniform within the glorot bound"
    return "other"


def _bias_kind(b_ih: np.ndarray | None, b_hh: np.ndarray | None, hidden: int, forget: int | None) -> str:
    if b_ih is None:
        return "none"
    total = b_ih + (0 if b_hh is None else b_hh)
    if np.all(total == 0):
        return "zero"
    if forget is not None:
        expected = np.zeros_like(total)
        expected[forget * hidden:(forget + 1) * hidden] = 1.0
        if np.array_equal(total, expected):
            return "zero, forget gate 1"
    vectors = [b for b in (b_ih, b_hh) if b is not None and np.any(b != 0)]
    if all(np.abs(b).max() <= 1 / np.sqrt(hidden) + 1e-7 for b in vectors):
        return f"uniform within 1/sqrt(hidden) in {len(vectors)} vector{'s' if len(vectors) > 1 else ''}"
    return "other"


@register("fresh_weights", "defaults", FreshArgs)
def fresh_weights(args: FreshArgs, ctx: CheckContext) -> Finding:
    """The initial weights of a freshly built layer (what a port starts from when it copies nothing)"""
    adapter = ctx.adapter
    spec = args.setup.spec(ctx.op, batch_first=True, bias=args.bias)
    with adapter.seeded(ctx.seed):
        layer = adapter.fresh_layer(spec)
    w = adapter.export_weights(layer, spec)[0, 0]
    gates = type(spec).GATES
    forget = gates.index("f") if "f" in gates else None
    hidden, inputs, n = spec.hidden_size, spec.input_size, len(gates)
    behaviour = (f"w_ih {_weight_kind(w.w_ih, hidden, inputs, n * hidden)}; "
                 f"w_hh {_weight_kind(w.w_hh, hidden, hidden, n * hidden)}; "
                 f"bias {_bias_kind(w.b_ih, w.b_hh, hidden, forget)}")
    return Finding(behaviour, figure=float(np.abs(w.w_ih).max() * np.sqrt(hidden)),
                   figure_label="max |w_ih| * sqrt(hidden)")


class SeedArgs(Args):
    seed: int = Field(default=1234, ge=0, lt=2**31)
    setup: Setup = FRESH


@register("seed_control", "initial_weights", SeedArgs)
def seed_control(args: SeedArgs, ctx: CheckContext) -> Finding:
    """Whether the framework's own seed call makes a freshly built layer's weights reproducible"""
    adapter = ctx.adapter
    spec = args.setup.spec(ctx.op, batch_first=True)
    drawn = []
    for _ in range(2):
        adapter.seed(args.seed)  # torch.manual_seed, mindspore.set_seed, keras.utils.set_random_seed
        drawn.append(adapter.export_weights(adapter.fresh_layer(spec), spec)[0, 0].w_ih)
    gap = float(np.abs(drawn[0] - drawn[1]).max())
    adapter.seed(ctx.seed)
    if gap == 0.0:
        return Finding("the framework's seed reproduces the initial weights", figure=gap,
                       figure_label="max |w_ih of two layers built after the same seed call|")
    return Finding("the framework's seed does not fix the initial weights", figure=gap,
                   figure_label="max |w_ih of two layers built after the same seed call|", trap=True)


class ModeArgs(Args):
    rate: float = Field(default=0.5, gt=0, lt=1)
    setup: Setup = Setup()


@register("fresh_mode", "defaults", ModeArgs)
def fresh_mode(args: ModeArgs, ctx: CheckContext) -> Finding:
    """The mode a freshly built layer with dropout starts in: is dropout active on a plain call?"""
    adapter = ctx.adapter
    fields = adapter.parameters[ctx.op]
    # the framework's own dropout: between layers (two layers) or on the layer's input (one layer)
    field = "layer_dropout" if "layer_dropout" in fields else "input_dropout"
    spec = args.setup.spec(ctx.op, batch_first=True, num_layers=2 if field == "layer_dropout" else 1,
                           **{field: args.rate})
    problem = args.setup.problem(spec, ctx.seed)
    with adapter.seeded(ctx.seed):
        layer = adapter.fresh_layer(spec)
        first, second = (adapter.call_user(layer, problem.x)[0] for _ in range(2))
    gap = float(np.abs(first.astype(np.float64) - second).max())
    label = "max |first plain call - second plain call|"
    if gap > 1e-6:
        return Finding("training mode: dropout active on a plain call", figure=gap, figure_label=label)
    return Finding("inference mode: no dropout on a plain call", figure=gap, figure_label=label)


class StateArgs(Args):
    setup: Setup = Setup()


@register("default_state", "defaults", StateArgs)
def default_state(args: StateArgs, ctx: CheckContext) -> Finding:
    """A call without an initial state: does it start from zeros, or must the state be given?"""
    adapter = ctx.adapter
    problem = calls.one_step(args.setup.problem(args.setup.spec(ctx.op, batch_first=True), ctx.seed))
    layer = adapter.user_layer(problem.spec, problem.weights)
    x, _ = calls.user_args(problem)
    try:
        out = adapter.call_user(layer, x)[0]
    except Exception as exc:  # noqa: BLE001 - requiring the state is the measurement
        return Finding("refused: the state must be given", detail=f"{type(exc).__name__}: {one_line(exc, 200)}")
    gap = float(np.abs(out.astype(np.float64) - calls.user_output(problem)).max())
    ok = gap <= 1e-5
    return Finding("starts from zero states" if ok else "starts from something else than zeros", figure=gap,
                   figure_label="max |result - float64 reference from zero states|", trap=not ok)
