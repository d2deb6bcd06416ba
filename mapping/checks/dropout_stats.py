"""Dropout structure in training, tested statistically.

One input feature and one unit make every dropout mask a single number per sample and step. A batch of
identical samples is run in training mode; each sample's trajectory must then equal the float64
reference under exactly one per-step pattern of kept (scaled by 1 / (1 - p)) and dropped (0) values,
applied to the tensor the recorded structure names:

* ``inputs``: x_t before the cell (Keras ``dropout``), one mask for all four gates;
* ``recurrent``: h_{t-1} inside the recurrence (Keras ``recurrent_dropout``);
* ``between_layers``: the first layer's output before the second layer (PyTorch and MindSpore ``dropout``).

From the matched patterns: the share of samples explained (must be 100%: else the structure, the
rescaling, or one-mask-for-all-gates is wrong), the dropped fraction (binomial, within six standard
errors of p), and whether one mask is shared across time steps (only constant patterns occur) or
drawn per step. Inference mode must equal the no-dropout reference. Seeds are fixed, so the run is
repeatable; the bounds are what a correct implementation passes with overwhelming probability.
"""

from __future__ import annotations

import itertools
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from .. import ops
from ..compare import within_tolerance
from ..errors import ArgsError
from ..problem import Problem
from ..reference import DropoutScales, reference_forward
from ..spec import MAX_PROBLEM_NUMBERS, LayerSpec
from ..verdicts import Verdict
from ..weights import random_weights
from . import CheckContext, Measurement, Outcome, register
from .arguments import Args, Recorded, covers, per_framework, recorded_for

Structure = Literal["inputs", "recurrent", "between_layers", "none"]
#: What a recorded behaviour may name after ``structure=`` ("other": measured, matching no known structure).
STRUCTURES = ("inputs", "recurrent", "between_layers", "none", "other")

#: The structure each dropout field of the spec stands for (what to look for when the recorded one is "other").
STRUCTURE_OF_FIELD = {"input_dropout": "inputs", "recurrent_dropout": "recurrent", "layer_dropout": "between_layers"}


class DropoutStatsArgs(Args):
    names: dict[str, str | None]  # framework -> its parameter, None where it has none
    recorded: dict[str, Recorded]  # framework -> "structure=... shared_across_time=..." as measured
    convention: str  # the behaviour the row's claim calls "the same", e.g. PyTorch's
    rate: float = Field(default=0.3, gt=0, lt=1)
    batch: int = Field(default=1000, gt=0)
    #: Every kept/dropped pattern over the steps is tried (2**steps of them): kept small.
    steps: int = Field(default=3, gt=0, le=10)

    @model_validator(mode="after")
    def _bounded(self) -> "DropoutStatsArgs":
        numbers = self.batch * 2**self.steps * self.steps  # the (batch, patterns, time) error array
        if numbers > MAX_PROBLEM_NUMBERS:
            raise ArgsError("batch", f"batch {self.batch} x 2**{self.steps} patterns x {self.steps} steps is "
                                     f"{numbers:,} numbers; at most {MAX_PROBLEM_NUMBERS:,}")
        for framework, value in self.recorded.items():
            entries = [value] if isinstance(value, str) else [e.behaviour for e in value]
            for entry in entries:
                if not entry.startswith("structure=") or entry.split()[0].split("=")[1] not in STRUCTURES:
                    raise ArgsError(f"recorded.{framework}", "a recorded behaviour starts with structure=<one of "
                                                             f"{', '.join(STRUCTURES)}>, e.g. 'structure=none'")
        return self

    def check_case(self, names: list[str], op: str) -> None:
        covers(self, "names", names)
        covers(self, "recorded", names, families=False)


def _problem(spec: LayerSpec, w, x_one: np.ndarray, h0_one: np.ndarray) -> Problem:
    """One sample (batch 1) from time-major x and initial h; the cell state starts at zero."""
    x = x_one.transpose(1, 0, 2)  # (1, time, 1): batch-first
    state = tuple(np.zeros((spec.num_layers, 1, 1)) for _ in ops.of(spec).states)
    state = (np.broadcast_to(h0_one, (spec.num_layers, 1, 1)).copy(),) + state[1:]
    return Problem(spec, w, x, state)


