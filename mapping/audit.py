"""Audit an API-mapping page against its case file: which table rows have a case, which cases lost their row.

The source pages come in several renderings (see ``../shared/seeds/README.md``): a Markdown table, the
same table flattened onto one line or one cell per line, and a plain-text copy that lost its
parameter-name column. Pages get revised (a row inserted, rows renumbered) while the cases in
``cases/`` are written once, so this module reads whichever rendering it is given, extracts each row
as (row id, parameter per framework, difference text), and reports rows with no case, cases whose row
is gone, rows whose number changed, and a skeleton case for every uncovered row.

    python -m mapping.audit PAGE [PAGE ...] [--cases DIR_OR_FILE] [--format text|json]

Exit status: 0 every row has a case and every case expected on this rendering its row; 1 rows
uncovered or cases orphaned (also: a case whose parameters no longer match its row, or one whose
``only_in`` leaves out a rendering that has its row); 2 bad input (unreadable, empty, binary, no
recognisable table, wrong number of columns, malformed case file). Renumbered rows are reported but
are not gaps: a case names the row as its own rendering numbers it.

Case files are read with the case loader's strict YAML reader (:func:`mapping.cases.read_yaml`: UTF-8, no
duplicate keys, no anchors or aliases) but not validated: only ``page`` and each case's ``row``, ``params``
and ``only_in`` are used, so the audit works on case files whose checks are not written yet.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .cases import YAMLInputError, case_files, read_yaml
from .errors import MappingError, clip, show

DEFAULT_CASES = Path(__file__).resolve().parents[1] / "cases"
FULL_COVERAGE, GAPS, BAD_INPUT = 0, 1, 2
#: A page larger than this is refused unread (the pages are tens of kilobytes).
MAX_PAGE_BYTES = 8 << 20
TODO_CLAIM = "TODO: state the page's claim in your own words"

# --- what the pages' tables look like ------------------------------------------------------------

#: Header cell text (lower-cased) -> the column's role. Framework columns map to the family name the
#: case files use as ``params`` keys.
HEADER_ROLES: dict[str, str] = {
    "categories": "category", "category": "category", "分类": "category", "类别": "category",
    "subcategories": "row", "subcategory": "row", "子类": "row", "子类别": "row",
    "differences": "difference", "difference": "difference", "差异": "difference", "差异说明": "difference",
    "diff parameters": "key", "差异参数": "key",
    "tensorflow": "tensorflow", "pytorch": "pytorch", "torch": "pytorch", "mindspore": "mindspore",
    "jax": "jax",
}
FAMILIES = frozenset({"tensorflow", "pytorch", "mindspore", "jax"})
#: Other spellings of a family a case file may use as a ``params`` key.
FAMILY_ALIASES = {"torch": "pytorch", "tf": "tensorflow", "ms": "mindspore"}

#: Numbered row ids ("Parameter 17", "Input 2", "参数 3"); also matches the start of a case row such
#: as "Parameter 24 (**kwargs)".
ROW_ID = re.compile(r"^\s*(?P<kind>parameters?|inputs?|outputs?|return values?|参数|输入|输出|返回值)\s*(?P<number>\d+)\b",
                    re.I)
ROW_KINDS = {"参数": "parameter", "输入": "input", "输出": "output", "返回值": "return value"}

#: Headings that end a table in a plain-text rendering (where no pipe marks the table's end).
SECTION_HEADINGS = frozenset({"code example", "代码示例", "usage", "使用方式", "differences", "差异对比"})

#: Cell values that mean "this framework has no such parameter".
NO_PARAMETER = frozenset({"", "-", "—", "–", "无"})

SOURCE_ADDRESS = re.compile(r"https?://gitee\.com/[\w.-]+/[\w.-]+/blob/[^\s)\]\"'<>]+?\.md")
API_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")  # ASCII: CJK is \w too


@dataclass(frozen=True)
class Layout:
    """A kind of difference table: its columns' roles in order ("side" is one framework column)."""

    name: str
    roles: tuple[str, ...]
    sides_hold: str  # "names": side cells are parameter names; "descriptions": prose about the row's key
    header: str  # how the header reads, for messages


