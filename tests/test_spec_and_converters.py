"""Spec validation errors, canonical weights and the weight converters of every op, layers and cells (no framework
needed)."""

import numpy as np
import pytest

from mapping import converters
from mapping.errors import SpecError, Unsupported
from mapping.ops.lstm import LSTMSpec
from mapping.problem import Problem
from mapping.spec import LayerSpec
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


@pytest.mark.parametrize(
    "spec_changes, kwargs, field, words",
    [
        ({}, {"x": np.zeros((2, 5))}, "x", "3-D, got shape (2, 5)"),
        ({}, {"x": np.zeros((2, 5, 4))}, "x", "4 features, spec.input_size is 3 (layout (batch, time, features))"),
        ({"batch_first": False}, {"x": np.zeros((5, 2, 4))}, "x", "(layout (time, batch, features))"),
        ({}, {"x": np.zeros((0, 5, 3))}, "x", "empty batch or time axis"),
        ({}, {"x": np.zeros((2, 0, 3))}, "x", "empty batch or time axis"),
        ({}, {"x": np.zeros((2, 5, 3)), "initial_state": (np.zeros((1, 2, 4)),)}, "initial_state",
         "must be 2 arrays (h0, c0)"),
        ({"op": "gru"}, {"x": np.zeros((2, 5, 3)), "initial_state": (np.zeros((1, 2, 4)),) * 2}, "initial_state",
         "must be 1 array (h0)"),
        ({"num_layers": 2}, {"x": np.zeros((2, 5, 3)), "initial_state": (np.zeros((2, 2, 4)), np.zeros((1, 2, 4)))},
         "initial_state.c0", "expected (2, 2, 4) (num_layers * num_directions, batch, size)"),
        ({}, {"x": np.zeros((2, 5, 3)), "lengths": [5]}, "lengths", "must be 2 integers"),
        ({}, {"x": np.zeros((2, 5, 3)), "lengths": [0, 5]}, "lengths", "must lie in [1, 5], got [0, 5]"),
        ({}, {"x": np.zeros((2, 5, 3)), "lengths": [2, 6]}, "lengths", "must lie in [1, 5], got [2, 6]"),
        ({"form": "cell"}, {"x": np.zeros((2, 1, 3)), "lengths": [1, 1]}, "lengths", "a cell (form: cell) takes no "
         "lengths"),
    ],
)
def test_impossible_inputs_say_what_and_where(spec_changes, kwargs, field, words):
    """Every refusal of :meth:`Problem.validated` names the argument, says what is wrong with the figures, and
    carries the location it was given (a case file and case); the exception is SpecError, never a framework's."""
    spec = LayerSpec.parse({"op": "lstm", "input_size": 3, "hidden_size": 4, **spec_changes})
    where = "cases/x.yaml:12: case 'Row 3'"
    with pytest.raises(SpecError) as err:
        Problem(spec, random_weights(spec), **kwargs).validated(where=where)
    assert (err.value.field, err.value.where) == (field, where)
    assert words in str(err.value) and where in str(err.value)


def test_a_validated_problem_holds_numpy_arrays_and_int64_lengths():
    """What :meth:`Problem.validated` promises the reference and the adapters: NumPy arrays whatever was passed
    (lists included), lengths as int64, and the values unchanged."""
    spec = LSTMSpec(input_size=1, hidden_size=2)
    x = [[[0.5], [1.5], [2.5]], [[3.5], [4.5], [5.5]]]
    h0, c0 = [[[1.0, 2.0], [3.0, 4.0]]], [[[5.0, 6.0], [7.0, 8.0]]]
    p = Problem(spec, random_weights(spec), x, (h0, c0), lengths=np.array([3, 1], dtype=np.int32)).validated()
    assert isinstance(p.x, np.ndarray) and p.x.tolist() == x
    assert all(isinstance(s, np.ndarray) for s in p.initial_state)
    assert [s.tolist() for s in p.initial_state] == [h0, c0]
    assert p.lengths.dtype == np.int64 and p.lengths.tolist() == [3, 1]


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


# --- GRU and RNN, layers and cells -------------------------------------------------------------------------

def spec_of(api: str, **fields) -> LayerSpec:
    return LayerSpec.parse({"input_size": 3, "hidden_size": 4, **fields}, op=api)


