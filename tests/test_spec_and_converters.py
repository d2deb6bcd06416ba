"""Spec validation errors, canonical weights and the weight converters (no framework needed)."""

import numpy as np
import pytest

from mapping import converters
from mapping.errors import SpecError, Unsupported
from mapping.ops.lstm import LSTMSpec
from mapping.problem import Problem
from mapping.weights import random_inputs, random_weights


@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"input_size": 3, "hidden_size": 0}, "spec.hidden_size", "greater than 0"),
        ({"input_size": 3, "hidden_size": 4, "units": 4}, "spec.units", "unknown parameter"),
        ({"input_size": 3, "hidden_size": 4, "activation": "gelu"}, "spec.activation", "gelu"),
        ({"hidden_size": 4}, "spec.input_size", "Field required"),
        ({"input_size": 3, "hidden_size": 4, "proj_size": 4}, "spec", "proj_size"),
        ({"input_size": 3, "hidden_size": 4, "proj_size": 2, "activation": "relu"}, "spec", "tanh/sigmoid"),
    ],
)
def test_invalid_spec_names_field(data, field, words):
    with pytest.raises(SpecError) as err:
        LSTMSpec.parse(data, where="cases/x.yaml, case 'Parameter 1'")
    assert err.value.field == field
    assert words in str(err.value) and "cases/x.yaml" in str(err.value)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"x": np.zeros((2, 5))}, "x"),
        ({"x": np.zeros((2, 5, 4))}, "x"),
        ({"x": np.zeros((2, 5, 3)), "initial_state": (np.zeros((1, 2, 4)), np.zeros((2, 2, 4)))}, "initial_state.c0"),
        ({"x": np.zeros((2, 5, 3)), "lengths": [6, 1]}, "lengths"),
        ({"x": np.zeros((2, 5, 3)), "lengths": [1.0, 2.0]}, "lengths"),
    ],
)
def test_impossible_inputs_name_argument(kwargs, field):
    spec = LSTMSpec(input_size=3, hidden_size=4)
    with pytest.raises(SpecError) as err:
        Problem(spec, random_weights(spec), **kwargs).validated()
    assert err.value.field == field


SPECS = [
    LSTMSpec(input_size=3, hidden_size=4),
    LSTMSpec(input_size=3, hidden_size=4, num_layers=3, bidirectional=True),
    LSTMSpec(input_size=3, hidden_size=4, bias=False, num_layers=2),
]


@pytest.mark.parametrize("spec", SPECS)
def test_torch_and_mindspore_round_trip_exact(spec):
    w = random_weights(spec, seed=3)
    assert converters.from_torch(spec, converters.to_torch(w)).allclose(w)
    assert converters.from_mindspore(spec, converters.to_mindspore(w)).allclose(w)


@pytest.mark.parametrize("spec", SPECS)
def test_keras_round_trip(spec):
    w = random_weights(spec, seed=4)
    keras = converters.to_keras(w)
    back = converters.from_keras(spec, keras)
    # Keras -> canonical -> Keras is exact
    again = converters.to_keras(back)
    for key in keras:
        for a, b in zip(keras[key], again[key]):
            np.testing.assert_array_equal(a, b)
    # canonical -> Keras -> canonical keeps matrices and b_ih + b_hh, and so the function
    for key in w.keys():
        np.testing.assert_array_equal(back[key].w_ih, w[key].w_ih)
        if spec.bias:
            np.testing.assert_allclose(back[key].b_ih + back[key].b_hh, w[key].b_ih + w[key].b_hh, rtol=0, atol=1e-15)
            assert np.all(back[key].b_hh == 0)
    x = random_inputs(spec, 2, 3)
    np.testing.assert_allclose(Problem(spec, back, x).reference().output, Problem(spec, w, x).reference().output, atol=1e-14)


def test_keras_kernel_is_transposed_with_same_gate_order():
    spec = LSTMSpec(input_size=2, hidden_size=3)
    w = random_weights(spec)
    kernel, recurrent, bias = converters.to_keras(w)[0, 0]
    assert kernel.shape == (2, 12) and recurrent.shape == (3, 12)
    np.testing.assert_array_equal(kernel[:, 3:6], w[0, 0].w_ih[3:6].T)  # forget gate block


def test_projection_has_no_keras_or_mindspore_layout():
    spec = LSTMSpec(input_size=2, hidden_size=3, proj_size=1)
    with pytest.raises(Unsupported):
        converters.to_keras(random_weights(spec))
    with pytest.raises(Unsupported):
        converters.to_mindspore(random_weights(spec))


def test_shape_mismatch_is_named():
    spec = LSTMSpec(input_size=3, hidden_size=4)
    state = converters.to_torch(random_weights(spec))
    state["weight_hh_l0"] = state["weight_hh_l0"][:, :3]
    with pytest.raises(ValueError, match="w_hh has shape"):
        converters.from_torch(spec, state)


def test_random_weights_deterministic():
    spec = SPECS[1]
    assert random_weights(spec, seed=9).allclose(random_weights(spec, seed=9))
    assert not random_weights(spec, seed=9).allclose(random_weights(spec, seed=10))
