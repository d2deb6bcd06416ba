"""Every installed adapter against the float64 reference over the grid (see mapping/grid.py), for every API: LSTM,
GRU, RNN and their cells.

One test item per framework and spec; each builds the model once and runs the eight input variants
(batch 1/3, steps 1/7, zero or given initial state). Tolerances come from mapping/tolerances.yaml,
where each is written next to the error measured over the full grid. ``--grid full`` runs every API's whole
grid (the default: LSTM's whole grid and a pairwise subset of the others', see mapping.grid).
"""

import numpy as np
import pytest
from support import adapter_or_skip, framework_params

from mapping.compare import compare_results, mismatches, within_tolerance
from mapping.grid import check_spec
from mapping.problem import Problem
from mapping.spec import LayerSpec
from mapping.tolerances import forward_tolerance, tolerance
from mapping.weights import random_inputs, random_state, random_weights


def assert_forward_within(framework: str, dtype: str, got, expected, op: str = "lstm") -> None:
    """``got`` within the framework's forward tolerance of ``expected`` (compare.within_tolerance), else the largest
    absolute difference in the message."""
    tol = forward_tolerance(framework, dtype, padded=False, op=op)
    assert np.all(within_tolerance(got, expected, tol)), float(np.abs(got - expected).max())


def lstm(**fields) -> LayerSpec:
    return LayerSpec.parse(fields)




def test_grid_against_reference(framework, grid_spec):
    spec = grid_spec
    adapter = adapter_or_skip(framework)
    reason = adapter.unsupported_reason(spec)
    if reason:
        pytest.skip(reason)
    failures = []
    for label, figures in check_spec(adapter, spec, tolerance(framework, spec.dtype, spec.api)):
        failures += [f"{label}: {line}" for line in mismatches(figures)]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("framework", framework_params())
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("op", ["lstm", "gru", "rnn"])
def test_lengths_real_steps_and_final_states(framework, bidirectional, op):
    adapter = adapter_or_skip(framework)
    spec = LayerSpec.parse(dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=bidirectional), op=op)
    problem = Problem(spec, random_weights(spec), random_inputs(spec, 3, 6), random_state(spec, 3), np.array([6, 1, 4]))
    figures = compare_results(adapter.forward(problem), problem.reference(),
                              forward_tolerance(framework, "float32", True, op), problem.output_mask())
    assert not mismatches(figures), mismatches(figures)


EXPORT_SPECS = {"lstm": dict(num_layers=2, bidirectional=True), "gru": dict(num_layers=2, bidirectional=True),
                "rnn": dict(num_layers=2, bidirectional=True, activation="relu"), "lstm_cell": {}, "gru_cell": {},
                "rnn_cell": {}}


@pytest.mark.parametrize("framework", framework_params())
@pytest.mark.parametrize("api", list(EXPORT_SPECS))
@pytest.mark.parametrize("bias", [True, False])
def test_export_round_trip_through_framework(framework, api, bias):
    adapter = adapter_or_skip(framework)
    spec = LayerSpec.parse(dict(input_size=3, hidden_size=4, bias=bias, **EXPORT_SPECS[api]), op=api)
    w = random_weights(spec)
    back = adapter.export_weights(adapter.build(spec, w), spec)
    # float32 storage rounds; Keras folds the biases where they only add (b_hh comes back zero, the sum is kept)
    for key in w.keys():
        np.testing.assert_allclose(back[key].w_ih, w[key].w_ih, atol=1e-7)
        np.testing.assert_allclose(back[key].w_hh, w[key].w_hh, atol=1e-7)
        if bias:
            np.testing.assert_allclose(back[key].b_ih + back[key].b_hh, w[key].b_ih + w[key].b_hh, atol=1e-6)
            if api.startswith("gru"):  # the reset gate multiplies b_hn: every framework keeps both GRU biases
                np.testing.assert_allclose(back[key].b_hh, w[key].b_hh, atol=1e-7)
        else:
            assert back[key].b_ih is None and back[key].b_hh is None


@pytest.mark.parametrize("framework", framework_params())
def test_bad_input_is_a_clear_error_not_a_framework_traceback(framework):
    from mapping.errors import SpecError

    adapter = adapter_or_skip(framework)
    spec = lstm(input_size=3, hidden_size=4)
    with pytest.raises(SpecError, match="features"):
        adapter.forward(Problem(spec, random_weights(spec), np.zeros((2, 5, 7))))


@pytest.mark.parametrize("framework", framework_params(("tfkeras", "keras2")))
@pytest.mark.parametrize("batch_first", [True, False], ids=["bf", "tm"])
@pytest.mark.parametrize("lengths", [None, [5, 2, 3]], ids=["full", "lengths"])
def test_go_backwards_stack_reverses_once(framework, batch_first, lengths):
    """Several layers with go_backwards: the input is reversed once, as the spec and reference say; with
    lengths, the layers above the first see the sequence in processing order and their mask with it."""
    adapter = adapter_or_skip(framework)
    spec = lstm(input_size=3, hidden_size=4, num_layers=2, go_backwards=True, batch_first=batch_first)
    problem = Problem(spec, random_weights(spec), random_inputs(spec, 3, 5),
                      lengths=None if lengths is None else np.array(lengths))
    figures = compare_results(adapter.forward(problem), problem.reference(), tolerance(framework, "float32"),
                              problem.output_mask() if lengths else None)
    assert not mismatches(figures), mismatches(figures)


