"""The YAML case files: schema, loading, and errors that name the file, line, case and field.

A case file describes one source page (title, docs version, address, the renderings of it in
``../shared/seeds``, the framework versions it was written against) and holds one case per row of the
page's difference table. A case states the page's claim in the project's own words, names the check
that proves or refutes it (see :mod:`mapping.checks`) with that check's arguments, and records the
verdict measured per framework.

``verdict`` is the verdict on today's releases (the versions the project installs). Where an older (or
other) release was measured to behave differently, ``verdict_by_version`` records that release's verdict
so the version-matrix environments (tox ``tf215``, ``ms28``, ...) pass where the difference is known::

    verdict_by_version:
      tfkeras:
        - versions: ">=2.14,<2.16"    # PEP 440 specifier over the adapter's version (Adapter.version())
          measured_on: ["2.14.0", "2.15.0"]   # the exact versions measured; each must match `versions`
          verdict: equivalent
          note: tf.keras in TF 2.14 and 2.15 is Keras 2, which still names the call argument inputs

:meth:`Case.expected_verdict` picks the entry whose specifier contains the installed version, and falls
back to ``verdict``. Entries record measurements only: a release nobody measured falls back to today's
verdict, and fails if it behaves otherwise, which is the cue to measure it and add an entry.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from . import frameworks, ops, versions
from .errors import MappingError
from .verdicts import NEEDS_CORRECTION, Verdict

#: A framework's name in a case file (``verdict: {torch: ...}``), from the registry.
FrameworkName = Literal[frameworks.NAMES]  # type: ignore[valid-type]
#: The recurrent op a page is about, from the op registry.
OpName = Literal[tuple(ops.OPS)]  # type: ignore[valid-type]


class CaseFileError(MappingError, ValueError):
    """A malformed case file; the message names file, line, case and field."""

    def __init__(self, path: Path | str, message: str, *, line: int | None = None, case: str | None = None,
                 field: str | None = None):
        self.path, self.line, self.case, self.field, self.problem = str(path), line, case, field, message
        where = self.path + (f":{line}" if line else "")
        parts = [where]
        if case:
            parts.append(f"case '{case}'")
        if field:
            parts.append(f"field '{field}'")
        super().__init__(": ".join(parts) + f": {message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rendering(_Strict):
    """One copy of the page in ../shared/seeds (the same page can come in several renderings)."""

    seed: str
    rows: int = Field(gt=0)
    note: str = ""


class Page(_Strict):
    """The source a case file makes executable.

    ``kind: mapping_page`` (the default) is a vendor's API-mapping page, with renderings in
    ../shared/seeds and one case per table row. ``kind: supplement`` holds behaviour the pages never state
    but ports depend on (padding semantics, dropout structure); it cites the framework documentation it
    checks and has no renderings.
    """

    kind: Literal["mapping_page", "supplement"] = "mapping_page"
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    docs_version: str
    language: Literal["en", "zh"]
    address: str = Field(pattern=r"^https?://")
    reference_addresses: dict[str, str] = {}
    renderings: list[Rendering] = []
    written_against: dict[str, str]
    #: The recurrent op the page is about; every spec in its cases is of this op unless it says otherwise.
    op: OpName = "lstm"
    frameworks: list[FrameworkName] = Field(min_length=1)
    example_rows: list[str] = []

    @model_validator(mode="after")
    def _renderings_for_pages(self) -> "Page":
        if self.kind == "mapping_page" and not self.renderings:
            raise ValueError("a mapping page lists at least one rendering in ../shared/seeds")
        return self


class ToleranceOverride(_Strict):
    value: float = Field(gt=0)
    reason: str = Field(min_length=10)


class VersionVerdict(_Strict):
    """The verdict measured on the releases of one framework that ``versions`` names (not today's)."""

    #: PEP 440 specifier over the version the framework's adapter reports (``Adapter.version()``: the
    #: ``torch``, ``keras``, ``tf-keras`` or ``mindspore`` distribution's version).
    versions: str
    #: The exact versions this verdict was measured on; each must satisfy ``versions``.
    measured_on: list[str] = Field(min_length=1)
    verdict: Verdict
    #: What differs on these versions, in a sentence.
    note: str = Field(min_length=10)

    @field_validator("versions")
    @classmethod
    def _specifier(cls, value: str) -> str:
        versions.parse_specifier(value)
        return value

    @field_validator("measured_on")
    @classmethod
    def _versions(cls, value: list[str]) -> list[str]:
        for version in value:
            versions.parse_version(version)
        return value

    def matches(self, version: str) -> bool:
        """Whether ``version`` (a local suffix such as ``+cpu`` is ignored) falls under this entry."""
        return versions.matches(self.versions, version)


class Case(_Strict):
    row: str = Field(min_length=1)
    only_in: list[str] = []
    params: dict[str, str | None]
    claim: str = Field(min_length=10)
    check: str
    args: dict[str, Any] = {}
    frameworks: list[FrameworkName] | None = None
    verdict: Verdict | dict[FrameworkName, Verdict]
    verdict_by_version: dict[FrameworkName, list[VersionVerdict]] = {}
    finding: str | None = None
    correction: str | None = None
    recipe: str | None = None
    tolerance: ToleranceOverride | None = None

    @field_validator("params")
    @classmethod
    def _params_named(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        if not value:
            raise ValueError("name the parameter on each side, e.g. {tensorflow: units, mindspore: hidden_size}")
        return value

    def current_verdict(self, framework: str) -> Verdict:
        """The verdict on today's releases (the ``verdict`` field)."""
        if isinstance(self.verdict, dict):
            return self.verdict[framework]
        return self.verdict

    def expected_verdict(self, framework: str, version: str | None = None) -> Verdict:
        """The recorded verdict for ``framework`` at the installed ``version`` (``Adapter.version()``).

        The first ``verdict_by_version`` entry whose specifier contains ``version`` decides; with no such
        entry, or with ``version`` None (unknown, not installed), it is the ``verdict`` for today's releases.
        """
        entry = self.version_entry(framework, version)
        return entry.verdict if entry else self.current_verdict(framework)

    def version_entry(self, framework: str, version: str | None) -> VersionVerdict | None:
        """The ``verdict_by_version`` entry that covers ``version`` of ``framework``, if any."""
        if version is None:
            return None
        return next((e for e in self.verdict_by_version.get(framework, ()) if e.matches(version)), None)


class CaseFile(_Strict):
    page: Page
    cases: list[Case]

    def frameworks_of(self, case: Case) -> list[str]:
        return list(case.frameworks or self.page.frameworks)


def _line_of(node: yaml.Node | None, path: tuple) -> int | None:
    """1-based line of the YAML node at ``path`` (keys and indices), or of its nearest ancestor."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in path:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == key:
                    node, line = v, k.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: collection is on every run


class _LazyNodes:
    """The YAML node tree, composed only when an error message needs a line number."""

    def __init__(self, text: str):
        self._text, self._root = text, None

    def get(self) -> yaml.Node | None:
        if self._root is None:
            self._root = yaml.compose(self._text, Loader=_LOADER)
        return self._root


def load_case_file(path: Path | str) -> CaseFile:
    """Parse and validate one case file; raise :class:`CaseFileError` on any problem."""
    from .checks import (
        CHECKS,  # the vocabulary; imported late because checks import this module
    )

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseFileError(path, f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_LOADER)
        nodes = _LazyNodes(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CaseFileError(path, f"not valid YAML: {getattr(exc, 'problem', exc)}",
                            line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise CaseFileError(path, "a case file is a mapping with keys 'page' and 'cases'", line=1)

    def case_name(index: Any) -> str | None:
        cases = data.get("cases")
        if isinstance(index, int) and isinstance(cases, list) and index < len(cases):
            item = cases[index]
            return str(item.get("row")) if isinstance(item, dict) and item.get("row") else f"#{index + 1}"
        return None

    try:
        parsed = CaseFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        case = case_name(loc[1]) if len(loc) > 1 and loc[0] == "cases" else None
        field_path = loc[2:] if case else loc
        # drop pydantic's union branch labels ("Verdict", "dict[...]") from the field path
        field = ".".join(str(p) for p in field_path if not (isinstance(p, str) and ("[" in p or p[:1].isupper())))
        message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
        if err["type"] not in ("missing", "extra_forbidden") and "input" in err and repr(err["input"]) not in message:
            message += f" (got {err['input']!r})"
        raise CaseFileError(path, message, line=_line_of(nodes.get(), loc), case=case, field=field or None) from None

    seen: dict[str, int] = {}
    page_frameworks = set(parsed.page.frameworks)
    seeds = {r.seed for r in parsed.page.renderings}
    for index, case in enumerate(parsed.cases):

        def fail(message: str, field: str, *, sub: tuple = ()) -> CaseFileError:
            return CaseFileError(path, message, line=_line_of(nodes.get(), ("cases", index, field) + sub),
                                 case=case.row, field=field)

        if case.row in seen:
            raise fail(f"row already has a case (case #{seen[case.row] + 1})", "row")
        seen[case.row] = index
        unknown_seeds = set(case.only_in) - seeds
        if unknown_seeds:
            raise fail(f"names renderings the page does not list: {sorted(unknown_seeds)}", "only_in")
        if case.check not in CHECKS:
            raise fail(f"unknown check {case.check!r}; known checks: {', '.join(sorted(CHECKS))}", "check")
        try:
            CHECKS[case.check].parse_args(case.args)
        except ValidationError as exc:
            err = exc.errors()[0]
            arg = ".".join(str(p) for p in err["loc"])
            message = "unknown argument for this check" if err["type"] == "extra_forbidden" else err["msg"]
            raise CaseFileError(path, message, line=_line_of(nodes.get(), ("cases", index, "args") + tuple(err["loc"])),
                                case=case.row, field=f"args.{arg}" if arg else "args") from None
        except ValueError as exc:
            raise fail(str(exc), "args") from None
        frameworks = set(case.frameworks or parsed.page.frameworks)
        if not frameworks <= page_frameworks:
            raise fail(f"frameworks {sorted(frameworks - page_frameworks)} are not among the page's "
                       f"{sorted(page_frameworks)}", "frameworks")
        if isinstance(case.verdict, dict):
            if set(case.verdict) != frameworks:
                raise fail(f"give one verdict for each of {sorted(frameworks)}; got {sorted(case.verdict)}",
                           "verdict")
            verdicts = set(case.verdict.values())
        else:
            verdicts = {case.verdict}
        for framework, entries in case.verdict_by_version.items():
            where = ("verdict_by_version", framework)
            if framework not in frameworks:
                raise CaseFileError(path, f"the case is not measured on {framework}; its frameworks are "
                                          f"{sorted(frameworks)}", line=_line_of(nodes.get(), ("cases", index) + where),
                                    case=case.row, field=".".join(where))
            for n, entry in enumerate(entries):
                def fail_entry(message: str, sub: str) -> CaseFileError:
                    loc = where + (n, sub)
                    return CaseFileError(path, message, line=_line_of(nodes.get(), ("cases", index) + loc),
                                         case=case.row, field=".".join(map(str, loc)))

                if entry.verdict == case.current_verdict(framework):
                    raise fail_entry(f"same as the case's verdict for today's releases ({entry.verdict.value}); "
                                     "record only versions measured to differ", "verdict")
                for version in entry.measured_on:
                    if not entry.matches(version):
                        raise fail_entry(f"measured on {version}, which {entry.versions!r} does not include",
                                         "measured_on")
                    for m, other in enumerate(entries):
                        if m != n and other.matches(version):
                            raise fail_entry(f"{version} falls under entries #{n + 1} and #{m + 1} ({other.versions!r}); "
                                             "the specifiers of one framework must not overlap", "versions")
                verdicts.add(entry.verdict)
        if verdicts & NEEDS_CORRECTION and not (case.finding and case.correction):
            raise fail("a 'diverges' verdict needs a 'finding' (what was measured) and a 'correction' "
                       "(what the page should say)", "verdict")
    return parsed


def case_files(root: Path | str) -> list[Path]:
    return sorted(Path(root).glob("*.yaml"))


@lru_cache(maxsize=None)
def load_cached(path: str) -> CaseFile:
    return load_case_file(path)