def _candidates(structure: str, problem: Problem, steps: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Every kept/dropped pattern the structure allows, and the reference's output under it.

    Returns (kept, outputs): kept is (patterns, draws) booleans, outputs (patterns, time). Inputs and
    between-layer dropout: one value per step for all gates (2**steps patterns; a mask shared over time
    shows as constant patterns). Recurrent dropout: one value per gate, shared over time (16 patterns).
    """
    keep = 1.0 / (1.0 - p)
    gates = len(ops.of(problem.spec).gates)
    if structure == "recurrent":
        kept = np.array(list(itertools.product((False, True), repeat=gates)))
        outs = [reference_forward(problem, DropoutScales(
                    recurrent=np.tile(np.where(k, keep, 0.0), (steps, 1))[:, :, None, None])).output[0, :, 0]
                for k in kept]
        return kept, np.stack(outs)
    kept = np.array(list(itertools.product((False, True), repeat=steps)))
    outs = []
    for k in kept:
        scale = np.where(k, keep, 0.0)
        if structure == "inputs":
            masks = DropoutScales(inputs=np.repeat(scale[:, None], gates, axis=1)[:, :, None, None])
        else:
            masks = DropoutScales(between_layers=scale[:, None, None])
        outs.append(reference_forward(problem, masks).output[0, :, 0])
    return kept, np.stack(outs)


def _framework_run(ctx: CheckContext, name: str, problem: Problem, p: float, training: bool) -> np.ndarray:
    """The framework's output sequence, (batch, time, 1), in training or inference mode."""
    adapter = ctx.adapter
    adapter.seed(ctx.seed)
    spec = problem.spec.replace(**{adapter.field_for(ctx.op, name): p})
    return adapter.run(adapter.build(spec, problem.weights), problem, training=training).output


def measure_structure(ctx: CheckContext, name: str, structure: str, args: DropoutStatsArgs, m: Measurement) -> str:
    seed = ctx.seed
    layers = 2 if structure == "between_layers" else 1
    spec = LayerSpec.parse({"input_size": 1, "hidden_size": 1, "num_layers": layers, "batch_first": True}, op=ctx.op)
    w = random_weights(spec, seed=seed, scale=1.5)  # large enough that a dropped value shows clearly
    rng = np.random.default_rng(seed)
    x_one = rng.uniform(0.5, 1.5, size=(args.steps, 1, 1)) * rng.choice([-1, 1], size=(args.steps, 1, 1))
    h0_one = np.full((1, 1), 0.8) if structure == "recurrent" else np.zeros((1, 1))
    one = _problem(spec, w, x_one, h0_one)
    kept_patterns, candidates = _candidates(structure, one, args.steps, args.rate)
    # the batch: identical samples; Keras's recurrent dropout is seen through a non-zero initial h
    batch = one.replace(x=np.repeat(one.x, args.batch, axis=0),
                        initial_state=tuple(np.repeat(s, args.batch, axis=1) for s in one.initial_state)
                        if structure == "recurrent" else None)

    inference = _framework_run(ctx, name, batch, args.rate, False)[:, :, 0]
    m.expect(m.compare("inference mode ignores dropout", inference,
                       np.broadcast_to(one.reference().output[0, :, 0], inference.shape)),
             f"{ctx.framework}'s {name} acts in inference mode")
    out = _framework_run(ctx, name, batch, args.rate, True)[:, :, 0]
    ok = np.all(within_tolerance(out[:, None, :], candidates[None, :, :], m.tol), axis=2)  # (batch, patterns)
    explained = ok.any(axis=1)
    share = float(explained.mean())
    masks = "per_gate" if structure == "recurrent" else "one_for_all_gates"
    m.note(f"{share:.1%} of {args.batch} samples match one kept/dropped pattern on {structure} "
           f"({masks.replace('_', ' ')}, kept values scaled by 1/(1-p) = {1 / (1 - args.rate):.4f})")
    if share < 1.0:
        return "structure=other"
    kept = kept_patterns[np.argmax(ok, axis=1)]  # (batch, draws)
    distinct = len({row.tobytes() for row in kept})
    per_batch = distinct == 1
    dropped = float(1 - kept.mean())
    parts = [f"structure={structure}", f"masks={masks}"]
    if structure == "recurrent":
        parts.append("shared_across_time=true")  # the 16 candidate patterns are constant over time
    else:
        constant = float(np.mean(np.all(kept == kept[:, :1], axis=1)))
        parts.append(f"shared_across_time={str(constant == 1.0).lower()}")
        m.note(f"constant over time in {constant:.1%} of samples")
    parts.append(f"shared_across_batch={str(per_batch).lower()}")
    m.note(f"{distinct} distinct mask patterns across the batch; dropped fraction {dropped:.4f} (p = {args.rate})")
    if not per_batch:
        independent = kept.shape[0] * (kept.shape[1] if structure == "recurrent" or
                                       "shared_across_time=false" in parts else 1)
        bound = 6 * np.sqrt(args.rate * (1 - args.rate) / independent)
        m.note(f"six standard errors over {independent} independent draws: {bound:.4f}")
        m.expect(abs(dropped - args.rate) <= bound, f"dropped fraction {dropped:.4f} is not p = {args.rate}")
    return " ".join(parts)


@register("dropout_statistics", DropoutStatsArgs)
def dropout_statistics(args: DropoutStatsArgs, ctx: CheckContext) -> Outcome:
    """Measure which tensor is dropped, with what rescaling and rate, and whether one mask serves every step."""
    fw = ctx.framework
    m = ctx.measurement()
    name = per_framework(args.names, fw)
    recorded = recorded_for(args.recorded, fw)
    if name is None or name not in ctx.adapter.constructor_parameters(ctx.op):
        measured = "structure=none"
        m.note(f"{fw} has no such parameter")
    else:
        structure = recorded.split()[0].split("=")[1]
        if structure == "other":
            structure = STRUCTURE_OF_FIELD[ctx.adapter.field_for(ctx.op, name)]
        measured = measure_structure(ctx, name, structure, args, m)
    m.note(f"measured: {measured}; the row's convention: {args.convention}")
    m.expect(measured == recorded, f"behaviour is now '{measured}', the case records '{recorded}'")
    if measured == "structure=none":
        return m.outcome(Verdict.NO_COUNTERPART)
    return m.outcome(Verdict.EQUIVALENT if measured == args.convention and m.ok else Verdict.DIVERGES)
