"""verdict_by_version: verdicts measured on other releases than today's, looked up by the installed version."""

from __future__ import annotations

import pytest

from mapping.cases import Case, CaseFileError, VersionVerdict, load_case_file
from mapping.verdicts import Verdict

HEAD = """page:
  id: demo
  title: Demo
  docs_version: master
  language: en
  address: https://example.org/x.md
  renderings: [{seed: a.txt, rows: 1}]
  written_against: {tensorflow: "2.6", mindspore: "2.3"}
  frameworks: [tfkeras, keras2, mindspore]
cases:
  - row: Parameter 24
    params: {tensorflow: inputs, mindspore: x}
    claim: The input sequence is called inputs in Keras and x in MindSpore.
    check: renamed_call_argument
    args: {names: {tensorflow: inputs, mindspore: x}}
    verdict: {tfkeras: diverges, keras2: equivalent, mindspore: equivalent}
    finding: Keras 3 renamed the call argument to sequences.
    correction: Pass the input positionally.
"""

ENTRIES = """    verdict_by_version:
      tfkeras:
        - versions: "==2.15.*"
          measured_on: ["2.15.0"]
          verdict: equivalent
          note: tf.keras 2.15 is Keras 2, whose call argument is still inputs.
      mindspore:
        - versions: ">=2.7,<2.9"
          measured_on: ["2.7.2", "2.8.0"]
          verdict: diverges
          note: an invented older behaviour, to test a second framework and a range.
"""

#: Line numbers in HEAD + ENTRIES (1-based).
LINE_VERSIONS, LINE_MEASURED_ON, LINE_VERDICT = 21, 22, 23


def write(tmp_path, text: str):
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def case(tmp_path) -> Case:
    return load_case_file(write(tmp_path, HEAD + ENTRIES)).cases[0]


@pytest.mark.parametrize(
    "framework, version, verdict",
    [
        ("tfkeras", "2.15.0", Verdict.EQUIVALENT),  # the recorded older release
        ("tfkeras", "3.15.1", Verdict.DIVERGES),  # today's release: the `verdict` field
        ("tfkeras", "2.14.0", Verdict.DIVERGES),  # not measured: falls back to today's verdict
        ("tfkeras", None, Verdict.DIVERGES),  # version unknown (framework not installed)
        ("keras2", "2.15.1", Verdict.EQUIVALENT),  # no entries for this framework
        ("mindspore", "2.7.2", Verdict.DIVERGES),
        ("mindspore", "2.8.0", Verdict.DIVERGES),
        ("mindspore", "2.8.1", Verdict.DIVERGES),  # inside the specifier's range
        ("mindspore", "2.9.0", Verdict.EQUIVALENT),
        ("mindspore", "2.10.0", Verdict.EQUIVALENT),  # numeric, not string, comparison
        ("mindspore", "2.8.0rc1", Verdict.DIVERGES),  # pre-releases count as their release
    ],
)
def test_lookup_by_installed_version(case, framework, version, verdict):
    assert case.expected_verdict(framework, version) == verdict


def test_lookup_without_version_is_todays_verdict(case):
    assert case.expected_verdict("tfkeras") == Verdict.DIVERGES == case.current_verdict("tfkeras")
    assert case.version_entry("tfkeras", "2.15.0").measured_on == ["2.15.0"]
    assert case.version_entry("tfkeras", "3.15.1") is None


def test_local_version_suffix_is_ignored():
    entry = VersionVerdict(versions="==2.13.*", measured_on=["2.13.0+cpu"], verdict=Verdict.EQUIVALENT,
                           note="torch's CPU build carries a local version suffix")
    assert entry.matches("2.13.0+cpu") and entry.matches("2.13.0") and not entry.matches("2.14.1")


def test_a_case_without_entries_is_unchanged(tmp_path):
    case = load_case_file(write(tmp_path, HEAD)).cases[0]
    assert case.verdict_by_version == {}
    assert case.expected_verdict("tfkeras", "2.15.0") == Verdict.DIVERGES


