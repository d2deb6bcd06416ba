"""Accepted input forms: dtypes (and whether a dtype is computed in the precision its label says), unbatched
input, the container the initial states come in.

Each probe builds the layer a user holds (:meth:`Adapter.user_layer`, float32, batch-first, one layer) with the
case's small problem and calls it as a user does (:meth:`Adapter.call_user`). A refused input is one word,
``refused``, with the framework's message as the detail: refusing is never a trap; running silently on something
else is.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..checks import CheckContext
from ..checks.arguments import Args, Setup
from ..errors import ArgsError, one_line
from . import Finding, calls, register

#: Below this error against the float64 reference a result was computed in float64 (float32 rounding alone gives
#: ~1e-8 and more on these problems).
FLOAT64_ERROR = 1e-12


class DtypeArgs(Args):
    dtype: Literal["float16", "float64"]
    #: Give an initial state too, in the same dtype (some frameworks check the state's dtype and not x's).
    state: bool = False
    setup: Setup = Setup()


def refused(exc: BaseException) -> Finding:
    return Finding("refused", detail=f"{type(exc).__name__}: {one_line(exc, 200)}")


def user_problem(ctx: CheckContext, setup: Setup, state: bool = False, **fields):
    """The problem a probe calls the user's layer on (a cell: one step; see :mod:`.calls`) and that layer."""
    problem = calls.one_step(setup.problem(setup.spec(ctx.op, batch_first=True, **fields), ctx.seed, state=state))
    return problem, ctx.adapter.user_layer(problem.spec, problem.weights)


@register("input_dtype", "input_forms", DtypeArgs)
def input_dtype(args: DtypeArgs, ctx: CheckContext) -> Finding:
    """An input of another dtype than the layer's (float32): refused, cast, or run under its label in other precision"""
    adapter = ctx.adapter
    problem, layer = user_problem(ctx, args.setup, state=args.state)
    problem = problem.replace(x=problem.x.astype(args.dtype).astype(np.float64), initial_state=None if
                              problem.initial_state is None else tuple(s.astype(args.dtype).astype(np.float64)
                                                                       for s in problem.initial_state))
    # the values the user holds, in float32 (the layer's dtype), then in the probed dtype (states too if asked)
    single = adapter.call_user(layer, *calls.user_args(problem, x_as=lambda a: a.astype(np.float32),
                                                       state_as=lambda a: a.astype(np.float32)))[0]
    state_dtype = args.dtype if args.state else "float32"
    try:
        out = adapter.call_user(layer, *calls.user_args(
            problem, x_as=lambda a: adapter.tensor(a.astype(args.dtype), dtype=args.dtype),
            state_as=lambda a: adapter.tensor(a.astype(state_dtype), dtype=state_dtype)))[0]
    except Exception as exc:  # noqa: BLE001 - a refusal is the measurement
        return refused(exc)
    label = out.dtype.name
    reference = calls.user_output(problem)
    gap = float(np.abs(out.astype(np.float64) - single.astype(np.float64)).max())
    error = float(np.abs(out.astype(np.float64) - reference).max())
    if error <= FLOAT64_ERROR:
        computed = "float64"
    elif gap == 0.0:
        computed = "float32"  # bit for bit the float32 run on the same values
    elif error <= 1e-5:
        computed = "float32"
    else:
        computed = "float16"
    narrower = np.dtype(computed).itemsize < np.dtype(label).itemsize
    return Finding(f"accepted output={label} computed={computed}",
                   figure=gap if computed == "float32" else error,
                   figure_label=("max |result - the float32 run|" if computed == "float32"
                                 else "max |result - float64 reference|"),
                   trap=narrower,
                   detail=f"max error against the float64 reference {error:.3g}")


class UnbatchedArgs(Args):
    setup: Setup = Setup()


@register("unbatched_input", "input_forms", UnbatchedArgs)
def unbatched_input(args: UnbatchedArgs, ctx: CheckContext) -> Finding:
    """A single sequence without a batch axis, (time, features)"""
    # a cell: one step of one sample, (features,), and its state without the batch axis
    adapter = ctx.adapter
    problem, layer = user_problem(ctx, args.setup)
    one = problem.replace(x=problem.x[:1])  # the first sample as a batch of one (batch_first)
    batched = adapter.call_user(layer, *calls.user_args(one))[0][0]
    try:
        out = adapter.call_user(layer, *calls.user_args(one, unbatched=True))[0]
    except Exception as exc:  # noqa: BLE001
        return refused(exc)
    if out.shape != batched.shape:
        return Finding(f"accepted output_shape={tuple(out.shape)}", trap=True)
    gap = float(np.abs(out.astype(np.float64) - batched).max())
    return Finding("accepted as a batch of one", figure=gap, figure_label="max |unbatched - batch of one|",
                   trap=gap > 1e-5)


class StateContainerArgs(Args):
    container: Literal["list", "tuple"]
    setup: Setup = Setup()

    def check_case(self, frameworks: list[str], op: str) -> None:
        if calls.state_count(op) == 1:
            raise ArgsError("container", f"{op} carries one state, passed as the tensor itself: no container to "
                                         "probe")


@register("state_container", "input_forms", StateContainerArgs)
def state_container(args: StateContainerArgs, ctx: CheckContext) -> Finding:
    """The initial states passed in a list or a tuple"""
    adapter = ctx.adapter
    problem, layer = user_problem(ctx, args.setup, state=True)
    ref = calls.user_output(problem)
    container = list if args.container == "list" else tuple
    x, hx = calls.user_args(problem)
    try:
        out = adapter.call_user(layer, x, container(hx))[0]
    except Exception as exc:  # noqa: BLE001
        return refused(exc)
    gap = float(np.abs(out.astype(np.float64) - ref).max())
    ok = gap <= 1e-5
    return Finding("accepted" if ok else "accepted, result differs", figure=gap,
                   figure_label="max |result - float64 reference|", trap=not ok)
