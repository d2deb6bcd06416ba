"""Padding semantics: what each framework gives at padded steps and in the final states.

Scenarios (batch of 3, 5 steps, real lengths 5, 3 and 1 unless said otherwise):

* ``right``: real steps first, then padding: the layout every framework's length mechanism expects;
* ``left``: padding first, then the real steps: Keras's boolean mask can say so; PyTorch's packed
  sequences and MindSpore's ``seq_length`` can only say "the first n steps are real";
* ``equal``: every sample full length (the length mechanism must then change nothing);
* ``length_one``: one real step per sample.

Each framework is fed the way its users feed padded batches (its adapter's length mechanism: Keras
``mask``, PyTorch ``pack_padded_sequence``, MindSpore ``seq_length``) and its result is classified against
the reference run on each sample's real steps alone:

* real steps: ``match`` or ``differ``;
* padded output steps: ``zeros`` (exactly zero), ``repeat_last`` (the last real output carried forward),
  ``computed`` (the padding was run as data) or ``other``;
* final states: ``last_real`` (the state after each sample's last real step) or ``other``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .. import ops
from ..compare import within_tolerance
from ..errors import Unsupported
from ..problem import Problem
from ..tolerances import forward_tolerance
from ..verdicts import Verdict
from ..weights import random_inputs, random_weights
from . import CheckContext, Measurement, Outcome, register
from .arguments import Args, covers

Scenario = Literal["right", "left", "equal", "length_one"]


class PaddingArgs(Args):
    scenario: Scenario
    bidirectional: bool = False
    recorded: dict[str, str]  # framework -> "real=... padded=... final=..." as measured

    def check_case(self, names: list[str], op: str) -> None:
        covers(self, "recorded", names, families=False)


LENGTHS = {"right": [5, 3, 1], "left": [5, 3, 1], "equal": [5, 5, 5], "length_one": [1, 1, 1]}
STEPS = 5


def _problem(op: str, bidirectional: bool) -> Problem:
    from ..spec import LayerSpec

    spec = LayerSpec.parse({"input_size": 3, "hidden_size": 4, "bidirectional": bidirectional, "batch_first": True},
                           op=op)
    return Problem(spec, random_weights(spec, seed=3), random_inputs(spec, 3, STEPS, seed=4))


def _expected(problem: Problem, lengths, left: bool):
    """Per sample, the reference on the real steps only, placed where those steps sit in the batch."""
    spec, x = problem.spec, problem.x
    out = np.zeros((len(lengths), STEPS, spec.num_directions * spec.output_size))
    real = np.zeros((len(lengths), STEPS), dtype=bool)
    finals = {name: np.zeros((spec.num_directions, len(lengths), size))
              for name, size in zip(ops.of(spec).final_names, spec.state_sizes().values())}
    for b, n in enumerate(lengths):
        steps = slice(STEPS - n, STEPS) if left else slice(0, n)
        r = problem.replace(x=x[b : b + 1, steps]).reference()
        out[b, steps], real[b, steps] = r.output[0], True
        for name in finals:
            finals[name][:, b] = r.states[name][:, 0]
    return out, real, finals


def _run(ctx: CheckContext, problem: Problem, lengths, left: bool):
    adapter = ctx.adapter
    if left:
        mask = np.arange(STEPS)[None, :] >= STEPS - np.array(lengths)[:, None]
        try:
            return adapter.run_masked(adapter.build(problem.spec, problem.weights), problem, mask)
        except Unsupported:
            pass
    # A length per sample can only say "the first n steps are real": a user with left-padded data passes the
    # real counts, which is what this measures.
    return adapter.forward(problem.replace(lengths=np.array(lengths)))


def classify(out, finals: dict, expected, real, expected_finals: dict, full_ref, tol) -> dict[str, str]:
    def close(a, b):
        return bool(np.all(within_tolerance(a, b, tol)))

    padded = ~real
    classes = {"real": "match" if close(out[real], expected[real]) else "differ"}
    if not padded.any():
        classes["padded"] = "none"
    elif np.all(out[padded] == 0):
        classes["padded"] = "zeros"
    elif close(out[padded], full_ref[padded]):
        classes["padded"] = "computed"
    else:
        carried = np.empty_like(out)
        for b in range(out.shape[0]):
            last = np.zeros(out.shape[-1])
            for t in range(out.shape[1]):
                last = out[b, t] if real[b, t] else last
                carried[b, t] = last
        classes["padded"] = "repeat_last" if close(out[padded], carried[padded]) else "other"
    classes["final"] = "last_real" if all(close(finals[k], expected_finals[k]) for k in expected_finals) else "other"
    return classes


def describe(classes: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in classes.items())


@register("padding_semantics", PaddingArgs)
def padding_semantics(args: PaddingArgs, ctx: CheckContext) -> Outcome:
    """Classify what this framework outputs at padded steps and keeps as final state, against the reference."""
    fw = ctx.framework
    problem = _problem(ctx.op, args.bidirectional)
    x = problem.x
    lengths = LENGTHS[args.scenario]
    left = args.scenario == "left"
    if left:  # move each sample's real steps to the end, padding (zeros) first
        x = np.stack([np.concatenate([np.zeros((STEPS - n, 3)), x[b, :n]]) for b, n in enumerate(lengths)])
    else:
        x = np.stack([np.concatenate([x[b, :n], np.zeros((STEPS - n, 3))]) for b, n in enumerate(lengths)])
    problem = problem.replace(x=x)
    expected, real, expected_finals = _expected(problem, lengths, left)
    result = _run(ctx, problem, lengths, left)
    tol = ctx.tolerance or forward_tolerance(fw, problem.spec.dtype, padded=True, op=ctx.op)
    m = Measurement(fw, problem.spec.dtype, tol=tol, op=ctx.op)  # the tolerance the classification applies
    classes = classify(result.output, result.states, expected, real, expected_finals, problem.reference().output,
                       tol)
    out = result.output
    m.compare("real steps", np.where(real[..., None], out, 0), np.where(real[..., None], expected, 0),
              decide=classes["real"] != "match", against="the reference run on each sample's real steps")
    if classes["real"] == "match" and classes["final"] == "last_real":
        padded = out[~real]
        m.decide("padded output steps: largest |value|", float(np.abs(padded).max()) if padded.size else 0.0,
                 compared_with="zeros (what a length mechanism that skips padding outputs)", threshold=0.0,
                 test="zeros when every padded value is exactly 0", holds=classes["padded"] in ("zeros", "none"))
    measured = describe(classes)
    m.note(f"{args.scenario} padding, {'bidirectional' if args.bidirectional else 'one direction'}, "
           f"lengths {lengths}: {measured}")
    m.expect(measured == args.recorded[fw], f"behaviour is now '{measured}', the case records '{args.recorded[fw]}'")
    if classes["real"] != "match" or classes["final"] != "last_real":
        return m.outcome(Verdict.NO_COUNTERPART)
    if classes["padded"] in ("zeros", "none"):
        return m.outcome(Verdict.EQUIVALENT)
    return m.outcome(Verdict.DIVERGES)
