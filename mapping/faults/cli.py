"""``mapping faults [--fault NAME] [--first] [--list] [--json PATH]`` (or ``python -m mapping.faults``): inject each
harness fault and list the cases that catch it."""

from __future__ import annotations

import argparse
import json
import sys

from ..atomic import refuse_overwriting, write_text
from ..errors import UsageError
from .catalogue import FAULTS, FAULTS_BY_NAME
from .hunt import FaultReport, hunt


def _table(reports: list[FaultReport], full: bool) -> str:
    lines = []
    for r in reports:
        mark = "CAUGHT" if r.caught else "MISSED"
        lines.append(f"{r.fault.name}  [{mark}, {r.seconds:.1f} s]")
        lines.append(f"    {r.fault.description}")
        for framework in r.fault.frameworks:
            if framework in r.skipped_frameworks:
                lines.append(f"    {framework}: not run ({r.skipped_frameworks[framework]})")
                continue
            catches = r.caught_on(framework)
            lines.append(f"    {framework}: {len(catches)} of {r.tried.get(framework, 0)} probes "
                         f"{'failed' if full else 'run until the first mismatch'}")
            for c in catches:
                lines.append(f"      {c.how:8s} {c.probe}")
    caught = sum(r.caught for r in reports)
    numbers = sum(r.by_numbers for r in reports)
    lines.append("")
    lines.append(f"score: {caught}/{len(reports)} faults caught ({100 * caught / max(len(reports), 1):.0f}%), "
                 f"{numbers} of them by wrong numbers on every affected framework")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mapping faults",
                                     description="Inject each harness fault and list the cases that catch it.")
    parser.add_argument("--fault", action="append", help="only this fault (repeatable)")
    parser.add_argument("--first", action="store_true",
                        help="stop at the first mismatch per framework (fast) instead of running every probe")
    parser.add_argument("--list", action="store_true", help="print the catalogue and exit")
    parser.add_argument("--json", help="also write the table as JSON to this path")
    args = parser.parse_args(argv)
    unknown = [n for n in args.fault or () if n not in FAULTS_BY_NAME]
    if unknown:
        parser.error(f"no fault named {unknown[0]!r}; --list shows the catalogue")
    if args.json:
        try:
            refuse_overwriting(args.json, suffixes=(".json",), what="--json output")
        except UsageError as exc:
            parser.error(str(exc))
    faults = [FAULTS_BY_NAME[n] for n in args.fault] if args.fault else FAULTS
    if args.list:
        for f in faults:
            print(f"{f.name:42s} {', '.join(f.frameworks):32s} {f.description}")
        return 0
    reports = []
    for fault in faults:
        report = hunt(fault, first=args.first)
        reports.append(report)
        print(f"{fault.name}: {'caught' if report.caught else 'MISSED'} ({report.seconds:.1f} s)", file=sys.stderr)
    print(_table(reports, full=not args.first))
    if args.json:
        write_text(args.json, json.dumps([
            {"fault": r.fault.name, "description": r.fault.description, "frameworks": list(r.fault.frameworks),
             "caught": r.caught,
             "catches": [{"probe": c.probe, "framework": c.framework, "how": c.how} for c in r.catches],
             "tried": r.tried} for r in reports], indent=2) + "\n")
    return 0 if all(r.caught for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
