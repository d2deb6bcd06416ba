"""mapping.diagnose: where a mismatch starts, and the explanation that reproduces it.

Two layers of tests: the reference altered by hand (no framework needed: every gate order, every bias fold,
the state and time-axis mix-ups), then the faults of mapping/faults.py injected into the real adapters, for
which the diagnosis must name the injected cause; and the wiring: a failing case's message has a
"diagnosis:" line.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from support import adapter_or_skip

from mapping.diagnose import diagnose
from mapping.diagnose.hypotheses import gate_order_text
from mapping.faults import FAULTS
from mapping.problem import Problem, RunResult
from mapping.spec import LayerSpec
from mapping.weights import (
    CanonicalWeights,
    random_inputs,
    random_state,
    random_weights,
)

PERMUTATIONS = [p for p in itertools.permutations(range(4)) if p != (0, 1, 2, 3)]
GATES = ("i", "f", "g", "o")


def lstm_result(output, h_n, c_n) -> RunResult:
    return RunResult(output, {"h_n": h_n, "c_n": c_n})


def problem(state=False, lengths=None, batch=3, steps=5, op="lstm", **spec_fields) -> Problem:
    spec = LayerSpec.parse(dict(input_size=3, hidden_size=4, **spec_fields), op=op)
    return Problem(spec, random_weights(spec, seed=0), random_inputs(spec, batch, steps, seed=1),
                   random_state(spec, batch, seed=2) if state else None,
                   None if lengths is None else np.asarray(lengths))


def permuted(weights: CanonicalWeights, perm, only=None) -> CanonicalWeights:
    def g(a):
        return None if a is None else np.concatenate([np.split(a, 4)[k] for k in perm])

    return CanonicalWeights(spec=weights.spec, cells={
        key: (replace(c, w_ih=g(c.w_ih), w_hh=g(c.w_hh), b_ih=g(c.b_ih), b_hh=g(c.b_hh))
              if only in (None, key) else c) for key, c in weights.cells.items()})


# --- the reference altered by hand ---------------------------------------------------------------------


@pytest.mark.parametrize("perm", PERMUTATIONS, ids=[gate_order_text(GATES, p).replace(", ", "") for p in PERMUTATIONS])
def test_every_gate_order_is_named(perm):
    p = problem()
    d = diagnose(p, p.replace(weights=permuted(p.weights, perm)).reference())
    assert d.explanations[0] == f"the gates are ordered {gate_order_text(GATES, perm)}", d.line()
    assert f"matches if the gates are ordered {gate_order_text(GATES, perm)}" in d.line()


def test_gate_order_in_one_layer_and_direction():
    p = problem(num_layers=2, bidirectional=True)
    d = diagnose(p, p.replace(weights=permuted(p.weights, (0, 3, 2, 1), only=(1, 1))).reference())
    assert d.explanations == ["the gates are ordered i, o, g, f in layer 1, the backward direction only"], d.line()
    assert d.where.startswith("difference starts in layer 1 of 2 (layers below match)"), d.where
    assert "forward matches" in d.where and "backward: output from time step 4, where it starts" in d.where


@pytest.mark.parametrize("fold, words", [
    (lambda c: (c.b_ih, 0 * c.b_hh), "b_hh is dropped"),
    (lambda c: (0 * c.b_ih, c.b_hh), "b_ih is dropped"),
    (lambda c: (c.b_ih, 2 * c.b_hh), "b_hh is added twice"),
    (lambda c: (2 * c.b_ih, 2 * c.b_hh), "the bias is doubled"),
])
def test_bias_folds(fold, words):
    p = problem()
    w = CanonicalWeights(spec=p.spec, cells={k: replace(c, b_ih=fold(c)[0], b_hh=fold(c)[1])
                                             for k, c in p.weights.cells.items()})
    d = diagnose(p, p.replace(weights=w).reference())
    assert d.explanations and d.explanations[0].startswith(words), d.line()


def test_time_axis_and_direction_mix_ups():
    p = problem(bidirectional=True)
    ref = p.reference()
    flipped_input = p.replace(x=np.ascontiguousarray(p.x[:, ::-1])).reference()
    assert "the input is reversed in time" in diagnose(p, flipped_input).explanations
    back = np.concatenate([ref.output[..., :4], ref.output[:, ::-1, 4:]], axis=-1)
    assert diagnose(p, lstm_result(back, ref.h_n, ref.c_n)).explanations[0].startswith(
        "the backward half of the output is reversed")
    swapped = CanonicalWeights(spec=p.spec, cells={(0, 0): p.weights[0, 1], (0, 1): p.weights[0, 0]})
    assert diagnose(p, p.replace(weights=swapped).reference()).explanations == [
        "the forward and backward directions' weights are swapped"]


def test_state_mix_ups():
    p = problem(state=True, num_layers=2, bidirectional=True)
    ref = p.reference()
    assert diagnose(p, lstm_result(ref.output, ref.c_n, ref.h_n)).explanations == [
        "h and c are swapped in the final states"]
    order = [1, 0, 3, 2]
    assert diagnose(p, lstm_result(ref.output, ref.h_n[order], ref.c_n[order])).explanations == [
        "the final states of the two directions are in the other order (backward first)"]
    order = [2, 3, 0, 1]
    assert diagnose(p, lstm_result(ref.output, ref.h_n[order], ref.c_n[order])).explanations == [
        "the final states are collected with the layers in reverse order"]
    h0, c0 = p.initial_state
    assert "the initial h and c are swapped" in diagnose(p, p.replace(initial_state=(c0, h0)).reference()).explanations
    assert "the initial state is ignored (zeros are used)" in diagnose(p, p.replace(initial_state=None).reference()).explanations


def test_lengths_mix_ups():
    p = problem(lengths=[5, 2, 4])
    assert diagnose(p, p.replace(lengths=np.array([4, 1, 3])).reference()).explanations[0] == \
        "the lengths are one shorter (lengths - 1)"
    assert diagnose(p, p.replace(lengths=None).reference()).explanations[0] == "the lengths are ignored (every step runs)"


def test_where_names_the_first_differing_step():
    p = problem(steps=7)
    ref = p.reference()
    out = ref.output.copy()
    out[:, 3:] += 0.1  # from time step 3 on
    d = diagnose(p, lstm_result(out, ref.h_n + 0.1, ref.c_n))
    assert d.where == "difference starts in layer 0: forward: output from time step 3 (4 of 7 steps differ), final h"
    assert not d.explained and "none of" in d.line()


def test_shape_mismatch_and_match():
    p = problem()
    ref = p.reference()
    assert diagnose(p, lstm_result(ref.output[:, :, :2], ref.h_n, ref.c_n)).where.startswith("shapes differ: output")
    assert diagnose(p, ref).where.startswith("no difference")


# --- the injected faults, through the real adapters ---------------------------------------------------


def _tolerance(framework: str, dtype: str, padded: bool, op: str = "lstm") -> float:
    from mapping import tolerances

    return tolerances.forward_tolerance(framework, dtype, padded, op)  # padded paths may have their own entry


DIAGNOSABLE = [(f, fw) for f in FAULTS if f.demo is not None for fw in f.frameworks]


@pytest.mark.parametrize("fault, framework", DIAGNOSABLE, ids=[f"{f.name}-{fw}" for f, fw in DIAGNOSABLE])
def test_diagnosis_names_the_injected_fault(fault, framework):
    from mapping.compare import compare_results, mismatches

    adapter = adapter_or_skip(framework)
    demo = fault.demo
    p = problem(state=demo.state, lengths=demo.lengths, batch=demo.batch, steps=demo.steps, **demo.spec)
    tol = _tolerance(framework, p.spec.dtype, p.lengths is not None, p.spec.api)
    with fault.apply():
        actual = adapter.forward(p)
    expected = p.reference()
    assert mismatches(compare_results(actual, expected, tol, p.output_mask())), f"{fault.name} does not show on its demo"
    d = diagnose(p, actual, tol)
    print(f"{fault.name} on {framework}: diagnosis: {d.line()}")
    assert d.where.startswith(("difference starts", "shapes differ")), d.where
    if fault.diagnosis is None:
        return
    assert d.explanations and fault.diagnosis in d.explanations[0], d.line()


# --- wiring: the failure message of a case ------------------------------------------------------------


@pytest.mark.parametrize("fault_name, case_path, row, framework, words", [
    ("torch_h_c_swapped", "cases/pytorch_lstm_r2.3.yaml", "Parameter 1", "torch",
     "h and c are swapped in the final states"),
    ("keras_gates_f_g_swapped", "cases/tensorflow_lstm_master.yaml", "Parameter 1", "tfkeras",
     "matches if the gates are ordered i, g, f, o"),
    ("mindspore_lengths_off_by_one", "cases/tensorflow_lstm_master.yaml", "Parameter 32", "mindspore",
     "matches if the lengths are one shorter"),
])
def test_failure_message_has_a_diagnosis_line(fault_name, case_path, row, framework, words):
    from pathlib import Path

    from mapping.cases import load_case_file
    from mapping.faults import FAULTS_BY_NAME
    from mapping.judge import judge

    adapter_or_skip(framework)
    path = Path(__file__).resolve().parents[1] / case_path
    case_file = load_case_file(path)
    case = next(c for c in case_file.cases if c.row == row)
    with FAULTS_BY_NAME[fault_name].apply():
        judgement = judge(case_path, case_file, case, framework)
    print(judgement.message)
    assert judgement.status == "failed"
    lines = [line for line in judgement.message.splitlines() if line.startswith("  diagnosis: ")]
    assert lines and any(words in line for line in lines), judgement.message
