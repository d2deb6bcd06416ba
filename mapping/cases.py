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

import re
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
from .checks.arguments import VersionedBehaviour
from .errors import ArgsError, MappingError, clip, show
from .verdicts import NEEDS_CORRECTION, Verdict

#: A framework's name in a case file (``verdict: {torch: ...}``), from the registry.
FrameworkName = Literal[frameworks.NAMES]  # type: ignore[valid-type]
#: The recurrent API a page is about, from the op registry: an op as a layer (``gru``) or as a cell (``gru_cell``).
OpName = Literal[tuple(ops.APIS)]  # type: ignore[valid-type]

#: Case files are found in ``cases/`` and its subfolders, by these suffixes in any letter case.
CASE_SUFFIXES = (".yaml", ".yml")
#: A case file larger than this is refused before it is parsed (the largest shipped one is ~20 KB).
MAX_CASE_FILE_BYTES = 1 << 20
#: The largest tolerance a case may set: below the smallest error of a real harness mistake (a swapped gate,
#: a dropped bias, a reversed time axis are all off by 1e-2 or more; see mapping/tolerances.yaml), so an
#: override can loosen a comparison for a known numerical effect but never switch it off.
TOLERANCE_CEILING = 1e-3
#: Row names are short labels ("Parameter 24 (**kwargs)"); they appear in every message about the case.
MAX_ROW_CHARS = 200


