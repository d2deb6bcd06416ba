"""Collect case files as pytest items (one per case and framework) and write the results JSON.

Modelled on pytest's own example of collecting YAML files. Every ``.yaml``/``.yml`` file (any letter case)
in a folder named ``cases`` or below it is a case file; a YAML file named on the command line is collected
wherever it lies (and refused with the loader's one-line reason if it is not a case file). Each item carries
a marker per framework, so ``-m mindspore`` selects MindSpore's half of every row and
``-k "Parameter and 17"`` one row.

With ``--results PATH`` the run writes a :class:`mapping.results.ResultsFile`, atomically, recording whether
the run completed. A run that selected nothing writes nothing; a run that was interrupted (Ctrl-C, SIGTERM),
failed to collect a case file or stopped early never replaces a complete results file (it writes its partial
results, marked incomplete, only where no complete file is in the way). Under pytest-xdist the workers hand
their results to the controller through ``user_properties``.

A case that cannot run because of its input fails with one line naming file, line, case and framework, not a
framework's traceback (``--tb=long`` shows the traceback of an unexpected exception).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import signal
import subprocess
from pathlib import Path

import pytest

from . import frameworks
from .cases import CaseFileError, case_files, case_lines, is_case_file_name, load_cached
from .errors import MappingError, UsageError, one_line
from .results import (
    CaseResult,
    DecidingFigure,
    Environment,
    Figures,
    PageRecord,
    ResultsFile,
    ResultsFileError,
    RunStatus,
    check_environment_name,
    check_results_target,
)

RESULT_KEY = "mapping_result"
PAGE_KEY = "mapping_page"

CASES_DIR = "cases"

_STATE = pytest.StashKey["_RunState"]()


class _RunState:
    """What the controller learns during the run, for the results file."""

    def __init__(self) -> None:
        self.results: list[str] = []  # CaseResult JSON, in report order of arrival
        self.pages: dict[str, str] = {}  # page id -> PageRecord JSON
        self.selected: set[str] | None = None  # node ids of the selected case items
        self.collection_errors: set[str] = set()
        self.signal: str | None = None  # the signal that interrupted the run, if one did
        self.previous_handlers: dict = {}
        self.message: str | None = None  # what happened to the results file, for the terminal summary


def pytest_addoption(parser):
    group = parser.getgroup("mapping")
    group.addoption("--results", default=None, help="write the conformance results JSON to this path (a .json "
                                                    "file; written only by a run that selected something)")
    group.addoption("--environment-name", default=os.environ.get("MAPPING_ENV", "local"),
                    help="name of this environment in the results (default: $MAPPING_ENV or 'local')")


def pytest_configure(config):
    for name in frameworks.NAMES:
        config.addinivalue_line("markers", f"{name}: cases measured on {name}")
    state = config.stash[_STATE] = _RunState()
    path = config.getoption("--results", None)
    if not path or hasattr(config, "workerinput"):
        return
    config.pluginmanager.register(_Recorder(state), "mapping-results-recorder")
    try:
        check_environment_name(config.getoption("--environment-name"))
        check_results_target(Path(path))
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    # Ctrl-C and SIGTERM (a CI job cancelled, tox killed) end the run through pytest's own KeyboardInterrupt
    # path, and are remembered: a library that swallows the KeyboardInterrupt (MindSpore's import does) cannot
    # make an interrupted run pass for a complete one. MindSpore also turns SIGINT into SIGTERM once loaded.
    try:
        state.previous_handlers = {sig: signal.signal(sig, _interrupt(state, config)) for sig in (signal.SIGINT,
                                                                                                  signal.SIGTERM)}
    except ValueError:  # not the main thread (pytest run in-process from a thread): leave them as they were
        pass


def _interrupt(state: _RunState, config):
    def handler(signum, frame):
        state.signal = state.signal or signal.Signals(signum).name
        session = getattr(config, "_mapping_session", None)
        if session is not None:  # should the KeyboardInterrupt be swallowed, stop after the current case
            session.shouldstop = f"interrupted by {state.signal}"
        raise KeyboardInterrupt(f"{state.signal} received")

    return handler


def pytest_sessionstart(session):
    session.config._mapping_session = session


def pytest_unconfigure(config):
    state = config.stash.get(_STATE, None)
    for sig, previous in (state.previous_handlers if state is not None else {}).items():
        signal.signal(sig, previous)


def _in_cases_folder(file_path: Path, rootpath: Path) -> bool:
    """Whether the file lies in a folder named ``cases`` (or below one) inside the project: folders above the
    project's root do not count (a checkout kept under ``~/cases/`` must not turn every YAML file into a case)."""
    try:
        return CASES_DIR in file_path.relative_to(rootpath).parent.parts
    except ValueError:
        return False


def _named_on_command_line(file_path: Path, config) -> bool:
    for arg in config.args:
        given = Path(config.invocation_params.dir, str(arg).split("::")[0])
        try:
            if given.resolve() == file_path.resolve():
                return True
        except OSError:
            continue
    return False


