"""Meta-tests of the judgement (``mapping.judge.judge``): a case passes only when the measured verdict is the
recorded one AND the check recorded no problem; a check that raises, or a missing verdict, never passes.

The check's outcome is faked with ``unittest.mock`` (no framework is imported): what is under test is the
decision taken on an outcome, not the measurement.
"""

from __future__ import annotations

import shlex
from unittest import mock

import pytest

from mapping import judge as runner
from mapping import run
from mapping.cases import load_case_file
from mapping.checks import Outcome
from mapping.errors import MappingError
from mapping.verdicts import Verdict

CASE_FILE = """page:
  id: demo
  title: Demo
  docs_version: master
  language: en
  address: https://example.org/x.md
  renderings: [{seed: a.txt, rows: 1}]
  written_against: {pytorch: "1.8"}
  frameworks: [torch]
cases:
  - row: Parameter 1
    params: {pytorch: hidden_size, mindspore: hidden_size}
    claim: Both sides call it hidden_size.
    check: renamed_parameter
    args: {field: hidden_size, values: [2], names: {torch: hidden_size}}
    verdict: VERDICT
"""


class FakeAdapter:
    @classmethod
    def version(cls):
        return "2.13.0"


def judge_with(tmp_path, outcome=None, *, recorded: str = "equivalent", raises: Exception | None = None,
               missing: str | None = None, case_update: dict | None = None):
    path = tmp_path / "demo.yaml"
    path.write_text(CASE_FILE.replace("VERDICT", recorded), encoding="utf-8")
    case_file = load_case_file(path)
    case = case_file.cases[0]
    if case_update:
        case = case.model_copy(update=case_update)
    run_case = mock.Mock(side_effect=raises) if raises else mock.Mock(return_value=outcome)
    with mock.patch.object(runner, "run_case", run_case), \
            mock.patch.object(runner, "get_adapter", return_value=FakeAdapter()) as get_adapter, \
            mock.patch.object(runner, "missing_reason", return_value=missing) as missing_reason:
        judgement = runner.judge(path, case_file, case, "torch")
    missing_reason.assert_called_once_with("torch")
    if not missing:
        get_adapter.assert_called_once_with("torch")
        run_case.assert_called_once_with(case, "torch", "lstm")  # the page's op
        assert judgement.outcome is outcome
        assert 0.0 <= judgement.duration_s < 60.0
    return judgement


def test_agreeing_verdict_without_problems_passes(tmp_path):
    j = judge_with(tmp_path, Outcome(Verdict.EQUIVALENT, details=["fine"]))
    assert j.status == "passed" and j.skip_reason is None
    assert j.message.splitlines() == [
        "Demo (master), Parameter 1, on torch",
        "  claim:    Both sides call it hidden_size.",
        "  expected: equivalent",
        "  measured: equivalent",
        "  detail:   fine",
        "  reproduce: " + shlex.join(["python", "-m", "mapping.run", (tmp_path / "demo.yaml").as_posix(), "Parameter 1",
                                      "--framework", "torch"]),
    ]


def test_the_verdict_recorded_for_the_installed_version_is_expected(tmp_path):
    """FakeAdapter reports 2.13.0: an entry covering it decides, and the message says where it came from."""
    from mapping.cases import VersionVerdict

    entry = VersionVerdict(versions="==2.13.*", measured_on=["2.13.0"], verdict=Verdict.NO_COUNTERPART,
                            note="invented for the test")
    update = {"verdict_by_version": {"torch": [entry]}}
    assert judge_with(tmp_path, Outcome(Verdict.NO_COUNTERPART), case_update=update).status == "passed"
    j = judge_with(tmp_path, Outcome(Verdict.EQUIVALENT), case_update=update)
    assert j.status == "failed"
    assert "expected: no counterpart (recorded for torch ==2.13.*, measured on 2.13.0)" in j.message


def test_a_recorded_problem_fails_even_when_the_verdict_agrees(tmp_path):
    j = judge_with(tmp_path, Outcome(Verdict.EQUIVALENT, problems=["the default is now 0.5"]))
    assert j.status == "failed"
    assert "changed:  the default is now 0.5" in j.message


