"""Every path of the reference (forward and backward) against a value computed outside it.

Framework-free part: ONNX's reference evaluator (``onnx.reference.ReferenceEvaluator``, the LSTM operator,
gates i, o, f, c) for one or several layers, both directions, initial states and long sequences. It
ignores ``sequence_lens``, so per-sample lengths are emulated by running each sample on its real steps
alone; ``go_backwards`` is its ``reverse`` direction with the output put back in processing order. Its
LSTM has fixed activations and no projection.

Framework part, for what ONNX cannot express: per-sample lengths combined with ``go_backwards``, with
relu / hard_sigmoid / linear activations (Keras 3 and Keras 2, which take a mask), and with projection in
both directions (PyTorch, packed sequences); the same for the gradients of mapping.reference.backward.
Combinations no framework computes are refused by the spec.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import adapter_or_skip, framework_params

from mapping.compare import field_figures, mismatches
from mapping.errors import SpecError
from mapping.ops.lstm import LSTMSpec
from mapping.problem import Problem, RunResult
from mapping.reference import random_upstream, reference_gradients
from mapping.tolerances import forward_tolerance, gradient_tolerance
from mapping.weights import random_inputs, random_state, random_weights

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

ONNX_ORDER = [0, 3, 1, 2]  # canonical blocks i, f, g, o -> ONNX's i, o, f, c


def _onnx_layer(x, cells, h0, c0, direction: str):
    """One ONNX LSTM node over time-major float64 x; returns Y (time, dirs, batch, hidden), Y_h, Y_c."""
    hidden = cells[0].w_hh.shape[1]

    def gates(a):
        return np.concatenate([np.split(a, 4, axis=0)[k] for k in ONNX_ORDER], axis=0)

    w = np.stack([gates(c.w_ih) for c in cells])
    r = np.stack([gates(c.w_hh) for c in cells])
    if cells[0].b_ih is not None:
        b = np.stack([np.concatenate([gates(c.b_ih), gates(c.b_hh)]) for c in cells])
    else:
        b = np.zeros((len(cells), 8 * hidden))
    feeds = {"X": x, "W": w, "R": r, "B": b, "initial_h": h0, "initial_c": c0}
    inputs = [helper.make_tensor_value_info(k, TensorProto.DOUBLE, v.shape) for k, v in feeds.items()]
    outputs = [helper.make_tensor_value_info(k, TensorProto.DOUBLE, None) for k in ("Y", "Y_h", "Y_c")]
    node = helper.make_node("LSTM", ["X", "W", "R", "B", "", "initial_h", "initial_c"], ["Y", "Y_h", "Y_c"],
                            hidden_size=hidden, direction=direction)
    model = helper.make_model(helper.make_graph([node], "lstm", inputs, outputs),
                              opset_imports=[helper.make_opsetid("", 14)])
    return ReferenceEvaluator(model).run(None, {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in feeds.items()})


def onnx_one_sample(spec, weights, x, h0, c0):
    """Unpadded time-major x (time, 1, features); go_backwards as ONNX's reverse direction."""
    layer_in, h_n, c_n = x, [], []
    dirs = spec.num_directions
    for layer in range(spec.num_layers):
        k = slice(layer * dirs, (layer + 1) * dirs)
        cells = [weights[layer, d] for d in range(dirs)]
        if spec.bidirectional:
            direction = "bidirectional"
        else:
            direction = "reverse" if spec.go_backwards and layer == 0 else "forward"
        y, y_h, y_c = _onnx_layer(layer_in, cells, h0[k], c0[k], direction)
        if direction == "reverse":
            y = y[::-1]  # the reference (and Keras) return go_backwards output in processing order
        layer_in = y.transpose(0, 2, 1, 3).reshape(y.shape[0], y.shape[2], -1)
        h_n.append(y_h)
        c_n.append(y_c)
    return layer_in, np.concatenate(h_n), np.concatenate(c_n)


def onnx_lstm(problem: Problem) -> RunResult:
    """ONNX's LSTM in the harness's conventions, per-sample lengths emulated one sample at a time."""
    spec, weights = problem.spec, problem.weights
    xt = problem.x.transpose(1, 0, 2) if spec.batch_first else problem.x
    steps, batch = xt.shape[:2]
    n = spec.num_layers * spec.num_directions
    state = problem.initial_state
    h0, c0 = state if state is not None else (np.zeros((n, batch, spec.hidden_size)),) * 2
    lengths = np.full(batch, steps) if problem.lengths is None else np.asarray(problem.lengths)
    out = np.zeros((steps, batch, spec.num_directions * spec.hidden_size))
    h_n, c_n = np.zeros_like(h0), np.zeros_like(c0)
    for b, length in enumerate(lengths):
        y, h_n[:, b : b + 1], c_n[:, b : b + 1] = onnx_one_sample(
            spec, weights, xt[:length, b : b + 1], h0[:, b : b + 1], c0[:, b : b + 1])
        if spec.go_backwards:  # processing order: the padding (reversed to the front) comes first
            out[steps - length :, b] = y[:, 0]
        else:
            out[:length, b] = y[:, 0]
    output = out.transpose(1, 0, 2) if spec.batch_first else out
    return RunResult(np.ascontiguousarray(output), {"h_n": h_n, "c_n": c_n})


