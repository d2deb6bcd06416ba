"""Optional trace of every LSTM the suite builds and runs, for the speed benchmark's floor.

Set ``MAPPING_TRACE=DIR`` and each process appends JSON lines to ``DIR/trace-<pid>.jsonl``: the
framework, what was built (spec and Keras options) and what it was run on (shapes, state, lengths,
training). ``benchmarks/bench_conformance.py`` replays them with bare framework calls. Off (and free)
when the variable is unset.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

_DIR = os.environ.get("MAPPING_TRACE")


def record(event: dict[str, Any]) -> None:
    if not _DIR:
        return
    path = Path(_DIR) / f"trace-{os.getpid()}.jsonl"
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(event, default=_jsonable) + "\n")


def _jsonable(value: Any):
    if isinstance(value, np.ndarray):
        return {"shape": list(value.shape)}
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return repr(value)


def _shape(a) -> list[int] | None:
    return None if a is None else list(np.shape(a))


def wrap_adapter(adapter):
    """Record the adapter's builds and runs (the model object gets a trace id)."""
    if not _DIR:
        return adapter
    build, run = adapter.build, adapter.run

    @functools.wraps(build)
    def traced_build(spec, weights):
        model = build(spec, weights)
        record({"framework": adapter.name, "event": "build", "spec": spec.model_dump(), "model": id(model)})
        return model

    @functools.wraps(run)
    def traced_run(model, problem, *, training=False):
        result = run(model, problem, training=training)  # refused inputs are not traced
        lengths = problem.lengths
        record({"framework": adapter.name, "event": "run", "spec": problem.spec.model_dump(), "model": id(model),
                "x": _shape(problem.x), "state": problem.initial_state is not None,
                "lengths": None if lengths is None else [int(v) for v in lengths], "training": training})
        return result

    adapter.build, adapter.run = traced_build, traced_run
    return adapter
