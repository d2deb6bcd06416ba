"""The report's version matrix: drift between versions, and which side holds on the versions a page was written for.

Every input is a synthetic ResultsFile; the expected sides follow from the verdicts and versions built here.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from packaging.version import Version

from mapping.report.drift import _distance, claim_status
from mapping.report.merge import merge
from mapping.report.render import render
from mapping.results import CaseResult, Environment, PageRecord, ResultsFile
from mapping.versions import parse_page_version

KERAS_PAGE = PageRecord(
    id="tf-page", title="Differences with tf.keras.layers.LSTM", docs_version="master", language="en",
    address="https://example.org/tf.md", written_against={"tensorflow": "2.6", "mindspore": "master (2.x)"},
    frameworks=["tfkeras", "keras2", "mindspore"], case_file="cases/tf.yaml", rows=3,
)
OLD_KERAS_PAGE = KERAS_PAGE.model_copy(update={"id": "tf-old-page", "written_against": {"tensorflow": "1.15",
                                                                                        "mindspore": "1.9"}})
TORCH_PAGE = PageRecord(
    id="torch-page", title="Differences with torch.nn.LSTM", docs_version="r2.3", language="en",
    address="https://example.org/torch.md", written_against={"pytorch": "1.8.1", "mindspore": "2.3"},
    frameworks=["torch", "mindspore"], case_file="cases/torch.yaml", rows=2,
)


def environment(name: str, **frameworks: str) -> Environment:
    return Environment(name=name, python="3.11.7", platform="Linux-x86_64",
                       frameworks={k.replace("_", "-"): v for k, v in frameworks.items()}, suite_commit="abc1234",
                       time="2026-01-01T00:00:00Z")


def result(page: PageRecord, row: str, framework: str, version: str, measured: str | None,
           expected: str | None = None) -> CaseResult:
    expected = expected or measured or "equivalent"
    outcome = "skipped" if measured is None else ("passed" if measured == expected else "failed")
    return CaseResult(page=page.id, row=row, framework=framework, framework_version=version, check="recipe",
                      params={"tensorflow": row}, claim=f"{row} maps across.", expected_verdict=expected,
                      measured_verdict=measured, outcome=outcome, duration_s=0.01)


def results_file(env: Environment, pages: list[PageRecord], results: list[CaseResult]) -> ResultsFile:
    return ResultsFile(environment=env, pages=pages, results=results)


@pytest.fixture
def matrix() -> list[ResultsFile]:
    """TF 2.15 (tf.keras = Keras 2.15.0) and TF 2.21 (Keras 3.15.1), two MindSpore and two torch releases."""
    tf215 = results_file(environment("tf215", tensorflow="2.15.1", keras="2.15.0", tf_keras="2.15.1"),
                         [KERAS_PAGE, OLD_KERAS_PAGE], [
        result(KERAS_PAGE, "time_major", "tfkeras", "2.15.0", "equivalent_with_recipe"),
        result(KERAS_PAGE, "inputs", "tfkeras", "2.15.0", "equivalent"),
        result(KERAS_PAGE, "units", "tfkeras", "2.15.0", "equivalent"),
        result(OLD_KERAS_PAGE, "batch_first", "tfkeras", "2.15.0", "diverges"),
        result(KERAS_PAGE, "units", "keras2", "2.15.1", "equivalent"),
    ])
    tf221 = results_file(environment("tf221", tensorflow="2.21.0", keras="3.15.1", tf_keras="2.21.0"),
                         [KERAS_PAGE, OLD_KERAS_PAGE], [
        result(KERAS_PAGE, "time_major", "tfkeras", "3.15.1", "not_applicable"),
        result(KERAS_PAGE, "inputs", "tfkeras", "3.15.1", "diverges"),
        result(KERAS_PAGE, "units", "tfkeras", "3.15.1", "equivalent"),
        result(OLD_KERAS_PAGE, "batch_first", "tfkeras", "3.15.1", "equivalent"),
        result(KERAS_PAGE, "units", "keras2", "2.21.0", "equivalent"),
    ])
    ms28 = results_file(environment("ms28", mindspore="2.8.0"), [KERAS_PAGE, TORCH_PAGE], [
        result(KERAS_PAGE, "units", "mindspore", "2.8.0", "diverges"),
        result(TORCH_PAGE, "proj_size", "mindspore", "2.8.0", "no_counterpart"),
    ])
    ms210 = results_file(environment("ms210", mindspore="2.10.0"), [KERAS_PAGE, TORCH_PAGE], [
        result(KERAS_PAGE, "units", "mindspore", "2.10.0", "equivalent"),
        result(TORCH_PAGE, "proj_size", "mindspore", "2.10.0", "diverges"),
    ])
    torch213 = results_file(environment("torch213", torch="2.13.0+cpu"), [TORCH_PAGE], [
        result(TORCH_PAGE, "proj_size", "torch", "2.13.0+cpu", "equivalent"),
    ])
    torch2141 = results_file(environment("torch2141", torch="2.14.1"), [TORCH_PAGE], [
        result(TORCH_PAGE, "proj_size", "torch", "2.14.1", "equal_at_default"),
    ])
    return [tf215, tf221, ms28, ms210, torch213, torch2141]


def sides(merged, page: str, row: str):
    return merged.written_for(merged.row(page, row))


def test_drift_lists_each_changing_row_with_its_versions(matrix):
    merged = merge(matrix)
    drifting = {(v.page, v.row): v.drift() for v in merged.drift()}
    assert drifting == {
        ("tf-page", "time_major"): {"tfkeras": {"2.15.0": "equivalent_with_recipe", "3.15.1": "not_applicable"}},
        ("tf-page", "inputs"): {"tfkeras": {"2.15.0": "equivalent", "3.15.1": "diverges"}},
        ("tf-old-page", "batch_first"): {"tfkeras": {"2.15.0": "diverges", "3.15.1": "equivalent"}},
        ("tf-page", "units"): {"mindspore": {"2.8.0": "diverges", "2.10.0": "equivalent"}},
        ("torch-page", "proj_size"): {"torch": {"2.13.0+cpu": "equivalent", "2.14.1": "equal_at_default"},
                                      "mindspore": {"2.8.0": "no_counterpart", "2.10.0": "diverges"}},
    }


def test_holds_on_the_written_for_version_but_not_today(matrix):
    wf = sides(merge(matrix), "tf-page", "time_major")["tfkeras"]
    assert wf.side == "written-for"
    assert (wf.page_key, wf.page_version) == ("tensorflow", "2.6")
    # tf.keras reports Keras's version; the page's TensorFlow version is compared with TensorFlow's
    assert (wf.written.version, wf.written.page_scale, wf.today.version) == ("2.15.0", "2.15.1", "3.15.1")
    assert not wf.exact
    assert wf.summary.startswith("Holds on the version the page was written for (tensorflow 2.6; nearest measured: "
                                 "2.15.0 (tensorflow 2.15.1): equivalent with recipe) but not on today's "
                                 "(3.15.1 (tensorflow 2.21.0): not applicable)")
    assert sides(merge(matrix), "tf-page", "inputs")["tfkeras"].side == "written-for"


def test_holds_today_but_not_on_the_written_for_version(matrix):
    wf = sides(merge(matrix), "tf-old-page", "batch_first")["tfkeras"]
    assert wf.side == "today" and wf.page_version == "1.15" and wf.written.version == "2.15.0"
    assert wf.summary.startswith("Holds on today's (3.15.1 (tensorflow 2.21.0): equivalent) but not on the version "
                                 "the page was written for (tensorflow 1.15; nearest measured")


def test_a_page_written_against_a_development_branch_is_nearest_today(matrix):
    wf = sides(merge(matrix), "tf-page", "units")["mindspore"]
    assert wf.side == "same-version" and wf.written == wf.today and wf.today.version == "2.10.0"
    assert "nearest to today's release" in wf.summary and "2.8.0: diverges" in wf.summary


def test_both_and_neither_sides(matrix):
    both = sides(merge(matrix), "torch-page", "proj_size")
    # torch: 1.8.1 lies below both measured releases, so the oldest is the nearest; both verdicts hold
    assert both["torch"].side == "both" and both["torch"].written.version == "2.13.0+cpu"
    assert "only the verdict changes" in both["torch"].summary
    # mindspore 2.3: nearest measured is 2.8.0 (no counterpart: holds), today's 2.10.0 diverges
    assert both["mindspore"].side == "written-for" and both["mindspore"].written.version == "2.8.0"
    neither = merge([matrix[0], matrix[1]] + [results_file(environment("tf2x", tensorflow="2.18.0", keras="3.8.0"),
                                                           [KERAS_PAGE], [result(KERAS_PAGE, "inputs", "tfkeras",
                                                                                 "3.8.0", "not_applicable")])])
    wf = sides(neither, "tf-page", "inputs")["tfkeras"]
    assert wf.written.version == "2.15.0" and wf.side == "written-for"


def test_nearest_version_between_measured_ones():
    page = TORCH_PAGE.model_copy(update={"written_against": {"pytorch": "2.3"}})
    files = [results_file(environment(f"torch{v}", torch=v), [page],
                          [result(page, "proj_size", "torch", v, verdict)])
             for v, verdict in [("2.1.0", "equivalent"), ("2.4.1", "diverges"), ("2.10.0", "diverges")]]
    wf = sides(merge(files), "torch-page", "proj_size")["torch"]
    assert wf.written.version == "2.4.1" and wf.side == "neither"  # 2.4 is one minor release away, 2.1 two
    exact = [results_file(environment("torch23", torch="2.3.0"), [page],
                          [result(page, "proj_size", "torch", "2.3.0", "equivalent")])] + files[1:]
    wf = sides(merge(exact), "torch-page", "proj_size")["torch"]
    assert wf.exact and wf.written.version == "2.3.0" and wf.side == "written-for"
    assert "measured on it: 2.3.0" in wf.summary


def test_written_against_may_name_torch_or_pytorch(matrix):
    page = TORCH_PAGE.model_copy(update={"written_against": {"torch": "2.14"}})
    files = [results_file(f.environment, [page], [r for r in f.results if r.framework == "torch"])
             for f in matrix[4:]]
    wf = sides(merge(files), "torch-page", "proj_size")["torch"]
    assert wf.page_key == "torch" and wf.written.version == "2.14.1" and wf.side == "same-version"


@pytest.mark.parametrize("written_against, words", [
    ({}, "does not say which version"),
    ({"pytorch": "unreleased"}, "cannot be placed"),
    ({"pytorch": "installed"}, "not tied to a release"),
])
def test_unknown_page_version_is_said_not_guessed(matrix, written_against, words):
    page = TORCH_PAGE.model_copy(update={"written_against": written_against})
    files = [results_file(f.environment, [page], [r for r in f.results if r.framework == "torch"])
             for f in matrix[4:]]
    wf = sides(merge(files), "torch-page", "proj_size")["torch"]
    assert wf.side == "unknown" and wf.written is None and words in wf.summary


def test_skips_do_not_make_a_side(matrix):
    skipped = results_file(environment("tf214", tensorflow="2.14.1", keras="2.14.0"), [KERAS_PAGE],
                           [result(KERAS_PAGE, "inputs", "tfkeras", "2.14.0", None)])
    wf = sides(merge(matrix + [skipped]), "tf-page", "inputs")["tfkeras"]
    assert [p.version for p in merge(matrix + [skipped]).row("tf-page", "inputs").version_points("tfkeras")] == \
        ["2.15.0", "3.15.1"]
    assert wf.written.version == "2.15.0"


def test_helpers():
    assert parse_page_version("2.6") == Version("2.6")
    assert parse_page_version("r1.9") == Version("1.9")
    assert parse_page_version("master (2.x)") == "newest"
    assert parse_page_version("unreleased") is None
    assert _distance(Version("2.3"), Version("2.4.1")) < _distance(Version("2.3"), Version("2.1"))
    assert _distance(Version("2.9"), Version("2.10")) < _distance(Version("2.9"), Version("3.0"))
    assert claim_status(["equivalent"]) == claim_status(["no_counterpart"]) == "holds"
    assert claim_status(["diverges"]) == "does not hold"
    assert claim_status(["not_applicable"]) == "does not apply"
    assert claim_status(["equivalent", "diverges"]) == "mixed"


class DriftRows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[dict] = []
        self._cell: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "drift-row" in (attrs.get("class") or ""):
            self.rows.append(dict(attrs, text=""))
        if tag == "td" and attrs.get("class") == "written-for":
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1]["text"] = " ".join(self._cell.split())
            self._cell = None


def test_report_drift_section_says_which_side_holds(matrix):
    parser = DriftRows()
    parser.feed(render(merge(matrix)))
    by_key = {(r["data-page"], r["data-row"], r["data-framework"]): r for r in parser.rows}
    row = by_key["tf-page", "time_major", "tfkeras"]
    assert row["data-versions"] == "2.15.0 3.15.1"
    assert (row["data-written-side"], row["data-written-version"], row["data-today-version"]) == \
        ("written-for", "2.15.0", "3.15.1")
    assert row["text"].startswith("Holds on the version the page was written for (tensorflow 2.6;")
    assert by_key["tf-old-page", "batch_first", "tfkeras"]["data-written-side"] == "today"
    assert by_key["torch-page", "proj_size", "torch"]["data-written-side"] == "both"
    assert len(parser.rows) == 6
