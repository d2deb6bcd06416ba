"""Proving a port on the user's configuration: both checkpoints loaded by their frameworks, run, and compared
with the float64 reference.

Each side runs the loading code ``mapping convert`` prints (its format's :meth:`loading_code`: the user's
constructor and the framework's own loader, ``load_state_dict``, ``load_param_into_net`` or
``load_weights``), so the recipe shown is the recipe proven. The weights the framework then holds are read
back through its adapter and run through the adapter on seeded random inputs, with and without an initial
state, and with right padding (each framework's own length mechanism) when asked. Every run is compared with
the reference computed from the source file's weights as this project reads them, with the suite's
tolerance for that framework and dtype (:mod:`mapping.tolerances`); padded output steps are compared where
they are real and reported separately where they are padding (frameworks differ there: see the caveats).

The source side checks the reading (a misread source disagrees with its own framework), the target side the
written file; the port holds when both are within tolerance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..adapters import get_adapter
from ..compare import compare_results
from ..errors import MappingError, one_line
from ..problem import Problem
from ..spec import CELL_SUFFIX
from ..tolerances import forward_tolerance
from ..weights import CanonicalWeights, random_inputs, random_state
from .formats.base import CheckpointFormat
from .stack import Stack


@dataclass(frozen=True)
class SideRun:
    """One framework's run of one input variant, against the reference."""

    variant: str
    role: str  # source or target
    framework: str
    dtype: str
    max_abs: float  # largest |difference| to the reference over the output's real steps and every final state
    worst_field: str
    tol: float
    within: bool
    padded_max: float | None  # largest |output| at padded steps (the reference has zeros there)


@dataclass
class Verification:
    runs: list[SideRun] = field(default_factory=list)
    #: Per variant, the largest |target - source| over the real output steps and the final states.
    direct: dict[str, float] = field(default_factory=dict)
    #: A side that could not be loaded or run: role -> one line.
    failures: dict[str, str] = field(default_factory=dict)
    code: dict[str, str] = field(default_factory=dict)  # role -> the loading code run
    seconds: float = 0.0

    @property
    def holds(self) -> bool:
        return not self.failures and bool(self.runs) and all(r.within for r in self.runs)

    def worst(self, role: str) -> SideRun | None:
        runs = [r for r in self.runs if r.role == role]
        return max(runs, key=lambda r: r.max_abs / r.tol) if runs else None


@dataclass(frozen=True)
class Inputs:
    """What the layers are run on (seeded): batch, steps, and whether to add right-padded variants."""

    batch: int = 3
    steps: int = 7
    seed: int = 0
    padding: bool = False


def lengths_for(batch: int, steps: int) -> np.ndarray:
    """Right-padding lengths from the full sequence down to one step: ``[7, 4, 1]`` for 3 x 7."""
    return np.linspace(steps, 1, batch).round().astype(np.int64)


def load_side(stack: Stack, fmt: CheckpointFormat) -> tuple[Any, Any, Any, str]:
    """(adapter, model, spec, code): the stack's file loaded as printed, its weights in an adapter-built model."""
    code = fmt.loading_code(stack)
    namespace = fmt.namespace()
    exec(compile(code, f"<loading {stack.path.name}>", "exec"), namespace)  # noqa: S102 - our own printed recipe
    weights = fmt.loaded_weights(namespace, stack)
    adapter = get_adapter(stack.framework)
    spec = stack.spec
    if spec.dtype not in adapter.dtypes:
        spec = spec.replace(dtype=adapter.dtypes[0])
    adapter.check_supported(spec)
    return adapter, adapter.build(spec, CanonicalWeights(spec=spec, cells=weights.cells)), spec, code


def verify(source: Stack, source_format: CheckpointFormat, target: Stack, target_format: CheckpointFormat,
           inputs: Inputs = Inputs()) -> Verification:
    """Run both sides on ``inputs`` and compare with the reference (see the module docstring)."""
    started = time.perf_counter()
    result = Verification()
    sides = {}
    for role, stack, fmt in (("source", source, source_format), ("target", target, target_format)):
        try:
            sides[role] = (stack, *load_side(stack, fmt))
            result.code[role] = sides[role][4]
        except MappingError as exc:
            result.failures[role] = one_line(exc)
        except Exception as exc:  # noqa: BLE001 - the framework refused the file or the code: the port fails
            result.failures[role] = f"loading {stack.path} as printed failed: {type(exc).__name__}: {one_line(exc, 300)}"
    if result.failures:
        result.seconds = time.perf_counter() - started
        return result
    reference_spec = source.spec.replace(dtype="float64")
    x = random_inputs(reference_spec, inputs.batch, inputs.steps, seed=inputs.seed + 1)
    state = random_state(reference_spec, inputs.batch, seed=inputs.seed + 2)
    variants = [("zero state", None, None), ("initial state", state, None)]
    if inputs.padding:
        lengths = lengths_for(inputs.batch, inputs.steps)
        variants += [(f"padded {lengths.tolist()}", None, lengths), (f"padded {lengths.tolist()}, initial state",
                                                                       state, lengths)]
    for label, initial, lengths in variants:
        problem = Problem(reference_spec, source.weights, x, initial, lengths).validated()
        expected = problem.reference()
        mask = problem.output_mask()
        outputs = {}
        for role, (stack, adapter, model, spec, _code) in sides.items():
            run = adapter.run(model, problem.replace(spec=spec))
            tol = forward_tolerance(stack.framework, spec.dtype, lengths is not None,
                                    op=spec.op + (CELL_SUFFIX if stack.form == "cell" else ""))
            figures = compare_results(run, expected, tol, output_select=mask)
            worst = max(figures, key=lambda f: f.max_abs)
            padded = None
            if mask is not None:
                at_padding = ~np.broadcast_to(mask, run.output.shape)
                padded = float(np.abs(run.output[at_padding]).max()) if at_padding.any() else 0.0
            within = all(f.shapes_match and f.within == 1.0 for f in figures)
            result.runs.append(SideRun(label, role, stack.framework, spec.dtype, worst.max_abs, worst.field, tol,
                                       within, padded))
            outputs[role] = (run, mask)
        result.direct[label] = _largest_difference(outputs["source"][0], outputs["target"][0], mask)
    result.seconds = time.perf_counter() - started
    return result


def _largest_difference(a, b, mask) -> float:
    worst = 0.0
    for name, value in a.fields().items():
        other = b.fields()[name]
        if np.shape(value) != np.shape(other):
            return float("inf")
        diff = np.abs(np.asarray(value, np.float64) - np.asarray(other, np.float64))
        if name == "output" and mask is not None:
            diff = np.where(np.broadcast_to(mask, diff.shape), diff, 0.0)
        worst = max(worst, float(diff.max()) if diff.size else 0.0)
    return worst


__all__ = ["Inputs", "SideRun", "Verification", "lengths_for", "load_side", "verify"]
