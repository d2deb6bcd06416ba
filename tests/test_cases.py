"""The case files: schema errors name file, line, case and field; every page row has exactly one case."""

import re
from pathlib import Path

import pytest

from mapping.cases import CaseFileError, case_files, load_case_file

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
SEEDS = ROOT.parent / "shared" / "seeds"
PAGES = ROOT.parent / "shared" / "pages"  # the recurrent family's pages (GRU, RNN and the cells)

#: Row ids of each page, read off the pages themselves (see ../shared/seeds/README.md).
EXPECTED_ROWS = {
    "tensorflow-lstm-master": [f"Parameter {i}" for i in range(1, 33)] + ["Code example"],
    "tensorflow-lstm-r1-9": ["input_size", "hidden_size", "num_layers", "batch_first", "bidirectional",
                             "output/hn/cn", "Code example"],
    "pytorch-lstm-r2-3": [f"Parameter {i}" for i in range(1, 9)] + [f"Input {i}" for i in range(1, 5)]
    + ["Code example"],
    "pytorch-gru-master": [f"Parameter {i}" for i in range(1, 8)] + [f"Input {i}" for i in range(1, 4)]
    + ["Code example"],
    "pytorch-rnn-master": [f"Parameter {i}" for i in range(1, 9)] + [f"Input {i}" for i in range(1, 4)]
    + ["Code example 1"],
    "pytorch-lstmcell-master": [f"Parameter {i}" for i in range(1, 4)] + [f"Input {i}" for i in range(1, 4)]
    + ["Return value (prose)", "Code example 1", "Code example 2"],
    "pytorch-grucell-master": [f"Parameter {i}" for i in range(1, 4)] + [f"Input {i}" for i in range(1, 3)]
    + ["Code example 1"],
    "pytorch-rnncell-master": [f"Parameter {i}" for i in range(1, 5)] + [f"Input {i}" for i in range(1, 3)]
    + ["Code example 1"],
}
#: Code examples and prose claims per page (cases that are not table rows).
EXTRA_CASES = {"pytorch-lstmcell-master": 3}


def test_every_row_has_exactly_one_case():
    seen = {}
    for path in case_files(CASES):
        cf = load_case_file(path)
        if cf.page.kind != "mapping_page":
            continue
        primary = cf.page.renderings[0].seed
        rows = [c.row for c in cf.cases if not c.only_in or primary in c.only_in]
        seen[cf.page.id] = rows
        assert len(rows) == len(set(rows))
        assert len([r for r in rows if r not in cf.page.example_rows]) == cf.page.renderings[0].rows
    assert seen == EXPECTED_ROWS
    # 50 LSTM table rows, and the 38 of the GRU, RNN, LSTMCell, GRUCell and RNNCell pages
    assert sum(len(r) - EXTRA_CASES.get(page, 1) for page, r in seen.items()) == 50 + 38


def test_rows_exist_on_the_seed_pages():
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds not present")
    for path in case_files(CASES):
        cf = load_case_file(path)
        if cf.page.kind != "mapping_page":
            continue
        copies = [SEEDS / r.seed if (SEEDS / r.seed).is_file() else PAGES / r.seed for r in cf.page.renderings]
        if not all(p.is_file() for p in copies):
            pytest.skip(f"a copy of {cf.page.title} is not here")
        text = " ".join(p.read_text(encoding="utf-8") for p in copies)
        for case in cf.cases:
            if case.row in cf.page.example_rows:
                continue
            needle = case.row.split(" (")[0] if case.row.startswith(("Parameter", "Input")) else case.row.split("/")[0]
            assert needle in text, f"{path.name}: row {case.row!r} not on the page"


GOOD = """page:
  id: demo
  title: Demo
  docs_version: master
  language: en
  address: https://example.org/x.md
  renderings: [{seed: a.txt, rows: 1}]
  written_against: {pytorch: "1.8"}
  frameworks: [torch]
cases:
  - row: Parameter 1
    params: {pytorch: hidden_size, mindspore: hidden_size}
    claim: Both sides call it hidden_size.
    check: renamed_parameter
    args: {field: hidden_size, values: [2], names: {torch: hidden_size}}
    verdict: equivalent
"""


