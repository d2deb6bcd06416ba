"""The reference LSTM against values worked out by hand, not against any framework."""

import math

import numpy as np
import pytest

from mapping.ops.lstm import LSTMSpec
from mapping.problem import Problem
from mapping.reference import reference_forward, reverse_padded
from mapping.weights import (
    CanonicalWeights,
    DirectionWeights,
    random_inputs,
    random_weights,
)

A = math.atanh(0.5)  # tanh(A) = 0.5


def tiny(w_hh_g: float = 0.0, bias: bool = False) -> tuple[LSTMSpec, CanonicalWeights]:
    """One unit, one input. Gates i, f, o get zero pre-activation (so 0.5); g gets A*x (+ w_hh_g*h)."""
    spec = LSTMSpec(input_size=1, hidden_size=1, bias=bias)
    w_ih = np.array([[0.0], [0.0], [A], [0.0]])
    w_hh = np.array([[0.0], [0.0], [w_hh_g], [0.0]])
    b_ih = np.zeros(4) if bias else None
    b_hh = np.zeros(4) if bias else None
    return spec, CanonicalWeights(spec, {(0, 0): DirectionWeights(w_ih, w_hh, b_ih, b_hh)})


def test_two_steps_by_hand():
    spec, w = tiny()
    r = reference_forward(Problem(spec, w, np.ones((1, 2, 1))))
    # step 1: c = 0.5*0 + 0.5*0.5 = 0.25, h = 0.5*tanh(0.25); step 2: c = 0.5*0.25 + 0.25 = 0.375
    assert r.output[0, :, 0] == pytest.approx([0.5 * math.tanh(0.25), 0.5 * math.tanh(0.375)], abs=1e-15)
    assert r.c_n[0, 0, 0] == pytest.approx(0.375, abs=1e-15)
    assert r.h_n[0, 0, 0] == pytest.approx(0.5 * math.tanh(0.375), abs=1e-15)


def test_recurrent_weight_feeds_previous_h():
    spec, w = tiny(w_hh_g=1.0)
    r = reference_forward(Problem(spec, w, np.ones((1, 2, 1))))
    h1 = 0.5 * math.tanh(0.25)
    c2 = 0.5 * 0.25 + 0.5 * math.tanh(A + h1)
    assert r.c_n[0, 0, 0] == pytest.approx(c2, abs=1e-15)


def test_biases_add():
    spec, w = tiny(bias=True)
    cell = w[0, 0]
    cell.b_ih[1], cell.b_hh[1] = 2.0, -2.0  # forget gate biases cancel
    cell.b_ih[0] = 1.0  # input gate: sigmoid(1)
    r = reference_forward(Problem(spec, w, np.ones((1, 1, 1))))
    i = 1 / (1 + math.exp(-1.0))
    assert r.c_n[0, 0, 0] == pytest.approx(i * 0.5, abs=1e-15)


def test_initial_state_and_time_major():
    spec, w = tiny()
    spec_tm = spec.replace(batch_first=False)
    w_tm = CanonicalWeights(spec_tm, w.cells)
    r = reference_forward(Problem(spec_tm, w_tm, np.zeros((1, 1, 1)), (np.zeros((1, 1, 1)), np.full((1, 1, 1), 2.0))))
    # x = 0: g = 0, c = 0.5 * 2 = 1, h = 0.5 * tanh(1)
    assert r.c_n[0, 0, 0] == pytest.approx(1.0)
    assert r.h_n[0, 0, 0] == pytest.approx(0.5 * math.tanh(1.0))


def test_lengths_freeze_state_and_zero_padding():
    spec = LSTMSpec(input_size=2, hidden_size=3)
    w = random_weights(spec)
    x = random_inputs(spec, 2, 4)
    full = reference_forward(Problem(spec, w, x[:1, :2]))
    padded = reference_forward(Problem(spec, w, x, lengths=[2, 4]))
    np.testing.assert_allclose(padded.h_n[0, 0], full.h_n[0, 0], rtol=0, atol=1e-15)
    assert np.all(padded.output[0, 2:] == 0)