LAYOUTS = (
    Layout("numbered", ("category", "row", "side", "side", "difference"), "names",
           "Categories | Subcategories | <framework> | <framework> | Differences"),
    Layout("keyed", ("key", "side", "side"), "descriptions", "diff parameters | <framework> | <framework>"),
)
EXPECTED_TABLE = " or ".join(f"'{layout.header}'" for layout in LAYOUTS)


class AuditInputError(MappingError, ValueError):
    """Input the audit cannot use; the message is one line naming the file and what was expected."""

    def __init__(self, path: Path | str, message: str, line: int | None = None):
        self.path, self.line, self.problem = str(path), line, clip(message, 600)
        super().__init__(f"{path}{f':{line}' if line else ''}: {self.problem}")


# --- reading a page ------------------------------------------------------------------------------


@dataclass
class RawTable:
    """Header and row cells as one rendering gives them; None marks a cell the rendering lost."""

    form: str
    header: list[str | None]
    rows: list[tuple[list[str | None], int | None]] = field(default_factory=list)  # (cells, line)
    stream: list[tuple[str, int]] | None = None  # one cell per line, grouped once the layout is known
    notes: list[str] = field(default_factory=list)


@dataclass
class PageRow:
    position: int  # 1-based, in page order
    row_id: str | None  # as the page writes it ("Parameter 17", "output、hn、cn"); None where lost
    params: dict[str | None, str | None] | None  # family -> name (None for "-"); None: layout has none
    difference: str
    line: int | None = None
    category: str | None = None

    @property
    def label(self) -> str:
        return self.row_id or f"row {self.position}"


@dataclass
class Page:
    path: Path
    title: str
    address: str | None
    form: str
    layout: Layout
    sides: list[str | None]  # framework family of each side column in page order; None: heading lost
    rows: list[PageRow]
    notes: list[str]  # what this rendering kept and lost


def _split_cells(line: str) -> list[str]:
    """Cells of one Markdown table row: split on unescaped pipes, dropping the outer ones."""
    text = line.strip()
    parts = re.split(r"(?<!\\)\|", text)
    if text.startswith("|"):
        parts = parts[1:]
    if text.endswith("|") and not text.endswith("\\|") and parts:
        parts = parts[:-1]
    return [part.strip().replace("\\|", "|") for part in parts]


def _is_separator(line: str) -> bool:
    cells = _split_cells(line)
    return "|" in line and bool(cells) and all(re.fullmatch(r":?-{3,}:?", cell) for cell in cells)


SEPARATOR_RUN = re.compile(r"(?<!\\)\|(?:\s*:?-{3,}:?\s*\|){2,}")


def _tables_in_lines(lines: list[str]) -> Iterable[RawTable | AuditInputError]:
    """Tables whose header separator ("| --- | --- |") stands on a line of its own."""
    for index, line in enumerate(lines):
        if not _is_separator(line):
            continue
        width = len(_split_cells(line))
        previous = _split_cells(lines[index - 1]) if index else []
        if len(previous) > 1 or (index and lines[index - 1].strip().startswith("|")):
            if len(previous) != width:
                yield AuditInputError("", f"table header has {len(previous)} cells but its separator line "
                                          f"has {width}", index + 1)
                continue
            table = RawTable("Markdown table", list(previous))
            for number, row in enumerate(lines[index + 1:], start=index + 2):
                if "|" not in row or not row.strip():
                    break
                table.rows.append((list(_split_cells(row)), number))
            yield table
        else:  # one cell per line: "Categories |" / "Subcategories |" / ... then "---|---|"
            header = [lines[i].strip().rstrip("|").strip() for i in range(max(0, index - width), index)]
            if len(header) < width or not all(lines[i].rstrip().endswith("|") for i in range(index - width, index)):
                continue
            stream = []
            for number, row in enumerate(lines[index + 1:], start=index + 2):
                if not row.rstrip().endswith("|"):
                    break
                stream.append((row.strip().rstrip("|").strip(), number))
            yield RawTable("plain text, one table cell per line", list(header), stream=stream, notes=[
                "kept: row ids, parameter names and difference text",
                "lost: links and code marks; empty cells drift between rows, so rows are anchored on their ids"])


