"""The results file every conformance run writes: a versioned JSON schema.

One file per environment (the all-in-one venv, or one tox environment per framework or per framework
version). :mod:`mapping.report` merges any number of them into one HTML page. The schema is a pydantic
model so that reading a file written by another version fails with a clear message, not a KeyError.

Schema 2 adds ``run``: whether the run that wrote the file completed (every selected case ran, nothing
interrupted it, every case file was collected), and what selected its cases. Files of schema 1 are still
read; their completeness is unknown (``run.complete`` is None). Schema 3 adds to each result the figure that
decided its verdict (``deciding``), the caveats measured around its headline claim (``caveats``) and the
recipes executed for it with their source (``recipes``), and to the environment whether the suite's tracked
files differed from its commit (``suite_dirty``); older files read with those empty. Files are
written atomically (:mod:`mapping.atomic`), so a reader never sees a half-written one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from . import atomic
from .errors import MappingError, UsageError, clip, show

SCHEMA_VERSION = 3
#: A results file larger than this is refused unread (the all-in-one run writes about 0.5 MB).
MAX_RESULTS_BYTES = 256 << 20
#: Older schema versions this suite still reads (and how: see :meth:`ResultsFile.read`).
READABLE_VERSIONS = (1, 2, 3)

#: An environment name is a file name in the results folder (``reports/results/<name>.json``) and a key in the
#: report: letters, digits, ``.``, ``_``, ``+``, ``-``; no path separators, not empty, not starting with a dot.
ENVIRONMENT_NAME = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$"


def check_environment_name(name: str) -> str:
    """``name`` if it is a valid environment name, else :class:`UsageError` saying what is allowed."""
    if not re.fullmatch(ENVIRONMENT_NAME, name or ""):
        raise UsageError(f"environment name {show(name)} is not allowed: use 1-64 letters, digits, '.', '_', '+' "
                         "or '-', starting with a letter or digit (it names a file in the results folder)")
    return name


def check_results_target(path: Path | str) -> Path:
    """Refuse (:class:`UsageError`) a path to write results to whose file would be destroyed: not a .json
    file, a directory, or an existing file that is not a results file this suite reads."""
    path = atomic.refuse_overwriting(path, suffixes=(".json",), what="results file")
    if path.exists():
        try:
            ResultsFile.read(path)
        except ResultsFileError as exc:
            raise UsageError(f"{path} exists and is not a results file this suite reads ({exc.problem}); refusing "
                             "to overwrite it: remove it or choose another path") from None
    return path


class ResultsFileError(MappingError, ValueError):
    """A results file that cannot be read; the message names the file."""

    def __init__(self, path: Path | str, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Environment(_Model):
    """Where the results were measured."""

    name: str = Field(pattern=ENVIRONMENT_NAME)  # "all", "torch", "keras", "mindspore", "tf2.15", ...
    python: str
    platform: str
    frameworks: dict[str, str | None]  # distribution -> version, None when not installed
    suite_commit: str | None
    #: Tracked files differed from ``suite_commit`` when the run started (None: not recorded, or no git).
    suite_dirty: bool | None = None
    time: str  # ISO 8601, UTC


class RunStatus(_Model):
    """How the run that wrote the file ended. ``complete`` is True only when every selected case ran to a
    result, no case file failed to collect and nothing interrupted the run; None where not recorded
    (schema 1 files). Strict: ``"yes"`` is not taken for True."""

    model_config = ConfigDict(extra="forbid", strict=True)

    complete: bool | None = True
    exit_status: int | None = None  # pytest's exit status
    selected: int | None = None  # case items selected to run
    ran: int | None = None  # case items with a result
    collection_errors: int | None = None
    interrupted: str | None = None  # why the run stopped early, where it did
    selection: list[str] = []  # the arguments that chose the cases (-m, -k, --row, paths)

    def describe(self) -> str:
        """One line for messages and the report: complete, or what is missing and why."""
        if self.complete is None:
            return "completeness not recorded (a schema 1 file)"
        if self.complete:
            return "complete"
        parts = []
        if self.interrupted:
            parts.append(self.interrupted)
        if self.selected is not None and self.ran is not None:
            parts.append(f"{self.ran} of {self.selected} selected cases have a result")
        if self.collection_errors:
            parts.append(f"{self.collection_errors} case file(s) failed to collect")
        return "incomplete: " + ("; ".join(parts) or "the run did not finish")


class PageRecord(_Model):
    kind: Literal["mapping_page", "supplement"] = "mapping_page"
    id: str
    title: str
    docs_version: str
    language: str
    address: str
    written_against: dict[str, str]
    frameworks: list[str]
    case_file: str
    rows: int


class Figures(_Model):
    max_abs: float | None = None
    max_rel: float | None = None
    within: float | None = None  # fraction of compared elements within tolerance
    tolerance: float | None = None


class DecidingFigure(_Model):
    """The one comparison that decided a verdict, with what it means: e.g. "one step from a zero state,
    training vs no dropout" = 0.302 against "a difference is an effect when above" 1e-3."""

    label: str  # what was compared, in words
    value: float | None  # the measured figure (None when not finite)
    compared_with: str  # "the float64 reference", "no dropout", "the other framework", ...
    threshold: float | None = None  # the tolerance or effect threshold actually applied
    test: str = ""  # how value and threshold decide, e.g. "|a - e| <= tol * (1 + |e|)" or "effect when > threshold"
    holds: bool | None = None  # whether the figure passed its test