def mismatching(actual: RunResult, expected: RunResult, tol: float, select=None) -> list[str]:
    return [line for name, want in expected.fields().items() for line in mismatches(
        [field_figures(name, actual.fields()[name], want, tol, select if name == "output" else None)])]


def make_problem(spec, batch, steps, with_state, lengths, seed) -> Problem:
    return Problem(spec, random_weights(spec, seed=seed), random_inputs(spec, batch, steps, seed=seed + 1),
                   random_state(spec, batch, seed=seed + 2) if with_state else None,
                   None if lengths is None else np.array(lengths))


ONNX_CASES = [
    # id, spec fields, batch, steps, state, lengths
    ("L1-uni-bf", dict(), 3, 6, False, None),
    ("L2-bi-tm-state", dict(num_layers=2, bidirectional=True, batch_first=False), 3, 6, True, None),
    ("L2-bi-bf-nobias-lengths", dict(num_layers=2, bidirectional=True, bias=False), 4, 7, True, [7, 1, 4, 6]),
    ("L3-uni-tm-lengths", dict(num_layers=3, batch_first=False), 3, 5, True, [5, 2, 3]),
    ("L1-go_backwards", dict(go_backwards=True), 3, 6, True, None),
    ("L1-go_backwards-lengths", dict(go_backwards=True), 4, 7, True, [7, 1, 4, 6]),
    ("L2-go_backwards-tm-lengths", dict(go_backwards=True, num_layers=2, batch_first=False), 3, 6, True, [6, 2, 5]),
    ("L2-bi-long-lengths", dict(num_layers=2, bidirectional=True), 4, 61, True, [61, 23, 50, 37]),
    ("L1-go_backwards-long-lengths", dict(go_backwards=True, bias=False), 3, 57, False, [57, 29, 44]),
]


@pytest.mark.parametrize("fields, batch, steps, with_state, lengths", [pytest.param(*c[1:], id=c[0]) for c in ONNX_CASES])
def test_reference_matches_onnx_reference_evaluator(fields, batch, steps, with_state, lengths):
    spec = LSTMSpec(**{"input_size": 3, "hidden_size": 4, "dtype": "float64", **fields})
    problem = make_problem(spec, batch, steps, with_state, lengths, seed=11)
    # the reference outputs zeros at padded steps, as the emulation does: compare every step
    bad = mismatching(problem.reference(), onnx_lstm(problem), 1e-12)
    assert not bad, "\n".join(bad)


def test_the_onnx_emulation_is_sensitive_to_the_lengths():
    """A check of the check: with go_backwards, lengths that are off by one give other numbers."""
    spec = LSTMSpec(input_size=3, hidden_size=4, go_backwards=True, dtype="float64")
    a = onnx_lstm(make_problem(spec, 3, 6, False, [6, 2, 4], seed=1))
    b = onnx_lstm(make_problem(spec, 3, 6, False, [6, 3, 4], seed=1))
    assert np.abs(a.h_n - b.h_n).max() > 1e-2


# --- against frameworks: what ONNX's evaluator cannot express ---------------------------------------------


KERAS = framework_params(("tfkeras", "keras2"))
HARD = {"tfkeras": "hard_sigmoid", "keras2": "hard_sigmoid_legacy"}


def keras_specs(framework: str):
    hard = HARD[framework]
    return {
        "go_backwards-bf": dict(go_backwards=True),
        "go_backwards-tm-L2": dict(go_backwards=True, num_layers=2, batch_first=False),
        "relu-hard": dict(num_layers=2, bidirectional=True, activation="relu", recurrent_activation=hard),
        "linear-sigmoid-tm": dict(batch_first=False, activation="linear", recurrent_activation="sigmoid"),
        "tanh-hard-go_backwards": dict(go_backwards=True, recurrent_activation=hard, bias=False),
        "sigmoid-tanh-bi-tm": dict(bidirectional=True, batch_first=False, activation="sigmoid",
                                   recurrent_activation="tanh"),
    }


