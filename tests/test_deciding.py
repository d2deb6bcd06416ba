"""The figure a verdict hangs on: what a check marks as deciding, what it falls back to, and the scaled error
that makes a comparison's figure agree with the tolerance test (``max rel`` alone does not)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from mapping.checks.dropout import deciding_test
from mapping.checks.measure import TOLERANCE_TEST, Measurement
from mapping.compare import field_figures, within_tolerance
from mapping.pytest_plugin import _suite_commit
from mapping.results import DecidingFigure
from mapping.verdicts import Verdict


@pytest.mark.parametrize("seed", range(20))
def test_scaled_error_is_within_tolerance_exactly_when_every_element_is(seed):
    rng = np.random.default_rng(seed)
    expected = rng.normal(size=(3, 5)) * 10.0 ** rng.integers(-8, 3)
    actual = expected + rng.normal(size=expected.shape) * 10.0 ** rng.integers(-9, -3)
    tol = 10.0 ** rng.integers(-8, -4)
    figures = field_figures("output", actual, expected, tol)
    assert (figures.max_scaled <= tol) == bool(within_tolerance(actual, expected, tol).all())


def test_max_rel_can_exceed_the_tolerance_while_every_element_passes():
    """The figure the old report showed as 'max rel' next to 'within 100%': near zero it is no measure of the test."""
    expected = np.array([1e-9, 1.0])
    actual = expected + 5e-7
    figures = field_figures("output", actual, expected, 1e-6)
    assert figures.within == 1.0 and figures.max_rel > 1e-6 and figures.max_scaled <= 1e-6


def test_scaled_error_of_nan_and_shape_mismatch_is_infinite():
    assert field_figures("o", np.array([np.nan, 1.0]), np.ones(2), 1e-6).max_scaled == np.inf
    assert field_figures("o", np.ones(3), np.ones(2), 1e-6).max_scaled == np.inf


def test_unmarked_single_comparison_decides_with_the_tolerance_applied():
    m = Measurement("torch", tol=1e-5)
    m.compare("output", np.ones(4) + 2e-6, np.ones(4))
    d = m.outcome(Verdict.EQUIVALENT).deciding
    assert d.value == pytest.approx(1e-6) and d.threshold == 1e-5 and d.holds is True
    assert d.test == TOLERANCE_TEST and "reference" in d.compared_with


def test_unmarked_failing_comparison_decides_over_later_passing_ones():
    m = Measurement("torch", tol=1e-5)
    m.compare("first", np.ones(2), np.ones(2))
    m.compare("second", np.ones(2) + 0.5, np.ones(2))
    m.compare("third", np.ones(2), np.ones(2))
    d = m.outcome(Verdict.DIVERGES).deciding
    assert d.label.startswith("second") and d.holds is False and d.value == pytest.approx(0.25)


def test_unmarked_passing_comparisons_report_the_worst():
    m = Measurement("torch", tol=1e-5)
    m.compare("small", np.ones(2) + 1e-7, np.ones(2))
    m.compare("large", np.ones(2) + 4e-6, np.ones(2))
    d = m.outcome(Verdict.EQUIVALENT).deciding
    assert "worst of 2" in d.label and "large" in d.label and d.holds is True


def test_a_marked_effect_decides_even_when_comparisons_ran():
    m = Measurement("tfkeras", tol=1e-6)
    m.compare("inference mode ignores dropout", np.ones(2), np.ones(2))
    m.differs("training vs no dropout", np.ones(2) + 0.3, np.ones(2), decide=True)
    d = m.outcome(Verdict.DIVERGES).deciding
    assert d.label.startswith("training vs no dropout") and d.value == pytest.approx(0.3)
    assert d.threshold == 1e-3 and d.holds is True


def test_deciding_figure_fits_the_results_schema():
    m = Measurement("torch", tol=1e-5)
    m.decide("an error raised", None, compared_with="the output its comments state", holds=False)
    record = DecidingFigure(**vars(m.outcome(Verdict.DIVERGES).deciding))
    assert record.value is None and record.holds is False


@pytest.mark.parametrize(("a", "b", "test"), [("inputs", "between_layers", "inputs"),
                                              ("recurrent", "between_layers", "recurrent"),
                                              ("none", "between_layers", "between_layers"), ("none", "none", None)])
def test_the_dropout_fingerprint_test_that_tells_two_behaviours_apart(a, b, test):
    assert deciding_test(a, b) == test == deciding_test(b, a)


def test_suite_commit_says_whether_tracked_files_changed(tmp_path):
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    git("init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    git("add", "a.txt")
    git("commit", "-q", "-m", "one")
    commit, dirty = _suite_commit(tmp_path)
    assert commit and dirty is False
    (tmp_path / "untracked.txt").write_text("not part of the suite\n")
    assert _suite_commit(tmp_path)[1] is False
    (tmp_path / "a.txt").write_text("two\n")
    assert _suite_commit(tmp_path) == (commit, True)
    assert _suite_commit(tmp_path / "no-such-folder") == (None, None)