@pytest.mark.parametrize(
    "edit, line, case, field, words",
    [
        (("check: renamed_parameter", "check: renamed_parmeter"), 14, "Parameter 1", "check", "unknown check"),
        (("values: [2]", "values: [2], bogus: 1"), 15, "Parameter 1", "args.bogus", "unknown argument"),
        (("    verdict: equivalent", "    verdict: fine"), 16, "Parameter 1", "verdict", "Input should be"),
        (("  - row: Parameter 1\n", "  - \n"), 12, "#1", "row", "Field required"),
        (("frameworks: [torch]", "frameworks: [jax]"), 9, None, "page.frameworks.0", "Input should be"),
        (("    claim: Both sides call it hidden_size.\n", ""), None, "Parameter 1", "claim", "Field required"),
        (("verdict: equivalent", "verdict: diverges"), 16, "Parameter 1", "verdict", "finding"),
        (("  language: en", "  language: en\n  colour: red"), 6, None, "page.colour", "unknown field"),
        (("cases:", "cases: [\n"), None, None, None, "not valid YAML"),
    ],
)
def test_malformed_case_file_errors(tmp_path, edit, line, case, field, words):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(*edit))
    with pytest.raises(CaseFileError) as err:
        load_case_file(path)
    e = err.value
    assert e.path == str(path) and words in str(e)
    if line:
        assert e.line == line, str(e)
    if case:
        assert e.case == case, str(e)
    if field:
        assert e.field == field, str(e)


