"""Caveats: the probe vocabulary, the rule that decides when a caveat bites, the judge running probes after the
headline check (a changed behaviour fails the case), and the row status the report derives from them."""

from pathlib import Path

import pytest
from pydantic import BaseModel
from support import adapter_or_skip

from mapping.cases import Caveat, load_case_file
from mapping.probes import KINDS, PROBES, SAME_VERDICTS, Finding, bites
from mapping.results import CaseResult, CaveatRecord
from mapping.status import Status, result_status, row_status
from mapping.verdicts import Verdict

BASE = (Path(__file__).parent / "fixtures" / "bad_input" / "base_case_file.yaml").read_text(encoding="utf-8")


def test_every_probe_has_a_kind_a_summary_and_strict_arguments():
    assert len(PROBES) >= 3
    for name, probe in PROBES.items():
        assert probe.kind in KINDS, name
        assert probe.summary and not probe.summary.endswith("."), name
        assert issubclass(probe.args_model, BaseModel)
        assert probe.args_model.model_config.get("extra") == "forbid", name


def _caveat(**recorded) -> Caveat:
    return Caveat(probe="input_dtype", args={"dtype": "float64"}, recorded=recorded)


def test_a_trap_bites_whatever_the_verdict():
    trap = Finding("accepted output=float64 computed=float32", trap=True)
    for verdict in Verdict:
        assert bites(trap, "mindspore", _caveat(mindspore=trap.behaviour, torch=trap.behaviour), verdict)


def test_a_difference_bites_only_where_the_page_implies_the_sides_are_the_same():
    caveat = _caveat(torch="refused", mindspore="accepted output=float64 computed=float64")
    finding = Finding("refused")
    for verdict in Verdict:
        assert bites(finding, "torch", caveat, verdict) == (verdict in SAME_VERDICTS), verdict
    same = _caveat(torch="refused", mindspore="refused")
    assert not any(bites(finding, "torch", same, verdict) for verdict in Verdict)


def test_a_difference_from_any_version_entry_of_another_framework_is_not_a_difference():
    from mapping.checks.arguments import VersionedBehaviour

    versioned = [VersionedBehaviour(versions=">=3", behaviour="refused", measured_on=["3.15.1"]),
                 VersionedBehaviour(versions="<3", behaviour="accepted", measured_on=["2.15.0"])]
    caveat = Caveat(probe="input_dtype", args={"dtype": "float64"}, recorded={"torch": "refused",
                                                                               "tfkeras": versioned})
    assert not bites(Finding("refused"), "torch", caveat, Verdict.EQUIVALENT)
    assert bites(Finding("cast"), "torch", caveat, Verdict.EQUIVALENT)


def _result(verdict: str | None, *caveats: CaveatRecord, framework: str = "torch") -> CaseResult:
    return CaseResult(page="p", row="r", framework=framework, framework_version="1", check="c", params={}, claim="c",
                      expected_verdict=verdict or "equivalent", measured_verdict=verdict,
                      outcome="passed" if verdict else "skipped", duration_s=0.0, caveats=list(caveats))


def test_status_holds_with_caveats_needs_a_holding_verdict_and_a_biting_caveat():
    biting = CaveatRecord(probe="x", kind="input_forms", title="t", behaviour="b", bites=True)
    quiet = CaveatRecord(probe="y", kind="input_forms", title="t", behaviour="b", bites=False)
    assert result_status(_result("equivalent", quiet)) == Status.HOLDS
    assert result_status(_result("equivalent", quiet, biting)) == Status.HOLDS_WITH_CAVEATS
    assert result_status(_result("equal_at_default", biting)) == Status.HOLDS_WITH_CAVEATS
    assert result_status(_result("diverges", biting)) == Status.FALSE
    assert result_status(_result("not_applicable", biting)) == Status.NOT_APPLICABLE
    assert result_status(_result(None)) == Status.NOT_MEASURED
    assert Status.HOLDS_WITH_CAVEATS.label == "holds, with caveats"
    row = [_result("equivalent", quiet), _result("equivalent", biting, framework="mindspore")]
    assert row_status(row) == Status.HOLDS_WITH_CAVEATS
    assert row_status(row + [_result("diverges", framework="keras2")]) == Status.FALSE
    assert row_status([_result("equivalent"), _result(None, framework="mindspore")]) == Status.HOLDS


def _case_file(tmp_path, caveats: str):
    text = BASE.replace("    verdict: equivalent\n\n  - row: Parameter 2",
                        "    verdict: equivalent\n    caveats:\n" + caveats + "\n  - row: Parameter 2", 1)
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    case_file = load_case_file(path)
    return path, case_file, case_file.cases[0]


