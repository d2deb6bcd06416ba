"""Meta-tests of the checks: each check in the vocabulary returns the OTHER verdict when reality differs.

The framework is replaced by a fake adapter (set on the check's :class:`CheckContext`) whose "layer" is the
float64 reference itself, optionally corrupted in one known way. With the honest fake a check must return
the verdict of a framework that does what the reference does; with the corrupted fake it must return the
other verdict (or record a problem, which fails the case). So no check can be a constant, and none of these
tests imports a framework, except where a check's other side only exists inside one (marked).
"""

from __future__ import annotations

import contextlib
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
from support import adapter_or_skip

from mapping import ops
from mapping.checks import CHECKS, CheckContext, dropout_stats, initializers, layouts, padding, recipes
from mapping.checks import dropout as dropout_module
from mapping.errors import Unsupported
from mapping.problem import Problem, RunResult
from mapping.verdicts import Verdict
from mapping.weights import CanonicalWeights, DirectionWeights

TORCH_PARAMS = {"input_size": None, "hidden_size": None, "num_layers": 1, "bias": True, "batch_first": False,
                "dropout": 0.0, "bidirectional": False, "proj_size": 0}
FIELDS = {"dropout": "layer_dropout"}  # native name -> spec field, where they differ
OPS = tuple(ops.APIS)  # the APIs a case's page can be about


def shifted(r: RunResult, by: float = 0.01) -> RunResult:
    """A plausible wrong result: every field off by ``by``."""
    return r.replace(output=r.output + by, h_n=r.h_n + by, c_n=r.c_n - by)


class ReferenceAdapter:
    """An adapter whose framework is the float64 reference; ``corrupt`` alters every result it returns."""

    name = "fake"
    label = "Fake"
    length_mechanism = "lengths"

    def __init__(self, corrupt=None, params=None, call_params=("input", "hx")):
        self.corrupt = corrupt
        self.params = dict(TORCH_PARAMS if params is None else params)
        self.call_params = list(call_params)

    def version(self):
        return "0"

    def unsupported_reason(self, spec):
        return None

    def constructor_parameters(self, op):
        if op not in OPS:  # as a real adapter: each op has its own constructor
            raise KeyError(f"no constructor for op {op!r}")
        return dict(self.params)

    def call_parameters(self, op):
        return list(self.call_params)

    def field_for(self, op, native):
        return FIELDS.get(native, native) if op in OPS else None  # as a real adapter: the op's own table

    def seed(self, seed):
        pass

    @contextlib.contextmanager
    def seeded(self, seed):
        yield

    def mode_text(self, training):
        return "train()" if training else "eval()"

    def build(self, spec, weights):
        return SimpleNamespace(spec=spec, weights=weights)

    def run(self, model, problem, training=False):
        r = problem.replace(spec=model.spec, weights=model.weights).validated().reference()
        return self.corrupt(r) if self.corrupt else r

    def forward(self, problem):
        return self.run(self.build(problem.spec, problem.weights), problem)

    def run_masked(self, model, problem, mask):
        raise Unsupported("no arbitrary masks")

    def export_weights(self, model, spec):
        return model.weights

    def call_form(self, model, *args, **kwargs):
        """The nesting a real framework returns: a cell its new states, a layer (output, final state(s))."""
        from mapping.adapters.base import describe

        out = self.call_native(model, *args, **kwargs)
        return describe(tuple(out) if model.spec.form == "cell" else (out[0], tuple(out[1:])))

    def call_native(self, model, *args, **kwargs):
        """The layer called as a user calls it: the arguments bound to ``call_params`` as Python binds them (by
        position in their order, or by keyword; an unknown keyword is a TypeError); the first is the input, and
        the state is whichever other argument is given that is not a mask or training flag (Keras's)."""
        if len(args) > len(self.call_params) or set(kwargs) - set(self.call_params):
            raise TypeError(f"call() got unexpected arguments {sorted(set(kwargs) - set(self.call_params))}")
        bound = {**dict(zip(self.call_params, args)), **kwargs}
        x = bound[self.call_params[0]]
        state = next((v for n, v in bound.items() if n != self.call_params[0] and n not in ("mask", "training")), None)
        if model.spec.form == "cell":  # one step: (batch, features) in, the new state(s) out, each (batch, hidden)
            states = state if isinstance(state, (tuple, list)) else (state,)
            spec = model.spec.replace(batch_first=False)
            r = self.run(SimpleNamespace(spec=spec, weights=model.weights),
                         Problem(spec, model.weights, np.asarray(x, dtype=np.float64)[None],
                                 tuple(np.asarray(s, dtype=np.float64)[None] for s in states)))
            return [v[0] for v in r.states.values()]
        r = self.run(model, Problem(model.spec, model.weights, np.asarray(x, dtype=np.float64), state))
        return [r.output, *r.states.values()]


def run(check: str, args: dict, adapter, framework: str = "torch"):
    ctx = CheckContext(framework)
    ctx.__dict__["adapter"] = adapter  # the cached adapter property, set to the fake
    return CHECKS[check].run(args, ctx)


def test_every_check_of_the_vocabulary_is_tested_here():
    tested = {"renamed_parameter", "absent_same_default", "renamed_call_argument", "feature_without_counterpart",
              "default_layout", "padding_semantics", "recipe", "dropout_structure", "dropout_statistics",
              "code_example", "initializer", "regularizer", "constraint", "return_form"}
    assert set(CHECKS) == tested


# --- parameters ------------------------------------------------------------------------------------------


RENAMED = {"field": "num_layers", "values": [1, 2], "names": {"torch": "num_layers"}}


def test_renamed_parameter_both_ways():
    assert run("renamed_parameter", RENAMED, ReferenceAdapter()).verdict == Verdict.EQUIVALENT
    assert run("renamed_parameter", RENAMED, ReferenceAdapter(shifted)).verdict == Verdict.DIVERGES
    assert run("renamed_parameter", RENAMED,
               ReferenceAdapter(params={"hidden_size": None})).verdict == Verdict.NOT_APPLICABLE


