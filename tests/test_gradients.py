"""Every installed framework's gradients against the float64 analytic reference (mapping/reference/backward.py).

One test item per framework and spec over the forward grid (mapping/grid.py); each builds the model once
and differentiates the eight input variants (batch 1/3, steps 1/7, zero or given initial state). The
loss is ``sum(output * G_out) + sum(h_n * G_h) + sum(c_n * G_c)`` with seeded upstream arrays; every
gradient (x, h0, c0, every weight in the canonical layout) is compared with the reference. Tolerances
are the ``gradients:`` section of mapping/tolerances.yaml, each next to the error measured over this
grid by ``python -m mapping.measure_gradients``.
"""

import numpy as np
import pytest
from support import adapter_or_skip, framework_params

from mapping.adapters import missing_reason
from mapping.compare import field_figures, mismatches
from mapping.measure_gradients import gradient_pairs
from mapping.ops.lstm import LSTMSpec
from mapping.problem import Problem
from mapping.reference import random_upstream, reference_gradients
from mapping.tolerances import gradient_tolerance
from mapping.weights import random_inputs, random_state, random_weights


@pytest.fixture(scope="module", autouse=True)
def _torch_single_thread():
    """PyTorch on one thread while these tests run: on a shared 2-core machine its default two threads
    spin-wait for each other and the torch items took 87 s instead of ~2 s (gradients identical)."""
    if missing_reason("torch"):
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


FRAMEWORKS = framework_params()


def test_gradients_over_grid_against_reference(framework, grid_spec):
    spec = grid_spec
    adapter = adapter_or_skip(framework)
    reason = adapter.unsupported_reason(spec)
    if reason:
        pytest.skip(reason)
    tol = gradient_tolerance(framework, spec.dtype, op=spec.api)
    failures = []
    for label, name, actual, expected in gradient_pairs(adapter, spec):
        failures += [f"{label}: {line}" for line in mismatches([field_figures(name, actual, expected, tol)])]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_gradients_with_lengths(framework, bidirectional):
    """Right-padded batches through each framework's own mechanism (packed sequence, mask, seq_length).

    The output gradient is zero at padded steps, where frameworks differ in what they output (the
    reference outputs zeros; Keras repeats the last output); everything else counts, including the
    zero gradient of padded input steps.
    """
    adapter = adapter_or_skip(framework)
    spec = LSTMSpec(input_size=3, hidden_size=4, num_layers=2, bidirectional=bidirectional)
    lengths = np.array([6, 1, 4])
    problem = Problem(spec, random_weights(spec), random_inputs(spec, 3, 6), random_state(spec, 3), lengths)
    upstream = random_upstream(spec, 3, 6)
    padded = np.arange(6)[None, :] >= lengths[:, None]  # (batch, time)
    upstream = upstream.replace(output=np.where(padded[..., None], 0.0, upstream.output))
    expected = reference_gradients(problem, upstream).fields()
    actual = adapter.gradients(adapter.build(spec, problem.weights), problem, upstream).fields()
    tol = gradient_tolerance(framework, "float32", padded=True)
    figures = [field_figures(name, actual.get(name, np.empty(0)), ref, tol) for name, ref in expected.items()]
    assert not mismatches(figures), mismatches(figures)
    assert actual.keys() == expected.keys()


EXTRAS = {
    # beyond the grid, where a framework can express it (the others skip with their reason)
    "proj": dict(num_layers=2, bidirectional=True, hidden_size=5, proj_size=3),  # torch only
    # one layer: the Keras stack sets go_backwards on every layer, so with two or more layers the second
    # re-reverses the first's output, which the reference (one reversal of the input) does not do; the
    # forward outputs differ as much (0.05 on this size), so that is a stacking question, not a gradient one
    "go_backwards": dict(go_backwards=True),
    "relu-hard_sigmoid": dict(num_layers=2, activation="relu", recurrent_activation="hard_sigmoid"),  # Keras 3
    "relu-hard_sigmoid_legacy": dict(num_layers=2, activation="relu", recurrent_activation="hard_sigmoid_legacy"),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("extra", list(EXTRAS))
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_gradients_beyond_the_grid(framework, extra, dtype):
    adapter = adapter_or_skip(framework)
    spec = LSTMSpec(**{"input_size": 3, "hidden_size": 4, "batch_first": False, "dtype": dtype, **EXTRAS[extra]})
    reason = adapter.unsupported_reason(spec)
    if reason:
        pytest.skip(reason)
    problem = Problem(spec, random_weights(spec), random_inputs(spec, 3, 5), random_state(spec, 3))
    upstream = random_upstream(spec, 3, 5)
    expected = reference_gradients(problem, upstream).fields()
    actual = adapter.gradients(adapter.build(spec, problem.weights), problem, upstream).fields()
    tol = gradient_tolerance(framework, dtype)
    figures = [field_figures(name, actual.get(name, np.empty(0)), ref, tol) for name, ref in expected.items()]
    assert not mismatches(figures), mismatches(figures)
    assert actual.keys() == expected.keys()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_bias_gradients_in_canonical_layout(framework):
    """Both canonical bias gradients equal dL/d(b_ih + b_hh): for Keras's single bias that is its gradient."""
    adapter = adapter_or_skip(framework)
    spec = LSTMSpec(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, batch_first=False)
    weights, x = random_weights(spec), random_inputs(spec, 2, 3)
    grads = adapter.gradients(adapter.build(spec, weights), Problem(spec, weights, x), random_upstream(spec, 2, 3))
    assert grads.initial is None
    assert grads.x.shape == x.shape and grads.x.dtype == np.float64
    grads.weights.check_shapes()
    for key in weights.keys():
        np.testing.assert_allclose(grads.weights[key].b_ih, grads.weights[key].b_hh, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_gradients_reject_a_mis_shaped_upstream(framework):
    adapter = adapter_or_skip(framework)
    spec = LSTMSpec(input_size=3, hidden_size=4)
    weights, x = random_weights(spec), random_inputs(spec, 2, 3)
    wrong = random_upstream(spec.replace(batch_first=False), 2, 3)  # output gradient time-major
    with pytest.raises(ValueError, match="upstream gradient output"):
        adapter.gradients(adapter.build(spec, weights), Problem(spec, weights, x), wrong)
