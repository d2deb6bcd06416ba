"""Rendering a merged report as one self-contained HTML file.

The page must open from a mail attachment or a CI artifact with no network: all CSS and the small
filter script are inline, nothing is fetched. Everything that comes from case files or results is
escaped by Jinja2's autoescaping; the only unescaped insertion is the embedded JSON, which is made
safe for a ``<script>`` element by :func:`script_json`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .. import atomic, frameworks, versions
from ..results import PageRecord
from ..status import Status
from ..verdicts import Verdict
from .merge import NO_VERDICT, OUTCOMES, MergedReport, RowView, merge, read_results

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "conformance.html.j2"

#: Values the verdict filter offers: every verdict, plus NO_VERDICT.
VERDICT_FILTER_VALUES = [v.value for v in Verdict] + [NO_VERDICT]


def _finite(data: object) -> object:
    """NaN and infinities as strings: JSON has no literal for them and JSON.parse rejects Python's NaN."""
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(value) for value in data]
    return data


def script_json(data: object) -> Markup:
    """JSON that cannot end its ``<script>`` element early nor open a comment or CDATA section in it."""
    text = json.dumps(_finite(data), ensure_ascii=False, sort_keys=True, allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


def format_number(value: float | None) -> str:
    if value is None:
        return "—"
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.3g}"


def format_fraction(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.4g}%"


def web_address(address: str | None) -> str | None:
    """The address if it is an http(s) link; anything else (``javascript:``, a path) is shown as text only."""
    if address and address.lower().startswith(("http://", "https://")):
        return address
    return None


def verdict_label(verdict: str | None) -> str:
    return "no verdict" if verdict in (None, NO_VERDICT) else verdict.replace("_", " ")


@dataclass(frozen=True)
class FrameworkColumn:
    """One framework column of a page table, with the versions measured for it on that page."""

    framework: str
    versions: list[str]


@dataclass(frozen=True)
class PageView:
    id: str
    title: str
    record: PageRecord | None  # None when no results file described the page
    columns: list[FrameworkColumn]
    rows: list[RowView]
    rows_wrong: int
    rows_failed: int
    verdict_counts: dict[str, dict[str, int]]


def _page_views(merged: MergedReport) -> list[PageView]:
    rows_by_page: dict[str, list[RowView]] = {}
    for view in merged.rows():
        rows_by_page.setdefault(view.page, []).append(view)
    page_ids = list(merged.pages) + [p for p in rows_by_page if p not in merged.pages]
    pages = []
    for page_id in page_ids:
        rows = rows_by_page.get(page_id, [])
        columns = []
        for framework in merged.page_frameworks(page_id):
            measured = {m.result.framework_version for r in rows for m in r.measurements_for(framework)}
            measured_versions = [v or "not installed" for v in sorted(measured, key=versions.sort_key)]
            columns.append(FrameworkColumn(framework, measured_versions))
        record = merged.pages.get(page_id)
        pages.append(PageView(
            id=page_id,
            title=record.title if record else page_id,
            record=record,
            columns=columns,
            rows=rows,
            rows_wrong=sum(r.wrong for r in rows),
            rows_failed=sum(r.failed for r in rows),
            verdict_counts=merged.verdict_counts(page_id),
        ))
    return pages


def _is_mapping_page(merged: MergedReport, page_id: str) -> bool:
    record = merged.pages.get(page_id)
    return record is None or record.kind == "mapping_page"


def measurement_filter_tokens(row: RowView) -> str:
    """JSON [[framework, verdict or 'none', outcome], ...]: what the inline filter script matches.

    A plain string, so autoescaping quotes it for the attribute it goes in.
    """
    return json.dumps([[m.result.framework, m.result.measured_verdict or NO_VERDICT, m.result.outcome]
                       for m in row.measurements])


def row_anchors(rows: Iterable[RowView]) -> dict[tuple[str, str], str]:
    """A unique, URL-friendly element id per (page, row); row names may hold spaces or punctuation."""
    anchors: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    for row in rows:
        base = "row-" + re.sub(r"[^A-Za-z0-9_-]+", "-", f"{row.page}-{row.row}").strip("-")
        anchor, n = base, 2
        while anchor in taken:
            anchor, n = f"{base}-{n}", n + 1
        taken.add(anchor)
        anchors[(row.page, row.row)] = anchor
    return anchors


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(number=format_number, fraction=format_fraction, verdict_label=verdict_label,
                       web_address=web_address, script_json=script_json)
    env.globals.update(filter_tokens=measurement_filter_tokens)
    return env


def render(merged: MergedReport) -> str:
    """The whole report as one HTML document."""
    pages = _page_views(merged)
    rows = merged.rows()
    framework_names = sorted({c.framework for page in pages for c in page.columns}, key=frameworks.sort_key)
    summary = {
        "pages-total": len(pages),
        "rows-total": len(rows),
        "rows-declared": sum(p.record.rows for p in pages if p.record),
        # the vendors' pages only: a supplement (padding, dropout structure) measures behaviour no page claims
        "rows-wrong": sum(r.wrong for r in rows if _is_mapping_page(merged, r.page)),
        "rows-supplement": sum(not _is_mapping_page(merged, r.page) for r in rows),
        "rows-failed": sum(r.failed for r in rows),
        "rows-drift": sum(r.has_drift for r in rows),
        # the vendors' pages: the headline claim holds, and a measured caveat bites (mapping.status)
        "rows-caveats": sum(r.status == Status.HOLDS_WITH_CAVEATS for r in rows if _is_mapping_page(merged, r.page)),
        "caveats-total": sum(len(m.result.caveats) for r in rows for m in r.measurements),
        "recipes-executed": sum(x.executed for r in rows for m in r.measurements for x in m.result.recipes),
        "measurements-total": len(merged.measurements),
        "environments-total": len(merged.environments),
    }
    anchors = row_anchors(rows)
    template = _environment().get_template(TEMPLATE_NAME)
    return template.render(
        anchor_of=lambda row: anchors[(row.page, row.row)],
        merged=merged,
        pages=pages,
        summary=summary,
        outcomes=merged.outcome_counts(),
        outcome_names=OUTCOMES,
        verdict_names=VERDICT_FILTER_VALUES,
        frameworks=framework_names,
        drift_rows=[r for r in rows if r.has_drift],
        disagreement_rows=[r for r in rows if r.environment_disagreements()],
        data=merged.to_jsonable(),
    )


def write_report(results_paths: Iterable[Path | str], html_path: Path | str, *,
                 allow_incomplete: bool = False) -> Path:
    """Read results files (or directories of them), merge, render, and write the HTML; returns its path.

    The HTML is written atomically; an output path that is one of the inputs (or not an .html file) is
    refused before anything is read. Results of a run that did not complete are refused unless
    ``allow_incomplete``, and then flagged on the page.
    """
    results_paths = list(results_paths)
    html_path = atomic.refuse_overwriting(html_path, results_paths, suffixes=(".html", ".htm"), what="report")
    html = render(merge(read_results(results_paths, allow_incomplete=allow_incomplete)))
    return atomic.write_text(html_path, html)
