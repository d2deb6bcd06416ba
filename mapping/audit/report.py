"""The audit's findings for one page: rows without a case, cases whose row is gone, renumbered rows, and a
skeleton case for every uncovered row; text and JSON."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .index import CaseFileInfo
from .matching import Coverage, Match, choose_case_file, match_rows, row_key
from .pages import PageRow, PageTable, read_page

FULL_COVERAGE, GAPS, BAD_INPUT = 0, 1, 2
TODO_CLAIM = "TODO: state the page's claim in your own words"

# --- the report ----------------------------------------------------------------------------------


@dataclass
class PageReport:
    page: PageTable
    case_file: CaseFileInfo | None
    chosen_by: str
    rendering: str | None
    coverage: Coverage

    @property
    def outside_only_in(self) -> list[Match]:
        return [m for m in self.coverage.matches
                if self.rendering and m.case.only_in and self.rendering not in m.case.only_in]

    @property
    def warnings(self) -> list[str]:
        if self.case_file is None or self.rendering is None:
            return []
        listed = self.case_file.renderings.get(self.rendering)
        if listed is not None and listed != len(self.page.rows):
            return [f"the case file says {self.rendering} has {listed} rows; found {len(self.page.rows)}"]
        return []

    @property
    def exit_code(self) -> int:
        gaps = (self.coverage.uncovered or self.coverage.orphaned or self.coverage.params_changed
                or self.outside_only_in)
        return GAPS if gaps else FULL_COVERAGE

    def skeleton(self) -> str:
        """YAML cases to paste for the uncovered rows (and a page block when no case file exists)."""
        page, uncovered = self.page, self.coverage.uncovered
        if not uncovered:
            return ""
        out = []
        if self.case_file is None:
            branch = page.address.split("/blob/")[1].split("/")[0] if page.address else "TODO"
            out += ["page:", "  id: TODO", f"  title: {_q(page.title)}", f"  docs_version: {_q(branch)}",
                    f"  language: {'zh' if re.search(r'[一-鿿]', page.title) else 'en'}",
                    f"  address: {_q(page.address or 'TODO')}", "  renderings:",
                    f"    - {{seed: {_q(page.path.name)}, rows: {len(page.rows)}}}",
                    "  written_against: {}  # TODO", "  frameworks: []  # TODO", "cases:"]
        taken = {row_key(c.row) for c in self.case_file.cases} if self.case_file else set()
        several = self.case_file is not None and len(self.case_file.renderings) > 1 and self.rendering
        for row in uncovered:
            name = row.row_id or "TODO: name the parameter (this rendering lost it)"
            if row.row_id and row_key(row.row_id) in taken:
                first = next((v for v in (row.params or {}).values() if v), None)
                name = f"{row.row_id} ({first})" if first else f"{row.row_id} (TODO)"
            where = f", line {row.line}" if row.line else ""
            out.append(f"  # {row.label} on {page.path.name}{where}")
            out.append(f"  - row: {_q(name)}")
            if several:
                out.append(f"    # only_in: [{self.rendering}]  # if the other renderings lack this row")
            if row.params is not None:
                out.append("    params: {" + ", ".join(f"{side or 'TODO'}: {_q(v) if v else 'null'}"
                                                       for side, v in row.params.items()) + "}")
            else:
                sides = ", ".join(f"{side}: TODO" for side in page.sides if side)
                out.append(f"    params: {{{sides}}}  # TODO: name the parameter on each side")
            out += [f"    claim: {_q(TODO_CLAIM)}", "    check: TODO", "    verdict: TODO"]
        return "\n".join(out) + "\n"

    def to_json(self) -> dict[str, Any]:
        cov, page = self.coverage, self.page
        return {
            "page": str(page.path), "title": page.title, "address": page.address, "form": page.form,
            "layout": page.layout.name, "columns": page.sides, "recoverable": page.notes,
            "rows": [{"position": r.position, "row": r.row_id, "params": r.params, "difference": r.difference,
                      "line": r.line} for r in page.rows],
            "case_file": str(self.case_file.path) if self.case_file else None, "chosen_by": self.chosen_by,
            "rendering": self.rendering,
            "covered": [{"row": m.row.label, "case": m.case.row, "by": m.how, "score": m.score} for m in cov.matches],
            "uncovered": [{"row": r.label, "params": r.params, "line": r.line} for r in cov.uncovered],
            "orphaned": [{"case": c.row, "params": c.params} for c in cov.orphaned],
            "renumbered": [{"case": m.case.row, "page": m.row.row_id} for m in cov.renumbered],
            "params_changed": [{"row": m.row.label, "page": m.row.params, "case": m.case.params}
                               for m in cov.params_changed],
            "outside_only_in": [{"case": m.case.row, "only_in": m.case.only_in} for m in self.outside_only_in],
            "only_in_elsewhere": [{"case": c.row, "only_in": c.only_in} for c in cov.elsewhere],
            "example_cases": [c.row for c in self.case_file.example_cases] if self.case_file else [],
            "warnings": self.warnings, "skeleton": self.skeleton(), "exit_code": self.exit_code,
        }

    def to_text(self) -> str:
        page, cov = self.page, self.coverage
        columns = " | ".join(side or "(heading lost)" for side in page.sides)
        out = [f"{page.path}: {page.title!r}, {page.form}, {page.layout.name} table, {len(page.rows)} rows "
               f"({columns})"]
        out += [f"  recoverable: {note}" for note in page.notes or ["kept: every cell"]]
        if self.case_file is None:
            out.append(f"  case file: none ({self.chosen_by})")
        else:
            rendering = f", rendering {self.rendering}" if self.rendering else ", not a listed rendering"
            out.append(f"  case file: {self.case_file.path} ({self.chosen_by}{rendering})")
        out += [f"  warning: {w}" for w in self.warnings]
        found = len(cov.matches) - len(self.outside_only_in)
        out.append(f"  coverage: {len(cov.matches)} of {len(page.rows)} rows have a case; {found} of "
                   f"{found + len(cov.orphaned)} cases expected here have their row")
        sections: list[tuple[str, list[str]]] = [
            ("rows with no case", [f"{r.label} ({_pair(r)})" + _excerpt(r) for r in cov.uncovered]),
            ("cases whose row is gone", [f"{c.row} ({_pair_of(c.params)})" for c in cov.orphaned]),
            ("renumbered", [f"case {m.case.row!r} is {m.row.row_id} here" for m in cov.renumbered]),
            ("parameters changed", [f"{m.row.label}: page {_pair(m.row)}, case {_pair_of(m.case.params)}"
                                    for m in cov.params_changed]),
            ("on this rendering but only_in excludes it",
             [f"{m.case.row} (only_in {', '.join(m.case.only_in)})" for m in self.outside_only_in]),
            ("recognised by content", [f"{m.row.label}{_excerpt(m.row)} -> case {m.case.row!r} (score {m.score})"
                                       for m in cov.matches if m.how == "content"]),
            ("not on this page, only_in other renderings (not counted)",
             [f"{c.row} (only_in {', '.join(c.only_in)})" for c in cov.elsewhere]),
            ("cases about the code example (not table rows, not audited)",
             [c.row for c in self.case_file.example_cases] if self.case_file else []),
        ]
        for heading, items in sections:
            if items:
                out.append(f"  {heading} ({len(items)}):")
                out += [f"    {item}" for item in items]
        skeleton = self.skeleton()
        if skeleton:
            out.append("  skeleton cases for the uncovered rows:")
            out += [f"    {line}" for line in skeleton.splitlines()]
        out.append("  result: " + ("full coverage" if self.exit_code == FULL_COVERAGE else "gaps"))
        return "\n".join(out)


def _q(text: str) -> str:
    """A YAML scalar that reads back as ``text`` (a JSON string is a valid YAML double-quoted scalar)."""
    return json.dumps(text, ensure_ascii=False)


def _pair_of(params: dict) -> str:
    return " / ".join(f"{side or '?'}: {name if name else '-'}" for side, name in params.items()) or "no parameters"


def _pair(row: PageRow) -> str:
    return _pair_of(row.params) if row.params is not None else (f"keyed by {row.row_id}" if row.row_id
                                                                else "parameter names lost")


def _excerpt(row: PageRow) -> str:
    return "" if row.row_id else f" ('{row.difference[:40]}…')"


def audit_page(path: Path | str, case_files: list[CaseFileInfo], forced: bool = False) -> PageReport:
    page = read_page(path)
    if forced:
        case_file, how = case_files[0], "given with --cases"
    else:
        case_file, how = choose_case_file(page, case_files)
    rendering = page.path.name if case_file and page.path.name in case_file.renderings else None
    coverage = match_rows(page, case_file.cases if case_file else [], rendering)
    return PageReport(page, case_file, how, rendering, coverage)
