"""Recipe equivalence: the workaround a user writes on the side that lacks a parameter gives the same numbers.

Each recipe is measured on one framework against the reference: on the side that has the parameter,
the parameter itself; on the other side, the recipe. Both matching the reference is what makes the two
sides agree. Which side a framework is on is read from its own signature (does its constructor take
``return_sequences``?), never from its name.
"""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np

from .. import ops
from ..errors import SpecError
from ..verdicts import Verdict
from . import CheckContext, Measurement, Outcome, register
from .arguments import Args, Setup

RecipeName = Literal[
    "last_step", "final_state", "go_backwards", "stateful", "time_major", "mask", "stacked_layers",
    "bidirectional", "initial_state", "unroll", "training_flag", "input_size", "output_shapes",
]


class RecipeArgs(Args):
    recipe: RecipeName
    setup: Setup = Setup()


RECIPES: dict[str, Callable[[CheckContext, Setup, Measurement], Verdict | None]] = {}


def recipe(name: str):
    def wrap(fn):
        RECIPES[name] = fn
        return fn

    return wrap


@register("recipe", RecipeArgs)
def recipe_check(args: RecipeArgs, ctx: CheckContext) -> Outcome:
    """The parameter on one side and the user's workaround on the other both reproduce the reference."""
    m = ctx.measurement()
    verdict = RECIPES[args.recipe](ctx, args.setup, m)
    if verdict is None:
        verdict = Verdict.EQUIVALENT_WITH_RECIPE if m.ok else Verdict.DIVERGES
    return m.outcome(verdict)


def _has(ctx: CheckContext, parameter: str) -> bool:
    """Whether the framework's constructor takes ``parameter`` (the side of the row it is on)."""
    return parameter in ctx.adapter.constructor_parameters(ctx.op)


@recipe("last_step")
def _last_step(ctx, setup, m):
    problem = setup.problem(setup.spec(ctx.op, batch_first=True), ctx.seed)
    spec, w, x = problem.spec, problem.weights, problem.x
    ref = problem.reference()
    adapter = ctx.adapter
    if _has(ctx, "return_sequences"):
        m.compare("return_sequences=False",
                  adapter.call_native(adapter.native_layer(spec, w, return_sequences=False), x)[0], ref.output[:, -1])
        m.compare("return_sequences=True",
                  adapter.call_native(adapter.native_layer(spec, w, return_sequences=True), x)[0], ref.output)
    else:
        out = adapter.forward(problem).output
        m.compare("full output (default)", out, ref.output)
        m.compare("recipe output[:, -1]", out[:, -1], ref.output[:, -1])


@recipe("final_state")
def _final_state(ctx, setup, m):
    problem = setup.problem(setup.spec(ctx.op, batch_first=True), ctx.seed)
    spec, w, x = problem.spec, problem.weights, problem.x
    ref = problem.reference()
    states = ops.of(spec).states
    adapter = ctx.adapter
    if _has(ctx, "return_state"):
        out, *finals = adapter.call_native(adapter.native_layer(spec, w, return_state=True), x)
        for name, final in zip(states, finals):
            m.compare(f"return_state=True {name}", final, ref.states[f"{name}_n"][0])
        m.note(f"Keras state shape {finals[0].shape}")
    else:
        r = adapter.forward(problem)
        m.note(f"native state shape {r.h_n.shape}; recipe squeezes axis 0")
        for name in states:
            m.compare(f"recipe {name}_n.squeeze(0)", r.states[f"{name}_n"].squeeze(0), ref.states[f"{name}_n"][0])


@recipe("go_backwards")
def _go_backwards(ctx, setup, m):
    problem = setup.problem(setup.spec(ctx.op, batch_first=True), ctx.seed)
    spec, w, x = problem.spec, problem.weights, problem.x
    backwards = problem.replace(spec=spec.replace(go_backwards=True))
    ref = backwards.reference()
    adapter = ctx.adapter
    if _has(ctx, "go_backwards"):
        out, *finals = adapter.call_native(adapter.native_layer(spec, w, go_backwards=True, return_sequences=True,
                                                                return_state=True), x)
        m.compare("go_backwards=True output", out, ref.output)
        for name, final in zip(ops.of(spec).states, finals):
            m.compare(f"go_backwards=True {name}", final, ref.states[f"{name}_n"][0])
    else:
        r = adapter.forward(problem.replace(x=np.ascontiguousarray(x[:, ::-1])))
        m.compare("recipe: flip the time axis of the input", r, ref, problem=backwards)
        m.note("outputs come back in processing order, as Keras returns them")