def test_renamed_parameter_fails_on_one_wrong_field_of_one_value():
    def c_n_off_for_two_layers(r):
        return r.replace(c_n=r.c_n + (1e-3 if r.c_n.shape[0] == 2 else 0.0))

    outcome = run("renamed_parameter", RENAMED, ReferenceAdapter(c_n_off_for_two_layers))
    assert outcome.verdict == Verdict.DIVERGES
    assert any("num_layers=2" in d and "c_n" in d for d in outcome.details), outcome.details


ABSENT = {"field": "activation", "default": "tanh", "other": "relu", "names": {"torch": None}}


def test_absent_same_default_both_ways():
    outcome = run("absent_same_default", ABSENT, ReferenceAdapter())
    assert outcome.verdict == Verdict.EQUAL_AT_DEFAULT and not outcome.problems
    assert run("absent_same_default", ABSENT, ReferenceAdapter(shifted)).verdict == Verdict.DIVERGES
    # the page says there is no such parameter, but the constructor has one: a problem
    assert run("absent_same_default", ABSENT, ReferenceAdapter(params={**TORCH_PARAMS, "activation": "tanh"})).problems
    # another value that changes nothing proves nothing: a problem
    assert run("absent_same_default", {**ABSENT, "other": "tanh"}, ReferenceAdapter()).problems


def test_absent_same_default_with_a_parameter_checks_its_signature_default():
    args = {**ABSENT, "names": {"torch": "activation"}}
    outcome = run("absent_same_default", args, ReferenceAdapter(params={**TORCH_PARAMS, "activation": "tanh"}))
    assert outcome.verdict == Verdict.EQUAL_AT_DEFAULT and not outcome.problems
    assert run("absent_same_default", args, ReferenceAdapter(params={**TORCH_PARAMS, "activation": "sigmoid"})).problems
    assert run("absent_same_default", args, ReferenceAdapter()).verdict == Verdict.NOT_APPLICABLE


def test_renamed_call_argument_both_ways():
    args = {"names": {"torch": "inputs"}}
    keras_call = ("inputs", "mask", "training")
    assert run("renamed_call_argument", args, ReferenceAdapter(call_params=keras_call)).verdict == Verdict.EQUIVALENT
    assert run("renamed_call_argument", args,
               ReferenceAdapter(shifted, call_params=keras_call)).verdict == Verdict.DIVERGES
    assert run("renamed_call_argument", args,
               ReferenceAdapter(call_params=("sequences", "mask"))).verdict == Verdict.DIVERGES


NO_COUNTERPART = {"field": "proj_size", "value": 2, "names": {"torch": "proj_size", "mindspore": None}}


def test_feature_without_counterpart_both_ways():
    assert run("feature_without_counterpart", NO_COUNTERPART, ReferenceAdapter()).verdict == Verdict.NO_COUNTERPART
    assert run("feature_without_counterpart", NO_COUNTERPART, ReferenceAdapter(shifted)).verdict == Verdict.DIVERGES
    ms = {k: v for k, v in TORCH_PARAMS.items() if k != "proj_size"}
    assert run("feature_without_counterpart", NO_COUNTERPART, ReferenceAdapter(params=ms),
               "mindspore").verdict == Verdict.NO_COUNTERPART
    # the feature now exists on the side the page says lacks it
    assert run("feature_without_counterpart", NO_COUNTERPART, ReferenceAdapter(),
               "mindspore").verdict == Verdict.EQUIVALENT


# --- layouts ---------------------------------------------------------------------------------------------


def test_default_layout_both_ways():
    args = {"claimed_default": {"torch": "time_major"}, "absent": {"torch": ["time_major"]}}
    assert run("default_layout", args, ReferenceAdapter()).verdict == Verdict.EQUIVALENT
    assert run("default_layout", args, ReferenceAdapter(shifted)).verdict == Verdict.DIVERGES
    # the default is not the claimed one
    assert run("default_layout", args,
               ReferenceAdapter(params={**TORCH_PARAMS, "batch_first": True})).verdict == Verdict.DIVERGES
    # a parameter the row calls absent
    assert run("default_layout", args,
               ReferenceAdapter(params={**TORCH_PARAMS, "time_major": False})).verdict == Verdict.DIVERGES


@pytest.mark.parametrize("params, layout", [
    ({"batch_first": False}, "time_major"), ({"batch_first": True}, "batch_major"),
    ({"time_major": True}, "time_major"), ({"time_major": False}, "batch_major"), ({}, "batch_major")])
def test_default_layout_reads_the_signature(params, layout):
    assert layouts.default_layout(params) == layout


# --- padding ---------------------------------------------------------------------------------------------


def padded_problem(lengths=None):
    problem = padding._problem("lstm", False)
    lengths = lengths or padding.LENGTHS["right"]
    x = np.stack([np.concatenate([problem.x[b, :n], np.zeros((padding.STEPS - n, 3))])
                  for b, n in enumerate(lengths)])
    return problem.replace(x=x), lengths


def classes_of(out_padded_value=None, real_off=0.0, final_off=0.0, carry=False):
    """classify() on the reference's own padded run, altered in one way."""
    problem, lengths = padded_problem()
    expected, real, finals = padding._expected(problem, lengths, False)
    r = problem.replace(lengths=np.array(lengths)).reference()
    out = r.output.copy()
    if out_padded_value is not None:
        out[~real] = out_padded_value
    if carry:
        for b, n in enumerate(lengths):
            out[b, n:] = out[b, n - 1]
    out[real] += real_off
    states = {**r.states, "h_n": r.h_n + final_off}
    return padding.classify(out, states, expected, real, finals, problem.reference().output, 1e-6)


def test_padding_classifier_separates_exact_zeros_from_small_values():
    assert classes_of() == {"real": "match", "padded": "zeros", "final": "last_real"}
    for small in (1e-12, 1e-7, 1e-5, 9e-4, -1e-5):
        assert classes_of(out_padded_value=small)["padded"] != "zeros", small
    assert classes_of(out_padded_value=0.0)["padded"] == "zeros"
    assert classes_of(out_padded_value=-0.0)["padded"] == "zeros"


