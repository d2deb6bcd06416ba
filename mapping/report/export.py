"""The corrected table of a vendor page, as Markdown, in each rendering's own columns and row numbering.

What a documentation maintainer takes back to the page: one file per rendering the case file lists (renderings
can be revisions that number their rows differently). Each row keeps the page's row id, category and parameter
names (as the audit read them from that rendering); its Differences cell says, in this project's words, what
the suite measured: the corrected wording where the page is wrong, what was verified where it holds, and the
caveats worth adding. The page's own prose is never copied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .. import atomic
from ..audit import PageRow
from ..results import PageRecord
from .describe import first_sentence, framework_label, verdicts_in_words
from .merge import MergedReport, RowView
from .revisions import PageRevisions, Rendering

#: How the pages head a framework's column (the audit reads them as these families).
SIDE_HEADINGS = {"tensorflow": "TensorFlow", "pytorch": "PyTorch", "mindspore": "MindSpore", "jax": "JAX"}


@dataclass(frozen=True)
class Export:
    page: str
    rendering: Rendering
    file_name: str
    text: str


def _cell(text: str | None) -> str:
    """One Markdown table cell: no line breaks, pipes escaped."""
    return re.sub(r"\s+", " ", text or "").strip().replace("|", "\\|") or " "


def _name(value: str | None) -> str:
    return f"`{value}`" if value else "-"


def differences(row: RowView | None, *, has_case: bool = False) -> str:
    """What the corrected Differences cell says for one row, in this project's words."""
    if row is None:
        return "Not measured in these results." if has_case else "No case yet: not checked by the suite."
    parts = []
    if row.wrong:
        corrections = row.unique("correction")
        if corrections:
            parts.append("**Corrected:** " + " ".join(corrections))
        else:
            parts.append("**Wrong** as stated; no corrected wording is recorded yet.")
        parts.append(f"(Measured: {verdicts_in_words(row)}.)")
        ran = [r for r in row.recipes() if r.executed and r.ok]
        if ran:
            parts.append("Workaround, executed by the suite: " + ", ".join(
                f"`{r.name}` ({framework_label(r.framework)})" for r in ran) + ".")
    else:
        parts.append(f"Unchanged; verified: {verdicts_in_words(row)}.")
    # Each caveat that bites once, with what every framework measured (the point is usually that they differ).
    titles: dict[str, dict[str, list[str]]] = {}
    for fw in row.frameworks:
        for c in row.caveats_for(fw):
            if c.bites:
                titles.setdefault(c.title, {})
    for fw in row.frameworks:
        for c in row.caveats_for(fw):
            if c.title in titles:
                said = titles[c.title].setdefault(fw, [])
                behaviour = first_sentence(c.behaviour).rstrip(".")
                if behaviour not in said:
                    said.append(behaviour)
    for title, measured in titles.items():
        said = "; ".join(f"{framework_label(fw)}: {', '.join(behaviours)}" for fw, behaviours in measured.items())
        parts.append(f"Worth adding: {title.rstrip('?.')}? {said}." if title.endswith("?")
                     else f"Worth adding: {title.rstrip('.')}: {said}.")
    return " ".join(parts)


def corrected_table(record: PageRecord, rendering: Rendering, rows: dict[str, RowView]) -> str:
    """The Markdown file for one rendering: a short heading, then the table in that rendering's row order."""
    table = rendering.table
    assert table is not None, "only renderings the audit could read are exported"
    sides = [side for side in table.sides]
    families = [s for s in sides if s] or list(dict.fromkeys(f for r in rows.values() for f in r.params))
    headings = [SIDE_HEADINGS.get(f or "", f or "?") for f in (sides if all(sides) else families)]
    case_of: dict[int, str] = {page_row.position: case for case, page_row in rendering.row_of.items()}
    numbered = table.layout.name == "numbered"
    header = (["Categories", "Subcategories"] if numbered else ["Parameter"]) + headings + ["Differences"]
    lines = [
        f"# {record.title}: corrected table",
        "",
        f"Rendering `{rendering.seed}` ({len(table.rows)} rows, in its own numbering) of the page at "
        f"<{record.address}> (docs {record.docs_version}). Each Differences cell says what the conformance suite "
        "measured, in its own words: the corrected wording where the page is wrong, what was verified where it "
        "holds. Frameworks: " + ", ".join(framework_label(f) for f in record.frameworks) + ".",
        "",
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    for page_row in table.rows:
        case = case_of.get(page_row.position)
        row = rows.get(case) if case else None
        names = _names(page_row, row, sides if all(sides) else families)
        first = [page_row.category or "", page_row.label] if numbered else [page_row.label]
        cells = first + names + [differences(row, has_case=case is not None)]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _names(page_row: PageRow, row: RowView | None, families: list[str | None]) -> list[str]:
    """The parameter name on each side: as the rendering gives it, else as the case names it."""
    names = []
    for family in families:
        if page_row.params is not None and family in page_row.params:
            names.append(_name(page_row.params[family]))
        elif row is not None and family in row.params:
            names.append(_name(row.params[family]))
        else:
            names.append("-")
    return names


def file_name(page: str, rendering: Rendering) -> str:
    return f"{page}--{Path(rendering.seed).stem}.md"


def exports(merged: MergedReport, revisions: dict[str, PageRevisions]) -> list[Export]:
    """One export per readable rendering of every vendor page with results."""
    done = []
    for page_id, page_revisions in revisions.items():
        record = merged.pages.get(page_id)
        if record is None:
            continue
        rows = {row.row: row for row in merged.rows(page_id)}
        for rendering in page_revisions.read:
            done.append(Export(page_id, rendering, file_name(page_id, rendering),
                               corrected_table(record, rendering, rows)))
    return done


def write_exports(done: list[Export], folder: Path | str) -> list[Path]:
    """Write each export atomically into ``folder``; returns the paths."""
    return [atomic.write_text(Path(folder) / export.file_name, export.text) for export in done]
