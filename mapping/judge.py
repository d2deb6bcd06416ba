"""Run one case on one framework and judge it against the recorded verdict.

Shared by the pytest plugin, the ``run`` command (the reproduction every failure prints) and the report.
The :class:`Judgement` carries everything it computed (expected verdict, installed version, reproduce
command), so that nothing downstream recomputes it.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import recipes
from .adapters import get_adapter, missing_reason
from .cases import Case, CaseFile
from .checks import CHECKS, CheckContext, Outcome
from .errors import one_line
from .probes import run_caveats
from .recipes import contracts
from .results import CaveatRecord, RecipeRecord
from .verdicts import Verdict


@dataclass
class Judgement:
    outcome: Outcome | None
    status: str  # passed, failed, skipped, error
    message: str
    skip_reason: str | None
    duration_s: float
    #: The installed version of the framework (None when it is not installed).
    framework_version: str | None = None
    #: The verdict recorded for that version.
    expected: Verdict | None = None
    #: The command that reruns this case on this framework.
    reproduce: str = ""
    #: The case's probes beyond the headline claim, measured on this framework.
    caveats: list[CaveatRecord] = field(default_factory=list)
    #: The recipes the case shows for this framework, as executed.
    recipes: list[RecipeRecord] = field(default_factory=list)


def reproduce_command(path: str | Path, case: Case, framework: str) -> str:
    """The shell command that reruns one case; every argument is quoted, so pasting it runs exactly that
    (a row holding quotes, ``$(...)`` or a newline stays one argument and is never executed)."""
    return shlex.join(["python", "-m", "mapping.run", Path(path).as_posix(), case.row, "--framework", framework])


def context(case: Case, framework: str, op: str = "lstm") -> CheckContext:
    return CheckContext(framework, tolerance=case.tolerance.value if case.tolerance else None, op=op)


def run_case(case: Case, framework: str, op: str = "lstm") -> Outcome:
    return CHECKS[case.check].run(case.args, context(case, framework, op))


def run_recipes(case: Case, ctx: CheckContext, outcome: Outcome) -> tuple[list[RecipeRecord], list[str]]:
    """Execute every recipe the case shows for ``ctx.framework`` (those with the ``check`` contract were executed
    by the check: look them up in ``outcome``); a recipe that no longer reproduces what it is compared with, or
    that was not executed, is a problem that fails the case."""
    from .checks.arguments import Setup

    records, problems = [], []
    setup = getattr(CHECKS[case.check].parse_args(case.args), "setup", None) or Setup()
    for name in case.recipe_names(ctx.framework):
        fn = recipes.shown(ctx.framework, name)
        if recipes.spec_of(fn).contract == "check":
            ran = next((r for r in outcome.recipes if r.fn is fn), None)
            if ran is None:
                problems.append(f"recipe {name} is shown, but the case's check did not execute it")
                records.append(RecipeRecord(name=name, framework=ctx.framework, source=contracts.source(fn),
                                            executed=False))
                continue
            ok, max_abs, compared_with, detail = ran.ok, ran.max_abs, ran.compared_with, ""
        else:
            call = contracts.RecipeCall(ctx.adapter, ctx.op, setup, ctx.seed, ctx.tolerance)
            try:
                run = contracts.execute(fn, call)
                ok, max_abs, compared_with, detail = run.ok, run.max_abs, run.compared_with, run.detail
            except Exception as exc:  # noqa: BLE001 - a recipe that raises has stopped working: a finding, not a crash
                ok, max_abs, compared_with = False, None, "(not reached)"
                detail = f"raises {type(exc).__name__}: {one_line(exc, 200)}"
        if not ok:
            problems.append(f"recipe {name} no longer reproduces {compared_with}" + (f": {detail}" if detail else ""))
        records.append(RecipeRecord(name=name, framework=ctx.framework, source=contracts.source(fn), executed=True,
                                    ok=ok, max_abs=max_abs if max_abs is None or max_abs != float("inf") else None,
                                    compared_with=compared_with, detail=detail or None))
    return records, problems


def judge(path: str | Path, case_file: CaseFile, case: Case, framework: str) -> Judgement:
    """Run and compare with the recorded verdict; the message says claim, verdicts, figures and how to rerun."""
    start = time.perf_counter()
    reproduce = reproduce_command(path, case, framework)
    missing = missing_reason(framework)
    if missing:
        return Judgement(None, "skipped", "", f"{framework}: {missing}", 0.0,
                         expected=case.expected_verdict(framework, None), reproduce=reproduce)
    adapter = get_adapter(framework)  # import order (torch before TensorFlow) is handled there
    version = adapter.version()
    expected = case.expected_verdict(framework, version)  # the verdict recorded for the installed release
    ctx = context(case, framework, case_file.page.op)
    outcome = run_case(case, framework, case_file.page.op)
    recipe_records, recipe_problems = run_recipes(case, ctx, outcome)
    caveats = run_caveats(case, ctx, expected)
    outcome.problems += recipe_problems + caveats.problems
    duration = time.perf_counter() - start
    entry = case.version_entry(framework, version)
    agrees = outcome.verdict == expected and not outcome.problems
    common = dict(framework_version=version, expected=expected, reproduce=reproduce, caveats=caveats.records,
                  recipes=recipe_records)
    if agrees and outcome.verdict == Verdict.NOT_APPLICABLE:
        reason = "; ".join(outcome.details) or "not applicable in this version"
        return Judgement(outcome, "skipped", "", f"not applicable in this version: {reason}", duration, **common)
    lines = [
        f"{case_file.page.title} ({case_file.page.docs_version}), {case.row}, on {framework}",
        f"  claim:    {case.claim.strip()}",
        f"  expected: {expected.label}" + (f" (recorded for {framework} {entry.versions}, measured on "
                                           f"{', '.join(entry.measured_on)})" if entry else ""),
        f"  measured: {outcome.verdict.label}",
    ]
    if outcome.max_abs is not None:
        lines.append(f"  figures:  max abs error {outcome.max_abs:.3g}, max rel error "
                     f"{(outcome.max_rel or 0):.3g}, within tolerance {100 * (outcome.within or 0):.1f}% "
                     f"(tolerance {outcome.tolerance:.1g})")
    for problem in outcome.problems:
        lines.append(f"  changed:  {problem}")
    lines += [f"  detail:   {d}" for d in outcome.details]
    lines += [f"  diagnosis: {d}" for d in outcome.diagnoses]
    for c in caveats.records:
        figure = f" ({c.figure_label or 'figure'}: {c.figure:.3g})" if c.figure is not None else ""
        lines.append(f"  caveat:   {'bites' if c.bites else 'probed'}: {c.title}: {c.behaviour}{figure}")
    for r in recipe_records:
        state = "ok" if r.ok else "FAILS" if r.executed else "not executed"
        lines.append(f"  recipe:   {r.name} ({state}" + (f", max abs {r.max_abs:.3g}" if r.max_abs is not None else "")
                     + (f"; {r.detail}" if r.detail else "") + ")")
    lines.append(f"  reproduce: {reproduce}")
    return Judgement(outcome, "passed" if agrees else "failed", "\n".join(lines), None, duration, **common)