class CaseFileError(MappingError, ValueError):
    """A malformed case file; the message names file, line, case and field."""

    def __init__(self, path: Path | str, message: str, *, line: int | None = None, case: str | None = None,
                 field: str | None = None):
        self.path, self.line, self.case, self.field, self.problem = str(path), line, case, field, message
        where = self.path + (f":{line}" if line else "")
        parts = [where]
        if case:
            parts.append(f"case {show(case, 80)}" if ("'" in case or "\n" in case) else f"case '{clip(case, 80)}'")
        if field:
            parts.append(f"field '{clip(field, 80)}'")
        super().__init__(": ".join(parts) + f": {clip(message, 600)}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rendering(_Strict):
    """One copy of the page in ../shared/seeds or ../shared/pages (the same page can come in several renderings)."""

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
    """A case's own tolerance: finite, positive and at most TOLERANCE_CEILING, with the reason for it."""

    value: float = Field(gt=0, le=TOLERANCE_CEILING, allow_inf_nan=False)
    reason: str = Field(min_length=10)

    @field_validator("value", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a tolerance is a number, e.g. 1.0e-5")
        return value


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


#: A recorded behaviour per framework: one string, or one per range of versions (see checks.arguments.Recorded).
RecordedBehaviour = str | list[VersionedBehaviour]


class Caveat(_Strict):
    """One probe beyond the row's headline claim (see :mod:`mapping.probes`): which probe, its arguments, and the
    behaviour measured on each framework it runs on, in the project's words."""

    probe: str
    args: dict[str, Any] = {}
    #: What is probed, in words; the probe's own summary when not given.
    title: str | None = Field(default=None, min_length=5, max_length=200)
    #: framework -> the behaviour measured there; the probe runs on exactly these frameworks.
    recorded: dict[FrameworkName, RecordedBehaviour] = Field(min_length=1)


#: A case's recipes: framework (or page family) -> the name of a recipe function written for it, or several.
RecipeRefs = dict[str, str | list[str]]


class Case(_Strict):
    row: str = Field(min_length=1, max_length=MAX_ROW_CHARS)
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
    #: The recipes shown for this row: functions in mapping/recipes/<family>.py, executed by the suite. (A plain
    #: string is the older free-text form, shown but not executed; it is being replaced by recipe functions.)
    recipe: RecipeRefs | str | None = None
    caveats: list[Caveat] = []
    tolerance: ToleranceOverride | None = None

    def recipe_names(self, framework: str) -> list[str]:
        """The recipes this case shows for ``framework`` (named by framework or by its page family)."""
        names: list[str] = []
        for key, value in (self.recipe if isinstance(self.recipe, dict) else {}).items():
            if key == framework or key == frameworks.get(framework).family:
                names += [value] if isinstance(value, str) else value
        return list(dict.fromkeys(names))

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


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: collection is on every run


class YAMLInputError(MappingError, ValueError):
    """A YAML file this project refuses to read; ``line`` is 1-based where known."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None):
        self.path, self.problem, self.line = str(path), problem, line
        super().__init__(f"{path}{f':{line}' if line else ''}: {problem}")


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _NoDuplicateKeys:
    """Refuses a key given twice in one mapping: with the plain loaders the last one silently wins (a second
    ``verdict:`` turns 'diverges' into 'equivalent')."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise _DuplicateKey(None, None, f"key {show(key, 60)} is given twice in one mapping "
                                        f"(first on line {seen[key].start_mark.line + 1}); the last one would "
                                        "silently win", key_node.start_mark)
                seen[key] = key_node
            except TypeError:  # unhashable key: let the base class report it
                break
        return super().construct_mapping(node, deep=deep)


class _StrictLoader(_NoDuplicateKeys, _FAST_LOADER):  # type: ignore[misc,valid-type]
    """libyaml's parser (where installed) with the safe constructor: the fast path, used for every normal file."""


#: The deepest nesting of flow collections (``[`` and ``{``) a YAML file may have. libyaml's composer recurses on the
#: C stack (100,000 nested brackets crash the process) and PyYAML's pure-Python scanner is quadratic in the depth,
#: so deeper input is refused before either sees it; case files nest a few levels.
MAX_FLOW_DEPTH = 100


def _flow_depth_problem(text: str, path: Path | str) -> None:
    """YAMLInputError (with the line) where flow collections nest deeper than MAX_FLOW_DEPTH. A bracket inside a
    quoted string counts too: that can only refuse a file with a hundred unclosed brackets in its text."""
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return
    depth = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth += 1 if match.group() in "[{" else -1
        if depth > MAX_FLOW_DEPTH:
            raise YAMLInputError(path, f"not valid here: YAML nested more than {MAX_FLOW_DEPTH} levels deep",
                                 text.count("\n", 0, match.start()) + 1)
        depth = max(depth, 0)


def read_yaml(path: Path | str, *, what: str = "case file", max_bytes: int = MAX_CASE_FILE_BYTES) -> Any:
    """Parse one YAML file strictly: UTF-8 only, no duplicate keys, no anchors or aliases (``&a``/``*a``: a
    few lines of them expand into gigabytes), bounded size and nesting. :class:`YAMLInputError` names the file
    and line of the first problem."""
    return parse_yaml(read_text(path, what=what, max_bytes=max_bytes), path)


def read_text(path: Path | str, *, what: str = "case file", max_bytes: int = MAX_CASE_FILE_BYTES) -> str:
    """The file's text if it is UTF-8 and at most ``max_bytes`` long, else :class:`YAMLInputError`."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise YAMLInputError(path, f"{size} bytes; a {what} is at most {max_bytes} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise YAMLInputError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise YAMLInputError(path, f"not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); save "
                                   f"the {what} as UTF-8", line) from None
    return text


def parse_yaml(text: str, path: Path | str = "<text>") -> Any:
    """:func:`read_yaml` for text already in memory."""
    try:
        if "&" in text or "*" in text:  # only then can there be anchors or aliases: look at the events
            for event in yaml.parse(text, Loader=_FAST_LOADER):
                anchor = getattr(event, "anchor", None)
                if anchor is not None:
                    kind = "alias" if isinstance(event, yaml.AliasEvent) else "anchor"
                    raise YAMLInputError(path, f"YAML {kind} {'*' if kind == 'alias' else '&'}{clip(anchor, 40)}: "
                                               "anchors and aliases are not allowed here; write each value out "
                                               "where it is used", event.start_mark.line + 1)
        _flow_depth_problem(text, path)
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: no mark, a position in the text
        line = text[:exc.position].count("\n") + 1 if isinstance(exc.position, int) else None
        raise YAMLInputError(path, f"not valid YAML: character #x{exc.character:04x} is not allowed ({exc.reason})" if isinstance(
                                 exc.character, int) else f"not valid YAML: {exc.reason}",
                             line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = clip(" ".join(str(getattr(exc, "problem", None) or exc).split()), 300)
        raise YAMLInputError(path, problem if isinstance(exc, _DuplicateKey) else f"not valid YAML: {problem}",
                             mark.line + 1 if mark else None) from None
    except RecursionError:
        raise YAMLInputError(path, "not valid here: YAML nested too deeply") from None


class _LazyNodes:
    """The YAML node tree, composed only when an error message needs a line number."""

    def __init__(self, text: str):
        self._text, self._root = text, None

    def get(self) -> yaml.Node | None:
        if self._root is None:
            try:
                self._root = yaml.compose(self._text, Loader=_FAST_LOADER)
            except (yaml.YAMLError, RecursionError):
                return None
        return self._root


def _first_error(exc: ValidationError) -> dict:
    """The error to report: an unknown key first (a misspelt name also leaves a required one missing)."""
    errors = exc.errors()
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def load_case_file(path: Path | str) -> CaseFile:
    """Parse and validate one case file; raise :class:`CaseFileError` on any problem."""
    from .checks import (
        CHECKS,  # the vocabulary; imported late because checks import this module
    )

    path = Path(path)
    try:
        text = read_text(path)
        data = parse_yaml(text, path)
    except YAMLInputError as exc:
        raise CaseFileError(path, exc.problem, line=exc.line) from None
    nodes = _LazyNodes(text)
    if not isinstance(data, dict):
        raise CaseFileError(path, "a case file is a mapping with keys 'page' and 'cases'", line=1)
    if "page" not in data and "cases" not in data:
        keys = ", ".join(show(k, 40) for k in list(data)[:8])
        raise CaseFileError(path, f"not a case file: a case file is a mapping with keys 'page' and 'cases'; this one "
                                  f"has {keys}", line=1)

    def case_name(index: Any) -> str | None:
        cases = data.get("cases")
        if isinstance(index, int) and isinstance(cases, list) and index < len(cases):
            item = cases[index]
            return str(item.get("row")) if isinstance(item, dict) and item.get("row") else f"#{index + 1}"
        return None

    try:
        parsed = CaseFile.model_validate(data)
    except ValidationError as exc:
        err = _first_error(exc)
        loc = tuple(err["loc"])
        case = case_name(loc[1]) if len(loc) > 1 and loc[0] == "cases" else None
        field_path = loc[2:] if case else loc
        # drop pydantic's union branch labels ("Verdict", "dict[...]") from the field path
        field = ".".join(str(p) for p in field_path if not (isinstance(p, str) and ("[" in p or p[:1].isupper())))
        message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
        if err["type"] not in ("missing", "extra_forbidden") and "input" in err and show(err["input"]) not in message:
            message += f" (got {show(err['input'])})"
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
        frameworks = set(case.frameworks or parsed.page.frameworks)
        if not frameworks <= page_frameworks:
            raise fail(f"frameworks {sorted(frameworks - page_frameworks)} are not among the page's "
                       f"{sorted(page_frameworks)}", "frameworks")
        try:
            CHECKS[case.check].parse_args(case.args).check_case(parsed.frameworks_of(case), parsed.page.op)
        except ValidationError as exc:
            err = _first_error(exc)
            arg = ".".join(str(p) for p in err["loc"])
            message = "unknown argument for this check" if err["type"] == "extra_forbidden" else \
                err["msg"].removeprefix("Value error, ")
            if err["type"] not in ("missing", "extra_forbidden", "value_error") and "input" in err:
                message += f" (got {show(err['input'])})"
            raise CaseFileError(path, message, line=_line_of(nodes.get(), ("cases", index, "args") + tuple(err["loc"])),
                                case=case.row, field=f"args.{arg}" if arg else "args") from None
        except ArgsError as exc:
            loc = tuple(int(p) if p.isdigit() else p for p in exc.field.split("."))
            raise CaseFileError(path, exc.problem, line=_line_of(nodes.get(), ("cases", index, "args") + loc),
                                case=case.row, field=f"args.{exc.field}") from None
        except ValueError as exc:
            raise fail(clip(str(exc), 300), "args") from None
        _check_recipes(path, nodes, index, case, frameworks)
        _check_caveats(path, nodes, index, case, frameworks, parsed.page.op)
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


def _check_recipes(path: Path, nodes: "_LazyNodes", index: int, case: Case, names: set[str]) -> None:
    """Every recipe a case shows is written, as a recipe, for a framework the case is measured on."""
    from . import recipes

    for key, value in (case.recipe if isinstance(case.recipe, dict) else {}).items():
        where = ("cases", index, "recipe", key)
        covered = [f for f in sorted(names) if f == key or frameworks.get(f).family == key]
        if not covered:
            raise CaseFileError(path, f"{show(key)} is not a framework or page family of this case (its frameworks: "
                                      f"{', '.join(sorted(names))})", line=_line_of(nodes.get(), where),
                                case=case.row, field=f"recipe.{key}")
        entries = [value] if isinstance(value, str) else value
        if not entries:
            raise CaseFileError(path, "name at least one recipe", line=_line_of(nodes.get(), where), case=case.row,
                                field=f"recipe.{key}")
        for n, name in enumerate(entries):
            sub = where if isinstance(value, str) else where + (n,)
            for framework in covered:
                try:
                    recipes.shown(framework, name)
                except LookupError as exc:
                    raise CaseFileError(path, str(exc).strip('"'), line=_line_of(nodes.get(), sub), case=case.row,
                                        field=".".join(map(str, sub[2:]))) from None


def _check_caveats(path: Path, nodes: "_LazyNodes", index: int, case: Case, names: set[str], op: str) -> None:
    """Every caveat names a known probe, runs on frameworks of the case, and has valid arguments for them."""
    from .probes import PROBES

    for n, caveat in enumerate(case.caveats):
        where = ("cases", index, "caveats", n)

        def fail(message: str, *sub: Any) -> CaseFileError:
            return CaseFileError(path, message, line=_line_of(nodes.get(), where + sub), case=case.row,
                                 field=".".join(map(str, ("caveats", n) + sub)))

        if caveat.probe not in PROBES:
            raise fail(f"unknown probe {show(caveat.probe)}; known probes: {', '.join(sorted(PROBES))}", "probe")
        extra = [f for f in caveat.recorded if f not in names]
        if extra:
            raise fail(f"the case is not measured on {extra[0]}; its frameworks are {sorted(names)}", "recorded",
                       extra[0])
        try:
            PROBES[caveat.probe].parse_args(caveat.args).check_case(list(caveat.recorded), op)
        except ValidationError as exc:
            err = _first_error(exc)
            message = "unknown argument for this probe" if err["type"] == "extra_forbidden" else \
                err["msg"].removeprefix("Value error, ")
            if err["type"] not in ("missing", "extra_forbidden", "value_error") and "input" in err:
                message += f" (got {show(err['input'])})"
            raise fail(message, "args", *err["loc"]) from None
        except ArgsError as exc:
            raise fail(exc.problem, "args", *(int(p) if p.isdigit() else p for p in exc.field.split("."))) from None
        for other in case.caveats[:n]:
            if other.probe == caveat.probe and other.args == caveat.args:
                raise fail("the same probe with the same arguments is listed twice", "probe")


def is_case_file_name(path: Path | str) -> bool:
    """Whether the file name has a case file's suffix (``.yaml`` or ``.yml``, any letter case)."""
    return Path(path).suffix.lower() in CASE_SUFFIXES


def case_files(root: Path | str) -> list[Path]:
    """Every case file under ``root`` (subfolders included; hidden folders skipped), in path order."""
    root = Path(root)
    found = [p for p in root.rglob("*") if is_case_file_name(p) and p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    return sorted(found)


@lru_cache(maxsize=None)
def load_cached(path: str) -> CaseFile:
    return load_case_file(path)


@lru_cache(maxsize=None)
def case_lines(path: str) -> dict[str, int]:
    """row -> the 1-based line where its case starts, for messages about a case at run time."""
    try:
        root = _LazyNodes(read_text(path)).get()
    except YAMLInputError:
        return {}
    lines: dict[str, int] = {}
    cases = next((v for k, v in getattr(root, "value", []) if getattr(k, "value", None) == "cases"), None)
    for node in getattr(cases, "value", []) if isinstance(cases, yaml.SequenceNode) else []:
        row = next((v.value for k, v in getattr(node, "value", []) if getattr(k, "value", None) == "row"), None)
        if isinstance(row, str):
            lines.setdefault(row, node.start_mark.line + 1)
    return lines
