"""Comparing a framework's result with the reference: figures for the report, assertions for the tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .outputs import LSTMResult


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

    def as_dict(self) -> dict:
        return {
            "field": self.field,
            "shape_actual": list(self.shape_actual),
            "shape_expected": list(self.shape_expected),
            "max_abs": self.max_abs,
            "max_rel": self.max_rel,
            "within": self.within,
        }


def field_figures(
    name: str, actual: np.ndarray, expected: np.ndarray, tol: float, select: np.ndarray | None = None
) -> FieldFigures:
    """Errors of ``actual`` against ``expected``; ``select`` (a boolean mask) limits which elements count.

    An element is within tolerance when ``|a - e| <= tol * (1 + |e|)`` (absolute near zero, relative for
    large values), the same test as ``numpy.testing.assert_allclose(rtol=tol, atol=tol)``.
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
    ok = diff <= tol * (1.0 + np.abs(expected))
    if select is not None:
        within = float(ok[select].mean()) if select.any() else 1.0
    else:
        within = float(ok.mean())
    diff = np.where(np.isnan(diff), np.inf, diff)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
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
    actual: LSTMResult, expected: LSTMResult, tol: float, output_select: np.ndarray | None = None
) -> list[FieldFigures]:
    """Figures for output, h_n and c_n. ``output_select`` restricts the output comparison (e.g. real steps)."""
    return [
        field_figures("output", actual.output, expected.output, tol, output_select),
        field_figures("h_n", actual.h_n, expected.h_n, tol),
        field_figures("c_n", actual.c_n, expected.c_n, tol),
    ]


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


def output_valid_mask(batch_first: bool, lengths: np.ndarray | None, batch: int, steps: int) -> np.ndarray | None:
    """Boolean mask over the output's (batch, time) or (time, batch) axes, True at real steps."""
    if lengths is None:
        return None
    valid = np.arange(steps)[:, None] < np.asarray(lengths)[None, :]  # (time, batch)
    valid = valid.T if batch_first else valid
    return valid[..., None]