def test_good_file_loads(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    assert load_case_file(path).cases[0].row == "Parameter 1"


def test_pytest_reports_malformed_file_without_traceback(pytester):
    pytester.makeconftest("pytest_plugins = ['mapping.pytest_plugin']")
    (pytester.mkdir("cases") / "bad.yaml").write_text(GOOD.replace("check: renamed_parameter", "check: nope"))
    result = pytester.runpytest("cases", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*bad.yaml:14: case 'Parameter 1': field 'check': unknown check 'nope'*"])
    assert "Traceback" not in result.stdout.str()


def test_collected_node_ids_are_readable(pytester):
    pytester.makeconftest("pytest_plugins = ['mapping.pytest_plugin']")
    (pytester.mkdir("cases") / "demo.yaml").write_text(GOOD)
    result = pytester.runpytest("cases", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert any(re.search(r"demo.yaml::Parameter 1 \(hidden_size, hidden_size\)\[torch\]", line)
               for line in result.stdout.lines)


def test_results_file_records_passes_and_crashes(pytester, monkeypatch):
    """A case that cannot run is still in the results JSON, as outcome 'error' with its one-line message.

    The demo case runs on torch, so pytest runs in a subprocess: an in-process run would import torch and,
    when it ends, pytester would drop every module the run imported, torch's included; torch cannot be
    imported again in the same process (see tests/conftest.py).
    """
    import json

    from mapping.adapters import missing_reason

    if missing_reason("torch"):
        pytest.skip(f"the demo case runs on torch: {missing_reason('torch')}")

    pytester.makeconftest("pytest_plugins = ['mapping.pytest_plugin']")
    # valid at load; at run time no recorded behaviour covers the installed torch: the case cannot run
    crash = GOOD.replace("check: renamed_parameter", "check: dropout_statistics").replace(
        "args: {field: hidden_size, values: [2], names: {torch: hidden_size}}",
        'args: {names: {torch: dropout}, convention: structure=none, recorded: {torch: [{versions: "<0.1", '
        'behaviour: structure=none, measured_on: ["0.0.1"]}]}}')
    cases_dir = pytester.mkdir("cases")
    (cases_dir / "demo.yaml").write_text(GOOD.replace("id: demo", "id: demo-ok"))
    (cases_dir / "crash.yaml").write_text(crash.replace("id: demo", "id: demo-crash"))
    out = pytester.path / "results.json"
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # this checkout's mapping package, not an installed one
    result = pytester.runpytest_subprocess("cases", "-p", "no:cacheprovider", "-p", "no:xdist", f"--results={out}")
    results = {r["page"]: r for r in json.loads(out.read_text())["results"]}
    assert results["demo-ok"]["outcome"] in ("passed", "skipped")
    assert results["demo-crash"]["outcome"] == "error"
    assert "covers the installed version" in results["demo-crash"]["message"]
    assert "crash.yaml:11: case 'Parameter 1' on torch" in results["demo-crash"]["message"]
    assert "Traceback" not in result.stdout.str()


def test_example_values_must_have_the_stated_shape():
    from pydantic import ValidationError

    from mapping.checks.examples import ExampleSide

    side = ExampleSide(spec={}, input=[1, 2], input_values=[[3.0, 4.0]], state=[1, 3], state_values=[[1.0, 2.0, 3.0]])
    x, state = side.arrays(("h",))
    assert x.tolist() == [[3.0, 4.0]] and state[0].tolist() == [[1.0, 2.0, 3.0]]
    with pytest.raises(ValidationError, match="input_values: finite numbers of shape \\[1, 2\\]"):
        ExampleSide(spec={}, input=[1, 2], input_values=[[3.0, 4.0, 5.0]])
    with pytest.raises(ValidationError, match="state_values: not a nested list of numbers"):
        ExampleSide(spec={}, input=[1, 2], state=[1, 3], state_values=[["a", 2.0, 3.0]])


#: Per-framework mappings that must name frameworks, not families: what each framework does is measured and recorded
#: separately (Keras 3 and Keras 2 differ), so ``tensorflow:`` would leave each of them without its own entry.
PER_FRAMEWORK_ONLY = [("default_layout", "claimed_default"), ("default_layout", "absent"),
                      ("dropout_statistics", "recorded"), ("code_example", "side"), ("code_example", "claimed"),
                      ("padding_semantics", "recorded"), ("dropout_structure", "counterpart"),
                      ("dropout_structure", "behaviour")]


@pytest.mark.parametrize("check, field", PER_FRAMEWORK_ONLY)
def test_a_family_key_is_refused_where_each_framework_is_recorded(check, field):
    """A real case of ``check`` with one framework key of ``field`` renamed to its family: refused when the case
    file is read, naming the field and the key (it would otherwise fail, or be silently ignored, at run time)."""
    from mapping import frameworks
    from mapping.checks import CHECKS
    from mapping.errors import ArgsError

    def renamable(value) -> list[str]:  # keys whose family has another name (mindspore's family is mindspore)
        return [k for k in value if frameworks.get(k).family != k] if isinstance(value, dict) else []

    found = [(cf, case) for cf in map(load_case_file, case_files(CASES)) for case in cf.cases
             if case.check == check and renamable(case.args.get(field))]
    assert found, f"no case of {check} gives {field} for a framework whose family has another name"
    case_file, case = found[0]
    key = renamable(case.args[field])[0]
    family = frameworks.get(key).family
    args = {**case.args, field: {(family if k == key else k): v for k, v in case.args[field].items()}}
    with pytest.raises(ArgsError) as refused:
        CHECKS[check].parse_args(args).check_case(case_file.frameworks_of(case), case_file.page.op)
    assert refused.value.field == f"{field}.{family}", refused.value


_EXAMPLE_SIDE = {"spec": {"input_size": 3, "hidden_size": 4}, "input": [2, 5, 3]}
_ABSENT = {"field": "activation", "default": "tanh", "other": "relu", "names": {"torch": None}}


@pytest.mark.parametrize("check, op, args, field", [
    ("absent_same_default", "gru", {**_ABSENT, "default": "swish"}, "default"),
    ("absent_same_default", "gru", {**_ABSENT, "other": "swish"}, "other"),
    ("absent_same_default", "gru", {**_ABSENT, "other": {"torch": ["relu", "swish"]}}, "other.torch.1"),
    ("absent_same_default", "gru", {**_ABSENT, "other": {"torch": []}}, "other.torch"),
    ("absent_same_default", "gru", {**_ABSENT, "other": []}, "other"),
    ("feature_without_counterpart", "lstm", {"field": "proj_size", "value": -1, "names": {"torch": "proj_size"}},
     "value"),
    ("code_example", "gru", {"side": {"torch": _EXAMPLE_SIDE},
                             "claimed": {"torch": {"output": [2, 5, 4], "c": [1, 2, 4]}}}, "claimed.torch.c"),
    ("code_example", "gru", {"side": {"torch": {**_EXAMPLE_SIDE, "loop": "carry"}},
                             "claimed": {"torch": {"output": [2, 5, 4]}}}, "side.torch.loop"),
    ("code_example", "gru_cell", {"side": {"torch": {**_EXAMPLE_SIDE, "input": [2, 5, 3, 1]}},
                                  "claimed": {"torch": {"h": [2, 4]}}}, "side.torch.input"),
    ("code_example", "gru", {"side": {"torch": {**_EXAMPLE_SIDE, "spec": {"input_size": 3, "hidden_size": 4,
                                                                          "proj_size": 2}}},
                             "claimed": {"torch": {"output": [2, 5, 4]}}}, "side.torch"),
], ids=["default", "other", "other_alternative", "other_empty_list", "other_empty", "value", "claimed_output",
        "loop_on_a_layer", "cell_input_rank", "example_spec_of_another_op"])
def test_each_refusal_names_the_argument_that_holds_the_bad_value(check, op, args, field):
    """The field an argument error names is the one the case-file error line points at (file, line, case, field):
    each refusal of the checks' own validation names the argument that holds the bad value."""
    from mapping.checks import CHECKS
    from mapping.errors import ArgsError

    with pytest.raises(ArgsError) as refused:
        CHECKS[check].parse_args(args).check_case(["torch"], op)
    assert refused.value.field == field, refused.value
