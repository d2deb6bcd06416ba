"""The reference's analytic gradients (mapping/reference/backward.py) against central finite differences.

Every gradient (x, the initial states and every canonical weight of every layer and direction) is compared with
``(L(p + eps) - L(p - eps)) / (2 eps)`` in float64, where L is the loss of the forward reference
(:func:`mapping.reference.reference_forward`), so the backward pass is checked against the forward pass it
claims to differentiate, not against a framework. LSTM, GRU (the reset gate after and before the recurrent
product) and the Elman RNN (tanh, relu), each through the same layer x direction x time machinery.

Error measure per gradient array: ``max |analytic - fd| / max |fd|``. Measured over these
configurations (NumPy 1.26.4): worst 8.0e-10 for LSTM (L2-bi-tm-bias-state, l0d1.w_hh; the unchanged LSTM
code gives the same here, where 6.8e-10 was recorded earlier: finite-difference rounding), 2.7e-10 for GRU
(gru-reset_before-L2-bi-tm-bias-lengths, l0d1.w_hh) and 2.4e-10 for RNN (rnn-tanh-L2-bi-bf-bias-lengths), so the
tolerance FD_RTOL = 1e-8 leaves the finite differences' own truncation and rounding error (eps = 1e-5: ~eps^2
and ~1e-16 / eps relative) room, while any real mistake (a missing term, a wrong derivative, a
direction's time axis not reversed) gives errors of 1e-3 and more.
"""

import numpy as np
import pytest

from mapping import ops
from mapping.ops.lstm import LSTMSpec
from mapping.problem import Problem
from mapping.reference import (
    Gradients,
    loss_value,
    random_upstream,
    reference_forward,
    reference_gradients,
)
from mapping.spec import LayerSpec
from mapping.weights import random_inputs, random_state, random_weights

EPS = 1e-5
FD_RTOL = 1e-8  # measured worst: 8.0e-10


def finite_difference_gradients(spec, weights, x, state, upstream, lengths=None) -> dict[str, np.ndarray]:
    """Central differences of the loss for every array ``Gradients.fields`` names (arrays edited in place)."""

    def loss() -> float:
        return loss_value(reference_forward(Problem(spec, weights, x, state, lengths)), upstream)

    arrays = {"x": x}
    if state is not None:
        arrays.update(zip(ops.of(spec).initial_names, state))
    for layer, direction in weights.keys():
        for name, arr in weights[layer, direction].arrays().items():
            arrays[f"l{layer}d{direction}.{name}"] = arr
    out = {}
    for name, arr in arrays.items():
        grad = np.zeros_like(arr)
        for index in np.ndindex(arr.shape):
            keep = arr[index]
            arr[index] = keep + EPS
            up = loss()
            arr[index] = keep - EPS
            down = loss()
            arr[index] = keep
            grad[index] = (up - down) / (2 * EPS)
        out[name] = grad
    return out


def worst_relative_error(analytic: Gradients, fd: dict[str, np.ndarray]) -> tuple[float, str]:
    fields = analytic.fields()
    assert fields.keys() == fd.keys()
    worst, where = 0.0, ""
    for name, expected in fd.items():
        assert fields[name].shape == expected.shape, name
        scale = max(np.abs(expected).max(), 1e-300)
        err = np.abs(fields[name] - expected).max() / scale
        if not np.isfinite(err):  # a NaN anywhere (in either) must fail, not compare as "not worse"
            return np.inf, name
        if err > worst:
            worst, where = err, name
    return worst, where


CONFIGS = [
    # (id, spec fields, batch, steps, with initial state, lengths)
    ("L1-uni-bf-bias-state", dict(num_layers=1), 2, 4, True, None),
    ("L1-uni-tm-nobias-state", dict(num_layers=1, batch_first=False, bias=False), 2, 3, True, None),
    ("L1-bi-bf-bias-zero", dict(num_layers=1, bidirectional=True), 2, 3, False, None),
    ("L2-uni-tm-bias-state", dict(num_layers=2, batch_first=False), 3, 3, True, None),
    ("L2-bi-bf-nobias-state", dict(num_layers=2, bidirectional=True, bias=False), 2, 3, True, None),
    ("L2-bi-tm-bias-state", dict(num_layers=2, bidirectional=True, batch_first=False), 2, 3, True, None),
    ("L2-bi-bf-bias-lengths", dict(num_layers=2, bidirectional=True), 3, 4, True, [4, 1, 2]),
    ("L2-bi-tm-bias-lengths", dict(num_layers=2, bidirectional=True, batch_first=False), 3, 4, True, [2, 4, 3]),
    ("L2-bi-bf-proj", dict(num_layers=2, bidirectional=True, hidden_size=4, proj_size=2), 2, 3, True, None),
    ("L1-uni-bf-go_backwards-lengths", dict(go_backwards=True), 3, 4, True, [4, 2, 3]),
    ("L2-uni-tm-one-step", dict(num_layers=2, batch_first=False), 2, 1, True, None),
    ("L2-uni-bf-relu-hard_sigmoid",
     dict(num_layers=2, activation="relu", recurrent_activation="hard_sigmoid"), 2, 3, True, None),
    ("L1-uni-tm-linear-hard_sigmoid_legacy",
     dict(batch_first=False, activation="linear", recurrent_activation="hard_sigmoid_legacy"), 2, 3, True, None),
]


