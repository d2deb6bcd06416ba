"""Run one case on one framework and judge it against the recorded verdict.

Shared by the pytest plugin, the ``run`` command (the reproduction every failure prints) and the report.
The :class:`Judgement` carries everything it computed (expected verdict, installed version, reproduce
command), so that nothing downstream recomputes it.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from .adapters import get_adapter, missing_reason
from .cases import Case, CaseFile
from .checks import CHECKS, CheckContext, Outcome
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


def reproduce_command(path: str | Path, case: Case, framework: str) -> str:
    """The shell command that reruns one case; every argument is quoted, so pasting it runs exactly that
    (a row holding quotes, ``$(...)`` or a newline stays one argument and is never executed)."""
    return shlex.join(["python", "-m", "mapping.run", Path(path).as_posix(), case.row, "--framework", framework])


def run_case(case: Case, framework: str, op: str = "lstm") -> Outcome:
    ctx = CheckContext(framework, tolerance=case.tolerance.value if case.tolerance else None, op=op)
    return CHECKS[case.check].run(case.args, ctx)


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
    outcome = run_case(case, framework, case_file.page.op)
    duration = time.perf_counter() - start
    entry = case.version_entry(framework, version)
    agrees = outcome.verdict == expected and not outcome.problems
    common = dict(framework_version=version, expected=expected, reproduce=reproduce)
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
    lines.append(f"  reproduce: {reproduce}")
    return Judgement(outcome, "passed" if agrees else "failed", "\n".join(lines), None, duration, **common)
