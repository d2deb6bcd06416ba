"""``mapping run CASE_FILE ROW --framework NAME`` (or ``python -m mapping.run ...``): run one case, print the outcome."""

from __future__ import annotations

import argparse
import sys

from .cases import load_case_file
from .judge import judge


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mapping run", description="Run one case and print its outcome.")
    parser.add_argument("case_file")
    parser.add_argument("row", help='the row id, e.g. "Parameter 17"')
    parser.add_argument("--framework", required=True)
    args = parser.parse_args(argv)
    try:
        case_file = load_case_file(args.case_file)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    matches = [c for c in case_file.cases if c.row == args.row]
    if not matches:
        print(f"{args.case_file}: no case for row {args.row!r}; rows: {', '.join(c.row for c in case_file.cases)}",
              file=sys.stderr)
        return 2
    if args.framework not in case_file.frameworks_of(matches[0]):
        print(f"{args.case_file}: case {args.row!r} is about {case_file.frameworks_of(matches[0])}", file=sys.stderr)
        return 2
    j = judge(args.case_file, case_file, matches[0], args.framework)
    print(j.message or f"{j.status}: {j.skip_reason}")
    print(j.status)
    return 0 if j.status != "failed" else 1


if __name__ == "__main__":
    raise SystemExit(main())
