"""``mapping convert`` on real checkpoints written by each framework's own save function.

The default run covers every direction between the four formats (written, then read back by the target's own
reader and compared number for number), one ``--verify`` per format as source and as target, the acceptance
example (a bidirectional 2-layer LSTM under a module prefix, PyTorch -> MindSpore and Keras 3 -> PyTorch), a
consistent converter mistake that only ``--verify`` can see, the refusals and every kind of bad input. The
full grid (every direction x several configurations, verified with padding and time-major inputs) is marked
``convert_grid`` and runs only when selected: ``./scripts/test.sh -m convert_grid tests/test_convert.py``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from checkpoints import SUFFIX, write

from mapping.adapters import missing_reason
from mapping.convert import Inputs, cli, plan, read_stack, verify
from mapping.convert import write as write_plan
from mapping.frameworks import NAMES

DIRECTIONS = [(s, t) for s in NAMES for t in NAMES if s != t]


def pair(source: str, target: str):
    """A (source, target) parameter, marked with both frameworks (``-m mindspore`` selects it)."""
    return pytest.param(source, target, id=f"{source}-to-{target}",
                        marks=[getattr(pytest.mark, source), getattr(pytest.mark, target)])


def need(*names: str) -> None:
    """Skip unless every framework named is installed (the per-framework tox environments have one)."""
    for name in names:
        reason = missing_reason(name)
        if reason:
            pytest.skip(reason)


class Sources(dict):
    """framework -> a real checkpoint of a bidirectional 2-layer LSTM (input 3, hidden 4), written on first use."""

    def __init__(self, folder):
        super().__init__()
        self.folder = folder

    def __missing__(self, name: str):
        need(name)
        self[name] = write(name, self.folder)
        return self[name]


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    return Sources(tmp_path_factory.mktemp("sources"))


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def folded(weights) -> dict:
    """The canonical arrays with the two biases summed (Keras keeps one bias: the split is not a port's to keep)."""
    out = {}
    for key in weights.keys():
        cell = weights[key]
        out[key] = [cell.w_ih, cell.w_hh] + ([cell.b_ih + cell.b_hh] if cell.b_ih is not None else [])
    return out


# --- every direction: written, and read back by the target's reader --------------------------------------------
@pytest.mark.parametrize("source_framework, target_framework", [pair(s, t) for s, t in DIRECTIONS])
def test_every_direction_writes_the_same_stack(sources, tmp_path, source_framework, target_framework):
    need(target_framework)
    source, source_format = read_stack(sources[source_framework])
    assert (source.spec.op, source.spec.input_size, source.spec.hidden_size, source.spec.num_layers,
            source.spec.bidirectional, source.spec.bias) == ("lstm", 3, 4, 2, True, True)
    target_path = tmp_path / f"port{SUFFIX[target_framework]}"
    port = plan(source, source_format, target_path)
    assert port.target_format.framework == target_framework
    assert not target_path.exists()  # planned in memory
    write_plan(port)
    again, again_format = read_stack(target_path)
    assert again_format.framework == target_framework
    assert again.spec == source.spec
    expected, got = folded(source.weights), folded(again.weights)
    assert expected.keys() == got.keys()
    for key in expected:
        for want, have in zip(expected[key], got[key]):
            np.testing.assert_allclose(have, want, rtol=0, atol=1e-6)
    if target_framework in ("torch", "mindspore") and source_framework in ("torch", "mindspore"):
        assert again.name == "encoder.rnn."  # the module prefix carries over between the native formats


# --- --verify: each format once as source and once as target ------------------------------------------------------
VERIFIED = [("torch", "mindspore"), ("mindspore", "keras2"), ("keras2", "tfkeras"), ("tfkeras", "torch")]


@pytest.mark.parametrize("source_framework, target_framework", [pair(s, t) for s, t in VERIFIED])
def test_verify_proves_the_port(sources, tmp_path, capsys, source_framework, target_framework):
    need(target_framework)
    target = tmp_path / f"port{SUFFIX[target_framework]}"
    code, out, err = run_cli(capsys, sources[source_framework], "--to", target_framework, target, "--verify",
                             "--steps", 4)
    assert code == 0, out + err
    figure = re.search(r"the port holds: largest difference (\S+) \(.*\), within its tolerance ([0-9.e+-]+);", out)
    assert figure and float(figure[1]) <= float(figure[2])
    assert float(figure[1]) > 0  # float32 frameworks never match the float64 reference exactly
    runs = [float(x) for x in re.findall(r"max \|diff\| (\S+) \(", out)]
    assert len(runs) == 4 and float(figure[1]) == pytest.approx(max(runs), rel=1e-2)  # the largest of every run
    assert target.exists() and "wrote" in out
    assert "initial state" in out and "zero state" in out


def test_acceptance_bidirectional_two_layer_lstm_under_a_prefix(sources, tmp_path, capsys):
    """PyTorch (under encoder.rnn.) -> MindSpore and Keras 3 with --verify, and Keras 3 back to PyTorch."""
    need("torch", "mindspore", "tfkeras")
    ms, k3, back = tmp_path / "enc.ckpt", tmp_path / "enc.weights.h5", tmp_path / "back.pt"
    code, out, _ = run_cli(capsys, sources["torch"], "--to", "mindspore", ms, "--verify", "--padding")
    assert code == 0 and "stack 'encoder.rnn.'" in out
    assert "inferred LSTM input_size=3 hidden_size=4 num_layers=2 bidirectional=True bias=True" in out
    assert "mindspore.nn.LSTM(input_size=3, hidden_size=4, num_layers=2, has_bias=True, batch_first=True, " \
           "bidirectional=True)" in out
    assert "padded [" in out and "the port holds" in out
    code, out, _ = run_cli(capsys, sources["torch"], "--to", "tfkeras", k3, "--prefix", "enc")
    assert code == 0 and "name='enc'" in out and "name='enc_1'" in out
    code, out, _ = run_cli(capsys, k3, back, "--prefix", "encoder.rnn", "--verify")
    assert code == 0 and "the port holds" in out
    assert read_stack(back, layer="encoder.rnn")[0].spec == read_stack(sources["torch"])[0].spec


def test_python_api(sources, tmp_path):
    need("torch", "mindspore")
    source, source_format = read_stack(sources["mindspore"], layer="encoder.rnn")
    port = plan(source, source_format, tmp_path / "x.pt")
    scratch = tmp_path / "scratch.pt"
    scratch.write_bytes(port.data)
    result = verify(source, source_format, port.target.replace(path=scratch), port.target_format, Inputs(steps=3))
    assert result.holds, result.failures
    assert {r.role for r in result.runs} == {"source", "target"}
    assert write_plan(port).exists()


def test_a_consistent_converter_mistake_is_caught_only_by_verify(sources, tmp_path, capsys, monkeypatch):
    """Swap MindSpore's first two gate blocks both ways: the file reads back as written, but MindSpore runs it
    with the wrong gates, and --verify refuses to write it."""
    need("torch", "mindspore")
    from mapping.converters import lstm

    def swap(arrays: dict) -> dict:
        out = {}
        for name, value in arrays.items():
            value = np.array(value)
            if not name.startswith("weight_hr"):
                block = value.shape[0] // 4
                value[:2 * block] = np.concatenate([value[block:2 * block], value[:block]])
            out[name] = value
        return out

    to_ms, from_ms = lstm.to_mindspore, lstm.from_mindspore
    monkeypatch.setattr(lstm, "to_mindspore", lambda weights: swap(to_ms(weights)))
    monkeypatch.setattr(lstm, "from_mindspore", lambda spec, params: from_ms(spec, swap(params)))
    target = tmp_path / "wrong.ckpt"
    code, out, _ = run_cli(capsys, sources["torch"], target)
    assert code == 0  # without --verify the mistake goes unnoticed
    target.unlink()
    code, out, _ = run_cli(capsys, sources["torch"], target, "--verify", "--steps", 3)
    assert code == 1
    assert "OUT OF TOLERANCE" in out and "the port does NOT hold" in out and "not written" in out
    assert not target.exists()


# --- refusals and bad input ---------------------------------------------------------------------------------------
def test_projection_into_mindspore_is_refused_with_the_alternative(tmp_path, capsys):
    need("torch")
    source = write("torch", tmp_path, layers=1, bidirectional=False, proj_size=2)
    target = tmp_path / "p.ckpt"
    code, out, err = run_cli(capsys, source, target)
    assert code == 2 and not target.exists()
    assert len(err.strip().splitlines()) == 1
    assert "has no projection (proj_size)" in err and "Nothing was written" in err
    assert "Nearest alternative" in err and "the suite's recipe (cases/" in err
    assert "projected_lstm() in mapping/recipes/mindspore.py, executed by the suite" in err
    code, _, err = run_cli(capsys, source, tmp_path / "p.weights.h5")
    assert code == 2 and "Keras LSTM has no projection" in err


def _torch_file(tmp_path, name: str, state: dict):
    import torch

    path = tmp_path / name
    torch.save({k: torch.zeros(*shape) for k, shape in state.items()}, path)
    return path


BAD = {
    "not a checkpoint": (lambda p: p.joinpath("junk.pt").write_bytes(b"nothing") and p / "junk.pt",
                         "not a PyTorch checkpoint"),
    "not HDF5": (lambda p: p.joinpath("junk.weights.h5").write_bytes(b"nothing") and p / "junk.weights.h5",
                 "not an HDF5 file"),
    "not a MindSpore checkpoint": (lambda p: p.joinpath("junk.ckpt").write_bytes(b"nothing") and p / "junk.ckpt",
                                   "not a MindSpore checkpoint"),
    "no recurrent layer": (lambda p: _torch_file(p, "fc.pt", {"fc.weight": (2, 3), "fc.bias": (2,)}),
                           "no recurrent layer found"),
    "ambiguous": (lambda p: _torch_file(p, "two.pt", {f"{m}.weight_{k}_l0": (16, s) for m in "ab"
                                                      for k, s in (("ih", 3), ("hh", 4))}),
                  "2 recurrent layers (a. [layer, weight_hh (16, 4)], b. [layer, weight_hh (16, 4)]); name one"),
    "no configuration": (lambda p: _torch_file(p, "odd.pt", {"weight_ih_l0": (10, 3), "weight_hh_l0": (10, 4)}),
                         "weight_hh_l0 (10, 4): 10 is not a whole number of gate blocks of 4 units"),
    "missing direction": (lambda p: _torch_file(p, "gap.pt", {"weight_ih_l0": (16, 3), "weight_hh_l0": (16, 4),
                                                              "weight_hh_l1_reverse": (16, 4)}),
                          "no weight_ih_l0_reverse although other layers or directions have one"),
    "no such file": (lambda p: p / "absent.pt", "absent.pt: no such file"),
    "unknown suffix": (lambda p: p.joinpath("model.bin").write_bytes(b"x") and p / "model.bin",
                       "cannot tell the framework of this source from its name"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gets_one_line(tmp_path, capsys, case):
    need("torch", "mindspore")
    make, expected = BAD[case]
    source = make(tmp_path)
    target = tmp_path / "out.ckpt"
    code, out, err = run_cli(capsys, source, target)
    assert code == 2 and not target.exists()
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"mapping convert: {source}") and expected in err
    assert "Traceback" not in err


def test_layer_names_the_stack(tmp_path, capsys):
    need("torch", "mindspore")
    path = _torch_file(tmp_path, "two.pt", {f"{m}.weight_{k}_l0": (16, s) for m in "ab" for k, s in (("ih", 3), ("hh", 4))})
    code, out, _ = run_cli(capsys, path, tmp_path / "b.ckpt", "--layer", "b")
    assert code == 0 and "stack 'b.'" in out
    code, _, err = run_cli(capsys, path, tmp_path / "c.ckpt", "--layer", "c")
    assert code == 2 and "no recurrent layer named 'c'" in err


def test_an_existing_target_is_kept_unless_overwrite(sources, tmp_path, capsys):
    need("torch", "mindspore")
    target = tmp_path / "kept.ckpt"
    target.write_bytes(b"precious")
    code, _, err = run_cli(capsys, sources["torch"], target)
    assert code == 2 and "exists; refusing to replace it" in err and target.read_bytes() == b"precious"
    code, _, _ = run_cli(capsys, sources["torch"], target, "--overwrite")
    assert code == 0 and read_stack(target)[0].spec.num_layers == 2
    code, _, err = run_cli(capsys, sources["torch"], sources["torch"], "--overwrite")
    assert code == 2 and sources["torch"].exists()


def test_a_nested_training_checkpoint_and_a_keras_model_with_other_layers(tmp_path, capsys):
    need("torch", "tfkeras", "keras2")
    import torch

    from mapping.adapters import get_adapter

    lstm = torch.nn.LSTM(3, 4)
    torch.save({"epoch": 3, "model": {f"rnn.{k}": v for k, v in lstm.state_dict().items()}}, tmp_path / "t.pt")
    code, out, _ = run_cli(capsys, tmp_path / "t.pt", tmp_path / "t.h5")
    assert code == 0 and "stack 'model/rnn.'" in out
    keras = get_adapter("tfkeras").keras()
    model = keras.Sequential([keras.Input((None, 3)), keras.layers.LSTM(4, return_sequences=True, name="enc0"),
                              keras.layers.LSTM(4, return_sequences=True, name="enc1"), keras.layers.Dense(2)])
    model.save_weights(tmp_path / "k.weights.h5")
    code, _, err = run_cli(capsys, tmp_path / "k.weights.h5", tmp_path / "k.pt")
    assert code == 2 and "name one with --layer, or several in order" in err
    code, out, _ = run_cli(capsys, tmp_path / "k.weights.h5", tmp_path / "k.pt", "--layer", "enc0,enc1", "--verify",
                           "--steps", 3)
    assert code == 0 and "num_layers=2" in out and "the port holds" in out


def test_a_cell_stays_a_cell_between_native_formats(tmp_path, capsys):
    need("torch", "mindspore")
    import torch

    torch.save({f"dec.cell.{k}": v for k, v in torch.nn.LSTMCell(3, 5).state_dict().items()}, tmp_path / "c.pt")
    code, out, _ = run_cli(capsys, tmp_path / "c.pt", tmp_path / "c.ckpt", "--verify", "--steps", 3)
    assert code == 0 and "inferred LSTM cell input_size=3 hidden_size=5" in out and "weight_hh (20, 5)" in out
    assert "mindspore.nn.LSTMCell(input_size=3, hidden_size=5, has_bias=True)" in out and "the port holds" in out
    assert read_stack(tmp_path / "c.ckpt")[0].members == ("dec.cell.weight_ih", "dec.cell.weight_hh",
                                                          "dec.cell.bias_ih", "dec.cell.bias_hh")


OTHER_OPS = {  # torch module -> what the inference must say, MindSpore's constructor, its suite tolerance there
    "gru": (lambda torch: torch.nn.GRU(3, 5, num_layers=2, bidirectional=True, batch_first=True), (),
            "inferred GRU input_size=3 hidden_size=5 num_layers=2 bidirectional=True", "mindspore.nn.GRU("),
    "rnn_relu": (lambda torch: torch.nn.RNN(3, 5, nonlinearity="relu"), ("--activation", "relu"),
                 "inferred RNN input_size=3 hidden_size=5 num_layers=1 bidirectional=False bias=True activation=relu",
                 "nonlinearity='relu'"),
    "gru_cell": (lambda torch: torch.nn.GRUCell(3, 5), (), "inferred GRU cell input_size=3 hidden_size=5",
                 "mindspore.nn.GRUCell("),
    "rnn_cell": (lambda torch: torch.nn.RNNCell(3, 5), (), "inferred RNN cell input_size=3 hidden_size=5",
                 "mindspore.nn.RNNCell("),
}


@pytest.mark.parametrize("api", list(OTHER_OPS))
def test_gru_rnn_and_their_cells_port_to_mindspore_and_keras_and_verify(tmp_path, capsys, api):
    """The ops issue 14 added come in by data: read, inferred, written and verified with their own tolerances."""
    need("torch", "mindspore", "tfkeras")
    import torch

    from mapping.tolerances import forward_tolerance

    module, options, inferred, constructor = OTHER_OPS[api]
    torch.save({f"dec.{k}": v for k, v in module(torch).state_dict().items()}, tmp_path / "m.pt")
    code, out, err = run_cli(capsys, tmp_path / "m.pt", tmp_path / "m.ckpt", *options, "--verify", "--steps", 3)
    assert code == 0 and inferred in out and constructor in out and "the port holds" in out, out + err
    tol = forward_tolerance("mindspore", "float32", False, op=api.replace("_relu", ""))
    applied = {float(t) for t in re.findall(r"target MindSpore .* tol (\S+): ok", out)}
    assert applied == {tol}, out  # the suite's tolerance for this API
    if api.endswith("_cell"):
        return
    # one round of the four formats, each hop verified, and back to PyTorch with the source's configuration
    hops = [tmp_path / "m.ckpt", tmp_path / "m.weights.h5", tmp_path / "m2.h5", tmp_path / "back.pt"]
    for source, target in zip(hops, hops[1:]):
        code, out, err = run_cli(capsys, source, target, *options, "--verify", "--steps", 3)
        assert code == 0 and "the port holds" in out, out + err
    assert read_stack(tmp_path / "back.pt")[0].spec == read_stack(tmp_path / "m.pt")[0].spec


@pytest.mark.convert_grid
@pytest.mark.parametrize("api", ["gru", "rnn_relu"])
@pytest.mark.parametrize("source_framework, target_framework", [pair(s, t) for s, t in DIRECTIONS])
def test_grid_other_ops(tmp_path, capsys, api, source_framework, target_framework):
    """GRU and RNN (relu) in every direction: a PyTorch file carried to the source format first, then verified."""
    need(source_framework, target_framework, "torch")
    import torch

    module, options, _, _ = OTHER_OPS[api]
    torch.save({f"dec.{k}": v for k, v in module(torch).state_dict().items()}, tmp_path / "m.pt")
    source = tmp_path / f"source{SUFFIX[source_framework]}"
    if source_framework == "torch":
        source = tmp_path / "m.pt"
    else:
        assert run_cli(capsys, tmp_path / "m.pt", source, *options, "--steps", 3)[0] == 0
    code, out, err = run_cli(capsys, source, tmp_path / f"target{SUFFIX[target_framework]}", *options, "--verify",
                             "--steps", 3)
    assert code == 0 and "the port holds" in out, out + err


def test_list_shows_the_stacks(sources, capsys):
    code, out, _ = run_cli(capsys, sources["mindspore"], "--list")
    assert code == 0 and "encoder.rnn.: LSTM input_size=3 hidden_size=4 num_layers=2 bidirectional=True" in out


# --- the full grid (selected with -m convert_grid) ---------------------------------------------------------------
GRID_CONFIGS = {"1 layer": dict(layers=1, bidirectional=False), "2 layers, no bias": dict(layers=2, bias=False),
                "3 layers, bidirectional": dict(layers=3, bidirectional=True)}


@pytest.mark.convert_grid
@pytest.mark.parametrize("config", list(GRID_CONFIGS))
@pytest.mark.parametrize("source_framework, target_framework", [pair(s, t) for s, t in DIRECTIONS])
@pytest.mark.parametrize("layout", ["batch-first", "time-major"])
def test_grid(tmp_path, capsys, source_framework, target_framework, config, layout):
    need(source_framework, target_framework)
    source = write(source_framework, tmp_path, **GRID_CONFIGS[config])
    target = tmp_path / f"port{SUFFIX[target_framework]}"
    extra = ["--time-major"] if layout == "time-major" else []
    code, out, err = run_cli(capsys, source, target, "--verify", "--padding", *extra)
    assert code == 0, out + err
    assert out.count(": ok") == 8  # 2 sides x (zero, initial state) x (full, padded)
