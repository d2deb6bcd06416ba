"""Print the largest error of every installed framework against the reference over the adapter grid.

Run ``mapping measure`` (or ``python -m mapping.measure``) after a framework upgrade; the figures justify the
tolerances in ``mapping/tolerances.yaml``, which records them next to each tolerance. ``--gradients`` measures
the gradients instead (:mod:`mapping.measure_gradients`). ``--random N`` measures N random float32 problems per API
instead of the grid (larger inputs than the grid's, and per-sample lengths on half of the layers' problems), with
the padded runs reported apart: MindSpore's recurrent paths that loop over its approximate CPU ``Tanh`` only show
their error on inputs that reach |x| ~ 5.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from .adapters import get_adapter, is_available
from .compare import compare_results
from .errors import MappingError
from .frameworks import NAMES as ADAPTERS
from .grid import check_spec, grid_specs
from .ops import APIS
from .problem import Problem
from .spec import LayerSpec, split_api
from .weights import random_inputs, random_state, random_weights


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--gradients" in argv:
        from .measure_gradients import main as gradients_main

        return gradients_main([a for a in argv if a != "--gradients"])
    parser = argparse.ArgumentParser(prog="mapping measure", description=__doc__)
    parser.add_argument("--gradients", action="store_true", help="measure the gradients instead (see --gradients -h)")
    parser.add_argument("frameworks", nargs="*", metavar="FRAMEWORK",
                        help=f"adapters to measure (default: all of {', '.join(ADAPTERS)})")
    parser.add_argument("--random", type=int, default=0, metavar="N",
                        help="measure N random float32 problems per API (input scale 0.1/1/3) instead of the grid")
    parser.add_argument("--op", action="append", choices=list(APIS), metavar="API",
                        help=f"the API to measure, repeatable (default: all of {', '.join(APIS)})")
    args = parser.parse_args(argv)
    unknown = [n for n in args.frameworks if n not in ADAPTERS]
    if unknown:
        parser.error(f"unknown framework {unknown[0]!r}; choose from {', '.join(ADAPTERS)}")
    status = 0
    for name in dict.fromkeys(args.frameworks or ADAPTERS):
        if not is_available(name):
            print(f"{name}: not installed")
            continue
        try:
            adapter = get_adapter(name)
        except MappingError as exc:  # installed but broken: one line, and the others are still measured
            print(exc)
            status = 2
            continue
        for api in args.op or APIS:
            if args.random:
                worst = random_worst(adapter, api, args.random)
                print(f"{name:10s} {api:9s} float32 random: max abs error {worst[False]:.3g} over unpadded problems, "
                      f"{worst[True]:.3g} over padded ones ({args.random} problems)", flush=True)
                continue
            for dtype in ("float32", "float64"):
                worst: dict[str, float] = {}
                specs = [s for s in grid_specs((dtype,), api) if adapter.unsupported_reason(s) is None]
                if not specs:
                    print(f"{name:10s} {api:9s} {dtype}: {adapter.unsupported_reason(grid_specs((dtype,), api)[0])}")
                    continue
                for spec in specs:
                    for _label, figures in check_spec(adapter, spec, tol=0.0):
                        for f in figures:
                            worst[f.field] = max(worst.get(f.field, 0.0), f.max_abs)
                overall = max(worst.values())
                detail = ", ".join(f"{k} {v:.3g}" for k, v in worst.items())
                print(f"{name:10s} {api:9s} {dtype}: max abs error {overall:.3g} ({detail}) over {len(specs) * 8} "
                      "runs", flush=True)
    return status


def random_worst(adapter, api: str, count: int, seed: int = 0) -> dict[bool, float]:
    """The largest error over ``count`` random float32 problems of ``api`` (sizes as tests/test_generated.py draws
    them, input scale 0.1/1/3 in turn, a given state every other problem, lengths on every other layer problem),
    keyed by whether the problem had lengths; padded output steps are not compared (frameworks differ there)."""
    rng = np.random.default_rng(seed)
    cell = split_api(api)[1] == "cell"
    worst = {False: 0.0, True: 0.0}
    for k in range(count):
        own = {}
        if split_api(api)[0] == "gru":
            own["reset_after"] = bool(rng.integers(2))
        if split_api(api)[0] == "rnn":
            own["activation"] = ("tanh", "relu")[int(rng.integers(2))]
        spec = LayerSpec.parse(dict(
            input_size=int(rng.integers(1, 7)), hidden_size=int(rng.integers(1, 9)),
            num_layers=1 if cell else int(rng.integers(1, 4)), bidirectional=False if cell else bool(rng.integers(2)),
            batch_first=bool(rng.integers(2)), bias=bool(rng.integers(2)), **own), op=api)
        batch, steps, scale = int(rng.integers(1, 5)), int(rng.integers(1, 9)), (0.1, 1.0, 3.0)[k % 3]
        lengths = rng.integers(1, steps + 1, size=batch) if not cell and (k // 3) % 2 else None
        if adapter.unsupported_reason(spec):
            continue
        problem = Problem(spec, random_weights(spec, seed=k), random_inputs(spec, batch, steps, seed=k + 1, scale=scale),
                          random_state(spec, batch, seed=k + 2) if k % 2 else None, lengths)
        figures = compare_results(adapter.forward(problem), problem.reference(), 0.0, problem.output_mask())
        padded = lengths is not None
        worst[padded] = max([worst[padded]] + [f.max_abs for f in figures])
    return worst


if __name__ == "__main__":
    raise SystemExit(main())

