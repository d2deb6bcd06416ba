"""Padding semantics: what each framework gives at padded steps and in the final states.

Scenarios (batch of 3, 5 steps, real lengths 5, 3 and 1 unless said otherwise):

* ``right``: real steps first, then padding: the layout every framework's length mechanism expects;
* ``left``: padding first, then the real steps: Keras's boolean mask can say so; PyTorch's packed
  sequences and MindSpore's ``seq_length`` can only say "the first n steps are real";
* ``equal``: every sample full length (the length mechanism must then change nothing);
* ``length_one``: one real step per sample.

Each framework is fed the way its users feed padded batches (Keras: ``mask``; PyTorch:
``pack_padded_sequence``; MindSpore: ``seq_length``) and its result is classified against the reference
run on each sample's real steps alone:

* real steps: ``match`` or ``differ``;
* padded output steps: ``zeros``, ``repeat_last`` (the last real output carried forward), ``computed``
  (the padding was run as data) or ``other``;
* final states: ``last_real`` (the state after each sample's last real step) or ``other``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..adapters import get_adapter
from ..reference import reference_lstm
from ..spec import LSTMSpec
from ..tolerances import forward_tolerance
from ..verdicts import Verdict
from ..weights import random_inputs, random_weights
from . import CheckContext, Measurement, Outcome, register
from .native import Args, covers

Scenario = Literal["right", "left", "equal", "length_one"]


class PaddingArgs(Args):
    scenario: Scenario
    bidirectional: bool = False
    recorded: dict[str, str]  # framework -> "real=... padded=... final=..." as measured

    def check_frameworks(self, frameworks: list[str]) -> None:
        covers(self, "recorded", frameworks, families=False)


LENGTHS = {"right": [5, 3, 1], "left": [5, 3, 1], "equal": [5, 5, 5], "length_one": [1, 1, 1]}
STEPS = 5


def _problem(bidirectional: bool):
    spec = LSTMSpec(input_size=3, hidden_size=4, bidirectional=bidirectional, batch_first=True)
    return spec, random_weights(spec, seed=3), random_inputs(spec, 3, STEPS, seed=4)


def _expected(spec, w, x, lengths, left: bool):
    """Per sample, the reference on the real steps only, placed where those steps sit in the batch."""
    out = np.zeros((len(lengths), STEPS, spec.num_directions * spec.hidden_size))
    real = np.zeros((len(lengths), STEPS), dtype=bool)
    h_n = np.zeros((spec.num_directions, len(lengths), spec.hidden_size))
    c_n = np.zeros_like(h_n)
    for b, n in enumerate(lengths):
        steps = slice(STEPS - n, STEPS) if left else slice(0, n)
        r = reference_lstm(spec, w, x[b : b + 1, steps])
        out[b, steps], real[b, steps] = r.output[0], True
        h_n[:, b], c_n[:, b] = r.h_n[:, 0], r.c_n[:, 0]
    return out, real, h_n, c_n


def _run(fw: str, spec, w, x, lengths, left: bool):
    adapter = get_adapter(fw)
    if fw in ("tfkeras", "keras2") and left:
        import tensorflow as tf

        model = adapter.build(spec, w)
        mask = tf.constant(np.arange(STEPS)[None, :] >= STEPS - np.array(lengths)[:, None])
        seq = tf.constant(x.astype(spec.dtype))
        outs = model.layers[0](seq, mask=mask)
        states = [np.asarray(s) for s in outs[1:]]
        h = np.stack(states[0::2])
        c = np.stack(states[1::2])
        return np.asarray(outs[0]), h, c
    # PyTorch and MindSpore can only say "the first n steps are real": a user with left-padded data
    # passes the real counts, which is what this measures.
    r = adapter.forward(spec, w, x, lengths=np.array(lengths))
    return r.output, r.h_n, r.c_n


def classify(out, h, c, expected, real, h_ref, c_ref, full_ref, tol) -> dict[str, str]:
    def close(a, b):
        return bool(np.all(np.abs(a - b) <= tol * (1 + np.abs(b))))

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
    classes["final"] = "last_real" if close(h, h_ref) and close(c, c_ref) else "other"
    return classes


def describe(classes: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in classes.items())


@register("padding_semantics", PaddingArgs)
def padding_semantics(args: PaddingArgs, ctx: CheckContext) -> Outcome:
    """Classify what this framework outputs at padded steps and keeps as final state, against the reference."""
    fw = ctx.framework
    m = Measurement(fw, tol=ctx.tolerance)
    spec, w, x = _problem(args.bidirectional)
    lengths = LENGTHS[args.scenario]
    left = args.scenario == "left"
    if left:  # move each sample's real steps to the end, padding (zeros) first
        x = np.stack([np.concatenate([np.zeros((STEPS - n, 3)), x[b, :n]]) for b, n in enumerate(lengths)])
    else:
        x = np.stack([np.concatenate([x[b, :n], np.zeros((STEPS - n, 3))]) for b, n in enumerate(lengths)])
    expected, real, h_ref, c_ref = _expected(spec, w, x, lengths, left)
    out, h, c = _run(fw, spec, w, x, lengths, left)
    tol = ctx.tolerance or forward_tolerance(fw, spec.dtype, padded=True)
    classes = classify(out, h, c, expected, real, h_ref, c_ref, reference_lstm(spec, w, x).output, tol)
    m.compare("real steps", np.where(real[..., None], out, 0), np.where(real[..., None], expected, 0))
    measured = describe(classes)
    m.note(f"{args.scenario} padding, {'bidirectional' if args.bidirectional else 'one direction'}, "
           f"lengths {lengths}: {measured}")
    m.expect(measured == args.recorded[fw], f"behaviour is now '{measured}', the case records '{args.recorded[fw]}'")
    if classes["real"] != "match" or classes["final"] != "last_real":
        return m.outcome(Verdict.NO_COUNTERPART)
    if classes["padded"] in ("zeros", "none"):
        return m.outcome(Verdict.EQUIVALENT)
    return m.outcome(Verdict.DIVERGES)
