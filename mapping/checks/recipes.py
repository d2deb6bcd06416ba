"""Recipe equivalence: the workaround a user writes on the side that lacks a parameter gives the same numbers.

Each recipe is measured on one framework against the reference: on the side that has the parameter,
the parameter itself; on the other side, the recipe. Both matching the reference is what makes the two
sides agree.
"""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np

from ..adapters import get_adapter
from ..compare import output_valid_mask
from ..diagnose import Problem
from ..errors import SpecError
from ..reference import reference_lstm
from ..verdicts import Verdict
from . import CheckContext, Measurement, Outcome, register
from .native import Args, Setup, constructor_parameters, keras_call, keras_layer

RecipeName = Literal[
    "last_step", "final_state", "go_backwards", "stateful", "time_major", "mask", "stacked_layers",
    "bidirectional", "initial_state", "unroll", "training_flag", "input_size", "output_shapes",
]


class RecipeArgs(Args):
    recipe: RecipeName
    setup: Setup = Setup()


def _is_keras(fw: str) -> bool:
    return fw in ("tfkeras", "keras2")


RECIPES: dict[str, Callable[[str, Setup, Measurement, int], Verdict | None]] = {}


def recipe(name: str):
    def wrap(fn):
        RECIPES[name] = fn
        return fn

    return wrap


@register("recipe", RecipeArgs)
def recipe_check(args: RecipeArgs, ctx: CheckContext) -> Outcome:
    """The parameter on one side and the user's workaround on the other both reproduce the reference."""
    m = Measurement(ctx.framework, tol=ctx.tolerance)
    verdict = RECIPES[args.recipe](ctx.framework, args.setup, m, ctx.seed)
    if verdict is None:
        verdict = Verdict.EQUIVALENT_WITH_RECIPE if m.ok else Verdict.DIVERGES
    return m.outcome(verdict)


@recipe("last_step")
def _last_step(fw, setup, m, seed):
    spec = setup.spec(batch_first=True)
    w, x, _ = setup.problem(spec, seed)
    ref = reference_lstm(spec, w, x)
    if _is_keras(fw):
        m.compare("return_sequences=False", keras_call(keras_layer(fw, spec, w, return_sequences=False), x)[0],
                  ref.output[:, -1])
        m.compare("return_sequences=True", keras_call(keras_layer(fw, spec, w, return_sequences=True), x)[0],
                  ref.output)
    else:
        out = get_adapter(fw).forward(spec, w, x).output
        m.compare("full output (default)", out, ref.output)
        m.compare("recipe output[:, -1]", out[:, -1], ref.output[:, -1])


@recipe("final_state")
def _final_state(fw, setup, m, seed):
    spec = setup.spec(batch_first=True)
    w, x, _ = setup.problem(spec, seed)
    ref = reference_lstm(spec, w, x)
    if _is_keras(fw):
        out, h, c = keras_call(keras_layer(fw, spec, w, return_state=True), x)
        m.compare("return_state=True h", h, ref.h_n[0])
        m.compare("return_state=True c", c, ref.c_n[0])
        m.note(f"Keras state shape {h.shape}")
    else:
        r = get_adapter(fw).forward(spec, w, x)
        m.note(f"native state shape {r.h_n.shape}; recipe squeezes axis 0")
        m.compare("recipe h_n.squeeze(0)", r.h_n.squeeze(0), ref.h_n[0])
        m.compare("recipe c_n.squeeze(0)", r.c_n.squeeze(0), ref.c_n[0])


@recipe("go_backwards")
def _go_backwards(fw, setup, m, seed):
    spec = setup.spec(batch_first=True)
    w, x, _ = setup.problem(spec, seed)
    ref = reference_lstm(spec.replace(go_backwards=True), w, x)
    if _is_keras(fw):
        out, h, c = keras_call(keras_layer(fw, spec, w, go_backwards=True, return_sequences=True,
                                           return_state=True), x)
        m.compare("go_backwards=True output", out, ref.output)
        m.compare("go_backwards=True h", h, ref.h_n[0])
        m.compare("go_backwards=True c", c, ref.c_n[0])
    else:
        r = get_adapter(fw).forward(spec, w, np.ascontiguousarray(x[:, ::-1]))
        m.compare("recipe: flip the time axis of the input", r, ref,
                  problem=Problem(spec.replace(go_backwards=True), w, x))
        m.note("outputs come back in processing order, as Keras returns them")


