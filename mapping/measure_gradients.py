"""Print the largest gradient error of every installed framework against the analytic reference.

Run ``mapping measure --gradients`` (or ``python -m mapping.measure_gradients``) after a framework upgrade; the
figures justify the ``gradients:`` tolerances in ``mapping/tolerances.yaml``, which records them next to each tolerance.

The grid is the forward one (:mod:`mapping.grid`: 48 specs per dtype, each built once and run on 8
input variants). Each run differentiates ``L = sum(output * G_out) + sum(h_n * G_h) + sum(c_n * G_c)``
(:mod:`mapping.reference.backward`) with respect to x, h0 and c0 (when an initial state is given) and every
weight, and compares every gradient with the float64 reference. Two figures per framework and dtype:

* ``max abs``: the largest ``|actual - reference|``;
* ``max scaled``: the largest ``|actual - reference| / (1 + |reference|)``, the quantity the tolerance
  bounds (an element passes when ``|a - e| <= tol * (1 + |e|)``, as in the forward comparison).
  Bias gradients sum over batch and time and reach ~6 on this grid, so their absolute error is larger
  than the others' while their scaled error is not.

``--lengths`` measures the padded path instead (per-sample lengths through each framework's own
mechanism: packed sequences, masks, ``seq_length``) on random problems of varied sizes and input
scales (:func:`padded_pairs`), the figures behind the ``*_seq_length`` gradient entries.
"""

from __future__ import annotations

import argparse
from typing import Iterator

import numpy as np

from .adapters import get_adapter, is_available
from .errors import MappingError
from .frameworks import NAMES as ADAPTERS
from .grid import grid_specs, problems, spec_id
from .ops import APIS
from .problem import Problem
from .reference import random_upstream, reference_gradients
from .spec import LayerSpec
from .weights import random_inputs, random_state, random_weights


def gradient_pairs(adapter, spec: LayerSpec, seed: int = 0) -> Iterator[tuple[str, str, np.ndarray, np.ndarray]]:
    """Build once, differentiate every input variant; yield ``(variant, gradient name, actual, reference)``.

    Gradient names are those of :meth:`mapping.reference.Gradients.fields` (``x``, ``h0``, ``c0``,
    ``l1d0.w_hh``, ...). A name the framework does not return yields an empty ``actual``, so the
    shape check catches it.
    """
    variants = problems(spec, seed)
    model = adapter.build(spec, variants[0][1].weights)
    for label, problem in variants:
        upstream = random_upstream(spec, problem.batch, problem.steps, seed=100 + 10 * problem.batch + problem.steps)
        expected = reference_gradients(problem, upstream).fields()
        actual = adapter.gradients(model, problem, upstream).fields()
        for name in expected.keys() | actual.keys():
            yield label, name, actual.get(name, np.empty(0)), expected.get(name, np.empty(0))


def padded_pairs(adapter, count: int = 60, seed: int = 0, op: str = "lstm"
                 ) -> Iterator[tuple[str, str, np.ndarray, np.ndarray]]:
    """Random right-padded problems (input 1-6, hidden 1-8, layers 1-3, uni/bi, layout, bias, batch 1-4,
    steps 1-8, input scale 0.1/1/3, zero or given state) in float32; yield ``(problem, gradient name,
    actual, reference)``. The output gradient is zero at padded steps, where frameworks differ in what
    they output (zeros, or Keras's repeated last output)."""
    rng = np.random.default_rng(seed)
    for k in range(count):
        spec = LayerSpec.parse(dict(
            input_size=int(rng.integers(1, 7)), hidden_size=int(rng.integers(1, 9)),
            num_layers=int(rng.integers(1, 4)), bidirectional=bool(rng.integers(2)),
            batch_first=bool(rng.integers(2)), bias=bool(rng.integers(2)),
        ), op=op)
        batch, steps, scale = int(rng.integers(1, 5)), int(rng.integers(1, 9)), (0.1, 1.0, 3.0)[k % 3]
        lengths = rng.integers(1, steps + 1, size=batch)
        if adapter.unsupported_reason(spec):
            continue
        weights = random_weights(spec, seed=k)
        x = random_inputs(spec, batch, steps, seed=k + 1, scale=scale)
        state = random_state(spec, batch, seed=k + 2) if k % 2 else None
        upstream = random_upstream(spec, batch, steps, seed=k)
        padded = np.arange(steps)[None, :] >= lengths[:, None]  # (batch, time)
        if not spec.batch_first:
            padded = padded.T
        upstream = upstream.replace(output=np.where(padded[..., None], 0.0, upstream.output))
        problem = Problem(spec, weights, x, state, lengths)
        expected = reference_gradients(problem, upstream).fields()
        actual = adapter.gradients(adapter.build(spec, weights), problem, upstream).fields()
        label = f"problem {k} ({spec_id(spec)}, batch {batch}, steps {steps}, scale {scale})"
        for name in expected.keys() | actual.keys():
            yield label, name, actual.get(name, np.empty(0)), expected.get(name, np.empty(0))


