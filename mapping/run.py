"""``mapping run CASE_FILE ROW --framework NAME`` (or ``python -m mapping.run ...``): run one case and print
its outcome; every failure message prints this command."""

from __future__ import annotations

import argparse
import sys

from . import judge as judging
from .cases import CaseFileError, load_case_file
from .errors import MappingError, one_line, show
from .frameworks import NAMES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mapping run", description="Run one case and print its outcome.")
    parser.add_argument("case_file")
    parser.add_argument("row", help='the row id, e.g. "Parameter 17"')
    parser.add_argument("--framework", required=True, choices=list(NAMES))
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
        j = judging.judge(args.case_file, case_file, case, args.framework)
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


if __name__ == "__main__":
    raise SystemExit(main())
