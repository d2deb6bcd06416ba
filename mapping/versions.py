"""Framework versions: parsing, matching and ordering, all on ``packaging`` (PEP 440).

One module so that the case files (``verdict_by_version``), the checks (behaviour recorded per release),
the adapters (Keras 2 or 3) and the report (ordering, drift) agree on what a version is: ``2.0`` equals
``2.0.0``, ``2.0.0rc1`` comes before ``2.0.0``, and a local build tag (``2.13.0+cpu``) does not change
which releases a specifier covers.
"""

from __future__ import annotations

import re
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = ["Version", "SpecifierSet", "parse_version", "parse_specifier", "matches", "sort_key", "major",
           "parse_page_version", "try_version"]


def parse_version(text: str) -> Version:
    """A PEP 440 version; ValueError with an example if ``text`` is not one."""
    try:
        return Version(text)
    except (InvalidVersion, TypeError):
        raise ValueError(f"not a PEP 440 version: {text!r} (write e.g. '2.15.0')") from None


def try_version(text: str | None) -> Version | None:
    """``text`` as a version, or None when it is missing or not a PEP 440 version."""
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def parse_specifier(text: str) -> SpecifierSet:
    """A PEP 440 specifier set (``<2.16``, ``==2.15.*``, ``>=2.8,<2.10``); ValueError with an example if not."""
    try:
        if not text.strip():
            raise InvalidSpecifier(text)
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise ValueError(f"not a PEP 440 version specifier: {text!r} (write e.g. '==2.15.*', '<2.16' or "
                         "'>=2.8,<2.10')") from None


def matches(specifier: str, version: str) -> bool:
    """Whether ``version`` falls under ``specifier``; ``*`` covers every version, a local suffix is ignored."""
    if specifier.strip() == "*":
        return True
    return parse_specifier(specifier).contains(parse_version(version).public, prereleases=True)


def major(version: str | None, default: int) -> int:
    """The major release number of ``version``, or ``default`` when unknown."""
    parsed = try_version(version)
    return parsed.major if parsed is not None else default


def sort_key(version: str | None) -> tuple:
    """Order releases as PEP 440 does (2.9 < 2.13, 2.0.0rc1 < 2.0.0 == 2.0); unparsable after, unknown last."""
    if version is None:
        return (2, ())
    parsed = try_version(version)
    if parsed is None:
        return (1, version)
    return (0, parsed)


#: A page written against a development branch tracks the newest release.
DEVELOPMENT_BRANCHES = ("master", "main", "latest", "nightly", "dev")


def parse_page_version(text: str) -> Version | Literal["newest"] | None:
    """A page's ``written_against`` version: a release, ``"newest"`` for a development branch, None if neither.

    Pages write versions loosely (``r2.3``, ``v1.8.1``, ``2.6``, ``master (2.x)``).
    """
    cleaned = text.strip().lower()
    if cleaned.startswith(DEVELOPMENT_BRANCHES):
        return "newest"
    match = re.match(r"^[vr]?(\d+(?:\.\d+)*)", cleaned)
    return try_version(match.group(1)) if match else None
