"""The float64 reference's backward pass: analytic gradients of one scalar loss, by backpropagation
through time (BPTT) over every layer and both directions.

The loss is a fixed linear function of everything the LSTM returns::

    L = sum(output * G_out) + sum(h_n * G_h) + sum(c_n * G_c)

where the "upstream gradients" ``G_*`` are deterministic random arrays (:func:`random_upstream`), so
``dL/doutput = G_out``, ``dL/dh_n = G_h`` and ``dL/dc_n = G_c``: any gradient a framework returns for
this loss is the vector-Jacobian product of its LSTM with ``G``, and a mistake anywhere in the
backward pass (a gate's derivative, a transposed weight, a bias counted once, a state gradient dropped,
a direction's time axis not reversed) shows up.

:func:`reference_gradients` returns ``dL/dx``, ``dL/dh0``, ``dL/dc0`` and ``dL/dW`` for every canonical
weight, in the canonical layout of :mod:`mapping.weights` (a :class:`CanonicalWeights` whose arrays are
gradients). It follows :func:`mapping.reference.reference_lstm` step by step and supports everything
that does: batch-first or time-major, bias on or off, initial state, per-sample lengths (right
padding), ``go_backwards``, projection, and every activation of the reference.

The backward equations, for one step of one direction (``a`` the gate pre-activations, ``*`` the
elementwise product, ``act``/``σ`` the activation and the recurrent activation, ``'`` their derivative
at the pre-activation)::

    forward                                   backward (dh, dc: gradients arriving at h', c')
    a  = x W_ih^T + h W_hh^T + b_ih + b_hh
    i, f, o = σ(a_i), σ(a_f), σ(a_o)
    g  = act(a_g)
    c' = f * c + i * g                        dc' = dc + dm * o * act'(c')
    m  = o * act(c')                          dm  = dh W_hr (projection) or dh;  do = dm * act(c')
    h' = m W_hr^T (projection) or m           dW_hr += dh^T m
                                              di = dc' * g,  df = dc' * c,  dg = dc' * i
                                              da_i = di * σ'(a_i), da_f = df * σ'(a_f),
                                              da_o = do * σ'(a_o), da_g = dg * act'(a_g)
                                              dW_ih += da^T x,  dW_hh += da^T h,  db_ih = db_hh += Σ_batch da
                                              dx = da W_ih,  dh_prev = da W_hh,  dc_prev = dc' * f

A padded step (``valid`` False) passes h and c through unchanged and outputs zero, so its backward step
passes ``dh`` and ``dc`` through unchanged and ignores the output gradient. Reversals of the time axis
(``reverse_padded`` for the backward direction, the whole axis for ``go_backwards``) are permutations
that are their own inverse, so their backward pass is the same reversal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .outputs import check_inputs
from .reference import ACTIVATIONS, prepare, reverse_padded
from .spec import LSTMSpec
from .weights import CanonicalWeights, DirectionWeights

#: Derivative of each activation, as a function of its *input* (the pre-activation). At the kinks of
#: hard_sigmoid and relu the derivative is taken as that of the flat side, as the frameworks do.
DERIVATIVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": lambda x: 1.0 - np.tanh(x) ** 2,
    "sigmoid": lambda x: ACTIVATIONS["sigmoid"](x) * (1.0 - ACTIVATIONS["sigmoid"](x)),
    "hard_sigmoid": lambda x: np.where((x > -3.0) & (x < 3.0), 1.0 / 6.0, 0.0),
    "hard_sigmoid_legacy": lambda x: np.where((x > -2.5) & (x < 2.5), 0.2, 0.0),
    "relu": lambda x: (x > 0.0).astype(np.float64),
    "linear": lambda x: np.ones_like(x),
}


@dataclass(frozen=True)
class Upstream:
    """The upstream gradients ``G_out``, ``G_h``, ``G_c`` that define the loss (shapes of LSTMResult)."""

    output: np.ndarray
    h_n: np.ndarray
    c_n: np.ndarray

    def astype(self, dtype) -> "Upstream":
        return Upstream(*(np.asarray(a, dtype=dtype) for a in (self.output, self.h_n, self.c_n)))


@dataclass(frozen=True)
class Gradients:
    """``dL/d(input)`` of one run, all float64, in the harness's conventions.

    ``x`` has the input's layout (batch-first or time-major); ``h0``/``c0`` are
    ``(num_layers * num_directions, batch, size)``, or None when the run started from the zero state
    (no initial state was passed, so there is nothing to differentiate); ``weights`` holds the gradient
    of every canonical weight in the canonical layout (``weights[layer, direction].w_ih`` is
    ``dL/dw_ih``, and so on).
    """

    x: np.ndarray
    h0: np.ndarray | None
    c0: np.ndarray | None
    weights: CanonicalWeights

    def fields(self) -> dict[str, np.ndarray]:
        """Every gradient by a readable name (``x``, ``h0``, ``c0``, ``l0d1.w_hh``, ...)."""
        out = {"x": self.x}
        if self.h0 is not None:
            out.update(h0=self.h0, c0=self.c0)
        for layer, direction in self.weights.keys():
            for name, arr in self.weights[layer, direction].arrays().items():
                out[f"l{layer}d{direction}.{name}"] = arr
        return out


def random_upstream(spec: LSTMSpec, batch: int, steps: int, seed: int = 3) -> Upstream:
    """Deterministic standard-normal upstream gradients shaped like the LSTM's results.

    ``output`` is in the spec's layout (``(batch, time, features)`` or ``(time, batch, features)``).
    """
    rng = np.random.default_rng(seed)
    n = spec.num_layers * spec.num_directions
    out = rng.standard_normal((batch, steps, spec.num_directions * spec.output_size))
    h = rng.standard_normal((n, batch, spec.output_size))
    c = rng.standard_normal((n, batch, spec.hidden_size))
    if not spec.batch_first:
        out = out.transpose(1, 0, 2).copy()
    return Upstream(out, h, c)


def check_upstream(spec: LSTMSpec, batch: int, steps: int, upstream: Upstream) -> None:
    """Raise ValueError unless the ``G_*`` arrays have the shapes of the results they multiply."""
    n = spec.num_layers * spec.num_directions
    out = (batch, steps) if spec.batch_first else (steps, batch)
    expected = {
        "output": out + (spec.num_directions * spec.output_size,),
        "h_n": (n, batch, spec.output_size),
        "c_n": (n, batch, spec.hidden_size),
    }
    for name, shape in expected.items():
        actual = np.shape(getattr(upstream, name))
        if actual != shape:
            raise ValueError(f"upstream gradient {name} has shape {actual}, expected {shape}")


def loss_value(result, upstream: Upstream) -> float:
    """``L`` for an :class:`~mapping.outputs.LSTMResult` (float64): what the gradients differentiate."""
    return float(
        np.sum(np.asarray(result.output, np.float64) * upstream.output)
        + np.sum(np.asarray(result.h_n, np.float64) * upstream.h_n)
        + np.sum(np.asarray(result.c_n, np.float64) * upstream.c_n)
    )


@dataclass
class _Step:
    """What the backward pass needs from one forward step."""

    x: np.ndarray  # input at this step (batch, in)
    h: np.ndarray  # h before the step
    c: np.ndarray  # c before the step
    a: np.ndarray  # gate pre-activations (batch, 4H), order i, f, g, o
    c_new: np.ndarray  # c' (before the padding select)
    m: np.ndarray  # o * act(c'), h' before projection
    keep: np.ndarray  # (batch, 1) bool: a real step


def _forward_direction(
    x: np.ndarray, valid: np.ndarray, cell: DirectionWeights, h: np.ndarray, c: np.ndarray,
    act: Callable, ract: Callable,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[_Step]]:
    """:func:`mapping.reference.run_direction`, also recording each step for the backward pass."""
    hidden = cell.w_hh.shape[0] // 4
    outputs = np.zeros((x.shape[0], x.shape[1], h.shape[-1]))
    steps = []
    for t in range(x.shape[0]):
        a = x[t] @ cell.w_ih.T + h @ cell.w_hh.T
        if cell.b_ih is not None:
            a = a + cell.b_ih + cell.b_hh
        a_i, a_f, a_g, a_o = (a[:, k * hidden : (k + 1) * hidden] for k in range(4))
        i, f, g, o = ract(a_i), ract(a_f), act(a_g), ract(a_o)
        c_new = f * c + i * g
        m = o * act(c_new)
        h_new = m @ cell.w_hr.T if cell.w_hr is not None else m
        keep = valid[t][:, None]
        steps.append(_Step(x=x[t], h=h, c=c, a=a, c_new=c_new, m=m, keep=keep))
        c = np.where(keep, c_new, c)
        h = np.where(keep, h_new, h)
        outputs[t] = np.where(keep, h_new, 0.0)
    return outputs, h, c, steps


def _backward_direction(
    steps: list[_Step], d_out: np.ndarray, dh: np.ndarray, dc: np.ndarray, cell: DirectionWeights,
    act: Callable, ract: Callable, dact: Callable, dract: Callable,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, DirectionWeights]:
    """BPTT through one direction of one layer.

    ``d_out`` is ``dL/d(outputs)`` (time-major, this direction's processing order); ``dh``/``dc`` are
    ``dL/dh_n``, ``dL/dc_n`` of this direction. Returns ``(dL/dx, dL/dh0, dL/dc0, weight gradients)``.
    """
    hidden = cell.w_hh.shape[0] // 4
    d_w_ih, d_w_hh = np.zeros_like(cell.w_ih), np.zeros_like(cell.w_hh)
    d_b = np.zeros(4 * hidden)
    d_w_hr = np.zeros_like(cell.w_hr) if cell.w_hr is not None else None
    dx = np.zeros((len(steps),) + steps[0].x.shape)
    for t in reversed(range(len(steps))):
        s = steps[t]
        keep = s.keep
        # h_after = where(keep, h', h), output = where(keep, h', 0), c_after = where(keep, c', c)
        dh_new = np.where(keep, dh + d_out[t], 0.0)
        dc_new = np.where(keep, dc, 0.0)
        dh_pass = np.where(keep, 0.0, dh)
        dc_pass = np.where(keep, 0.0, dc)

        if cell.w_hr is not None:  # h' = m W_hr^T
            d_w_hr += dh_new.T @ s.m
            dm = dh_new @ cell.w_hr
        else:
            dm = dh_new
        a_i, a_f, a_g, a_o = (s.a[:, k * hidden : (k + 1) * hidden] for k in range(4))
        i, f, g, o = ract(a_i), ract(a_f), act(a_g), ract(a_o)
        # m = o * act(c')
        do = dm * act(s.c_new)
        dc_new = dc_new + dm * o * dact(s.c_new)
        # c' = f * c + i * g
        di, df, dg = dc_new * g, dc_new * s.c, dc_new * i
        dc_prev = dc_new * f
        # gate pre-activations, in the canonical order i, f, g, o
        da = np.concatenate([di * dract(a_i), df * dract(a_f), dg * dact(a_g), do * dract(a_o)], axis=1)
        # a = x W_ih^T + h W_hh^T + b_ih + b_hh
        d_w_ih += da.T @ s.x
        d_w_hh += da.T @ s.h
        d_b += da.sum(axis=0)
        dx[t] = da @ cell.w_ih
        dh = da @ cell.w_hh + dh_pass
        dc = dc_prev + dc_pass
    grads = DirectionWeights(
        w_ih=d_w_ih,
        w_hh=d_w_hh,
        b_ih=d_b.copy() if cell.b_ih is not None else None,
        b_hh=d_b.copy() if cell.b_hh is not None else None,
        w_hr=d_w_hr,
    )
    return dx, dh, dc, grads


def reference_gradients(
    spec: LSTMSpec,
    weights: CanonicalWeights,
    x: np.ndarray,
    initial_state: tuple[np.ndarray, np.ndarray] | None,
    upstream: Upstream,
    lengths: np.ndarray | list[int] | None = None,
) -> Gradients:
    """Analytic float64 gradients of ``L`` (module docstring) with respect to x, h0, c0 and every weight.

    Runs the forward pass of :func:`mapping.reference.reference_lstm` (same semantics), keeping each
    step, then walks back: top layer first, each direction backwards in its own processing order.
    """
    inputs = check_inputs(spec, x, initial_state, lengths)
    weights.check_shapes()
    check_upstream(spec, inputs.batch, inputs.steps, upstream)
    xt, h0, c0, lens, valid = prepare(spec, inputs)
    g_out = np.asarray(upstream.output, dtype=np.float64)
    if spec.batch_first:
        g_out = g_out.transpose(1, 0, 2)
    g_h = np.asarray(upstream.h_n, dtype=np.float64)
    g_c = np.asarray(upstream.c_n, dtype=np.float64)
    act, ract = ACTIVATIONS[spec.activation], ACTIVATIONS[spec.recurrent_activation]
    dact, dract = DERIVATIVES[spec.activation], DERIVATIVES[spec.recurrent_activation]

    # forward, keeping every step
    records: dict[tuple[int, int], list[_Step]] = {}
    layer_in = xt
    for layer in range(spec.num_layers):
        per_direction = []
        for direction in range(spec.num_directions):
            k = layer * spec.num_directions + direction
            seq = layer_in if direction == 0 else reverse_padded(layer_in, lens)
            out, _, _, records[layer, direction] = _forward_direction(
                seq, valid, weights[layer, direction], h0[k], c0[k], act, ract
            )
            per_direction.append(out if direction == 0 else reverse_padded(out, lens))
        layer_in = np.concatenate(per_direction, axis=-1)

    # backward: the output gradient enters the top layer; each layer hands dL/d(its input) down
    d_h0, d_c0 = np.zeros_like(h0), np.zeros_like(c0)
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
            d_seq, d_h0[k], d_c0[k], cells[layer, direction] = _backward_direction(
                records[layer, direction], d_out, g_h[k], g_c[k], weights[layer, direction],
                act, ract, dact, dract,
            )
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
    given = inputs.initial_state is not None
    return Gradients(
        x=np.ascontiguousarray(dx),
        h0=d_h0 if given else None,
        c0=d_c0 if given else None,
        weights=grads,
    )
