"""Run one case on one framework and judge it against the recorded verdict.

Shared by the pytest plugin, the ``python -m mapping.run`` command (the reproduction snippet every
failure prints) and the report.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .adapters import ADAPTERS, get_adapter, missing_reason
from .cases import Case, CaseFile, CaseFileError, load_case_file
from .checks import CHECKS, CheckContext, Outcome
from .errors import MappingError, one_line, show
from .verdicts import Verdict


@dataclass
class Judgement:
    outcome: Outcome | None
    status: str  # passed, failed, skipped
    message: str
    skip_reason: str | None
    duration_s: float


def reproduce_command(path: str | Path, case: Case, framework: str) -> str:
    """The shell command that reruns one case; every argument is quoted, so pasting it runs exactly that
    (a row holding quotes, ``$(...)`` or a newline stays one argument and is never executed)."""
    return shlex.join(["python", "-m", "mapping.run", Path(path).as_posix(), case.row, "--framework", framework])


def run_case(case: Case, framework: str) -> Outcome:
    ctx = CheckContext(framework, tolerance=case.tolerance.value if case.tolerance else None)
    return CHECKS[case.check].run(case.args, ctx)


def judge(path: str | Path, case_file: CaseFile, case: Case, framework: str) -> Judgement:
    """Run and compare with the recorded verdict; the message says claim, verdicts, figures and how to rerun."""
    start = time.perf_counter()
    missing = missing_reason(framework)
    if missing:
        return Judgement(None, "skipped", "", f"{framework}: {missing}", 0.0)
    adapter = get_adapter(framework)  # import order (torch before TensorFlow) is handled there
    outcome = run_case(case, framework)
    duration = time.perf_counter() - start
    version = type(adapter).version()
    expected = case.expected_verdict(framework, version)  # the verdict recorded for the installed release
    entry = case.version_entry(framework, version)
    agrees = outcome.verdict == expected and not outcome.problems
    if agrees and outcome.verdict == Verdict.NOT_APPLICABLE:
        reason = "; ".join(outcome.details) or "not applicable in this version"
        return Judgement(outcome, "skipped", "", f"not applicable in this version: {reason}", duration)
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
    lines.append(f"  reproduce: {reproduce_command(path, case, framework)}")
    return Judgement(outcome, "passed" if agrees else "failed", "\n".join(lines), None, duration)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mapping.run", description="Run one case and print its outcome.")
    parser.add_argument("case_file")
    parser.add_argument("row", help='the row id, e.g. "Parameter 17"')
    parser.add_argument("--framework", required=True, choices=list(ADAPTERS))
    parser.add_argument("--traceback", action="store_true", help="show the traceback of an unexpected error")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 the case matches its verdict (or is skipped), 1 it does not, 2 bad input (one line on
    stderr naming file, case and field), 3 an unexpected error (one line; --traceback shows it)."""
    args = build_parser().parse_args(argv)
    try:
        case_file = load_case_file(args.case_file)
    except CaseFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    matches = [c for c in case_file.cases if c.row == args.row]
    if not matches:
        rows = ", ".join(show(c.row, 60) for c in case_file.cases[:40])
        print(f"{args.case_file}: no case for row {show(args.row)}; rows: {rows}", file=sys.stderr)
        return 2
    case = matches[0]
    if args.framework not in case_file.frameworks_of(case):
        print(f"{args.case_file}: case {show(args.row)} is measured on {case_file.frameworks_of(case)}, "
              f"not {args.framework}", file=sys.stderr)
        return 2
    where = f"{args.case_file}: case {show(args.row)} on {args.framework}"
    try:
        j = judge(args.case_file, case_file, case, args.framework)
    except MappingError as exc:
        print(f"{where}: {one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - one line, unless the traceback is asked for
        if args.traceback:
            raise
        print(f"{where}: unexpected {type(exc).__name__}: {one_line(exc)} (rerun with --traceback to see where)",
              file=sys.stderr)
        return 3
    print(j.message or f"{j.status}: {j.skip_reason}")
    print(j.status)
    return 0 if j.status != "failed" else 1
