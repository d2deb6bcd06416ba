"""Generated configurations: every framework against the reference on problems hypothesis draws.

Sizes, layer counts, directions, layout, bias, padded lengths, initial states and input scales vary.
Padded output steps are excluded (frameworks differ there by design; the padding cases record how);
real steps and final states must match. A shrunk failure prints a snippet that reproduces it.
"""

import pytest
from hypothesis import given, note, target

from mapping.compare import compare_results, mismatches, output_valid_mask
from mapping.generated import problems
from mapping.reference import reference_lstm
from mapping.tolerances import forward_tolerance
from support import adapter_or_skip, framework_params

FRAMEWORKS = framework_params()


@pytest.mark.parametrize("framework", FRAMEWORKS)
@given(problem=problems(dtypes=("float32",)))
def test_generated_problems_match_reference(framework, problem):
    adapter = adapter_or_skip(framework)
    if adapter.unsupported_reason(problem.spec):
        return
    note("reproduce with:\n" + problem.snippet(framework))
    weights, x, state, lengths = problem.arrays()
    got = adapter.forward(problem.spec, weights, x, state, lengths)
    ref = reference_lstm(problem.spec, weights, x, state, lengths)
    select = output_valid_mask(problem.spec.batch_first, lengths, problem.batch, problem.steps)
    figures = compare_results(got, ref, forward_tolerance(framework, "float32", lengths is not None), select)
    # steer the search toward the largest errors; --hypothesis-show-statistics prints the highest seen
    target(max(f.max_abs for f in figures), label=f"max abs error ({framework})")
    bad = mismatches(figures)
    assert not bad, "\n".join(bad)
