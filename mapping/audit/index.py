"""The index of case files the audit matches pages against.

Case files are read with the case loader's strict YAML reader (:func:`mapping.cases.read_yaml`: UTF-8, no
duplicate keys, no anchors or aliases) but not validated: only ``page`` and each case's ``row``, ``params``
and ``only_in`` are used, so the audit works on case files whose checks are not written yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..cases import YAMLInputError, case_files, read_yaml
from .pages import FAMILY_ALIASES, AuditInputError

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


def index_case_file(path: Path) -> CaseFileInfo:
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


def index_case_files(where: Path) -> list[CaseFileInfo]:
    if where.is_file():
        return [index_case_file(where)]
    if where.is_dir():
        return [index_case_file(p) for p in case_files(where)]
    raise AuditInputError(where, "no such case file or directory")