def test_backward_direction_starts_at_last_real_step():
    spec = LSTMSpec(input_size=2, hidden_size=3, bidirectional=True)
    w = random_weights(spec)
    x = random_inputs(spec, 1, 5)
    short = reference_forward(Problem(spec, w, x[:, :3]))
    padded = reference_forward(Problem(spec, w, x, lengths=[3]))
    np.testing.assert_allclose(padded.h_n, short.h_n, atol=1e-15)
    np.testing.assert_allclose(padded.output[:, :3], short.output, atol=1e-15)


def test_reverse_padded():
    x = np.arange(8).reshape(4, 2)[..., None]  # (time, batch, 1)
    r = reverse_padded(x, np.array([4, 2]))[..., 0]
    assert r[:, 0].tolist() == [6, 4, 2, 0]
    assert r[:, 1].tolist() == [3, 1, 5, 7]


def test_go_backwards_equals_reversed_input():
    spec = LSTMSpec(input_size=2, hidden_size=3)
    w = random_weights(spec)
    x = random_inputs(spec, 2, 4)
    back = reference_forward(Problem(spec.replace(go_backwards=True), w, x))
    flipped = reference_forward(Problem(spec, w, x[:, ::-1]))
    np.testing.assert_array_equal(back.output, flipped.output)


def test_projection_shapes():
    spec = LSTMSpec(input_size=2, hidden_size=4, proj_size=2, num_layers=2, bidirectional=True)
    r = reference_forward(Problem(spec, random_weights(spec), random_inputs(spec, 3, 5)))
    assert r.output.shape == (3, 5, 4) and r.h_n.shape == (4, 3, 2) and r.c_n.shape == (4, 3, 4)


@pytest.mark.parametrize("op, side, gate", [("lstm", "x", 0), ("lstm", "x", 1), ("lstm", "h", 2), ("lstm", "h", 3),
                                            ("gru", "x", 0), ("gru", "h", 1), ("gru", "h", 2), ("gru", "x", 2),
                                            ("rnn", "x", 0), ("rnn", "h", 0)])
def test_dropout_scales_act_as_the_scaled_gate_block_of_the_weights(op, side, gate):
    """The reference's dropout path (each gate sees its own scale of x and h) against the plain path with that gate's
    block of w_ih or w_hh scaled instead: scaling the input of one gate is scaling its weights (GRU's candidate
    included: its recurrent product is scaled before the reset gate multiplies it). Scales of one are the plain step.
    (Only framework cases exercised this path before; mutation testing found its slices unchecked.)"""
    import dataclasses

    from mapping import ops
    from mapping.spec import LayerSpec

    spec = LayerSpec.parse({"op": op, "input_size": 3, "hidden_size": 2})
    gates, hidden = len(type(spec).GATES), 2
    w = random_weights(spec, seed=3)[0, 0]
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 3))
    state = tuple(rng.normal(size=(5, 2)) for _ in type(spec).STATES)
    cell = ops.of(spec).bind(spec)
    plain, _ = cell.step(w, x, state)
    same, _ = cell.step(w, x, state, (np.ones((gates, 5, 3)), np.ones((gates, 5, 2))))
    np.testing.assert_allclose(np.concatenate(same, 1), np.concatenate(plain, 1), rtol=0, atol=1e-15)
    xs, hs = np.ones((gates, 5, 3)), np.ones((gates, 5, 2))
    (xs if side == "x" else hs)[gate] = 0.5
    name = "w_ih" if side == "x" else "w_hh"
    scaled = getattr(w, name).copy()
    scaled[gate * hidden:(gate + 1) * hidden] *= 0.5
    by_weights, _ = cell.step(dataclasses.replace(w, **{name: scaled}), x, state)
    by_scales, _ = cell.step(w, x, state, (xs, hs))
    np.testing.assert_allclose(np.concatenate(by_scales, 1), np.concatenate(by_weights, 1), rtol=0, atol=1e-14)
    assert not np.allclose(np.concatenate(by_scales, 1), np.concatenate(plain, 1))


