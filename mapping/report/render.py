"""Rendering a merged report as one self-contained HTML file, designed around its three readers.

- A porting engineer: the rows the vendors' pages get wrong, each with its one-line correction, on the first
  screen; a grid per page (row x framework, verdict as colour and symbol); under each row, at full width, the
  finding, the corrected wording, the recipes as executed code, the caveats and the figure that decided.
- A documentation maintainer: each row's number in every rendering of its page, coverage against the page's
  own rows, a copy button on every corrected wording and the corrected table of each rendering as Markdown.
- A CI owner: the status line, a table per environment, warnings for mixed suite commits and incomplete
  runs, verdict counts per framework version, and drift (or why nothing could be compared).

The page opens from a mail attachment or a CI artifact with no network: CSS and script are inline, nothing
is fetched. Everything from case files or results is escaped by Jinja2's autoescaping; the one unescaped
insertion, :func:`cjk`, escapes its text itself.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from .. import atomic, cli, frameworks, versions
from ..results import DecidingFigure, PageRecord
from ..verdicts import Verdict
from .describe import (
    VERDICT_STYLES,
    first_sentence,
    framework_description,
    framework_label,
    row_title,
    short_number,
    verdict_style,
    verdicts_in_words,
    with_version,
)
from .drift import HOLDING_VERDICTS
from .export import Export, exports, write_exports
from .merge import NO_VERDICT, OUTCOMES, MergedReport, RowView, merge, read_results
from .revisions import DEFAULT_SEEDS, ROOT, PageRevisions, all_revisions

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "conformance.html.j2"

#: Values the verdict filter offers: every verdict, plus NO_VERDICT.
VERDICT_FILTER_VALUES = [v.value for v in Verdict] + [NO_VERDICT]
KINDS = {"mapping_page": "vendor mapping pages", "supplement": "supplements (beyond the pages)"}

# --- small formatting helpers (template filters) -----------------------------------------------------


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
    return verdict_style(verdict).label


_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+(?:[\s\u3000-\u303f\uff00-\uffef]*"
                  r"[\u3400-\u4dbf\u4e00-\u9fff]+)*")


def cjk(text: str | None) -> Markup:
    """Escaped text with every run of Chinese characters marked ``lang="zh"`` (screen readers, fonts)."""
    text = text or ""
    out, at = [], 0
    for match in _CJK.finditer(text):
        out.append(escape(text[at:match.start()]))
        out.append(Markup('<span lang="zh">') + escape(match.group()) + Markup("</span>"))
        at = match.end()
    out.append(escape(text[at:]))
    return Markup("").join(out)


def comparator(figure: DecidingFigure) -> str:
    """``value ≤ threshold`` or ``value > threshold``: true as arithmetic whatever the test means."""
    if figure.value is None:
        return "not a number" if figure.threshold is None else "—"
    if figure.threshold is None:
        return short_number(figure.value)
    sign = "≤" if figure.value <= figure.threshold else ">"
    return f"{short_number(figure.value)} {sign} {short_number(figure.threshold)}"


def when(iso: str) -> str:
    """An environment's ISO 8601 time as "2026-11-22 17:43 UTC" (as given where it does not parse)."""
    try:
        moment = _dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone(_dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def short_label(row: str) -> str:
    """A row's label in the grid: "Parameter 16" -> "P16", "Input 2" -> "I2"; other names as they are."""
    match = re.match(r"^\s*(parameter|input|output|return value)s?\s*(\d+)\b(.*)$", row, re.I)
    if match:
        rest = match.group(3).strip()
        return f"{match.group(1)[0].upper()}{match.group(2)}" + (f" {rest}" if rest else "")
    return row


# --- the views the template reads -------------------------------------------------------------------


@dataclass(frozen=True)
class FrameworkColumn:
    """One framework column of a page, with the versions measured for it on that page."""

    framework: str
    versions: list[str]

    @property
    def label(self) -> str:
        return framework_label(self.framework)


@dataclass(frozen=True)
class Counter:
    """A figure in the summary strip, and the filter that shows the rows it counts."""

    id: str
    label: str
    value: int
    filter: str  # "wrong=1&kind=mapping_page": the address fragment and the predicate
    bad: bool = False
    note: str = ""
    #: Where the link goes when the figure does not count rows (the filter shows rows): a section's id.
    section: str | None = None


@dataclass
class PageView:
    id: str
    title: str
    record: PageRecord | None  # None when no results file described the page
    columns: list[FrameworkColumn]
    rows: list[RowView]
    revisions: PageRevisions | None
    exports: list[Export] = field(default_factory=list)

    @property
    def vendor(self) -> bool:
        return self.record is None or self.record.kind == "mapping_page"

    @property
    def rows_wrong(self) -> list[RowView]:
        return [r for r in self.rows if r.wrong]

    @property
    def pair(self) -> str:
        """The page's sides in words: "tf.keras · Keras 2 (tf_keras) · MindSpore"."""
        return " · ".join(c.label for c in self.columns)


@dataclass(frozen=True)
class EnvironmentView:
    name: str
    outcomes: dict[str, int]
    complete: str  # "complete", or why not
    source: str | None  # a link to the results file, relative to the report
    frameworks: dict[str, str | None]
    suite_commit: str | None
    suite_dirty: bool | None
    time: str
    python: str
    platform: str


def _page_views(merged: MergedReport, revisions: dict[str, PageRevisions], done: list[Export]) -> list[PageView]:
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
            columns.append(FrameworkColumn(framework, [v or "not installed"
                                                       for v in sorted(measured, key=versions.sort_key)]))
        record = merged.pages.get(page_id)
        pages.append(PageView(page_id, record.title if record else page_id, record, columns, rows,
                              revisions.get(page_id), [e for e in done if e.page == page_id]))
    # the vendors' pages first, then the supplements, each group in the results' order
    return sorted(pages, key=lambda p: not p.vendor)


def measurement_tokens(row: RowView) -> str:
    """JSON [[framework, version, verdict or 'none', outcome], ...]: what the filter script matches.

    A plain string, so autoescaping quotes it for the attribute it goes in.
    """
    return json.dumps([[m.result.framework, m.result.framework_version or "", m.result.measured_verdict or NO_VERDICT,
                        m.result.outcome] for m in row.measurements], separators=(",", ":"))


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


def _is_vendor(merged: MergedReport, page_id: str) -> bool:
    record = merged.pages.get(page_id)
    return record is None or record.kind == "mapping_page"


def _counters(merged: MergedReport, rows: list[RowView]) -> list[Counter]:
    vendor = [r for r in rows if _is_vendor(merged, r.page)]
    outcomes = merged.outcome_counts()
    counters = [
        Counter("rows-total", "rows measured", len(rows), ""),
        Counter("rows-wrong", "wrong on the vendors' pages", sum(r.wrong for r in vendor), "wrong=1&kind=mapping_page",
                bad=True),
        Counter("rows-beyond", "findings beyond the pages", sum(r.wrong for r in rows if r not in vendor),
                "wrong=1&kind=supplement"),
        Counter("rows-split", "verdict differs between frameworks", sum(r.split for r in rows), "split=1"),
        Counter("rows-caveats", "hold, with caveats", sum(r.status == "holds with caveats" for r in rows), "caveats=1"),
        Counter("rows-drift", "drift between versions", sum(r.has_drift for r in rows), "drift=1"),
        Counter("rows-failed", "no longer match the recorded verdict", sum(r.failed for r in rows), "outcome=failed",
                bad=True),
        Counter("rows-error", "could not run", sum(any(m.result.outcome == "error" for m in r.measurements)
                                                    for r in rows), "outcome=error", bad=True),
    ]
    counters.append(Counter("measurements-total", "measurements", len(merged.measurements), "",
                            note=", ".join(f"{n} {o}" for o, n in outcomes.items() if n), section="ci"))
    return counters


def _environment_views(merged: MergedReport, output: Path | None) -> list[EnvironmentView]:
    views = []
    for env in merged.environments:
        source = merged.sources.get(env.name)
        link = None
        if source is not None and output is not None:
            try:
                link = Path(os.path.relpath(Path(source).resolve(), output.resolve().parent)).as_posix()
            except ValueError:  # another drive (Windows)
                link = None
        views.append(EnvironmentView(env.name, merged.outcome_counts(env.name),
                                     merged.incomplete.get(env.name, "complete"), link, env.frameworks,
                                     env.suite_commit, env.suite_dirty, when(env.time), env.python, env.platform))
    return views


def _status(merged: MergedReport) -> dict:
    outcomes = merged.outcome_counts()
    bad = outcomes["failed"] + outcomes["error"]
    commits = merged.suite_commits()
    times = sorted(e.time for e in merged.environments)
    ok = not bad and not merged.incomplete and bool(merged.measurements)
    if not merged.measurements:
        headline = "no measurements"
    elif ok:
        headline = f"every one of {len(merged.measurements)} measurements matches the verdict recorded for it"
    else:
        parts = []
        if outcomes["failed"]:
            parts.append(f"{outcomes['failed']} no longer match their recorded verdict")
        if outcomes["error"]:
            parts.append(f"{outcomes['error']} could not run")
        if merged.incomplete:
            parts.append(f"{len(merged.incomplete)} results file(s) from runs that did not complete")
        headline = "; ".join(parts)
    return {
        "ok": ok,
        "headline": headline,
        "commits": commits,
        "dirty": [e.name for e in merged.environments if e.suite_dirty],
        "times": (when(times[0]), when(times[-1])) if times else ("", ""),
    }


def _drift_status(merged: MergedReport) -> str:
    """Why the drift section is empty: nothing measured on two versions, or versions measured that agree."""
    measured: dict[str, set[str]] = {}
    for m in merged.measurements.values():
        if m.result.framework_version and m.result.measured_verdict:
            measured.setdefault(m.result.framework, set()).add(m.result.framework_version)
    several = {fw: vs for fw, vs in measured.items() if len(vs) > 1}
    listing = "; ".join(f"{framework_label(fw)} {', '.join(sorted(vs, key=versions.sort_key))}"
                        for fw, vs in sorted(measured.items(), key=lambda kv: frameworks.sort_key(kv[0])))
    if not several:
        return ("Nothing could be compared: every framework was measured on one version only "
                f"({listing or 'none measured'}). Merge results of several releases (the tox version matrix) to see "
                "drift.")
    return f"No row's verdict differs between the versions measured ({listing})."


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(number=format_number, short=short_number, fraction=format_fraction,
                       verdict_label=verdict_label, web_address=web_address, cjk=cjk, comparator=comparator,
                       first_sentence=first_sentence, short_label=short_label, when=when)
    env.globals.update(tokens=measurement_tokens, style=verdict_style, framework_label=framework_label,
                       framework_description=framework_description, with_version=with_version,
                       row_title=row_title, verdicts_in_words=verdicts_in_words, holding=HOLDING_VERDICTS,
                       convert_command="mapping convert" if "convert" in cli.COMMANDS else None)
    return env


def render(merged: MergedReport, *, revisions: dict[str, PageRevisions] | None = None,
           done: list[Export] | None = None, output: Path | None = None, exports_href: str | None = None) -> str:
    """The whole report as one HTML document.

    ``revisions`` (default: read from the case files and ``../shared/seeds``) gives rows' numbers per rendering;
    ``done`` the corrected tables to offer; ``output`` where the HTML will be written (for relative links to the
    results files) and ``exports_href`` the folder, relative to it, the exports are written to.
    """
    if revisions is None:
        revisions = all_revisions(merged.pages)
    if done is None:
        done = exports(merged, revisions)
    pages = _page_views(merged, revisions, done)
    rows = [row for page in pages for row in page.rows]
    anchors = row_anchors(rows)
    used = sorted({c.framework for page in pages for c in page.columns}, key=frameworks.sort_key)
    versions_seen = sorted({m.result.framework_version for m in merged.measurements.values()
                            if m.result.framework_version}, key=versions.sort_key)
    template = _environment().get_template(TEMPLATE_NAME)
    return template.render(
        anchor_of=lambda row: anchors[(row.page, row.row)],
        merged=merged,
        pages=pages,
        status=_status(merged),
        counters=_counters(merged, rows),
        environments=_environment_views(merged, output),
        wrong_rows=[r for p in pages if p.vendor for r in p.rows_wrong],
        beyond_rows=[r for p in pages if not p.vendor for r in p.rows_wrong],
        rows_total=len(rows),
        outcome_names=OUTCOMES,
        verdict_names=VERDICT_FILTER_VALUES,
        verdict_styles=VERDICT_STYLES,
        kinds=KINDS,
        frameworks=used,
        versions_seen=versions_seen,
        drift_rows=[r for r in rows if r.has_drift],
        drift_status=_drift_status(merged),
        disagreement_rows=[r for r in rows if r.environment_disagreements()],
        exports_href=exports_href,
        header_warnings=[w for w in merged.warnings
                         if not any(w.startswith(f"environment {name!r}") for name in merged.incomplete)],
        filter_values={
            "page": [p.id for p in pages], "kind": list(KINDS), "framework": used, "version": versions_seen,
            "verdict": VERDICT_FILTER_VALUES, "outcome": list(OUTCOMES),
            "wrong": ["1"], "split": ["1"], "caveats": ["1"], "drift": ["1"],
        },
    )


def write_report(results_paths: Iterable[Path | str], html_path: Path | str, *, allow_incomplete: bool = False,
                 exports_dir: Path | str | None = None, seeds: Path | str | Sequence[Path] = DEFAULT_SEEDS,
                 summary_path: Path | str | None = None) -> Path:
    """Read results files (or directories of them), merge, render, and write the HTML; returns its path.

    The HTML is written atomically; an output path that is one of the inputs (or not an .html file) is refused
    before anything is read. Results of a run that did not complete are refused unless ``allow_incomplete``,
    and then flagged on the page. The corrected tables go to ``exports_dir`` (default: ``corrections/`` beside
    the HTML), one Markdown file per page rendering; ``summary_path`` gets the Markdown summary for CI
    (``-``: standard output is left to the caller).
    """
    from .summary import markdown_summary

    results_paths = list(results_paths)
    html_path = atomic.refuse_overwriting(html_path, results_paths, suffixes=(".html", ".htm"), what="report")
    merged = merge(read_results(results_paths, allow_incomplete=allow_incomplete))
    revisions = all_revisions(merged.pages, root=ROOT, seeds=seeds)
    done = exports(merged, revisions)
    folder = Path(exports_dir) if exports_dir is not None else html_path.parent / "corrections"
    write_exports(done, folder)
    href = Path(os.path.relpath(folder.resolve(), html_path.resolve().parent)).as_posix()
    html = render(merged, revisions=revisions, done=done, output=html_path, exports_href=href)
    written = atomic.write_text(html_path, html)
    if summary_path is not None and str(summary_path) != "-":
        atomic.write_text(summary_path, markdown_summary(merged))
    return written
