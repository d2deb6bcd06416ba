"""Where each case's row stands on each rendering of its page, read by the audit.

A page comes in several renderings (``page.renderings`` in its case file, copies in ``../shared/seeds`` for the
LSTM pages and ``../shared/pages`` for the others), and
renderings can be revisions: 000 and 002 are one page before and after a row was inserted, so a row has a
number per rendering. The report shows those numbers, measures coverage against each rendering's own rows
(not against the number of cases) and exports the corrected table in each rendering's numbering; all three
come from :func:`mapping.audit.audit_page`, which reads any rendering and matches its rows to the cases.

Nothing here is required: a case file or a copy of the page that cannot be found or read is reported as such
(``problem``) and the report goes on without that rendering's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..audit import AuditInputError, CaseFileInfo, PageRow, PageTable, audit_page, index_case_file
from ..results import PageRecord

#: The project root (case files are named relative to it) and where copies of the pages live beside it, searched
#: in this order: the LSTM pages' seeds, then the copies of the other recurrent pages.
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SEEDS = (ROOT.parent / "shared" / "seeds", ROOT.parent / "shared" / "pages")


@dataclass
class Rendering:
    """One rendering of a page: its table as the audit read it and which of its rows each case is."""

    seed: str
    rows_listed: int | None  # as the case file lists it
    note: str
    table: PageTable | None = None
    row_of: dict[str, PageRow] = field(default_factory=dict)  # case row -> the rendering's row
    uncovered: list[PageRow] = field(default_factory=list)  # the rendering's rows without a case
    problem: str | None = None  # why the rendering could not be read

    @property
    def short(self) -> str:
        """The seed's number ("000"), how the report names a rendering in tight places."""
        return self.seed.split("_", 1)[0]

    @property
    def rows(self) -> int | None:
        return len(self.table.rows) if self.table else self.rows_listed

    @property
    def covered(self) -> int | None:
        return len(self.row_of) if self.table else None

    def number(self, case_row: str) -> str | None:
        """How this rendering labels the case's row ("Parameter 25"; "row 3" where it lost its ids)."""
        row = self.row_of.get(case_row)
        return row.label if row else None


@dataclass
class PageRevisions:
    """Every rendering the case file lists, read; ``problem`` says why none could be."""

    page: str
    renderings: list[Rendering]
    example_rows: list[str] = field(default_factory=list)  # cases about the page's code, not table rows
    problem: str | None = None

    @property
    def read(self) -> list[Rendering]:
        return [r for r in self.renderings if r.table is not None]

    def numbers(self, case_row: str) -> list[tuple[Rendering, str | None]]:
        """(rendering, the case's row label there or None where the rendering has no such row), readable ones."""
        return [(r, r.number(case_row)) for r in self.read]

    def renumbered(self, case_row: str) -> bool:
        """The row has different labels in different renderings (so readers need the rendering to find it)."""
        labels = {label for _, label in self.numbers(case_row)}
        return len(labels) > 1


def _folders(seeds: Path | str | Sequence[Path | str]) -> list[Path]:
    return [Path(seeds)] if isinstance(seeds, (str, Path)) else [Path(f) for f in seeds]


def _rendering(info: CaseFileInfo, seed: str, rows: int | None, note: str, seeds: list[Path]) -> Rendering:
    rendering = Rendering(seed, rows, note)
    path = next((folder / seed for folder in seeds if (folder / seed).is_file()), None)
    if path is None:
        rendering.problem = f"no copy of this rendering in {' or '.join(str(f) for f in seeds)}"
        return rendering
    try:
        report = audit_page(path, [info], forced=True)
    except AuditInputError as exc:
        rendering.problem = exc.problem
        return rendering
    rendering.table = report.page
    rendering.row_of = {m.case.row: m.row for m in report.coverage.matches}
    rendering.uncovered = list(report.coverage.uncovered)
    return rendering


def page_revisions(record: PageRecord, *, root: Path = ROOT, seeds: Path | Sequence[Path] = DEFAULT_SEEDS
                   ) -> PageRevisions:
    """Read every rendering the page's case file lists (a supplement lists none)."""
    case_path = root / record.case_file
    try:
        info = index_case_file(case_path)
    except AuditInputError as exc:
        return PageRevisions(record.id, [], problem=f"case file {record.case_file}: {exc.problem}")
    notes = _rendering_notes(case_path)
    folders = _folders(seeds)
    renderings = [_rendering(info, seed, rows, notes.get(seed, ""), folders) for seed, rows in info.renderings.items()]
    return PageRevisions(record.id, renderings, [c.row for c in info.example_cases])


def _rendering_notes(case_path: Path) -> dict[str, str]:
    """seed -> the case file's note on that rendering (the audit's index keeps seeds and row counts only)."""
    from ..cases import YAMLInputError, read_yaml

    try:
        page = read_yaml(case_path).get("page") or {}
    except (YAMLInputError, AttributeError):
        return {}
    return {str(r.get("seed")): str(r.get("note") or "") for r in page.get("renderings") or [] if isinstance(r, dict)}


def all_revisions(pages: dict[str, PageRecord], *, root: Path = ROOT,
                  seeds: Path | Sequence[Path] = DEFAULT_SEEDS) -> dict[str, PageRevisions]:
    """The renderings of every vendor page (supplements have none)."""
    return {page_id: page_revisions(record, root=root, seeds=seeds)
            for page_id, record in pages.items() if record.kind == "mapping_page"}