OTHER_SPECS = [spec_of("gru"), spec_of("gru", num_layers=2, bidirectional=True), spec_of("gru", bias=False),
               spec_of("rnn", num_layers=2, bidirectional=True), spec_of("rnn", activation="relu", bias=False),
               spec_of("lstm_cell"), spec_of("gru_cell"), spec_of("rnn_cell", bias=False)]


@pytest.mark.parametrize("spec", OTHER_SPECS, ids=lambda s: f"{s.api}-{s.num_layers}-{s.bidirectional}-{s.bias}")
def test_other_ops_round_trip_exactly_through_torch_and_mindspore(spec):
    w = random_weights(spec, seed=3)
    assert converters.from_torch(spec, converters.to_torch(w)).allclose(w)
    assert converters.from_mindspore(spec, converters.to_mindspore(w)).allclose(w)
    names = list(converters.to_torch(w))
    assert names == converters.native_names(spec)
    if spec.form == "cell":  # torch.nn.GRUCell, mindspore.nn.GRUCell: bare names
        assert names == ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if spec.bias else [])


def test_gru_keras_layout_orders_z_r_h_and_keeps_both_biases_with_reset_after():
    spec = spec_of("gru")
    w = random_weights(spec, seed=4)
    kernel, recurrent, bias = converters.to_keras(w)[0, 0]
    h = spec.hidden_size
    assert kernel.shape == (3, 3 * h) and recurrent.shape == (h, 3 * h) and bias.shape == (2, 3 * h)
    cell = w[0, 0]
    np.testing.assert_array_equal(kernel[:, :h], cell.w_ih[h:2 * h].T)  # Keras z = canonical z (2nd block)
    np.testing.assert_array_equal(kernel[:, h:2 * h], cell.w_ih[:h].T)  # Keras r = canonical r (1st block)
    np.testing.assert_array_equal(recurrent[:, 2 * h:], cell.w_hh[2 * h:].T)  # h = n
    np.testing.assert_array_equal(bias[0, :h], cell.b_ih[h:2 * h])
    np.testing.assert_array_equal(bias[1, 2 * h:], cell.b_hh[2 * h:])
    # exact both ways: the reset gate multiplies b_hn, so nothing is folded
    assert converters.from_keras(spec, converters.to_keras(w)).allclose(w)


@pytest.mark.parametrize("spec", [spec_of("gru", reset_after=False), spec_of("rnn"), spec_of("gru_cell", reset_after=False)],
                         ids=lambda s: s.api)
def test_keras_folds_the_biases_where_they_only_add(spec):
    w = random_weights(spec, seed=5)
    keras = converters.to_keras(w)
    assert keras[0, 0][2].shape == (len(spec.GATES) * spec.hidden_size,)
    back = converters.from_keras(spec, keras)
    again = converters.to_keras(back)
    for a, b in zip(keras[0, 0], again[0, 0]):
        np.testing.assert_array_equal(a, b)
    x = random_inputs(spec, 2, 3)
    np.testing.assert_allclose(Problem(spec, back, x).reference().output, Problem(spec, w, x).reference().output,
                               atol=1e-14)


def test_gru_without_reset_after_has_no_torch_or_mindspore_layout():
    w = random_weights(spec_of("gru", reset_after=False))
    for convert in (converters.to_torch, converters.to_mindspore):
        with pytest.raises(Unsupported, match="reset_after"):
            convert(w)