@pytest.mark.parametrize("framework", KERAS)
def test_keras_lengths_with_go_backwards_and_other_activations(framework):
    adapter = adapter_or_skip(framework)
    failures = []
    for label, fields in keras_specs(framework).items():
        spec = LSTMSpec(**{"input_size": 3, "hidden_size": 4, **fields})
        # square: a mask applied along the wrong axis gives numbers, not a shape error
        problem = make_problem(spec, 5, 5, True, [5, 1, 3, 2, 4], seed=4)
        failures += [f"{label}: {line}" for line in mismatching(
            adapter.forward(problem), problem.reference(), forward_tolerance(framework, "float32", True),
            problem.output_mask())]
    assert not failures, "\n".join(failures)


def _gradient_mismatches(adapter, framework, spec, batch, steps, lengths):
    """Gradients with lengths against the reference; the output gradient is zero at padded steps."""
    problem = make_problem(spec, batch, steps, True, lengths, seed=7)
    up = random_upstream(spec, batch, steps, seed=10)
    up = up.replace(output=np.where(problem.output_mask(), up.output, 0.0))
    expected = reference_gradients(problem, up).fields()
    actual = adapter.gradients(adapter.build(spec, problem.weights), problem, up).fields()
    tol = gradient_tolerance(framework, spec.dtype, padded=True)
    bad = mismatches([field_figures(k, actual.get(k, np.empty(0)), v, tol) for k, v in expected.items()])
    return bad + ([f"gradients {sorted(actual)} != {sorted(expected)}"] if actual.keys() != expected.keys() else [])


@pytest.mark.parametrize("framework", KERAS)
def test_keras_gradients_with_lengths_go_backwards_and_other_activations(framework):
    adapter = adapter_or_skip(framework)
    failures = []
    for label, fields in keras_specs(framework).items():
        spec = LSTMSpec(**{"input_size": 3, "hidden_size": 4, **fields})
        failures += [f"{label}: {line}" for line in _gradient_mismatches(adapter, framework, spec, 4, 4, [4, 1, 3, 2])]
    assert not failures, "\n".join(failures)


PROJ = {
    "bi-bf-L2": dict(num_layers=2, bidirectional=True),
    "bi-tm-L1-nobias": dict(bidirectional=True, batch_first=False, bias=False),
    "uni-tm-L3": dict(num_layers=3, batch_first=False),
}


@pytest.mark.torch
@pytest.mark.parametrize("label", list(PROJ))
def test_projection_with_lengths_both_directions_against_torch(label):
    adapter = adapter_or_skip("torch")
    spec = LSTMSpec(**{"input_size": 3, "hidden_size": 5, "proj_size": 2, **PROJ[label]})
    # long enough that lengths are not exact float ratios of the sequence: 30/53 and 15/53 are not in float32
    problem = make_problem(spec, 4, 53, True, [53, 1, 30, 15], seed=3)
    bad = mismatching(adapter.forward(problem), problem.reference(), forward_tolerance("torch", "float32", True),
                      problem.output_mask())
    assert not bad, "\n".join(bad)
    assert not _gradient_mismatches(adapter, "torch", spec, 3, 6, [6, 2, 5])


@pytest.mark.torch
def test_projection_with_go_backwards_and_lengths_against_torch_per_sample():
    """No framework has both: the user's recipe for go_backwards (flip each sample's real steps, run, and
    put the padding first) on PyTorch's projection, one sample at a time."""
    adapter = adapter_or_skip("torch")
    spec = LSTMSpec(input_size=3, hidden_size=5, proj_size=2, num_layers=2, go_backwards=True)
    plain = spec.replace(go_backwards=False)
    steps, lengths = 6, [6, 2, 4]
    problem = make_problem(spec, 3, steps, True, lengths, seed=3)
    ref = problem.reference()
    x, state = problem.x, problem.initial_state
    tol = forward_tolerance("torch", "float32", False)
    for b, n in enumerate(lengths):
        one = adapter.forward(Problem(plain, problem.weights, np.ascontiguousarray(x[b : b + 1, :n][:, ::-1]),
                                      tuple(s[:, b : b + 1] for s in state)))
        assert not mismatches([field_figures("output", one.output[0], ref.output[b, steps - n :], tol),
                               field_figures("h_n", one.h_n, ref.h_n[:, b : b + 1], tol),
                               field_figures("c_n", one.c_n, ref.c_n[:, b : b + 1], tol)])
        assert np.all(ref.output[b, : steps - n] == 0)


def test_combinations_no_framework_computes_are_refused_by_the_spec():
    with pytest.raises(SpecError, match="proj_size"):
        LSTMSpec.parse({"input_size": 3, "hidden_size": 5, "proj_size": 2, "activation": "relu"})
    with pytest.raises(SpecError, match="proj_size"):
        LSTMSpec.parse({"input_size": 3, "hidden_size": 5, "proj_size": 2, "recurrent_activation": "hard_sigmoid"})
    with pytest.raises(SpecError, match="go_backwards"):
        LSTMSpec.parse({"input_size": 3, "hidden_size": 5, "go_backwards": True, "bidirectional": True})
