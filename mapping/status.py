"""A row's status for readers, from its results: does the page's claim hold, and does a caveat bite?

Imports no framework (only the results schema and the verdicts), so the report can use it on any results file.
A result's status:

* ``holds``: the measured verdict says the page's claim holds (equivalent, equivalent with recipe, equal at
  default, or the confirmed absence of a counterpart) and no caveat bites;
* ``holds_with_caveats``: the claim holds, and at least one caveat measured on this framework bites (a trap, or
  the sides behave differently where the page implies they are the same: :mod:`mapping.probes`);
* ``false``: the claim does not hold (diverges);
* ``not_applicable``: the parameter does not exist in the measured version;
* ``not_measured``: skipped (framework not installed) or no verdict (the case could not run).

A row's status over several frameworks is the most severe of theirs, in :data:`SEVERITY` order.
"""

from __future__ import annotations

from enum import Enum
from typing import Iterable

from .results import CaseResult
from .verdicts import Verdict

#: Verdicts under which the page's claim holds.
HOLDS = frozenset({Verdict.EQUIVALENT, Verdict.EQUIVALENT_WITH_RECIPE, Verdict.EQUAL_AT_DEFAULT,
                   Verdict.NO_COUNTERPART})


class Status(str, Enum):
    HOLDS = "holds"
    HOLDS_WITH_CAVEATS = "holds_with_caveats"
    FALSE = "false"
    NOT_APPLICABLE = "not_applicable"
    NOT_MEASURED = "not_measured"

    @property
    def label(self) -> str:
        return {"holds_with_caveats": "holds, with caveats"}.get(self.value, self.value.replace("_", " "))


#: Most severe first: a row with one false framework is false.
SEVERITY = (Status.FALSE, Status.HOLDS_WITH_CAVEATS, Status.HOLDS, Status.NOT_APPLICABLE, Status.NOT_MEASURED)


def result_status(result: CaseResult) -> Status:
    """The status of one (row, framework) result."""
    if result.measured_verdict is None:
        return Status.NOT_MEASURED
    verdict = Verdict(result.measured_verdict)
    if verdict == Verdict.NOT_APPLICABLE:
        return Status.NOT_APPLICABLE
    if verdict not in HOLDS:
        return Status.FALSE
    return Status.HOLDS_WITH_CAVEATS if any(c.bites for c in result.caveats) else Status.HOLDS


def row_status(results: Iterable[CaseResult]) -> Status:
    """The status of a row over the results of its frameworks: the most severe of theirs."""
    found = {result_status(r) for r in results}
    return next((s for s in SEVERITY if s in found), Status.NOT_MEASURED)


def biting(results: Iterable[CaseResult]) -> list[tuple[str, str, str]]:
    """(framework, caveat title, behaviour) of every caveat that bites in ``results``, in order."""
    return [(r.framework, c.title, c.behaviour) for r in results for c in r.caveats if c.bites]