@pytest.mark.torch
def test_the_judge_records_every_probe_and_fails_on_a_changed_behaviour(tmp_path):
    from mapping.judge import judge

    adapter_or_skip("torch")
    path, case_file, case = _case_file(tmp_path, (
        "      - probe: input_dtype\n        args: {dtype: float64}\n"
        "        recorded: {torch: refused, mindspore: accepted output=float64 computed=float32}\n"
        "      - probe: state_container\n        args: {container: list}\n        recorded: {torch: accepted}\n"))
    j = judge(path, case_file, case, "torch")
    assert j.status == "passed", j.message
    assert [c.probe for c in j.caveats] == ["input_dtype", "state_container"]
    dtype, container = j.caveats
    assert (dtype.behaviour, dtype.kind, dtype.trap) == ("refused", "input_forms", False)
    assert "float32" in dtype.detail  # torch's own message is kept as the detail
    assert dtype.bites  # equivalent row, and MindSpore is recorded to accept what torch refuses
    assert not container.bites and container.figure is not None and container.figure < 1e-5

    path, case_file, case = _case_file(tmp_path, (
        "      - probe: input_dtype\n        args: {dtype: float64}\n        recorded: {torch: accepted}\n"))
    j = judge(path, case_file, case, "torch")
    assert j.status == "failed"
    assert "behaviour is now 'refused', the case records 'accepted'" in j.message
    assert any(line.startswith("  changed:  caveat") for line in j.message.splitlines())


@pytest.mark.mindspore
def test_mindspore_labels_a_float64_input_float64_and_computes_it_in_float32():
    """The measurement behind the trap the input_dtype probe reports (and what it is compared with)."""
    from mapping.checks import CheckContext

    adapter_or_skip("mindspore")
    finding = PROBES["input_dtype"].run({"dtype": "float64"}, CheckContext("mindspore"))
    assert finding.behaviour == "accepted output=float64 computed=float32"
    assert finding.trap and finding.figure == 0.0
    given = PROBES["input_dtype"].run({"dtype": "float64", "state": True}, CheckContext("mindspore"))
    assert given.behaviour == "refused" and "Float64" in given.detail


def test_fresh_weight_kinds_tell_the_initialisers_apart():
    import numpy as np

    from mapping.probes.defaults import _bias_kind, _weight_kind

    rng = np.random.default_rng(0)
    hidden, inputs = 16, 8
    q, _ = np.linalg.qr(rng.normal(size=(4 * hidden, hidden)))
    assert _weight_kind(q, hidden, hidden, 4 * hidden) == "orthogonal"
    bound = 1 / np.sqrt(hidden)
    assert _weight_kind(rng.uniform(-bound, bound, (4 * hidden, inputs)), hidden, inputs, 4 * hidden) == \
        "uniform within 1/sqrt(hidden)"
    glorot = np.sqrt(6 / (inputs + 4 * hidden))
    assert _weight_kind(np.full((4 * hidden, inputs), glorot * 0.99), hidden, inputs, 4 * hidden) == \
        "uniform within the glorot bound"
    assert _weight_kind(np.full((4 * hidden, inputs), 2.0), hidden, inputs, 4 * hidden) == "other"
    forget = np.zeros(4 * hidden)
    forget[hidden:2 * hidden] = 1
    assert _bias_kind(forget, np.zeros(4 * hidden), hidden, 1) == "zero, forget gate 1"
    assert _bias_kind(forget, np.zeros(4 * hidden), hidden, 2) == "other"
    assert _bias_kind(np.zeros(4), None, 1, 1) == "zero"
    assert _bias_kind(None, None, hidden, 1) == "none"
    two = rng.uniform(-bound, bound, (2, 4 * hidden))
    assert _bias_kind(two[0], two[1], hidden, 1) == "uniform within 1/sqrt(hidden) in 2 vectors"


def test_a_probe_is_measured_once_per_framework_and_arguments(monkeypatch):
    from mapping import probes
    from mapping.checks import CheckContext
    from mapping.checks.arguments import Args

    calls = []

    def counting(args, ctx):
        calls.append(ctx.framework)
        return Finding(f"measured {len(calls)}")

    probe = probes.Probe("counting", "defaults", Args, counting, "counts")
    monkeypatch.setattr(probes, "_MEASURED", {})
    first = probes.measure(probe, {}, CheckContext("torch"))
    assert probes.measure(probe, {}, CheckContext("torch")) is first and calls == ["torch"]
    probes.measure(probe, {}, CheckContext("mindspore"))
    assert calls == ["torch", "mindspore"]
    variants = probes.Probe("variants", "recipe_variants", Args, counting, "runs a recipe")
    probes.measure(variants, {}, CheckContext("torch"))
    probes.measure(variants, {}, CheckContext("torch"))
    assert calls == ["torch", "mindspore", "torch", "torch"]  # a recipe may be replaced: never cached


