"""Meta-tests of the comparison primitive: it must fail on every kind of wrong result it is there to catch.

The grid, lengths, generated and case tests all decide through ``mapping.compare`` (and
``mapping.checks.measure.Measurement``, which the checks use). If that primitive were lenient, every one
of those tests would pass on wrong numbers. So here it is fed results that are wrong in one known way
(one element out of tolerance in one field, a NaN, an infinity, a wrong shape, a bad padded step that
is or is not compared) and must report exactly that field. No framework is needed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping import compare
from mapping.checks.measure import Measurement
from mapping.problem import Problem, RunResult
from mapping.spec import LayerSpec
from mapping.verdicts import Verdict
from mapping.weights import random_weights

TOL = 1e-6
FIELDS = ("output", "h_n", "c_n")


def result(seed: int = 0, batch: int = 3, steps: int = 40, hidden: int = 4, layers: int = 2) -> RunResult:
    """A result-shaped triple of arrays; more than 100 elements per field, so that one bad element is < 1%."""
    rng = np.random.default_rng(seed)
    return RunResult(
        rng.uniform(-1, 1, (batch, steps, hidden)),
        {"h_n": rng.uniform(-1, 1, (layers, batch, 30)), "c_n": rng.uniform(-3, 3, (layers, batch, 30))},
    )


def triple(output, h_n, c_n) -> RunResult:
    return RunResult(output, {"h_n": h_n, "c_n": c_n})


def with_field(r: RunResult, name: str, array: np.ndarray) -> RunResult:
    return r.replace(**{name: array})


def output_valid_mask(batch_first: bool, lengths, batch: int, steps: int):
    """The real-steps mask of the output, as every comparison gets it: :meth:`Problem.output_mask`."""
    spec = LayerSpec.parse({"input_size": 1, "hidden_size": 1, "batch_first": batch_first})
    x = np.zeros((batch, steps, 1) if batch_first else (steps, batch, 1))
    return Problem(spec, random_weights(spec), x, lengths=lengths).output_mask()


def bad_fields(actual: RunResult, expected: RunResult, select=None) -> list[str]:
    """The fields ``mismatches`` reports, by name."""
    lines = compare.mismatches(compare.compare_results(actual, expected, TOL, select))
    return [line.split(":")[0] for line in lines]


def test_identical_results_pass():
    r = result()
    assert bad_fields(r, r) == []
    figures = compare.compare_results(r, r, TOL)
    assert [f.field for f in figures] == list(FIELDS)
    assert all(f.within == 1.0 and f.max_abs == 0.0 and f.shapes_match for f in figures)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_one_element_out_of_tolerance_in_one_field_is_caught(field, where):
    expected = result()
    arr = expected.fields()[field].copy()
    index = {"first": (0,) * arr.ndim, "middle": tuple(s // 2 for s in arr.shape),
             "last": tuple(s - 1 for s in arr.shape)}[where]
    # just over the tolerance at that element: |a - e| = 1.5 * tol * (1 + |e|)
    arr[index] += 1.5 * TOL * (1 + abs(arr[index]))
    actual = with_field(expected, field, arr)
    assert bad_fields(actual, expected) == [field]
    figures = {f.field: f for f in compare.compare_results(actual, expected, TOL)}
    assert figures[field].worst_index == index
    assert figures[field].within == pytest.approx(1 - 1 / arr.size)
    assert figures[field].within > 0.99  # one bad element in more than a hundred still fails


@pytest.mark.parametrize("field", FIELDS)
def test_an_error_just_inside_the_tolerance_passes(field):
    expected = result()
    arr = expected.fields()[field].copy()
    arr += 0.9 * TOL * (1 + np.abs(arr))
    assert bad_fields(with_field(expected, field, arr), expected) == []


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("side", ["actual", "expected"])
def test_nan_or_infinity_in_any_field_is_caught(field, value, side):
    clean = result()
    arr = clean.fields()[field].copy()
    arr.flat[7] = value
    dirty = with_field(clean, field, arr)
    actual, expected = (dirty, clean) if side == "actual" else (clean, dirty)
    assert bad_fields(actual, expected) == [field]
    f = {f.field: f for f in compare.compare_results(actual, expected, TOL)}[field]
    assert f.max_abs == np.inf and f.within < 1.0
    assert np.unravel_index(7, arr.shape) == f.worst_index


@pytest.mark.parametrize("field", FIELDS)
def test_a_shape_mismatch_is_caught_even_when_the_values_agree(field):
    expected = result()
    arr = expected.fields()[field]
    for wrong in (arr[..., :-1], arr[None], arr.reshape(-1), np.swapaxes(arr, 0, 1)):
        if wrong.shape == arr.shape:
            continue
        lines = compare.mismatches(compare.compare_results(with_field(expected, field, wrong), expected, TOL))
        assert lines == [f"{field}: shape {wrong.shape}, reference {arr.shape}"]


def test_an_empty_field_with_a_wrong_shape_is_caught():
    expected = result()
    assert bad_fields(with_field(expected, "c_n", np.empty(0)), expected) == ["c_n"]


@pytest.mark.parametrize("batch_first", [True, False])
def test_padded_steps_count_where_compared_and_only_there(batch_first):
    lengths = np.array([40, 3, 17])
    batch, steps = 3, 40
    expected = result(batch=batch, steps=steps)
    out = expected.output if batch_first else np.ascontiguousarray(expected.output.transpose(1, 0, 2))
    expected = with_field(expected, "output", out)
    select = output_valid_mask(batch_first, lengths, batch, steps)
    padded_step = (1, 3) if batch_first else (3, 1)  # sample 1, first padded step
    real_step = (1, 2) if batch_first else (2, 1)  # sample 1, last real step
    for step, caught_with_select in ((padded_step, False), (real_step, True)):
        wrong = out.copy()
        wrong[step + (0,)] += 0.5
        actual = with_field(expected, "output", wrong)
        assert bad_fields(actual, expected) == ["output"]  # compared everywhere: always caught
        assert bad_fields(actual, expected, select) == (["output"] if caught_with_select else [])
    # a NaN at a padded step is ignored when padded steps are not compared, and caught when they are
    wrong = out.copy()
    wrong[padded_step + (1,)] = np.nan
    assert bad_fields(with_field(expected, "output", wrong), expected, select) == []
    assert bad_fields(with_field(expected, "output", wrong), expected) == ["output"]


@pytest.mark.parametrize("batch_first", [True, False])
def test_real_steps_mask_is_exact(batch_first):
    lengths = np.array([5, 1, 3, 4])
    mask = output_valid_mask(batch_first, lengths, 4, 5)
    by_hand = np.array([[1, 1, 1, 1, 1],
                        [1, 0, 0, 0, 0],
                        [1, 1, 1, 0, 0],
                        [1, 1, 1, 1, 0]], dtype=bool)  # (batch, time)
    expected = by_hand if batch_first else by_hand.T
    assert mask.dtype == bool and mask.shape == expected.shape + (1,)
    np.testing.assert_array_equal(mask[..., 0], expected)
    assert output_valid_mask(batch_first, None, 4, 5) is None


@given(lengths=st.lists(st.integers(1, 60), min_size=1, max_size=6), batch_first=st.booleans())
def test_real_steps_mask_counts_each_samples_length(lengths, batch_first):
    steps = max(lengths)
    mask = output_valid_mask(batch_first, np.array(lengths), len(lengths), steps)[..., 0]
    per_sample = mask if batch_first else mask.T  # (batch, time)
    assert per_sample.sum(axis=1).tolist() == lengths
    for b, n in enumerate(lengths):  # right padding: the real steps are the first n
        assert per_sample[b, :n].all() and not per_sample[b, n:].any()


@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    seed=st.integers(0, 2**16),
    factor=st.floats(1.01, 1e6),
    field=st.sampled_from(FIELDS),
)
def test_any_single_element_beyond_tolerance_fails_and_scaled_noise_within_passes(shape, seed, factor, field):
    rng = np.random.default_rng(seed)
    expected = triple(*(rng.uniform(-5, 5, shape) for _ in FIELDS))
    arr = expected.fields()[field]
    index = tuple(int(rng.integers(0, s)) for s in shape)
    wrong = arr.copy()
    wrong[index] += rng.choice([-1, 1]) * factor * TOL * (1 + abs(arr[index]))
    assert bad_fields(with_field(expected, field, wrong), expected) == [field]
    close = arr + rng.uniform(-0.99, 0.99, shape) * TOL * (1 + np.abs(arr))
    assert bad_fields(with_field(expected, field, close), expected) == []


def test_relative_and_absolute_figures():
    expected = np.array([0.0, 2.0, -4.0])
    actual = np.array([1e-3, 2.0, -4.002])
    f = compare.field_figures("x", actual, expected, TOL)
    assert f.max_abs == pytest.approx(2e-3)
    assert f.max_rel == pytest.approx(max(1e-3 / np.finfo(float).tiny, 2e-3 / 4))
    assert f.within == pytest.approx(1 / 3) and f.worst_index == (2,)


# --- Measurement: what the checks decide with --------------------------------------------------------------


@pytest.mark.parametrize("field", FIELDS)
def test_measurement_fails_on_one_bad_field_of_a_result(field):
    expected = result()
    arr = expected.fields()[field].copy()
    arr.flat[-1] += 1e-3
    m = Measurement("torch", tol=TOL)
    assert m.compare("case", with_field(expected, field, arr), expected) is False
    assert not m.ok and m.failed_labels == [f"case {field}"]
    outcome = m.outcome(Verdict.DIVERGES)
    assert outcome.within < 1.0 and outcome.max_abs == pytest.approx(1e-3)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_measurement_fails_on_a_non_finite_array(value):
    expected = np.linspace(-1, 1, 200)
    actual = expected.copy()
    actual[100] = value
    m = Measurement("torch", tol=TOL)
    assert m.compare("array", actual, expected) is False and not m.ok
    assert m.outcome(Verdict.EQUIVALENT).max_abs == np.inf  # no finite figure: the worst is reported as inf


def test_measurement_select_applies_to_the_output_only():
    expected = result(steps=4)
    select = output_valid_mask(True, np.array([4, 2, 1]), 3, 4)
    out = expected.output.copy()
    out[1, 3] += 1.0  # padded step: ignored
    m = Measurement("torch", tol=TOL)
    assert m.compare("padded", with_field(expected, "output", out), expected, select) is True and m.ok
    c = expected.c_n.copy()
    c[0, 1, 0] += 1.0  # the final state has no padded part: always compared
    assert m.compare("state", with_field(expected, "c_n", c), expected, select) is False
    assert m.failed_labels == ["state c_n"]


def test_measurement_ok_turns_false_after_one_failure_among_many():
    m = Measurement("torch", tol=TOL)
    a = np.ones(10)
    for k in range(5):
        assert m.compare(f"same {k}", a, a)
    assert m.ok
    assert not m.compare("different", a, a + 1)
    for k in range(5):
        assert m.compare(f"same again {k}", a, a)
    assert not m.ok and m.outcome(Verdict.DIVERGES).within == 0.0


def test_measurement_differs_and_expect():
    m = Measurement("torch", tol=TOL)
    assert m.differs("visible", np.zeros(3), np.array([0, 0, 2e-3]))
    assert not m.differs("invisible", np.zeros(3), np.array([0, 0, 5e-4]))
    assert m.differs("shape", np.zeros(3), np.zeros(4))
    assert m.expect(True, "never recorded") and m.problems == []
    assert not m.expect(False, "recorded")
    assert m.outcome(Verdict.EQUIVALENT).problems == ["recorded"]


# --- the figures themselves (what the report prints next to a verdict) -------------------------------------


def test_figures_of_a_shape_mismatch_and_of_empty_fields():
    wrong = compare.field_figures("h_n", np.zeros((2, 3)), np.zeros((3, 2)), TOL)
    assert wrong == compare.FieldFigures("h_n", (2, 3), (3, 2), np.inf, np.inf, 0.0, None, max_scaled=np.inf)
    empty = compare.field_figures("c_n", np.zeros((0, 3)), np.zeros((0, 3)), TOL)
    assert empty == compare.FieldFigures("c_n", (0, 3), (0, 3), 0.0, 0.0, 1.0, None)


def test_an_error_exactly_at_the_tolerance_passes():
    assert compare.field_figures("x", np.array([TOL, 0.0]), np.zeros(2), TOL).within == 1.0


def test_figures_with_a_selection():
    expected = np.zeros((2, 3, 1))
    actual = expected.copy()
    actual[1, 2, 0] = 5.0  # unselected
    actual[0, 1, 0] = 2e-3  # selected
    select = output_valid_mask(True, np.array([3, 2]), 2, 3)
    f = compare.field_figures("output", actual, expected, TOL, select)
    assert f.max_abs == pytest.approx(2e-3) and f.worst_index == (0, 1, 0) and f.within == pytest.approx(4 / 5)
    nothing = compare.field_figures("output", actual, expected, TOL, np.zeros_like(select))
    assert nothing.within == 1.0 and nothing.max_abs == 0.0


def test_identical_fields_have_zero_relative_error():
    f = compare.field_figures("x", np.ones(4), np.ones(4), TOL)
    assert (f.max_abs, f.max_rel, f.within, f.worst_index) == (0.0, 0.0, 1.0, (0,))
    assert dataclasses.asdict(f) == {"field": "x", "shape_actual": (4,), "shape_expected": (4,), "max_abs": 0.0,
                                     "max_rel": 0.0, "within": 1.0, "worst_index": (0,), "max_scaled": 0.0}


def test_mismatch_line_says_how_much_is_out_of_tolerance():
    expected = np.zeros(8)
    actual = expected.copy()
    actual[:2] = 1.0
    (line,) = compare.mismatches([compare.field_figures("h_n", actual, expected, TOL)])
    assert line == "h_n: max abs error 1 at index (0,), 25.0% of elements out of tolerance"


def test_measurement_uses_the_tolerance_it_is_given_and_reports_it():
    m = Measurement("torch", tol=0.5)
    assert m.tol == 0.5 and m.compare("loose", np.zeros(3), np.full(3, 0.4))
    strict = Measurement("torch")  # the framework's own tolerance from tolerances.yaml
    assert strict.tol == 1e-6 and not strict.compare("strict", np.zeros(3), np.full(3, 0.4))
    outcome = strict.outcome(Verdict.DIVERGES)
    assert outcome.tolerance == 1e-6 and outcome.max_rel == pytest.approx(1.0) and outcome.max_abs == pytest.approx(0.4)
    assert outcome.diagnoses == [] and outcome.details == strict.details


def test_an_outcome_without_comparisons_has_no_figures():
    outcome = Measurement("torch").outcome(Verdict.NO_COUNTERPART)
    assert outcome.max_abs is None and outcome.max_rel is None and outcome.within is None


def test_differs_needs_more_than_the_threshold():
    m = Measurement("torch")
    assert not m.differs("exactly at the threshold", np.zeros(2), np.array([0.0, 2.0**-10]), at_least=2.0**-10)
    assert m.differs("just above", np.zeros(2), np.array([0.0, 2.0**-10 + 2.0**-30]), at_least=2.0**-10)


def test_measurement_diagnoses_a_failed_comparison_when_given_the_problem():
    from mapping.weights import random_inputs

    spec = LayerSpec.parse({"input_size": 2, "hidden_size": 3})
    problem = Problem(spec, random_weights(spec), random_inputs(spec, 2, 4))
    ref = problem.reference()
    m = Measurement("torch")
    assert m.compare("same", ref, ref, problem=problem) and m.diagnoses == []
    wrong = triple(ref.output.copy(), ref.c_n, ref.h_n)  # h and c swapped
    assert not m.compare("swapped", wrong, ref, problem=problem)
    assert len(m.diagnoses) == 1 and m.diagnoses[0].startswith("swapped: ")
    assert "diagnosis failed" not in m.diagnoses[0] and "h and c are swapped" in m.diagnoses[0]
    assert m.outcome(Verdict.DIVERGES).diagnoses == m.diagnoses
    plain = Measurement("torch")
    assert not plain.compare("no problem given", wrong, ref) and plain.diagnoses == []


def test_the_figures_reported_are_what_they_say():
    """The report shows ``max_scaled`` as the figure that decided a row (``|a - e| / (1 + |e|)``, the quantity the
    tolerance bounds), beside max abs, max rel and the worst element: each computed by hand here. (Mutation testing
    found that nothing checked ``max_scaled`` itself: dividing by 2 + |e|, or multiplying, went unnoticed.)"""
    expected = np.array([[1.0, -3.0], [4.0, 2.0]])
    actual = np.array([[1.5, -3.0], [4.25, 2.0]])
    f = compare.field_figures("output", actual, expected, tol=0.2)
    assert f.max_abs == 0.5 and f.max_rel == 0.5 and f.worst_index == (0, 0)
    assert f.max_scaled == 0.25  # 0.5 / (1 + 1) beats 0.25 / (1 + 4)
    assert f.within == 0.75  # 0.5 > 0.2 * 2; 0.25 <= 0.2 * 5
    # both sides infinite: |inf - inf| is NaN, which counts as infinitely far, never as NaN or zero
    with np.errstate(invalid="ignore"):
        both_infinite = compare.field_figures("c_n", np.array([np.inf]), np.array([np.inf]), 1e-6)
    assert both_infinite.max_scaled == np.inf


def test_the_comparison_is_carried_out_in_float64_whatever_the_dtypes_handed_in():
    """A float16 reference value of 2048 makes the bound tol * (1 + 2048) = 2049 in float64; computed in float16,
    1 + 2048 rounds back to 2048 and an element exactly at the bound would fail."""
    expected = np.array([2048.0], dtype=np.float16)
    actual = np.array([4097.0])
    assert compare.within_tolerance(actual, expected, 1.0).tolist() == [True]
    assert compare.field_figures("output", actual, expected, 1.0).max_scaled == 1.0


def test_the_deciding_figure_is_the_comparison_the_verdict_hangs_on():
    """What the report shows as the figure that decided (``Outcome.deciding``), field by field: the first failing
    comparison, else the worst of those that passed (named as such), else a comparison or effect a check marked.
    (Mutation testing found the framework-free tests never read it: blanking any field went unnoticed.)"""
    from mapping.checks.measure import REFERENCE, TOLERANCE_TEST, Deciding

    e = np.array([1.0, 3.0])
    small, large, wrong = np.array([1.0 + 2e-7, 3.0]), np.array([1.0, 3.0 + 8e-7]), np.array([1.5, 3.0])
    m = Measurement("torch", tol=1e-6)
    assert m.compare("first", small, e) and m.compare("second", large, e)
    assert m.outcome(Verdict.EQUIVALENT).deciding == Deciding(
        "worst of 2 comparisons, second: largest |a − e| / (1 + |e|)", pytest.approx(2e-7), REFERENCE, 1e-6,
        TOLERANCE_TEST, True)
    one = Measurement("torch", tol=1e-6)
    one.compare("only", small, e)
    assert one.outcome(Verdict.EQUIVALENT).deciding == Deciding(
        "only: largest |a − e| / (1 + |e|)", pytest.approx(1e-7), REFERENCE, 1e-6, TOLERANCE_TEST, True)
    assert not m.compare("bad", wrong, e, against="Keras") and not m.compare("worse", 2 * wrong, e)
    assert m.outcome(Verdict.DIVERGES).deciding == Deciding(
        "bad: largest |a − e| / (1 + |e|)", 0.25, "Keras", 1e-6, TOLERANCE_TEST, False)
    marked = Measurement("torch", tol=1e-6)
    marked.compare("worse", 2 * wrong, e)
    marked.compare("marked", large, e, decide=True)
    assert marked.outcome(Verdict.EQUIVALENT).deciding.label == "marked: largest |a − e| / (1 + |e|)"
    effect = Measurement("torch", tol=1e-6)
    assert effect.differs("dropout", np.zeros(2), np.array([0.0, 0.5]), at_least=0.1, decide=True)
    assert effect.outcome(Verdict.DIVERGES).deciding == Deciding(
        "dropout: largest |difference|", 0.5, "the same run without it", 0.1,
        "an effect when the largest difference is above the threshold", True)
    assert not effect.differs("none", np.zeros(2), np.array([0.0, 0.1]), at_least=0.1, decide=True)
    assert effect.deciding.holds is False and effect.details[-1] == "none: max difference 0.1"
    unmarked = Measurement("torch", tol=1e-6)
    assert unmarked.differs("seen, not deciding", np.zeros(2), np.ones(2)) and unmarked.deciding is None
    infinite = Measurement("torch", tol=1e-6)
    infinite.decide("a shape mismatch", np.inf, compared_with="x")
    assert infinite.outcome(Verdict.DIVERGES).deciding == Deciding("a shape mismatch", None, "x")
    assert Measurement("torch", tol=1e-6).outcome(Verdict.EQUIVALENT).deciding is None
    assert Measurement("torch", tol=1e-6).outcome(Verdict.EQUIVALENT).recipes == []


def test_a_measurement_takes_the_tolerance_of_its_api():
    from mapping.tolerances import tolerance

    assert Measurement("mindspore", op="gru").tol == tolerance("mindspore", "float32", "gru") == 2e-4
    assert Measurement("mindspore").tol == tolerance("mindspore", "float32") == 1e-6
