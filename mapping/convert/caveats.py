"""What the weights alone do not carry, from the suite's own measurements: the caveats of a port.

A port between two frameworks is covered by every case file whose page is about the stack's op and measures
both frameworks (a vendor's mapping page, or a supplement such as padding semantics or dropout structure).
Each case of such a page whose recorded verdict, for either framework at its installed version, is anything
but ``equivalent`` is a caveat: a finding with its correction (``diverges``), a feature one side lacks
(``no_counterpart``, ``equal_at_default``), or a recipe the suite ran (``equivalent_with_recipe``: the
forget-gate bias initialisation, regularisers, ...). The text is the case's own, so there is no second copy
of it to drift; a new case or a changed verdict changes what ``mapping convert`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import frameworks
from ..cases import CaseFile, CaseFileError, case_files, load_cached
from ..errors import MappingError
from ..verdicts import Verdict

#: The project's case files.
DEFAULT_CASES = Path(__file__).resolve().parents[2] / "cases"

#: Caveats are listed most serious first.
SEVERITY = (Verdict.DIVERGES, Verdict.NO_COUNTERPART, Verdict.EQUAL_AT_DEFAULT, Verdict.NOT_APPLICABLE,
            Verdict.EQUIVALENT_WITH_RECIPE)


@dataclass(frozen=True)
class Caveat:
    """One case of a page that covers the port, whose verdict is not plain equivalence."""

    page: str  # the page's title
    row: str
    where: str  # case file and row, to look it up
    verdicts: dict[str, str]  # framework -> recorded verdict at the installed version
    verdict: Verdict  # the more serious of the two
    text: str  # the correction of a finding, else the claim
    recipe: str | dict | None  # the case's recipe: free text, or the recipe functions it names

    def line(self) -> str:
        sides = ", ".join(f"{frameworks.get(f).label} {v.replace('_', ' ')}" for f, v in self.verdicts.items())
        return f"[{self.page} / {self.row}] ({sides}) {self.text}"


@dataclass(frozen=True)
class CaseSource:
    """The case files read, and the ones that could not be (one line each)."""

    files: list[tuple[Path, CaseFile]]
    problems: list[str]


def read_cases(cases_dir: Path | str = DEFAULT_CASES) -> CaseSource:
    files, problems = [], []
    folder = Path(cases_dir)
    if not folder.is_dir():
        return CaseSource([], [f"{folder}: no case files here (the project's cases/ folder; --cases names another)"])
    for path in case_files(folder):
        try:
            files.append((path, load_cached(str(path))))
        except (CaseFileError, MappingError, OSError) as exc:
            problems.append(str(exc))
    return CaseSource(files, problems)


def _covering(source: CaseSource, first: str, second: str, op: str):
    """(path, case file, case) for every case that measures both frameworks on a page about ``op``."""
    for path, case_file in source.files:
        if case_file.page.op != op:
            continue
        for case in case_file.cases:
            measured = case_file.frameworks_of(case)
            if first in measured and second in measured:
                yield path, case_file, case


def caveats_for(source_framework: str, target_framework: str, op: str, cases: CaseSource) -> list[Caveat]:
    """The caveats of porting ``op`` from ``source_framework`` to ``target_framework``, most serious first."""
    found = []
    pair = list(dict.fromkeys([source_framework, target_framework]))
    for path, case_file, case in _covering(cases, source_framework, target_framework, op):
        verdicts = {f: case.expected_verdict(f, frameworks.get(f).version()) for f in pair}
        worst = min(verdicts.values(), key=lambda v: SEVERITY.index(v) if v in SEVERITY else len(SEVERITY))
        if worst == Verdict.EQUIVALENT:
            continue
        text = case.correction if worst == Verdict.DIVERGES and case.correction else case.claim
        found.append(Caveat(page=case_file.page.title, row=case.row, where=f"{_shown(path)}: {case.row}",
                            verdicts={f: v.value for f, v in verdicts.items()}, verdict=worst,
                            text=" ".join(text.split()), recipe=case.recipe))
    found.sort(key=lambda c: SEVERITY.index(c.verdict) if c.verdict in SEVERITY else len(SEVERITY))
    return found


def recipes_for_field(field: str, source_framework: str, target_framework: str, op: str,
                      cases: CaseSource) -> list[tuple[str, str]]:
    """(where, recipe) of the cases covering the pair that are about spec field ``field`` (what the suite says
    to do where the target has no counterpart)."""
    from .. import recipes

    found = []
    for path, _case_file, case in _covering(cases, source_framework, target_framework, op):
        if case.args.get("field") != field or not case.recipe:
            continue
        where = f"{_shown(path)}: {case.row}"
        if isinstance(case.recipe, str):
            found.append((where, case.recipe.strip()))
            continue
        for name in case.recipe_names(target_framework):  # a recipe function the suite executes
            doc = (recipes.shown(target_framework, name).__doc__ or "").replace("``", "")
            summary = " ".join(doc.split(". ")[0].split(" (")[0].split())
            found.append((where, f"{name}() in mapping/recipes/{recipes.MODULES[target_framework]}.py, executed by "
                                 f"the suite: {summary.rstrip('.')}."))
    return found


def _shown(path: Path) -> str:
    root = DEFAULT_CASES.parent
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
