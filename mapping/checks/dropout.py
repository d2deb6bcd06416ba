"""Dropout: which tensor each framework drops, measured, not read from the docs.

Fingerprint of a dropout parameter, from three training-mode runs with a high rate (0.5) and fixed seeds:

* ``inputs``: a one-layer LSTM's output changes even for a single time step from a zero state (the
  layer's input is dropped at every step: Keras ``dropout``);
* ``recurrent``: one step from a zero state is untouched but longer sequences change (the previous hidden
  state is dropped: Keras ``recurrent_dropout``);
* ``between_layers``: a one-layer LSTM is untouched; in two layers the first layer's final state is
  untouched and the second's changes (PyTorch and MindSpore ``dropout``);
* ``none``: the parameter does not exist.

Inference mode must ignore dropout entirely; that is checked too.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from ..adapters import get_adapter
from ..errors import ArgsError, show
from ..reference import reference_lstm
from ..verdicts import Verdict
from . import CheckContext, Measurement, Outcome, register
from .native import FAMILY, Args, Setup, constructor_parameters, covers, keras_call, keras_layer, per_framework

Fingerprint = Literal["inputs", "recurrent", "between_layers", "none"]


class DropoutArgs(Args):
    names: dict[str, str | None]  # framework -> its parameter for the page's row, None if absent
    behaviour: dict[str, Fingerprint]  # measured fingerprint per framework (recorded in the case)
    counterpart: dict[str, str]  # framework -> the framework on the other side of the page
    rate: float = Field(default=0.5, gt=0, lt=1)
    setup: Setup = Setup(batch=4, steps=4, hidden_size=8)

    def check_frameworks(self, frameworks: list[str]) -> None:
        covers(self, "names", frameworks)
        covers(self, "counterpart", frameworks, families=False)
        others = [self.counterpart[f] for f in frameworks]
        for framework, other in zip(frameworks, others):
            if other not in FAMILY:
                raise ArgsError(f"counterpart.{framework}", f"{show(other)} is not a framework; use one of "
                                                            f"{', '.join(FAMILY)}")
        covers(self, "behaviour", list(dict.fromkeys(frameworks + others)), families=False)


def _seed_all(fw: str, seed: int) -> None:
    if fw == "torch":
        import torch

        torch.manual_seed(seed)
    elif fw == "mindspore":
        import mindspore

        mindspore.set_seed(seed)
    else:
        get_adapter(fw).keras().utils.set_random_seed(seed)


def _run(fw: str, name: str, rate: float, setup: Setup, layers: int, steps: int, training: bool, seed: int):
    spec = setup.spec(batch_first=True, num_layers=layers)
    w = setup.problem(spec, seed)[0]
    x = setup.problem(spec.replace(), seed + 5)[1][:, :steps]
    _seed_all(fw, seed)
    if fw in ("tfkeras", "keras2"):
        if layers == 1:
            out = keras_call(keras_layer(fw, spec, w, return_sequences=True, return_state=True, **{name: rate}),
                             x, training=training)
            return out[0], np.stack([out[1]]), reference_lstm(spec, w, x)
        raise ValueError("Keras fingerprints use one layer")
    if fw == "torch":
        import torch

        model = get_adapter(fw).build(spec, w)
        model.dropout = rate
        result = get_adapter(fw).run(model, spec, x, training=training)
    else:
        from mindspore import nn

        model = get_adapter(fw).build(spec, w)
        model.dropout = rate
        model.dropout_op = nn.Dropout(p=rate)
        result = get_adapter(fw).run(model, spec, x, training=training)
    return result.output, result.h_n, reference_lstm(spec, w, x)


def fingerprint(fw: str, name: str | None, rate: float, setup: Setup, m: Measurement, seed: int) -> str:
    if name is None or name not in constructor_parameters(fw):
        return "none"
    one_step, _, ref1 = _run(fw, name, rate, setup, 1, 1, True, seed)
    many, _, refn = _run(fw, name, rate, setup, 1, setup.steps, True, seed)
    inference, _, _ = _run(fw, name, rate, setup, 1, setup.steps, False, seed)
    m.compare("inference mode ignores dropout", inference, refn.output)
    if m.differs("training, 1 layer, 1 step vs no dropout", one_step, ref1.output):
        return "inputs"
    if m.differs("training, 1 layer, many steps vs no dropout", many, refn.output):
        return "recurrent"
    if fw in ("tfkeras", "keras2"):
        return "none"
    out2, h2, ref2 = _run(fw, name, rate, setup, 2, setup.steps, True, seed)
    first_layer_same = not m.differs("training, 2 layers: first layer's final h", h2[0], ref2.h_n[0])
    second_changed = m.differs("training, 2 layers: output", out2, ref2.output)
    return "between_layers" if first_layer_same and second_changed else "none"


@register("dropout_structure", DropoutArgs)
def dropout_structure(args: DropoutArgs, ctx: CheckContext) -> Outcome:
    """Measure which tensor this framework's dropout parameter drops; the row holds when both sides drop the same."""
    fw = ctx.framework
    m = Measurement(fw, tol=ctx.tolerance)
    name = per_framework(args.names, fw)
    measured = fingerprint(fw, name, args.rate, args.setup, m, ctx.seed)
    recorded = args.behaviour[fw]
    other = args.counterpart[fw]
    m.note(f"{fw} {name or '(no parameter)'}: drops {measured}; {other} side recorded as {args.behaviour[other]}")
    m.expect(measured == recorded, f"{fw}'s {name} now drops {measured}, the case records {recorded}")
    same = measured == args.behaviour[other] and measured != "none"
    return m.outcome(Verdict.EQUIVALENT if same else Verdict.DIVERGES)
