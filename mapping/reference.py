"""The float64 NumPy LSTM every framework is compared with.

Written for clarity, not speed: one loop over layers, directions and time steps, with the equations
spelled out as in the PyTorch and Keras documentation::

    i = σ(W_ii x + b_ii + W_hi h + b_hi)      f = σ(W_if x + b_if + W_hf h + b_hf)
    g = act(W_ig x + b_ig + W_hg h + b_hg)    o = σ(W_io x + b_io + W_ho h + b_ho)
    c' = f * c + i * g                        h' = o * act(c')   (then h' = W_hr h' when projecting)

where σ is the recurrent activation. Padding semantics (per-sample ``lengths``, right-padded): a
padded step leaves h and c unchanged and outputs zeros; the backward direction of a bidirectional layer
starts at each sample's last real step (PyTorch's packed-sequence semantics). ``go_backwards`` reverses
the whole (padded) time axis first and returns outputs in processing order, as Keras does.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .outputs import LSTMResult, RunInputs, check_inputs, valid_steps
from .spec import LSTMSpec
from .weights import CanonicalWeights, DirectionWeights


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free form of 1 / (1 + exp(-x))


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "hard_sigmoid": lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
    "hard_sigmoid_legacy": lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),
    "relu": lambda x: np.maximum(x, 0.0),
    "linear": lambda x: x,
}


def reverse_padded(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Reverse each sample's first ``lengths[b]`` steps along axis 0, leaving padding in place."""
    steps, batch = x.shape[:2]
    t = np.arange(steps)[:, None]
    lens = np.asarray(lengths)[None, :]
    source = np.where(t < lens, lens - 1 - t, t)
    return x[source, np.arange(batch)[None, :]]


def run_direction(
    x: np.ndarray,
    valid: np.ndarray,
    cell: DirectionWeights,
    h: np.ndarray,
    c: np.ndarray,
    activation: Callable,
    recurrent_activation: Callable,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One direction of one layer over time-major ``x``; returns (outputs, h, c)."""
    steps = x.shape[0]
    hidden = cell.w_hh.shape[0] // 4
    outputs = np.zeros((steps, x.shape[1], h.shape[-1]))
    for t in range(steps):
        gates = x[t] @ cell.w_ih.T + h @ cell.w_hh.T
        if cell.b_ih is not None:
            gates = gates + cell.b_ih + cell.b_hh
        i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
        i, f, o = recurrent_activation(i), recurrent_activation(f), recurrent_activation(o)
        g = activation(g)
        c_new = f * c + i * g
        h_new = o * activation(c_new)
        if cell.w_hr is not None:
            h_new = h_new @ cell.w_hr.T
        keep = valid[t][:, None]
        c = np.where(keep, c_new, c)
        h = np.where(keep, h_new, h)
        outputs[t] = np.where(keep, h_new, 0.0)
    return outputs, h, c


def prepare(spec: LSTMSpec, inputs: RunInputs):
    """Validated inputs in the reference's working form: float64, time-major, ``go_backwards`` applied.

    Returns ``(x, h0, c0, lengths, valid)``: x ``(time, batch, features)``, the initial states (zeros
    when none were given), each sample's length, and the ``(time, batch)`` mask of real steps. Shared by
    the forward pass and the analytic backward pass (:mod:`mapping.reference_grad`).
    """
    xt = np.asarray(inputs.x, dtype=np.float64)
    if spec.batch_first:
        xt = xt.transpose(1, 0, 2)
    steps, batch = xt.shape[:2]
    n_states = spec.num_layers * spec.num_directions
    if inputs.initial_state is None:
        h0 = np.zeros((n_states, batch, spec.output_size))
        c0 = np.zeros((n_states, batch, spec.hidden_size))
    else:
        h0, c0 = (np.asarray(s, dtype=np.float64) for s in inputs.initial_state)
    lens = inputs.lengths if inputs.lengths is not None else np.full(batch, steps)
    valid = valid_steps(lens, batch, steps)
    if spec.go_backwards:
        xt, valid = xt[::-1], valid[::-1]
    return xt, h0, c0, lens, valid


def reference_lstm(
    spec: LSTMSpec,
    weights: CanonicalWeights,
    x: np.ndarray,
    initial_state: tuple[np.ndarray, np.ndarray] | None = None,
    lengths: np.ndarray | list[int] | None = None,
) -> LSTMResult:
    """Run the reference in float64 and return outputs in the harness convention."""
    inputs = check_inputs(spec, x, initial_state, lengths)
    weights.check_shapes()
    xt, h0, c0, lens, valid = prepare(spec, inputs)
    act = ACTIVATIONS[spec.activation]
    ract = ACTIVATIONS[spec.recurrent_activation]

    h_n, c_n = [], []
    layer_in = xt
    for layer in range(spec.num_layers):
        per_direction = []
        for direction in range(spec.num_directions):
            k = layer * spec.num_directions + direction
            seq = layer_in if direction == 0 else reverse_padded(layer_in, lens)
            out, h, c = run_direction(seq, valid, weights[layer, direction], h0[k], c0[k], act, ract)
            if direction == 1:
                out = reverse_padded(out, lens)
            per_direction.append(out)
            h_n.append(h)
            c_n.append(c)
        layer_in = np.concatenate(per_direction, axis=-1)
    output = layer_in.transpose(1, 0, 2) if spec.batch_first else layer_in
    return LSTMResult(output=np.ascontiguousarray(output), h_n=np.stack(h_n), c_n=np.stack(c_n))