def _table_on_one_line(line: str, number: int) -> RawTable | AuditInputError | None:
    """A Markdown table flattened onto one line: rows are restored by the header's column count."""
    separator = SEPARATOR_RUN.search(line)
    if not separator or not line[:separator.start()].strip():
        return None
    width = separator.group().count("|") - 1
    before = re.split(r"(?<!\\)\|", line[:separator.start()])
    if len(before) < width + 2:
        return AuditInputError("", f"table header has fewer cells than its separator ({width})", number)
    header = [cell.strip() for cell in before[-width - 1:-1]]
    tokens = re.split(r"(?<!\\)\|", line[separator.end():])
    if "row" in [_header_role(cell) for cell in header]:  # row ids pin down a row that lost a cell
        anchors = [i for i, token in enumerate(tokens) if ROW_ID.fullmatch(token.strip())]
        for here, following in zip(anchors, anchors[1:]):
            if following - here != width + 1:
                return AuditInputError("", f"row {show(tokens[here].strip())} does not have {width} cells (the table "
                                           "is flattened onto one line)", number)
    table = RawTable("Markdown table flattened onto one line", header, notes=[
        "kept: every cell", f"lost: line breaks; rows restored by taking the cells {width} at a time"])
    at = 0  # each row is a (blank) gap where the line break was, then `width` cells, then a pipe
    while at + width + 1 < len(tokens) and not tokens[at].strip():
        table.rows.append(([cell.strip() for cell in tokens[at + 1:at + 1 + width]], number))
        at += width + 1
    rest = tokens[at:]  # after the last whole row: the page's next block, or a row that lost a cell
    following = rest[1] if len(rest) > 1 and not rest[0].strip() else rest[0]
    if len(rest) > 1 and not re.match(r"\s*(#|```|>)", following):
        count = len(table.rows)
        return AuditInputError("", f"the table flattened onto one line breaks off after {count} "
                                   f"row{'' if count == 1 else 's'}: the next does not have {width} cells", number)
    return table


def _looks_like_name(text: str) -> bool:
    return bool(re.fullmatch(r"[`*]*[A-Za-z_][\w*]*`?(\s*[、,/]\s*[A-Za-z_]\w*)*", text.strip()))


def _table_in_paragraphs(lines: list[str]) -> RawTable | None:
    """A plain-text copy with no pipes at all: one cell per paragraph, rows split by runs of blank lines.

    The table is found by a header cell that survived on a line of its own; cells the rendering dropped
    (in 003 the framework headings and the whole parameter-name column) are marked lost.
    """
    first_roles = {layout.roles[0] for layout in LAYOUTS}
    start = next((i for i, line in enumerate(lines)
                  if HEADER_ROLES.get(_squash(line).lower()) in first_roles), None)
    if start is None:
        return None
    header: list[str | None] = [lines[start].strip()]
    layout = next(layout for layout in LAYOUTS if layout.roles[0] == HEADER_ROLES[_squash(lines[start]).lower()])
    width = len(layout.roles)
    index = start + 1
    while len(header) < width:  # further header cells, where they survived, each on a line of its own
        following = next((i for i in range(index, len(lines)) if lines[i].strip()), None)
        if following is None or HEADER_ROLES.get(_squash(lines[following]).lower()) is None:
            break
        header.append(lines[following].strip())
        index = following + 1
    groups: list[list[tuple[str, int]]] = []
    blanks = 0
    for number, line in enumerate(lines[index:], start=index + 1):
        if not line.strip():
            blanks += 1
            continue
        if _squash(line).lower() in SECTION_HEADINGS:
            break
        if not groups or blanks >= 2:
            groups.append([(line.strip(), number)])
        elif blanks == 1:
            groups[-1].append((line.strip(), number))
        else:  # a paragraph continues
            text, at = groups[-1][-1]
            groups[-1][-1] = (f"{text} {line.strip()}", at)
        blanks = 0
    table = RawTable("plain text, one table cell per paragraph", header + [None] * (width - len(header)))
    if "row" in layout.roles:  # numbered rows: empty cells vanish, so anchor on the row ids as for 002
        table.stream = [cell for group in groups for cell in group]
        table.notes.append("kept: row ids, parameter names and difference text; empty cells are lost")
        return table
    lost_first = groups and all(len(g) == width - 1 for g in groups) and not all(
        _looks_like_name(g[0][0]) for g in groups)
    for group in groups:
        cells: list[str | None] = [cell for cell, _ in group]
        if lost_first:
            cells = [None] + cells
        table.rows.append((cells, group[0][1]))
    table.notes.append(f"kept: {width - 1 if lost_first else width} text cells per row, in page order")
    if len(header) < width:
        table.notes.append(f"lost: header cells (only {', '.join(repr(h) for h in header)} survived), so which "
                           "framework each column describes is not stated")
    if lost_first:
        table.notes.append(f"lost: the '{header[0]}' column, so rows have no ids or parameter names; they are "
                           "recognised by their content against the case file")
    return table


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _header_role(cell: str | None) -> str | None:
    if cell is None:
        return None
    return HEADER_ROLES.get(_squash(cell.replace("*", "")).lower(), "?")


