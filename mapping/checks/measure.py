"""Collecting comparisons into figures and a verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..compare import FieldFigures, field_figures, mismatches
from ..problem import Problem, RunResult
from ..tolerances import tolerance
from ..verdicts import Verdict


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

    def compare(self, label: str, actual, expected, select: np.ndarray | None = None, *,
                problem: Problem | None = None) -> bool:
        """Compare arrays or results; returns True when within tolerance.

        ``problem`` (what ``expected`` was computed from) is optional; when given, ``actual`` is a
        :class:`RunResult` and the comparison fails, a diagnosis is added.
        """
        if isinstance(actual, RunResult):
            got = actual.fields()
            pairs = [(f"{label} {k}", got.get(k, np.empty(0)), ref, select if k == "output" else None)
                     for k, ref in expected.fields().items()]
        else:
            pairs = [(label, actual, expected, select)]
        ok = True
        for name, a, e, sel in pairs:
            figs = field_figures(name, a, e, self.tol, sel)
            self.figures.append((name, figs))
            bad = mismatches([figs])
            if bad:
                ok = False
                self.failed_labels.append(name)
                self.details.append("; ".join(bad))
        if not ok and problem is not None and isinstance(actual, RunResult):
            self._diagnose(label, problem, actual)
        return ok

    def _diagnose(self, label: str, problem: Problem, actual: RunResult) -> None:
        from ..diagnose import diagnose

        try:
            self.diagnoses.append(f"{label}: {diagnose(problem, actual, self.tol).line()}")
        except Exception as exc:  # noqa: BLE001 - a diagnosis must never turn a measured verdict into an error
            self.diagnoses.append(f"{label}: (diagnosis failed: {type(exc).__name__}: {exc})")

    def differs(self, label: str, a, b, *, at_least: float = 1e-3) -> bool:
        """True when ``a`` and ``b`` differ by more than ``at_least`` somewhere (an effect is visible)."""
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        gap = float(np.abs(a - b).max()) if a.shape == b.shape else np.inf
        self.details.append(f"{label}: max difference {gap:.3g}")
        return gap > at_least

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
        )