def _worst(pairs) -> tuple[float, float, str, dict[str, float]]:
    """(max abs, max scaled, where the max scaled is, max abs per kind of gradient)."""
    worst_abs, worst_scaled, where = 0.0, 0.0, ""
    per_kind: dict[str, float] = {}
    for label, grad, actual, expected in pairs:
        if actual.shape != expected.shape:
            raise SystemExit(f"{label} {grad}: shape {actual.shape}, reference {expected.shape}")
        diff = np.abs(actual - expected)
        scaled = float((diff / (1.0 + np.abs(expected))).max())
        kind = grad.split(".")[-1]
        per_kind[kind] = max(per_kind.get(kind, 0.0), float(diff.max()))
        worst_abs = max(worst_abs, float(diff.max()))
        if scaled > worst_scaled:
            worst_scaled, where = scaled, f"{label}, {grad}"
    return worst_abs, worst_scaled, where, per_kind


def _detail(per_kind: dict[str, float]) -> str:
    kinds = ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh", "w_hr")
    return ", ".join(f"{k} {per_kind[k]:.3g}" for k in kinds if k in per_kind)


def _problem_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"{value} is not in [1, 10000]")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mapping measure --gradients", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("frameworks", nargs="*", metavar="FRAMEWORK",
                        help=f"adapters to measure (default: all of {', '.join(ADAPTERS)})")
    parser.add_argument("--lengths", type=_problem_count, nargs="?", const=60, default=0, metavar="N",
                        help="measure N random right-padded float32 problems (default 60, at most 10000) instead "
                             "of the grid")
    parser.add_argument("--grid", choices=("full", "ci"), default="full",
                        help="the grid profile (mapping.grid): full (default) or ci, the pairwise subset the default "
                             "test run checks for the APIs other than LSTM")
    parser.add_argument("--op", action="append", choices=list(APIS), metavar="API",
                        help=f"the API to measure, repeatable (default: all of {', '.join(APIS)}; with --lengths "
                             "the layers only)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.frameworks if n not in ADAPTERS]
    if unknown:
        parser.error(f"unknown framework {unknown[0]!r}; choose from {', '.join(ADAPTERS)}")
    for name in dict.fromkeys(args.frameworks or ADAPTERS):
        if not is_available(name):
            print(f"{name}: not installed")
            continue
        try:
            adapter = get_adapter(name)
        except MappingError as exc:  # installed but broken: one line, and the others are still measured
            print(exc)
            continue
        for api in args.op or APIS:
            if args.lengths:
                if api.endswith("_cell"):
                    continue  # a cell takes no lengths
                worst_abs, worst_scaled, where, per_kind = _worst(padded_pairs(adapter, args.lengths, op=api))
                print(f"{name:10s} {api:9s} float32 with lengths: max abs {worst_abs:.3g}, max scaled "
                      f"{worst_scaled:.3g} (at {where}) over {args.lengths} padded problems; max abs per gradient: "
                      f"{_detail(per_kind)}", flush=True)
                continue
            for dtype in ("float32", "float64"):
                specs = [s for s in grid_specs((dtype,), api, profile=args.grid) if adapter.unsupported_reason(s) is None]
                if not specs:
                    print(f"{name:10s} {api:9s} {dtype}: {adapter.unsupported_reason(grid_specs((dtype,), api)[0])}")
                    continue

                def grid_pairs(specs=specs):
                    for spec in specs:
                        for label, grad, actual, expected in gradient_pairs(adapter, spec):
                            yield f"{spec_id(spec)}, {label}", grad, actual, expected

                worst_abs, worst_scaled, where, per_kind = _worst(grid_pairs())
                print(f"{name:10s} {api:9s} {dtype}: max abs {worst_abs:.3g}, max scaled {worst_scaled:.3g} "
                      f"(at {where}) over {len(specs) * len(problems(specs[0]))} runs; "
                      f"max abs per gradient: {_detail(per_kind)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
