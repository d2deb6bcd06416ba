"""Reading a mapping page in any of its renderings into rows: (row id, parameter per framework family,
difference text). Markdown tables, tables flattened onto one line or one cell per line, and plain-text copies
that lost their parameter-name column."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .. import frameworks
from ..errors import MappingError, clip, show

#: A page larger than this is refused unread (the pages are tens of kilobytes).
MAX_PAGE_BYTES = 8 << 20

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
#: Families a page may name a column by: the registry's, and JAX (pages compare it too; no adapter runs it).
FAMILIES = frameworks.FAMILIES | {"jax"}
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
class PageTable:
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
                  if HEADER_ROLES.get(squash(line).lower()) in first_roles), None)
    if start is None:
        return None
    header: list[str | None] = [lines[start].strip()]
    layout = next(layout for layout in LAYOUTS if layout.roles[0] == HEADER_ROLES[squash(lines[start]).lower()])
    width = len(layout.roles)
    index = start + 1
    while len(header) < width:  # further header cells, where they survived, each on a line of its own
        following = next((i for i in range(index, len(lines)) if lines[i].strip()), None)
        if following is None or HEADER_ROLES.get(squash(lines[following]).lower()) is None:
            break
        header.append(lines[following].strip())
        index = following + 1
    groups: list[list[tuple[str, int]]] = []
    blanks = 0
    for number, line in enumerate(lines[index:], start=index + 1):
        if not line.strip():
            blanks += 1
            continue
        if squash(line).lower() in SECTION_HEADINGS:
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


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _header_role(cell: str | None) -> str | None:
    if cell is None:
        return None
    return HEADER_ROLES.get(squash(cell.replace("*", "")).lower(), "?")


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
        rows.append(PageRow(len(rows) + 1, squash(row_id) if row_id else None, params, squash(difference),
                            line, category))
    return rows


def _display_name(cell: str | None) -> str | None:
    """A parameter cell as it reads without Markdown code marks; None where the page has "-"."""
    if cell is None:
        return None
    name = squash(cell.replace("`", ""))
    return None if name in NO_PARAMETER else name


def _title(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    first = re.sub(r"^\s*#+\s*", "", first)
    first = re.split(r"\s(?:\[!\[|<a\s|#{2,}\s|```)", first)[0]  # a one-line page runs on past the title
    first = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", first)
    return squash(first)


def _truncation_notes(rows: list[PageRow]) -> list[str]:
    """Cells that end inside a bracket were cut off by the rendering (003 cuts a link this way)."""
    notes = []
    for row in rows:
        texts = [row.difference] + [v for v in (row.params or {}).values() if v]
        for text in texts:
            if any(text.count(o) > text.count(c) for o, c in ("()", "[]")):
                notes.append(f"lost: the end of a cell in {row.label}, cut off inside a bracket ('…{text[-30:]}')")
    return notes


def read_page(path: Path | str) -> PageTable:
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
        return PageTable(path, _title(text), address.group() if address else None, table.form, layout, sides, rows,
                    notes)
    assert first_problem is not None
    raise first_problem
