"""The main job: run every case on every installed framework, write the results JSON and the HTML report.

``python -m mapping.conformance`` (or ``scripts/conformance.sh``, which sets up .venv first).

The cases run as two pytest processes side by side, one per framework family (TensorFlow's two Keras
flavours; PyTorch and MindSpore), so that neither process imports all three frameworks: the imports are
the costliest part of a run (``benchmarks/bench_conformance.py``). pytest-xdist's ``--dist loadgroup``
would do this within one run, but with pytest 9 it silently does not group (pytest 9 derives
``Node.nodeid`` from ``Node._id``, and xdist 3.8 groups by rewriting ``item._nodeid``). The two partial
results files are combined into one, under one environment name. Progress lines are prefixed with the
family; the report's path is printed at the end.

A ``-m`` or ``-k`` given here narrows each family's own selection (``-m torch`` runs the torch cases in the
torch+mindspore process only). Nothing is replaced by a run that selected nothing (exit status 5), nor by
one that was interrupted (Ctrl-C, SIGTERM) or failed to collect a case file: the previous complete results
file and report stay as they were. Other pytest options are passed through to both processes.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from . import frameworks

ROOT = Path(__file__).resolve().parents[1]
#: process group -> the pytest marker expression selecting its frameworks (from the framework registry)
FAMILIES = {group: " or ".join(names) for group, names in frameworks.process_groups().items()}
NOTHING_SELECTED = 5  # pytest's exit status when no test was selected


def _stream(prefix: str, proc: subprocess.Popen) -> None:
    for line in proc.stdout:
        print(f"[{prefix}] {line.rstrip()}", flush=True)


def family_selection(family_marker: str, markexpr: str | None) -> str:
    """The family's own marker expression, narrowed by the user's ``-m`` (never replaced by it)."""
    return f"({family_marker}) and ({markexpr})" if markexpr else family_marker


def run_families(environment: str, parts: Path, extra: list[str], markexpr: str | None = None,
                 keyword: str | None = None) -> tuple[dict[str, int], list[Path]]:
    """Run one pytest per family in parallel; return each family's exit status and the partial results files.

    The processes run in their own process groups, so a Ctrl-C in the terminal reaches this process only, which
    passes it on once to each (they then write their partial results, marked incomplete, and end); the
    interrupt is raised again once they have ended. A second interrupt kills them.
    """
    procs, paths = {}, []
    selection = ["-k", keyword] if keyword else []
    for family, marker in FAMILIES.items():
        path = parts / f"{family}.json"
        cmd = [sys.executable, "-u", "-m", "pytest", str(ROOT / "cases"), "-m", family_selection(marker, markexpr),
               *selection, "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "--results", str(path),
               "--environment-name", environment, *extra]
        procs[family] = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                         start_new_session=True, preexec_fn=_default_sigint)
        paths.append(path)
    threads = [threading.Thread(target=_stream, args=(f, p)) for f, p in procs.items()]
    for t in threads:
        t.start()
    interrupted: BaseException | None = None
    codes: dict[str, int] = {}
    while len(codes) < len(procs):
        try:
            for family, proc in procs.items():
                if family not in codes:
                    codes[family] = proc.wait()
        except KeyboardInterrupt as exc:  # pass it on; each process writes what it has, marked incomplete
            for proc in procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT if interrupted is None else signal.SIGKILL)
            interrupted = interrupted or exc
    for t in threads:
        t.join()
    if interrupted is not None:
        raise interrupted
    return codes, [p for p in paths if p.exists()]


def combine(paths: list[Path], out: Path, *, codes: dict[str, int] | None = None, selection: list[str] = (),
            interrupted: str | None = None) -> Path:
    """One results file from the families' partial ones (same environment name, pages by id); complete only
    if every family's part is complete."""
    from .pytest_plugin import order_results
    from .results import ResultsFile, RunStatus

    files = [ResultsFile.read(p) for p in paths]
    pages = {}
    for f in files:
        for page in f.pages:
            pages.setdefault(page.id, page)
    results = order_results([r for f in files for r in f.results], ROOT)
    first_seen = list(dict.fromkeys(r.page for r in results))
    ordered = sorted(pages.values(), key=lambda p: first_seen.index(p.id) if p.id in first_seen else len(first_seen))
    runs = [f.run for f in files]
    bad_codes = {family: code for family, code in (codes or {}).items() if code not in (0, 1, NOTHING_SELECTED)}
    stopped = interrupted or next((r.interrupted for r in runs if r.interrupted), None)
    if not stopped and bad_codes:
        stopped = "pytest ended with " + ", ".join(f"exit status {c} ({f})" for f, c in bad_codes.items())
    run = RunStatus(
        complete=all(r.complete is True for r in runs) and not stopped,
        exit_status=max([c for c in (codes or {}).values() if c != NOTHING_SELECTED], default=2 if stopped else 0),
        selected=sum(r.selected or 0 for r in runs),
        ran=len(results),
        collection_errors=max((r.collection_errors or 0 for r in runs), default=0),
        interrupted=stopped,
        selection=list(selection),
    )
    return ResultsFile(environment=files[0].environment, run=run, pages=ordered, results=results).write(out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mapping conformance", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--environment-name", default="all",
                        help="names the results file <results-dir>/<name>.json (letters, digits, . _ + -)")
    parser.add_argument("--results-dir", default=str(ROOT / "reports" / "results"))
    parser.add_argument("--output", default=str(ROOT / "reports" / "conformance.html"), help="the HTML report")
    parser.add_argument("-m", dest="markexpr", action="append", metavar="MARKEXPR",
                        help="only cases matching this marker expression (combined with each family's own)")
    parser.add_argument("-k", dest="keyword", action="append", metavar="EXPRESSION",
                        help="only cases whose names match this pytest -k expression")
    return parser


