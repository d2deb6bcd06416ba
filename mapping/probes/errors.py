"""Error behaviour: which wrong inputs are refused, which run silently, and what a silent run returns.

Each probe calls the layer a user holds (:meth:`Adapter.user_layer`) with one thing wrong. ``refused`` keeps the
framework's message as the detail; a silent run is a trap.
"""

from __future__ import annotations

import numpy as np

from ..checks import CheckContext
from ..checks.arguments import Args, Setup
from ..errors import ArgsError, one_line
from ..spec import split_api
from . import Finding, calls, register


class WrongArgs(Args):
    setup: Setup = Setup()


def _call(ctx: CheckContext, layer, x, hx=None) -> Finding | list[np.ndarray]:
    try:
        return ctx.adapter.call_user(layer, x, hx)
    except Exception as exc:  # noqa: BLE001 - refusing is the measurement
        return Finding("refused", detail=f"{type(exc).__name__}: {one_line(exc, 200)}")


def _silent(results: list[np.ndarray]) -> Finding:
    return Finding("runs silently", trap=True, detail="returns shapes " + ", ".join(str(tuple(r.shape))
                                                                                      for r in results))


@register("wrong_input_features", "errors", WrongArgs)
def wrong_input_features(args: WrongArgs, ctx: CheckContext) -> Finding:
    """An input with one feature more than input_size"""
    problem = calls.one_step(args.setup.problem(args.setup.spec(ctx.op, batch_first=True), ctx.seed))
    layer = ctx.adapter.user_layer(problem.spec, problem.weights)
    x, hx = calls.user_args(problem)
    ctx.adapter.call_user(layer, x, hx)  # a Keras layer is built by its first call
    found = _call(ctx, layer, np.concatenate([x, x[..., :1]], axis=-1), hx)
    return found if isinstance(found, Finding) else _silent(found)


@register("state_batch_mismatch", "errors", WrongArgs)
def state_batch_mismatch(args: WrongArgs, ctx: CheckContext) -> Finding:
    """Initial states for one sample more than the input has"""
    problem = calls.one_step(args.setup.problem(args.setup.spec(ctx.op, batch_first=True), ctx.seed, state=True))
    layer = ctx.adapter.user_layer(problem.spec, problem.weights)
    found = _call(ctx, layer, *calls.user_args(problem, tuple(np.concatenate([s, s[:, :1]], axis=1)
                                                              for s in problem.initial_state)))
    return found if isinstance(found, Finding) else _silent(found)


class DirectionsArgs(Args):
    setup: Setup = Setup()

    def check_case(self, frameworks: list[str], op: str) -> None:
        if split_api(op)[1] == "cell":
            raise ArgsError("probe", f"{op} is one direction: it has no bidirectional form to probe")


@register("state_directions_mismatch", "errors", DirectionsArgs)
def state_directions_mismatch(args: DirectionsArgs, ctx: CheckContext) -> Finding:
    """A bidirectional layer given the states of one direction, (1, batch, hidden)"""
    problem = args.setup.problem(args.setup.spec(ctx.op, batch_first=True, bidirectional=True), ctx.seed,
                                 state=True)
    layer = ctx.adapter.user_layer(problem.spec, problem.weights)
    found = _call(ctx, layer, *calls.user_args(problem, tuple(s[:1] for s in problem.initial_state)))
    return found if isinstance(found, Finding) else _silent(found)