@pytest.mark.parametrize("op", ["lstm", "gru", "rnn"])
def test_dropout_between_layers_scales_what_the_next_layer_reads(op):
    """The stack's between-layer dropout (PyTorch's and MindSpore's ``dropout``) against the two layers run one
    at a time, the first one's output scaled by hand before the second reads it; scales of one are the plain
    stack, and the first layer's state is untouched. (Mutation testing found this path exercised only by the
    framework cases.)"""
    from mapping.reference.forward import DropoutScales
    from mapping.spec import LayerSpec

    spec = LayerSpec.parse({"op": op, "input_size": 3, "hidden_size": 2, "num_layers": 2, "batch_first": False})
    w = random_weights(spec, seed=5)
    x = random_inputs(spec, 4, 6, seed=6)
    scales = np.random.default_rng(7).choice([0.0, 2.0], size=(6, 4, 2))
    stacked = reference_forward(Problem(spec, w, x), DropoutScales(between_layers=scales))
    ones = reference_forward(Problem(spec, w, x), DropoutScales(between_layers=np.ones((6, 4, 2))))
    plain = reference_forward(Problem(spec, w, x))
    first_spec = spec.replace(num_layers=1)
    second_spec = first_spec.replace(input_size=2)
    first = reference_forward(Problem(first_spec, CanonicalWeights(first_spec, {(0, 0): w[0, 0]}), x))
    second = reference_forward(Problem(second_spec, CanonicalWeights(second_spec, {(0, 0): w[1, 0]}),
                                       first.output * scales))
    np.testing.assert_allclose(stacked.output, second.output, rtol=0, atol=1e-15)
    for name in plain.states:
        np.testing.assert_allclose(stacked.states[name][1], second.states[name][0], rtol=0, atol=1e-15)
        np.testing.assert_allclose(stacked.states[name][0], first.states[name][0], rtol=0, atol=1e-15)
        np.testing.assert_allclose(ones.states[name], plain.states[name], rtol=0, atol=1e-15)
    np.testing.assert_allclose(ones.output, plain.output, rtol=0, atol=1e-15)
    assert not np.allclose(stacked.output, plain.output)


@pytest.mark.parametrize("op", ["lstm", "gru", "rnn"])
def test_input_and_recurrent_dropout_act_on_the_first_layers_forward_direction_only(op):
    """Keras' ``dropout`` and ``recurrent_dropout`` scales reach the first layer's forward direction, step by
    step: a scale that is constant in time is that gate's weight block scaled; a scale that changes at one step
    leaves the steps before it alone; the backward direction never sees them."""
    import dataclasses

    from mapping.reference.forward import DropoutScales
    from mapping.spec import LayerSpec

    spec = LayerSpec.parse({"op": op, "input_size": 3, "hidden_size": 2, "bidirectional": True,
                            "batch_first": False})
    gates, steps, batch = len(type(spec).GATES), 5, 4
    w = random_weights(spec, seed=8)
    x = random_inputs(spec, batch, steps, seed=9)
    plain = reference_forward(Problem(spec, w, x))
    for side, name in (("inputs", "w_ih"), ("recurrent", "w_hh")):
        size = 3 if side == "inputs" else 2
        constant = np.ones((steps, gates, batch, size))
        constant[:, 0] = 0.5
        dropped = reference_forward(Problem(spec, w, x), DropoutScales(**{side: constant}))
        block = getattr(w[0, 0], name).copy()
        block[:2] *= 0.5
        first = dataclasses.replace(w[0, 0], **{name: block})  # the first layer's forward direction
        by_weights = reference_forward(Problem(spec, dataclasses.replace(w, cells={**w.cells, (0, 0): first}), x))
        np.testing.assert_allclose(dropped.output, by_weights.output, rtol=0, atol=1e-14)
        np.testing.assert_allclose(dropped.output[..., 2:], plain.output[..., 2:], rtol=0, atol=1e-15)
        assert not np.allclose(dropped.output[..., :2], plain.output[..., :2])
    late = np.ones((steps, gates, batch, 3))
    late[3] = 0.0
    dropped = reference_forward(Problem(spec, w, x), DropoutScales(inputs=late))
    np.testing.assert_allclose(dropped.output[:3], plain.output[:3], rtol=0, atol=1e-15)
    assert not np.allclose(dropped.output[3, :, :2], plain.output[3, :, :2])