VENDOR_PAGES = [path for path in sorted((Path(__file__).parents[1] / "cases").glob("*.yaml"))
                if load_case_file(path).page.kind == "mapping_page"]


@pytest.mark.parametrize("path", VENDOR_PAGES, ids=lambda p: p.name)
def test_every_row_of_the_mapping_pages_is_probed_on_every_framework_it_concerns(path):
    """Each row has caveats, and each of its frameworks is measured by at least one of them."""
    case_file = load_case_file(path)
    for case in case_file.cases:
        assert case.caveats, f"{path.name} {case.row}: no caveats probed"
        measured = {framework for caveat in case.caveats for framework in caveat.recorded}
        assert measured == set(case_file.frameworks_of(case)), f"{path.name} {case.row}"


def test_a_probe_calls_each_api_the_way_its_users_do():
    """A cell is called on one step with (batch, hidden) states, always given; one state goes in as the array itself,
    LSTM's two as a tuple (the op layer's as_passed); an unbatched call drops the batch axis of x and the states."""
    import numpy as np

    from mapping.checks.arguments import Setup
    from mapping.probes import calls

    setup = Setup(input_size=3, hidden_size=4, batch=2, steps=5)
    for op in ("lstm_cell", "gru_cell", "rnn_cell"):
        problem = calls.one_step(setup.problem(setup.spec(op, batch_first=True), 0))
        assert problem.steps == 1
        x, hx = calls.user_args(problem)
        assert x.shape == (2, 3)
        states = hx if op == "lstm_cell" else (hx,)
        assert isinstance(hx, tuple) == (op == "lstm_cell")
        assert all(s.shape == (2, 4) and not s.any() for s in states)  # zeros: what a loop's first step passes
        assert calls.user_output(problem).shape == (2, 4)
        x1, hx1 = calls.user_args(problem, unbatched=True)
        assert x1.shape == (3,) and all(s.shape == (4,) for s in (hx1 if op == "lstm_cell" else (hx1,)))
    gru = setup.problem(setup.spec("gru", batch_first=True, num_layers=2), 0, state=True)
    x, hx = calls.user_args(gru)
    assert x.shape == (2, 5, 3) and isinstance(hx, np.ndarray) and hx.shape == (2, 2, 4)
    assert calls.user_args(gru.replace(initial_state=None))[1] is None  # a layer starts from its default
    lstm = setup.problem(setup.spec("lstm", batch_first=True), 0, state=True)
    assert isinstance(calls.user_args(lstm)[1], tuple) and calls.user_output(lstm).shape == (2, 5, 4)


@pytest.mark.parametrize("op,caveat,complaint", [
    ("gru", "      - probe: state_container\n        args: {container: tuple}\n        recorded: {torch: refused}\n",
     "gru carries one state"),
    ("gru_cell", "      - probe: state_directions_mismatch\n        recorded: {torch: refused}\n",
     "gru_cell is one direction")], ids=["one-state-container", "cell-directions"])
def test_a_probe_that_cannot_apply_to_the_pages_api_is_refused_at_load(tmp_path, op, caveat, complaint):
    from mapping.cases import CaseFileError

    text = BASE.replace("  frameworks:", f"  op: {op}\n  frameworks:", 1)
    text = text.replace("    verdict: equivalent\n\n  - row: Parameter 2",
                        "    verdict: equivalent\n    caveats:\n" + caveat + "\n  - row: Parameter 2", 1)
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CaseFileError, match=complaint):
        load_case_file(path)


@pytest.mark.torch
@pytest.mark.mindspore
def test_a_cells_default_state_differs_between_torch_and_mindspore():
    """The measurement behind the GRUCell/RNNCell/LSTMCell pages' state caveat: torch's cells start from zeros
    (within float32 rounding of the reference), MindSpore's refuse a call without a state."""
    from mapping.checks import CheckContext
    from mapping.probes import PROBES

    adapter_or_skip("torch")
    adapter_or_skip("mindspore")
    for op in ("lstm_cell", "gru_cell"):
        torch_side = PROBES["default_state"].run({}, CheckContext("torch", op=op))
        assert torch_side.behaviour == "starts from zero states" and torch_side.figure < 1e-6
        ms_side = PROBES["default_state"].run({}, CheckContext("mindspore", op=op))
        assert ms_side.behaviour == "refused: the state must be given" and "hx" in ms_side.detail
    layer = PROBES["default_state"].run({}, CheckContext("mindspore", op="gru"))
    assert layer.behaviour == "starts from zero states"
