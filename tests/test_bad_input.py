"""The bad-input corpus: every input a user can get wrong gets a clear one-line error naming where, or is accepted
as written; no traceback, no silent wrong result, no runaway, and no earlier output damaged.

Each corpus entry's test name or parameter id names its outcome class: ``error`` (a one-line error that names
the file, and the line, case and field where they apply), ``accepted`` (taken correctly), or ``fault`` (an
interrupt, a full disk, a broken framework install: a clear message, and no earlier output damaged). Most
entries are in-process checks of the loaders and validators; the commands run in-process where they can and as
real subprocesses where only a subprocess shows the behaviour (an interrupt, a broken framework, the main job).
Count them with ``pytest tests/test_bad_input.py --collect-only -q``.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mapping import atomic
from mapping.cases import CaseFileError, load_case_file

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "fixtures" / "bad_input"
BASE = (CORPUS / "base_case_file.yaml").read_text(encoding="utf-8")
ENTRIES = yaml.safe_load((CORPUS / "case_file_corpus.yaml").read_text(encoding="utf-8"))

#: The longest error line any bad input may produce (a 1.2 KB file once produced a 1.4 GB one).
MAX_MESSAGE = 1000
#: The longest any single bad input may take to be refused (no runaway).
MAX_SECONDS = 10.0


def needs_torch() -> None:
    """Skip unless torch is installed, without importing it here: the tests that need it run it in a subprocess,
    and torch imported after an in-process pytester run crashes (see the pytester tests below)."""
    from mapping.adapters import missing_reason

    if missing_reason("torch"):
        pytest.skip(missing_reason("torch"))


def assert_clear_error(message: str, *, names: list[str | Path], line: int | None = None) -> None:
    """One line, bounded, no traceback, naming every file in ``names`` (and the line where one is given)."""
    assert "\n" not in message.strip(), f"not one line: {message!r}"
    assert len(message) <= MAX_MESSAGE, f"{len(message)} characters"
    assert "Traceback" not in message
    for name in names:
        assert str(name) in message, f"{name} not named in {message!r}"
    if line is not None:
        assert f":{line}:" in message, f"line {line} not named in {message!r}"


def edited(entry: dict) -> str:
    if "text" in entry:
        return entry["text"]
    if "append" in entry:
        return BASE + entry["append"]
    old, new = entry["replace"]
    assert old in BASE, f"{entry['id']}: the text to replace is not in the base file"
    return BASE.replace(old, new, 1)


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{e['expect']}-{e['id']}" for e in ENTRIES])
def test_case_file_corpus(tmp_path, entry):
    path = tmp_path / "case.yaml"
    path.write_text(edited(entry), encoding="utf-8")
    start = time.perf_counter()
    if entry["expect"] == "accepted":
        loaded = load_case_file(path)
        if "row" in entry:
            assert entry["row"] in [c.row for c in loaded.cases]
        return
    with pytest.raises(CaseFileError) as caught:
        load_case_file(path)
    assert time.perf_counter() - start < MAX_SECONDS
    error = caught.value
    assert_clear_error(str(error), names=[path], line=entry.get("line"))
    assert str(error).startswith(str(path))
    if "line" in entry:
        assert error.line == entry["line"], str(error)
    if "case" in entry:
        assert error.case == entry["case"], str(error)
    if "field" in entry:
        assert error.field == entry["field"], str(error)
    if "words" in entry:
        assert entry["words"] in str(error), str(error)


def test_base_case_file_is_valid_and_every_edit_changes_it(tmp_path):
    """The corpus tests its edits, not a broken base: the base loads, and no edit leaves it unchanged."""
    path = tmp_path / "base.yaml"
    path.write_text(BASE, encoding="utf-8")
    assert len(load_case_file(path).cases) == 5
    assert all(edited(e) != BASE for e in ENTRIES)
    assert len({e["id"] for e in ENTRIES}) == len(ENTRIES)


# Inputs that are not text, or not small: built here rather than written in the corpus file.
BYTE_ENTRIES = {
    "error-not-utf8-latin1": (BASE.replace("hidden_size.", "hidden_size \u00e9.").encode("latin-1"), 14, "not UTF-8"),
    "error-utf16": (BASE.encode("utf-16"), 1, "not UTF-8"),
    "error-nul-byte": (BASE.replace("Demo page", "Demo\x00page").encode(), 4, "not valid YAML"),
    "error-100000-nested-brackets": (b"page: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", 1,
                                     "nested more than 100 levels deep"),
    "error-101-nested-brackets-on-line-14": (BASE.replace("    claim: Both sides call it hidden_size.",
                                                          "    claim: " + "[" * 101 + "]" * 101).encode(), 14,
                                             "nested more than 100 levels deep"),
    "error-larger-than-1-mib": (BASE.encode() + b"# padding\n" * 120_000, None, "a case file is at most"),
    "accepted-utf8-with-bom": (b"\xef\xbb\xbf" + BASE.encode(), None, None),
    "accepted-crlf-line-ends": (BASE.replace("\n", "\r\n").encode(), None, None),
}


@pytest.mark.parametrize("name", list(BYTE_ENTRIES))
def test_case_file_bytes(tmp_path, name):
    data, line, words = BYTE_ENTRIES[name]
    path = tmp_path / "case.yaml"
    path.write_bytes(data)
    start = time.perf_counter()
    if name.startswith("accepted"):
        assert [c.row for c in load_case_file(path).cases][0] == "Parameter 1"
        return
    with pytest.raises(CaseFileError) as caught:
        load_case_file(path)
    assert time.perf_counter() - start < MAX_SECONDS
    assert_clear_error(str(caught.value), names=[path], line=line)
    assert words in str(caught.value)


# --- results files --------------------------------------------------------------------------------------------

from mapping.report.merge import ReportInputError, merge, read_results  # noqa: E402
from mapping.results import CaseResult, Environment, PageRecord, ResultsFile, RunStatus  # noqa: E402


def results_file(name: str = "torch", *, complete: bool | None = True, rows: tuple[str, ...] = ("Parameter 1",)
                 ) -> ResultsFile:
    """A small valid results file (what a run of ``rows`` on torch writes)."""
    page = PageRecord(id="demo", title="Demo page", docs_version="master", language="en",
                      address="https://example.org/demo.md", written_against={"pytorch": "2.3"},
                      frameworks=["torch"], case_file="cases/demo.yaml", rows=len(rows))
    results = [CaseResult(page="demo", row=row, framework="torch", framework_version="2.13.0", check="recipe",
                          params={"pytorch": "x"}, claim="Both sides do the same.", expected_verdict="equivalent",
                          measured_verdict="equivalent", outcome="passed", duration_s=0.1) for row in rows]
    run = RunStatus(complete=complete, exit_status=0 if complete else 2, selected=len(rows) + (0 if complete else 3),
                    ran=len(rows), interrupted=None if complete else "interrupted by SIGINT")
    return ResultsFile(environment=Environment(name=name, python="3.11", platform="linux", frameworks={"torch": "2.13.0"},
                                               suite_commit=None, time="2026-01-01T00:00:00+00:00"),
                       run=run, pages=[page], results=results)


def valid_json(**changes) -> dict:
    data = json.loads(results_file().model_dump_json())
    for dotted, value in changes.items():
        target = data
        *parents, last = dotted.split(".")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return data


RESULTS_ENTRIES = {
    "error-not-json": (b"{not json", "not JSON"),
    "error-empty-file": (b"", "not JSON"),
    "error-a-json-list": (b"[]", "schema_version None"),
    "error-schema-version-99": (json.dumps(valid_json(schema_version=99)).encode(), "schema_version 99"),
    "error-schema-version-missing": (json.dumps(valid_json(schema_version=...)).encode(), "schema_version None"),
    "error-schema-version-a-string": (json.dumps(valid_json(schema_version="2")).encode(), "schema_version '2'"),
    "error-no-environment": (json.dumps(valid_json(environment=...)).encode(), "environment: Field required"),
    "error-environment-name-escapes": (json.dumps(valid_json(**{"environment.name": "../x"})).encode(),
                                       "environment.name"),
    "error-environment-name-empty": (json.dumps(valid_json(**{"environment.name": ""})).encode(), "environment.name"),
    "error-outcome-unknown": (json.dumps(valid_json(**{"results.0.outcome": "exploded"})).encode(),
                              "results.0.outcome"),
    "error-unknown-field": (json.dumps(valid_json(colour="red")).encode(), "colour: Extra inputs"),
    "error-results-not-a-list": (json.dumps(valid_json(results={"a": 1})).encode(), "results"),
    "error-complete-not-a-bool": (json.dumps(valid_json(**{"run.complete": "yes"})).encode(), "run.complete"),
    "error-nested-100000-deep": (b'{"schema_version": 2, "pages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                                 "nested too deeply"),
    "error-not-utf8": ('{"schema_version": 2, "x": "é"}'.encode("latin-1"), "not UTF-8"),
    "error-a-5000-digit-number": (b'{"schema_version": 2, "n": ' + b"9" * 5000 + b"}", "not JSON"),
    "error-incomplete-run-refused": (results_file(complete=False).model_dump_json().encode(),
                                     "incomplete: interrupted by SIGINT; 1 of 4 selected cases have a result"),
}


@pytest.mark.parametrize("name", list(RESULTS_ENTRIES))
def test_results_file_corpus(tmp_path, name):
    data, words = RESULTS_ENTRIES[name]
    path = tmp_path / "results.json"
    path.write_bytes(data)
    start = time.perf_counter()
    with pytest.raises(ReportInputError) as caught:
        read_results([path])
    assert time.perf_counter() - start < MAX_SECONDS
    assert_clear_error(str(caught.value), names=[path])
    assert words in str(caught.value)


def test_results_error_larger_than_the_cap_is_refused_unread(tmp_path, monkeypatch):
    from mapping import results as results_module

    path = results_file().write(tmp_path / "big.json")
    monkeypatch.setattr(results_module, "MAX_RESULTS_BYTES", path.stat().st_size - 1)
    with pytest.raises(ReportInputError) as caught:
        read_results([path])
    assert_clear_error(str(caught.value), names=[path])
    assert "a results file is at most" in str(caught.value)


def test_results_accepted_schema_1_file_is_read_with_completeness_unknown(tmp_path):
    data = json.loads(results_file().model_dump_json())
    data["schema_version"] = 1
    del data["run"]
    (tmp_path / "v1.json").write_text(json.dumps(data), encoding="utf-8")
    (read,) = read_results([tmp_path / "v1.json"])
    assert read.run.complete is None and len(read.results) == 1
    merged = merge([read])
    assert "completeness not recorded" in merged.incomplete["torch"]


def test_results_accepted_incomplete_with_allow_incomplete_is_flagged_on_the_page(tmp_path):
    from mapping.report.render import write_report

    results_file(complete=False).write(tmp_path / "partial.json")
    html = write_report([tmp_path / "partial.json"], tmp_path / "report.html", allow_incomplete=True).read_text()
    assert 'class="warning incomplete" data-environment="torch"' in html
    assert "interrupted by SIGINT" in html


def test_results_accepted_nan_figures(tmp_path):
    data = valid_json(**{"results.0.figures": {"max_abs": float("nan"), "max_rel": None}})
    (tmp_path / "nan.json").write_text(json.dumps(data), encoding="utf-8")
    (read,) = read_results([tmp_path / "nan.json"])
    assert read.results[0].figures.max_abs != read.results[0].figures.max_abs  # NaN kept, not refused


def test_results_error_two_files_one_environment_names_both_files(tmp_path):
    results_file().write(tmp_path / "a.json")
    results_file(rows=("Parameter 2",)).write(tmp_path / "b.json")
    with pytest.raises(ReportInputError) as caught:
        merge(read_results([tmp_path / "a.json", tmp_path / "b.json"]))
    assert_clear_error(str(caught.value), names=[tmp_path / "a.json", tmp_path / "b.json"])


def test_results_error_one_measurement_twice_names_the_file(tmp_path):
    results_file(rows=("Parameter 1", "Parameter 1")).write(tmp_path / "twice.json")
    with pytest.raises(ReportInputError) as caught:
        merge(read_results([tmp_path / "twice.json"]))
    assert_clear_error(str(caught.value), names=[tmp_path / "twice.json"])
    assert "twice" in str(caught.value)


def test_results_error_directory_with_a_json_file_that_is_not_results(tmp_path):
    results_file().write(tmp_path / "a.json")
    (tmp_path / "notes.json").write_text('{"todo": 1}', encoding="utf-8")
    with pytest.raises(ReportInputError) as caught:
        read_results([tmp_path])
    assert_clear_error(str(caught.value), names=[tmp_path / "notes.json"])


# --- the report command: refuses to destroy its inputs ---------------------------------------------------------

from mapping.report.__main__ import main as report_main  # noqa: E402


def snapshot(*paths: Path) -> dict[Path, bytes | None]:
    return {p: p.read_bytes() if p.is_file() else None for p in paths}


@pytest.mark.parametrize("output", ["same-as-input", "directory", "json-file", "text-file", "parent-is-a-file"],
                         ids=lambda output: f"error-output-{output}")
def test_report_command_corpus(tmp_path, capsys, output):
    results = results_file().write(tmp_path / "a.json")
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("a file", encoding="utf-8")
    target = {"same-as-input": results, "directory": tmp_path / "dir", "json-file": tmp_path / "r.json",
              "text-file": tmp_path / "notes.txt", "parent-is-a-file": tmp_path / "file" / "r.html"}[output]
    before = snapshot(results, tmp_path / "file")
    assert report_main([str(results), "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert_clear_error(err, names=[target])
    assert snapshot(results, tmp_path / "file") == before
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "notes.txt").exists()


def test_report_command_error_incomplete_results_refused_and_old_report_kept(tmp_path, capsys):
    results_file(complete=False).write(tmp_path / "partial.json")
    (tmp_path / "report.html").write_text("<p>the previous report</p>", encoding="utf-8")
    assert report_main([str(tmp_path / "partial.json"), "-o", str(tmp_path / "report.html")]) == 2
    err = capsys.readouterr().err
    assert_clear_error(err, names=[tmp_path / "partial.json"])
    assert "--allow-incomplete" in err
    assert (tmp_path / "report.html").read_text() == "<p>the previous report</p>"


# --- pages (mapping.audit) --------------------------------------------------------------------------------------

from mapping import audit  # noqa: E402

AUDIT_CASES = Path(__file__).parent / "fixtures" / "audit" / "case_files"
NUMBERED_HEADER = "| Categories | Subcategories | TensorFlow | MindSpore | Differences |\n| --- | --- | --- | --- | --- |\n"


def page_entries(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    big_cell = tmp_path / "big_cell.md"
    big_cell.write_text("# Page\n\n" + NUMBERED_HEADER + "| Parameters | " + "x" * 1_000_000 + " | a | b | c |\n",
                        encoding="utf-8")
    huge = tmp_path / "huge.md"
    huge.write_bytes(b"# Page\n" + b"a" * (9 << 20))
    directory = tmp_path / "a_directory"
    directory.mkdir()
    empty = tmp_path / "empty.md"
    empty.write_text("   \n", encoding="utf-8")
    utf16 = tmp_path / "utf16.md"
    utf16.write_bytes(("# Page\n" + NUMBERED_HEADER).encode("utf-16"))
    no_table = tmp_path / "no_table.md"
    no_table.write_text("# A page\n\nSome prose and no table.\n", encoding="utf-8")
    nul = tmp_path / "nul.md"
    nul.write_bytes(b"# Page\n\x00\x01")
    return {
        "error-a-one-megabyte-cell-where-a-row-id-belongs": (big_cell, "stands where a row id"),
        "error-larger-than-8-mib": (huge, "a mapping page is at most"),
        "error-a-directory": (directory, "a directory"),
        "error-blank-file": (empty, "empty file"),
        "error-utf16": (utf16, "binary file"),
        "error-no-table": (no_table, "no difference table found"),
        "error-nul-bytes": (nul, "binary file"),
        "error-missing": (tmp_path / "missing.md", "cannot read"),
    }


@pytest.mark.parametrize("name", ["error-a-one-megabyte-cell-where-a-row-id-belongs", "error-larger-than-8-mib",
                                  "error-a-directory", "error-blank-file", "error-utf16", "error-no-table",
                                  "error-nul-bytes", "error-missing"])
def test_page_corpus(tmp_path, capsys, name):
    page, words = page_entries(tmp_path)[name]
    start = time.perf_counter()
    assert audit.main([str(page), "--cases", str(AUDIT_CASES)]) == audit.BAD_INPUT
    assert time.perf_counter() - start < MAX_SECONDS
    out, err = capsys.readouterr()
    assert_clear_error(err, names=[page])
    assert words in err and "Traceback" not in out


@pytest.mark.parametrize("edit, line, words", [
    (lambda text: text.replace("cases:\n", "cases:\ncases:\n", 1), None, "given twice"),
    (lambda text: text.replace("  title:", "  title: &t x\n  other: *t\n  title:", 1), None, "anchors and aliases"),
    (lambda text: text.encode("utf-16"), 1, "not UTF-8"),
], ids=["error-audit-case-file-duplicate-key", "error-audit-case-file-alias", "error-audit-case-file-utf16"])
def test_page_audit_case_file_corpus(tmp_path, capsys, edit, line, words):
    source = (AUDIT_CASES / "mini_gru.yaml").read_text(encoding="utf-8")
    bad = edit(source)
    path = tmp_path / "mini_gru.yaml"
    (path.write_bytes if isinstance(bad, bytes) else path.write_text)(bad)
    pages = Path(__file__).parent / "fixtures" / "audit" / "pages"
    assert audit.main([str(pages / "mini_gru.md"), "--cases", str(path)]) == audit.BAD_INPUT
    err = capsys.readouterr().err
    assert_clear_error(err, names=[path], line=line)
    assert words in err


def test_page_accepted_case_files_in_subfolders_and_yml(tmp_path):
    (tmp_path / "deeper").mkdir()
    (tmp_path / "deeper" / "MINI_GRU.YML").write_bytes((AUDIT_CASES / "mini_gru.yaml").read_bytes())
    assert [c.path.name for c in audit.index_case_files(tmp_path)] == ["MINI_GRU.YML"]


# --- mapping.run ------------------------------------------------------------------------------------------------

from mapping import judge as runner_judge  # noqa: E402
from mapping import run as runner  # noqa: E402

HOSTILE_ROW = "it's \"$(touch PWNED)\" `touch PWNED` $HOME\nsecond line"


def write_case_file(folder: Path, name: str = "demo.yaml", text: str = BASE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("argv, words", [
    (lambda p: [str(p), "Parameter 1", "--framework", "jax"], "invalid choice: 'jax'"),
    (lambda p: [str(p)], "required"),
    (lambda p: [str(p.parent / "missing.yaml"), "Parameter 1", "--framework", "torch"], "cannot read"),
    (lambda p: [str(p.parent), "Parameter 1", "--framework", "torch"], "cannot read"),
    (lambda p: [str(p), "Parameter 9", "--framework", "torch"], "no case for row 'Parameter 9'"),
    (lambda p: [str(p), "Parameter 1", "--framework", "keras2"], "is measured on ['torch', 'mindspore']"),
], ids=["error-unknown-framework", "error-missing-arguments", "error-missing-case-file", "error-a-directory",
        "error-unknown-row", "error-framework-not-measured"])
def test_run_command_corpus(tmp_path, capsys, argv, words):
    path = write_case_file(tmp_path)
    try:
        code = runner.main(argv(path))
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert_clear_error(err.strip().splitlines()[-1], names=[])
    assert words in err


def test_run_command_error_malformed_case_file_names_file_and_line(tmp_path, capsys):
    path = write_case_file(tmp_path, text=BASE.replace("values: [1, 4]", "values: [true]"))
    assert runner.main([str(path), "Parameter 1", "--framework", "torch"]) == 2
    assert_clear_error(capsys.readouterr().err, names=[path], line=16)


def test_run_command_accepted_reproduce_command_round_trips_a_hostile_row(tmp_path, capsys, monkeypatch):
    """The printed command, pasted into a shell, passes the row as one argument and runs nothing in it."""
    path = write_case_file(tmp_path / "a folder with spaces", text=BASE.replace("  - row: Parameter 2",
                                                                                "  - row: " + json.dumps(HOSTILE_ROW)))
    case = next(c for c in load_case_file(path).cases if c.row == HOSTILE_ROW)
    command = runner_judge.reproduce_command(path, case, "torch")
    argv = shlex.split(command)
    assert argv == ["python", "-m", "mapping.run", path.as_posix(), HOSTILE_ROW, "--framework", "torch"]
    echoed = subprocess.run(["bash", "-c", command.replace("python -m mapping.run", "printf '%s\\0'", 1)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert echoed.stdout.split("\0")[:-1] == argv[3:]
    assert not (tmp_path / "PWNED").exists()
    # and the command finds the row: asked for a framework the case is not measured on, it names the row back
    assert runner.main(argv[3:-1] + ["keras2"]) == 2
    assert "is measured on" in capsys.readouterr().err


def python_m(*args: str, cwd: Path = REPO, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    environ = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=environ, capture_output=True, text=True,
                          timeout=timeout)


def test_run_command_error_input_that_fails_only_at_run_time_is_one_line(tmp_path):
    """Valid at load; at run time no recorded behaviour covers the installed torch. One line, exit 2."""
    needs_torch()
    text = BASE.replace("  - row: Parameter 1\n", "  - row: Parameter 0\n    params: {pytorch: dropout}\n"
                        "    claim: Dropout is the same on both sides.\n    check: dropout_statistics\n"
                        "    frameworks: [torch]\n    args: {names: {torch: dropout}, convention: structure=none, "
                        "recorded: {torch: [{versions: \"<0.1\", behaviour: structure=none, measured_on: [\"0.0.1\"]}]}}\n"
                        "    verdict: no_counterpart\n\n  - row: Parameter 1\n", 1)
    path = write_case_file(tmp_path, text=text)
    done = python_m("mapping.run", str(path), "Parameter 0", "--framework", "torch")
    assert done.returncode == 2, done.stderr
    assert_clear_error(done.stderr, names=[path])
    assert "Parameter 0" in done.stderr and "covers the installed version" in done.stderr


# --- the other commands: unknown names and bad values refused in one line --------------------------------------

from mapping import faults, measure, measure_gradients  # noqa: E402


@pytest.mark.parametrize("main, argv, words", [
    (measure.main, ["jax"], "unknown framework 'jax'"),
    (measure_gradients.main, ["jax"], "unknown framework 'jax'"),
    (measure_gradients.main, ["--lengths", "0"], "not in [1, 10000]"),
    (measure_gradients.main, ["--lengths", "many"], "not a whole number"),
    (faults.main, ["--fault", "no_such_fault"], "no fault named 'no_such_fault'"),
    (faults.main, ["--json", "table.txt"], "must be a .json file"),
    (faults.main, ["--json", "."], "is a directory"),
], ids=["error-measure-unknown-framework", "error-measure-gradients-unknown-framework",
        "error-measure-gradients-lengths-zero", "error-measure-gradients-lengths-text", "error-faults-unknown-fault",
        "error-faults-json-not-json", "error-faults-json-a-directory"])
def test_command_usage_corpus(tmp_path, capsys, monkeypatch, main, argv, words):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert_clear_error(err.strip().splitlines()[-1], names=[])
    assert words in err and not list(tmp_path.iterdir())


# --- mapping.conformance: usage errors before anything runs -----------------------------------------------------

from mapping import conformance  # noqa: E402


@pytest.mark.parametrize("argv, words", [
    (["--environment-name", "../x"], "environment name '../x' is not allowed"),
    (["--environment-name", ""], "environment name '' is not allowed"),
    (["--environment-name", "a/b"], "environment name 'a/b' is not allowed"),
    (["--output", "{results}/all.json"], "also an input"),
    (["--output", "{tmp}/report.json"], "must be a .html or .htm file"),
    (["--results-dir", "{tmp}/a_file"], "is a file, not a directory"),
    (["-k", "Parameter 17"], "not a valid pytest expression"),
    (["-m", "torch or"], "not a valid pytest expression"),
    (["--environment-name", "notes"], "exists and is not a results file"),
], ids=["error-environment-name-escapes", "error-environment-name-empty", "error-environment-name-slash",
        "error-output-is-the-results-file", "error-output-not-html", "error-results-dir-is-a-file",
        "error-k-not-pytest-grammar", "error-m-incomplete-expression", "error-results-file-not-ours"])
def test_conformance_usage_corpus(tmp_path, capsys, argv, words):
    results = tmp_path / "results"
    results.mkdir()
    results_file("all").write(results / "all.json")
    (results / "notes.json").write_text('{"mine": true}', encoding="utf-8")
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    (tmp_path / "report.html").write_text("<p>old</p>", encoding="utf-8")
    before = snapshot(*results.iterdir(), tmp_path / "report.html", tmp_path / "a_file")
    argv = [a.format(tmp=tmp_path, results=results) for a in argv]
    defaults = ["--results-dir", str(results), "--output", str(tmp_path / "report.html")]
    with pytest.raises(SystemExit) as exit_:
        conformance.main(defaults + argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert_clear_error(err.strip().splitlines()[-1], names=[])
    assert words in err
    assert snapshot(*results.iterdir(), tmp_path / "report.html", tmp_path / "a_file") == before


# --- pytest --results: collection, selection and the results file ---------------------------------------------

TORCH_CASES = BASE.replace("  frameworks: [torch, mindspore]", "  frameworks: [torch]")


@pytest.fixture
def project(pytester):
    """A project with the case collector, a cases/ folder holding one valid case file, and a complete
    results file from an earlier run."""
    pytester.makeconftest("pytest_plugins = ['mapping.pytest_plugin']")
    write_case_file(pytester.path / "cases", text=TORCH_CASES)
    old = results_file("local").write(pytester.path / "results.json")
    return pytester, old, old.read_bytes()


@pytest.mark.parametrize("args, words", [
    (["--results", "out.txt"], "must be a .json file"),
    (["--results", "notes.json"], "exists and is not a results file"),
    (["--results", "cases"], "is a directory"),
    (["--results", "new.json", "--environment-name", "../x"], "environment name '../x' is not allowed"),
    (["--results", "new.json", "--environment-name", ""], "environment name '' is not allowed"),
], ids=["error-results-not-json", "error-results-not-ours", "error-results-a-directory",
        "error-environment-name-escapes", "error-environment-name-empty"])
def test_pytest_results_usage_corpus(project, args, words):
    pytester, old, before = project
    (pytester.path / "notes.json").write_text('{"mine": true}', encoding="utf-8")
    result = pytester.runpytest("cases", "-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert words in err and "Traceback" not in err
    assert old.read_bytes() == before and (pytester.path / "notes.json").read_text() == '{"mine": true}'
    assert not (pytester.path / "out.txt").exists() and not (pytester.path / "new.json").exists()


def test_pytest_results_error_empty_selection_keeps_the_complete_file(project):
    pytester, old, before = project
    result = pytester.runpytest("cases", "-p", "no:cacheprovider", "-k", "zzznothing", f"--results={old}")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert old.read_bytes() == before
    result.stdout.fnmatch_lines([f"results: {old} not written: nothing was selected (the previous file is kept)"])


@pytest.mark.parametrize("bad, line, words", [
    ("  title: Demo page\n  title: Again\n", 5, "'title' is given twice"),
    ("  title: &t Demo page\n", 4, "anchor &t"),
    ("  title: [unclosed\n", None, "not valid YAML"),
], ids=["error-collection-duplicate-key", "error-collection-anchor", "error-collection-yaml-syntax"])
def test_pytest_results_error_collection_error_keeps_the_complete_file(project, bad, line, words):
    pytester, old, before = project
    write_case_file(pytester.path / "cases", "broken.yaml", TORCH_CASES.replace("  title: Demo page\n", bad, 1))
    result = pytester.runpytest("cases", "-p", "no:cacheprovider", f"--results={old}")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    out = result.stdout.str()
    located = [ln for ln in result.stdout.lines if "broken.yaml" in ln and words in ln]
    assert located and (line is None or f"broken.yaml:{line}:" in located[0]), out
    assert "Traceback" not in out
    assert old.read_bytes() == before
    assert f"results: {old} not written" in out


def test_pytest_results_accepted_yml_any_case_and_subfolders(project):
    pytester, _, _ = project
    def page(name: str) -> str:
        return TORCH_CASES.replace("id: demo", f"id: {name}")

    write_case_file(pytester.path / "cases", "second.yml", page("second"))
    write_case_file(pytester.path / "cases", "THIRD.YAML", page("third"))
    write_case_file(pytester.path / "cases" / "drafts" / "deeper", "fourth.Yml", page("fourth"))
    result = pytester.runpytest("cases", "-p", "no:cacheprovider", "--collect-only", "-q")
    collected = [ln for ln in result.stdout.lines if "::" in ln]
    assert len(collected) == 4 * 5
    assert {ln.split("::")[0] for ln in collected} == {"cases/demo.yaml", "cases/second.yml", "cases/THIRD.YAML",
                                                        "cases/drafts/deeper/fourth.Yml"}


def test_pytest_results_accepted_project_kept_under_a_folder_named_cases(pytester):
    """Only folders named ``cases`` inside the project count: a checkout under ``~/cases/`` does not turn its
    other YAML files (fixtures, settings) into case files."""
    inner = pytester.mkdir("cases") / "project"
    inner.mkdir()
    (inner / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (inner / "conftest.py").write_text("pytest_plugins = ['mapping.pytest_plugin']\n", encoding="utf-8")
    write_case_file(inner / "cases", text=TORCH_CASES)
    write_case_file(inner / "fixtures", "not_a_case.yaml", "colour: red\n")
    result = pytester.runpytest(str(inner), "-p", "no:cacheprovider", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert {ln.split("::")[0] for ln in result.stdout.lines if "::" in ln} == {"cases/demo.yaml"}


def test_pytest_results_accepted_case_file_named_outside_cases(project):
    pytester, _, _ = project
    write_case_file(pytester.path / "drafts", "new_page.yaml", TORCH_CASES)
    result = pytester.runpytest("drafts/new_page.yaml", "-p", "no:cacheprovider", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    assert len([ln for ln in result.stdout.lines if ln.startswith("drafts/new_page.yaml::")]) == 5


def test_pytest_results_accepted_case_file_outside_the_project_with_the_collector_loaded(project, tmp_path_factory):
    pytester, _, _ = project
    elsewhere = write_case_file(tmp_path_factory.mktemp("elsewhere"), "page.yml", TORCH_CASES)
    result = pytester.runpytest(str(elsewhere), "-p", "mapping.pytest_plugin", "-p", "no:cacheprovider",
                                "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    assert len([ln for ln in result.stdout.lines if "page.yml::" in ln]) == 5


def test_pytest_results_error_yaml_named_on_the_command_line_that_is_not_a_case_file(project):
    pytester, _, _ = project
    (pytester.path / "settings.yaml").write_text("colour: red\n", encoding="utf-8")
    result = pytester.runpytest("settings.yaml", "-p", "no:cacheprovider", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert any("settings.yaml:1: not a case file: a case file is a mapping with keys 'page' and 'cases'; this one "
               "has 'colour'" in ln for ln in result.stdout.lines), result.stdout.str()
    assert "not found" not in result.stdout.str() + result.stderr.str()


UNEXPECTED_CONFTEST = '''
pytest_plugins = ["mapping.pytest_plugin"]
import mapping.judge

REAL_JUDGE = mapping.judge.judge

def crash(*args, **kwargs):
    raise RuntimeError("something inside a framework went wrong\\n" + "x" * 5000)

def pytest_runtest_setup(item):  # case items are not functions: no fixtures, so patch around each one
    mapping.judge.judge = crash

def pytest_runtest_teardown(item):
    mapping.judge.judge = REAL_JUDGE
'''


@pytest.mark.parametrize("tb", ["auto", "long"], ids=["error-unexpected-exception-one-line",
                                                      "accepted-unexpected-exception-traceback-on-request"])
def test_pytest_results_unexpected_exception(pytester, tb):
    """An exception nobody expected (not bad input) is one line naming the case; --tb=long shows its traceback."""
    pytester.makeconftest(UNEXPECTED_CONFTEST)
    write_case_file(pytester.path / "cases", text=TORCH_CASES)
    result = pytester.runpytest("cases", "-p", "no:cacheprovider", "-k", "Parameter and 1", f"--tb={tb}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    if tb == "auto":
        result.stdout.fnmatch_lines(["cases/demo.yaml:12: case 'Parameter 1' on torch: RuntimeError: something inside "
                                     "a framework went wrong", "  (an unexpected error; run with --tb=long for the "
                                     "traceback)"])
        assert "Traceback" not in out and "x" * 500 not in out
    else:
        assert "def crash(" in out  # the traceback, as asked for


# --- real runs in subprocesses: an interrupt, a broken framework, the main job's selections ----------------------

SLOW_CONFTEST = '''
pytest_plugins = ["mapping.pytest_plugin"]
import pathlib, time

def pytest_runtest_teardown(item):
    pathlib.Path("first-case-done").touch()   # the driver interrupts once this exists
    time.sleep(1.0)
'''


def interrupted_run(folder: Path, results: Path) -> subprocess.CompletedProcess:
    """``pytest --results`` on torch cases, sent SIGINT (Ctrl-C) after its first case."""
    (folder / "conftest.py").write_text(SLOW_CONFTEST, encoding="utf-8")
    write_case_file(folder / "cases", text=TORCH_CASES)
    cmd = [sys.executable, "-m", "pytest", "cases", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
           f"--results={results}"]
    proc = subprocess.Popen(cmd, cwd=folder, env=dict(os.environ, PYTHONPATH=str(REPO)), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 240
    while not (folder / "first-case-done").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=240)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "")


def test_fault_interrupted_run_keeps_the_previous_complete_results(tmp_path):
    needs_torch()
    old = results_file("local").write(tmp_path / "results.json")
    before = old.read_bytes()
    done = interrupted_run(tmp_path, old)
    assert done.returncode == pytest.ExitCode.INTERRUPTED, done.stdout
    assert old.read_bytes() == before
    assert f"results: {old} not replaced: this run is incomplete: interrupted by SIGINT" in done.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".results.json")]  # no temporary file left


def test_fault_interrupted_run_without_a_previous_file_writes_its_results_marked_incomplete(tmp_path):
    needs_torch()
    results = tmp_path / "results.json"
    done = interrupted_run(tmp_path, results)
    assert done.returncode == pytest.ExitCode.INTERRUPTED, done.stdout
    written = ResultsFile.read(results)
    assert written.run.complete is False and written.run.interrupted == "interrupted by SIGINT"
    assert written.run.selected == 5 and 1 <= written.run.ran < 5 == written.run.selected
    with pytest.raises(ReportInputError, match="incomplete: interrupted by SIGINT"):
        read_results([results])


def test_fault_broken_framework_is_one_line_per_case_not_a_flood(tmp_path):
    fake = tmp_path / "site" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("libtorch_cpu.so: cannot open shared object file")\n')
    (tmp_path / "conftest.py").write_text("pytest_plugins = ['mapping.pytest_plugin']\n", encoding="utf-8")
    write_case_file(tmp_path / "cases", text=TORCH_CASES)
    done = subprocess.run([sys.executable, "-m", "pytest", "cases", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
                           "--results=results.json"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=f"{tmp_path / 'site'}{os.pathsep}{REPO}", COLUMNS="250"))
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout
    line = "on torch: torch is installed but importing it failed: ImportError: libtorch_cpu.so: cannot open shared object"
    # The failure sections: one line per case (a wide terminal repeats it, once, in the short summary).
    failures = [ln for ln in done.stdout.splitlines() if line in ln and not ln.startswith("FAILED ")]
    assert len(failures) == 5, done.stdout
    assert all(re.match(r"cases/demo\.yaml:\d+: case '.+' on torch: ", ln) for ln in failures)
    assert "Traceback" not in done.stdout and len(done.stdout.splitlines()) < 60
    assert {r.outcome for r in ResultsFile.read(tmp_path / "results.json").results} == {"error"}


def conformance_run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, Path, Path]:
    results = tmp_path / "results"
    report = tmp_path / "conformance.html"
    done = python_m("mapping.conformance", "--results-dir", str(results), "--output", str(report), *args)
    return done, results / "all.json", report


def test_conformance_error_empty_selection_replaces_nothing(tmp_path):
    old = results_file("all").write(tmp_path / "results" / "all.json")
    (tmp_path / "conformance.html").write_text("<p>the previous report</p>", encoding="utf-8")
    before = snapshot(old, tmp_path / "conformance.html")
    done, results, report = conformance_run(tmp_path, "-k", "zzznothing")
    assert done.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, done.stdout + done.stderr
    assert snapshot(results, report) == before
    assert f"nothing selected by -k zzznothing: no case ran; {results} and {report} are left as they were" \
        in done.stderr


def test_conformance_accepted_user_marker_narrows_each_family(tmp_path):
    needs_torch()
    done, results, report = conformance_run(tmp_path, "-m", "torch", "-k", "Parameter and 1 and input_size and lstm_r2")
    assert done.returncode == 0, done.stdout + done.stderr
    written = ResultsFile.read(results)
    assert {(r.page, r.row, r.framework) for r in written.results} == {("pytorch-lstm-r2-3", "Parameter 1", "torch")}
    assert written.run.complete is True and written.run.selection == ["-m", "torch", "-k",
                                                                      "Parameter and 1 and input_size and lstm_r2"]
    assert "Traceback" not in done.stdout + done.stderr and report.is_file()


SLOW_PLUGIN = '''
import os, pathlib, time

def pytest_runtest_teardown(item):
    pathlib.Path(os.environ["FIRST_CASE_DONE"]).touch()
    time.sleep(1.0)
'''


def test_fault_conformance_interrupted_keeps_the_previous_complete_results_and_report(tmp_path):
    """Ctrl-C reaches the main job only (its pytest processes run in their own process groups); it passes the
    interrupt on, and the previous complete results and report stay as they were."""
    needs_torch()
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "slow_cases.py").write_text(SLOW_PLUGIN, encoding="utf-8")
    old = results_file("all").write(tmp_path / "results" / "all.json")
    (tmp_path / "conformance.html").write_text("<p>the previous report</p>", encoding="utf-8")
    before = snapshot(old, tmp_path / "conformance.html")
    marker = tmp_path / "first-case-done"
    cmd = [sys.executable, "-m", "mapping.conformance", "--results-dir", str(tmp_path / "results"), "--output",
           str(tmp_path / "conformance.html"), "-m", "torch", "-k", "pytorch_lstm_r2", "-p", "slow_cases"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{tmp_path / 'plugins'}",
                                     FIRST_CASE_DONE=str(marker)),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 240
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 2, out
    assert snapshot(old, tmp_path / "conformance.html") == before
    assert "this run is incomplete: interrupted (SIGINT)" in out and "are left as they were" in out
    assert "[torch+mindspore] results: wrote" in out and "interrupted by SIGINT" in out


# --- a full disk: the write fails midway, the previous file survives ---------------------------------------------


class _FailsMidway:
    """A file object that writes half of what it is given, then fails as a full disk does."""

    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.handle, name)


@pytest.fixture
def full_disk(monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: _FailsMidway(real_fdopen(fd, mode)))


def test_fault_full_disk_results_file_keeps_the_previous_one(tmp_path, full_disk):
    old = results_file().model_dump_json()
    path = tmp_path / "all.json"
    path.write_text(old, encoding="utf-8")
    with pytest.raises(OSError, match="No space left"):
        results_file(rows=tuple(f"Parameter {i}" for i in range(50))).write(path)
    assert path.read_text(encoding="utf-8") == old
    assert [p.name for p in tmp_path.iterdir()] == ["all.json"]


def test_fault_full_disk_report_command_keeps_the_previous_report(tmp_path, capsys, monkeypatch):
    results = results_file().write(tmp_path / "a.json")
    (tmp_path / "report.html").write_text("<p>the previous report</p>", encoding="utf-8")
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: _FailsMidway(real_fdopen(fd, mode)))
    assert report_main([str(results), "-o", str(tmp_path / "report.html")]) == 2
    assert_clear_error(capsys.readouterr().err, names=[tmp_path / "report.html"])
    assert (tmp_path / "report.html").read_text() == "<p>the previous report</p>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "report.html"]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (needs root and permission to mount; skipped where either is missing)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def test_fault_full_disk_on_a_real_small_file_system(tiny_disk, capsys):
    old = results_file().write(tiny_disk / "all.json")
    before = old.read_bytes()
    (tiny_disk / "report.html").write_text("<p>the previous report</p>", encoding="utf-8")
    free = os.statvfs(tiny_disk)
    (tiny_disk / "filler").write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 8192))
    with pytest.raises(OSError) as caught:
        results_file(rows=tuple(f"Parameter {i}" for i in range(200))).write(old)
    assert caught.value.errno == errno.ENOSPC
    assert old.read_bytes() == before
    assert report_main([str(old), "-o", str(tiny_disk / "report.html")]) == 2
    assert "No space left" in capsys.readouterr().err
    assert (tiny_disk / "report.html").read_text() == "<p>the previous report</p>"
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["all.json", "filler", "report.html"]