def test_padding_classifier_tolerance_is_relative_and_absolute():
    problem, lengths = padded_problem()
    expected, real, finals = padding._expected(problem, lengths, False)
    r = problem.replace(lengths=np.array(lengths)).reference()
    tol = 1e-3
    for factor, verdict in ((0.9, "match"), (1.2, "differ")):
        out = r.output.copy()
        out[real] = expected[real] + factor * tol * (1 + np.abs(expected[real]))
        assert padding.classify(out, r.states, expected, real, finals, r.output, tol)["real"] == verdict, factor
    full = padding._expected(problem, [5, 5, 5], False)
    assert padding.classify(problem.reference().output, finals, full[0], full[1], full[2], r.output,
                            tol)["padded"] == "none"


def test_padding_classifier_names_each_behaviour():
    assert classes_of(carry=True)["padded"] == "repeat_last"
    assert classes_of(out_padded_value=0.3)["padded"] == "other"
    assert classes_of(real_off=1e-3)["real"] == "differ"
    assert classes_of(final_off=1e-3)["final"] == "other"


def test_padding_classifier_recognises_computed_padding():
    problem, lengths = padded_problem()
    expected, real, finals = padding._expected(problem, lengths, False)
    full = problem.reference()  # the padding run as data
    classes = padding.classify(full.output, full.states, expected, real, finals, full.output, 1e-6)
    assert classes == {"real": "match", "padded": "computed", "final": "other"}


def test_padding_expected_values_per_scenario():
    assert padding._problem("lstm", True).spec.bidirectional and not padding._problem("lstm", False).spec.bidirectional
    problem = padding._problem("lstm", False)
    lengths = [5, 3, 1]
    for left in (False, True):
        expected, real, finals = padding._expected(problem, lengths, left)
        for b, n in enumerate(lengths):
            steps = slice(padding.STEPS - n, padding.STEPS) if left else slice(0, n)
            alone = problem.replace(x=problem.x[b : b + 1, steps]).reference()
            np.testing.assert_array_equal(expected[b, steps], alone.output[0])
            assert real[b].sum() == n and real[b, steps].all()
            assert np.all(expected[b][~real[b]] == 0)
            for name in ("h_n", "c_n"):
                np.testing.assert_array_equal(finals[name][:, b], alone.states[name][:, 0])


PADDING = {"scenario": "right", "recorded": {"torch": "real=match padded=zeros final=last_real"}}


def test_padding_semantics_both_ways():
    outcome = run("padding_semantics", PADDING, ReferenceAdapter())
    assert outcome.verdict == Verdict.EQUIVALENT and not outcome.problems

    def tiny_padding(r):
        out = r.output.copy()
        out[out == 0] = 1e-5
        return r.replace(output=out)

    outcome = run("padding_semantics", PADDING, ReferenceAdapter(tiny_padding))
    assert outcome.verdict == Verdict.DIVERGES and outcome.problems
    outcome = run("padding_semantics", PADDING, ReferenceAdapter(shifted))
    assert outcome.verdict == Verdict.NO_COUNTERPART and outcome.problems


# --- recipes ---------------------------------------------------------------------------------------------


PLAIN_RECIPES = ["last_step", "final_state", "go_backwards", "stateful", "time_major", "mask", "stacked_layers",
                 "bidirectional", "initial_state", "unroll", "training_flag", "input_size", "output_shapes"]


@pytest.mark.parametrize("name", PLAIN_RECIPES)
def test_recipe_both_ways(name):
    assert set(PLAIN_RECIPES) == set(recipes.RECIPES)
    honest = run("recipe", {"recipe": name}, ReferenceAdapter())
    assert honest.verdict == Verdict.EQUIVALENT_WITH_RECIPE and not honest.problems, honest.details
    wrong = run("recipe", {"recipe": name}, ReferenceAdapter(shifted))
    assert wrong.verdict == Verdict.DIVERGES, wrong.details


def test_mask_recipe_compares_real_steps_and_final_states_in_both_layouts():
    def off_at_a_real_step(r):
        out = r.output.copy()
        if out.shape[0] == out.shape[1]:  # the square time-major batch only
            out[1, 1] += 1e-3  # time-major: step 1 of sample 1, a real step
        return r.replace(output=out)

    assert run("recipe", {"recipe": "mask"}, ReferenceAdapter(off_at_a_real_step)).verdict == Verdict.DIVERGES


# --- dropout fingerprint ---------------------------------------------------------------------------------


def fake_dropout_run(kind: str, inference_effect: bool = False):
    """dropout._run for a framework whose dropout acts as ``kind`` ('between_layers', 'inputs', 'none')."""

    def _run(ctx, name, rate, setup, layers, steps, training):
        spec = setup.spec(ctx.op, batch_first=True, num_layers=layers)
        problem = setup.problem(spec, ctx.seed).replace(x=setup.problem(spec, ctx.seed + 5).x[:, :steps])
        ref = problem.reference()
        out, h = ref.output.copy(), ref.h_n.copy()
        active = training or inference_effect
        if active and kind == "inputs":
            out += 0.1
        if active and kind == "recurrent" and out.shape[1] > 1:  # nothing to drop before the first step's h
            out[:, 1:] += 0.1
        if active and kind == "between_layers" and layers == 2:
            out += 0.1
            h[1] += 0.1
        return out, h, ref

    return _run


DROPOUT = {"names": {"torch": "dropout", "mindspore": "dropout"},
           "behaviour": {"torch": "between_layers", "mindspore": "between_layers"},
           "counterpart": {"torch": "mindspore", "mindspore": "torch"}}


def test_dropout_structure_both_ways():
    """The fingerprint both ways, and the figure that decides: the effect of the test that tells the two recorded
    behaviours apart (the earliest of inputs, recurrent, between layers: here between layers)."""
    with mock.patch.object(dropout_module, "_run", fake_dropout_run("between_layers")):
        honest = run("dropout_structure", DROPOUT, ReferenceAdapter())
    assert honest.verdict == Verdict.EQUIVALENT and not honest.problems, honest.details
    assert honest.deciding.label.startswith("training, 2 layers: output") and honest.deciding.value == pytest.approx(0.1)
    with mock.patch.object(dropout_module, "_run", fake_dropout_run("inputs")):
        wrong = run("dropout_structure", DROPOUT, ReferenceAdapter())
    assert wrong.verdict == Verdict.DIVERGES and wrong.problems == ["torch's dropout now drops inputs, the case "
                                                                     "records between_layers"]
    with mock.patch.object(dropout_module, "_run", fake_dropout_run("none")):  # a parameter that does nothing
        idle = run("dropout_structure", DROPOUT, ReferenceAdapter())
    assert idle.verdict == Verdict.DIVERGES and idle.problems == ["torch's dropout now drops none, the case "
                                                                   "records between_layers"]


