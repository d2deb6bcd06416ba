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


def judge_row(case_file_name: str, row: str, framework: str):
    """The judgement of one row of a shipped case file on ``framework``, as ``pytest cases`` gives it (the recipes a
    case names are looked up when it is judged, so a recipe replaced by a test is the one that runs)."""
    from mapping import judge

    path = ROOT / "cases" / case_file_name
    case_file = load_case_file(path)
    case = next(c for c in case_file.cases if c.row == row)
    return judge.judge(path, case_file, case, framework)
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
    adapter_or_skip("torch")
    assert judge_row("pytorch_lstm_r2.3.yaml", "Input 4", "torch").status == "passed"
    working = recipes.get("torch", "packed_lengths")

    @recipes.recipe(**{"contract": "forward", **recipes.spec_of(working).options})
    def packed_lengths(lstm, x, lengths, hx=None):
        """A recipe that runs the padded steps as data: the final states are those after the padding."""
        output, (h_n, c_n) = lstm(x, hx)
        return output * (lengths.max() > 0), h_n, c_n

    monkeypatch.setattr("mapping.recipes.torch.packed_lengths", packed_lengths)
    j = judge_row("pytorch_lstm_r2.3.yaml", "Input 4", "torch")
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


# --- the recipes that replaced free text on the LSTM pages and the supplements ---

#: The case files whose free-text recipes were turned into executed recipes (or into a case's finding).
CONVERTED = ["tensorflow_lstm_master.yaml", "tensorflow_lstm_r1.9.yaml", "pytorch_lstm_r2.3.yaml",
             "keras_gru_supplement.yaml", "keras_simplernn_supplement.yaml", "dropout_structure.yaml"]
#: The LSTM vendor pages: each row whose recorded verdict is diverges shows a recipe that runs.
LSTM_PAGES = CONVERTED[:3]


#: Every case file the project ships.
CASE_FILES = sorted(p.name for p in (ROOT / "cases").glob("*.yaml"))


@pytest.mark.parametrize("name", CASE_FILES)
def test_no_recipe_is_free_text(name):
    """A recipe is shown only as the code the suite executed (no case file keeps recipe text apart from code)."""
    case_file = load_case_file(ROOT / "cases" / name)
    text = [c.row for c in case_file.cases if isinstance(c.recipe, str)]
    assert not text, f"{name}: recipes shown as text, not executed: {text}"


def test_every_diverging_row_of_the_vendor_pages_shows_a_recipe_that_runs():
    diverging: dict[str, int] = {}
    for name in CASE_FILES:
        case_file = load_case_file(ROOT / "cases" / name)
        if case_file.page.kind != "mapping_page":
            continue
        for case in case_file.cases:
            verdicts = case.verdict.values() if isinstance(case.verdict, dict) else [case.verdict]
            if "diverges" not in {getattr(v, "value", v) for v in verdicts}:
                continue
            diverging[name] = diverging.get(name, 0) + 1
            shown = [n for fw in case_file.frameworks_of(case) for n in case.recipe_names(fw)]
            assert shown, f"{name} {case.row}: diverges, but no recipe is shown"
    # LSTM master Parameters 16, 17, 24, 30; r1.9 batch_first and its code example
    assert sum(diverging.get(name, 0) for name in LSTM_PAGES) == 6
    assert set(diverging) >= {"pytorch_gru_master.yaml", "pytorch_rnn_master.yaml", "pytorch_lstmcell_master.yaml",
                              "pytorch_grucell_master.yaml", "pytorch_rnncell_master.yaml"}


def _call(framework: str, **setup):
    from mapping.checks.arguments import Setup

    return contracts.RecipeCall(adapter_or_skip(framework), "lstm", Setup(**setup))