@recipe("stateful")
def _stateful(ctx, setup, m):
    first_problem = setup.problem(setup.spec(ctx.op, batch_first=True), ctx.seed)
    spec, w, x1 = first_problem.spec, first_problem.weights, first_problem.x
    x2 = setup.problem(spec, ctx.seed + 7).x
    first = first_problem.reference()
    second_problem = first_problem.replace(x=x2, initial_state=tuple(first.states.values()))
    second = second_problem.reference()
    adapter = ctx.adapter
    if _has(ctx, "stateful"):
        layer = adapter.native_layer(spec, w, batch=setup.batch, stateful=True, return_sequences=True)
        adapter.call_native(layer, x1)
        m.compare("stateful=True, second batch", adapter.call_native(layer, x2)[0], second.output)
        layer.reset_states()
        m.compare("after reset_states()", adapter.call_native(layer, x2)[0],
                  first_problem.replace(x=x2).reference().output)
    else:
        model = adapter.build(spec, w)
        r1 = adapter.run(model, first_problem)
        r2 = adapter.run(model, first_problem.replace(x=x2, initial_state=tuple(r1.states.values())))
        m.compare("recipe: pass the previous final state as hx", r2, second, problem=second_problem)


@recipe("time_major")
def _time_major(ctx, setup, m):
    problem = setup.problem(setup.spec(ctx.op, batch_first=False), ctx.seed)
    spec, w, x = problem.spec, problem.weights, problem.x
    ref = problem.reference()
    adapter = ctx.adapter
    if _has(ctx, "batch_first"):
        m.compare("batch_first=False", adapter.forward(problem), ref, problem=problem)
        return None
    if not _has(ctx, "time_major"):
        m.note("this Keras has no time_major parameter (Keras 3 removed it); transpose the input instead")
        return Verdict.NOT_APPLICABLE
    out = adapter.call_native(adapter.native_layer(spec, w, time_major=True, return_sequences=True), x)[0]
    m.compare("time_major=True", out, ref.output)
    return Verdict.EQUIVALENT_WITH_RECIPE if m.ok else Verdict.DIVERGES