def test_a_problem_fails_a_not_applicable_verdict_too(tmp_path):
    j = judge_with(tmp_path, Outcome(Verdict.NOT_APPLICABLE, problems=["x"]), recorded="not_applicable")
    assert j.status == "failed"


@pytest.mark.parametrize("measured", [v for v in Verdict if v != Verdict.EQUIVALENT])
def test_any_other_verdict_fails(tmp_path, measured):
    j = judge_with(tmp_path, Outcome(measured))
    assert j.status == "failed"
    assert f"measured: {measured.label}" in j.message


@pytest.mark.parametrize("recorded", [v for v in Verdict if v not in (Verdict.EQUIVALENT, Verdict.DIVERGES)])
def test_the_recorded_verdict_is_the_one_compared(tmp_path, recorded):
    agree = judge_with(tmp_path, Outcome(recorded), recorded=recorded.value)
    assert agree.status == ("skipped" if recorded == Verdict.NOT_APPLICABLE else "passed")
    assert judge_with(tmp_path, Outcome(Verdict.EQUIVALENT), recorded=recorded.value).status == "failed"


def test_a_missing_measured_verdict_never_passes(tmp_path):
    try:
        j = judge_with(tmp_path, Outcome(None))  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - an error is reported by pytest as one: not a pass either
        return
    assert j.status == "failed"


def test_a_missing_recorded_verdict_is_an_error_not_a_pass(tmp_path):
    with pytest.raises(KeyError):
        judge_with(tmp_path, Outcome(Verdict.EQUIVALENT), case_update={"verdict": {"mindspore": Verdict.EQUIVALENT}})


def test_a_check_that_raises_is_not_judged(tmp_path):
    with pytest.raises(RuntimeError, match="inside the framework"):
        judge_with(tmp_path, raises=RuntimeError("inside the framework"))


def test_not_applicable_as_recorded_is_a_skip_with_the_reason(tmp_path):
    j = judge_with(tmp_path, Outcome(Verdict.NOT_APPLICABLE, details=["no such parameter", "gone"]),
                   recorded="not_applicable")
    assert j.status == "skipped" and j.message == ""
    assert j.skip_reason == "not applicable in this version: no such parameter; gone"
    j = judge_with(tmp_path, Outcome(Verdict.NOT_APPLICABLE), recorded="not_applicable")
    assert j.skip_reason == "not applicable in this version: not applicable in this version"


def test_a_missing_framework_is_a_skip_and_runs_nothing(tmp_path):
    j = judge_with(tmp_path, None, missing="torch not installed")
    assert j.status == "skipped" and j.skip_reason == "torch: torch not installed" and j.outcome is None
    assert j.message == "" and j.duration_s == 0.0


def test_figures_are_printed_when_measured(tmp_path):
    j = judge_with(tmp_path, Outcome(Verdict.DIVERGES, max_abs=0.25, max_rel=0.5, within=0.75, tolerance=1e-6))
    assert j.status == "failed"
    assert ("  figures:  max abs error 0.25, max rel error 0.5, within tolerance 75.0% (tolerance 1e-06)"
            in j.message.splitlines())
    j = judge_with(tmp_path, Outcome(Verdict.DIVERGES, max_abs=0.25, tolerance=1e-6))  # no relative figure, no share
    assert ("  figures:  max abs error 0.25, max rel error 0, within tolerance 0.0% (tolerance 1e-06)"
            in j.message.splitlines())


# --- the reproduction command every failure prints: python -m mapping.run FILE ROW --framework NAME ------


def run_main(tmp_path, capsys, *argv, status="passed"):
    path = tmp_path / "demo.yaml"
    path.write_text(CASE_FILE.replace("VERDICT", "equivalent"), encoding="utf-8")
    judgement = runner.Judgement(None, status, "the message" if status != "skipped" else "",
                                 "why skipped" if status == "skipped" else None, 0.0)
    with mock.patch.object(runner, "judge", return_value=judgement) as judge:
        code = run.main([str(path) if a == "FILE" else a for a in argv])
    out, err = capsys.readouterr()
    return code, out, err, judge


