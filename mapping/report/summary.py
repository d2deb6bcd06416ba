"""The report's status as a short Markdown summary, for CI job summaries (``$GITHUB_STEP_SUMMARY`` and the like).

The same facts as the HTML's first screen and CI section: pass or fail, one line per environment (outcomes,
versions, commit, completeness), the warnings, and the rows the vendors' pages get wrong with their one-line
corrections.
"""

from __future__ import annotations

from .describe import first_sentence, row_title
from .merge import MergedReport, RowView
from .render import _drift_status, _status


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _row_line(merged: MergedReport, row: RowView) -> str:
    record = merged.pages.get(row.page)
    page = f"{record.title} ({record.docs_version})" if record else row.page
    correction = first_sentence(next(iter(row.unique("correction")), "")) or "no corrected wording recorded"
    return f"- **{_cell(row_title(row))}**, {_cell(page)}: {_cell(correction)}"


def markdown_summary(merged: MergedReport) -> str:
    status = _status(merged)
    commits = ", ".join(f"`{c}`" if c else "not recorded" for c in status["commits"])
    first, last = status["times"]
    lines = [
        f"## API-mapping conformance: {'PASS' if status['ok'] else 'FAIL'}",
        "",
        f"{status['headline'][:1].upper()}{status['headline'][1:]}. {len(merged.environments)} environment"
        f"{'s' if len(merged.environments) != 1 else ''}; suite {commits}"
        + (f" (with local changes in {', '.join(status['dirty'])})" if status["dirty"] else "")
        + f"; {first}{'' if first == last else ' to ' + last}.",
        "",
        "| environment | passed | failed | skipped | error | run | versions | commit |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for env in merged.environments:
        counts = merged.outcome_counts(env.name)
        installed = ", ".join(f"{d} {v}" for d, v in env.frameworks.items() if v)
        commit = f"`{env.suite_commit}`{' (dirty)' if env.suite_dirty else ''}" if env.suite_commit else "—"
        lines.append(f"| `{_cell(env.name)}` | {counts['passed']} | {counts['failed']} | {counts['skipped']} | "
                     f"{counts['error']} | {_cell(merged.incomplete.get(env.name, 'complete'))} | {_cell(installed)} | "
                     f"{commit} |")
    if merged.warnings:
        lines += ["", "**Warnings**", ""] + [f"- {_cell(w)}" for w in merged.warnings]
    rows = merged.rows()
    vendor = [r for r in rows if r.wrong and (merged.pages.get(r.page) is None
                                              or merged.pages[r.page].kind == "mapping_page")]
    beyond = [r for r in rows if r.wrong and r not in vendor]
    failed = [r for r in rows if r.failed]
    if failed:
        lines += ["", f"### Rows that no longer match their recorded verdict ({len(failed)})", ""]
        lines += [f"- **{_cell(row_title(r))}** ({r.page}): " + ", ".join(
            f"{m.result.framework} expected {m.result.expected_verdict}, measured {m.result.measured_verdict or 'none'}"
            for m in r.measurements if m.result.outcome == "failed") for r in failed]
    lines += ["", f"### Rows the vendors' pages get wrong ({len(vendor)})", ""]
    lines += [_row_line(merged, r) for r in vendor] or ["None."]
    if beyond:
        lines += ["", f"Beyond the pages: {len(beyond)} finding{'s' if len(beyond) != 1 else ''} "
                      f"({', '.join(_cell(row_title(r)) for r in beyond)})."]
    drift = [r for r in rows if r.has_drift]
    lines += ["", f"Drift between versions: {len(drift)} row{'s' if len(drift) != 1 else ''}." if drift
              else _drift_status(merged)]
    return "\n".join(lines) + "\n"
