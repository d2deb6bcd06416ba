"""Collect ``cases/*.yaml`` as pytest items (one per case and framework) and write the results JSON.

Modelled on pytest's own example of collecting YAML files. Each item carries a marker per framework, so
``-m mindspore`` selects MindSpore's half of every row and ``-k "Parameter 17"`` one row. With
``--results PATH`` the run writes a :class:`mapping.results.ResultsFile`; under pytest-xdist the workers
hand their results to the controller through ``user_properties``.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
from pathlib import Path

import pytest

from . import frameworks
from .cases import CaseFileError, load_cached
from .results import CaseResult, Environment, Figures, PageRecord, ResultsFile

RESULT_KEY = "mapping_result"

CASES_DIR = "cases"


def pytest_addoption(parser):
    group = parser.getgroup("mapping")
    group.addoption("--results", default=None, help="write the conformance results JSON to this path")
    group.addoption("--environment-name", default=os.environ.get("MAPPING_ENV", "local"),
                    help="name of this environment in the results (default: $MAPPING_ENV or 'local')")


def pytest_configure(config):
    for name in frameworks.NAMES:
        config.addinivalue_line("markers", f"{name}: cases measured on {name}")
    config._mapping_results = []


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix == ".yaml" and file_path.parent.name == CASES_DIR:
        return CaseFileCollector.from_parent(parent, path=file_path)
    return None


class CaseFileCollector(pytest.File):
    def collect(self):
        try:
            case_file = load_cached(str(self.path))
        except CaseFileError as exc:
            raise pytest.Collector.CollectError(str(exc)) from None
        for case in case_file.cases:
            left = ", ".join(f"{v}" if v else "-" for v in case.params.values())
            for framework in case_file.frameworks_of(case):
                item = CaseItem.from_parent(self, name=f"{case.row} ({left})[{framework}]",
                                            case=case, framework=framework)
                item.add_marker(getattr(pytest.mark, framework))
                yield item


class CaseItem(pytest.Item):
    def __init__(self, *, case, framework, **kwargs):
        super().__init__(**kwargs)
        self.case = case
        self.framework = framework

    def runtest(self):
        from .judge import Judgement, judge, reproduce_command

        case_file = load_cached(str(self.path))
        rel = os.path.relpath(self.path, self.config.rootpath)
        try:
            judgement = judge(rel, case_file, self.case, self.framework)
        except Exception as exc:  # a crash is still a result: record it, then let pytest report it
            self._record(case_file, Judgement(None, "error", f"{type(exc).__name__}: {exc}", None, 0.0,
                                              framework_version=frameworks.get(self.framework).version(),
                                              reproduce=reproduce_command(rel, self.case, self.framework)))
            raise
        self._record(case_file, judgement)
        if judgement.status == "skipped":
            pytest.skip(judgement.skip_reason)
        if judgement.status == "failed":
            raise CaseMismatch(judgement.message)

    def _record(self, case_file, judgement) -> None:
        """Attach this item's CaseResult to its report (the controller collects it under xdist)."""
        outcome = judgement.outcome
        expected = judgement.expected or self.case.expected_verdict(self.framework, judgement.framework_version)
        record = CaseResult(
            page=case_file.page.id,
            row=self.case.row,
            framework=self.framework,
            framework_version=judgement.framework_version,
            check=self.case.check,
            params=self.case.params,
            claim=self.case.claim.strip(),
            expected_verdict=expected.value,
            measured_verdict=outcome.verdict.value if outcome else None,
            outcome=judgement.status,
            skip_reason=judgement.skip_reason,
            message=judgement.message if judgement.status in ("failed", "error") else None,
            figures=Figures(
                max_abs=_finite(outcome.max_abs) if outcome else None,
                max_rel=_finite(outcome.max_rel) if outcome else None,
                within=outcome.within if outcome else None,
                tolerance=outcome.tolerance if outcome else None,
            ),
            details=(outcome.details + [f"changed: {p}" for p in outcome.problems]) if outcome else [],
            finding=self.case.finding,
            correction=self.case.correction,
            recipe=self.case.recipe,
            reproduce=judgement.reproduce,
            duration_s=round(judgement.duration_s, 4),
        )
        self.user_properties.append((RESULT_KEY, record.model_dump_json()))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CaseMismatch):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.case.row} [{self.framework}]"


class CaseMismatch(Exception):
    """The frameworks no longer do what the case's recorded verdict says."""


def _finite(value):
    import math

    return value if value is not None and math.isfinite(value) else None


def pytest_runtest_logreport(report):
    if report.when != "call":  # user_properties ride on every phase's report; take each result once
        return
    for key, value in getattr(report, "user_properties", []):
        if key == RESULT_KEY:
            _CONFIG_RESULTS.append(value)


_CONFIG_RESULTS: list[str] = []


cf_paths: dict[int, Path] = {}


def _case_files_in_report_order(rootpath) -> list:
    """Valid case files, the vendors' mapping pages first, then the supplements, each by file name."""
    files = []
    for case_path in sorted(Path(rootpath, CASES_DIR).glob("*.yaml")):
        try:
            cf = load_cached(str(case_path))
        except CaseFileError:
            continue
        cf_paths[id(cf)] = case_path
        files.append(cf)
    return sorted(files, key=lambda cf: cf.page.kind != "mapping_page")


def order_results(results: list[CaseResult], rootpath) -> list[CaseResult]:
    """Mapping pages before supplements, rows in each file's order (= the page's table), then frameworks."""
    order: dict[tuple[str, str], tuple[int, int]] = {}
    for file_index, cf in enumerate(_case_files_in_report_order(rootpath)):
        for case_index, case in enumerate(cf.cases):
            order[cf.page.id, case.row] = (file_index, case_index)
    return sorted(results, key=lambda r: (order.get((r.page, r.row), (99, 0)), frameworks.sort_key(r.framework)))


def _environment(config) -> Environment:
    versions = {dist: frameworks.distribution_version(dist) for dist in frameworks.REPORTED_DISTRIBUTIONS}
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=config.rootpath, capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return Environment(
        name=config.getoption("--environment-name"),
        python=platform.python_version(),
        platform=platform.platform(),
        frameworks=versions,
        suite_commit=commit,
        time=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    path = config.getoption("--results")
    if not path or hasattr(config, "workerinput"):
        return
    results = order_results([CaseResult.model_validate_json(v) for v in _CONFIG_RESULTS], config.rootpath)
    pages = {}
    for cf in _case_files_in_report_order(config.rootpath):
        case_path = cf_paths[id(cf)]
        p = cf.page
        pages[p.id] = PageRecord(kind=p.kind, id=p.id, title=p.title, docs_version=p.docs_version, language=p.language,
                                 address=p.address, written_against=p.written_against, frameworks=list(p.frameworks),
                                 case_file=os.path.relpath(case_path, config.rootpath), rows=len(cf.cases))
    used = {r.page for r in results}
    ResultsFile(environment=_environment(config), pages=[v for k, v in pages.items() if k in used],
                results=results).write(path)