@pytest.mark.parametrize("status, code", [("passed", 0), ("failed", 1), ("skipped", 0)])
def test_run_command_exit_status_follows_the_judgement(tmp_path, capsys, status, code):
    got, out, err, judge = run_main(tmp_path, capsys, "FILE", "Parameter 1", "--framework", "torch", status=status)
    assert got == code and out.splitlines()[-1] == status
    assert (out.splitlines()[0] == "the message") if status != "skipped" else ("skipped: why skipped" in out)
    (path, case_file, case, framework), _ = judge.call_args
    assert case.row == "Parameter 1" and framework == "torch" and path == str(tmp_path / "demo.yaml")
    assert case_file.page.title == "Demo" and case in case_file.cases


def test_run_command_refuses_an_unknown_row_framework_or_file(tmp_path, capsys):
    code, out, err, judge = run_main(tmp_path, capsys, "FILE", "Parameter 9", "--framework", "torch")
    assert code == 2 and "no case for row 'Parameter 9'; rows: 'Parameter 1'" in err and not judge.called
    code, out, err, judge = run_main(tmp_path, capsys, "FILE", "Parameter 1", "--framework", "mindspore")
    assert code == 2 and "case 'Parameter 1' is measured on ['torch'], not mindspore" in err and not judge.called
    code, out, err, judge = run_main(tmp_path, capsys, str(tmp_path / "missing.yaml"), "Parameter 1", "--framework", "torch")
    assert code == 2 and "missing.yaml" in err and not judge.called


@pytest.mark.parametrize("outcome, recorded, status", [
    (Outcome(Verdict.EQUIVALENT), "equivalent", "passed"),
    (Outcome(Verdict.DIVERGES), "equivalent", "failed"),
    (Outcome(Verdict.NOT_APPLICABLE), "not_applicable", "skipped"),
], ids=["passed", "failed", "skipped"])
def test_every_judgement_records_version_expected_verdict_and_command(tmp_path, outcome, recorded, status):
    """What the results file records next to the status: the installed version, the verdict expected for
    it, and the command that reruns the case, whatever the status."""
    j = judge_with(tmp_path, outcome, recorded=recorded)
    assert j.status == status
    assert j.framework_version == "2.13.0"
    assert j.expected == Verdict(recorded)
    assert j.reproduce == shlex.join(["python", "-m", "mapping.run", (tmp_path / "demo.yaml").as_posix(),
                                      "Parameter 1", "--framework", "torch"])


def test_a_missing_framework_still_records_the_expected_verdict_and_command(tmp_path):
    j = judge_with(tmp_path, recorded="no_counterpart", missing="torch not installed")
    assert j.status == "skipped" and j.framework_version is None
    assert j.expected == Verdict.NO_COUNTERPART
    assert j.reproduce.startswith("python -m mapping.run ") and j.reproduce.endswith("--framework torch")


@pytest.mark.parametrize("error, code, words", [
    (MappingError("torch is installed but importing it failed: ImportError: x"), 2,
     "case 'Parameter 1' on torch: torch is installed but importing it failed: ImportError: x"),
    (ZeroDivisionError("boom"), 3,
     "case 'Parameter 1' on torch: unexpected ZeroDivisionError: boom (rerun with --traceback to see where)"),
])
def test_run_command_errors_are_one_line_on_stderr_with_their_exit_code(tmp_path, capsys, error, code, words):
    """A harness error (exit 2) and an unexpected one (exit 3) are one line on stderr naming file, case and
    framework, nothing on stdout; --traceback is a flag that lets the unexpected one through; --framework is
    required."""
    path = tmp_path / "demo.yaml"
    path.write_text(CASE_FILE.replace("VERDICT", "equivalent"), encoding="utf-8")
    argv = [str(path), "Parameter 1", "--framework", "torch"]
    with mock.patch.object(runner, "judge", side_effect=error):
        got = run.main(argv)
        out, err = capsys.readouterr()
        assert (got, out) == (code, "") and err == f"{path}: {words}\n"
        if code == 3:
            with pytest.raises(ZeroDivisionError):
                run.main([*argv, "--traceback"])
    with pytest.raises(SystemExit) as exit_:
        run.main([str(path), "Parameter 1"])
    assert exit_.value.code == 2 and "--framework" in capsys.readouterr().err


