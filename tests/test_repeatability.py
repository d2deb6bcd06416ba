"""Repeatability: a case gives the same verdict and bitwise the same figures whenever and wherever it runs.

A sample of cases (every check in the vocabulary, every framework, and the randomness-prone ones, dropout
and initialisers, on each framework that has them) runs

* twice in this process, the second time in reverse order, with every global random generator (Python,
  NumPy, PyTorch, TensorFlow, MindSpore) scrambled before each case and the wall clock moved ten years on,
  as if other tests had run before it at another time;
* once in a fresh interpreter with another hash seed and another xdist worker name, in yet another order.

All three must agree exactly: verdict, max abs / max rel error, share within tolerance, tolerance (compared
as float.hex, i.e. bitwise), details, recorded-behaviour problems and diagnoses.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mapping.adapters import missing_reason
from mapping.cases import case_files, load_cached
from mapping.checks import CHECKS
from mapping.frameworks import NAMES as ADAPTERS
from mapping.judge import run_case

ROOT = Path(__file__).resolve().parents[1]
RANDOM_PRONE = ("dropout_structure", "dropout_statistics", "initializer")


def sample() -> list[tuple[str, str, str]]:
    """(case file, row, framework): the first case of every check (frameworks taken in turn), plus every
    framework's first case of each random-prone check."""
    items: list[tuple[str, str, str]] = []
    turn = 0
    by_check: dict[str, list[tuple[str, str, str]]] = {}
    for path in case_files(ROOT / "cases"):
        cf = load_cached(str(path))
        for case in cf.cases:
            for fw in cf.frameworks_of(case):
                if missing_reason(fw) is None:  # sample what this environment can run
                    by_check.setdefault(case.check, []).append((str(path.relative_to(ROOT)), case.row, fw))
    for check in sorted(by_check):
        options = by_check[check]
        fws = sorted({fw for _, _, fw in options}, key=list(ADAPTERS).index)
        fw = fws[turn % len(fws)]
        turn += 1
        items.append(next(o for o in options if o[2] == fw))
        if check in RANDOM_PRONE:
            for other in fws:
                pick = next(o for o in options if o[2] == other)
                if pick not in items:
                    items.append(pick)
    return items


def _hex(v):
    return None if v is None else float(v).hex()


def fingerprint(path: str, row: str, framework: str) -> dict:
    cf = load_cached(str(ROOT / path))
    case = next(c for c in cf.cases if c.row == row)
    o = run_case(case, framework, cf.page.op)
    return {"verdict": o.verdict.value, "max_abs": _hex(o.max_abs), "max_rel": _hex(o.max_rel),
            "within": _hex(o.within), "tolerance": _hex(o.tolerance), "details": list(o.details),
            "problems": list(o.problems), "diagnoses": list(getattr(o, "diagnoses", []))}


def scramble_global_generators(salt: int) -> None:
    """Leave every global random generator in a state no check should rely on."""
    random.seed(salt)
    np.random.seed(salt % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(salt)
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(salt)
        np.asarray(sys.modules["tensorflow"].random.uniform((3,)))  # advance the op-seed counter
    if "mindspore" in sys.modules:
        sys.modules["mindspore"].set_seed(salt)


def run_all(items, *, scramble: bool) -> dict[str, dict]:
    out = {}
    for index, (path, row, fw) in enumerate(items):
        if scramble:
            scramble_global_generators(1000 + 7 * index)
        out[f"{path}::{row}[{fw}]"] = fingerprint(path, row, fw)
    return out


def _diff(a: dict, b: dict) -> list[str]:
    lines = []
    for key in a:
        if a[key] != b.get(key):
            fields = [f for f in a[key] if a[key][f] != (b.get(key) or {}).get(f)]
            lines.append(f"{key}: {', '.join(fields)} differ:\n  {a[key]}\n  {b.get(key)}")
    return lines


@pytest.fixture(scope="module")
def items():
    chosen = sample()
    if not chosen:
        pytest.skip("no framework installed")
    return chosen


def test_sample_covers_every_check_and_framework(items):
    checks = {next(c.check for c in load_cached(str(ROOT / p)).cases if c.row == r) for p, r, _ in items}
    installed = {fw for fw in ADAPTERS if missing_reason(fw) is None}
    runnable = set()
    for p in case_files(ROOT / "cases"):
        cf = load_cached(str(p))
        runnable |= {c.check for c in cf.cases if installed & set(cf.frameworks_of(c))}
    assert checks == set(CHECKS) & runnable
    assert {fw for *_, fw in items} == {fw for fw in ADAPTERS if missing_reason(fw) is None}
    if installed == set(ADAPTERS):  # a single-framework environment has fewer checks to sample
        assert len(items) >= 12


def test_same_figures_in_another_order_with_scrambled_generators_and_clock(items, monkeypatch):
    first = run_all(items, scramble=False)
    real_time, real_ns = time.time, time.time_ns
    monkeypatch.setattr(time, "time", lambda: real_time() + 3.15e8)
    monkeypatch.setattr(time, "time_ns", lambda: real_ns() + 315_000_000_000_000_000)
    second = run_all(list(reversed(items)), scramble=True)
    assert second.keys() == first.keys()
    assert not _diff(first, second), "\n".join(_diff(first, second))


_CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from tests.test_repeatability import run_all
items = json.loads(sys.argv[1])
print("RESULT" + json.dumps(run_all([tuple(i) for i in items], scramble=False)))
"""


def test_same_figures_in_a_fresh_process(items):
    here = run_all(items, scramble=False)
    shuffled = sorted(items, key=lambda i: (i[2], i[1]), reverse=True)  # another order again
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTEST_XDIST_WORKER="gw7", TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", _CHILD.format(root=str(ROOT)), json.dumps(shuffled)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    found = [line for line in proc.stdout.splitlines() if line.startswith("RESULT")]
    assert proc.returncode == 0 and found, proc.stderr[-3000:]
    there = json.loads(found[-1][len("RESULT"):])
    assert not _diff(here, there), "\n".join(_diff(here, there))


# The checks may draw random numbers only from generators they seed themselves.
UNSEEDED = [
    r"default_rng\(\s*\)",
    r"np\.random\.(rand|randn|random|uniform|normal|standard_normal|randint|choice|permutation|shuffle)\(",
    r"(?<![\w.])random\.(random|randint|choice|shuffle|uniform|gauss)\(",
    r"torch\.(rand|randn|randint|randperm)\(",
    r"time\.time\(|time\.time_ns\(|datetime\.now\(|datetime\.utcnow\(",
]


def test_checks_draw_no_unseeded_randomness():
    deciding = ("checks", "ops", "reference", "diagnose", "recipes", "converters", "adapters")
    sources = sorted([p for d in deciding for p in (ROOT / "mapping" / d).glob("*.py")] + [
        ROOT / "mapping" / n for n in ("problem.py", "compare.py", "weights.py", "grid.py", "judge.py")])
    found = []
    for path in sources:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for pattern in UNSEEDED:
                if re.search(pattern, code):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "unseeded randomness or wall-clock time in the checks:\n" + "\n".join(found)