def test_a_recipe_that_loops_by_hand_is_judged_with_the_cell_apis_tolerance():
    from mapping.checks.arguments import Setup
    from mapping.problem import Problem
    from mapping.tolerances import forward_tolerance
    from mapping.weights import random_inputs, random_weights

    spec = Setup().spec("lstm")
    problem = Problem(spec, random_weights(spec, seed=0), random_inputs(spec, 2, 5, seed=1), None)
    call = contracts.RecipeCall(None, "lstm", Setup())
    object.__setattr__(call, "adapter", type("A", (), {"name": "mindspore"})())
    assert call.tol(problem) == forward_tolerance("mindspore", "float32", padded=False)
    assert call.tol(problem, loop=True) == forward_tolerance("mindspore", "float32", padded=False, op="lstm_cell")
    assert call.tol(problem, loop=True) > call.tol(problem)  # MindSpore's elementwise Tanh is approximate


@pytest.mark.torch
def test_the_recurrent_dropout_contract_refuses_other_structures():
    call = _call("torch")
    assert contracts.execute(recipes.shown("torch", "keras_recurrent_dropout"), call).ok

    def loop(lstm, x, masks_at):  # the recipe's loop, with the masks chosen by ``masks_at(t)``
        import torch

        hidden = lstm.hidden_size
        recurrent = lstm.weight_hh_l0.chunk(4)
        h = x.new_zeros(x.shape[0], hidden)
        c = h
        outputs = []
        for t in range(x.shape[1]):
            masks = masks_at(t)
            z = x[:, t] @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + lstm.bias_hh_l0
            z = z + torch.cat([(h * masks[k]) @ recurrent[k].T for k in range(4)], dim=1)
            i, f, g, o = z.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h, c

    def drop(x, rate, shape):
        import torch

        return torch.nn.functional.dropout(x.new_ones(*shape), p=rate, training=True)

    @recipes.recipe("recurrent_dropout", rate=0.5)
    def one_mask_for_all_gates(lstm, x, rate):
        """One mask shared by the four gates."""
        mask = drop(x, rate, (1, x.shape[0], lstm.hidden_size))
        return loop(lstm, x, lambda t: mask.expand(4, -1, -1))

    @recipes.recipe("recurrent_dropout", rate=0.5)
    def per_step(lstm, x, rate):
        """A fresh mask per step (Keras keeps one for the sequence)."""
        return loop(lstm, x, lambda t: drop(x, rate, (4, x.shape[0], lstm.hidden_size)))

    @recipes.recipe("recurrent_dropout", rate=0.5)
    def unscaled(lstm, x, rate):
        """Drops without rescaling the kept values by 1 / (1 - rate)."""
        mask = drop(x, rate, (4, x.shape[0], lstm.hidden_size)) * (1 - rate)
        return loop(lstm, x, lambda t: mask)

    runs = {fn.__name__: contracts.execute(fn, call) for fn in (one_mask_for_all_gates, per_step, unscaled)}
    assert not runs["one_mask_for_all_gates"].ok and "one mask for all gates" in runs["one_mask_for_all_gates"].detail
    for name in ("per_step", "unscaled"):
        assert not runs[name].ok and not runs[name].detail.startswith("100%"), (name, runs[name].detail)


@pytest.mark.torch
def test_a_broken_recurrent_dropout_recipe_fails_its_case(monkeypatch):
    adapter_or_skip("torch")
    assert judge_row("dropout_structure.yaml", "recurrent_dropout", "torch").status == "passed"

    @recipes.recipe("recurrent_dropout", rate=0.5, loop=True)
    def keras_recurrent_dropout(lstm, x, rate):
        """Drops the layer's output instead of the recurrent state."""
        import torch

        output, (h, c) = lstm(x)
        return torch.nn.functional.dropout(output, p=rate, training=True), h, c

    monkeypatch.setattr("mapping.recipes.torch.keras_recurrent_dropout", keras_recurrent_dropout)
    j = judge_row("dropout_structure.yaml", "recurrent_dropout", "torch")
    assert j.status == "failed" and "recipe keras_recurrent_dropout no longer reproduces" in j.message