@recipe("stateful")
def _stateful(fw, setup, m, seed):
    spec = setup.spec(batch_first=True)
    w, x1, _ = setup.problem(spec, seed)
    _, x2, _ = setup.problem(spec, seed + 7)
    first = reference_lstm(spec, w, x1)
    second = reference_lstm(spec, w, x2, (first.h_n, first.c_n))
    if _is_keras(fw):
        layer = keras_layer(fw, spec, w, batch=setup.batch, stateful=True, return_sequences=True)
        keras_call(layer, x1)
        m.compare("stateful=True, second batch", keras_call(layer, x2)[0], second.output)
        layer.reset_states()
        m.compare("after reset_states()", keras_call(layer, x2)[0], reference_lstm(spec, w, x2).output)
    else:
        adapter = get_adapter(fw)
        model = adapter.build(spec, w)
        r1 = adapter.run(model, spec, x1)
        r2 = adapter.run(model, spec, x2, (r1.h_n, r1.c_n))
        m.compare("recipe: pass the previous final state as hx", r2, second,
                  problem=Problem(spec, w, x2, (first.h_n, first.c_n)))


@recipe("time_major")
def _time_major(fw, setup, m, seed):
    spec = setup.spec(batch_first=False)
    w, x, _ = setup.problem(spec, seed)
    ref = reference_lstm(spec, w, x)
    if _is_keras(fw):
        if "time_major" not in constructor_parameters(fw):
            m.note("this Keras has no time_major parameter (Keras 3 removed it); transpose the input instead")
            return Verdict.NOT_APPLICABLE
        out = keras_call(keras_layer(fw, spec, w, time_major=True, return_sequences=True), x)[0]
        m.compare("time_major=True", out, ref.output)
        return Verdict.EQUIVALENT_WITH_RECIPE if m.ok else Verdict.DIVERGES
    m.compare("batch_first=False", get_adapter(fw).forward(spec, w, x), ref, problem=Problem(spec, w, x))