def _lengths(setup: Setup) -> np.ndarray:
    lengths = np.full(setup.batch, setup.steps)
    lengths[1::2] = max(1, setup.steps // 2)
    return lengths


@recipe("mask")
def _mask(ctx, setup, m):
    problem = setup.problem(setup.spec(ctx.op, batch_first=True), ctx.seed).replace(lengths=_lengths(setup))
    how = ctx.adapter.length_mechanism
    result = ctx.adapter.forward(problem)
    real = problem.output_mask()
    m.compare(f"{how}: real steps and final states", result, problem.reference(), select=real, problem=problem)
    padded = result.output[~np.broadcast_to(real, result.output.shape)]
    lengths = problem.lengths
    m.note(f"{how}: padded output steps hold {'zeros' if np.all(padded == 0) else 'non-zero values'} "
           f"(max |value| {float(np.abs(padded).max()) if padded.size else 0.0:.3g}) for lengths {lengths.tolist()}")
    # The same in the other layout (time-major) with a backward direction, on a square batch (batch == steps):
    # lengths applied along the wrong axis (a mask not transposed for Keras 2's time_major) then give wrong
    # numbers instead of a shape error, and the backward direction must start at each sample's last real step.
    square = Setup(**{**setup.model_dump(), "batch": setup.steps})
    problem_tm = square.problem(square.spec(ctx.op, batch_first=False, bidirectional=True), ctx.seed)
    problem_tm = problem_tm.replace(lengths=_lengths(square))
    m.compare(f"{how}, time-major, bidirectional: real steps and final states", ctx.adapter.forward(problem_tm),
              problem_tm.reference(), select=problem_tm.output_mask(), problem=problem_tm)


@recipe("stacked_layers")
def _stacked(ctx, setup, m):
    problem = setup.problem(setup.spec(ctx.op, num_layers=3), ctx.seed)
    m.compare("3 layers", ctx.adapter.forward(problem), problem.reference(), problem=problem)


@recipe("bidirectional")
def _bidirectional(ctx, setup, m):
    problem = setup.problem(setup.spec(ctx.op, bidirectional=True), ctx.seed)
    m.compare("bidirectional", ctx.adapter.forward(problem), problem.reference(), problem=problem)


@recipe("initial_state")
def _initial_state(ctx, setup, m):
    problem = setup.problem(setup.spec(ctx.op, batch_first=True), ctx.seed, state=True)
    spec, w, x, state = problem.spec, problem.weights, problem.x, problem.initial_state
    ref = problem.reference()
    adapter = ctx.adapter
    states = ops.of(spec).states
    if "initial_state" in adapter.call_parameters(ctx.op):
        layer = adapter.native_layer(spec, w, return_sequences=True, return_state=True)
        out, *finals = adapter.call_native(layer, x, initial_state=[s[0].astype(spec.dtype) for s in state])
        m.compare(f"initial_state=[{', '.join(states)}] output", out, ref.output)
        for name, final in zip(states, finals):
            m.compare(f"initial_state=[{', '.join(states)}] {name}", final, ref.states[f"{name}_n"][0])
        m.note(f"Keras takes each state as (batch, units): {state[0][0].shape}")
    else:
        m.compare(f"hx=({', '.join(f'{s}0' for s in states)})", adapter.forward(problem), ref, problem=problem)
        m.note(f"states go in as (num_layers * num_directions, batch, hidden): {state[0].shape}")


@recipe("unroll")
def _unroll(ctx, setup, m):
    problem = setup.problem(setup.spec(ctx.op, batch_first=True), ctx.seed)
    spec, w, x = problem.spec, problem.weights, problem.x
    ref = problem.reference()
    adapter = ctx.adapter
    if _has(ctx, "unroll"):
        for unroll in (False, True):
            out = adapter.call_native(adapter.native_layer(spec, w, unroll=unroll, return_sequences=True), x)[0]
            m.compare(f"unroll={unroll}", out, ref.output)
    else:
        m.compare("no unroll option; plain call", adapter.forward(problem), ref, problem=problem)


@recipe("training_flag")
def _training_flag(ctx, setup, m):
    problem = setup.problem(setup.spec(ctx.op, batch_first=True), ctx.seed)
    ref = problem.reference()
    adapter = ctx.adapter
    model = adapter.build(problem.spec, problem.weights)
    for training in (False, True):
        m.compare(f"{adapter.mode_text(training)}, no dropout", adapter.run(model, problem, training=training), ref,
                  problem=problem)


@recipe("input_size")
def _input_size(ctx, setup, m):
    problem = setup.problem(setup.spec(ctx.op, batch_first=True), ctx.seed)
    spec, x = problem.spec, problem.x
    ref = problem.reference()
    adapter = ctx.adapter
    if not _has(ctx, "input_size"):
        layer = adapter.native_layer(spec, infer_input=True)
        adapter.call_native(layer, x)
        kernel = adapter.native_weights(layer)[0]
        m.note(f"kernel shape after the first call: {kernel.shape} (inferred from the input's last axis)")
        rows = len(ops.of(spec).gates) * spec.hidden_size
        m.expect(kernel.shape == (spec.input_size, rows), "Keras did not infer the input size")
        m.compare("with weights set", adapter.forward(problem), ref, problem=problem)
        return None
    model = adapter.build(spec, problem.weights)
    m.compare(f"input_size={spec.input_size}", adapter.run(model, problem), ref, problem=problem)
    wrong = np.concatenate([x, x[..., :1]], axis=-1)
    try:
        adapter.run(model, problem.replace(x=wrong))
        m.expect(False, "an input with the wrong feature count was accepted")
    except SpecError as exc:
        m.note(f"a {wrong.shape[-1]}-feature input is refused: {exc.problem}")
    return None


@recipe("output_shapes")
def _output_shapes(ctx, setup, m):
    adapter = ctx.adapter
    states = ops.of(setup.spec(ctx.op)).states
    if _has(ctx, "return_state"):
        problem = setup.problem(setup.spec(ctx.op, batch_first=True), ctx.seed)
        spec = problem.spec
        ref = problem.reference()
        out, *finals = adapter.call_native(
            adapter.native_layer(spec, problem.weights, return_sequences=True, return_state=True), problem.x)
        expect = {"output": (setup.batch, setup.steps, spec.hidden_size),
                  **{s: (setup.batch, spec.hidden_size) for s in states}}
        got = {"output": out.shape, **{s: f.shape for s, f in zip(states, finals)}}
        m.compare("output", out, ref.output)
        for name, final in zip(states, finals):
            m.compare(name, final, ref.states[f"{name}_n"][0])
    else:
        problem = setup.problem(setup.spec(ctx.op, batch_first=False, bidirectional=True, num_layers=2), ctx.seed)
        spec = problem.spec
        r = adapter.forward(problem)
        n = spec.num_directions
        expect = {"output": (setup.steps, setup.batch, n * spec.hidden_size),
                  **{s: (n * spec.num_layers, setup.batch, spec.hidden_size) for s in states}}
        got = {"output": r.output.shape, **{s: r.states[f"{s}_n"].shape for s in states}}
        m.compare("bidirectional 2-layer, default layout", r, problem.reference(), problem=problem)
    m.note("shapes: " + ", ".join(f"{k} {tuple(v)}" for k, v in got.items()))
    for key in expect:
        m.expect(tuple(got[key]) == expect[key], f"{key} has shape {tuple(got[key])}, the page states {expect[key]}")
