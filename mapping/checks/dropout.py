"""Dropout: which tensor each framework drops, measured, not read from the docs.

Fingerprint of a dropout parameter, from three training-mode runs with a high rate (0.5) and fixed seeds:

* ``inputs``: a one-layer LSTM's output changes even for a single time step from a zero state (the
  layer's input is dropped at every step: Keras ``dropout``);
* ``recurrent``: one step from a zero state is untouched but longer sequences change (the previous hidden
  state is dropped: Keras ``recurrent_dropout``);
* ``between_layers``: a one-layer LSTM is untouched; in two layers the first layer's final state is
  untouched and the second's changes (PyTorch and MindSpore ``dropout``);
* ``none``: the parameter does not exist.

Inference mode must ignore dropout entirely; that is checked too (on two layers where dropout acts between
layers, since one layer would show nothing), and a difference is recorded as a problem, which fails the case.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .. import frameworks
from ..errors import ArgsError, show
from ..verdicts import Verdict
from . import CheckContext, Measurement, Outcome, register
from .arguments import Args, Setup, covers, per_framework

Fingerprint = Literal["inputs", "recurrent", "between_layers", "none"]


class DropoutArgs(Args):
    names: dict[str, str | None]  # framework -> its parameter for the page's row, None if absent
    behaviour: dict[str, Fingerprint]  # measured fingerprint per framework (recorded in the case)
    counterpart: dict[str, str]  # framework -> the framework on the other side of the page
    rate: float = Field(default=0.5, gt=0, lt=1)
    setup: Setup = Setup(batch=4, steps=4, hidden_size=8)

    def check_case(self, names: list[str], op: str) -> None:
        covers(self, "names", names)
        covers(self, "counterpart", names, families=False)
        others = [self.counterpart[f] for f in names]
        for framework, other in zip(names, others):
            if other not in frameworks.FRAMEWORKS:
                raise ArgsError(f"counterpart.{framework}", f"{show(other)} is not a framework; use one of "
                                                            f"{', '.join(frameworks.NAMES)}")
        covers(self, "behaviour", list(dict.fromkeys(names + others)), families=False)


def _run(ctx: CheckContext, name: str, rate: float, setup: Setup, layers: int, steps: int, training: bool):
    """Output, final h and the no-dropout reference of a layer built with the parameter ``name`` at ``rate``."""
    adapter = ctx.adapter
    spec = setup.spec(ctx.op, batch_first=True, num_layers=layers)
    problem = setup.problem(spec, ctx.seed).replace(x=setup.problem(spec, ctx.seed + 5).x[:, :steps])
    field = adapter.field_for(ctx.op, name)
    if layers > 1 and field != "layer_dropout":
        raise ValueError("fingerprints of per-layer dropout use one layer")
    adapter.seed(ctx.seed)
    model = adapter.build(spec.replace(**{field: rate}), problem.weights)
    result = adapter.run(model, problem, training=training)
    return result.output, result.h_n, problem.reference()


def fingerprint(ctx: CheckContext, name: str | None, rate: float, setup: Setup, m: Measurement) -> str:
    if name is None or name not in ctx.adapter.constructor_parameters(ctx.op):
        return "none"
    one_step, _, ref1 = _run(ctx, name, rate, setup, 1, 1, True)
    many, _, refn = _run(ctx, name, rate, setup, 1, setup.steps, True)
    # Inference mode must ignore dropout. Between-layer dropout has no effect on one layer, so a parameter
    # that maps to it is checked on two layers too, where training mode would drop.
    inference, _, _ = _run(ctx, name, rate, setup, 1, setup.steps, False)
    ignored = m.compare("inference mode ignores dropout", inference, refn.output)
    if ctx.adapter.field_for(ctx.op, name) == "layer_dropout":
        inference2, _, ref2 = _run(ctx, name, rate, setup, 2, setup.steps, False)
        ignored = m.compare("inference mode ignores dropout (2 layers)", inference2, ref2.output) and ignored
    m.expect(ignored, f"{ctx.framework}'s {name} acts in inference mode")
    if m.differs("training, 1 layer, 1 step vs no dropout", one_step, ref1.output):
        return "inputs"
    if m.differs("training, 1 layer, many steps vs no dropout", many, refn.output):
        return "recurrent"
    if ctx.adapter.field_for(ctx.op, name) != "layer_dropout":
        return "none"
    out2, h2, ref2 = _run(ctx, name, rate, setup, 2, setup.steps, True)
    first_layer_same = not m.differs("training, 2 layers: first layer's final h", h2[0], ref2.h_n[0])
    second_changed = m.differs("training, 2 layers: output", out2, ref2.output)
    return "between_layers" if first_layer_same and second_changed else "none"


@register("dropout_structure", DropoutArgs)
def dropout_structure(args: DropoutArgs, ctx: CheckContext) -> Outcome:
    """Measure which tensor this framework's dropout parameter drops; the row holds when both sides drop the same."""
    fw = ctx.framework
    m = ctx.measurement()
    name = per_framework(args.names, fw)
    measured = fingerprint(ctx, name, args.rate, args.setup, m)
    recorded = args.behaviour[fw]
    other = args.counterpart[fw]
    m.note(f"{fw} {name or '(no parameter)'}: drops {measured}; {other} side recorded as {args.behaviour[other]}")
    m.expect(measured == recorded, f"{fw}'s {name} now drops {measured}, the case records {recorded}")
    same = measured == args.behaviour[other] and measured != "none"
    return m.outcome(Verdict.EQUIVALENT if same else Verdict.DIVERGES)
