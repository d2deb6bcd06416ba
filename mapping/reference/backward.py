"""The float64 reference's backward pass: analytic gradients of one scalar loss, by backpropagation
through time over every layer and both directions, for every op.

The loss is a fixed linear function of everything the layer returns::

    L = sum(output * G_output) + sum(h_n * G_h_n) (+ sum(c_n * G_c_n) for LSTM, and so on per state)

where the "upstream gradients" ``G`` (:func:`random_upstream`) are deterministic random arrays shaped like
the :class:`~mapping.problem.RunResult` they multiply, so any gradient a framework returns for this loss
is the vector-Jacobian product of its layer with ``G``: a mistake anywhere in its backward pass (a gate's
derivative, a transposed weight, a bias counted once, a state gradient dropped, a direction's time axis
not reversed) shows up.

The machinery mirrors :mod:`mapping.reference.forward` (it reuses its forward pass and keeps each step's
cache); each op's cell supplies the derivative of its step (:meth:`mapping.ops.Cell.step_backward`). A
padded step passes every state through unchanged and outputs zero, so its backward step passes the state
gradients through unchanged and ignores the output gradient. Reversals of the time axis (the backward
direction's, ``go_backwards``) are permutations that are their own inverse, so their backward pass is
the same reversal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import ops
from ..ops import Cell, State
from ..problem import Problem, RunResult
from ..spec import LayerSpec
from ..weights import CanonicalWeights, DirectionWeights
from .forward import reverse_padded, run_stack

#: The upstream gradients ``G``: arrays with the shapes of the result they multiply (output and final states).
Upstream = RunResult


@dataclass(frozen=True)
class Gradients:
    """``dL/d(input)`` of one run, all float64, in the harness's conventions.

    ``x`` has the input's layout (batch-first or time-major); ``initial`` maps each initial state's name
    (``h0``, ``c0``) to ``(num_layers * num_directions, batch, size)``, or is None when the run started from
    the zero state (no initial state was passed, so there is nothing to differentiate); ``weights`` holds
    the gradient of every canonical weight in the canonical layout (``weights[layer, direction].w_ih`` is
    ``dL/dw_ih``, and so on).
    """

    x: np.ndarray
    initial: dict[str, np.ndarray] | None
    weights: CanonicalWeights

    def fields(self) -> dict[str, np.ndarray]:
        """Every gradient by a readable name (``x``, ``h0``, ``c0``, ``l0d1.w_hh``, ...)."""
        out = {"x": self.x, **(self.initial or {})}
        for layer, direction in self.weights.keys():
            for name, arr in self.weights[layer, direction].arrays().items():
                out[f"l{layer}d{direction}.{name}"] = arr
        return out


def result_shapes(spec: LayerSpec, batch: int, steps: int) -> dict[str, tuple[int, ...]]:
    """The shape of each field of a result (and so of each upstream gradient)."""
    n = spec.num_layers * spec.num_directions
    out = (batch, steps) if spec.batch_first else (steps, batch)
    op = ops.of(spec)
    shapes = {"output": out + (spec.num_directions * spec.output_size,)}
    for name, size in zip(op.final_names, spec.state_sizes().values()):
        shapes[name] = (n, batch, size)
    return shapes


def random_upstream(spec: LayerSpec, batch: int, steps: int, seed: int = 3) -> Upstream:
    """Deterministic standard-normal upstream gradients shaped like the layer's results.

    ``output`` is in the spec's layout (``(batch, time, features)`` or ``(time, batch, features)``).
    """
    rng = np.random.default_rng(seed)
    shapes = result_shapes(spec.replace(batch_first=True), batch, steps)
    drawn = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
    output = drawn.pop("output")
    if not spec.batch_first:
        output = output.transpose(1, 0, 2).copy()
    return RunResult(output, drawn)


def check_upstream(problem: Problem, upstream: Upstream) -> None:
    """Raise ValueError unless the ``G`` arrays have the shapes of the results they multiply."""
    for name, shape in result_shapes(problem.spec, problem.batch, problem.steps).items():
        actual = np.shape(upstream.fields().get(name))
        if actual != shape:
            raise ValueError(f"upstream gradient {name} has shape {actual}, expected {shape}")


def loss_value(result: RunResult, upstream: Upstream) -> float:
    """``L`` for a result (float64): what the gradients differentiate."""
    g = upstream.fields()
    return float(sum(np.sum(np.asarray(a, np.float64) * g[name]) for name, a in result.fields().items()))


def backward_direction(cell: Cell, w: DirectionWeights, caches: list[Any], valid: np.ndarray, d_out: np.ndarray,
                       d_state: State) -> tuple[np.ndarray, State, DirectionWeights]:
    """BPTT through one direction of one layer.

    ``d_out`` is ``dL/d(outputs)`` (time-major, this direction's processing order); ``d_state`` the
    gradients of this direction's final states. Returns ``(dL/dx, dL/d(initial state), weight gradients)``.
    """
    grads = {name: np.zeros_like(arr) for name, arr in w.arrays().items()}
    dx = None
    for t in reversed(range(len(caches))):
        keep = valid[t][:, None]
        # state_after = where(keep, state', state), output = where(keep, h', 0)
        d_new = (np.where(keep, d_state[0] + d_out[t], 0.0),) + tuple(np.where(keep, d, 0.0) for d in d_state[1:])
        passed = tuple(np.where(keep, 0.0, d) for d in d_state)
        dx_t, d_prev, d_w = cell.step_backward(w, caches[t], d_new)
        for name, g in d_w.items():
            grads[name] += g
        if dx is None:
            dx = np.zeros((len(caches),) + dx_t.shape)
        dx[t] = dx_t
        d_state = tuple(p + q for p, q in zip(d_prev, passed))
    return dx, d_state, DirectionWeights(**grads)


def reference_gradients(problem: Problem, upstream: Upstream) -> Gradients:
    """Analytic float64 gradients of ``L`` (module docstring) with respect to x, the initial state and every weight.

    Runs the forward pass of :func:`mapping.reference.reference_forward` (same semantics), keeping each
    step, then walks back: top layer first, each direction backwards in its own processing order.
    """
    problem = problem.validated()
    spec, weights = problem.spec, problem.weights
    weights.check_shapes()
    check_upstream(problem, upstream)
    run = run_stack(problem)
    lens, valid = run.prepared.lengths, run.prepared.valid
    op = ops.of(spec)
    cell = op.bind(spec)
    g_out = np.asarray(upstream.output, dtype=np.float64)
    if spec.batch_first:
        g_out = g_out.transpose(1, 0, 2)
    g_states = [np.asarray(upstream.states[name], dtype=np.float64) for name in op.final_names]

    # the output gradient enters the top layer; each layer hands dL/d(its input) down
    d_initial = [np.zeros_like(s) for s in run.prepared.initial]
    cells: dict[tuple[int, int], DirectionWeights] = {}
    d_layer_out = g_out  # processing order (time reversed with go_backwards, as the output is)
    width = spec.output_size
    for layer in reversed(range(spec.num_layers)):
        d_layer_in = None
        for direction in range(spec.num_directions):
            k = layer * spec.num_directions + direction
            d_out = d_layer_out[..., direction * width : (direction + 1) * width]
            if direction == 1:
                d_out = reverse_padded(d_out, lens)
            d_seq, d_init, cells[layer, direction] = backward_direction(
                cell, weights[layer, direction], run.caches[layer, direction], valid, d_out,
                tuple(g[k] for g in g_states))
            for i, d in enumerate(d_init):
                d_initial[i][k] = d
            if direction == 1:
                d_seq = reverse_padded(d_seq, lens)
            d_layer_in = d_seq if d_layer_in is None else d_layer_in + d_seq
        d_layer_out = d_layer_in
    dx = d_layer_out
    if spec.go_backwards:
        dx = dx[::-1]
    if spec.batch_first:
        dx = dx.transpose(1, 0, 2)
    grads = CanonicalWeights(spec=spec, cells={key: cells[key] for key in weights.keys()})
    initial = dict(zip(op.initial_names, d_initial)) if problem.initial_state is not None else None
    return Gradients(x=np.ascontiguousarray(dx), initial=initial, weights=grads)
