"""``mapping audit PAGE [PAGE ...] [--cases DIR_OR_FILE] [--format text|json]`` (or ``python -m mapping.audit``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .index import index_case_files
from .pages import AuditInputError
from .report import BAD_INPUT, FULL_COVERAGE, audit_page

DEFAULT_CASES = Path(__file__).resolve().parents[2] / "cases"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mapping.audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", type=Path, metavar="PAGE")
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES, metavar="DIR_OR_FILE",
                        help="a case file to audit against, or a directory of them (default: cases/)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    try:
        case_files = index_case_files(args.cases)
    except AuditInputError as exc:
        print(f"audit: {exc}", file=sys.stderr)
        return BAD_INPUT
    results: list[dict[str, Any]] = []
    texts: list[str] = []
    worst = FULL_COVERAGE
    for path in args.pages:
        try:
            report = audit_page(path, case_files, forced=args.cases.is_file())
        except AuditInputError as exc:
            print(f"audit: {exc}", file=sys.stderr)
            results.append({"page": str(path), "error": str(exc), "exit_code": BAD_INPUT})
            worst = BAD_INPUT
            continue
        worst = max(worst, report.exit_code)
        if args.format == "json":
            results.append(report.to_json())
        else:
            texts.append(report.to_text())
    if args.format == "json":
        texts = [json.dumps({"pages": results, "exit_code": worst}, ensure_ascii=False, indent=2)]
    try:
        if texts:
            print("\n".join(texts))
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (`| head`) went away: not an error of the audit
        sys.stdout = open(os.devnull, "w")
    return worst


if __name__ == "__main__":
    sys.exit(main())