def pytest_collect_file(parent, file_path: Path):
    if not is_case_file_name(file_path):
        return None
    if _in_cases_folder(file_path, parent.config.rootpath) or _named_on_command_line(file_path, parent.config):
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

    @property
    def rel(self) -> str:
        return os.path.relpath(self.path, self.config.rootpath)

    def where(self) -> str:
        """``file:line: case 'row' on framework``: the start of every one-line message about this item."""
        line = case_lines(str(self.path)).get(self.case.row)
        return f"{self.rel}{f':{line}' if line else ''}: case {self.case.row!r} on {self.framework}"

    def runtest(self):
        from .judge import Judgement, judge

        case_file = load_cached(str(self.path))
        try:
            judgement = judge(self.rel, case_file, self.case, self.framework)
        except MappingError as exc:  # the case's input (or an installed framework) is the problem: one line
            message = f"{self.where()}: {one_line(exc)}"
            self._record(case_file, Judgement(None, "error", message, None, 0.0))
            raise CaseCannotRun(message) from None
        except Exception as exc:  # a crash is still a result: record it, then let pytest report it
            self._record(case_file, Judgement(None, "error", f"{type(exc).__name__}: {one_line(exc)}", None, 0.0))
            raise
        self._record(case_file, judgement)
        if judgement.status == "skipped":
            pytest.skip(judgement.skip_reason)
        if judgement.status == "failed":
            raise CaseMismatch(judgement.message)

    def _record(self, case_file, judgement) -> None:
        """Attach this item's CaseResult (and its page) to its report (the controller collects them under xdist)."""
        from .adapters import adapter_class
        from .judge import reproduce_command

        outcome = judgement.outcome
        version = judgement.framework_version
        if version is None:  # the case failed before judging finished: never import a framework to find out
            adapter_cls = adapter_class(self.framework)
            version = adapter_cls.version() if adapter_cls else None
        expected = judgement.expected or self.case.expected_verdict(self.framework, version)
        record = CaseResult(
            page=case_file.page.id,
            row=self.case.row,
            framework=self.framework,
            framework_version=version,
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
            recipe=_recipe_text(self.case, judgement),
            reproduce=judgement.reproduce or reproduce_command(self.rel, self.case, self.framework),
            duration_s=round(judgement.duration_s, 4),
            deciding=DecidingFigure(**vars(outcome.deciding)) if outcome and outcome.deciding else None,
            caveats=judgement.caveats,
            recipes=judgement.recipes,
        )
        self.user_properties.append((RESULT_KEY, record.model_dump_json()))
        self.user_properties.append((PAGE_KEY, _page_record(case_file, self.rel).model_dump_json()))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (CaseMismatch, CaseCannotRun)):
            return str(excinfo.value)
        if self.config.getoption("tbstyle", "auto") == "auto":  # no --tb asked for: one line, not a traceback
            return (f"{self.where()}: {excinfo.typename}: {one_line(excinfo.value)}\n"
                    f"  (an unexpected error; run with --tb=long for the traceback)")
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.case.row} [{self.framework}]"


class CaseMismatch(Exception):
    """The frameworks no longer do what the case's recorded verdict says."""


class CaseCannotRun(Exception):
    """The case's input cannot run (found only at run time), or its framework is installed but broken."""


def _recipe_text(case, judgement) -> str | None:
    """The recipe text of the results: the source of the recipes executed for this framework (or a case's older
    free-text recipe)."""
    if isinstance(case.recipe, str):
        return case.recipe
    return "\n".join(r.source for r in judgement.recipes) or None


def _finite(value):
    import math

    return value if value is not None and math.isfinite(value) else None


def _page_record(case_file, rel: str) -> PageRecord:
    p = case_file.page
    return PageRecord(kind=p.kind, id=p.id, title=p.title, docs_version=p.docs_version, language=p.language,
                      address=p.address, written_against=p.written_against, frameworks=list(p.frameworks),
                      case_file=Path(rel).as_posix(), rows=len(case_file.cases))


# --- the controller's view of the run --------------------------------------------------------------------


def _is_case_item_id(nodeid: str) -> bool:
    return is_case_file_name(nodeid.split("::")[0])


class _Recorder:
    """Hooks that gather, in the controller (or the only process), what the results file needs. One instance
    per config, so pytest runs in one process (pytester) do not share state."""

    def __init__(self, state: _RunState):
        self.state = state

    @pytest.hookimpl
    def pytest_collection_finish(self, session):
        self.state.selected = {i.nodeid for i in session.items if isinstance(i, CaseItem)}

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        self.state.selected = (self.state.selected or set()) | {i for i in ids if _is_case_item_id(i)}

    @pytest.hookimpl
    def pytest_collectreport(self, report):
        if report.failed:
            self.state.collection_errors.add(report.nodeid or "<session>")

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report):
        if report.when != "call":  # user_properties ride on every phase's report; take each result once
            return
        for key, value in getattr(report, "user_properties", []):
            if key == RESULT_KEY:
                self.state.results.append(value)
            elif key == PAGE_KEY:
                self.state.pages.setdefault(PageRecord.model_validate_json(value).id, value)