@pytest.mark.parametrize("kind, label", [("inputs", "training, 1 layer, 1 step vs no dropout"),
                                         ("recurrent", "training, 1 layer, many steps vs no dropout")])
def test_dropout_structure_decides_on_the_test_that_tells_the_recorded_sides_apart(kind, label):
    """Both sides recorded as ``kind``: the fingerprint is that kind, the row holds, and the figure shown as deciding
    is the effect of that kind's own test."""
    args = {**DROPOUT, "behaviour": {"torch": kind, "mindspore": kind}}
    with mock.patch.object(dropout_module, "_run", fake_dropout_run(kind)):
        outcome = run("dropout_structure", args, ReferenceAdapter())
    assert outcome.verdict == Verdict.EQUIVALENT and not outcome.problems, outcome.details
    assert outcome.deciding.label == f"{label}: largest |difference|" and outcome.deciding.value == pytest.approx(0.1)
    assert outcome.deciding.holds is True and outcome.deciding.threshold == 1e-3


def test_dropout_in_inference_mode_is_a_problem_even_between_layers():
    """Between-layer dropout acting in inference shows on two layers only: the check must look there."""
    with mock.patch.object(dropout_module, "_run", fake_dropout_run("between_layers", inference_effect=True)):
        outcome = run("dropout_structure", DROPOUT, ReferenceAdapter())
    assert outcome.problems, outcome.details


def test_dropout_parameter_absent_is_none():
    """A parameter the constructor does not take drops nothing, whatever running the layer would show."""
    outcome = run("dropout_structure", DROPOUT, ReferenceAdapter(params={"hidden_size": None}))
    assert outcome.verdict == Verdict.DIVERGES and outcome.problems
    no_dropout = {k: v for k, v in TORCH_PARAMS.items() if k != "dropout"}
    with mock.patch.object(dropout_module, "_run", fake_dropout_run("between_layers")):
        outcome = run("dropout_structure", DROPOUT, ReferenceAdapter(params=no_dropout))
    assert outcome.problems == ["torch's dropout now drops none, the case records between_layers"]


# --- dropout statistics ----------------------------------------------------------------------------------


STATS_CONVENTION = ("structure=between_layers masks=one_for_all_gates shared_across_time=false "
                    "shared_across_batch=false")
STATS = {"names": {"torch": "dropout"}, "recorded": {"torch": STATS_CONVENTION}, "convention": STATS_CONVENTION,
         "batch": 400}


def fake_pattern_run(structure: str, offset: float = 0.0, draws_per: str = "sample"):
    """_framework_run drawing each sample's output from ``structure``'s kept/dropped patterns at rate p + offset (kept
    values scaled by 1/(1-p)): one draw per pattern entry and sample, per sample only, or one for the whole batch."""

    def _framework_run(ctx, name, problem, p, training):
        state = tuple(s[:, :1] for s in problem.initial_state) if problem.initial_state is not None else None
        one = problem.replace(x=problem.x[:1], initial_state=state)
        batch, steps = problem.x.shape[:2]
        if not training:
            return np.broadcast_to(one.reference().output[0, :, 0], (batch, steps))[..., None]
        kept, candidates = dropout_stats._candidates(structure, one, steps, p)
        order = {tuple(k): i for i, k in enumerate(kept)}
        shape = {"sample": (batch, kept.shape[1]), "sequence": (batch, 1), "batch": (1, kept.shape[1])}[draws_per]
        draws = np.random.default_rng(ctx.seed).random(shape) >= p + offset
        return candidates[[order[tuple(d)] for d in np.broadcast_to(draws, (batch, kept.shape[1]))]][..., None]

    return _framework_run