def _recognise(table: RawTable) -> tuple[Layout, list[str | None]]:
    """The layout a header fits and the framework of each side column; AuditInputError if none fits."""
    roles = [_header_role(cell) for cell in table.header]
    shown = clip(" | ".join(clip(cell, 40) if cell is not None else "(lost)" for cell in table.header), 200)
    fitting = [layout for layout in LAYOUTS if len(layout.roles) == len(roles)]
    if not fitting:
        raise AuditInputError("", f"the table has {len(roles)} columns ({shown}); expected "
                              + " or ".join(f"{len(layout.roles)} ({layout.header})" for layout in LAYOUTS))
    for layout in fitting:
        fits = all(role is None or role == want or (want == "side" and role in FAMILIES)
                   for role, want in zip(roles, layout.roles))
        sides = [role for role, want in zip(roles, layout.roles) if want == "side"]
        known = [side for side in sides if side is not None]
        if fits and len(set(known)) == len(known) and any(role is not None for role in roles):
            return layout, sides
    raise AuditInputError("", f"unrecognised table header '{shown}'; expected {EXPECTED_TABLE}")


def _group_stream(table: RawTable, layout: Layout) -> None:
    """Rows from one-cell-per-line text, anchored on row ids because empty cells drift between rows."""
    assert table.stream is not None
    width = len(layout.roles)
    if "row" not in layout.roles:
        cells = [(cell, line) for cell, line in table.stream if cell]
        if len(cells) % width:
            raise AuditInputError("", f"{len(cells)} table cells do not divide into rows of {width} columns")
        table.rows = [([c for c, _ in cells[i:i + width]], cells[i][1]) for i in range(0, len(cells), width)]
        return
    row_column = layout.roles.index("row")
    after = width - row_column - 1
    anchors = [i for i, (cell, _) in enumerate(table.stream) if ROW_ID.fullmatch(cell)]
    leading = [cell for cell, _ in table.stream[:anchors[0]] if cell] if anchors else []
    for k, anchor in enumerate(anchors):
        end = anchors[k + 1] if k + 1 < len(anchors) else len(table.stream)
        rest = [cell for cell, _ in table.stream[anchor + 1:end] if cell]
        row_id, line = table.stream[anchor]
        if len(rest) < after:
            raise AuditInputError("", f"row {show(row_id)} has {len(rest)} cells after its row id; the header has "
                                      f"{after} ({layout.header})", line)
        if len(leading) > row_column:
            raise AuditInputError("", f"row {show(row_id)} has more cells than the table has columns ({width})",
                                  line)
        before = [""] * (row_column - len(leading)) + leading
        table.rows.append((before + [row_id] + rest[:after], line))
        leading = rest[after:]
    if leading:
        raise AuditInputError("", f"the last row has more cells than the table has columns ({width})")


