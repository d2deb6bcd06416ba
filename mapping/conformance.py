"""The main job: run every case on every installed framework, write the results JSON and the HTML report.

``python -m mapping.conformance`` (or ``scripts/conformance.sh``, which sets up .venv first). Progress is
pytest's own; the report's path is printed at the end.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mapping.conformance", description=__doc__)
    parser.add_argument("--environment-name", default="all")
    parser.add_argument("--workers", default="2", help="pytest-xdist workers (default 2, this machine's cores)")
    parser.add_argument("--results-dir", default=str(ROOT / "reports" / "results"))
    parser.add_argument("--output", default=str(ROOT / "reports" / "conformance.html"))
    args, extra = parser.parse_known_args(argv)
    results = Path(args.results_dir) / f"{args.environment_name}.json"
    print(f"==> running every case ({args.workers} workers); results -> {results}", flush=True)
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "cases"), "-n", args.workers, "--dist", "loadgroup", "-q",
           "--results", str(results), "--environment-name", args.environment_name, *extra]
    code = subprocess.call(cmd, cwd=ROOT)
    if code not in (0, 1):  # 1 = some case no longer matches its verdict: still worth a report
        print(f"pytest exited with {code}; no report written", file=sys.stderr)
        return code
    from .report.render import write_report

    html = write_report([results], Path(args.output))
    print(f"==> report: {Path(html).resolve()}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