def fake_stats_run(mode: str):
    """``fake_pattern_run`` between layers, as a framework might get it wrong: a rate off by 0.2 or 0.1 (kept values
    still scaled by 1/(1-p)), one mask per sequence, no rescaling, a tenth of the samples unscaled, or dropout acting
    in inference mode."""
    honest = fake_pattern_run("between_layers", {"wrong_rate": 0.2, "rate_off_by_0.1": 0.1}.get(mode, 0.0),
                              "sequence" if mode == "per_sequence" else "sample")

    def _framework_run(ctx, name, problem, p, training):
        plain = honest(ctx, name, problem, p, False)
        if not training:
            return plain + (0.05 if mode == "inference" else 0.0)
        if mode == "no_rescale":
            return plain
        out = honest(ctx, name, problem, p, True)
        if mode == "some_unscaled":  # honest draws, but the last tenth of the samples keep unscaled values
            batch = problem.x.shape[0]
            out[-batch // 10:] = plain[-batch // 10:]
        return out

    return _framework_run


@pytest.mark.parametrize("mode", ["honest", "no_rescale", "some_unscaled", "inference", "wrong_rate", "rate_off_by_0.1",
                                  "per_sequence"])
def test_dropout_statistics_both_ways(mode):
    """Honest dropout between layers (a fresh mask per step and sample at rate p) holds; unscaled kept values, dropout
    in inference and one mask per sequence diverge with a problem; a rate off by 0.2 (kept values still scaled by
    1/(1-p): the structure is the convention's) is a problem, which fails the case. The figure that decides says
    what it measured and whether it holds."""
    with mock.patch.object(dropout_stats, "_framework_run", fake_stats_run(mode)):
        outcome = run("dropout_statistics", STATS, ReferenceAdapter())
    if mode == "honest":
        assert outcome.verdict == Verdict.EQUIVALENT and not outcome.problems, outcome.details
    elif mode == "wrong_rate":
        assert outcome.problems == ["dropped fraction 0.4800 is not p = 0.3"], outcome.problems
    elif mode == "rate_off_by_0.1":  # 0.0842 off, just outside six standard errors of 1,200 draws (0.0794)
        assert outcome.problems == ["dropped fraction 0.3842 is not p = 0.3"], outcome.details
    else:
        assert outcome.verdict == Verdict.DIVERGES and outcome.problems, outcome.details
    deciding = outcome.deciding
    if mode in ("honest", "wrong_rate", "rate_off_by_0.1", "per_sequence"):  # all explained: masks over time decide
        assert deciding.label == "samples whose mask is the same at every step" and deciding.threshold == 1.0
        kept_rate = {"honest": 0.7, "wrong_rate": 0.5, "rate_off_by_0.1": 0.6, "per_sequence": None}[mode]
        assert deciding.value == (1.0 if kept_rate is None else pytest.approx(kept_rate**3 + (1 - kept_rate)**3,
                                                                                abs=0.08))
        assert deciding.holds is (mode == "per_sequence")
        assert deciding.compared_with == "every sample (1.0)" and deciding.test.startswith("one mask per sequence")
    elif mode in ("no_rescale", "some_unscaled"):
        assert deciding.label.startswith("samples explained by one kept/dropped pattern") and deciding.value == (
            0.0 if mode == "no_rescale" else 0.9)
        assert deciding.holds is False and deciding.threshold == 1.0 and deciding.test
    if mode == "per_sequence":
        assert any("shared_across_time=true" in problem for problem in outcome.problems), outcome.problems


RECURRENT = "structure=recurrent masks=per_gate shared_across_time=true shared_across_batch=false"
PER_SEQUENCE = "structure=between_layers masks=one_for_all_gates shared_across_time=true shared_across_batch=false"


def stats_args(recorded: str, convention: str | None = None) -> dict:
    return {"names": {"torch": "dropout"}, "recorded": {"torch": recorded}, "convention": convention or recorded,
            "batch": 400}


@pytest.mark.parametrize("structure, draws_per, recorded, draws", [
    ("recurrent", "sample", RECURRENT, 1600),  # 400 samples x 4 gates
    ("between_layers", "sequence", PER_SEQUENCE, 400),  # one draw per sample, whatever the steps
    ("between_layers", "sample", STATS_CONVENTION, 1200),  # 400 samples x 3 steps
], ids=["recurrent", "per_sequence", "per_step"])
def test_dropout_statistics_count_the_independent_draws_of_each_structure(structure, draws_per, recorded, draws):
    """The rate's bound is six standard errors of the structure's own independent draws: one per gate and sample for
    recurrent dropout, one per sample for a mask shared over time, one per step and sample otherwise."""
    with mock.patch.object(dropout_stats, "_framework_run", fake_pattern_run(structure, draws_per=draws_per)):
        outcome = run("dropout_statistics", stats_args(recorded), ReferenceAdapter())
    assert outcome.verdict == Verdict.EQUIVALENT and not outcome.problems, outcome.details
    bound = 6 * np.sqrt(0.3 * 0.7 / draws)
    assert f"six standard errors over {draws} independent draws: {bound:.4f}" in outcome.details


@pytest.mark.parametrize("structure, draws_per, recorded, offset, problem", [
    # 0.094 off: outside six standard errors of 1,600 draws (0.069), inside those of 400 (0.1375)
    ("recurrent", "sample", RECURRENT, 0.1, "dropped fraction 0.3944 is not p = 0.3"),
    # 0.1125 off: inside six standard errors of 400 draws (0.1375), outside those of 800 (0.097) or 1,200
    ("between_layers", "sequence", PER_SEQUENCE, 0.16, None),
], ids=["recurrent", "per_sequence"])
def test_dropout_rate_is_judged_on_the_structures_own_bound(structure, draws_per, recorded, offset, problem):
    with mock.patch.object(dropout_stats, "_framework_run", fake_pattern_run(structure, offset, draws_per)):
        outcome = run("dropout_statistics", stats_args(recorded), ReferenceAdapter())
    assert outcome.problems == ([problem] if problem else []), outcome.details


def test_one_mask_for_the_whole_batch_is_measured_as_such():
    """A framework drawing one mask for every sample is told apart (shared_across_batch=true), which fails a case
    recording per-sample masks."""
    with mock.patch.object(dropout_stats, "_framework_run", fake_pattern_run("between_layers", draws_per="batch")):
        outcome = run("dropout_statistics", stats_args(STATS_CONVENTION), ReferenceAdapter())
    assert outcome.problems == [f"behaviour is now '{STATS_CONVENTION.replace('batch=false', 'batch=true')}', the case "
                                f"records '{STATS_CONVENTION}'"]


def test_dropout_statistics_deciding_figure_when_the_structure_is_not_the_conventions():
    """Every sample explained by the recorded structure, which is not the row's convention: the row diverges, with no
    problem, and the figure that decides (the share of samples explained) holds."""
    convention = STATS_CONVENTION.replace("between_layers", "inputs")
    with mock.patch.object(dropout_stats, "_framework_run", fake_pattern_run("between_layers")):
        outcome = run("dropout_statistics", stats_args(STATS_CONVENTION, convention), ReferenceAdapter())
    assert outcome.verdict == Verdict.DIVERGES and not outcome.problems, outcome.details
    deciding = outcome.deciding
    assert deciding.label.startswith("samples explained by one kept/dropped pattern")
    assert (deciding.value, deciding.threshold, deciding.holds) == (1.0, 1.0, True)


# --- code examples ---------------------------------------------------------------------------------------


EXAMPLE = {"side": {"torch": {"spec": {"input_size": 3, "hidden_size": 4}, "input": [2, 5, 3]}},
           "claimed": {"torch": {"output": [2, 5, 4], "h": [1, 2, 4], "c": [1, 2, 4]}}}


class FailingCall(ReferenceAdapter):
    def call_form(self, model, *args, **kwargs):
        """The nesting a real framework returns: a cell its new states, a layer (output, final state(s))."""
        from mapping.adapters.base import describe

        out = self.call_native(model, *args, **kwargs)
        return describe(tuple(out) if model.spec.form == "cell" else (out[0], tuple(out[1:])))

    def call_native(self, model, *args, **kwargs):
        raise IndexError("index 1 is out of bounds")


def test_code_example_both_ways():
    assert run("code_example", EXAMPLE, ReferenceAdapter()).verdict == Verdict.EQUIVALENT
    assert run("code_example", EXAMPLE, ReferenceAdapter(shifted)).verdict == Verdict.DIVERGES
    assert run("code_example", EXAMPLE, FailingCall()).verdict == Verdict.DIVERGES
    wrong_claim = {**EXAMPLE, "claimed": {"torch": {"output": [2, 5, 4], "h": [2, 2, 4], "c": None}}}
    assert run("code_example", wrong_claim, ReferenceAdapter()).verdict == Verdict.DIVERGES


# --- initialisers ----------------------------------------------------------------------------------------


def test_uniform_fit_and_orthogonality():
    """The statistics the initializer check decides with (the check itself needs a framework's sampler)."""
    rng = np.random.default_rng(1)
    sample = rng.uniform(-0.2, 0.2, 8192)
    assert initializers.uniform_fit(sample, 0.2)[0]
    assert not initializers.uniform_fit(sample, 0.25)[0]  # the wrong limit
    assert not initializers.uniform_fit(rng.normal(0, 0.2 / np.sqrt(3), 8192).clip(-0.2, 0.2), 0.2)[0]
    assert not initializers.uniform_fit(sample + 0.01, 0.21)[0]  # off-centre
    q, _ = np.linalg.qr(rng.normal(size=(12, 3)))
    assert initializers.orthogonality_error(q.T) < 1e-12
    assert initializers.orthogonality_error(2 * q.T) > 1


@pytest.mark.tfkeras
@pytest.mark.parametrize("target", ["kernel", "recurrent_kernel", "unit_forget_bias"])
def test_initializer_both_ways_on_keras(target):
    """Keras's own sampler is the honest side; the same check with the signature defaults changed must fail."""
    adapter = adapter_or_skip("tfkeras")
    default = {"kernel": "glorot_uniform", "recurrent_kernel": "orthogonal", "unit_forget_bias": True}[target]
    args = {"target": target, "keras_default": default}
    ctx = CheckContext("tfkeras")
    honest = CHECKS["initializer"].run(args, ctx)
    assert honest.verdict == Verdict.EQUIVALENT_WITH_RECIPE and not honest.problems, honest.details
    params = adapter.constructor_parameters("lstm")
    wrong_params = {**params, "unit_forget_bias": False, "kernel_initializer": "he_normal",
                    "recurrent_initializer": "glorot_uniform"}
    with mock.patch.object(type(adapter), "constructor_parameters", return_value=wrong_params):
        wrong = CHECKS["initializer"].run(args, CheckContext("tfkeras"))
    assert wrong.problems, wrong.details


# --- regularisers and constraints ------------------------------------------------------------------------


class WrongExport(ReferenceAdapter):
    """Reads back other weights than it was given."""

    def export_weights(self, model, spec):
        cell = model.weights[0, 0]
        return CanonicalWeights(spec, {(0, 0): DirectionWeights(cell.w_ih * 1.01, cell.w_hh * 1.01,
                                                                cell.b_ih * 1.01, cell.b_hh)})


@pytest.mark.parametrize("target", ["kernel", "recurrent", "bias", "activity"])
def test_regularizer_both_ways(target):
    ms_params = {k: v for k, v in TORCH_PARAMS.items() if k != "proj_size"}
    honest = run("regularizer", {"target": target}, ReferenceAdapter(params=ms_params), "mindspore")
    assert honest.verdict == Verdict.EQUIVALENT_WITH_RECIPE and not honest.problems
    wrong = run("regularizer", {"target": target}, WrongExport(shifted, params=ms_params), "mindspore")
    assert wrong.verdict == Verdict.DIVERGES


@pytest.mark.mindspore
@pytest.mark.parametrize("target", ["kernel", "bias"])
def test_constraint_both_ways_on_mindspore(target):
    adapter = adapter_or_skip("mindspore")
    assert CHECKS["constraint"].run({"target": target}, CheckContext("mindspore")).verdict \
        == Verdict.EQUIVALENT_WITH_RECIPE
    original = type(adapter).export_weights
    calls = []

    def export_twice_off(self, model, spec):  # the weights read back after the recipe are off
        calls.append(1)
        w = original(self, model, spec)
        if len(calls) % 2 == 0:
            c = w[0, 0]
            return CanonicalWeights(spec, {(0, 0): DirectionWeights(c.w_ih + 1e-3, c.w_hh, c.b_ih + 1e-3, c.b_hh)})
        return w

    with mock.patch.object(type(adapter), "export_weights", export_twice_off):
        assert CHECKS["constraint"].run({"target": target}, CheckContext("mindspore")).verdict == Verdict.DIVERGES


# --- the recurrent family's checks: the state argument, cells' examples, return forms ----------------------


def test_renamed_call_argument_for_the_state_both_ways():
    args = {"names": {"torch": "hx"}, "argument": "state"}
    assert run("renamed_call_argument", args, ReferenceAdapter()).verdict == Verdict.EQUIVALENT
    assert run("renamed_call_argument", args, ReferenceAdapter(shifted)).verdict == Verdict.DIVERGES
    wrong_name = {"names": {"torch": "h_0"}, "argument": "state"}
    outcome = run("renamed_call_argument", wrong_name, ReferenceAdapter())
    assert outcome.verdict == Verdict.DIVERGES and any("the second argument is 'hx'" in d for d in outcome.details)
    assert outcome.max_abs == 0.0  # the state passed by position, as the page's example does: the mapping holds


def test_the_state_is_passed_by_the_rows_keyword():
    """Keras's second positional argument is the mask: the state the row names must go by its keyword."""
    keras_call = ("inputs", "mask", "training", "initial_state")
    args = {"names": {"torch": "initial_state"}, "argument": "state"}
    outcome = run("renamed_call_argument", args, ReferenceAdapter(call_params=keras_call))
    assert outcome.verdict == Verdict.EQUIVALENT and outcome.max_abs == 0.0, outcome.details


def _on_cell(check, args, adapter):
    ctx = CheckContext("torch", op="lstm_cell")
    ctx.__dict__["adapter"] = adapter
    return CHECKS[check].run(args, ctx)


CELL_EXAMPLE = {"side": {"torch": {"spec": {"input_size": 3, "hidden_size": 4}, "input": [5, 2, 3], "state": [2, 4],
                                   "state_fill": 1.0, "loop": "carry"}},
                "claimed": {"torch": {"output": [2, 4], "h": [2, 4], "c": [2, 4]}}}


def test_cell_example_loops_both_ways():
    assert _on_cell("code_example", CELL_EXAMPLE, ReferenceAdapter()).verdict == Verdict.EQUIVALENT
    assert _on_cell("code_example", CELL_EXAMPLE, ReferenceAdapter(shifted)).verdict == Verdict.DIVERGES
    fixed = {**CELL_EXAMPLE, "side": {"torch": {**CELL_EXAMPLE["side"]["torch"], "loop": "fixed"}}}
    outcome = _on_cell("code_example", fixed, ReferenceAdapter())  # a loop that never carries its state
    assert outcome.verdict == Verdict.DIVERGES and any("starts again from the initial state" in d
                                                       for d in outcome.details)
    wrong_claim = {**CELL_EXAMPLE, "claimed": {"torch": {"output": [2, 4], "c": [2, 5]}}}
    assert _on_cell("code_example", wrong_claim, ReferenceAdapter()).verdict == Verdict.DIVERGES


def test_return_form_both_ways():
    pair = "(tensor (2, 4), tensor (2, 4))"
    same = {"forms": {"torch": pair, "mindspore": pair}, "counterpart": {"torch": "mindspore"}}
    assert _on_cell("return_form", {**same, "claimed_differ": False}, ReferenceAdapter()).verdict == Verdict.EQUIVALENT
    assert _on_cell("return_form", {**same, "claimed_differ": True}, ReferenceAdapter()).verdict == Verdict.DIVERGES
    other = {"forms": {"torch": pair, "mindspore": "tensor (2, 4)"}, "counterpart": {"torch": "mindspore"},
             "claimed_differ": True}
    assert _on_cell("return_form", other, ReferenceAdapter()).verdict == Verdict.EQUIVALENT
    recorded_wrong = {"forms": {"torch": "tensor (2, 4)", "mindspore": pair}, "counterpart": {"torch": "mindspore"},
                      "claimed_differ": True}
    assert _on_cell("return_form", recorded_wrong, ReferenceAdapter()).problems


@pytest.mark.parametrize("op", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_is_measured_on_the_cases_own_layer(op, bidirectional):
    """The padding check's problem is the case's op (the GRU and SimpleRNN supplements pad GRU and RNN layers),
    in the direction asked, batch-first, with a batch of three over the check's steps."""
    problem = padding._problem(op, bidirectional)
    assert (problem.spec.op, problem.spec.bidirectional, problem.spec.batch_first) == (op, bidirectional, True)
    assert problem.x.shape == (3, padding.STEPS, problem.spec.input_size)


def test_uniform_fit_bounds_are_the_documented_ones():
    """``initializers.uniform_fit`` on samples built to sit just inside or just outside each of its bounds: the
    largest |sample| within [limit (1 - 10/n), limit (1 + 1e-6)], the mean within 6 limit / sqrt(3n), the variance
    within 6 limit^2 sqrt(4 / 45n) of limit^2 / 3; and the limit implied by the variance, sqrt(3 var)."""
    n, limit = 10_000, 0.5
    base = np.linspace(-limit, limit, n)  # symmetric: mean 0, largest |x| = limit, variance just above limit^2/3
    ok, implied = initializers.uniform_fit(base, limit)
    assert ok and implied == pytest.approx(np.sqrt(3 * base.var()), rel=1e-15)
    assert implied == pytest.approx(limit, rel=1e-3)
    assert not initializers.uniform_fit(base * (1 + 3e-6), limit)[0]  # beyond the top of the range
    assert initializers.uniform_fit(base * (1 + 0.5e-6), limit)[0]
    shrunk = base * (1 - 10.5 / n)  # largest |x| below limit (1 - 10/n): the range is not reached
    assert not initializers.uniform_fit(shrunk, limit)[0]
    assert initializers.uniform_fit(base * (1 - 8.0 / n), limit)[0]
    mean_bound = 6 * limit / np.sqrt(3 * n)
    for shift, ok in ((0.9 * mean_bound, True), (1.1 * mean_bound, False)):
        moved = np.clip(base + shift, -limit, limit)
        moved[-1] = limit  # keep the range reached
        assert bool(initializers.uniform_fit(moved, limit)[0]) is ok, shift
    var_bound = 6 * limit**2 * np.sqrt(4 / (45 * n))
    # scale the spread so the variance sits on either side, within 1% of the bound (45n, not 46n: 1.1% apart)
    for factor, ok in ((0.995, True), (1.005, False)):
        target = limit**2 / 3 - factor * var_bound
        squeezed = base * np.sqrt(target / base.var())
        squeezed = np.concatenate([squeezed[:-2], [-limit, limit]])
        assert abs(squeezed.var() - limit**2 / 3) / var_bound == pytest.approx(factor, abs=1e-3)
        assert bool(initializers.uniform_fit(squeezed, limit)[0]) is ok, factor


def test_initializer_properties_decide_on_what_they_measure():
    """``initializers._check_properties`` on arrays built to have or to miss each Keras default (glorot_uniform kernel,
    orthogonal recurrent kernel, zero bias with ones in the forget gate): the result and the figure that decides,
    field by field."""
    from mapping.checks.measure import Deciding

    args = initializers.InitializerArgs(target="kernel", keras_default="glorot_uniform", input_size=32, hidden_size=64)
    h, f = args.hidden_size, args.input_size
    rng = np.random.default_rng(0)

    def check(what, kernel=None, recurrent=None, bias=None, forget_one=True):
        m = CheckContext("torch").measurement()
        ok = initializers._check_properties(m, "L", kernel, recurrent, bias, args, forget_one, what)
        return ok, m.deciding

    limit = np.sqrt(6.0 / (f + 4 * h))
    kernel = rng.uniform(-limit, limit, (4 * h, f))
    kernel.flat[:2] = -limit, limit
    for scale, ok in ((1.0, True), (2.0, False)):
        got = check("kernel", kernel=kernel * scale)
        assert got == (ok, Deciding("L: the bound a of U(-a, a) implied by the kernel's variance",
                                    initializers.uniform_fit(kernel * scale, limit)[1], "glorot_uniform's bound", limit,
                                    "range, mean and variance within six standard errors of U(-a, a)", ok))
    q = np.linalg.qr(rng.normal(size=(4 * h, h)))[0]  # orthonormal columns: R Rᵀ = I for R = qᵀ
    for scale, ok in ((1.0, True), (1.001, False)):
        err = initializers.orthogonality_error((q * scale).T)
        assert check("recurrent_kernel", recurrent=q * scale) == (ok, Deciding(
            "L: max |R Rᵀ − I|", err, "an orthogonal matrix", 1e-5, "orthogonal when below the threshold", ok))
    for gate, value, forget_one, figure in ((None, 0.0, True, 0.0), (2, 0.5, True, 0.5), (1, 0.75, True, 0.25),
                                            (None, 0.0, False, 0.0), (1, 0.25, False, 0.25)):
        bias = np.zeros((4, h))
        bias[1] = 1.0 if forget_one else 0.0
        if gate is not None:
            bias[gate] = value
        got = check("bias", bias=bias.ravel(), forget_one=forget_one)
        assert got == (figure == 0.0, Deciding("L: largest |bias − expected|", figure,
                                               f"zeros, {'ones' if forget_one else 'zeros'} in the forget gate", 0.0,
                                               "exactly equal", figure == 0.0)), (gate, value, forget_one)


@pytest.mark.mindspore
@pytest.mark.parametrize("target, variant, holds", [("kernel", "kernel_tripled", False), ("kernel", "as_written", True),
                                                    ("bias", "bias_split", True), ("recurrent_kernel", "as_written", True)])
def test_initializer_recipe_is_judged_on_its_target_and_keras_single_bias(target, variant, holds):
    """The recipe side (MindSpore's ``keras_initialization``) is judged on the row's target: a recipe whose kernel is
    off fails the kernel row; the bias is compared as the sum MindSpore computes with (its two biases are Keras's one),
    so a forget-gate 1 split between bias_ih and bias_hh still holds."""
    adapter_or_skip("mindspore")
    from mindspore import Tensor

    from mapping.recipes import mindspore as ms_recipes
    from mapping.spec import LayerSpec

    def recipe(net, input_size, hidden):
        ms_recipes.keras_initialization(net, input_size, hidden)
        params = {p.name.split(".")[-1]: p for p in net.get_parameters()}
        if variant == "kernel_tripled":
            params["weight_ih_l0"].set_data(params["weight_ih_l0"] * 3)
        if variant == "bias_split":
            half = params["bias_ih_l0"].asnumpy() / 2
            params["bias_ih_l0"].set_data(Tensor(half))
            params["bias_hh_l0"].set_data(Tensor(half))

    args = initializers.InitializerArgs(target=target, keras_default="x", input_size=8, hidden_size=16)
    ctx = CheckContext("mindspore")
    spec = LayerSpec.parse({"input_size": 8, "hidden_size": 16}, op="lstm")
    outcome = initializers._recipe_side(ctx, args, ctx.measurement(), spec, recipe, target)
    assert (outcome.verdict == Verdict.EQUIVALENT_WITH_RECIPE) is holds and bool(outcome.problems) is not holds
    assert outcome.deciding.label.startswith("after the recipe: ") and bool(outcome.deciding.holds) is holds


def test_dropout_run_builds_the_pages_op_batch_first_with_the_steps_asked():
    """The fingerprint's runs: the case's op (a GRU page's layer is a GRU), batch-first, cut to the steps its test
    asks for (one step tells input dropout from recurrent dropout); a per-layer dropout is never stacked."""
    from mapping.checks.arguments import Setup

    ctx = CheckContext("torch", op="gru")
    ctx.__dict__["adapter"] = ReferenceAdapter()
    setup = Setup()
    for steps in (1, setup.steps):
        out, h, ref = dropout_module._run(ctx, "dropout", 0.0, setup, 1, steps, False)
        assert list(ref.states) == ["h_n"] and out.shape == ref.output.shape == (setup.batch, steps, setup.hidden_size)
    with pytest.raises(ValueError, match="use one layer"):
        dropout_module._run(ctx, "recurrent_dropout", 0.1, setup, 2, setup.steps, False)


def test_regularizer_recipe_records_its_figure_and_a_missing_recipe_is_a_problem():
    """``regularizers._run_recipe``: the recipe's figure is the largest |got - expected| over what it is compared
    with, recorded with what that is; a recipe the framework lacks is a problem naming it."""
    from mapping.checks import regularizers

    ctx = CheckContext("torch")
    m = ctx.measurement()
    with mock.patch.object(regularizers.recipes, "shown", side_effect=LookupError("no recipe 'bias_l2' for torch")):
        regularizers._run_recipe(ctx, m, "bias_l2", None, {}, lambda got: {}, "Keras's loss")
    assert m.problems == ["no recipe 'bias_l2' for torch"]

    def kernel_l2(model, x, l2):
        return x * l2

    m = ctx.measurement()
    with mock.patch.object(regularizers.recipes, "shown", return_value=kernel_l2):
        regularizers._run_recipe(ctx, m, "kernel_l2", None, {"x": np.array([1.0, 2.0]), "l2": 0.5},
                                 lambda got: {"penalty": (got, np.array([0.5, 1.0 - 3e-3]))}, "Keras's loss")
    (executed,) = m.recipes
    assert executed.fn is kernel_l2 and executed.ok is False and executed.compared_with == "Keras's loss"
    assert executed.max_abs == pytest.approx(3e-3, rel=1e-9)
    assert m.problems == ["the recipe kernel_l2 no longer reproduces Keras's loss (max abs 0.003)"]