def _lengths(setup: Setup) -> np.ndarray:
    lengths = np.full(setup.batch, setup.steps)
    lengths[1::2] = max(1, setup.steps // 2)
    return lengths


@recipe("mask")
def _mask(fw, setup, m, seed):
    spec = setup.spec(batch_first=True)
    w, x, _ = setup.problem(spec, seed)
    lengths = _lengths(setup)
    ref = reference_lstm(spec, w, x, lengths=lengths)
    real = output_valid_mask(True, lengths, setup.batch, setup.steps)
    result = get_adapter(fw).forward(spec, w, x, lengths=lengths)
    how = {"tfkeras": "mask", "keras2": "mask", "mindspore": "seq_length", "torch": "pack_padded_sequence"}[fw]
    m.compare(f"{how}: real steps and final states", result, ref, select=real,
              problem=Problem(spec, w, x, None, lengths))
    padded = result.output[~np.broadcast_to(real, result.output.shape)]
    m.note(f"{how}: padded output steps hold {'zeros' if np.all(padded == 0) else 'non-zero values'} "
           f"(max |value| {float(np.abs(padded).max()) if padded.size else 0.0:.3g}) for lengths {lengths.tolist()}")
    # The same in the other layout (time-major) with a backward direction, on a square batch (batch == steps):
    # lengths applied along the wrong axis (a mask not transposed for Keras 2's time_major) then give wrong
    # numbers instead of a shape error, and the backward direction must start at each sample's last real step.
    square = Setup(**{**setup.model_dump(), "batch": setup.steps})
    spec_tm = square.spec(batch_first=False, bidirectional=True)
    w_tm, x_tm, _ = square.problem(spec_tm, seed)
    lengths_tm = _lengths(square)
    m.compare(f"{how}, time-major, bidirectional: real steps and final states",
              get_adapter(fw).forward(spec_tm, w_tm, x_tm, lengths=lengths_tm),
              reference_lstm(spec_tm, w_tm, x_tm, lengths=lengths_tm),
              select=output_valid_mask(False, lengths_tm, square.batch, square.steps),
              problem=Problem(spec_tm, w_tm, x_tm, None, lengths_tm))


@recipe("stacked_layers")
def _stacked(fw, setup, m, seed):
    spec = setup.spec(num_layers=3)
    w, x, _ = setup.problem(spec, seed)
    m.compare("3 layers", get_adapter(fw).forward(spec, w, x), reference_lstm(spec, w, x), problem=Problem(spec, w, x))


@recipe("bidirectional")
def _bidirectional(fw, setup, m, seed):
    spec = setup.spec(bidirectional=True)
    w, x, _ = setup.problem(spec, seed)
    m.compare("bidirectional", get_adapter(fw).forward(spec, w, x), reference_lstm(spec, w, x),
              problem=Problem(spec, w, x))


@recipe("initial_state")
def _initial_state(fw, setup, m, seed):
    spec = setup.spec(batch_first=True)
    w, x, state = setup.problem(spec, seed, state=True)
    ref = reference_lstm(spec, w, x, state)
    if _is_keras(fw):
        layer = keras_layer(fw, spec, w, return_sequences=True, return_state=True)
        out, h, c = keras_call(layer, x, initial_state=[state[0][0].astype(spec.dtype),
                                                        state[1][0].astype(spec.dtype)])
        m.compare("initial_state=[h, c] output", out, ref.output)
        m.compare("initial_state=[h, c] h", h, ref.h_n[0])
        m.compare("initial_state=[h, c] c", c, ref.c_n[0])
        m.note(f"Keras takes each state as (batch, units): {state[0][0].shape}")
    else:
        m.compare("hx=(h0, c0)", get_adapter(fw).forward(spec, w, x, state), ref, problem=Problem(spec, w, x, state))
        m.note(f"states go in as (num_layers * num_directions, batch, hidden): {state[0].shape}")


@recipe("unroll")
def _unroll(fw, setup, m, seed):
    spec = setup.spec(batch_first=True)
    w, x, _ = setup.problem(spec, seed)
    ref = reference_lstm(spec, w, x)
    if _is_keras(fw):
        for unroll in (False, True):
            out = keras_call(keras_layer(fw, spec, w, unroll=unroll, return_sequences=True), x)[0]
            m.compare(f"unroll={unroll}", out, ref.output)
    else:
        m.compare("no unroll option; plain call", get_adapter(fw).forward(spec, w, x), ref, problem=Problem(spec, w, x))


@recipe("training_flag")
def _training_flag(fw, setup, m, seed):
    spec = setup.spec(batch_first=True)
    w, x, _ = setup.problem(spec, seed)
    ref = reference_lstm(spec, w, x)
    adapter = get_adapter(fw)
    model = adapter.build(spec, w)
    for training in (False, True):
        how = f"training={training}" if _is_keras(fw) else f"set_train({training})" if fw == "mindspore" \
            else f"train({training})"
        m.compare(f"{how}, no dropout", adapter.run(model, spec, x, training=training), ref,
                  problem=Problem(spec, w, x))


@recipe("input_size")
def _input_size(fw, setup, m, seed):
    spec = setup.spec(batch_first=True)
    w, x, _ = setup.problem(spec, seed)
    ref = reference_lstm(spec, w, x)
    params = constructor_parameters(fw)
    if _is_keras(fw):
        m.expect("input_size" not in params, "Keras now has an input_size parameter")
        layer = get_adapter(fw).keras().layers.LSTM(spec.hidden_size)
        layer(x.astype("float32"))
        kernel = np.asarray(layer.get_weights()[0])
        m.note(f"kernel shape after the first call: {kernel.shape} (inferred from the input's last axis)")
        m.expect(kernel.shape == (spec.input_size, 4 * spec.hidden_size), "Keras did not infer the input size")
        m.compare("with weights set", get_adapter(fw).forward(spec, w, x), ref, problem=Problem(spec, w, x))
        return None
    m.expect("input_size" in params, "the constructor lost input_size")
    adapter = get_adapter(fw)
    model = adapter.build(spec, w)
    m.compare(f"input_size={spec.input_size}", adapter.run(model, spec, x), ref, problem=Problem(spec, w, x))
    wrong = np.concatenate([x, x[..., :1]], axis=-1)
    try:
        adapter.run(model, spec, wrong)
        m.expect(False, "an input with the wrong feature count was accepted")
    except SpecError as exc:
        m.note(f"a {wrong.shape[-1]}-feature input is refused: {exc.problem}")
    return None


@recipe("output_shapes")
def _output_shapes(fw, setup, m, seed):
    spec = setup.spec(batch_first=False, bidirectional=True, num_layers=2)
    if _is_keras(fw):
        spec = setup.spec(batch_first=True)
        w, x, _ = setup.problem(spec, seed)
        ref = reference_lstm(spec, w, x)
        out, h, c = keras_call(keras_layer(fw, spec, w, return_sequences=True, return_state=True), x)
        expect = {"output": (setup.batch, setup.steps, spec.hidden_size), "h": (setup.batch, spec.hidden_size),
                  "c": (setup.batch, spec.hidden_size)}
        got = {"output": out.shape, "h": h.shape, "c": c.shape}
        m.compare("output", out, ref.output)
        m.compare("h", h, ref.h_n[0])
        m.compare("c", c, ref.c_n[0])
    else:
        w, x, _ = setup.problem(spec, seed)
        r = get_adapter(fw).forward(spec, w, x)
        n = spec.num_directions
        expect = {"output": (setup.steps, setup.batch, n * spec.hidden_size),
                  "h": (n * spec.num_layers, setup.batch, spec.hidden_size),
                  "c": (n * spec.num_layers, setup.batch, spec.hidden_size)}
        got = {"output": r.output.shape, "h": r.h_n.shape, "c": r.c_n.shape}
        m.compare("bidirectional 2-layer, default layout", r, reference_lstm(spec, w, x), problem=Problem(spec, w, x))
    m.note("shapes: " + ", ".join(f"{k} {tuple(v)}" for k, v in got.items()))
    for key in expect:
        m.expect(tuple(got[key]) == expect[key], f"{key} has shape {tuple(got[key])}, the page states {expect[key]}")
