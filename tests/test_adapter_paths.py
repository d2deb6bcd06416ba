"""Every adapter path both ways: weights in and out for every grid spec, gradients with lengths in both layouts,
and sequences long enough (50+ steps) that a length is not an exact float ratio of the sequence.

* Export: build from canonical weights, read them back with ``export_weights`` and compare EVERY tensor
  (w_ih, w_hh, both biases, w_hr) with what was put in, rounded to the spec's dtype: exactly, not within a
  tolerance. Keras keeps one bias (``mapping.converters``: b_ih + b_hh folded, b_hh read back as zero).
  Then import what was exported and export again: the same arrays.
* Gradients with per-sample lengths (LSTM, GRU and RNN), batch-first and time-major, uni- and bidirectional,
  on a square batch (batch == steps) so that a mask or lengths applied along the wrong axis give wrong numbers
  rather than a shape error.
* Forward and gradients on 53-step sequences with lengths.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import adapter_or_skip, framework_params

from mapping import frameworks
from mapping.compare import field_figures, mismatches
from mapping.grid import grid_specs, spec_id
from mapping.ops.lstm import LSTMSpec
from mapping.problem import Problem
from mapping.reference import random_upstream, reference_gradients
from mapping.spec import LayerSpec
from mapping.tolerances import forward_tolerance, gradient_tolerance
from mapping.weights import random_inputs, random_state, random_weights

FRAMEWORKS = framework_params()

#: Beyond the grid: projection (PyTorch only; the others skip it as unsupported).
EXTRA_SPECS = [
    LSTMSpec(input_size=4, hidden_size=5, proj_size=3, num_layers=2, bidirectional=True),
    LSTMSpec(input_size=4, hidden_size=5, proj_size=2, bias=False, dtype="float64"),
]


def one_bias(framework: str) -> bool:
    """Keras layers keep one bias: the converters fold b_ih + b_hh into it."""
    return frameworks.FRAMEWORKS[framework].family == "tensorflow"


def expected_export(framework: str, spec: LSTMSpec, weights) -> dict:
    """What export_weights must return per (layer, direction): the weights rounded to the spec's dtype."""
    def rounded(a):
        return None if a is None else np.asarray(a).astype(spec.dtype).astype(np.float64)

    out = {}
    for key in weights.keys():
        cell = weights[key]
        arrays = {"w_ih": rounded(cell.w_ih), "w_hh": rounded(cell.w_hh), "w_hr": rounded(cell.w_hr)}
        if cell.b_ih is None:
            arrays.update(b_ih=None, b_hh=None)
        elif one_bias(framework):  # the fold, computed in float64 and then rounded; b_hh reads back 0
            arrays.update(b_ih=rounded(cell.b_ih + cell.b_hh), b_hh=np.zeros_like(cell.b_hh))
        else:
            arrays.update(b_ih=rounded(cell.b_ih), b_hh=rounded(cell.b_hh))
        out[key] = arrays
    return out


def export_differences(framework, adapter, spec) -> list[str]:
    weights = random_weights(spec, seed=21)
    model = adapter.build(spec, weights)
    back = adapter.export_weights(model, spec)
    problems = []
    assert list(back.keys()) == list(weights.keys())
    for key, arrays in expected_export(framework, spec, weights).items():
        for name, want in arrays.items():
            got = getattr(back[key], name)
            if want is None or got is None:
                if not (want is None and got is None):
                    problems.append(f"{spec_id(spec)} {key} {name}: {'missing' if got is None else 'unexpected'}")
            elif got.shape != want.shape or not np.array_equal(got, want):
                problems.append(f"{spec_id(spec)} {key} {name}: differs from what was put in")
    # import what was exported, export again: the same arrays (Keras: the same fold)
    again = adapter.export_weights(adapter.build(spec, back), spec)
    if not again.allclose(back):
        problems.append(f"{spec_id(spec)}: export -> import -> export changed the weights")
    return problems


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_export_and_import_every_tensor_of_every_spec(framework):
    adapter = adapter_or_skip(framework)
    # The layout (batch_first) changes how inputs are fed, not the weights: one spec per other combination.
    specs = [s for s in grid_specs() + EXTRA_SPECS if adapter.unsupported_reason(s) is None and s.batch_first]
    assert len(specs) >= 12  # every float32 combination of the grid at least
    problems = [p for spec in specs for p in export_differences(framework, adapter, spec)]
    assert not problems, "\n".join(problems)