GRU_CONFIGS = [
    ("gru-L1-uni-bf-bias-state", dict(num_layers=1), 2, 4, True, None),
    ("gru-L1-uni-tm-nobias-state", dict(batch_first=False, bias=False), 2, 3, True, None),
    ("gru-L2-bi-bf-bias-lengths", dict(num_layers=2, bidirectional=True), 3, 4, True, [4, 1, 2]),
    ("gru-L2-bi-tm-bias-zero", dict(num_layers=2, bidirectional=True, batch_first=False), 2, 3, False, None),
    ("gru-reset_before-L1-uni-bf-bias-state", dict(reset_after=False), 2, 4, True, None),
    ("gru-reset_before-L2-bi-tm-bias-lengths",
     dict(reset_after=False, num_layers=2, bidirectional=True, batch_first=False), 3, 4, True, [2, 4, 3]),
    ("gru-reset_before-L1-uni-bf-nobias-go_backwards", dict(reset_after=False, bias=False, go_backwards=True),
     2, 3, True, None),
    ("gru-relu-hard_sigmoid", dict(activation="relu", recurrent_activation="hard_sigmoid"), 2, 3, True, None),
    ("gru-cell-form", dict(form="cell"), 2, 4, True, None),
]
RNN_CONFIGS = [
    ("rnn-tanh-L1-uni-bf-bias-state", dict(), 2, 4, True, None),
    ("rnn-relu-L1-uni-tm-nobias-state", dict(activation="relu", batch_first=False, bias=False), 2, 3, True, None),
    ("rnn-tanh-L2-bi-bf-bias-lengths", dict(num_layers=2, bidirectional=True), 3, 4, True, [4, 1, 2]),
    ("rnn-relu-L2-bi-tm-bias-lengths", dict(activation="relu", num_layers=2, bidirectional=True, batch_first=False),
     3, 4, True, [2, 4, 3]),
    ("rnn-cell-form", dict(form="cell"), 2, 4, True, None),
]
ALL_CONFIGS = [("lstm", *c) for c in CONFIGS] + [("gru", *c) for c in GRU_CONFIGS] + [("rnn", *c) for c in RNN_CONFIGS]


@pytest.mark.parametrize("op, fields, batch, steps, with_state, lengths",
                         [pytest.param(c[0], *c[2:], id=c[1]) for c in ALL_CONFIGS])
def test_analytic_gradients_match_finite_differences(op, fields, batch, steps, with_state, lengths):
    spec = LayerSpec.parse({"input_size": 3, "hidden_size": 3, "dtype": "float64", **fields}, op=op)
    weights = random_weights(spec, seed=5)
    x = random_inputs(spec, batch, steps, seed=6)
    state = random_state(spec, batch, seed=7) if with_state else None
    upstream = random_upstream(spec, batch, steps, seed=8)
    lens = None if lengths is None else np.array(lengths)
    analytic = reference_gradients(Problem(spec, weights, x, state, lens), upstream)
    fd = finite_difference_gradients(spec, weights, x, state, upstream, lens)
    worst, where = worst_relative_error(analytic, fd)
    assert worst < FD_RTOL, f"{where}: relative error {worst:.3g}"


def test_padded_steps_get_zero_input_gradient_and_do_not_count():
    spec = LSTMSpec(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    weights = random_weights(spec)
    x, state = random_inputs(spec, 3, 5), random_state(spec, 3)
    lengths = np.array([5, 2, 3])
    upstream = random_upstream(spec, 3, 5)
    grads = reference_gradients(Problem(spec, weights, x, state, lengths), upstream)
    padded = np.arange(5)[None, :] >= lengths[:, None]  # (batch, time)
    assert np.all(grads.x[padded] == 0.0)
    assert np.any(grads.x[~padded] != 0.0)
    # the upstream gradient at padded output steps meets a constant zero output: it changes nothing
    noisy = random_upstream(spec, 3, 5, seed=99).output
    upstream2 = upstream.replace(output=np.where(padded[..., None], noisy, upstream.output))
    again = reference_gradients(Problem(spec, weights, x, state, lengths), upstream2)
    for name, arr in grads.fields().items():
        np.testing.assert_array_equal(again.fields()[name], arr, err_msg=name)


def test_zero_state_gives_no_state_gradient_and_matches_explicit_zeros_otherwise():
    spec = LSTMSpec(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, batch_first=False)
    weights, x = random_weights(spec), random_inputs(spec, 2, 4)
    upstream = random_upstream(spec, 2, 4)
    implicit = reference_gradients(Problem(spec, weights, x, None), upstream)
    zeros = tuple(np.zeros_like(s) for s in random_state(spec, 2))
    explicit = reference_gradients(Problem(spec, weights, x, zeros), upstream)
    assert implicit.initial is None
    assert explicit.initial["h0"].shape == zeros[0].shape and explicit.initial["c0"].shape == zeros[1].shape
    for name, arr in implicit.fields().items():
        np.testing.assert_array_equal(explicit.fields()[name], arr, err_msg=name)


def test_bias_gradients_are_equal_and_canonical_shapes():
    spec = LSTMSpec(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, proj_size=2)
    weights = random_weights(spec)
    grads = reference_gradients(Problem(spec, weights, random_inputs(spec, 2, 3), None), random_upstream(spec, 2, 3))
    grads.weights.check_shapes()
    for key in weights.keys():
        np.testing.assert_array_equal(grads.weights[key].b_ih, grads.weights[key].b_hh)