def _case_files_in_report_order(rootpath) -> list:
    """Valid case files under cases/, the vendors' mapping pages first, then the supplements, each by path."""
    files = []
    for case_path in case_files(Path(rootpath, CASES_DIR)):
        try:
            files.append(load_cached(str(case_path)))
        except CaseFileError:
            continue
    return sorted(files, key=lambda cf: cf.page.kind != "mapping_page")


def order_results(results: list[CaseResult], rootpath) -> list[CaseResult]:
    """Mapping pages before supplements, rows in each file's order (= the page's table), then frameworks."""
    order: dict[tuple[str, str], tuple[int, int]] = {}
    for file_index, cf in enumerate(_case_files_in_report_order(rootpath)):
        for case_index, case in enumerate(cf.cases):
            order.setdefault((cf.page.id, case.row), (file_index, case_index))
    return sorted(results, key=lambda r: (order.get((r.page, r.row), (99, 0)), frameworks.sort_key(r.framework)))


def _environment(config) -> Environment:
    versions = {dist: frameworks.distribution_version(dist) for dist in frameworks.REPORTED_DISTRIBUTIONS}
    commit, dirty = _suite_commit(config.rootpath)
    return Environment(
        name=config.getoption("--environment-name"),
        python=platform.python_version(),
        platform=platform.platform(),
        frameworks=versions,
        suite_commit=commit,
        suite_dirty=dirty,
        time=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )


def _suite_commit(rootpath) -> tuple[str | None, bool | None]:
    """The suite's commit, and whether tracked files differ from it (None where git cannot tell)."""
    def git(*args: str) -> subprocess.CompletedProcess | None:
        try:
            return subprocess.run(["git", *args], cwd=rootpath, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None

    head = git("rev-parse", "--short", "HEAD")
    commit = head.stdout.strip() or None if head and head.returncode == 0 else None
    if commit is None:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit, (bool(status.stdout.strip()) if status and status.returncode == 0 else None)


def _selection(config) -> list[str]:
    """The arguments that chose the cases: -m, -k and the paths given (what a reader needs to rerun them)."""
    chosen = []
    if config.option.markexpr:
        chosen += ["-m", config.option.markexpr]
    if config.option.keyword:
        chosen += ["-k", config.option.keyword]
    return chosen + [str(a) for a in config.args]


def run_status(session, exitstatus, state: _RunState) -> RunStatus:
    selected = len(state.selected) if state.selected is not None else None
    ran = len(state.results)
    stopped = session.shouldfail or session.shouldstop
    interrupted = None
    if state.signal:
        interrupted = f"interrupted by {state.signal}"
    elif exitstatus == pytest.ExitCode.INTERRUPTED and not state.collection_errors:
        interrupted = "interrupted (KeyboardInterrupt)"
    elif stopped:
        interrupted = f"stopped early: {stopped}"
    elif exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED) \
            and not (exitstatus == pytest.ExitCode.INTERRUPTED and state.collection_errors):
        interrupted = f"pytest ended with exit status {int(exitstatus)}"
    complete = (interrupted is None and not state.collection_errors and selected is not None and ran == selected)
    return RunStatus(complete=complete, exit_status=int(exitstatus), selected=selected, ran=ran,
                     collection_errors=len(state.collection_errors), interrupted=interrupted,
                     selection=_selection(session.config))


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    path = config.getoption("--results")
    if not path or hasattr(config, "workerinput"):
        return
    state = config.stash[_STATE]
    path = Path(path)
    run = run_status(session, exitstatus, state)
    if not run.ran:
        why = "nothing was selected" if not run.selected else run.describe()
        state.message = f"results: {path} not written: {why}" + (" (the previous file is kept)" if path.exists()
                                                                   else "")
        return
    if not run.complete and _complete_results_at(path):
        state.message = (f"results: {path} not replaced: this run is {run.describe()}; the previous complete "
                         "results are kept")
        return
    results = order_results([CaseResult.model_validate_json(v) for v in state.results], config.rootpath)
    first_seen = list(dict.fromkeys(r.page for r in results))
    pages = sorted((PageRecord.model_validate_json(v) for v in state.pages.values()),
                   key=lambda p: first_seen.index(p.id) if p.id in first_seen else len(first_seen))
    try:
        ResultsFile(environment=_environment(config), run=run, pages=pages, results=results).write(path)
    except OSError as exc:
        state.message = f"results: cannot write {path}: {exc.strerror or exc}; the previous file (if any) is kept"
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        return
    state.message = f"results: wrote {path} ({len(results)} results; {run.describe()})"


def _complete_results_at(path: Path) -> bool:
    try:
        return ResultsFile.read(path).run.complete is not False
    except ResultsFileError:
        return False


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = config.stash.get(_STATE, None)
    if state is not None and state.message:
        terminalreporter.write_line(state.message, yellow="not written" in state.message
                                    or "not replaced" in state.message)
