"""The results file every conformance run writes: a versioned JSON schema.

One file per environment (the all-in-one venv, or one tox environment per framework or per framework
version). :mod:`mapping.report` merges any number of them into one HTML page. The schema is a pydantic
model so that reading a file written by another version fails with a clear message, not a KeyError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Environment(_Model):
    """Where the results were measured."""

    name: str  # "all", "torch", "keras", "mindspore", "tf2.15", ...
    python: str
    platform: str
    frameworks: dict[str, str | None]  # distribution -> version, None when not installed
    suite_commit: str | None
    time: str  # ISO 8601, UTC


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


class ResultsFile(_Model):
    schema_version: Literal[1] = SCHEMA_VERSION
    environment: Environment
    pages: list[PageRecord]
    results: list[CaseResult]

    def write(self, path: Path | str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=1), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path | str) -> "ResultsFile":
        path = Path(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        version = data.get("schema_version") if isinstance(data, dict) else None
        if version != SCHEMA_VERSION:
            raise ValueError(f"{path}: results schema_version {version!r}, this suite reads {SCHEMA_VERSION}")
        return cls.model_validate(data)
