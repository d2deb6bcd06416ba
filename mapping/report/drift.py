"""Which side of a drift holds on the versions a page was written for.

When a row's verdict differs between releases of one framework (:meth:`mapping.report.merge.RowView.drift`),
a reader wants to know whether the page was right when it was written and stopped being right, or the
other way round. :func:`written_for` places the page's ``written_against`` version among the measured ones
(on the scale the page uses: TensorFlow's version for tf.keras, whose results report Keras's) and says which
side holds there and on today's (the newest measured) release.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Literal

from .. import frameworks, versions
from ..results import PageRecord
from ..verdicts import Verdict

if TYPE_CHECKING:
    from .merge import RowView


#: Verdicts under which the page's claim holds (as stated, with its recipe, at the default, or as a stated gap).
HOLDING_VERDICTS = frozenset({Verdict.EQUIVALENT.value, Verdict.EQUIVALENT_WITH_RECIPE.value,
                              Verdict.EQUAL_AT_DEFAULT.value, Verdict.NO_COUNTERPART.value})

#: written_against values of pages about whatever release is installed (the project's supplement pages).
UNVERSIONED = ("installed", "any")

ClaimStatus = Literal["holds", "does not hold", "does not apply", "mixed"]


def claim_status(verdicts: Iterable[str]) -> ClaimStatus:
    """Whether the page's claim holds under the verdicts measured on one version (several: environments disagree)."""
    found = set(verdicts)
    if len(found) != 1:
        return "mixed"
    (verdict,) = found
    if verdict in HOLDING_VERDICTS:
        return "holds"
    return "does not apply" if verdict == Verdict.NOT_APPLICABLE.value else "does not hold"


def _distance(a: versions.Version, b: versions.Version) -> tuple[int, int]:
    """How far apart two releases are, for ordering: a difference in the major part outweighs any in the minor,
    which outweighs any in the micro part (2.3 is nearer 2.4.1 than 2.1, and 2.9 nearer 2.10 than 3.0)."""
    ra, rb = a.release, b.release
    width = max(len(ra), len(rb))
    ra, rb = ra + (0,) * (width - len(ra)), rb + (0,) * (width - len(rb))
    for index, (x, y) in enumerate(zip(ra, rb)):
        if x != y:
            return (-index, abs(x - y))
    return (-width, 0)


@dataclass(frozen=True)
class VersionPoint:
    """The verdicts measured on one version of one framework, for one row."""

    version: str  # the framework version the results report (the drift key; Keras's for tf.keras)
    page_scale: str | None  # the same release on the page's scale (TensorFlow's version for tf.keras), if known
    verdicts: tuple[str, ...]
    environments: tuple[str, ...]

    @property
    def verdict(self) -> str:
        return " / ".join(self.verdicts)

    @property
    def status(self) -> ClaimStatus:
        return claim_status(self.verdicts)

    def describe(self, key: str | None) -> str:
        scale = f" ({key} {self.page_scale})" if key and self.page_scale and self.page_scale != self.version else ""
        return f"{self.version}{scale}: {self.verdict.replace('_', ' ')}"


WrittenSide = Literal["written-for", "today", "both", "neither", "same-version", "unknown"]


@dataclass(frozen=True)
class WrittenFor:
    """For one drifting framework of one row: which side holds on the versions the page was written for.

    ``written`` is the measured version nearest to the page's (the nearest below or above it; the oldest or
    newest measured where the page's lies outside them); ``today`` is the newest measured version.
    """

    framework: str
    page_key: str | None  # the written_against key used, e.g. "tensorflow"
    page_version: str | None  # as the page states it, e.g. "2.6"
    written: VersionPoint | None
    today: VersionPoint
    exact: bool  # a measured version is the page's own
    side: WrittenSide
    summary: str

    @property
    def page_label(self) -> str:
        return f"{self.page_key} {self.page_version}" if self.page_key else "not stated"


def _nearest(target: versions.Version, points: list[tuple[versions.Version, VersionPoint]]) -> VersionPoint:
    ordered = sorted(points, key=lambda p: p[0])
    below = [p for p in ordered if p[0] <= target]
    above = [p for p in ordered if p[0] >= target]
    if not below:
        return above[0][1]
    if not above:
        return below[-1][1]
    low, high = below[-1], above[0]
    return low[1] if _distance(target, low[0]) <= _distance(target, high[0]) else high[1]


def written_for(view: RowView, framework: str, page: PageRecord | None) -> WrittenFor:
    """Relate the drift of ``framework`` on ``view`` to the version the page was written for."""
    written_against = page.written_against if page else {}
    page_versions = dict(frameworks.get(framework).page_versions) if framework in frameworks.FRAMEWORKS else {}
    key = next((k for k in page_versions if k in written_against), None)
    points = view.version_points(framework, page_versions.get(key) if key else None)
    today = points[-1]

    def result(written: VersionPoint | None, side: WrittenSide, summary: str, exact: bool = False) -> WrittenFor:
        return WrittenFor(framework, key, written_against.get(key) if key else None, written, today, exact, side,
                          summary)

    if key is None:
        return result(None, "unknown", "The page does not say which version of this framework it was written for.")
    stated = written_against[key]
    if stated.strip().lower() in UNVERSIONED:
        return result(None, "unknown", f"The page is not tied to a release ({key} {stated}): no side is the page's.")
    target = versions.parse_page_version(stated)
    if target is None:
        return result(None, "unknown", f"The page's version ({key} {stated}) cannot be placed among the measured ones.")
    if target == "newest":
        written, exact = today, False
    else:
        scaled = [(versions.try_version(p.page_scale) or versions.try_version(p.version), p) for p in points]
        scaled = [(v, p) for v, p in scaled if v is not None]
        if not scaled:
            return result(None, "unknown", "The measured versions cannot be ordered.")
        written = _nearest(target, scaled)
        written_v = versions.try_version(written.page_scale) or versions.try_version(written.version)
        exact = written_v is not None and written_v.release[:len(target.release)] == target.release
    nearest = "measured on it" if exact else "nearest measured"
    written_text = f"the version the page was written for ({key} {stated}; {nearest}: {written.describe(key)})"
    today_text = f"today's ({today.describe(key)})"
    if written is today:
        older = "; ".join(p.describe(key) for p in points[:-1])
        return result(written, "same-version",
                      f"The page was written for {key} {stated}, nearest to today's release "
                      f"({today.describe(key)}): the claim {today.status} there; older releases differ ({older}).",
                      exact)
    w, t = written.status == "holds", today.status == "holds"
    if w and not t:
        side, summary = "written-for", f"Holds on {written_text} but not on {today_text}."
    elif t and not w:
        side, summary = "today", f"Holds on {today_text} but not on {written_text}."
    elif w and t:
        side, summary = "both", f"Holds on both {written_text} and {today_text}; only the verdict changes."
    else:
        side, summary = "neither", f"Holds on neither {written_text} nor {today_text}."
    return result(written, side, summary, exact)
