"""Command line: ``python -m mapping.report RESULTS.json [MORE.json | DIR ...] -o reports/conformance.html``.

Bad input (a missing file, a file of another schema version, an output path that is one of the inputs, the
results of a run that did not complete) is reported in one line with exit status 2, not a traceback: the
person running it needs to know which file to fix, not where the code was.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError
from .merge import ReportInputError
from .render import write_report

DEFAULT_OUTPUT = Path("reports/conformance.html")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mapping.report",
        description="Merge conformance results files (one per environment) into one self-contained HTML report.",
    )
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULTS",
                        help="a results JSON file, or a directory whose *.json files are all results files")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"HTML file to write (default: {DEFAULT_OUTPUT}); never one of the inputs")
    parser.add_argument("--allow-incomplete", action="store_true",
                        help="include results of runs that did not complete (flagged on the page) instead of refusing")
    parser.add_argument("--summary", type=Path, metavar="MARKDOWN",
                        help="also write the status as a short Markdown summary, for a CI job summary "
                             "(e.g. $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--exports", type=Path, metavar="DIR",
                        help="folder for the corrected tables, one Markdown file per page rendering "
                             "(default: corrections/ beside the HTML)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        written = write_report(args.results, args.output, allow_incomplete=args.allow_incomplete,
                               exports_dir=args.exports, summary_path=args.summary)
    except (ReportInputError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