def gradient_failures(framework, spec, batch, steps, lengths, seed=0) -> list[str]:
    adapter = adapter_or_skip(framework)
    w = random_weights(spec, seed=seed)
    problem = Problem(spec, w, random_inputs(spec, batch, steps, seed=seed + 1),
                      random_state(spec, batch, seed=seed + 2), np.array(lengths))
    up = random_upstream(spec, batch, steps, seed=seed + 3)
    up = up.replace(output=np.where(problem.output_mask(), up.output, 0.0))  # frameworks differ at padded outputs
    expected = reference_gradients(problem, up).fields()
    actual = adapter.gradients(adapter.build(spec, w), problem, up).fields()
    tol = gradient_tolerance(framework, spec.dtype, padded=True, op=spec.api)
    failures = mismatches([field_figures(k, actual.get(k, np.empty(0)), v, tol) for k, v in expected.items()])
    if actual.keys() != expected.keys():
        failures.append(f"gradients of {sorted(actual)}, the reference has {sorted(expected)}")
    return failures


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("batch_first", [True, False], ids=["bf", "tm"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("op", ["lstm", "gru", "rnn"])
def test_gradients_with_lengths_in_both_layouts(framework, batch_first, bidirectional, op):
    spec = LayerSpec.parse(dict(op=op, input_size=3, hidden_size=4, num_layers=2, bidirectional=bidirectional,
                                batch_first=batch_first))
    failures = gradient_failures(framework, spec, 5, 5, [5, 2, 1, 4, 3])
    assert not failures, "\n".join(failures)


LONG = 53
LONG_LENGTHS = [53, 30, 1, 44, 15]  # 30/53 and 15/53 times 53 in float32 truncate to 29 and 14


def forward_failures(framework, problem) -> list[str]:
    got, ref = adapter_or_skip(framework).forward(problem), problem.reference()
    assert got.output.shape == ref.output.shape
    tol = forward_tolerance(framework, problem.spec.dtype, padded=True)
    select = problem.output_mask()
    return [line for name, want in ref.fields().items() for line in mismatches(
        [field_figures(name, got.fields()[name], want, tol, select if name == "output" else None)])]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("batch_first", [True, False], ids=["bf", "tm"])
def test_long_sequences_with_lengths(framework, batch_first):
    if framework == "mindspore" and not batch_first:
        pytest.skip("MindSpore's seq_length path runs a Python loop per step; one layout covers its integer lengths")
    adapter_or_skip(framework)
    failures = []
    # MindSpore's seq_length path is a Python loop over its ops (about 0.1 s a step and layer here): one
    # layer and direction there, where its lengths go in as integers; two layers both ways elsewhere.
    layers, directions = ((1, (False,)) if framework == "mindspore" else (2, (False, True)))
    for bidirectional in directions:
        spec = LSTMSpec(input_size=3, hidden_size=4, num_layers=layers, bidirectional=bidirectional,
                        batch_first=batch_first)
        problem = Problem(spec, random_weights(spec, seed=31), random_inputs(spec, 5, LONG, seed=32),
                          random_state(spec, 5, seed=33), np.array(LONG_LENGTHS))
        failures += [f"{'bi' if bidirectional else 'uni'}: {line}" for line in forward_failures(framework, problem)]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("framework", framework_params(("torch", "tfkeras", "keras2")))
def test_long_sequence_gradients_with_lengths(framework):
    """MindSpore is left out: its seq_length backward pass takes ~10 s here, and its lengths (integers, as
    given) are covered by the long forward test and the gradient tests with lengths above."""
    spec = LSTMSpec(input_size=2, hidden_size=3, bidirectional=True, batch_first=False)
    failures = gradient_failures(framework, spec, 5, LONG, LONG_LENGTHS, seed=40)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_sample_shorter_than_the_padded_sequence(framework):
    """No sample reaches the last step: the output must still cover every step (PyTorch's pad_packed_sequence
    needs total_length for that), with the real steps and final states of the reference."""
    spec = LSTMSpec(input_size=3, hidden_size=4, bidirectional=True, batch_first=False)
    problem = Problem(spec, random_weights(spec, seed=51), random_inputs(spec, 3, 6, seed=52), None,
                      np.array([4, 1, 2]))
    bad = forward_failures(framework, problem)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("framework", framework_params(("torch", "mindspore")))
def test_fixed_activations_refuse_any_other(framework):
    adapter = adapter_or_skip(framework)
    spec = LSTMSpec(input_size=3, hidden_size=4)
    assert adapter.unsupported_reason(spec) is None
    for fields in ({"activation": "relu"}, {"recurrent_activation": "hard_sigmoid"},
                   {"activation": "linear", "recurrent_activation": "tanh"}):
        assert adapter.unsupported_reason(spec.replace(**fields)), fields


def test_mindspore_error_stays_with_the_call_that_caused_it():
    """A layer that fails when called (PyTorch-ordered weights copied by position into a two-layer MindSpore LSTM:
    a bias takes a weight's shape) raises there, and nothing of that error is left for a later call: MindSpore's
    asynchronous PyNative pipeline now and then raised it a second time inside the next unrelated case (it failed
    a CI run). The adapter turns synchronous launches on; the loop shows the queue is empty after each failure."""
    adapter = adapter_or_skip("mindspore")
    from mindspore._c_expression import RuntimeConf
    from mindspore.common.api import _pynative_executor

    assert RuntimeConf.get_instance().is_launch_blocking()
    spec = LSTMSpec(input_size=4, hidden_size=4, num_layers=2, batch_first=True)
    problem = Problem(spec, random_weights(spec, seed=4), random_inputs(spec, 2, 3, seed=5), None, None)
    canonical = [a for key in problem.weights.keys() for a in problem.weights[key].arrays().values()]
    echoes = 0
    for seed in range(60):
        model = adapter.build(spec, random_weights(spec, seed=seed))
        adapter.assign_in_order(model, canonical)
        with pytest.raises(ValueError, match="broadcast"):
            adapter.run(model, problem)
        try:
            _pynative_executor.sync()
        except ValueError:
            echoes += 1
    assert echoes == 0