@pytest.mark.torch
@pytest.mark.parametrize("op", ["gru", "rnn"])
def test_a_left_padding_recipe_that_forgets_to_move_the_padding_fails(op):
    from mapping.checks.arguments import Setup

    call = contracts.RecipeCall(adapter_or_skip("torch"), op, Setup())
    assert contracts.execute(recipes.shown("torch", "left_padding"), call).ok

    @recipes.recipe("forward", target="left_padded", spec={"batch_first": True}, padded=True)
    def packed_as_given(rnn, x, lengths):
        """Packs the left-padded batch as it is: the leading zeros are taken as real steps."""
        import torch

        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        output, h_n = rnn(packed)
        return torch.nn.utils.rnn.pad_packed_sequence(output, batch_first=True, total_length=x.shape[1])[0], h_n

    run = contracts.execute(packed_as_given, call)
    assert not run.ok and run.max_abs > 1e-3


@pytest.mark.torch
def test_a_gru_port_that_keeps_kerass_gate_order_fails():
    from mapping.checks.arguments import Setup

    call = contracts.RecipeCall(adapter_or_skip("torch"), "gru", Setup())
    assert contracts.execute(recipes.shown("torch", "from_keras_gru_weights"), call).ok
    assert contracts.execute(recipes.shown("torch", "gru_reset_before"), call).ok

    @recipes.recipe("build", target="from_keras_weights", spec={"batch_first": True})
    def gates_as_keras(kernel, recurrent_kernel, bias):
        """Transposes but keeps Keras's gate order z, r, h."""
        import numpy as np
        import torch

        gru = torch.nn.GRU(kernel.shape[0], recurrent_kernel.shape[0], batch_first=True)
        with torch.no_grad():
            for p, a in zip(gru.parameters(), (kernel.T, recurrent_kernel.T, bias[0], bias[1])):
                p.copy_(torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)))
        return gru

    @recipes.recipe("forward", target="keras_sequences_and_states", spec={"batch_first": True, "reset_after": False},
                    layer={"reset_after": True}, loop=True)
    def reset_after_anyway(gru, x):
        """Runs nn.GRU as it is (reset gate after the recurrent product)."""
        output, h_n = gru(x)
        return output, h_n[-1]

    for fn in (gates_as_keras, reset_after_anyway):
        run = contracts.execute(fn, call)
        assert not run.ok and run.max_abs > 1e-3, fn.__name__


@pytest.mark.mindspore
def test_mindspore_hand_loops_reproduce_kerass_activations_pytorchs_projection_and_recurrent_dropout():
    runs = {name: contracts.execute(recipes.shown("mindspore", name), _call("mindspore"))
            for name in ("keras_activations", "projected_lstm", "keras_recurrent_dropout", "keras2_input_dropout",
                         "bidirectional_states", "left_padding")}
    assert all(r.ok for r in runs.values()), {n: r.detail for n, r in runs.items() if not r.ok}
    assert "cell API's tolerance" in runs["keras_activations"].compared_with

    @recipes.recipe("forward", target="keras_sequences_and_states",
                    spec={"batch_first": True, "activation": "relu", "recurrent_activation": "hard_sigmoid"},
                    layer={"activation": "tanh", "recurrent_activation": "sigmoid"}, loop=True)
    def fixed_activations(net, x, activation="tanh", recurrent_activation="sigmoid"):
        """Ignores Keras's activations: mindspore.nn.LSTM as it is."""
        output, (h_n, c_n) = net(x)
        return output, h_n[-1], c_n[-1]

    @recipes.recipe("build", target="from_torch_weights", spec={"proj_size": 2, "batch_first": False}, loop=True)
    def without_projection(state_dict):
        """An nn.LSTM with the projected hidden size: the weights do not fit."""
        from mindspore import nn

        return nn.LSTM(state_dict["weight_ih_l0"].shape[1], state_dict["weight_hr_l0"].shape[0])

    for fn in (fixed_activations, without_projection):
        assert not contracts.execute(fn, _call("mindspore")).ok, fn.__name__


