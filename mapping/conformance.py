"""The main job: run every case on every installed framework, write the results JSON and the HTML report.

``python -m mapping.conformance`` (or ``scripts/conformance.sh``, which sets up .venv first).

The cases run as two pytest processes side by side, one per framework family (TensorFlow's two Keras
flavours; PyTorch and MindSpore), so that neither process imports all three frameworks: the imports are
the costliest part of a run (``benchmarks/bench_conformance.py``). pytest-xdist's ``--dist loadgroup``
would do this within one run, but with pytest 9 it silently does not group (pytest 9 derives
``Node.nodeid`` from ``Node._id``, and xdist 3.8 groups by rewriting ``item._nodeid``). The two partial
results files are combined into one, under one environment name. Progress lines are prefixed with the
family; the report's path is printed at the end.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from . import frameworks

ROOT = Path(__file__).resolve().parents[1]
#: process group -> the pytest marker expression selecting its frameworks (from the framework registry)
FAMILIES = {group: " or ".join(names) for group, names in frameworks.process_groups().items()}


def _stream(prefix: str, proc: subprocess.Popen) -> None:
    for line in proc.stdout:
        print(f"[{prefix}] {line.rstrip()}", flush=True)


def run_families(environment: str, parts: Path, extra: list[str]) -> tuple[int, list[Path]]:
    """Run one pytest per family in parallel; return the worst exit code and the partial results files."""
    procs, paths = {}, []
    for family, marker in FAMILIES.items():
        path = parts / f"{family}.json"
        cmd = [sys.executable, "-u", "-m", "pytest", str(ROOT / "cases"), "-m", marker, "-q", "-p", "no:xdist",
               "-p", "no:cacheprovider", "--results", str(path), "--environment-name", environment, *extra]
        procs[family] = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        paths.append(path)
    threads = [threading.Thread(target=_stream, args=(f, p)) for f, p in procs.items()]
    for t in threads:
        t.start()
    codes = [p.wait() for p in procs.values()]
    for t in threads:
        t.join()
    # 5 = nothing selected (a family not installed): not an error
    codes = [0 if c == 5 else c for c in codes]
    return max(codes), [p for p in paths if p.exists()]


def combine(paths: list[Path], out: Path) -> Path:
    """One results file from the families' partial ones (same environment name, pages by id)."""
    from .pytest_plugin import order_results
    from .results import ResultsFile

    files = [ResultsFile.read(p) for p in paths]
    pages = {}
    for f in files:
        for page in f.pages:
            pages.setdefault(page.id, page)
    results = order_results([r for f in files for r in f.results], ROOT)
    first_seen = list(dict.fromkeys(r.page for r in results))
    ordered = sorted(pages.values(), key=lambda p: first_seen.index(p.id) if p.id in first_seen else len(first_seen))
    return ResultsFile(environment=files[0].environment, pages=ordered, results=results).write(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mapping conformance", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--environment-name", default="all")
    parser.add_argument("--results-dir", default=str(ROOT / "reports" / "results"))
    parser.add_argument("--output", default=str(ROOT / "reports" / "conformance.html"))
    args, extra = parser.parse_known_args(argv)
    results = Path(args.results_dir) / f"{args.environment_name}.json"
    print(f"==> running every case, one process per framework family; results -> {results}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        code, parts = run_families(args.environment_name, Path(tmp), extra)
        if code not in (0, 1) or not parts:  # 1 = a case no longer matches its verdict: still worth a report
            print(f"pytest exited with {code}; no report written", file=sys.stderr)
            return code or 1
        combine(parts, results)
    from .report.render import write_report

    html = write_report([results], Path(args.output))
    print(f"==> results: {results.resolve()}")
    print(f"==> report: {Path(html).resolve()}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
