"""Generated configurations: every framework against the reference on problems hypothesis draws.

Sizes, layer counts, directions, layout, bias, padded lengths, initial states and input scales vary.
Padded output steps are excluded (frameworks differ there by design; the padding cases record how);
real steps and final states must match. A shrunk failure prints a snippet that reproduces it.
"""

import pytest
from hypothesis import given, note, target
from support import adapter_or_skip, framework_params

from mapping.compare import compare_results, mismatches
from mapping.generated import problems
from mapping.tolerances import forward_tolerance

FRAMEWORKS = framework_params()


@pytest.mark.parametrize("framework", FRAMEWORKS)
@given(drawn=problems(dtypes=("float32",)))
def test_generated_problems_match_reference(framework, drawn):
    adapter = adapter_or_skip(framework)
    if adapter.unsupported_reason(drawn.spec):
        return
    note("reproduce with:\n" + drawn.snippet(framework))
    problem = drawn.problem()
    figures = compare_results(adapter.forward(problem), problem.reference(),
                              forward_tolerance(framework, "float32", problem.lengths is not None),
                              problem.output_mask())
    # steer the search toward the largest errors; --hypothesis-show-statistics prints the highest seen
    target(max(f.max_abs for f in figures), label=f"max abs error ({framework})")
    bad = mismatches(figures)
    assert not bad, "\n".join(bad)