def test_the_shipped_case_files_record_tf215(tmp_path):
    """The measured TF 2.15 differences are in the case files (tf.keras there is Keras 2)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "cases"
    master = {c.row: c for c in load_case_file(root / "tensorflow_lstm_master.yaml").cases}
    assert master["Parameter 24"].expected_verdict("tfkeras", "2.15.0") == Verdict.EQUIVALENT
    assert master["Parameter 24"].expected_verdict("tfkeras", "3.15.1") == Verdict.DIVERGES
    assert master["Parameter 22"].expected_verdict("tfkeras", "2.15.0") == Verdict.EQUIVALENT_WITH_RECIPE


@pytest.mark.parametrize(
    "edit, line, field, words",
    [
        (('versions: "==2.15.*"', 'versions: "2.15"'), LINE_VERSIONS, "verdict_by_version.tfkeras.0.versions",
         "not a PEP 440 version specifier: '2.15'"),
        (('versions: "==2.15.*"', 'versions: "=>2.15"'), LINE_VERSIONS, "verdict_by_version.tfkeras.0.versions",
         "not a PEP 440 version specifier"),
        (('versions: "==2.15.*"', 'versions: ""'), LINE_VERSIONS, "verdict_by_version.tfkeras.0.versions",
         "not a PEP 440 version specifier"),
        (('measured_on: ["2.15.0"]', 'measured_on: ["two"]'), LINE_MEASURED_ON,
         "verdict_by_version.tfkeras.0.measured_on", "not a PEP 440 version: 'two'"),
        (('measured_on: ["2.15.0"]', 'measured_on: ["2.16.1"]'), LINE_MEASURED_ON,
         "verdict_by_version.tfkeras.0.measured_on", "measured on 2.16.1, which '==2.15.*' does not include"),
        (('measured_on: ["2.15.0"]', 'measured_on: []'), LINE_MEASURED_ON,
         "verdict_by_version.tfkeras.0.measured_on", "at least 1 item"),
        (("          verdict: equivalent\n", "          verdict: diverges\n"), LINE_VERDICT,
         "verdict_by_version.tfkeras.0.verdict", "same as the case's verdict for today's releases"),
        (("          verdict: equivalent\n", "          verdict: fine\n"), LINE_VERDICT,
         "verdict_by_version.tfkeras.0.verdict", "Input should be"),
        (("      tfkeras:\n", "      torch:\n"), 20, "verdict_by_version.torch",
         "the case is not measured on torch"),
        (("      tfkeras:\n", "      jax:\n"), 20, "verdict_by_version.jax", "Input should be"),
        (("          note: tf.keras", "          colour: red\n          note: tf.keras"), 24,
         "verdict_by_version.tfkeras.0.colour", "unknown field"),
        (("          note: tf.keras 2.15 is Keras 2, whose call argument is still inputs.\n", ""), None,
         "verdict_by_version.tfkeras.0.note", "Field required"),
    ],
)
def test_bad_entries_name_file_line_case_and_field(tmp_path, edit, line, field, words):
    text = HEAD + ENTRIES
    assert edit[0] in text
    path = write(tmp_path, text.replace(*edit, 1))
    with pytest.raises(CaseFileError) as err:
        load_case_file(path)
    e = err.value
    assert e.path == str(path) and e.case == "Parameter 24" and e.field == field, str(e)
    assert words in str(e), str(e)
    assert str(e).startswith(f"{path}:"), str(e)
    if line:
        assert e.line == line, str(e)


def test_overlapping_entries_are_an_error(tmp_path):
    overlapping = ENTRIES.replace("      mindspore:\n", """        - versions: "<2.16"
          measured_on: ["2.15.0"]
          verdict: no_counterpart
          note: overlaps the first entry on 2.15.0.
      mindspore:
""")
    with pytest.raises(CaseFileError) as err:
        load_case_file(write(tmp_path, HEAD + overlapping))
    assert err.value.field == "verdict_by_version.tfkeras.0.versions"
    assert "falls under entries #1 and #2" in str(err.value)


def test_a_diverges_entry_needs_a_finding_and_a_correction(tmp_path):
    text = HEAD.replace("    finding: Keras 3 renamed the call argument to sequences.\n", "").replace(
        "    correction: Pass the input positionally.\n", "").replace("{tfkeras: diverges,", "{tfkeras: equivalent,")
    text += ENTRIES.replace("          verdict: equivalent\n", "          verdict: diverges\n")
    with pytest.raises(CaseFileError) as err:
        load_case_file(write(tmp_path, text))
    assert err.value.field == "verdict" and "finding" in str(err.value)


def test_judge_expects_the_verdict_recorded_for_the_installed_version(tmp_path, monkeypatch):
    """End to end on torch: the installed version picks the entry; another version falls back."""
    pytest.importorskip("torch")
    from mapping.adapters.torch import TorchAdapter
    from mapping.judge import judge

    text = """page:
  id: demo
  title: Demo
  docs_version: r2.3
  language: en
  address: https://example.org/x.md
  renderings: [{seed: a.txt, rows: 1}]
  written_against: {pytorch: "1.8.1"}
  frameworks: [torch]
cases:
  - row: Parameter 1
    params: {pytorch: hidden_size, mindspore: hidden_size}
    claim: Both sides call it hidden_size.
    check: renamed_parameter
    args: {field: hidden_size, values: [2], names: {torch: hidden_size}}
    verdict: diverges
    finding: An invented finding, so that today's verdict differs from the measurement.
    correction: An invented correction.
    verdict_by_version:
      torch:
        - versions: "==1.13.*"
          measured_on: ["1.13.1"]
          verdict: equivalent
          note: an invented record for an older release.
"""
    path = write(tmp_path, text)
    case_file = load_case_file(path)
    case = case_file.cases[0]
    monkeypatch.setattr(TorchAdapter, "version", classmethod(lambda cls: "1.13.1"))
    assert judge(path, case_file, case, "torch").status == "passed"
    monkeypatch.setattr(TorchAdapter, "version", classmethod(lambda cls: "2.13.0+cpu"))
    failed = judge(path, case_file, case, "torch")
    assert failed.status == "failed" and "expected: diverges" in failed.message
    # a failure on a recorded older release says where the expectation came from
    case_equivalent = case.model_copy(update={"verdict": Verdict.NO_COUNTERPART})
    monkeypatch.setattr(TorchAdapter, "version", classmethod(lambda cls: "1.13.1"))
    entry_case = case_equivalent.model_copy(update={"verdict_by_version": {"torch": [
        VersionVerdict(versions="==1.13.*", measured_on=["1.13.1"], verdict=Verdict.DIVERGES, note="invented for the test")]}})
    message = judge(path, case_file, entry_case, "torch").message
    assert "expected: diverges (recorded for torch ==1.13.*, measured on 1.13.1)" in message