class CaveatRecord(_Model):
    """One probe beyond the headline claim, measured on one framework."""

    probe: str  # the probe's name in the vocabulary
    kind: str  # defaults, input_forms, edge_values, errors, recipe_variants, semantics, initial_weights, ...
    title: str  # what was probed, in words
    behaviour: str  # what was measured, in words (the string a case records)
    figure: float | None = None  # the number behind it, where there is one
    figure_label: str | None = None
    trap: bool = False  # this framework's behaviour is a trap for a porting engineer
    bites: bool = False  # the caveat matters for this row (a trap, or the sides behave differently)
    detail: str | None = None  # what the framework said or did (an exception's first line); optional, not compared


class RecipeRecord(_Model):
    """A recipe shown to users, as executed for this case on this framework."""

    name: str
    framework: str  # the framework whose API the recipe is written in
    source: str  # the code, exactly as executed
    executed: bool
    ok: bool | None = None  # its result matched what it is compared with
    max_abs: float | None = None
    compared_with: str | None = None
    #: What the run measured where no single error says it (a dropout structure: samples explained, dropped share).
    detail: str | None = None


class CaseResult(_Model):
    """One case measured on one framework."""

    page: str  # PageRecord.id
    row: str
    framework: str
    framework_version: str | None
    check: str
    params: dict[str, str | None]
    claim: str
    expected_verdict: str
    measured_verdict: str | None  # None when skipped
    outcome: Literal["passed", "failed", "skipped", "error"]
    skip_reason: str | None = None
    message: str | None = None
    figures: Figures = Field(default_factory=Figures)
    details: list[str] = []
    finding: str | None = None
    correction: str | None = None
    recipe: str | None = None
    reproduce: str | None = None
    duration_s: float
    deciding: DecidingFigure | None = None
    caveats: list[CaveatRecord] = []
    recipes: list[RecipeRecord] = []


class ResultsFile(_Model):
    schema_version: Literal[3] = SCHEMA_VERSION
    environment: Environment
    run: RunStatus = Field(default_factory=RunStatus)
    pages: list[PageRecord]
    results: list[CaseResult]
    #: The file this was read from (None when built in memory); messages name it.
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        return self._source

    def describe_source(self) -> str:
        return str(self._source) if self._source else f"the results of environment {self.environment.name!r}"

    def write(self, path: Path | str) -> Path:
        """Write atomically: a failure midway leaves the previous file at ``path`` untouched."""
        return atomic.write_text(path, self.model_dump_json(indent=1))

    @classmethod
    def read(cls, path: Path | str) -> "ResultsFile":
        """Read and validate a results file of any readable schema version; :class:`ResultsFileError` (naming
        the file, one line) on anything else."""
        path = Path(path)
        try:
            if path.stat().st_size > MAX_RESULTS_BYTES:
                raise ResultsFileError(path, f"{path.stat().st_size} bytes; a results file is at most "
                                             f"{MAX_RESULTS_BYTES} bytes")
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ResultsFileError(path, f"cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise ResultsFileError(path, f"not UTF-8 text (byte {exc.start})") from None
        except RecursionError:
            raise ResultsFileError(path, "not a results file: JSON nested too deeply") from None
        except ValueError as exc:  # json.JSONDecodeError
            raise ResultsFileError(path, f"not JSON: {clip(str(exc), 200)}") from None
        version = data.get("schema_version") if isinstance(data, dict) else None
        if version not in READABLE_VERSIONS:
            raise ResultsFileError(path, f"results schema_version {show(version)}, this suite reads "
                                   f"{', '.join(map(str, READABLE_VERSIONS))}")
        if version == 1:  # no run status: completeness unknown
            data = {**data, "run": {"complete": None}}
        data = {**data, "schema_version": SCHEMA_VERSION}  # 1 and 2 lack only fields that default to empty
        try:
            parsed = cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            shown = f" (got {show(err['input'])})" if err["type"] not in ("missing",) and "input" in err else ""
            raise ResultsFileError(path, f"not a results file this suite writes: {where}: {err['msg']}{shown}") \
                from None
        except RecursionError:
            raise ResultsFileError(path, "not a results file: nested too deeply") from None
        parsed._source = path
        return parsed