def _rows_of(table: RawTable, layout: Layout, sides: list[str | None]) -> list[PageRow]:
    width = len(layout.roles)
    rows: list[PageRow] = []
    category = None
    for cells, line in table.rows:
        if len(cells) != width:
            raise AuditInputError("", f"table row has {len(cells)} cells; the header has {width} "
                                      f"({layout.header})", line)
        by_role = dict(zip(layout.roles, cells))  # "side" keeps the last; sides are read positionally
        side_cells = [cell for cell, role in zip(cells, layout.roles) if role == "side"]
        category = by_role.get("category") or category
        row_id = by_role.get("row") or by_role.get("key") or None
        if "row" in layout.roles and not ROW_ID.fullmatch(row_id or ""):
            raise AuditInputError("", f"{show(row_id or '(empty)')} stands where a row id ('Parameter 3', 'Input 1') "
                                      f"belongs: a row has cells missing or out of place", line)
        if layout.sides_hold == "names":
            params = {side: _display_name(cell) for side, cell in zip(sides, side_cells)}
            difference = by_role.get("difference") or ""
        else:
            params = None
            difference = " / ".join(cell for cell in side_cells if cell)
        rows.append(PageRow(len(rows) + 1, _squash(row_id) if row_id else None, params, _squash(difference),
                            line, category))
    return rows


def _display_name(cell: str | None) -> str | None:
    """A parameter cell as it reads without Markdown code marks; None where the page has "-"."""
    if cell is None:
        return None
    name = _squash(cell.replace("`", ""))
    return None if name in NO_PARAMETER else name