def test_a_recipe_that_raises_is_a_failing_recipe_and_a_problem(tmp_path):
    """A shown recipe whose execution raises has stopped working: its record says not ok, '(not reached)' and what
    it raised, and the case gets a problem (which fails it), never a pass; the case's tolerance and setup reach the
    recipe's call."""
    from support import adapter_or_skip

    adapter_or_skip("torch")
    path = tmp_path / "demo.yaml"
    path.write_text(CASE_FILE.replace("VERDICT", "equivalent") + "    recipe: {torch: packed_lengths}\n",
                    encoding="utf-8")
    case = load_case_file(path).cases[0]
    ctx = runner.context(case, "torch")
    with mock.patch.object(runner.contracts, "execute", side_effect=ZeroDivisionError("boom")), \
            mock.patch.object(runner.contracts, "RecipeCall") as call:
        records, problems = runner.run_recipes(case, ctx, Outcome(Verdict.EQUIVALENT))
    (record,) = records
    assert (record.name, record.executed, record.ok, record.max_abs) == ("packed_lengths", True, False, None)
    assert record.compared_with == "(not reached)" and record.detail == "raises ZeroDivisionError: boom"
    assert problems == ["recipe packed_lengths no longer reproduces (not reached): raises ZeroDivisionError: boom"]
    (adapter, op, setup, seed, tolerance), _ = call.call_args
    assert (op, seed, tolerance) == ("lstm", ctx.seed, ctx.tolerance) and adapter is ctx.adapter


# --- what the judgement hands on: the case's tolerance and op, the recipes a check ran, the caveats ----------


def demo_case(tmp_path, extra: str = ""):
    path = tmp_path / "demo.yaml"
    path.write_text(CASE_FILE.replace("VERDICT", "equivalent") + extra, encoding="utf-8")
    return load_case_file(path).cases[0]


TOLERANCE = "    tolerance: {value: 3.0e-5, reason: a tolerance of the case's own}\n"


def test_the_cases_tolerance_and_the_pages_op_reach_the_check_and_its_recipes(tmp_path):
    """A case's own tolerance and its page's op are what the check measures with (a check run with the default
    tolerance, or on LSTM for a GRU page, would decide on another problem or threshold)."""
    case = demo_case(tmp_path, TOLERANCE)
    ctx = runner.context(case, "torch", "gru")
    assert (ctx.framework, ctx.tolerance, ctx.op) == ("torch", 3.0e-5, "gru")
    assert runner.context(demo_case(tmp_path), "torch").tolerance is None
    check = mock.Mock()
    check.run.return_value = Outcome(Verdict.EQUIVALENT)
    with mock.patch.dict(runner.CHECKS, {case.check: check}):
        assert runner.run_case(case, "torch", "gru_cell") is check.run.return_value
    (args, got), _ = check.run.call_args
    assert args == case.args and (got.tolerance, got.op) == (3.0e-5, "gru_cell")
    with mock.patch.object(runner.recipes, "shown", return_value=_shown_recipe), \
            mock.patch.object(runner.recipes, "spec_of", return_value=mock.Mock(contract="layer")), \
            mock.patch.object(runner.contracts, "execute", return_value=runner.contracts.RecipeRun(True, 1e-8, "x")), \
            mock.patch.object(runner.contracts, "RecipeCall") as call:
        runner.run_recipes(demo_case(tmp_path, TOLERANCE + "    recipe: {torch: packed_lengths}\n"), ctx,
                           Outcome(Verdict.EQUIVALENT))
    (adapter, op, setup, seed, tolerance), _ = call.call_args
    assert (op, tolerance) == ("gru", 3.0e-5)


def _shown_recipe(*args):  # stands for a recipe function; its source is what a record shows
    return None


def _other_recipe(*args):
    return None


def _unrun_recipe(*args):
    return None


