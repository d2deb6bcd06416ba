"""Give every surviving mutant of a mutation run its class and reason, from ``mutation/classes.yaml``.

    .venv/bin/python mutation/classify.py GROUP...          # the tables, on standard output
    .venv/bin/python mutation/classify.py --write GROUP...  # and into mutation/survivors.md (between markers)

A group is a finished ``./scripts/mutation.sh GROUP`` run under ``build/mutation/GROUP``. Each survivor's diff is
read with mutmut's own functions, in that directory. A survivor is classified by the first entry of
``classes.yaml`` that names it (``mutants``: each entry's ``names`` are exact names or globs) or, failing that, by
the first rule whose predicate matches its changed lines (``rules``). ``GROUP=RECHECK[,RECHECK...]`` takes the group's
survivors that a re-check run killed as class S. The exit status is 1 when a survivor has no class, so a new run cannot
leave a survivor unexplained unnoticed.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from mapping.atomic import write_text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MARK_BEGIN, MARK_END = "<!-- classify.py: begin -->", "<!-- classify.py: end -->"

_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant
out = {}
for name in sys.argv[1:]:
    out[name] = get_diff_for_mutant(name, path=find_mutant(name).path)
print(json.dumps(out))
"""

_STRING = re.compile(r"""[rbfuRBFU]{0,2}("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_MESSAGE = re.compile(r"raise \w+\(|Error\(|\.append\(|help=|description=|prog=|print\(|warn|reason|message|detail"
                      r"|diagnos|note\(|f\"|f'")
_FIELDS = re.compile(r"\b(field|where)=([^,)]*)")


def changed_lines(diff: str) -> tuple[list[str], list[str]]:
    """The removed and the added lines of a unified diff, stripped."""
    lines = diff.splitlines()
    removed = [line[1:].strip() for line in lines if line.startswith("-") and not line.startswith("---")]
    added = [line[1:].strip() for line in lines if line.startswith("+") and not line.startswith("+++")]
    return removed, added


def _masked(text: str) -> str:
    return _STRING.sub('""', text)


# The predicates a rule may name: each takes (removed, added) and says whether the mutant is of its kind.
def text(removed: list[str], added: list[str]) -> bool:
    """Only string contents change, or an argument of a message call becomes None or goes, on a line that builds
    a message (raise, details, diagnoses, help)."""
    before, after = " ".join(removed), " ".join(added)
    if not _MESSAGE.search(before) or _FIELDS.findall(before) != _FIELDS.findall(after):
        return False  # the field and location an error names are read (tests/test_bad_input.py), not text
    if _masked(before) == _masked(after):
        return True
    return bool(re.match(r"raise \w+\(", before)) and bool(re.match(r"raise \w+\(None\)$", after))


def float64_cast(removed: list[str], added: list[str]) -> bool:
    """A cast to float64 (``dtype=np.float64``, ``np.asarray(a, np.float64)``, ``.astype(np.float64)``) made a
    cast to None or dropped, nothing else changed."""
    before, after = " ".join(removed), " ".join(added)
    if "float64" not in before:
        return False
    variants = set()
    for cast in ("dtype=np.float64", "np.float64"):
        for at in (m.start() for m in re.finditer(re.escape(cast), before)):
            for repl in ("dtype=None", "None", ""):
                variants.add(before[:at] + repl + before[at + len(cast):])
    squeeze = lambda s: re.sub(r"[\s,]+", "", s)  # noqa: E731 - dropped arguments leave ", )"
    return squeeze(after) in {squeeze(v) for v in variants}


def errstate(removed: list[str], added: list[str]) -> bool:
    """An argument of ``np.errstate`` changed or dropped: which floating-point warnings are shown, nothing more."""
    before, after = " ".join(removed), " ".join(added)
    return before.startswith("with np.errstate(") and after.startswith("with np.errstate(")


PREDICATES = {"text": text, "float64_cast": float64_cast, "errstate": errstate}


def load_classes(path: Path = HERE / "classes.yaml") -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:  # one line naming the place, not a parser traceback
        mark = getattr(exc, "problem_mark", None)
        raise SystemExit(f"{path}:{mark.line + 1 if mark else '?'}: not valid YAML: {getattr(exc, 'problem', exc)}")
    for rule in data.get("rules", []):
        if rule["when"] not in PREDICATES:
            raise SystemExit(f"{path}: rule {rule!r}: unknown predicate {rule['when']!r}; known: {sorted(PREDICATES)}")
    return data


def classify(name: str, diff: str, classes: dict) -> tuple[str, str] | None:
    for entry in classes.get("mutants") or []:
        if any(name == pattern or fnmatch.fnmatchcase(name, pattern) for pattern in entry["names"]):
            return entry["class"], entry["why"]
    removed, added = changed_lines(diff)
    for rule in classes.get("rules", []):
        if PREDICATES[rule["when"]](removed, added):
            return rule["class"], rule["why"]
    return None


def survivors(group_dir: Path) -> tuple[str, list[str]]:
    lines = (group_dir / "summary.txt").read_text().splitlines()
    return lines[0], [line.split("survived:", 1)[1].strip() for line in lines[1:] if "survived:" in line]


def recheck_kills(recheck_dir: Path) -> tuple[set[str], str]:
    """The mutants a re-check run (``RUN=... MUTANTS=... ./scripts/mutation.sh``) killed, and its tests."""
    lines = (recheck_dir / "summary.txt").read_text().splitlines()
    tests = next((line.split("tests:", 1)[1].strip() for line in lines if line.strip().startswith("tests:")), "?")
    killed = {line.split(":")[0].strip() for line in (recheck_dir / "results.txt").read_text().splitlines()
              if line.strip().endswith(": killed")}
    return killed, tests


def diffs(group_dir: Path, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    done = subprocess.run([sys.executable, "-c", _DIFFS, *names], cwd=group_dir, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def _cell(text: str, limit: int = 110) -> str:
    text = text.replace("|", "\\|").replace("`", "'")
    return text if len(text) <= limit else text[:limit - 1] + "…"


_HEADLINE = re.compile(r"^(?P<group>.+?): (?P<mutants>\d+) mutants, (?P<killed>\d+) killed, (?P<survived>\d+) survived, "
                       r"(?P<timeouts>\d+) timeouts, (?P<unreached>\d+) not reached.*\(score (?P<score>[\d.]+)% of "
                       r"(?P<reached>\d+) reached; (?P<seconds>\d+) s\)")


def by_class(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def figures_row(headline: str, counts: dict[str, int], note: str | None = None) -> str:
    """One row of the figures table from a run's summary headline and its survivors' classes (or a note)."""
    m = _HEADLINE.match(headline)
    if m is None:
        raise SystemExit(f"not a mutation.sh summary line: {headline!r}")
    return (f"| {m['group']} | {m['mutants']} | {m['killed']} | {m['survived']} | {m['unreached']} | {m['timeouts']} | "
            f"{m['score']}% | {note or by_class(counts)} | {m['seconds']} |")


def table(group: str, build: Path, classes: dict) -> tuple[list[str], list[str], list[str]]:
    """Markdown lines for one group, the survivors left without a class, and the figures rows (the group's run,
    then its re-check's).

    ``GROUP=RECHECK`` (e.g. ``torch=torch-grid``): the survivors of GROUP that the re-check run RECHECK killed are
    class S, with the tests that killed them; the others are classified as usual."""
    group, _, listed = group.partition("=")
    rechecks = [r for r in listed.split(",") if r]
    headline, names = survivors(build / group)
    by_name = diffs(build / group, names)
    killed_by = {}  # mutant -> (re-check run, its tests), the first re-check that killed it
    for recheck in rechecks:
        killed, tests = recheck_kills(build / recheck)
        for name in killed:
            killed_by.setdefault(name, (recheck, tests))
    rows, missing, counts = [], [], {}
    for name in names:
        removed, added = changed_lines(by_name[name])
        found = (("S", f"killed when re-run with `{killed_by[name][1]}` ({killed_by[name][0]}): tests outside the "
                       "group's subset or written after its run") if name in killed_by
                 else classify(name, by_name[name], classes))
        if found is None:
            missing.append(name)
            found = ("?", "no class in mutation/classes.yaml")
        counts[found[0]] = counts.get(found[0], 0) + 1
        short = name.split(".", 1)[1] if name.startswith("mapping.") else name
        rows.append(f"| `{short}` | `{_cell(' / '.join(removed))}` | `{_cell(' / '.join(added))}` | {found[0]} | "
                    f"{found[1]} |")
    out = [f"### {group}", "", headline, "", f"Survivors by class: {by_class(counts)}.", ""]
    if rows:
        out += ["| mutant | original | mutated | class | why |", "| --- | --- | --- | --- | --- |", *rows, ""]
    rows_out = [figures_row(headline, counts)]
    for recheck in rechecks:  # each re-check's own figures, under the run it re-checked
        rows_out.append(figures_row(survivors(build / recheck)[0], {},
                                    note=f"re-check of {group}'s survivors (and unreached mutants)"))
    return out, missing, rows_out


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mutation/classify.py", description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="+", help="runs under build/mutation: GROUP (or GROUP-RUN), optionally "
                                                  "=RECHECK[,RECHECK...] naming its re-check runs")
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "mutation")
    parser.add_argument("--write", action="store_true", help="replace the generated part of mutation/survivors.md")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    classes = load_classes()
    lines, missing, rows = [], [], []
    for group in args.groups:
        out, lost, group_rows = table(group, args.build, classes)
        lines += out
        missing += lost
        rows += group_rows
    by_run = {}  # a run listed both as a re-check and as a group keeps its own row (with its classes)
    for row in rows:
        by_run[row.split(" | ", 1)[0]] = row
    rows = list(by_run.values())
    figures = ["| run | mutants | killed | survived | not reached | timeouts | score (killed / reached) | "
               "survivors by class | s |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |", *rows, ""]
    text_out = "\n".join(figures + lines)
    if args.write:
        doc = HERE / "survivors.md"
        before, _, rest = doc.read_text().partition(MARK_BEGIN)
        _, _, after = rest.partition(MARK_END)
        if not rest:
            raise SystemExit(f"{doc}: no {MARK_BEGIN} marker")
        write_text(doc, f"{before}{MARK_BEGIN}\n{text_out}\n{MARK_END}{after}")
    else:
        print(text_out)
    for name in missing:
        print(f"unclassified survivor: {name}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