@pytest.mark.torch
@pytest.mark.parametrize("api", ["lstm", "gru", "rnn"])
def test_torch_constructor_stand_ins_match_the_real_constructors(api):
    """``nn.LSTM/GRU/RNN.__init__`` are ``(*args, **kwargs)``; the adapter's stand-in carries the signature the
    parameter rows are judged on (``RNNBase``'s, whose ``self`` and ``mode`` users never pass). Arguments bound
    through it, positionally, reach the same parameter of the real layer (RNN's ``nonlinearity`` is fourth); GRU
    and RNN have no ``proj_size`` (the real ones refuse it)."""
    import inspect

    adapter = adapter_or_skip("torch")
    signature = inspect.signature(adapter.constructor(api))
    names = [n for n in signature.parameters if n not in ("self", "mode")]
    positional = {"input_size": 3, "hidden_size": 4, "num_layers": 2, "nonlinearity": "relu", "bias": False,
                  "batch_first": True, "dropout": 0.25, "bidirectional": True, "proj_size": 2}
    values = [positional[n] for n in names[:names.index("bidirectional") + 1]]
    bound = signature.bind(None, None, *values).arguments
    layer = adapter.layer_class(api)(*values)
    for name, value in bound.items():
        if name not in ("self", "mode"):
            assert getattr(layer, name) == value, name
    assert list(adapter.constructor_parameters(api))[:len(values)] == names[:len(values)]
    assert ("proj_size" in names) == (api == "lstm")
    if api != "lstm":
        with pytest.raises(ValueError):
            adapter.layer_class(api)(3, 4, proj_size=2)


