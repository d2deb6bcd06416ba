"""The float64 reference's forward pass: the layer x direction x time machinery, once, for every op.

Written for clarity, not speed. Per layer and direction it drives the op's cell (:mod:`mapping.ops`) one
time step at a time. Padding semantics (per-sample ``lengths``, right-padded): a padded step leaves every
state unchanged and outputs zeros; the backward direction of a bidirectional layer starts at each
sample's last real step (PyTorch's packed-sequence semantics). ``go_backwards`` reverses the whole
(padded) time axis, and the mask of real steps with it, first, and the output comes back in processing
order, as Keras returns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import ops
from ..ops import Cell, State
from ..problem import Problem, RunResult, real_steps
from ..weights import DirectionWeights


def reverse_padded(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Reverse each sample's first ``lengths[b]`` steps along axis 0, leaving padding in place."""
    steps, batch = x.shape[:2]
    t = np.arange(steps)[:, None]
    lens = np.asarray(lengths)[None, :]
    source = np.where(t < lens, lens - 1 - t, t)
    return x[source, np.arange(batch)[None, :]]


@dataclass(frozen=True)
class Prepared:
    """A validated problem in the reference's working form: float64 and time-major, ``go_backwards`` applied."""

    x: np.ndarray  # (time, batch, features)
    initial: State  # per state of the op: (num_layers * num_directions, batch, size); zeros when none given
    lengths: np.ndarray  # each sample's length (the full length without padding)
    valid: np.ndarray  # (time, batch) mask of real steps, in processing order


def prepare(problem: Problem) -> Prepared:
    """The problem in working form (shared by the forward and the backward pass)."""
    spec = problem.spec
    xt = np.asarray(problem.x, dtype=np.float64)
    if spec.batch_first:
        xt = xt.transpose(1, 0, 2)
    steps, batch = xt.shape[:2]
    n_states = spec.num_layers * spec.num_directions
    if problem.initial_state is None:
        initial = tuple(np.zeros((n_states, batch, size)) for size in spec.state_sizes().values())
    else:
        initial = tuple(np.asarray(s, dtype=np.float64) for s in problem.initial_state)
    lens = problem.lengths if problem.lengths is not None else np.full(batch, steps)
    valid = real_steps(lens, batch, steps)
    if spec.go_backwards:
        xt, valid = xt[::-1], valid[::-1]
    return Prepared(xt, initial, lens, valid)


@dataclass(frozen=True)
class DropoutScales:
    """One draw of training-mode dropout as fixed factors (0 where dropped, 1/(1-p) where kept), so that the
    reference computes what a framework computes under that draw. Each array is time-major, in processing order,
    and broadcasts against what it scales:

    * ``inputs``: ``(time, gates, batch, features)``, x_t per gate, in the first layer's forward direction
      (Keras ``dropout``);
    * ``recurrent``: ``(time, gates, batch, hidden)``, h(t-1) per gate, in the first layer's forward direction
      (Keras ``recurrent_dropout``);
    * ``between_layers``: ``(time, batch, features)``, each layer's output before the next layer reads it
      (PyTorch's and MindSpore's ``dropout``).
    """

    inputs: np.ndarray | None = None
    recurrent: np.ndarray | None = None
    between_layers: np.ndarray | None = None

    def step(self, t: int) -> tuple[np.ndarray | None, np.ndarray | None] | None:
        if self.inputs is None and self.recurrent is None:
            return None
        return (None if self.inputs is None else self.inputs[t], None if self.recurrent is None else self.recurrent[t])


def run_direction(cell: Cell, w: DirectionWeights, x: np.ndarray, valid: np.ndarray, state: State,
                  dropout: DropoutScales | None = None) -> tuple[np.ndarray, State, list[Any]]:
    """One direction of one layer over time-major ``x``: (outputs, final state, per-step caches)."""
    outputs = np.zeros((x.shape[0], x.shape[1], state[0].shape[-1]))
    caches = []
    for t in range(x.shape[0]):
        new, cache = cell.step(w, x[t], state, dropout.step(t) if dropout is not None else None)
        caches.append(cache)
        keep = valid[t][:, None]
        state = tuple(np.where(keep, n, s) for n, s in zip(new, state))
        outputs[t] = np.where(keep, new[0], 0.0)
    return outputs, state, caches


@dataclass(frozen=True)
class StackRun:
    """The forward pass through every layer and direction, with what the backward pass needs."""

    prepared: Prepared
    output: np.ndarray  # time-major, processing order
    finals: list[State]  # per (layer, direction), layer-major
    caches: dict[tuple[int, int], list[Any]]


def run_stack(problem: Problem, dropout: DropoutScales | None = None) -> StackRun:
    """Every layer, each direction (the backward one on each sample's reversed real steps), concatenated."""
    spec, weights = problem.spec, problem.weights
    prepared = prepare(problem)
    cell = ops.of(spec).bind(spec)
    finals, caches = [], {}
    layer_in = prepared.x
    for layer in range(spec.num_layers):
        if layer > 0 and dropout is not None and dropout.between_layers is not None:
            layer_in = layer_in * dropout.between_layers
        per_direction = []
        for direction in range(spec.num_directions):
            k = layer * spec.num_directions + direction
            seq = layer_in if direction == 0 else reverse_padded(layer_in, prepared.lengths)
            out, final, caches[layer, direction] = run_direction(
                cell, weights[layer, direction], seq, prepared.valid, tuple(s[k] for s in prepared.initial),
                dropout if k == 0 else None)
            if direction == 1:
                out = reverse_padded(out, prepared.lengths)
            per_direction.append(out)
            finals.append(final)
        layer_in = np.concatenate(per_direction, axis=-1)
    return StackRun(prepared, layer_in, finals, caches)


def reference_forward(problem: Problem, dropout: DropoutScales | None = None) -> RunResult:
    """Run the reference in float64 and return outputs in the harness convention (under one fixed draw of
    training-mode dropout when ``dropout`` is given)."""
    problem = problem.validated()
    problem.weights.check_shapes()
    run = run_stack(problem, dropout)
    output = run.output.transpose(1, 0, 2) if problem.spec.batch_first else run.output
    finals = [np.stack([final[i] for final in run.finals]) for i in range(len(run.prepared.initial))]
    return RunResult.of(problem.spec, np.ascontiguousarray(output), finals)