def _title(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    first = re.sub(r"^\s*#+\s*", "", first)
    first = re.split(r"\s(?:\[!\[|<a\s|#{2,}\s|```)", first)[0]  # a one-line page runs on past the title
    first = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", first)
    return _squash(first)


def _truncation_notes(rows: list[PageRow]) -> list[str]:
    """Cells that end inside a bracket were cut off by the rendering (003 cuts a link this way)."""
    notes = []
    for row in rows:
        texts = [row.difference] + [v for v in (row.params or {}).values() if v]
        for text in texts:
            if any(text.count(o) > text.count(c) for o, c in ("()", "[]")):
                notes.append(f"lost: the end of a cell in {row.label}, cut off inside a bracket ('…{text[-30:]}')")
    return notes


def read_page(path: Path | str) -> Page:
    """Read one page in any of the seen renderings; AuditInputError (one line) on anything else."""
    path = Path(path)
    try:
        if path.is_dir():
            raise AuditInputError(path, "a directory; name a page file")
        if path.stat().st_size > MAX_PAGE_BYTES:
            raise AuditInputError(path, f"{path.stat().st_size} bytes; a mapping page is at most {MAX_PAGE_BYTES} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise AuditInputError(path, f"cannot read: {exc.strerror or exc}") from None
    expected = f"expected an API-mapping page with a difference table ({EXPECTED_TABLE})"
    if b"\x00" in data:
        raise AuditInputError(path, f"binary file; {expected}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AuditInputError(path, f"not UTF-8 text; {expected}") from None
    if not text.strip():
        raise AuditInputError(path, f"empty file; {expected}")
    lines = text.splitlines()
    candidates: list[RawTable | AuditInputError] = list(_tables_in_lines(lines))
    for number, line in enumerate(lines, start=1):
        found = _table_on_one_line(line, number)
        if found is not None:
            candidates.append(found)
    if not candidates:
        found = _table_in_paragraphs(lines)
        if found is not None:
            candidates.append(found)
    if not candidates:
        raise AuditInputError(path, f"no difference table found; {expected}")
    first_problem: AuditInputError | None = None
    for table in candidates:
        try:
            if isinstance(table, AuditInputError):
                raise table
            layout, sides = _recognise(table)
            if table.stream is not None:
                _group_stream(table, layout)
            rows = _rows_of(table, layout, sides)
        except AuditInputError as exc:
            first_problem = first_problem or AuditInputError(path, exc.problem, exc.line)
            continue
        if not rows:
            first_problem = first_problem or AuditInputError(path, "the difference table has no rows")
            continue
        address = SOURCE_ADDRESS.search(text)
        notes = table.notes + _truncation_notes(rows)
        if address is None:
            notes.append("lost: the source address; the case file is found by this file's name, or by title and rows")
        return Page(path, _title(text), address.group() if address else None, table.form, layout, sides, rows,
                    notes)
    assert first_problem is not None
    raise first_problem


# --- case files ----------------------------------------------------------------------------------


@dataclass
class CaseRef:
    """What the audit needs of one case: its row, its parameter pair, and the renderings it is on."""

    row: str
    params: dict[str, str | None]
    only_in: list[str]
    index: int


@dataclass
class CaseFileInfo:
    path: Path
    title: str
    addresses: list[str]
    renderings: dict[str, int]  # seed file name -> rows
    cases: list[CaseRef]  # one per table row; cases about the page's code example are kept apart
    example_cases: list[CaseRef] = field(default_factory=list)

    @property
    def families(self) -> set[str]:
        return {side for case in self.cases for side in case.params}


def load_case_file(path: Path) -> CaseFileInfo:
    """Read the parts of a case file the audit uses, without validating checks or verdicts."""
    def bad(message: str) -> AuditInputError:
        return AuditInputError(path, f"{message}; expected a case file with 'page' and 'cases' (see mapping/cases.py)")

    try:
        data = read_yaml(path)
    except YAMLInputError as exc:  # unreadable, not UTF-8, not YAML, a duplicate key, an alias: file and line
        raise AuditInputError(path, exc.problem, exc.line) from None
    if not isinstance(data, dict) or not isinstance(data.get("page"), dict) or not isinstance(data.get("cases"), list):
        raise bad("not a mapping with 'page' and 'cases'")
    page = data["page"]
    renderings = {}
    for rendering in page.get("renderings") or []:
        if isinstance(rendering, dict) and rendering.get("seed"):
            renderings[str(rendering["seed"])] = rendering.get("rows")
    addresses = [str(page["address"])] if page.get("address") else []
    addresses += [str(a) for a in (page.get("reference_addresses") or {}).values()]
    cases = []
    for index, case in enumerate(data["cases"]):
        if not isinstance(case, dict) or not case.get("row"):
            raise bad(f"case #{index + 1} has no 'row'")
        params = case.get("params") or {}
        if not isinstance(params, dict):
            raise bad(f"case {case['row']!r}: 'params' is not a mapping")
        params = {FAMILY_ALIASES.get(str(k).lower(), str(k).lower()): None if v is None else str(v)
                  for k, v in params.items()}
        cases.append(CaseRef(str(case["row"]), params, [str(s) for s in case.get("only_in") or []], index))
    examples = {str(row) for row in page.get("example_rows") or []}  # cases about the code, not a table row
    return CaseFileInfo(path, str(page.get("title") or ""), addresses, renderings,
                        [c for c in cases if c.row not in examples], [c for c in cases if c.row in examples])


def load_case_files(where: Path) -> list[CaseFileInfo]:
    if where.is_file():
        return [load_case_file(where)]
    if where.is_dir():
        return [load_case_file(p) for p in case_files(where)]
    raise AuditInputError(where, "no such case file or directory")


# --- matching rows to cases ----------------------------------------------------------------------


def _name_key(value: str | None) -> str | None:
    """A parameter name for comparison: no backticks or spaces, "-" meaning none, case-insensitive."""
    if value is None:
        return None
    name = re.sub(r"[`\s]", "", value)
    return None if name in NO_PARAMETER else name.casefold()


def _row_key(row: str) -> str:
    """A row id for comparison: "Parameter 24 (**kwargs)" -> "parameter 24"; "output、hn、cn" -> "output/hn/cn"."""
    numbered = ROW_ID.match(row)
    if numbered:
        kind = ROW_KINDS.get(numbered["kind"], numbered["kind"].lower().rstrip("s"))
        return f"{kind} {int(numbered['number'])}"
    return "/".join(part for part in re.split(r"[\s、,，/`]+", row.casefold()) if part)


def _numbered(row: str | None) -> bool:
    return bool(row and ROW_ID.match(row))


def _same_params(page: dict[str | None, str | None], case: dict[str, str | None]) -> bool:
    return all(side is not None and side in case and _name_key(case[side]) == _name_key(name)
               for side, name in page.items())


def _identifiers(case: CaseRef) -> list[str]:
    names = [] if _numbered(case.row) else _row_key(case.row).split("/")
    return names + [name for name in case.params.values() if name]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.casefold().replace("_", " "))


def content_score(row: PageRow, case: CaseRef) -> float:
    """How clearly a row's text names the case's parameter: 1 when a name appears whole ("input size"
    for input_size), 0.5 when all its parts do, abbreviations allowed ("num" in "number")."""
    words = _words(row.difference)
    text = f" {' '.join(words)} "
    best = 0.0
    for identifier in _identifiers(case):
        parts = _words(identifier)
        if not parts:
            continue
        if f" {' '.join(parts)} " in text:
            return 1.0
        found = sum(any(w == p or (len(p) >= 3 and w.startswith(p)) for w in words) for p in parts)
        best = max(best, 0.5 * found / len(parts))
    return best


def _align_by_content(rows: list[PageRow], cases: list[CaseRef], threshold: float = 0.5
                      ) -> list[tuple[PageRow, CaseRef, float]]:
    """Pair rows with cases in page order, maximising the summed content score (a weighted LCS)."""
    scores = [[content_score(r, c) for c in cases] for r in rows]
    best = [[0.0] * (len(cases) + 1) for _ in range(len(rows) + 1)]
    for i in range(1, len(rows) + 1):
        for j in range(1, len(cases) + 1):
            pair = best[i - 1][j - 1] + scores[i - 1][j - 1] if scores[i - 1][j - 1] >= threshold else -1.0
            best[i][j] = max(best[i - 1][j], best[i][j - 1], pair)
    pairs, i, j = [], len(rows), len(cases)
    while i and j:
        score = scores[i - 1][j - 1]
        if score >= threshold and best[i][j] == best[i - 1][j - 1] + score:
            pairs.append((rows[i - 1], cases[j - 1], score))
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


@dataclass
class Match:
    row: PageRow
    case: CaseRef
    how: str  # "parameters", "row id", "parameter name", "content"
    score: float | None = None


@dataclass
class Coverage:
    matches: list[Match]
    uncovered: list[PageRow]
    orphaned: list[CaseRef]  # expected on this rendering, no row found
    elsewhere: list[CaseRef]  # only_in other renderings; page is not a listed rendering, row not found

    @property
    def renumbered(self) -> list[Match]:
        return [m for m in self.matches if _numbered(m.row.row_id) and _numbered(m.case.row)
                and _row_key(m.row.row_id or "") != _row_key(m.case.row)]

    @property
    def params_changed(self) -> list[Match]:
        return [m for m in self.matches if m.row.params is not None and not _same_params(m.row.params, m.case.params)]


def match_rows(page: Page, cases: list[CaseRef], rendering: str | None) -> Coverage:
    """Rows to cases: by parameter pair, then row id (or the name a keyed row is about), then content."""
    def expected(case: CaseRef) -> bool:
        return not case.only_in or (rendering in case.only_in if rendering else False)

    free = list(cases)
    matched: dict[int, Match] = {}

    def take(row: PageRow, candidates: list[CaseRef], how: str, score: float | None = None) -> None:
        case = min(candidates, key=lambda c: (not expected(c), _row_key(c.row) != _row_key(row.row_id or ""),
                                              c.index))
        free.remove(case)
        matched[row.position] = Match(row, case, how, score)

    for row in page.rows:
        if row.params is not None:
            same = [c for c in free if _same_params(row.params, c.params)]
            if same:
                take(row, same, "parameters")
    for row in page.rows:
        if row.position in matched or row.row_id is None:
            continue
        same_id = [c for c in free if _row_key(c.row) == _row_key(row.row_id)]
        if same_id:
            take(row, same_id, "row id")
        elif row.params is None:  # a keyed row is about a parameter the case may name on either side
            names = set(_row_key(row.row_id).split("/"))
            named = [c for c in free if names & {_name_key(v) for v in c.params.values() if v}]
            if named:
                take(row, named, "parameter name")
    loose = [r for r in page.rows if r.position not in matched and r.row_id is None and r.params is None]
    for row, case, score in _align_by_content(loose, free):
        take(row, [case], "content", round(score, 2))
    return Coverage([matched[r.position] for r in page.rows if r.position in matched],
                    [r for r in page.rows if r.position not in matched],
                    [c for c in free if expected(c)],
                    [c for c in free if not expected(c) and rendering is None])


# --- choosing the case file ----------------------------------------------------------------------


def _document(address: str) -> tuple[str, ...]:
    """A source address without its language folder: the zh and en copies of a page are one document."""
    return tuple(re.sub(r"/source_[a-z_]+/", "/source_*/", address.rstrip("/")).split("/blob/"))


def _title_score(page_title: str, case_title: str) -> float:
    if _squash(page_title).casefold() == _squash(case_title).casefold():
        return 1.0
    apis = set(API_NAME.findall(page_title))
    return 0.5 if apis and apis == set(API_NAME.findall(case_title)) else 0.0


def choose_case_file(page: Page, case_files: list[CaseFileInfo]) -> tuple[CaseFileInfo | None, str]:
    """The case file for a page: by source address, else by rendering name, else (for a page whose
    rendering lost its address) by title, frameworks and rows. A page whose address no case file has is
    another document (another docs version, say), so title and rows do not count for it."""
    candidates = case_files
    if page.address:
        for how, same in (("source address", lambda a: a == page.address),
                          ("source address (other language)", lambda a: _document(a) == _document(page.address))):
            hits = [cf for cf in candidates if any(same(a) for a in cf.addresses)]
            if len(hits) == 1:
                return hits[0], f"by {how}"
            if hits:
                candidates = hits
                break
    listed = [cf for cf in candidates if page.path.name in cf.renderings]
    if len(listed) == 1:
        return listed[0], "listed as a rendering"
    if page.address and not any(_document(a) == _document(page.address) for cf in candidates for a in cf.addresses):
        return None, f"no case file has this page's source address {page.address}; --cases FILE forces one"

    def fit(cf: CaseFileInfo) -> float | None:
        """None unless the case file is about the same API and frameworks and has half the page's rows."""
        title = _title_score(page.title, cf.title)
        covered = len(match_rows(page, cf.cases, None).matches) / len(page.rows)
        if not title or covered < 0.5 or not {side for side in page.sides if side} <= cf.families:
            return None
        same_size = 0.25 if len(page.rows) in cf.renderings.values() else 0.0
        return 2 * covered + title + same_size

    scored = sorted(((score, cf) for cf in candidates if (score := fit(cf)) is not None), key=lambda item: -item[0])
    if not scored:
        return None, ("no case file has this page's address or rendering name, or its API, frameworks and half "
                      "of its rows")
    if len(scored) > 1 and scored[0][0] - scored[1][0] < 1e-9:
        raise AuditInputError(page.path, f"cannot tell which case file covers this page ({scored[0][1].path.name} or "
                                         f"{scored[1][1].path.name}); pass --cases FILE")
    return scored[0][1], "by title and rows"


# --- the report ----------------------------------------------------------------------------------


@dataclass
class PageReport:
    page: Page
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
        taken = {_row_key(c.row) for c in self.case_file.cases} if self.case_file else set()
        several = self.case_file is not None and len(self.case_file.renderings) > 1 and self.rendering
        for row in uncovered:
            name = row.row_id or "TODO: name the parameter (this rendering lost it)"
            if row.row_id and _row_key(row.row_id) in taken:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mapping.audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", type=Path, metavar="PAGE")
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES, metavar="DIR_OR_FILE",
                        help="a case file to audit against, or a directory of them (default: cases/)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    try:
        case_files = load_case_files(args.cases)
    except AuditInputError as exc:
        print(f"audit: {exc}", file=sys.stderr)
        return BAD_INPUT
    results: list[dict[str, Any]] = []
    texts: list[str] = []
    worst = FULL_COVERAGE
    for path in args.pages:
        try:
            report = audit_page(path, case_files, forced=args.cases.is_file())
        except AuditInputError as exc:
            print(f"audit: {exc}", file=sys.stderr)
            results.append({"page": str(path), "error": str(exc), "exit_code": BAD_INPUT})
            worst = BAD_INPUT
            continue
        worst = max(worst, report.exit_code)
        if args.format == "json":
            results.append(report.to_json())
        else:
            texts.append(report.to_text())
    if args.format == "json":
        texts = [json.dumps({"pages": results, "exit_code": worst}, ensure_ascii=False, indent=2)]
    try:
        if texts:
            print("\n".join(texts))
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (`| head`) went away: not an error of the audit
        sys.stdout = open(os.devnull, "w")
    return worst


if __name__ == "__main__":
    sys.exit(main())
