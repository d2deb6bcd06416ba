"""Recipes that run: every recipe function declares a contract the suite executes it under, its shown source is
copyable (no harness imports, no decorator), and a recipe that stops working fails its case."""

import ast
from pathlib import Path

import pytest
from support import adapter_or_skip

from mapping import recipes
from mapping.cases import case_files, load_case_file
from mapping.recipes import contracts

ROOT = Path(__file__).resolve().parents[1]
ALL = [(framework, name) for framework in recipes.MODULES for name in recipes.names(framework)]


def test_recipes_exist_for_every_family():
    assert {f for f, _ in ALL} >= {"torch", "mindspore"}


@pytest.mark.parametrize("framework,name", ALL, ids=[f"{f}-{n}" for f, n in ALL])
def test_every_recipe_has_a_known_contract_a_docstring_and_copyable_source(framework, name):
    fn = recipes.shown(framework, name)
    spec = recipes.spec_of(fn)
    assert spec.contract in contracts.CONTRACTS
    if "target" in spec.options:
        assert spec.options["target"] in contracts.TARGETS
    assert (fn.__doc__ or "").strip(), "a recipe says what it is for"
    source = contracts.source(fn)
    assert source.startswith("def ") and "@recipe" not in source
    tree = ast.parse(source)
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not any(isinstance(n, ast.ImportFrom) and (n.level or (n.module or "").startswith("mapping"))
                   for n in imports), "a recipe uses the framework's API only, nothing from this harness"


def test_every_recipe_a_case_shows_is_written_for_its_framework():
    shown = 0
    for path in case_files(ROOT / "cases"):
        cf = load_case_file(path)
        for case in cf.cases:
            for framework in cf.frameworks_of(case):
                for name in case.recipe_names(framework):
                    assert recipes.spec_of(recipes.shown(framework, name)) is not None
                    shown += 1
    assert shown > 0


@pytest.mark.torch
def test_a_recipe_that_stops_working_fails_its_case(monkeypatch):
    from mapping import judge

    adapter_or_skip("torch")
    path = ROOT / "cases" / "pytorch_lstm_r2.3.yaml"
    case_file = load_case_file(path)
    case = next(c for c in case_file.cases if c.row == "Input 4")
    assert judge.judge(path, case_file, case, "torch").status == "passed"
    working = recipes.get("torch", "packed_lengths")

    @recipes.recipe(**{"contract": "forward", **recipes.spec_of(working).options})
    def packed_lengths(lstm, x, lengths, hx=None):
        """A recipe that runs the padded steps as data: the final states are those after the padding."""
        output, (h_n, c_n) = lstm(x, hx)
        return output * (lengths.max() > 0), h_n, c_n

    monkeypatch.setattr("mapping.recipes.torch.packed_lengths", packed_lengths)
    j = judge.judge(path, case_file, case, "torch")
    assert j.status == "failed"
    assert "recipe packed_lengths no longer reproduces" in j.message
    (record,) = j.recipes
    assert record.executed and record.ok is False and "lengths.max()" in record.source


@pytest.mark.torch
def test_a_recipe_the_check_should_run_but_did_not_fails_its_case(monkeypatch, tmp_path):
    from mapping import judge

    adapter_or_skip("torch")

    @recipes.recipe("check")
    def never_run(lstm):
        """Shown, but no check executes it."""
        return lstm

    monkeypatch.setattr("mapping.recipes.torch.never_run", never_run, raising=False)
    base = (ROOT / "tests" / "fixtures" / "bad_input" / "base_case_file.yaml").read_text(encoding="utf-8")
    path = tmp_path / "case.yaml"
    path.write_text(base.replace("    verdict: equivalent\n", "    verdict: equivalent\n    recipe: {torch: never_run}\n",
                                 1), encoding="utf-8")
    case_file = load_case_file(path)
    j = judge.judge(path, case_file, case_file.cases[0], "torch")
    assert j.status == "failed" and "recipe never_run is shown, but the case's check did not execute it" in j.message
    assert j.recipes[0].executed is False


@pytest.mark.torch
def test_a_recipe_runs_in_its_variants_and_says_where_it_stops_holding():
    from mapping.checks import CheckContext
    from mapping.probes import PROBES

    adapter_or_skip("torch")
    finding = PROBES["recipe_variants"].run({"recipe": "packed_lengths"}, CheckContext("torch"))
    assert finding.behaviour == "plain=holds bidirectional=holds layers=holds padding=holds initial_state=holds"
    assert not finding.trap and finding.figure is None


