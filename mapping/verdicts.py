"""The verdicts a case can record: richer than pass or fail, because a false claim is a finding."""

from __future__ import annotations

from enum import Enum


class Verdict(str, Enum):
    EQUIVALENT = "equivalent"
    """The page's mapping holds as stated: same arguments in, same numbers out."""
    EQUIVALENT_WITH_RECIPE = "equivalent_with_recipe"
    """No direct counterpart, but the workaround a user would write gives the same numbers."""
    EQUAL_AT_DEFAULT = "equal_at_default"
    """One side lacks the parameter; the sides agree at its default and only there."""
    NO_COUNTERPART = "no_counterpart"
    """One side has a feature the other cannot express; the page says so and the suite confirms it."""
    DIVERGES = "diverges"
    """The page's claim is false or misleading for the installed versions (a finding)."""
    NOT_APPLICABLE = "not_applicable"
    """The parameter or API the row is about does not exist in the installed version."""

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


#: Verdicts for which a case must say what the page should have said.
NEEDS_CORRECTION = {Verdict.DIVERGES}
