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

from ..adapters import get_adapter
from ..errors import ArgsError
from ..reference import ACTIVATIONS
from ..spec import MAX_PROBLEM_NUMBERS, LSTMSpec
from ..verdicts import Verdict
from ..weights import random_weights
from . import CheckContext, Measurement, Outcome, register
from .dropout import _seed_all
from .native import (Args, Recorded, constructor_parameters, covers, keras_call, keras_layer, per_framework,
                     recorded_for)

Structure = Literal["inputs", "recurrent", "between_layers", "none"]
#: What a recorded behaviour may name after ``structure=`` ("other": measured, matching no known structure).
STRUCTURES = ("inputs", "recurrent", "between_layers", "none", "other")


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

    def check_frameworks(self, frameworks: list[str]) -> None:
        covers(self, "names", frameworks)
        covers(self, "recorded", frameworks, families=False)


def _layer(x, cell, h, c, in_scale=None, rec_scale=None):
    """One float64 LSTM layer over time-major x (one unit), with per-step, per-gate scales (time, 4) on the
    input and on h_{t-1}."""
    sig, tanh = ACTIVATIONS["sigmoid"], np.tanh
    ones = np.ones((x.shape[0], 4))
    in_scale = ones if in_scale is None else in_scale
    rec_scale = ones if rec_scale is None else rec_scale
    outs = []
    for t in range(x.shape[0]):
        z = (x[t] * in_scale[t]) * cell.w_ih[:, 0] + (h * rec_scale[t]) * cell.w_hh[:, 0] + cell.b_ih + cell.b_hh
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sig(f) * c + sig(i) * tanh(g)
        h = sig(o) * tanh(c)
        outs.append(h)
    return np.stack(outs)


def _candidates(structure: str, w, x, h0, steps: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Every kept/dropped pattern the structure allows, and the output under it.

    Returns (kept, outputs): kept is (patterns, draws) booleans, outputs (patterns, time). Inputs and
    between-layer dropout: one value per step for all gates (2**steps patterns; a mask shared over time
    shows as constant patterns). Recurrent dropout: one value per gate, shared over time (16 patterns).
    """
    keep = 1.0 / (1.0 - p)
    zeros = np.zeros((1, 1))
    if structure == "recurrent":
        kept = np.array(list(itertools.product((False, True), repeat=4)))
        outs = [_layer(x, w[0, 0], h0, zeros, rec_scale=np.tile(np.where(k, keep, 0.0), (steps, 1)))[:, 0, 0]
                for k in kept]
        return kept, np.stack(outs)
    kept = np.array(list(itertools.product((False, True), repeat=steps)))
    outs = []
    for k in kept:
        scale = np.repeat(np.where(k, keep, 0.0)[:, None], 4, axis=1)
        if structure == "inputs":
            outs.append(_layer(x, w[0, 0], h0, zeros, in_scale=scale)[:, 0, 0])
        else:
            first = _layer(x, w[0, 0], zeros, zeros)
            outs.append(_layer(first * scale[:, :1, None], w[1, 0], zeros, zeros)[:, 0, 0])
    return kept, np.stack(outs)


def _plain(structure: str, w, x, h0) -> np.ndarray:
    """The no-dropout output (time,), what inference mode must give."""
    zeros = np.zeros((1, 1))
    if structure == "between_layers":
        return _layer(_layer(x, w[0, 0], zeros, zeros), w[1, 0], zeros, zeros)[:, 0, 0]
    return _layer(x, w[0, 0], h0, zeros)[:, 0, 0]


def _framework_run(fw, name, structure, spec, w, x_batch, h0_batch, p, training, seed):
    """The framework's output sequence, (batch, time, 1), in training or inference mode."""
    _seed_all(fw, seed)
    if fw in ("tfkeras", "keras2"):
        layer = keras_layer(fw, spec, w, return_sequences=True, **{name: p})
        state = None if structure != "recurrent" else [h0_batch.astype(np.float32), np.zeros_like(h0_batch, np.float32)]
        kwargs = {"training": training}
        if state is not None:
            kwargs["initial_state"] = state
        return keras_call(layer, x_batch, **kwargs)[0]
    adapter = get_adapter(fw)
    model = adapter.build(spec, w)
    model.dropout = p
    if fw == "mindspore":
        from mindspore import nn

        model.dropout_op = nn.Dropout(p=p)
    return adapter.run(model, spec, x_batch, training=training).output


def measure_structure(fw: str, name: str, structure: str, args: DropoutStatsArgs, m: Measurement, seed: int) -> str:
    layers = 2 if structure == "between_layers" else 1
    spec = LSTMSpec(input_size=1, hidden_size=1, num_layers=layers, batch_first=True)
    w = random_weights(spec, seed=seed, scale=1.5)  # large enough that a dropped value shows clearly
    rng = np.random.default_rng(seed)
    x_one = rng.uniform(0.5, 1.5, size=(args.steps, 1, 1)) * rng.choice([-1, 1], size=(args.steps, 1, 1))
    h0_one = np.full((1, 1), 0.8) if structure == "recurrent" else np.zeros((1, 1))
    kept_patterns, candidates = _candidates(structure, w, x_one, h0_one, args.steps, args.rate)
    x_batch = np.repeat(x_one.transpose(1, 0, 2), args.batch, axis=0)  # (batch, time, 1)
    h0_batch = np.repeat(h0_one, args.batch, axis=0)

    inference = _framework_run(fw, name, structure, spec, w, x_batch, h0_batch, args.rate, False, seed)[:, :, 0]
    m.compare("inference mode ignores dropout", inference,
              np.broadcast_to(_plain(structure, w, x_one, h0_one), inference.shape))
    out = _framework_run(fw, name, structure, spec, w, x_batch, h0_batch, args.rate, True, seed)[:, :, 0]
    err = np.abs(out[:, None, :] - candidates[None, :, :])  # (batch, patterns, time)
    ok = np.all(err <= m.tol * (1 + np.abs(candidates[None, :, :])), axis=2)
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
    m = Measurement(fw, tol=ctx.tolerance)
    name = per_framework(args.names, fw)
    recorded = recorded_for(args.recorded, fw)
    if name is None or name not in constructor_parameters(fw):
        measured = "structure=none"
        m.note(f"{fw} has no such parameter")
    else:
        structure = recorded.split()[0].split("=")[1]
        if structure == "other":
            structure = {"dropout": "inputs", "recurrent_dropout": "recurrent"}.get(name, "between_layers")
        measured = measure_structure(fw, name, structure, args, m, ctx.seed)
    m.note(f"measured: {measured}; the row's convention: {args.convention}")
    m.expect(measured == recorded, f"behaviour is now '{measured}', the case records '{recorded}'")
    if measured == "structure=none":
        return m.outcome(Verdict.NO_COUNTERPART)
    return m.outcome(Verdict.EQUIVALENT if measured == args.convention and m.ok else Verdict.DIVERGES)