@pytest.mark.tfkeras
def test_keras_recipes_for_the_renamed_call_argument_and_time_major():
    assert contracts.execute(recipes.shown("tfkeras", "positional_input"), _call("tfkeras")).ok
    assert contracts.execute(recipes.shown("keras2", "time_major_layer"), _call("keras2")).ok

    @recipes.recipe("forward", target="keras_sequences_and_states", spec={"batch_first": True})
    def keyword_input(lstm, x):
        """Keras 2's keyword: Keras 3 calls it sequences."""
        return lstm(inputs=x)

    with pytest.raises(TypeError, match="sequences"):
        contracts.execute(keyword_input, _call("tfkeras"))
    assert contracts.execute(keyword_input, _call("keras2")).ok


def _findings_recipe_lines() -> list[dict]:
    import re

    text = (ROOT / "FINDINGS.md").read_text(encoding="utf-8")
    section = text.split("## Recipes for the rows that had text only", 1)[1].split("\n## ", 1)[0]
    header = "| case file, row | framework | recipe | compared with | figure |"
    table = section.split(header, 1)[1].strip().split("\n\n", 1)[0].splitlines()[1:]
    line = re.compile(r"^\| `(?P<file>[^`]+)`, (?P<row>[^|]+?) \| (?P<framework>\w+) \| `(?P<name>\w+)` \| [^|]+ \| "
                      r"(?P<figure>[^|]+?) \|$")
    parsed = [line.match(t) for t in table]
    assert all(parsed), [t for t, m in zip(table, parsed) if not m]
    return [m.groupdict() for m in parsed]


FINDINGS_RECIPES = _findings_recipe_lines()


@pytest.mark.parametrize("line", [pytest.param(x, id=f"{x['file']}-{x['row']}-{x['framework']}-{x['name']}",
                                               marks=getattr(pytest.mark, x["framework"])) for x in FINDINGS_RECIPES])
def test_findings_recipe_figures_are_what_the_recipe_measures_on_its_case(line):
    from mapping import judge
    from mapping.checks import CHECKS
    from mapping.checks.arguments import Setup

    case_file = load_case_file(ROOT / "cases" / line["file"])
    case = next(c for c in case_file.cases if c.row == line["row"])
    assert line["name"] in case.recipe_names(line["framework"]), "the case shows the recipe FINDINGS.md names"
    ctx = judge.context(case, line["framework"], case_file.page.op)
    setup = getattr(CHECKS[case.check].parse_args(case.args), "setup", None) or Setup()
    call = contracts.RecipeCall(adapter_or_skip(line["framework"]), case_file.page.op, setup, ctx.seed, ctx.tolerance)
    run = contracts.execute(recipes.shown(line["framework"], line["name"]), call)
    assert run.ok, run.detail
    measured = f"{run.max_abs:.1e}" if run.max_abs is not None else run.detail.split(" ", 1)[0]
    assert measured == line["figure"]


def test_findings_lists_a_recipe_for_each_row_whose_text_was_converted():
    assert len(FINDINGS_RECIPES) >= 12
    assert {x["file"] for x in FINDINGS_RECIPES} == set(CONVERTED)


@pytest.mark.mindspore
def test_a_cell_loop_that_never_carries_its_state_fails_its_case(monkeypatch):
    """The LSTMCell page's own MindSpore loop (the initial states passed at every step) as the recipe: the cell_steps
    target tells it from the loop that feeds each step's states to the next."""
    adapter_or_skip("mindspore")
    assert judge_row("pytorch_lstmcell_master.yaml", "Code example 2", "mindspore").status == "passed"
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
    j = judge_row("pytorch_lstmcell_master.yaml", "Code example 2", "mindspore")
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