def _expression(parts: list[str] | None, flag: str) -> str | None:
    """Several -m (or -k) given: all must hold. Checked with pytest's own grammar before anything runs."""
    if not parts:
        return None
    text = " and ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]
    problem = pytest_expression_problem(text)
    if problem:
        from .errors import UsageError

        raise UsageError(f"{flag} {text!r} is not a valid pytest expression ({problem}); join words with "
                         "and/or/not, e.g. -k \"Parameter and 17\"")
    return text


def pytest_expression_problem(text: str) -> str | None:
    """Why pytest would refuse ``text`` as a -m/-k expression (its own parser decides), or None."""
    try:
        from _pytest.mark.expression import Expression
    except ImportError:  # pragma: no cover - pytest moved it: pytest itself will check
        return None
    try:
        Expression.compile(text)
    except (SyntaxError, ValueError) as exc:  # pytest 9 raises SyntaxError, older ones ParseError (a ValueError)
        return getattr(exc, "msg", None) or str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    from .atomic import refuse_overwriting
    from .errors import MappingError, UsageError
    from .results import ResultsFile, ResultsFileError, check_environment_name, check_results_target

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    try:
        markexpr, keyword = _expression(args.markexpr, "-m"), _expression(args.keyword, "-k")
        check_environment_name(args.environment_name)
        results = Path(args.results_dir) / f"{args.environment_name}.json"
        if Path(args.results_dir).exists() and not Path(args.results_dir).is_dir():
            raise UsageError(f"--results-dir {args.results_dir} is a file, not a directory")
        check_results_target(results)
        output = refuse_overwriting(args.output, [results], suffixes=(".html", ".htm"), what="report")
    except UsageError as exc:
        parser.error(str(exc))
    selection = (["-m", markexpr] if markexpr else []) + (["-k", keyword] if keyword else []) + extra

    def previous_is_complete() -> bool:
        try:
            return results.exists() and ResultsFile.read(results).run.complete is not False
        except ResultsFileError:
            return False

    print(f"==> running every case, one process per framework family; results -> {results}", flush=True)
    previous_handler = signal.signal(signal.SIGTERM, _raise_interrupt)
    interrupted = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                codes, parts = run_families(args.environment_name, Path(tmp), extra, markexpr, keyword)
            except KeyboardInterrupt as exc:
                interrupted = f"interrupted ({str(exc) or 'SIGINT'})"
                codes, parts = {}, sorted(Path(tmp).glob("*.json"))
            if interrupted is None and all(c == NOTHING_SELECTED for c in codes.values()):
                print(f"nothing selected{' by ' + ' '.join(selection) if selection else ''}: no case ran; "
                      f"{results} and {output} are left as they were", file=sys.stderr)
                return NOTHING_SELECTED
            if not parts:
                why = interrupted or "pytest ended with " + ", ".join(f"exit status {c} ({f})" for f, c in codes.items())
                print(f"no case ran to a result ({why}; a case file that failed to collect is named above): "
                      f"{results} and {output} are left as they were", file=sys.stderr)
                return 2 if interrupted else (max(codes.values()) or 1)
            keep = previous_is_complete()
            target = Path(tmp) / "combined.json"
            combine(parts, target, codes=codes, selection=selection, interrupted=interrupted)
            run = ResultsFile.read(target).run
            if not run.complete:
                if keep:
                    print(f"this run is {run.describe()}: {results} (complete) and {output} are left as they were",
                          file=sys.stderr)
                else:
                    ResultsFile.read(target).write(results)
                    print(f"this run is {run.describe()}: results written to {results}, marked incomplete; no report "
                          f"(python -m mapping.report {results} --allow-incomplete -o ... renders it, flagged)",
                          file=sys.stderr)
                return 2
            ResultsFile.read(target).write(results)
        from .report.render import write_report

        html = write_report([results], output)
    except MappingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}; earlier results and report are left as they were",
              file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    print(f"==> results: {results.resolve()}")
    print(f"==> report: {Path(html).resolve()}")
    return max(c for c in codes.values() if c != NOTHING_SELECTED)


def _default_sigint() -> None:
    """In a child: Ctrl-C (SIGINT) ends it through pytest's KeyboardInterrupt, even if this process ignores it."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


if __name__ == "__main__":
    raise SystemExit(main())