def test_a_recipe_the_check_executed_is_recorded_from_the_checks_own_run(tmp_path):
    """A recipe with the ``check`` contract is executed by the check: its record is the check's execution of that
    very function (not of another recipe the check ran), a failing one is a problem, and a shown one the check did
    not run is recorded as not executed and is a problem, without hiding the recipes listed after it."""
    from mapping.checks.measure import ExecutedRecipe

    case = demo_case(tmp_path, "    recipe: {torch: [gru_reset_before, packed_lengths, left_padding]}\n")
    functions = {"packed_lengths": _shown_recipe, "left_padding": _other_recipe, "gru_reset_before": _unrun_recipe}
    outcome = Outcome(Verdict.EQUIVALENT)
    outcome.recipes = [ExecutedRecipe(_other_recipe, True, 2e-8, "the layer"),
                       ExecutedRecipe(_shown_recipe, False, 0.5, "the reference")]
    with mock.patch.object(runner.recipes, "shown", side_effect=lambda fw, name: functions[name]), \
            mock.patch.object(runner.recipes, "spec_of", return_value=mock.Mock(contract="check")):
        records, problems = runner.run_recipes(case, runner.context(case, "torch"), outcome)
    assert [(r.name, r.executed, r.ok, r.max_abs, r.compared_with) for r in records] == [
        ("gru_reset_before", False, None, None, None),
        ("packed_lengths", True, False, 0.5, "the reference"),
        ("left_padding", True, True, 2e-8, "the layer"),
    ]
    assert problems == ["recipe gru_reset_before is shown, but the case's check did not execute it",
                        "recipe packed_lengths no longer reproduces the reference"]


@pytest.mark.parametrize("max_abs, recorded", [(float("inf"), None), (None, None), (3e-7, 3e-7)])
def test_an_infinite_recipe_figure_is_recorded_as_none(tmp_path, max_abs, recorded):
    """The results file is JSON: an infinite figure (nothing finite to compare) is recorded as no figure."""
    case = demo_case(tmp_path, "    recipe: {torch: packed_lengths}\n")
    run_ = runner.contracts.RecipeRun(max_abs == 3e-7, max_abs, "the reference")
    with mock.patch.object(runner.recipes, "shown", return_value=_shown_recipe), \
            mock.patch.object(runner.recipes, "spec_of", return_value=mock.Mock(contract="layer")), \
            mock.patch.object(runner.contracts, "RecipeCall"), \
            mock.patch.object(runner.contracts, "execute", return_value=run_):
        (record,), _ = runner.run_recipes(case, runner.context(case, "torch"), Outcome(Verdict.EQUIVALENT))
    assert record.max_abs == recorded and record.ok is (max_abs == 3e-7)


def test_the_caveats_are_measured_against_the_expected_verdict_and_recorded(tmp_path):
    """The caveats are judged against the verdict expected for the installed release (whether one bites depends on
    it), their records reach the judgement (the report's rows show them), and their problems fail the case."""
    from mapping.probes import CaveatRun
    from mapping.results import CaveatRecord

    record = CaveatRecord(probe="p", kind="defaults", title="a default", behaviour="zeros", bites=True)
    for problems, status in (([], "passed"), (["caveat 'a default' (p): behaviour is now 'ones'"], "failed")):
        with mock.patch.object(runner, "run_caveats", return_value=CaveatRun([record], problems)) as run_caveats:
            j = judge_with(tmp_path, Outcome(Verdict.EQUIVALENT), recorded="no_counterpart",
                           case_update={"verdict": Verdict.EQUIVALENT})
        (case, ctx, verdict), _ = run_caveats.call_args
        assert verdict == Verdict.EQUIVALENT and ctx.framework == "torch" and case.row == "Parameter 1"
        assert j.status == status and j.caveats == [record]
        assert "  caveat:   bites: a default: zeros" in j.message.splitlines()
    with mock.patch.object(runner, "run_caveats", return_value=CaveatRun([], [])) as run_caveats:
        judge_with(tmp_path, Outcome(Verdict.NO_COUNTERPART), recorded="no_counterpart")
    assert run_caveats.call_args.args[2] == Verdict.NO_COUNTERPART


def test_a_missing_framework_records_that_frameworks_own_verdict(tmp_path):
    """With a verdict per framework, the skip of a missing framework records that framework's verdict."""
    j = judge_with(tmp_path, recorded="no_counterpart", missing="torch not installed",
                   case_update={"verdict": {"torch": Verdict.DIVERGES}})
    assert j.status == "skipped" and j.expected == Verdict.DIVERGES
