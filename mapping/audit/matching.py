"""Matching a page's rows to cases (by parameter pair, row id, then content) and choosing the case file of a page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .index import CaseFileInfo, CaseRef
from .pages import (
    API_NAME,
    NO_PARAMETER,
    ROW_ID,
    ROW_KINDS,
    AuditInputError,
    PageRow,
    PageTable,
    squash,
)

# --- matching rows to cases ----------------------------------------------------------------------


def _name_key(value: str | None) -> str | None:
    """A parameter name for comparison: no backticks or spaces, "-" meaning none, case-insensitive."""
    if value is None:
        return None
    name = re.sub(r"[`\s]", "", value)
    return None if name in NO_PARAMETER else name.casefold()


def row_key(row: str) -> str:
    """A row id for comparison: "Parameter 24 (**kwargs)" -> "parameter 24"; "output、hn、cn" -> "output/hn/cn"."""
    numbered = ROW_ID.match(row)
    if numbered:
        kind = ROW_KINDS.get(numbered["kind"], numbered["kind"].lower().rstrip("s"))
        return f"{kind} {int(numbered['number'])}"
    return "/".join(part for part in re.split(r"[\s、,，/`]+", row.casefold()) if part)


def _numbered(row: str | None) -> bool:
    return bool(row and ROW_ID.match(row))


def same_params(page: dict[str | None, str | None], case: dict[str, str | None]) -> bool:
    return all(side is not None and side in case and _name_key(case[side]) == _name_key(name)
               for side, name in page.items())


def _identifiers(case: CaseRef) -> list[str]:
    names = [] if _numbered(case.row) else row_key(case.row).split("/")
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
                and row_key(m.row.row_id or "") != row_key(m.case.row)]

    @property
    def params_changed(self) -> list[Match]:
        return [m for m in self.matches if m.row.params is not None and not same_params(m.row.params, m.case.params)]


def match_rows(page: PageTable, cases: list[CaseRef], rendering: str | None) -> Coverage:
    """Rows to cases: by parameter pair, then row id (or the name a keyed row is about), then content."""
    def expected(case: CaseRef) -> bool:
        return not case.only_in or (rendering in case.only_in if rendering else False)

    free = list(cases)
    matched: dict[int, Match] = {}

    def take(row: PageRow, candidates: list[CaseRef], how: str, score: float | None = None) -> None:
        case = min(candidates, key=lambda c: (not expected(c), row_key(c.row) != row_key(row.row_id or ""),
                                              c.index))
        free.remove(case)
        matched[row.position] = Match(row, case, how, score)

    for row in page.rows:
        if row.params is not None:
            same = [c for c in free if same_params(row.params, c.params)]
            if same:
                take(row, same, "parameters")
    for row in page.rows:
        if row.position in matched or row.row_id is None:
            continue
        same_id = [c for c in free if row_key(c.row) == row_key(row.row_id)]
        if same_id:
            take(row, same_id, "row id")
        elif row.params is None:  # a keyed row is about a parameter the case may name on either side
            names = set(row_key(row.row_id).split("/"))
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
    if squash(page_title).casefold() == squash(case_title).casefold():
        return 1.0
    apis = set(API_NAME.findall(page_title))
    return 0.5 if apis and apis == set(API_NAME.findall(case_title)) else 0.0


def choose_case_file(page: PageTable, case_files: list[CaseFileInfo]) -> tuple[CaseFileInfo | None, str]:
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
