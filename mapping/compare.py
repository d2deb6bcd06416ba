"""Comparing a framework's result with the reference: the one tolerance test, figures for the report.

Every comparison in the harness goes through :func:`within_tolerance`: an element passes when
``|a - e| <= tol * (1 + |e|)`` (absolute near zero, relative for large values), the same test as
``numpy.testing.assert_allclose(rtol=tol, atol=tol)``, and the difference is finite: a NaN or an infinity
on either side never passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .problem import RunResult


@dataclass(frozen=True)
class FieldFigures:
    """How close one output field is: what the report shows per comparison."""

    field: str
    shape_actual: tuple[int, ...]
    shape_expected: tuple[int, ...]
    max_abs: float
    max_rel: float
    within: float  # fraction of elements within tolerance
    worst_index: tuple[int, ...] | None

    @property
    def shapes_match(self) -> bool:
        return self.shape_actual == self.shape_expected


def within_tolerance(actual, expected, tol: float) -> np.ndarray:
    """Boolean array, True where ``|actual - expected| <= tol * (1 + |expected|)`` and the difference is finite.

    A non-finite difference is never within: with an infinite reference value the bound ``tol * (1 + |e|)``
    is infinite too, and any actual value would pass.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.abs(a - e)
        return np.isfinite(diff) & (diff <= tol * (1.0 + np.abs(e)))


def field_figures(
    name: str, actual: np.ndarray, expected: np.ndarray, tol: float, select: np.ndarray | None = None
) -> FieldFigures:
    """Errors of ``actual`` against ``expected``; ``select`` (a boolean mask) limits which elements count.

    An element is within tolerance by :func:`within_tolerance`.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return FieldFigures(name, actual.shape, expected.shape, np.inf, np.inf, 0.0, None)
    diff = np.abs(actual - expected)
    if select is not None:
        select = np.broadcast_to(select, diff.shape)
        diff = np.where(select, diff, 0.0)
    if diff.size == 0:
        return FieldFigures(name, actual.shape, expected.shape, 0.0, 0.0, 1.0, None)
    ok = within_tolerance(actual, expected, tol)
    if select is not None:
        within = float(ok[select].mean()) if select.any() else 1.0
    else:
        within = float(ok.mean())
    diff = np.where(np.isnan(diff), np.inf, diff)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
    with np.errstate(invalid="ignore"):  # inf / inf where the reference itself is infinite
        rel = diff / np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    return FieldFigures(
        name,
        actual.shape,
        expected.shape,
        float(diff.max()),
        float(rel[diff > 0].max()) if (diff > 0).any() else 0.0,
        within,
        tuple(int(i) for i in worst),
    )


def compare_results(
    actual: RunResult, expected: RunResult, tol: float, output_select: np.ndarray | None = None
) -> list[FieldFigures]:
    """Figures for the output and every final state of ``expected``, in its order (output, h_n, c_n for LSTM).

    ``output_select`` restricts the output comparison (e.g. to real steps: :meth:`Problem.output_mask`); a
    field ``actual`` lacks counts as a shape mismatch.
    """
    got = actual.fields()
    return [field_figures(name, got.get(name, np.empty(0)), ref, tol, output_select if name == "output" else None)
            for name, ref in expected.fields().items()]


def mismatches(figures: list[FieldFigures]) -> list[str]:
    """One readable line per field that is out of tolerance or has the wrong shape."""
    lines = []
    for f in figures:
        if not f.shapes_match:
            lines.append(f"{f.field}: shape {f.shape_actual}, reference {f.shape_expected}")
        elif f.within < 1.0:
            lines.append(
                f"{f.field}: max abs error {f.max_abs:.3g} at index {f.worst_index}, "
                f"{100 * (1 - f.within):.1f}% of elements out of tolerance"
            )
    return lines
