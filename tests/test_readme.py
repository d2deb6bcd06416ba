"""Every command README.md shows runs as written: parsed by the command's own argument parser, with the files,
rows, frameworks, tox environments and pytest expressions it names checked to exist and select something. The
quick ones (the audit of a seed page) run for real; the long ones (a full run, a benchmark) are validated only.
"""

from __future__ import annotations

import argparse
import configparser
import importlib
import py_compile
import re
import shlex
from pathlib import Path

import pytest
import yaml
from support import load_classify

from mapping.cases import VersionVerdict, case_files, load_case_file
from mapping.conformance import pytest_expression_problem

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def shell_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, re.S)


def commands() -> list[list[str]]:
    """Each command README.md shows: the lines of its bash blocks (a for loop gives its body once per value) and
    the inline ``./scripts/...`` examples."""
    found = []
    for block in shell_blocks():
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            if words[0] == "for":  # for env in a b c; do CMD $env; done
                body = line.split("; do ", 1)[1].rsplit("; done", 1)[0]
                values = shlex.split(line.split(" in ", 1)[1].split(";", 1)[0])
                found += [shlex.split(body.replace(f"${words[1]}", value)) for value in values]
            else:
                found.append(words)
    found += [shlex.split(code) for code in re.findall(r"`(\./scripts/[^`]+)`", README)]
    return found


COMMANDS = commands()


class _Parsed(Exception):
    def __init__(self, namespace, extra=()):
        self.namespace, self.extra = namespace, list(extra)


def parse_only(module: str, argv: list[str], monkeypatch) -> tuple[argparse.Namespace, list[str]]:
    """The namespace ``python -m module argv`` parses to, by the module's own parser, without running it."""
    real_known = argparse.ArgumentParser.parse_known_args

    def stop(self, args=None, namespace=None):
        parsed, extra = real_known(self, args, namespace)
        raise _Parsed(parsed, extra)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", stop)
    target = importlib.import_module(module)
    if not hasattr(target, "main"):
        target = importlib.import_module(f"{module}.__main__")
    with pytest.raises(_Parsed) as parsed:
        target.main(argv)
    monkeypatch.undo()
    return parsed.value.namespace, parsed.value.extra


def case_items() -> list[tuple[str, set[str]]]:
    """(keywords, markers) of every case item, as pytest matches -k and -m against them."""
    items = []
    for path in case_files(ROOT / "cases"):
        cf = load_case_file(path)
        for case in cf.cases:
            left = ", ".join(v if v else "-" for v in case.params.values())
            for framework in cf.frameworks_of(case):
                items.append((f"{case.row} ({left})[{framework}] {path.name} cases", {framework}))
    return items


def declared_markers() -> list[str]:
    """The markers pyproject.toml declares for the harness tests (``convert_grid``)."""
    import tomllib

    ini = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    return [line.split(":", 1)[0].strip() for line in ini.get("markers", [])]


def check_pytest_arguments(args: list[str]) -> None:
    """-m/-k parse with pytest's grammar and select at least one case (or, for -m, a declared marker); paths
    exist."""
    from _pytest.mark.expression import Expression

    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg in ("-m", "-k"):
            expression = rest.pop(0)
            assert pytest_expression_problem(expression) is None, f"{arg} {expression!r}"
            compiled = Expression.compile(expression)
            if arg == "-m":
                hits = [markers for _, markers in case_items() if compiled.evaluate(lambda n, **kw: n in markers)]
                hits += [m for m in declared_markers() if compiled.evaluate(lambda n, **kw: n == m)]
            else:
                hits = [kw for kw, _ in case_items()
                        if compiled.evaluate(lambda n, **kw_: n.lower() in kw.lower())]
            assert hits, f"{arg} {expression!r} selects no case"
        elif arg.startswith("--hypothesis-profile"):
            from hypothesis import settings

            settings.get_profile(rest.pop(0))  # raises if the profile is not registered
        elif not arg.startswith("-"):
            assert (ROOT / arg).exists(), arg


def tox_environments() -> set[str]:
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(ROOT / "tox.ini")
    listed = {e.strip() for e in ini["tox"]["envlist"].split(",")}
    return listed | {s.split(":", 1)[1] for s in ini.sections() if s.startswith("testenv:")}


