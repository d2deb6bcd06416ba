"""Collecting comparisons into figures and a verdict, and marking the one figure that decided it.

A check runs several comparisons; the report shows first the one its verdict hangs on. A check marks it
(``compare(..., decide=True)``, ``differs(..., decide=True)``, or :meth:`Measurement.decide` for evidence
that is not a comparison); the last mark wins. Where nothing is marked, the first comparison out of
tolerance decides, else the worst one (the verdict then rests on every comparison passing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..compare import FieldFigures, field_figures, mismatches
from ..problem import Problem, RunResult
from ..tolerances import tolerance
from ..verdicts import Verdict

#: The one tolerance test (mapping.compare.within_tolerance), as the report states it.
TOLERANCE_TEST = "|a − e| ≤ tol · (1 + |e|) for every element"
#: What checks compare with unless they say otherwise.
REFERENCE = "the float64 NumPy reference"


@dataclass(frozen=True)
class Deciding:
    """The figure a verdict hangs on, with what it was compared with and the test that decided."""

    label: str
    value: float | None
    compared_with: str
    threshold: float | None = None
    test: str = ""
    holds: bool | None = None


@dataclass
class Outcome:
    """What a check measured on one framework."""

    verdict: Verdict
    details: list[str] = field(default_factory=list)
    max_abs: float | None = None
    max_rel: float | None = None
    within: float | None = None
    tolerance: float | None = None
    #: Recorded behaviour (in the case's arguments) that reality no longer matches. Non-empty fails the case
    #: even when the verdict happens to coincide.
    problems: list[str] = field(default_factory=list)
    #: For comparisons against the reference that failed and carried their problem: where the difference
    #: starts and what would explain it (see mapping.diagnose). Printed as "diagnosis:" lines.
    diagnoses: list[str] = field(default_factory=list)
    #: The figure that decided the verdict (see the module's docstring).
    deciding: Deciding | None = None
    #: Recipes the check executed itself (contract ``check``), for the results' RecipeRecords.
    recipes: list["ExecutedRecipe"] = field(default_factory=list)


@dataclass
class ExecutedRecipe:
    """A recipe function a check ran, and how it compared."""

    fn: object
    ok: bool
    max_abs: float | None
    compared_with: str


class Measurement:
    """Accumulates comparisons of one check against the reference.

    ``compare`` records the figures of one labelled comparison; ``ok`` tells whether all of them were
    within tolerance; ``outcome`` turns the lot into an :class:`Outcome`.
    """

    def __init__(self, framework: str, dtype: str = "float32", tol: float | None = None, op: str = "lstm"):
        self.framework = framework
        self.tol = tol if tol is not None else tolerance(framework, dtype, op)
        self.figures: list[tuple[str, FieldFigures]] = []
        self.details: list[str] = []
        self.problems: list[str] = []
        self.failed_labels: list[str] = []
        self.diagnoses: list[str] = []
        self.deciding: Deciding | None = None
        self._comparisons: list[Deciding] = []  # one per compare() call, for the default deciding figure
        self.recipes: list[ExecutedRecipe] = []

    def compare(self, label: str, actual, expected, select: np.ndarray | None = None, *,
                problem: Problem | None = None, decide: bool = False, against: str = REFERENCE) -> bool:
        """Compare arrays or results; returns True when within tolerance.

        ``problem`` (what ``expected`` was computed from) is optional; when given, ``actual`` is a
        :class:`RunResult` and the comparison fails, a diagnosis is added. ``decide`` marks this comparison as
        the one the verdict hangs on; ``against`` says what ``expected`` is, for the report.
        """
        if isinstance(actual, RunResult):
            got = actual.fields()
            pairs = [(f"{label} {k}", got.get(k, np.empty(0)), ref, select if k == "output" else None)
                     for k, ref in expected.fields().items()]
        else:
            pairs = [(label, actual, expected, select)]
        ok = True
        scaled = 0.0
        for name, a, e, sel in pairs:
            figs = field_figures(name, a, e, self.tol, sel)
            self.figures.append((name, figs))
            scaled = max(scaled, figs.max_scaled)
            bad = mismatches([figs])
            if bad:
                ok = False
                self.failed_labels.append(name)
                self.details.append("; ".join(bad))
        if not ok and problem is not None and isinstance(actual, RunResult):
            self._diagnose(label, problem, actual)
        figure = Deciding(f"{label}: largest |a − e| / (1 + |e|)", _finite(scaled), against, self.tol, TOLERANCE_TEST,
                          ok)
        self._comparisons.append(figure)
        if decide:
            self.deciding = figure
        return ok

    def _diagnose(self, label: str, problem: Problem, actual: RunResult) -> None:
        from ..diagnose import diagnose

        try:
            self.diagnoses.append(f"{label}: {diagnose(problem, actual, self.tol).line()}")
        except Exception as exc:  # noqa: BLE001 - a diagnosis must never turn a measured verdict into an error
            self.diagnoses.append(f"{label}: (diagnosis failed: {type(exc).__name__}: {exc})")

    def differs(self, label: str, a, b, *, at_least: float = 1e-3, decide: bool = False,
                against: str = "the same run without it") -> bool:
        """True when ``a`` and ``b`` differ by more than ``at_least`` somewhere (an effect is visible).
        ``decide`` marks this effect as the figure the verdict hangs on."""
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        gap = float(np.abs(a - b).max()) if a.shape == b.shape else np.inf
        self.details.append(f"{label}: max difference {gap:.3g}")
        if decide:
            self.decide(f"{label}: largest |difference|", gap, compared_with=against, threshold=at_least,
                        test="an effect when the largest difference is above the threshold", holds=gap > at_least)
        return gap > at_least

    def decide(self, label: str, value: float | None, *, compared_with: str, threshold: float | None = None,
               test: str = "", holds: bool | None = None) -> None:
        """Mark evidence that is not one comparison (a count, a statistic, an error raised) as deciding the verdict."""
        self.deciding = Deciding(label, _finite(value), compared_with, threshold, test, holds)

    def recipe(self, fn, *, ok: bool, max_abs: float | None, compared_with: str) -> None:
        """Record that the check executed the recipe function ``fn`` (a case shows it) and how it compared."""
        self.recipes.append(ExecutedRecipe(fn, ok, max_abs, compared_with))

    def note(self, text: str) -> None:
        self.details.append(text)

    def expect(self, condition: bool, problem: str) -> bool:
        """Record ``problem`` when a recorded behaviour no longer holds."""
        if not condition:
            self.problems.append(problem)
        return condition

    @property
    def ok(self) -> bool:
        return not self.failed_labels

    def outcome(self, verdict: Verdict) -> Outcome:
        compared = [f for _, f in self.figures if f.shapes_match]
        finite = [f.max_abs for f in compared if np.isfinite(f.max_abs)]
        return Outcome(
            verdict=verdict,
            details=self.details,
            max_abs=max(finite) if finite else (np.inf if self.figures else None),
            max_rel=max((f.max_rel for f in compared), default=None),
            within=min((f.within for _, f in self.figures), default=None),
            tolerance=self.tol,
            problems=self.problems,
            diagnoses=self.diagnoses,
            deciding=self.deciding or self._default_deciding(),
            recipes=self.recipes,
        )

    def _default_deciding(self) -> Deciding | None:
        """Unmarked: the first comparison out of tolerance, else the worst (every one had to pass)."""
        if not self._comparisons:
            return None
        failed = [c for c in self._comparisons if not c.holds]
        if failed:
            return failed[0]
        worst = max(self._comparisons, key=lambda c: np.inf if c.value is None else c.value)
        if len(self._comparisons) == 1:
            return worst
        return Deciding(f"worst of {len(self._comparisons)} comparisons, {worst.label}", worst.value,
                        worst.compared_with, worst.threshold, worst.test, True)


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None
