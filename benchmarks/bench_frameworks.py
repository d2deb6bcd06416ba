"""Per framework: cold import time, and the cost of building and running one small LSTM.

Run: ``.venv/bin/python benchmarks/bench_frameworks.py``. Each import is timed in a fresh interpreter
(best of 3); build-and-run is timed in-process after one warm-up call (median of 20), so later work
can be held against this floor.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

IMPORTS = {
    "torch": "import torch",
    "tfkeras": "import torch, tensorflow as tf; tf.keras.layers.LSTM",
    "keras2": "import torch, tf_keras",
    "mindspore": "import mindspore, mindspore.nn",
}


def cold_import(stmt: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", stmt], check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    baseline = min(_time([sys.executable, "-c", "pass"]) for _ in range(3))
    return best - baseline


def _time(cmd) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def build_and_run(name: str) -> tuple[float, float]:
    from mapping.adapters import get_adapter
    from mapping.problem import Problem
    from mapping.spec import LayerSpec
    from mapping.weights import random_inputs, random_weights

    adapter = get_adapter(name)
    spec = LayerSpec.parse(dict(input_size=3, hidden_size=4))
    problem = Problem(spec, random_weights(spec), random_inputs(spec, 2, 5))
    start = time.perf_counter()
    adapter.forward(problem)
    first = time.perf_counter() - start
    times = []
    for _ in range(20):
        start = time.perf_counter()
        adapter.forward(problem)
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def main() -> None:
    from mapping.adapters import is_available
    from mapping.frameworks import NAMES

    print(f"{'framework':10s} {'cold import':>12s} {'first build+run':>16s} {'build+run (median)':>19s}")
    for name in NAMES:
        if not is_available(name):
            print(f"{name:10s} not installed")
            continue
        imp = cold_import(IMPORTS[name])
        first, median = build_and_run(name)
        print(f"{name:10s} {imp:11.2f}s {first * 1e3:14.1f}ms {median * 1e3:17.1f}ms")


if __name__ == "__main__":
    main()
