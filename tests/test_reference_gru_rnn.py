"""The GRU and Elman RNN references against values worked out by hand (one input, one unit), not against any
framework: the gate order (r, z, n), where the reset gate acts (after the recurrent product, bias included, or
before it), the update gate's mix, the nonlinearity, and the cell form giving the layer's numbers."""

import math

import numpy as np
import pytest

from mapping.ops.gru import GRUSpec
from mapping.ops.rnn import RNNSpec
from mapping.problem import Problem
from mapping.reference import reference_forward
from mapping.spec import LayerSpec
from mapping.weights import CanonicalWeights, DirectionWeights, random_inputs, random_state, random_weights

A = math.atanh(0.5)  # tanh(A) = 0.5
Z = math.log(3.0)  # sigmoid(Z) = 0.75


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def gru(*, w_ih=(0.0, 0.0, A), w_hh=(0.0, 0.0, 0.0), b_hn: float | None = None, reset_after: bool = True):
    """One input, one unit; rows r, z, n. ``b_hn`` sets the recurrent bias of n (other biases zero)."""
    spec = GRUSpec(input_size=1, hidden_size=1, bias=b_hn is not None, reset_after=reset_after)
    b_ih = b_hh = None
    if b_hn is not None:
        b_ih, b_hh = np.zeros(3), np.array([0.0, 0.0, b_hn])
    cell = DirectionWeights(np.array(w_ih, float)[:, None], np.array(w_hh, float)[:, None], b_ih, b_hh)
    return spec, CanonicalWeights(spec, {(0, 0): cell})


def run(spec, w, x, h0=None):
    state = None if h0 is None else (np.full((1, 1, 1), h0),)
    return reference_forward(Problem(spec, w, np.asarray(x, float).reshape(1, -1, 1), state))


def test_gru_step_mixes_candidate_and_state_by_the_update_gate():
    # r = z = sigmoid(0) = 0.5, n = tanh(A * 1) = 0.5, h' = (1 - z) n + z h = 0.5 * 0.5 + 0.5 * 0 = 0.25
    spec, w = gru()
    r = run(spec, w, [1.0])
    assert r.h_n[0, 0, 0] == pytest.approx(0.25, abs=1e-15)
    # a second step: n = tanh(A) again, h = 0.5 * 0.5 + 0.5 * 0.25
    assert run(spec, w, [1.0, 1.0]).output[0, :, 0] == pytest.approx([0.25, 0.375], abs=1e-15)


def test_gru_gate_order_is_r_z_n():
    # the second block is the update gate: z = 0.75 keeps 3/4 of h0 = 2 and takes 1/4 of n = 0.5
    spec, w = gru(w_ih=(0.0, Z, A))
    assert run(spec, w, [1.0], h0=2.0).h_n[0, 0, 0] == pytest.approx(0.25 * 0.5 + 0.75 * 2.0, abs=1e-15)
    # the first block is the reset gate: r = 0.75 scales the recurrent part of n (w_hn = 1, h0 = 2)
    spec, w = gru(w_ih=(Z, 0.0, A), w_hh=(0.0, 0.0, 1.0))
    n = math.tanh(A + 0.75 * 2.0)
    assert run(spec, w, [1.0], h0=2.0).h_n[0, 0, 0] == pytest.approx(0.5 * n + 0.5 * 2.0, abs=1e-15)


def test_reset_gate_multiplies_the_recurrent_bias_only_when_after_the_product():
    # from h = 0 with b_hn = 1: after the product r * (0 + b_hn) = 0.5; before it (r * 0) W + b_hn = 1
    after = run(*gru(b_hn=1.0, reset_after=True), [1.0]).h_n[0, 0, 0]
    before = run(*gru(b_hn=1.0, reset_after=False), [1.0]).h_n[0, 0, 0]
    assert after == pytest.approx(0.5 * math.tanh(A + 0.5), abs=1e-15)
    assert before == pytest.approx(0.5 * math.tanh(A + 1.0), abs=1e-15)
    # without the bias both forms agree for one unit: r * (h W) = (r * h) W
    spec, w = gru(w_hh=(0.0, 0.0, 1.0))
    same = [run(s, w2, [1.0, -1.0], h0=0.3).output for s, w2 in
            ((spec, w), (spec.replace(reset_after=False), CanonicalWeights(spec.replace(reset_after=False), w.cells)))]
    np.testing.assert_allclose(same[0], same[1], rtol=0, atol=1e-15)


def test_rnn_tanh_and_relu_by_hand():
    spec = RNNSpec(input_size=1, hidden_size=1, bias=True)
    w = CanonicalWeights(spec, {(0, 0): DirectionWeights(np.array([[A]]), np.array([[2.0]]), np.array([0.25]),
                                                         np.array([-0.25]))})
    # h1 = tanh(A + 0) = 0.5; h2 = tanh(A + 2 * 0.5) (the two biases cancel)
    assert run(spec, w, [1.0, 1.0]).output[0, :, 0] == pytest.approx([0.5, math.tanh(A + 1.0)], abs=1e-15)
    relu = spec.replace(activation="relu")
    wr = CanonicalWeights(relu, w.cells)
    # relu: h1 = max(0, -A) = 0, h2 = max(0, A + 0) = A, h3 = max(0, A + 2A) = 3A
    assert run(relu, wr, [-1.0, 1.0, 1.0]).output[0, :, 0] == pytest.approx([0.0, A, 3 * A], abs=1e-15)


@pytest.mark.parametrize("op", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("batch_first", [True, False])
def test_cell_form_computes_the_one_layer_layer(op, batch_first):
    layer = LayerSpec.parse({"input_size": 3, "hidden_size": 4, "batch_first": batch_first}, op=op)
    cell = LayerSpec.parse({"input_size": 3, "hidden_size": 4, "batch_first": batch_first}, op=f"{op}_cell")
    assert (cell.form, cell.api, layer.api) == ("cell", f"{op}_cell", op)
    w, x, state = random_weights(layer), random_inputs(layer, 2, 5), random_state(layer, 2)
    a = reference_forward(Problem(layer, w, x, state))
    b = reference_forward(Problem(cell, CanonicalWeights(cell, w.cells), x, state))
    for name, arr in a.fields().items():
        np.testing.assert_array_equal(b.fields()[name], arr, err_msg=name)


@pytest.mark.parametrize("fields", [{"num_layers": 2}, {"bidirectional": True}, {"go_backwards": True},
                                    {"layer_dropout": 0.1}, {"input_dropout": 0.1}])
def test_cell_form_refuses_what_one_step_cannot_be(fields):
    from mapping.errors import SpecError

    with pytest.raises(SpecError, match="a cell"):
        LayerSpec.parse({"input_size": 3, "hidden_size": 4, **fields}, op="gru_cell")


def test_cell_form_refuses_lengths():
    from mapping.errors import SpecError

    spec = LayerSpec.parse({"input_size": 3, "hidden_size": 4}, op="rnn_cell")
    with pytest.raises(SpecError) as err:
        Problem(spec, random_weights(spec), random_inputs(spec, 2, 3), lengths=np.array([3, 1])).validated()
    assert err.value.field == "lengths"
