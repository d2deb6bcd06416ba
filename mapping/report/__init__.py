"""The conformance report: merge the results files of several environments and render one HTML page.

``python -m mapping.report RESULTS.json [MORE.json | DIR ...] -o reports/conformance.html``
"""

from __future__ import annotations

from .merge import (
    MeasurementKey,
    MergedReport,
    ReportInputError,
    RowView,
    VerdictConsistency,
    VerdictKey,
    merge,
    read_results,
    verdict_consistency,
)
from .render import render, write_report

__all__ = [
    "MeasurementKey",
    "MergedReport",
    "ReportInputError",
    "RowView",
    "VerdictConsistency",
    "VerdictKey",
    "merge",
    "read_results",
    "render",
    "verdict_consistency",
    "write_report",
]
