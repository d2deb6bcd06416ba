"""How the report says things in words, the same way on the page, in the exports and in the CI summary:
verdicts with their symbols and meanings, frameworks by their registry labels, one-line corrections."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .. import frameworks
from ..verdicts import Verdict
from .merge import MIXED, NO_VERDICT, RowView


@dataclass(frozen=True)
class VerdictStyle:
    """How one verdict is shown: a symbol (so colour is never the only signal), a label and its meaning."""

    value: str
    symbol: str
    label: str
    meaning: str
    holds: bool  # the page's claim holds under this verdict


VERDICT_STYLES: dict[str, VerdictStyle] = {s.value: s for s in (
    VerdictStyle(Verdict.EQUIVALENT.value, "✓", "equivalent",
                 "the mapping holds as the page states it: same arguments in, same numbers out", True),
    VerdictStyle(Verdict.EQUIVALENT_WITH_RECIPE.value, "R", "equivalent with recipe",
                 "no direct counterpart; the workaround a user writes gives the same numbers", True),
    VerdictStyle(Verdict.EQUAL_AT_DEFAULT.value, "D", "equal at default",
                 "one side lacks the parameter; the sides agree at its default value and only there", True),
    VerdictStyle(Verdict.NO_COUNTERPART.value, "∅", "no counterpart",
                 "one side has a feature the other cannot express, as the page says", True),
    VerdictStyle(Verdict.DIVERGES.value, "✗", "diverges",
                 "the page's claim is false or misleading for the installed release: a finding", False),
    VerdictStyle(Verdict.NOT_APPLICABLE.value, "–", "not applicable",
                 "the parameter or API the row is about does not exist in the installed release", False),
    VerdictStyle(NO_VERDICT, "?", "no verdict", "skipped (framework not installed) or the case could not run", False),
    VerdictStyle(MIXED, "±", "mixed", "environments measured different verdicts on the same version", False),
)}


def verdict_style(verdict: str | None) -> VerdictStyle:
    return VERDICT_STYLES.get(verdict or NO_VERDICT) or VerdictStyle(verdict or "", "?", verdict or "", "", False)


def framework_label(name: str) -> str:
    return frameworks.get(name).label if name in frameworks.FRAMEWORKS else name


def framework_description(name: str) -> str:
    return frameworks.get(name).description if name in frameworks.FRAMEWORKS else ""


def with_version(name: str, version: str | None) -> str:
    return f"{framework_label(name)} {version}" if version else f"{framework_label(name)} (not installed)"


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'`])")


def first_sentence(text: str | None, limit: int = 220) -> str:
    """The first sentence (the one-line form of a correction), cut at ``limit`` characters on a word."""
    if not text:
        return ""
    text = " ".join(text.split())
    first = _SENTENCE_END.split(text, maxsplit=1)[0]
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0] + "…"
    return first


def row_title(row: RowView) -> str:
    """The row and the parameter names it is about: "Parameter 16 (dropout / dropout)"."""
    names = [name for name in row.params.values() if name]
    unique = list(dict.fromkeys(names))
    return f"{row.row} ({' / '.join(unique)})" if unique and not all(n in row.row for n in unique) else row.row


def verdicts_in_words(row: RowView) -> str:
    """Each framework's measured verdict with its version, grouped by verdict: what an export or summary says."""
    groups: dict[str, list[str]] = {}
    for framework, by_version in row.verdicts().items():
        for version, verdicts in by_version.items():
            measured = sorted({v or NO_VERDICT for v in verdicts})
            verdict = measured[0] if len(measured) == 1 else MIXED
            groups.setdefault(verdict, []).append(with_version(framework, version))
    return "; ".join(f"{verdict_style(v).label} on {', '.join(names)}" for v, names in groups.items())


def short_number(value: float | None) -> str:
    if value is None:
        return "—"
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == 0:
        return "0"
    return f"{value:.3g}"