@pytest.mark.mindspore
def test_the_input_dropout_contract_tells_one_mask_per_sequence_from_one_per_step():
    from mapping.checks.arguments import Setup

    adapter = adapter_or_skip("mindspore")
    shown = recipes.shown("mindspore", "keras_input_dropout")
    run = contracts.execute(shown, contracts.RecipeCall(adapter, "lstm", Setup()))
    assert run.ok and "100% of 256 samples" in run.detail and "one mask per sequence" in run.detail

    @recipes.recipe("input_dropout", rate=0.5, per_sequence=True)
    def per_step(net, x, rate):
        """Keras 2's structure: a new mask at every step."""
        from mindspore import ops

        return net(ops.dropout(x, p=rate))

    run = contracts.execute(per_step, contracts.RecipeCall(adapter, "lstm", Setup()))
    assert not run.ok and "masks vary over time" in run.detail


@pytest.mark.mindspore
def test_a_port_from_keras_weights_that_forgets_the_transpose_fails():
    from mapping.checks.arguments import Setup

    adapter = adapter_or_skip("mindspore")
    assert contracts.execute(recipes.shown("mindspore", "from_keras_weights"),
                             contracts.RecipeCall(adapter, "lstm", Setup(input_size=4, hidden_size=4))).ok

    @recipes.recipe("build", target="from_keras_weights", spec={"batch_first": True})
    def untransposed(kernel, recurrent_kernel, bias):
        """Copies Keras's (inputs, 4*units) kernels as they are: with input_size == units the shapes even fit."""
        import numpy as np
        from mindspore import Tensor, nn

        net = nn.LSTM(kernel.shape[0], recurrent_kernel.shape[0], batch_first=True)
        params = {p.name: p for p in net.get_parameters()}
        for name, array in (("weight_ih_l0", kernel), ("weight_hh_l0", recurrent_kernel)):
            params[name].set_data(Tensor(np.ascontiguousarray(array.reshape(params[name].shape), np.float32)))
        params["bias_ih_l0"].set_data(Tensor(bias.astype(np.float32)))
        params["bias_hh_l0"].set_data(Tensor(np.zeros_like(bias, np.float32)))
        return net

    run = contracts.execute(untransposed, contracts.RecipeCall(adapter, "lstm", Setup(input_size=4, hidden_size=4)))
    assert not run.ok and run.max_abs > 1e-3


@pytest.mark.mindspore
def test_a_cell_loop_that_never_carries_its_state_fails_its_case(monkeypatch):
    """The LSTMCell page's own MindSpore loop (the initial states passed at every step) as the recipe: the cell_steps
    target tells it from the loop that feeds each step's states to the next."""
    from mapping import judge

    adapter_or_skip("mindspore")
    path = ROOT / "cases" / "pytorch_lstmcell_master.yaml"
    case_file = load_case_file(path)
    case = next(c for c in case_file.cases if c.row == "Code example 2")
    assert judge.judge(path, case_file, case, "mindspore").status == "passed"
    working = recipes.get("mindspore", "lstm_cell_loop")

    @recipes.recipe(**{"contract": working.__recipe__.contract, **recipes.spec_of(working).options})
    def lstm_cell_loop(net, x, h0, c0):
        """The page's loop: every step starts again from the initial states."""
        from mindspore import ops

        outputs, h, c = [], h0, c0
        for x_t in x:
            h, c = net(x_t, (h0, c0))
            outputs.append(h)
        return ops.stack(outputs), h, c

    monkeypatch.setattr("mapping.recipes.mindspore.lstm_cell_loop", lstm_cell_loop)
    j = judge.judge(path, case_file, case, "mindspore")
    assert j.status == "failed" and "recipe lstm_cell_loop no longer reproduces" in j.message
    assert j.recipes[0].ok is False and j.recipes[0].max_abs > 0.01


@pytest.mark.torch
def test_a_cell_recipe_has_no_bidirectional_layered_or_padded_variant():
    from mapping.checks import CheckContext
    from mapping.probes import PROBES

    adapter_or_skip("torch")
    finding = PROBES["recipe_variants"].run({"recipe": "lstm_cell_loop"}, CheckContext("torch", op="lstm_cell"))
    assert finding.behaviour == "plain=holds bidirectional=n/a layers=n/a padding=n/a initial_state=holds"
    gru = PROBES["recipe_variants"].run({"recipe": "hidden_state_by_position"}, CheckContext("torch", op="gru"))
    assert gru.behaviour.startswith("plain=holds bidirectional=holds layers=holds padding=differs")  # no lengths taken