def test_a_run_result_names_its_fields_and_nothing_else():
    """RunResult's states are attributes (``r.h_n``); a field the op lacks is an AttributeError, so ``hasattr``
    and ``getattr(r, name, default)`` work, and copies and pickles survive; ``replace`` keeps what it is not
    given and refuses a field the op lacks."""
    import copy
    import pickle

    from mapping.problem import RunResult

    gru = RunResult.of(LayerSpec.parse({"op": "gru", "input_size": 1, "hidden_size": 1}), np.zeros((1, 2, 1)),
                       [np.ones((1, 1, 1))])
    assert gru.h_n.tolist() == [[[1.0]]] and not hasattr(gru, "c_n") and getattr(gru, "c_n", None) is None
    for twin in (copy.deepcopy(gru), pickle.loads(pickle.dumps(gru))):
        assert twin.fields().keys() == gru.fields().keys() and twin.h_n.tolist() == gru.h_n.tolist()
    swapped = gru.replace(h_n=np.full((1, 1, 1), 2.0))
    assert swapped.h_n.tolist() == [[[2.0]]] and swapped.output is gru.output
    assert gru.replace(output=np.ones((1, 2, 1))).h_n is gru.h_n
    with pytest.raises(KeyError, match="c_n"):
        gru.replace(c_n=np.zeros((1, 1, 1)))
    with pytest.raises(ValueError, match="2 final states for gru"):
        RunResult.of(LayerSpec.parse({"op": "gru", "input_size": 1, "hidden_size": 1}), np.zeros((1, 2, 1)),
                     [np.ones((1, 1, 1))] * 2)


def test_without_lengths_every_step_is_real():
    """The mask of real steps without lengths: all True, boolean, (time, batch), as with lengths (what the
    diagnosis and the recipes index and reverse in time)."""
    from mapping.problem import real_steps

    spec = LSTMSpec(input_size=1, hidden_size=1)
    for mask in (real_steps(None, 2, 3), Problem(spec, random_weights(spec), np.zeros((2, 3, 1))).real_steps()):
        assert mask.dtype == np.bool_ and mask.shape == (3, 2) and mask.all()
    assert real_steps(np.array([3, 1]), 2, 3).tolist() == [[True, True], [True, False], [True, False]]
    padded = Problem(spec, random_weights(spec), np.zeros((2, 3, 1)), lengths=np.array([3, 1]))
    assert padded.real_steps().tolist() == [[True, True], [True, False], [True, False]]


@pytest.mark.parametrize("batch_first", [True, False])
def test_what_a_framework_is_fed_and_where_its_output_is_real(batch_first):
    """``Problem.cast`` rounds x and the initial state to the framework's dtype and leaves lengths alone;
    ``Problem.replace`` changes only what it is given; ``output_mask`` marks the real steps in the output's layout
    (reversed in time with go_backwards, as Keras returns it), None without lengths; ``RunResult.astype`` casts
    every field."""
    from mapping.problem import RunResult

    spec = LSTMSpec(input_size=1, hidden_size=1, batch_first=batch_first)
    x = np.full((2, 3, 1) if batch_first else (3, 2, 1), 1 / 3)
    state = (np.full((1, 2, 1), 0.1), np.full((1, 2, 1), 0.2))
    problem = Problem(spec, random_weights(spec), x, state, lengths=np.array([3, 1]))
    cast = problem.cast("float32")
    assert cast.x.dtype == np.float32 and cast.x.flat[0] == np.float32(1 / 3) and cast.x.shape == x.shape
    assert [s.dtype for s in cast.initial_state] == [np.float32] * 2
    assert [s.flat[0] for s in cast.initial_state] == [np.float32(0.1), np.float32(0.2)]
    assert cast.lengths is problem.lengths and cast.spec is spec and cast.weights is problem.weights
    assert Problem(spec, problem.weights, x).cast("float32").initial_state is None
    moved = problem.replace(lengths=np.array([2, 2]))
    assert moved.lengths.tolist() == [2, 2] and moved.x is x and moved.initial_state is state
    real = [[True, True, True], [True, False, False]]  # (batch, time)
    mask = problem.output_mask()
    assert mask.shape == ((2, 3, 1) if batch_first else (3, 2, 1))
    assert (mask[..., 0] if batch_first else mask[..., 0].T).tolist() == real
    back = problem.replace(spec=spec.replace(go_backwards=True)).output_mask()
    assert (back[..., 0] if batch_first else back[..., 0].T).tolist() == [row[::-1] for row in real]
    assert Problem(spec, problem.weights, x).output_mask() is None
    result = RunResult(np.full((1, 1, 1), 1 / 3), {"h_n": np.full((1, 1, 1), 2 / 3)}).astype(np.float32)
    assert {k: (v.dtype, v.flat[0]) for k, v in result.fields().items()} == {
        "output": (np.float32, np.float32(1 / 3)), "h_n": (np.float32, np.float32(2 / 3))}