def test_readme_shows_the_commands_it_is_expected_to():
    programs = {" ".join(c[:3]) if c[0].endswith("python") else " ".join(c[:2]) if c[0].endswith("mapping")
                else c[0] for c in COMMANDS}
    assert {"./scripts/conformance.sh", "./scripts/test.sh", ".venv/bin/mapping run", ".venv/bin/mapping report",
            ".venv/bin/mapping audit", ".venv/bin/mapping conformance", ".venv/bin/mapping measure",
            ".venv/bin/mapping faults", ".venv/bin/tox"} <= programs
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c)[:70] for c in COMMANDS])
def test_readme_command_runs_as_written(command, monkeypatch, capsys):
    program, args = command[0], command[1:]
    if program in ("./scripts/test.sh", "./scripts/conformance.sh"):
        script = ROOT / program
        assert script.is_file() and script.stat().st_mode & 0o111, f"{program} is not an executable file"
        if program == "./scripts/test.sh":
            check_pytest_arguments(args)
        else:
            parse_only("mapping.conformance", args, monkeypatch)
    elif program == "./scripts/mutation.sh":
        script = ROOT / program
        assert script.is_file() and script.stat().st_mode & 0o111, f"{program} is not an executable file"
        groups = mutation_groups()
        for group, modules in groups.items():  # every module a group mutates exists (module renames show up here)
            for module in modules:
                assert (ROOT / module).is_file(), f"mutation group {group}: no {module}"
        assert all(a == "--list" or a in groups for a in args), f"{args}: groups are {sorted(groups)}"
    elif program == ".venv/bin/tox":
        assert args[0] == "-e"
        unknown = set(args[1].split(",")) - tox_environments()
        assert not unknown, f"tox.ini has no environment {sorted(unknown)}"
    elif program == ".venv/bin/python" and args[0] == "-m" and args[1] == "pytest":
        check_pytest_arguments(args[2:])
    elif program == ".venv/bin/mapping":  # the one entry point: mapping <command> runs that command's module
        from mapping.cli import COMMANDS as ENTRY_COMMANDS

        assert args[0] in ENTRY_COMMANDS, f"mapping has no command {args[0]!r}"
        namespace, extra = parse_only(ENTRY_COMMANDS[args[0]][0], args[1:], monkeypatch)
        assert args[0] == "conformance" or not extra, f"unrecognised arguments {extra}"
        check_module_arguments(f"mapping.{args[0]}", namespace, capsys)
    elif program == ".venv/bin/python" and args[0] == "-m":
        module, argv = args[1], args[2:]
        namespace, extra = parse_only(module, argv, monkeypatch)
        assert module == "mapping.conformance" or not extra, f"unrecognised arguments {extra}"
        check_module_arguments(module, namespace, capsys)
    elif program == ".venv/bin/python" and args[0] == "mutation/classify.py":
        namespace = load_classify().parser().parse_args(args[1:])
        groups = mutation_groups()
        assert set(namespace.groups) <= set(groups), f"{namespace.groups}: groups are {sorted(groups)}"
    elif program == ".venv/bin/python":
        script = ROOT / args[0]
        assert script.is_file(), args[0]
        py_compile.compile(str(script), doraise=True)
        assert len(args) == 1 or args[1:] in (["[--repeat", "N]"],), args  # the README's usage hint
    else:
        pytest.fail(f"README shows a command this test does not know how to check: {command}")


def mutation_groups() -> dict[str, list[str]]:
    """scripts/mutation.sh's groups and the modules each mutates (its GROUPS_TABLE)."""
    table = (ROOT / "scripts/mutation.sh").read_text(encoding="utf-8").split("GROUPS_TABLE='", 1)[1].split("'", 1)[0]
    return {line.split("|")[0]: line.split("|")[1].split() for line in table.splitlines() if line}


def check_module_arguments(module: str, namespace: argparse.Namespace, capsys) -> None:
    if module == "mapping.run":
        cf = load_case_file(ROOT / namespace.case_file)
        case = next((c for c in cf.cases if c.row == namespace.row), None)
        assert case is not None, f"no row {namespace.row!r} in {namespace.case_file}"
        assert namespace.framework in cf.frameworks_of(case)
    elif module == "mapping.audit":
        from mapping import audit

        pages = [ROOT / p for p in namespace.pages]
        if not all(p.exists() for p in pages):
            pytest.skip("the seed pages (../shared/seeds) are not here")
        assert audit.main([str(p) for p in pages]) == audit.FULL_COVERAGE  # quick: run it for real
        capsys.readouterr()
    elif module == "mapping.report":
        from mapping.atomic import refuse_overwriting

        assert [str(p) for p in namespace.results] == ["reports/results"]  # where the main job and tox write
        refuse_overwriting(ROOT / namespace.output, [ROOT / p for p in namespace.results], suffixes=(".html",))
    elif module == "mapping.conformance":
        from mapping.results import check_environment_name

        check_environment_name(namespace.environment_name)


def test_readme_bounds_match_the_code():
    from mapping import cases, spec

    text = " ".join(README.split())
    assert f"at most {spec.MAX_FEATURES:,}" in text and f"`num_layers` at most {spec.MAX_LAYERS}" in text
    assert f"batch at most {spec.MAX_BATCH:,}" in text and f"steps at most {spec.MAX_STEPS:,}" in text
    assert f"({spec.MAX_PROBLEM_NUMBERS:,}) numbers" in text and spec.MAX_PROBLEM_NUMBERS == 2**24
    assert cases.TOLERANCE_CEILING == 1e-3 and "at most 1e-3" in text


def test_readme_error_example_is_what_the_loader_says(tmp_path):
    from mapping.cases import CaseFileError

    shown = re.search(r"`(cases/x\.yaml:16: [^`]+)`", " ".join(README.split())).group(1)
    base = (ROOT / "tests" / "fixtures" / "bad_input" / "base_case_file.yaml").read_text(encoding="utf-8")
    (tmp_path / "cases").mkdir()
    path = tmp_path / "cases" / "x.yaml"
    path.write_text(base.replace("values: [1, 4]", "values: [0]"), encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case_file(path)
    assert str(caught.value).replace(str(tmp_path) + "/", "") == shown


def test_readme_verdict_by_version_example_is_valid():
    block = re.search(r"```yaml\n(.*?)```", README, re.S).group(1)
    data = yaml.safe_load(block)
    for framework, entries in data["verdict_by_version"].items():
        for entry in entries:
            VersionVerdict.model_validate(entry)