@pytest.mark.parametrize("framework", framework_params())
@pytest.mark.parametrize("op", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("batch_first, bias", [(True, True), (False, False)])
def test_cell_loop_by_hand_is_the_layers_first_direction(framework, op, batch_first, bias):
    """``cell_loop`` (the lower-level-API probe's hand loop over the framework's one-step cell) against the
    reference, in both layouts, with and without biases, in float64 where the framework runs it: the probe itself
    only ever uses one of these, so a loop along the wrong axis, a dropped bias or a lost dtype went unseen."""
    adapter = adapter_or_skip(framework)
    spec = LayerSpec.parse({"op": op, "input_size": 3, "hidden_size": 4, "batch_first": batch_first, "bias": bias,
                            "dtype": "float64"})
    if adapter.unsupported_reason(spec):
        spec = spec.replace(dtype="float32")
    problem = Problem(spec, random_weights(spec, seed=11), random_inputs(spec, 3, 5, seed=12))
    output = adapter.cell_loop(problem)
    expected = problem.reference().output
    if not batch_first:
        expected = expected.transpose(1, 0, 2)
    assert output.shape == expected.shape == (3, 5, 4)
    assert_forward_within(framework, spec.dtype, output, expected)


KERAS = ["tfkeras", "keras2"]
#: Specs whose constructor arguments are not Keras's defaults: a layer built without the op's options differs.
NOT_DEFAULT = [{"op": "rnn", "activation": "relu"}, {"op": "gru", "reset_after": False},
               {"op": "lstm", "activation": "relu"}]


@pytest.mark.parametrize("framework", framework_params(KERAS))
def test_keras_construct_is_the_layer_a_user_writes(framework):
    """``construct`` (the code examples' ``Bidirectional(LSTM())``) passes the arguments through and wraps only on
    request; a layer without units fails as the example does."""
    adapter = adapter_or_skip(framework)
    layer = adapter.construct("gru", 3, return_sequences=True)
    assert type(layer).__name__ == "GRU" and layer.units == 3 and layer.return_sequences
    wrapped = adapter.construct("lstm", 2, bidirectional=True)
    assert type(wrapped).__name__ == "Bidirectional" and wrapped.forward_layer.units == 2
    with pytest.raises(TypeError):
        adapter.construct("lstm", bidirectional=True)


@pytest.mark.parametrize("framework", framework_params(KERAS))
@pytest.mark.parametrize("fields", NOT_DEFAULT, ids=lambda f: f["op"])
def test_keras_user_and_fresh_layers(framework, fields):
    """The layers the probes and recipes call as a user does: one batch-first layer (a stack, a bidirectional or a
    time-major spec is refused), built with the op's own options and the spec's dtype, returning the sequence and
    the states; ``call_user`` feeds float64 arrays to a float32 layer as its own dtype."""
    from mapping.errors import Unsupported

    adapter = adapter_or_skip(framework)
    spec = LayerSpec.parse({**fields, "input_size": 3, "hidden_size": 4, "batch_first": True, "dtype": "float64"})
    for other in ({"num_layers": 2}, {"bidirectional": True}, {"batch_first": False}):
        for build in (lambda s: adapter.user_layer(s, random_weights(s, seed=1)), adapter.fresh_layer):
            with pytest.raises(Unsupported):
                build(spec.replace(**other))
    problem = Problem(spec, random_weights(spec, seed=3), random_inputs(spec, 2, 5, seed=4),
                      random_state(spec, 2, seed=5))
    expected = problem.reference()
    for dtype in ("float64", "float32"):
        layer = adapter.user_layer(spec.replace(dtype=dtype), problem.weights)
        assert layer.dtype == dtype
        out = adapter.call_user(layer, problem.x, problem.initial_state)  # float64 arrays
        assert [o.shape for o in out] == [expected.output.shape] + [s.shape[1:] for s in expected.states.values()]
        assert_forward_within(framework, dtype, out[0], expected.output, spec.op)
    fresh = adapter.fresh_layer(spec)  # its own initial weights: the reference computes with them
    assert fresh.dtype == "float64"
    out = adapter.call_user(fresh, problem.x)
    drawn = Problem(spec, adapter.export_weights(fresh, spec), problem.x).reference()
    assert [o.shape for o in out] == [drawn.output.shape] + [s.shape[1:] for s in drawn.states.values()]
    assert_forward_within(framework, "float64", out[0], drawn.output, spec.op)


@pytest.mark.parametrize("framework", framework_params())
@pytest.mark.parametrize("fields", NOT_DEFAULT, ids=lambda f: f["op"])
def test_cell_loop_by_hand_keeps_the_ops_options(framework, fields):
    """The hand loop's cell is built with the op's own constructor arguments (a non-default activation, Keras's
    other GRU form), where the framework has them."""
    adapter = adapter_or_skip(framework)
    spec = LayerSpec.parse({**fields, "input_size": 3, "hidden_size": 4, "batch_first": True, "dtype": "float32"})
    if adapter.unsupported_reason(spec):
        pytest.skip(adapter.unsupported_reason(spec))
    problem = Problem(spec, random_weights(spec, seed=11), random_inputs(spec, 3, 5, seed=12))
    output, expected = adapter.cell_loop(problem), problem.reference().output
    assert_forward_within(framework, spec.dtype, output, expected, spec.op)


@pytest.mark.parametrize("framework", framework_params())
@pytest.mark.parametrize("fields", NOT_DEFAULT, ids=lambda f: f["op"])
def test_cells_are_built_with_the_ops_options_and_dtype(framework, fields):
    """A cell spec (one step) with a non-default option, in float64 where the framework runs it, in both layouts:
    every input variant of the grid against the reference (the grid's cell specs keep the defaults)."""
    adapter = adapter_or_skip(framework)
    spec = LayerSpec.parse({**fields, "input_size": 3, "hidden_size": 4, "form": "cell", "dtype": "float64"})
    if adapter.unsupported_reason(spec):
        spec = spec.replace(dtype="float32")
    if adapter.unsupported_reason(spec):
        pytest.skip(adapter.unsupported_reason(spec))
    failures = []
    for layout in (spec, spec.replace(batch_first=not spec.batch_first)):
        failures += [f"batch_first={layout.batch_first} {label}: {line}"
                     for label, figures in check_spec(adapter, layout, tolerance(framework, spec.dtype, spec.api))
                     for line in mismatches(figures)]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("framework", framework_params())
def test_positional_assignment_round_trips(framework):
    """``parameters_in_order`` then ``assign_in_order`` (the positional-copy probe's two halves) on a stacked
    bidirectional layer: a second model given the first's arrays by position holds the first's weights."""
    adapter = adapter_or_skip(framework)
    spec = LayerSpec.parse({"input_size": 3, "hidden_size": 3, "num_layers": 2, "bidirectional": True,
                            "batch_first": True})
    source, target = (adapter.build(spec, random_weights(spec, seed=s)) for s in (1, 2))
    named = adapter.parameters_in_order(source)
    assert len({name for name, _ in named}) == len(named)
    adapter.assign_in_order(target, [a for _, a in named])
    got, want = adapter.export_weights(target, spec), adapter.export_weights(source, spec)
    for key in want.keys():
        for name, array in want[key].arrays().items():
            np.testing.assert_array_equal(got[key].arrays()[name], array, err_msg=f"{key} {name}")


@pytest.mark.parametrize("framework", framework_params(KERAS))
def test_keras_call_native_hands_over_the_layers_dtype(framework):
    """``call_native`` converts every array, the initial state included, to the layer's dtype: Keras 2 refuses a
    float64 initial state for a float32 layer (the input_dtype probe records it)."""
    adapter = adapter_or_skip(framework)
    spec = LayerSpec.parse({"input_size": 3, "hidden_size": 4, "batch_first": True})
    problem = Problem(spec, random_weights(spec, seed=3), random_inputs(spec, 2, 5, seed=4),
                      random_state(spec, 2, seed=5))
    out = adapter.call_native(adapter.build(spec, problem.weights), problem.x,
                              initial_state=[s[0] for s in problem.initial_state])
    expected = problem.reference().output
    assert_forward_within(framework, "float32", out[0], expected)
