"""Diagnosis of a mismatch: where a framework's result starts to differ from the reference, and why.

Given the :class:`~mapping.problem.Problem` a framework ran and the :class:`~mapping.problem.RunResult` it
returned, :func:`diagnose`

1. **locates** the first difference (:mod:`mapping.diagnose.locate`): the lowest layer whose final state
   differs (an error in one layer reaches every layer above it), which direction(s), which of the output and
   the final states, and for the last layer the first time step of the output that differs, in each
   direction's processing order;
2. **explains** it (:mod:`mapping.diagnose.hypotheses`) by recomputing the float64 reference under plausible
   single mistakes and reporting those that reproduce the framework's numbers: every other order of the op's
   gates (everywhere or in one layer and direction), the bias folds (b_ih or b_hh dropped or counted twice),
   kernels reshaped instead of transposed, a reversed time axis, swapped directions or layers, swapped
   states, final states collected in another order, an ignored initial state, lengths off by one, the batch
   and time axes read the other way, another activation, and the op's own mistakes.

Pure NumPy; no framework is imported. Used by :class:`mapping.checks.measure.Measurement` when a
comparison that carries its problem fails, so the failure message gets a ``diagnosis:`` line.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from .. import ops
from ..problem import Problem, RunResult
from ..spec import LayerSpec
from .hypotheses import (
    Hypothesis,
    input_hypotheses,
    result_hypotheses,
    weight_hypotheses,
)
from .locate import DIRECTION_NAMES, field_ok, fields_ok, locate, out_of_tolerance

__all__ = ["Diagnosis", "Hypothesis", "diagnose", "locate"]


@dataclass
class Diagnosis:
    where: str
    explanations: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    tried: int = 0

    @property
    def explained(self) -> bool:
        return bool(self.explanations)

    def line(self) -> str:
        """One line for a failure message."""
        text = self.where
        if self.explanations:
            text += f"; matches if {self.explanations[0]}"
            if len(self.explanations) > 1:
                text += f" (equally: {'; '.join(self.explanations[1:4])}"
                text += f"; +{len(self.explanations) - 4} more)" if len(self.explanations) > 4 else ")"
        else:
            text += f"; none of {self.tried} single explanations tried reproduces it"
            if self.partial:
                text += f" (partly: {'; '.join(self.partial[:3])})"
        return text

    def __str__(self) -> str:
        return self.line()


def state_order(spec: LayerSpec, actual: RunResult, ref: RunResult, tol: float) -> str | None:
    """If the final states are the reference's in another order, say which order."""
    names = ops.of(spec).final_names
    got, expected = actual.fields(), ref.fields()
    n = len(expected[names[0]])
    if n < 2 or any(np.shape(got.get(name)) != np.shape(expected[name]) for name in names):
        return None
    order = []
    for k in range(n):
        hits = [j for j in range(n)
                if all(not out_of_tolerance(got[name][k], expected[name][j], tol).any() for name in names)]
        if len(hits) != 1:
            return None
        order.append(hits[0])
    if order == list(range(n)) or sorted(order) != list(range(n)):
        return None
    dirs = spec.num_directions

    def name(j):
        layer, d = divmod(j, dirs)
        return f"layer {layer}" + (f" {DIRECTION_NAMES[d]}" if dirs > 1 else "")

    layers_reversed = [(spec.num_layers - 1 - j // dirs) * dirs + j % dirs for j in range(n)]
    dirs_swapped = [(j // dirs) * dirs + (dirs - 1 - j % dirs) for j in range(n)]
    if order == layers_reversed:
        return "the final states are collected with the layers in reverse order"
    if order == dirs_swapped:
        return "the final states of the two directions are in the other order (backward first)"
    return "the final states are collected in the order " + ", ".join(name(j) for j in order)


def diagnose(problem: Problem, actual: RunResult, tol: float | None = None) -> Diagnosis:
    """Locate the first difference of ``actual`` from the reference and try to explain it."""
    spec = problem.spec
    if tol is None:
        tol = 1e-6 if spec.dtype == "float32" else 1e-12
    match_tol = 10 * tol  # the alternatives are exact float64; the framework rounds as it always does
    ref = problem.reference()
    select = problem.output_mask()
    diagnosis = Diagnosis(where=locate(problem, actual, ref, tol))
    baseline = fields_ok(actual, ref, match_tol, select)
    if all(baseline.values()):
        diagnosis.where += " (within 10x the tolerance)"
    seen: set[str] = set()

    def consider(h: Hypothesis) -> None:
        if h.text in seen:
            return
        seen.add(h.text)
        diagnosis.tried += 1
        try:
            alt = h.result()
        except Exception:  # a hypothesis that does not fit the problem's shapes is simply not it
            return
        sel = select
        if h.lengths is not None:
            sel = problem.replace(lengths=np.minimum(h.lengths, problem.lengths)).output_mask()
        ok = fields_ok(actual, alt, match_tol, sel)
        if all(ok.values()):
            diagnosis.explanations.append(h.text)
        elif sum(ok.values()) > sum(baseline.values()):
            fixed = [k for k in ok if ok[k] and not baseline[k]]
            still = [k for k in ok if not ok[k]]
            diagnosis.partial.append(f"{h.text} explains {', '.join(fixed)} but not {', '.join(still)}")

    order = state_order(spec, actual, ref, match_tol)
    diagnosis.tried += 1
    if order and field_ok("output", actual.output, ref.output, match_tol, select):
        diagnosis.explanations.append(order)
    op_specific = ops.of(spec).hypotheses
    for h in itertools.chain(result_hypotheses(problem, ref), input_hypotheses(problem), weight_hypotheses(problem),
                             op_specific(problem) if op_specific else ()):
        consider(h)
    return diagnosis
