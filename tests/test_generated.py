"""Generated configurations: every framework against the reference on problems hypothesis draws, for every API.

Sizes, layer counts, directions, layout, bias, padded lengths, initial states and input scales vary (and GRU's
reset_after, the RNN's nonlinearity). Padded output steps are excluded (frameworks differ there by design; the
padding cases record how); real steps and final states must match. A shrunk failure prints a snippet that
reproduces it.

LSTM draws the profile's number of examples (``ci``: 100, ``nightly``: 2,000 per framework); GRU and RNN a quarter
of it, each cell a tenth (``ci``: 25 and 10, ``nightly``: 500 and 200), to keep the default run short.
"""

import pytest
from hypothesis import given, note, settings, target
from support import adapter_or_skip, framework_params

from mapping.compare import compare_results, mismatches
from mapping.generated import problems
from mapping.ops import APIS
from mapping.tolerances import forward_tolerance

FRAMEWORKS = framework_params()
#: The share of the profile's examples each API draws.
SHARE = {"lstm": 1, "gru": 4, "rnn": 4, "lstm_cell": 10, "gru_cell": 10, "rnn_cell": 10}


def _check(framework, drawn):
    adapter = adapter_or_skip(framework)
    if adapter.unsupported_reason(drawn.spec):
        return
    note("reproduce with:\n" + drawn.snippet(framework))
    problem = drawn.problem()
    figures = compare_results(adapter.forward(problem), problem.reference(),
                              forward_tolerance(framework, "float32", problem.lengths is not None, drawn.spec.api),
                              problem.output_mask())
    # steer the search toward the largest errors; --hypothesis-show-statistics prints the highest seen
    target(max(f.max_abs for f in figures), label=f"max abs error ({framework} {drawn.spec.api})")
    bad = mismatches(figures)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@given(drawn=problems(dtypes=("float32",)))
def test_generated_problems_match_reference(framework, drawn):
    _check(framework, drawn)


def _for_api(api):
    @settings(max_examples=max(1, settings.default.max_examples // SHARE[api]))
    @given(drawn=problems(dtypes=("float32",), op=api))
    def run(framework, drawn):
        _check(framework, drawn)

    return run


_RUNS = {api: _for_api(api) for api in APIS if api != "lstm"}


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("api", list(_RUNS))
def test_generated_problems_of_every_other_api_match_reference(framework, api):
    _RUNS[api](framework)
