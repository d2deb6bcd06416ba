"""FINDINGS.md's caveats are measurements: each line of its caveats table names a case, a framework and a probe
with its arguments; the case must record exactly that behaviour, and the probe, run now, must measure it with
the figure written there (what the case's results carry)."""

import json
import re
from pathlib import Path

import pytest
from support import adapter_or_skip

from mapping.cases import load_case_file

ROOT = Path(__file__).resolve().parents[1]
TABLE_HEADER = "| case file, row | framework | probe | measured | figure | what it means for a port |"
LINE = re.compile(r"^\| `(?P<file>[^`]+)`, (?P<row>[^|]+?) \| (?P<framework>\w+) \| `(?P<probe>\w+)` `(?P<args>\{.*?\})` "
                  r"\| (?P<measured>[^|]+?) \| (?P<figure>[^|]+?) \| .+ \|$")


def _lines() -> list[dict]:
    text = (ROOT / "FINDINGS.md").read_text(encoding="utf-8")
    assert TABLE_HEADER in text, "FINDINGS.md has no caveats table"
    # every table with that header (one for the LSTM pages, one per page beside them)
    table = [line for part in text.split(TABLE_HEADER)[1:] for line in part.split("\n\n", 1)[0].strip().splitlines()[1:]]
    parsed = [LINE.match(line) for line in table]
    assert all(parsed), [line for line, m in zip(table, parsed) if not m]
    return [m.groupdict() for m in parsed]


LINES = _lines()
PARAMS = [pytest.param(line, id=f"{line['file']}-{line['row']}-{line['framework']}-{line['probe']}",
                       marks=getattr(pytest.mark, line["framework"])) for line in LINES]


def test_the_table_covers_each_mapping_page():
    assert len(LINES) >= 10
    assert {line["file"] for line in LINES} >= {"pytorch_lstm_r2.3.yaml", "tensorflow_lstm_master.yaml",
                                                "pytorch_gru_master.yaml", "pytorch_rnn_master.yaml",
                                                "pytorch_lstmcell_master.yaml", "pytorch_grucell_master.yaml",
                                                "pytorch_rnncell_master.yaml"}


@pytest.mark.parametrize("line", PARAMS)
def test_each_caveat_in_findings_is_recorded_by_its_case_and_measured_with_its_figure(line):
    from mapping.checks import CheckContext
    from mapping.checks.arguments import recorded_for
    from mapping.probes import PROBES, measure

    case_file = load_case_file(ROOT / "cases" / line["file"])
    case = next((c for c in case_file.cases if c.row == line["row"]), None)
    assert case is not None, f"{line['file']} has no row {line['row']!r}"
    args = json.loads(line["args"])
    caveat = next((c for c in case.caveats if c.probe == line["probe"] and c.args == args), None)
    assert caveat is not None, f"{line['row']}: no caveat {line['probe']} {args}"
    assert line["framework"] in caveat.recorded
    adapter_or_skip(line["framework"])
    assert recorded_for(caveat.recorded, line["framework"]) == line["measured"]
    finding = measure(PROBES[line["probe"]], args, CheckContext(line["framework"], op=case_file.page.op))
    assert finding.behaviour == line["measured"]
    written = line["figure"]
    assert (f"{finding.figure:.3g}" if finding.figure is not None else "—") == written, finding.figure


@pytest.mark.mindspore
@pytest.mark.parametrize("row,name", [("Parameter 13", "kernel_max_norm"), ("Parameter 14", "recurrent_max_norm")])
def test_the_constraint_recipes_findings_names_run_and_the_old_text_does_not(row, name):
    """FINDINGS.md, "Recipes that did not run": the shown text's keepdims= is refused; the executed recipe
    reproduces Keras within the figure written there."""
    adapter_or_skip("mindspore")
    import numpy as np
    from mindspore import Tensor, ops

    from mapping.judge import judge

    text = (ROOT / "FINDINGS.md").read_text(encoding="utf-8")
    figure = float(re.search(r"reproduce Keras's MaxNorm within ([0-9.e-]+)", text).group(1))
    with pytest.raises(TypeError, match="keepdims"):
        ops.sum(Tensor(np.ones((2, 2), np.float32)) ** 2, 1, keepdims=True)
    path = ROOT / "cases" / "tensorflow_lstm_master.yaml"
    case_file = load_case_file(path)
    case = next(c for c in case_file.cases if c.row == row)
    j = judge(path, case_file, case, "mindspore")
    (record,) = j.recipes
    assert j.status == "passed" and record.name == name and record.ok
    assert "keepdim=True" in record.source and record.max_abs <= figure
