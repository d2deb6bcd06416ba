"""Print the largest error of every installed framework against the reference over the adapter grid.

Run ``mapping measure`` (or ``python -m mapping.measure``) after a framework upgrade; the figures justify the
tolerances in ``mapping/tolerances.yaml``, which records them next to each tolerance. ``--gradients`` measures
the gradients instead (:mod:`mapping.measure_gradients`).
"""

from __future__ import annotations

import argparse
import sys

from .adapters import get_adapter, is_available
from .errors import MappingError
from .frameworks import NAMES as ADAPTERS
from .grid import check_spec, grid_specs


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--gradients" in argv:
        from .measure_gradients import main as gradients_main

        return gradients_main([a for a in argv if a != "--gradients"])
    parser = argparse.ArgumentParser(prog="mapping measure", description=__doc__)
    parser.add_argument("--gradients", action="store_true", help="measure the gradients instead (see --gradients -h)")
    parser.add_argument("frameworks", nargs="*", metavar="FRAMEWORK",
                        help=f"adapters to measure (default: all of {', '.join(ADAPTERS)})")
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
        for dtype in ("float32", "float64"):
            worst: dict[str, float] = {}
            specs = [s for s in grid_specs((dtype,)) if adapter.unsupported_reason(s) is None]
            if not specs:
                print(f"{name:10s} {dtype}: {adapter.unsupported_reason(grid_specs((dtype,))[0])}")
                continue
            for spec in specs:
                for _label, figures in check_spec(adapter, spec, tol=0.0):
                    for f in figures:
                        worst[f.field] = max(worst.get(f.field, 0.0), f.max_abs)
            overall = max(worst.values())
            detail = ", ".join(f"{k} {v:.3g}" for k, v in worst.items())
            print(f"{name:10s} {dtype}: max abs error {overall:.3g} ({detail}) over {len(specs) * 8} runs")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
