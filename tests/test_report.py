"""The report package: merging results from several environments, and the HTML a reader opens.

Every input is a synthetic ResultsFile built here; expectations are derived from those inputs, so a
wrong merge or a wrong figure in the page fails a test. The browser tests load the rendered file in
headless Chromium and read the DOM after the page's script ran.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from mapping import frameworks
from mapping.report.browser import Browser, find_chromium
from mapping.report.export import exports
from mapping.report.merge import (
    MeasurementKey,
    ReportInputError,
    VerdictKey,
    merge,
    read_results,
    verdict_consistency,
)
from mapping.report.render import cjk, render, write_report
from mapping.report.revisions import all_revisions
from mapping.report.summary import markdown_summary
from mapping.results import (
    CaseResult,
    CaveatRecord,
    DecidingFigure,
    Environment,
    Figures,
    PageRecord,
    RecipeRecord,
    ResultsFile,
)

REPO = Path(__file__).resolve().parents[1]

HOSTILE_CLAIM = "The page says <script>alert(1)</script> is the same as units."
HOSTILE_IMG = "<img src=x onerror=\"document.body.dataset.pwned='img'\">"
HOSTILE_SCRIPT_END = "</script><script>document.body.dataset.pwned='json'</script>"

TORCH_PAGE = PageRecord(
    id="pytorch-lstm", title="PyTorch vs MindSpore: nn.LSTM", docs_version="r2.3", language="en",
    address="https://www.mindspore.cn/docs/en/r2.3/note/api_mapping/pytorch_diff/LSTM.html",
    written_against={"torch": "2.1", "mindspore": "2.3"}, frameworks=["torch"], case_file="cases/pytorch-lstm.yaml",
    rows=4,  # one row has no case yet: covered rows must come out lower than declared rows
)
KERAS_PAGE = PageRecord(
    id="keras-lstm", title="TensorFlow vs MindSpore: " + HOSTILE_IMG, docs_version="r2.3", language="en",
    address="javascript:alert('address')", written_against={"tensorflow": "2.6"}, frameworks=["tfkeras"],
    case_file="cases/keras-lstm.yaml", rows=4,
)

#: The row built to give different verdicts on two torch versions.
DRIFTING_ROW = ("pytorch-lstm", "proj_size")


def environment(name: str, frameworks: dict[str, str | None]) -> Environment:
    return Environment(name=name, python="3.11.9", platform="Linux-x86_64", frameworks=frameworks,
                       suite_commit="0123abc", time="2025-06-01T12:00:00Z")


def case(page: PageRecord, row: str, framework: str, version: str | None, expected: str, measured: str | None,
         **extra) -> CaseResult:
    """A case result whose outcome follows from expected vs measured, as the suite decides it."""
    if "outcome" not in extra:
        extra["outcome"] = "skipped" if measured is None else ("passed" if measured == expected else "failed")
    extra.setdefault("claim", f"{row} on one side maps to {row} on the other.")
    return CaseResult(page=page.id, row=row, framework=framework, framework_version=version, check="same_outputs",
                      params={"pytorch": row, "mindspore": row if row != "proj_size" else None},
                      expected_verdict=expected, measured_verdict=measured, duration_s=0.01, **extra)


def torch_results(version: str, proj_size_verdict: str) -> list[CaseResult]:
    return [
        case(TORCH_PAGE, "hidden_size", "torch", version, "equivalent", "equivalent",
             figures=Figures(max_abs=3.1e-7, max_rel=2.5e-6, within=1.0, tolerance=1e-5),
             recipe="ms_lstm = nn.LSTM(input_size=8, hidden_size=16)",
             reproduce="python -m mapping.reproduce pytorch-lstm hidden_size --framework torch"),
        case(TORCH_PAGE, DRIFTING_ROW[1], "torch", version, "diverges", proj_size_verdict,
             finding="MindSpore has no proj_size; outputs differ in shape.",
             correction="MindSpore's LSTM has no counterpart for proj_size."),
        case(TORCH_PAGE, "dropout", "torch", version, "equal_at_default", None,
             skip_reason="dropout is random; compared only at 0 in this version"),
    ]


def keras_results() -> list[CaseResult]:
    return [
        case(KERAS_PAGE, "units", "tfkeras", "3.10.0", "equivalent", "equivalent"),
        case(KERAS_PAGE, "go_backwards", "tfkeras", "3.10.0", "equivalent", "diverges", claim=HOSTILE_CLAIM,
             finding="go_backwards also reverses the output sequence " + HOSTILE_SCRIPT_END,
             correction="Say that the output is returned in reversed order."),
        # the case file still says the page is wrong, but the installed version now agrees with the page
        case(KERAS_PAGE, "return_state", "tfkeras", "3.10.0", "diverges", "equivalent",
             finding="return_state used to return only the cell state.",
             correction="Say that both the hidden and the cell state are returned."),
        case(KERAS_PAGE, "recurrent_dropout", "tfkeras", "3.10.0", "equal_at_default", None, outcome="error",
             message="RuntimeError: the adapter crashed <b>loudly</b>"),
    ]


@pytest.fixture
def torch_new() -> ResultsFile:
    return ResultsFile(environment=environment("torch", {"torch": "2.13.0"}), pages=[TORCH_PAGE],
                       results=torch_results("2.13.0", "diverges"))


@pytest.fixture
def torch_old() -> ResultsFile:
    return ResultsFile(environment=environment("torch-2.9", {"torch": "2.9.0"}), pages=[TORCH_PAGE],
                       results=torch_results("2.9.0", "equivalent"))


@pytest.fixture
def keras() -> ResultsFile:
    return ResultsFile(environment=environment("keras", {"keras": "3.10.0", "tensorflow": "2.21.0"}),
                       pages=[KERAS_PAGE], results=keras_results())


@pytest.fixture
def all_files(torch_new, torch_old, keras) -> list[ResultsFile]:
    return [torch_new, torch_old, keras]


# ---------------------------------------------------------------- merging

def test_merge_keeps_every_measurement_keyed_by_environment_and_version(all_files):
    merged = merge(all_files)
    expected_keys = {MeasurementKey(r.page, r.row, r.framework, r.framework_version, f.environment.name)
                     for f in all_files for r in f.results}
    assert set(merged.measurements) == expected_keys
    assert len(merged.measurements) == sum(len(f.results) for f in all_files)
    for key, measurement in merged.measurements.items():
        assert measurement.key == key
        assert measurement.environment.name == key.environment


def test_merge_deduplicates_pages_and_keeps_every_environment(all_files):
    merged = merge(all_files)
    assert list(merged.pages) == [TORCH_PAGE.id, KERAS_PAGE.id]
    assert [e.name for e in merged.environments] == [f.environment.name for f in all_files]
    assert merged.environments[1].frameworks == {"torch": "2.9.0"}
    assert merged.warnings == []


def test_merge_warns_when_one_page_id_is_described_differently(torch_new, torch_old):
    torch_old.pages = [TORCH_PAGE.model_copy(update={"rows": TORCH_PAGE.rows + 1})]
    merged = merge([torch_new, torch_old])
    assert merged.pages[TORCH_PAGE.id].rows == TORCH_PAGE.rows
    assert any(TORCH_PAGE.id in w and "torch-2.9" in w for w in merged.warnings)


def test_merge_refuses_two_environments_with_one_name(torch_new, torch_old):
    torch_old.environment = torch_old.environment.model_copy(update={"name": torch_new.environment.name})
    with pytest.raises(ReportInputError, match="environment 'torch'"):
        merge([torch_new, torch_old])


def test_merge_refuses_a_measurement_reported_twice(torch_new):
    torch_new.results.append(torch_new.results[0])
    with pytest.raises(ReportInputError, match="twice"):
        merge([torch_new])


def test_row_view_answers_per_framework_and_version(all_files):
    row = merge(all_files).row(*DRIFTING_ROW)
    assert row.verdicts() == {"torch": {"2.9.0": ["equivalent"], "2.13.0": ["diverges"]}}
    assert row.wrong, "torch 2.13.0 measured 'diverges', so the page is wrong on this row"
    assert row.failed, "torch 2.9.0 no longer matches the recorded verdict"
    assert row.frameworks == ["torch"]


def test_drift_names_the_versions_in_version_order(all_files):
    merged = merge(all_files)
    row = merged.row(*DRIFTING_ROW)
    assert row.drift() == {"torch": {"2.9.0": "equivalent", "2.13.0": "diverges"}}
    assert list(row.drift()["torch"]) == ["2.9.0", "2.13.0"]  # numeric, not string, order
    assert [(r.page, r.row) for r in merged.drift()] == [DRIFTING_ROW]


def test_no_drift_when_versions_agree_or_only_skip(all_files):
    merged = merge(all_files)
    assert not merged.row(TORCH_PAGE.id, "hidden_size").has_drift  # same verdict on both versions
    assert not merged.row(TORCH_PAGE.id, "dropout").has_drift  # skipped on both: no verdict to compare
    assert not merged.row(TORCH_PAGE.id, "dropout").wrong


def test_no_drift_without_a_second_version(torch_new, keras):
    assert merge([torch_new, keras]).drift() == []


def test_same_version_different_environments_is_a_disagreement_not_drift(torch_new):
    rerun = ResultsFile(environment=environment("all", {"torch": "2.13.0"}), pages=[TORCH_PAGE],
                        results=torch_results("2.13.0", "equivalent"))
    row = merge([torch_new, rerun]).row(*DRIFTING_ROW)
    assert not row.has_drift
    assert row.environment_disagreements() == {"torch": {"2.13.0": [("torch", "diverges"), ("all", "equivalent")]}}


def test_page_is_wrong_only_where_some_framework_measured_diverges(all_files):
    merged = merge(all_files)
    wrong = {(r.page, r.row) for r in merged.rows() if r.wrong}
    measured_diverges = {(c.page, c.row) for f in all_files for c in f.results if c.measured_verdict == "diverges"}
    assert wrong == measured_diverges
    assert wrong  # the scenario must exercise it


# ---------------------------------------------------------------- consistency

def all_in_one(torch_file: ResultsFile, keras_file: ResultsFile) -> ResultsFile:
    """What the all-in-one venv writes for the same measurements."""
    return ResultsFile(environment=environment("all", {"torch": "2.13.0", "keras": "3.10.0"}),
                       pages=[TORCH_PAGE, KERAS_PAGE], results=torch_file.results + keras_file.results)


def skipped_elsewhere(results_file: ResultsFile, other: list[CaseResult]) -> ResultsFile:
    """A per-framework environment also records the other frameworks' cases, skipped as not installed."""
    skipped = [r.model_copy(update={"framework_version": None, "measured_verdict": None, "outcome": "skipped",
                                    "skip_reason": "not installed"}) for r in other]
    return results_file.model_copy(update={"results": results_file.results + skipped})


def test_per_framework_merge_matches_all_in_one_run(torch_new, keras):
    per_framework = merge([skipped_elsewhere(torch_new, keras.results), skipped_elsewhere(keras, torch_new.results)])
    together = merge([all_in_one(torch_new, keras)])
    consistency = verdict_consistency(per_framework, together)
    assert consistency, consistency.describe()
    assert consistency.consistent and consistency.differences == ()


def test_consistency_reports_a_changed_verdict(torch_new, keras):
    together = merge([all_in_one(torch_new, keras)])
    changed = keras.model_copy(deep=True)
    changed.results[0] = changed.results[0].model_copy(update={"measured_verdict": "diverges"})
    consistency = verdict_consistency(merge([torch_new, changed]), together)
    assert not consistency
    first = changed.results[0]
    assert [d.key for d in consistency.differences] == [VerdictKey(first.page, first.row, first.framework)]
    assert consistency.differences[0].a == frozenset({"diverges"})
    assert consistency.differences[0].b == frozenset({"equivalent"})
    assert first.row in consistency.describe()


def test_consistency_reports_a_row_only_one_side_measured(torch_new, keras):
    consistency = verdict_consistency(merge([torch_new]), merge([torch_new, keras]))
    measured_keras = {VerdictKey(r.page, r.row, r.framework) for r in keras.results if r.measured_verdict}
    assert {d.key for d in consistency.differences} == measured_keras


# ---------------------------------------------------------------- HTML

class Elements(HTMLParser):
    """Start tags with attributes, and the text inside every element that has an id."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text_by_id: dict[str, str] = {}
        self._open: list[tuple[str, str | None, list[str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag not in self.VOID:
            self._open.append((tag, attributes.get("id"), []))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not any(t == tag for t, _, _ in self._open):
            return
        while self._open:
            open_tag, element_id, parts = self._open.pop()
            text = "".join(parts)
            if element_id is not None:
                self.text_by_id[element_id] = text
            if self._open:
                self._open[-1][2].append(text)
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._open:
            self._open[-1][2].append(data)

    def all(self, tag: str, cls: str | None = None) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and (cls is None or cls in (a.get("class") or "").split())]

    def figure(self, element_id: str) -> int:
        return int(self.text_by_id[element_id].strip())




def expected_counters(files: list[ResultsFile]) -> dict[str, int]:
    """The summary counters, counted straight from the inputs (both pages are vendor pages here)."""
    results = [r for f in files for r in f.results]
    return {
        "rows-total": len({(r.page, r.row) for r in results}),
        "rows-wrong": len({(r.page, r.row) for r in results if r.measured_verdict == "diverges"}),
        "rows-beyond": 0,
        "rows-failed": len({(r.page, r.row) for r in results if r.outcome == "failed"}),
        "rows-error": len({(r.page, r.row) for r in results if r.outcome == "error"}),
        "rows-drift": 1,  # DRIFTING_ROW, built to drift
        "measurements-total": len(results),
    }


def case_bodies(html: str) -> list[dict[str, str | None]]:
    return Elements(html).all("tbody", "case")


def case_body(html: str, page: str, row: str) -> str:
    """The HTML of one row's <tbody>."""
    start = re.search(rf'<tbody class="case[^"]*" id="[^"]*" data-page="{re.escape(page)}" data-row="{re.escape(row)}"',
                      html).start()
    ends = [i for i in (html.find('<tbody class="case', start + 1), html.find("</section>", start)) if i > 0]
    return html[start:min(ends)]


def test_status_line_says_fail_with_environments_commit_and_date(all_files):
    page = Elements(render(merge(all_files)))
    assert page.text_by_id["status-pill"] == "FAIL"
    headline = page.text_by_id["status-headline"]
    failed = sum(r.outcome == "failed" for f in all_files for r in f.results)
    assert f"{failed} no longer match their recorded verdict" in headline and "1 could not run" in headline
    status = " ".join(page.text_by_id["status"].split())
    assert "3 environments (torch, torch-2.9, keras)" in status and "suite 0123abc" in status
    assert "2025-06-01 12:00 UTC" in status


def test_status_line_says_pass_and_flags_local_changes(torch_new):
    torch_new.results[:] = [r for r in torch_new.results if r.outcome == "passed"]
    torch_new.environment.suite_dirty = True
    page = Elements(render(merge([torch_new])))
    assert page.text_by_id["status-pill"] == "PASS"
    assert "with local changes" in page.text_by_id["status"]
    assert "ran with local changes" in render(merge([torch_new]))


def test_counters_match_the_inputs_and_link_to_the_rows_they_count(all_files):
    html = render(merge(all_files))
    page = Elements(html)
    expected = expected_counters(all_files)
    assert {key: page.figure(key) for key in expected} == expected
    links = page.all("a", "counter")
    names = {"page", "kind", "framework", "version", "verdict", "outcome", "q", "wrong", "split", "caveats", "drift"}
    for link in links:
        keys = {part.split("=")[0] for part in (link["data-filter"] or "").split("&") if part}
        assert keys <= names, link
        assert link["href"] == "#" + (link["data-filter"] or "all")


def test_first_section_lists_each_wrong_row_with_its_one_line_correction_and_link(all_files):
    merged = merge(all_files)
    html = render(merged)
    page = Elements(html)
    wrong = [r for r in merged.rows() if r.wrong]
    items = page.all("li")
    listed = [(a["data-page"], a["data-row"]) for a in items if a.get("data-row") and a.get("data-page")]
    assert listed == [(r.page, r.row) for r in wrong]
    anchors = {(a["data-page"], a["data-row"]): a["id"] for a in case_bodies(html)}
    wrong_list = html[html.index('id="wrong-list"'):html.index("</ol>")]
    for row in wrong:
        assert f'href="#{anchors[row.page, row.row]}"' in wrong_list
        assert str(escape(row.unique("correction")[0])) in wrong_list
    assert html.index('id="wrong-list"') < html.index('id="glance"') < html.index('class="page"')


def test_grid_shows_every_row_and_framework_as_a_symbol_with_a_legend(all_files):
    merged = merge(all_files)
    html = render(merged)
    for page_id in (TORCH_PAGE.id, KERAS_PAGE.id):
        grid = html[html.index(f'id="grid-{page_id}"'):]
        grid = grid[:grid.index("</table>")]
        assert grid.count("<tr>") == 1 + len(merged.rows(page_id))
        assert "<caption>" in grid and 'scope="row"' in grid and 'scope="col"' in grid
    legend = html[html.index('id="legend"'):html.index('id="ci"')]
    for verdict in ("equivalent", "equivalent_with_recipe", "equal_at_default", "no_counterpart", "diverges",
                    "not_applicable"):
        assert f'chip v-{verdict}"' in legend, verdict
    assert "|a − e| ≤ tol · (1 + |e|)" in legend
    for name in ("torch", "tfkeras"):  # what each column is, from the framework registry
        assert str(escape(frameworks.get(name).description)) in legend and f"<code>{name}</code>" in legend


def test_one_case_body_per_row_with_every_measurement(all_files):
    html = render(merge(all_files))
    bodies = case_bodies(html)
    results = [r for f in all_files for r in f.results]
    assert [(a["data-page"], a["data-row"]) for a in bodies] == list(dict.fromkeys((r.page, r.row) for r in results))
    for attributes in bodies:
        tokens = json.loads(attributes["data-m"])
        measured = sorted([r.framework, r.framework_version or "", r.measured_verdict or "none", r.outcome]
                          for r in results if (r.page, r.row) == (attributes["data-page"], attributes["data-row"]))
        assert sorted(tokens) == measured
        assert "hidden" not in attributes, "without JavaScript every row must be visible"


def test_failed_rows_show_expected_against_measured(all_files):
    html = render(merge(all_files))
    failed = [r for f in all_files for r in f.results if r.outcome == "failed"]
    assert len(re.findall(r'class="mismatch"', html)) == len(failed)
    for r in failed:
        assert (f"Expected {r.expected_verdict.replace('_', ' ')}, measured {r.measured_verdict.replace('_', ' ')}"
                in html)


def test_finding_and_correction_span_the_row_and_only_on_wrong_rows(all_files):
    merged = merge(all_files)
    html = render(merged)
    assert html.count('class="block finding"') == sum(len(r.unique("finding")) for r in merged.rows() if r.wrong)
    for row in merged.rows():
        for r in row.measurements:
            if r.result.correction:
                shown = html.count('<p class="correction-text">' + str(escape(r.result.correction)) + "</p>")
                assert shown == (1 if row.wrong else 0), (row.page, row.row)
    for cell in re.findall(r'<td class="notes" colspan="(\d+)">', html):
        assert int(cell) == 4  # row, parameters, claim and one framework column: the notes span all of them


def deciding_torch(torch_new: ResultsFile) -> ResultsFile:
    first = torch_new.results[0]
    torch_new.results[0] = first.model_copy(update={"deciding": DecidingFigure(
        label="output: largest |a − e| / (1 + |e|)", value=2.5e-7, compared_with="the float64 NumPy reference",
        threshold=1e-5, test="|a − e| ≤ tol · (1 + |e|) for every element", holds=True)})
    return torch_new


def test_deciding_figure_comes_first_with_its_threshold_and_supporting_figures_collapse(torch_new):
    html = render(merge([deciding_torch(torch_new)]))
    body = case_body(html, TORCH_PAGE.id, "hidden_size")
    assert '<span class="fig">2.5e-07 ≤ 1e-05</span>' in body
    assert "the float64 NumPy reference" in body and "passes" in body
    assert body.index("2.5e-07 ≤ 1e-05") < body.index('data-figure="max_abs"')
    assert '<details class="figures">' in body, "a matching row's figures are collapsed"
    assert '<span data-figure="max_abs">3.1e-07</span>' in body and '<span data-figure="within">100%</span>' in body
    assert case_body(html, TORCH_PAGE.id, "proj_size").count('<details class="figures" open>') == 1


def test_caveats_and_executed_recipes_are_shown_whenever_results_carry_them(torch_new):
    recipe = RecipeRecord(name="input dropout", framework="torch",
                          source="x = torch.nn.functional.dropout(x, p=0.2, training=True)\nout, _ = lstm(x)",
                          executed=True, ok=True, max_abs=0.0, compared_with="the float64 reference")
    caveat = CaveatRecord(probe="zero_length", kind="edge_values", title="a sequence of length 0",
                          behaviour="raises an error naming the lengths", trap=True, bites=True)
    torch_new.results[1] = torch_new.results[1].model_copy(update={"recipes": [recipe], "caveats": [caveat]})
    html = render(merge([torch_new]))
    body = case_body(html, TORCH_PAGE.id, "proj_size")
    assert "<pre><code>" + str(escape(recipe.source)) + "</code></pre>" in body
    assert "ran and matched" in body and 'data-copy="recipe"' in body
    assert 'data-probe="zero_length"' in body and "a sequence of length 0" in body and "matters" in body


def test_a_recipes_measured_detail_is_shown_next_to_its_outcome(torch_new):
    """A recipe judged by a structure (dropout) has no single error: what it measured is its figure."""
    recipe = RecipeRecord(name="recurrent dropout", framework="torch", source="def f(lstm, x, rate): ...",
                          executed=True, ok=True, compared_with="Keras's recurrent dropout",
                          detail="100% of 256 samples explained; dropped fraction 0.502")
    torch_new.results[1] = torch_new.results[1].model_copy(update={"recipes": [recipe]})
    body = case_body(render(merge([torch_new])), TORCH_PAGE.id, "proj_size")
    head = body[body.index('class="block recipe"'):body.index("<pre>")]
    assert "ran and matched" in head and "dropped fraction 0.502" in head


def test_case_file_recipe_is_shown_as_code_when_nothing_was_executed(torch_new):
    html = render(merge([torch_new]))
    assert "<pre><code>" + torch_new.results[0].recipe + "</code></pre>" in html
    assert "python -m mapping.reproduce pytorch-lstm hidden_size --framework torch" in html
    assert "dropout is random; compared only at 0 in this version" in html


def test_everything_from_inputs_is_escaped(all_files):
    html = render(merge(all_files))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "<b>loudly</b>" not in html and "&lt;b&gt;loudly&lt;/b&gt;" in html
    assert HOSTILE_SCRIPT_END not in html
    assert html.count("<script") == 1  # the filter script, nothing injected


def test_results_are_linked_not_embedded(tmp_path, torch_new):
    torch_new.write(tmp_path / "results" / "torch.json")
    written = write_report([tmp_path / "results"], tmp_path / "out" / "report.html")
    html = written.read_text(encoding="utf-8")
    assert 'href="../results/torch.json"' in html
    assert "application/json" not in html


def test_non_finite_figures_are_shown_as_such(torch_new):
    torch_new.results[0].figures = Figures(max_abs=float("nan"), max_rel=float("inf"), within=0.5, tolerance=1e-5)
    html = render(merge([torch_new]))
    assert '<span data-figure="max_abs">nan</span>' in html and '<span data-figure="max_rel">inf</span>' in html


def test_only_web_addresses_become_links(all_files):
    page = Elements(render(merge(all_files)))
    hrefs = [a.get("href") or "" for a in page.all("a")]
    assert TORCH_PAGE.address in hrefs
    assert not [h for h in hrefs if h.lower().startswith("javascript:")]


def test_page_is_self_contained(all_files):
    html = render(merge(all_files))
    page = Elements(html)
    external = re.compile(r"^\s*(https?:)?//", re.I)
    for tag, attributes in page.tags:
        if tag in {"script", "link", "img", "iframe", "source", "audio", "video", "embed", "object", "style"}:
            for name in ("src", "href", "data"):
                value = attributes.get(name) or ""
                assert not external.match(value), f"<{tag} {name}={value!r}> loads from the network"
    assert not page.all("link"), "stylesheets must be inline"
    assert [a.get("src") for a in page.all("script")] == [None]
    css = "".join(re.findall(r"<style>(.*?)</style>", html, re.S))
    assert "@import" not in css and "url(" not in css


def test_accessible_structure(all_files):
    html = render(merge(all_files))
    page = Elements(html)
    assert len(page.all("main")) == 1
    tables = html.count("<table")
    assert tables == html.count("<caption"), "every table has a caption"
    assert all(a.get("scope") in ("col", "row") for a in page.all("th")), "every header cell has a scope"
    for tag, attributes in page.tags:
        title = attributes.get("title")
        if title:  # a tooltip repeats what the page also says in text
            assert html.count(f">{escape(title)}<") >= 1, (tag, title)
    assert html.startswith("<!doctype html>\n<html lang=\"en\">")


def test_chinese_text_is_marked_lang_zh():
    assert str(cjk("Keras 和 MindSpore <b>")) == 'Keras <span lang="zh">和</span> MindSpore &lt;b&gt;'
    assert str(cjk("函数差异（tf.keras）")) == '<span lang="zh">函数差异（</span>tf.keras<span lang="zh">）</span>'


def test_environments_table_counts_outcomes_per_environment(all_files):
    html = render(merge(all_files))
    page = Elements(html)
    rows = page.all("tr", "environment")
    assert [a["data-environment"] for a in rows] == [f.environment.name for f in all_files]
    for f in all_files:
        block = html[html.index(f'data-environment="{f.environment.name}"'):]
        block = block[:block.index("</tr>")]
        for outcome in ("passed", "failed", "skipped", "error"):
            n = sum(r.outcome == outcome for r in f.results)
            assert f'<td data-outcome="{outcome}">{n}</td>' in block


def test_mixed_suite_commits_and_incomplete_files_are_warned_about(torch_new, keras):
    keras.environment.suite_commit = "4567def"
    keras.run.complete, keras.run.selected, keras.run.ran = False, 9, len(keras.results)
    html = render(merge([torch_new, keras]))
    assert "different suite commits (0123abc: torch; 4567def: keras)" in html
    assert re.search(r'class="warning incomplete" data-environment="keras"', html)
    assert "4 of 9 selected cases have a result" in html


def test_verdicts_are_counted_per_framework_version_not_summed(all_files):
    merged = merge(all_files)
    html = render(merged)
    results = [r for f in all_files for r in f.results]
    for (page, framework, version) in {(r.page, r.framework, r.framework_version) for r in results}:
        expected = Counter(r.measured_verdict or "none" for r in results
                           if (r.page, r.framework, r.framework_version) == (page, framework, version))
        block = html[html.index(f'data-page="{page}" data-framework="{framework}" data-version="{version}"'):]
        block = block[:block.index("</tr>")]
        shown = {v: int(n) for v, n in re.findall(r'data-verdict="(\w+)">(?:<a [^>]*><b class="n">)?(\d+)', block)}
        assert {v: n for v, n in shown.items() if n} == dict(expected), (page, framework, version)


def test_drift_section_names_the_versions(all_files):
    page = Elements(render(merge(all_files)))
    drift = page.all("tr", "drift-row")
    assert [(a["data-page"], a["data-row"], a["data-framework"]) for a in drift] == [(*DRIFTING_ROW, "torch")]
    assert drift[0]["data-versions"] == "2.9.0 2.13.0"


def test_drift_section_says_when_nothing_could_be_compared(torch_new, keras):
    text = Elements(render(merge([torch_new, keras]))).text_by_id["no-drift"]
    assert text.startswith("Nothing could be compared: every framework was measured on one version only")
    assert "PyTorch 2.13.0" in text


def test_markdown_summary_for_ci(all_files):
    merged = merge(all_files)
    text = markdown_summary(merged)
    assert text.startswith("## API-mapping conformance: FAIL")
    for f in all_files:
        n = {o: sum(r.outcome == o for r in f.results) for o in ("passed", "failed", "skipped", "error")}
        assert f"| `{f.environment.name}` | {n['passed']} | {n['failed']} | {n['skipped']} | {n['error']} |" in text
    for row in (r for r in merged.rows() if r.wrong):
        assert row.row in text
    assert "Say that the output is returned in reversed order." in text
    assert "Drift between versions: 1 row." in text


def test_write_report_writes_the_summary_and_accepts_files_and_directories(tmp_path, torch_new, keras):
    folder = tmp_path / "results"
    torch_new.write(folder / "torch.json")
    keras.write(folder / "keras.json")
    written = write_report([folder], tmp_path / "out" / "report.html", summary_path=tmp_path / "out" / "summary.md")
    assert written == tmp_path / "out" / "report.html"
    assert len(Elements(written.read_text(encoding="utf-8")).all("tr", "environment")) == 2
    assert (tmp_path / "out" / "summary.md").read_text(encoding="utf-8").startswith("## API-mapping conformance")
    assert [f.environment.name for f in read_results([folder / "torch.json", folder / "keras.json"])] == ["torch", "keras"]


# ---------------------------------------------------------------- corrected tables (the real master page)

MASTER = REPO / "cases" / "tensorflow_lstm_master.yaml"
SEEDS = REPO.parent / "shared" / "seeds"


@pytest.fixture
def master_results() -> ResultsFile:
    """Measurements for two rows of the real master page: Parameter 16 wrong, Parameter 1 right."""
    record = PageRecord(id="tensorflow-lstm-master", title="Function Differences with tf.keras.layers.LSTM",
                        docs_version="master", language="en", address="https://example.org/LSTM.html",
                        written_against={"tensorflow": "2.6"}, frameworks=["tfkeras", "mindspore"],
                        case_file="cases/tensorflow_lstm_master.yaml", rows=33)
    p16 = dict(page=record.id, row="Parameter 16", check="dropout_structure", params={"tensorflow": "dropout"},
               claim="dropout maps to dropout", expected_verdict="diverges", measured_verdict="diverges",
               outcome="passed", duration_s=0.1, finding="Keras drops inputs; MindSpore drops between layers.",
               correction="Different meaning | apply dropout to x before the LSTM.")
    p1 = dict(p16, row="Parameter 1", check="same_outputs", params={"tensorflow": "units"}, claim="units",
              expected_verdict="equivalent", measured_verdict="equivalent", finding=None, correction=None)
    results = [CaseResult(framework=fw, framework_version=v, **row) for row in (p16, p1)
               for fw, v in (("tfkeras", "3.15.1"), ("mindspore", "2.10.0"))]
    recipe = RecipeRecord(name="keras_input_dropout", framework="mindspore", source="def keras_input_dropout(): ...",
                          executed=True, ok=True, compared_with="Keras's input dropout")
    results[1] = results[1].model_copy(update={"recipes": [recipe]})
    return ResultsFile(environment=environment("all", {"keras": "3.15.1"}), pages=[record], results=results)


@pytest.mark.skipif(not (SEEDS / "000_78b1ef0d3c78a3fd.txt").is_file(), reason="the page copies are not beside the project")
def test_corrected_tables_follow_each_renderings_own_rows(master_results):
    merged = merge([master_results])
    revisions = all_revisions(merged.pages)
    done = {e.rendering.short: e for e in exports(merged, revisions)}
    assert set(done) == {"000", "002"}  # two revisions of one page
    for short, export in done.items():
        table = [line for line in export.text.splitlines() if line.startswith("| ")][2:]
        rendering = export.rendering
        assert len(table) == len(rendering.table.rows), "one line per row of that rendering"
        p16 = [line for line in table if "**Corrected:** Different meaning \\| apply dropout" in line]
        assert len(p16) == 1 and rendering.number("Parameter 16") in p16[0]
        assert "Workaround, executed by the suite: `keras_input_dropout` (MindSpore)" in p16[0]
        assert sum("Unchanged; verified: equivalent on tf.keras 3.15.1, MindSpore 2.10.0" in line for line in table) == 1
        assert sum("Not measured in these results" in line for line in table) == len(table) - 2
    assert len(done["000"].rendering.table.rows) != len(done["002"].rendering.table.rows)
    html = render(merged, revisions=revisions)
    coverage = Elements(html).all("li")
    shown = {a["data-seed"][:3]: (a["data-covered"], a["data-rows"]) for a in coverage if a.get("data-seed")}
    # coverage: the rendering's own rows that have a case in the case file (every one, on this page)
    assert shown == {s: (str(len(e.rendering.row_of)), str(len(e.rendering.table.rows))) for s, e in done.items()}
    assert all(set(e.rendering.row_of) >= {"Parameter 1", "Parameter 16"} for e in done.values())
    assert html.count('class="export"') == 2 and html.count('data-copy="correction"') == 1


@pytest.mark.skipif(not (REPO.parent / "shared" / "pages" / "pytorch_diff_GRU.en.md").is_file(),
                    reason="the page copies are not beside the project")
def test_pages_copied_beside_the_seeds_export_their_corrected_tables_too():
    """The GRU, RNN and cell pages' copies live in ../shared/pages, not ../shared/seeds: their renderings are read
    and exported like the LSTM pages', and a caveat that bites says what each framework measured."""
    record = PageRecord(id="pytorch-gru-master", title="Differences with torch.nn.GRU", docs_version="master",
                        language="en", address="https://example.org/GRU.md", written_against={"pytorch": "1.8.1"},
                        frameworks=["torch", "mindspore"], case_file="cases/pytorch_gru_master.yaml", rows=10)
    row = dict(page=record.id, row="Parameter 5", check="renamed_parameter", params={"pytorch": "batch_first"},
               claim="batch_first", expected_verdict="equivalent", measured_verdict="equivalent", outcome="passed",
               duration_s=0.1)
    said = {"torch": "accepted as a batch of one", "mindspore": "refused"}
    results = [CaseResult(framework=fw, framework_version=v, **row, caveats=[CaveatRecord(
        probe="unbatched_input", kind="input_forms", title="A single sequence without a batch axis", bites=True,
        behaviour=said[fw])]) for fw, v in (("torch", "2.13.0"), ("mindspore", "2.10.0"))]
    merged = merge([ResultsFile(environment=environment("all", {"torch": "2.13.0"}), pages=[record],
                                results=results)])
    done = {e.rendering.seed: e for e in exports(merged, all_revisions(merged.pages))}
    assert set(done) == {"pytorch_diff_GRU.en.md", "pytorch_diff_GRU.zh_cn.md"}
    for export in done.values():
        line = next(x for x in export.text.splitlines() if "`batch_first`" in x)
        assert ("Worth adding: A single sequence without a batch axis: PyTorch: accepted as a batch of one; "
                "MindSpore: refused.") in line


def test_a_page_whose_case_file_lists_no_copy_says_coverage_is_not_measured(torch_new):
    torch_new.pages[:] = [TORCH_PAGE.model_copy(update={"case_file": "cases/dropout_structure.yaml"})]
    html = render(merge([torch_new]))
    assert 'class="no-renderings"' in html and 'class="export"' not in html


def test_supplements_say_they_are_not_vendor_pages(torch_new):
    supplement = TORCH_PAGE.model_copy(update={"kind": "supplement"})
    torch_new.pages[:] = [supplement]
    html = render(merge([torch_new]))
    assert "Supplement, not a vendor's page." in html
    assert "The page should say" not in html and "What to know" in html
    assert Elements(html).figure("rows-wrong") == 0 and Elements(html).figure("rows-beyond") == 1


# ---------------------------------------------------------------- command line

def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "mapping.report", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_writes_the_report_and_prints_its_path(tmp_path, torch_new, keras):
    torch_new.write(tmp_path / "results" / "torch.json")
    keras.write(tmp_path / "keras.json")
    done = run_cli(str(tmp_path / "results"), str(tmp_path / "keras.json"), "-o", "reports/conformance.html",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(Path("reports/conformance.html"))
    html = (tmp_path / "reports" / "conformance.html").read_text(encoding="utf-8")
    assert Elements(html).figure("measurements-total") == len(torch_new.results) + len(keras.results)


def test_cli_missing_file_is_a_clear_error(tmp_path):
    done = run_cli(str(tmp_path / "nope.json"), "-o", str(tmp_path / "r.html"), cwd=tmp_path)
    assert done.returncode == 2
    assert "nope.json" in done.stderr and "no such file" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r.html").exists()


def test_cli_wrong_schema_version_is_a_clear_error(tmp_path, torch_new):
    data = json.loads(torch_new.model_dump_json())
    data["schema_version"] = 99
    (tmp_path / "old.json").write_text(json.dumps(data), encoding="utf-8")
    done = run_cli(str(tmp_path / "old.json"), cwd=tmp_path)
    assert done.returncode == 2
    assert "old.json" in done.stderr and "schema_version 99" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("content, problem", [
    ("{not json", "Expecting property name"),
    (json.dumps({"schema_version": 1, "environment": {}, "pages": [], "results": []}), "not a results file"),
])
def test_cli_malformed_results_are_a_clear_error(tmp_path, content, problem):
    (tmp_path / "bad.json").write_text(content, encoding="utf-8")
    done = run_cli(str(tmp_path / "bad.json"), cwd=tmp_path)
    assert done.returncode == 2
    assert "bad.json" in done.stderr and problem in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_empty_directory_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    done = run_cli(str(tmp_path / "empty"), cwd=tmp_path)
    assert done.returncode == 2 and "no *.json" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------- in a real browser
# Debian's chromium, driven over its DevTools pipe (mapping.report.browser). ./scripts/test.sh installs it when it
# is missing, so these never skip in CI; run by hand without it, they fail with the command that installs it.

WIDTHS = {"wide": (1400, 900), "phone": (390, 844)}
SCREENSHOTS = REPO / "reports" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    if find_chromium() is None:
        pytest.fail("chromium is not installed: ./scripts/test.sh installs it (apt-get update && apt-get install -y "
                    "chromium, as root)")
    with Browser() as running:
        yield running


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    torch_new = ResultsFile(environment=environment("torch", {"torch": "2.13.0"}), pages=[TORCH_PAGE],
                            results=torch_results("2.13.0", "diverges"))
    torch_old = ResultsFile(environment=environment("torch-2.9", {"torch": "2.9.0"}), pages=[TORCH_PAGE],
                            results=torch_results("2.9.0", "equivalent"))
    keras = ResultsFile(environment=environment("keras", {"keras": "3.10.0"}), pages=[KERAS_PAGE],
                        results=keras_results())
    # long unbroken words, a long recipe line and many rows: what used to make the document wider than the screen
    long_name = "recurrent_dropout_with_a_very_long_identifier_" * 3
    keras.results += [case(KERAS_PAGE, f"Parameter {n}", "tfkeras", "3.10.0", "equivalent", "equivalent",
                           claim=f"{long_name} maps to {long_name}", recipe="x = " + "f(" * 40 + ")" * 40)
                      for n in range(1, 25)]
    # the widest verdict chip a row shows: a recipe verdict whose caveats bite (it widened the 1400 px page)
    from mapping.results import CaveatRecord

    biting = CaveatRecord(probe="fresh_weights", kind="defaults", title="fresh weights", bites=True, behaviour="differ")
    keras.results += [case(KERAS_PAGE, f"Parameter {n}", "tfkeras", "3.10.0", "equivalent_with_recipe",
                           "equivalent_with_recipe", claim="a claim").model_copy(update={"caveats": [biting]})
                      for n in range(25, 28)]
    files = [torch_new, torch_old, keras]
    for results in files:
        results.write(folder / "results" / f"{results.environment.name}.json")
    return write_report([folder / "results"], folder / "conformance.html")


def visible_rows(page) -> set[tuple[str, str]]:
    return {tuple(x) for x in page.evaluate(
        "Array.from(document.querySelectorAll('tbody.case:not([hidden])')).map(r => [r.dataset.page, r.dataset.row])")}


@pytest.fixture(params=list(WIDTHS), scope="module")
def page(request, browser, report_file):
    width, height = WIDTHS[request.param]
    opened = browser.open(report_file.resolve().as_uri(), width=width, height=height)
    opened.width = width
    return opened


def load(page, fragment: str = "") -> None:
    page.goto(Path(page.evaluate("location.pathname")).as_uri() + fragment)


def test_browser_runs_the_script_and_nothing_from_the_inputs(page, browser):
    load(page)
    assert page.evaluate("document.body.dataset.ready") == "1"
    assert page.evaluate("document.body.dataset.pwned") is None, "text from the inputs ran as script"
    assert browser.console == []
    assert page.evaluate("document.getElementById('filters').hidden") is False


def test_browser_document_is_never_wider_than_the_screen(page):
    load(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width, "opened details widen the page"
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    load(page)
    page.screenshot(SCREENSHOTS / f"synthetic-{page.width}.png")


def test_browser_first_screen_lists_the_wrong_rows(page):
    load(page)
    listed = page.evaluate("""Array.from(document.querySelectorAll('#wrong-list li')).map(li => {
        const r = li.getBoundingClientRect(); return [li.dataset.page, li.dataset.row, r.top, r.bottom]; })""")
    assert {(p, r) for p, r, _, _ in listed} == {("keras-lstm", "go_backwards"), (TORCH_PAGE.id, DRIFTING_ROW[1])}
    height = page.evaluate("innerHeight")
    assert all(bottom <= height for _, _, _, bottom in listed), "every wrong row is on the first screen"
    assert page.evaluate("document.getElementById('status-pill').getBoundingClientRect().bottom") < height


def test_browser_following_a_wrong_row_shows_its_finding_below_the_sticky_bar(page):
    load(page)
    links = page.evaluate("Array.from(document.querySelectorAll('#wrong-list li a')).map(a => a.getAttribute('href'))")
    assert len(links) == 2
    for href in links:
        page.evaluate("window.scrollTo(0, 0)")
        page.evaluate(f"document.querySelector('#wrong-list a[href=\"{href}\"]').click()")
        page.wait_for(f"location.hash === '{href}'")
        bar = page.evaluate("document.getElementById('filters').getBoundingClientRect().bottom")
        row_top = page.evaluate(f"document.getElementById('{href[1:]}').getBoundingClientRect().top")
        finding = page.evaluate(f"document.querySelector('{href} .finding').getBoundingClientRect().toJSON()")
        assert row_top >= bar - 1, "the row starts below the sticky bar"
        assert finding["top"] < page.evaluate("innerHeight") and finding["bottom"] > bar, href


def test_browser_every_counter_link_shows_the_rows_it_counts(page):
    load(page)
    counters = page.evaluate("""Array.from(document.querySelectorAll('#counters a.counter'))
        .map(a => [a.getAttribute('href'), Number(a.dataset.total)])""")
    assert len(counters) >= 8
    for href, total in counters:
        load(page, "#all")
        page.evaluate(f"document.querySelector('#counters a[href=\"{href}\"]').click()")
        page.wait_for(f"location.hash === '{href}'")
        shown = int(page.evaluate("document.body.dataset.visibleRows"))
        assert shown == total, href
        assert page.evaluate("document.getElementById('no-rows').hidden") == (total > 0), href


def test_browser_filters_from_the_address(page):
    load(page, "#verdict=diverges")
    assert visible_rows(page) == {("keras-lstm", "go_backwards"), (TORCH_PAGE.id, DRIFTING_ROW[1])}
    load(page, "?page=pytorch-lstm&outcome=failed")
    assert visible_rows(page) == {(TORCH_PAGE.id, DRIFTING_ROW[1])}
    assert page.evaluate("document.getElementById('page-keras-lstm').hidden") is True
    assert page.evaluate("document.getElementById('rows-wrong').textContent") == "1", "the summary follows the filter"
    load(page, "#split=1")
    assert visible_rows(page) == set()
    load(page, "#framework=torch&version=2.9.0&verdict=equivalent")
    assert visible_rows(page) == {(TORCH_PAGE.id, DRIFTING_ROW[1]), (TORCH_PAGE.id, "hidden_size")}


def test_browser_text_search(page):
    load(page, "#q=RECURRENT_DROPOUT")
    rows = visible_rows(page)
    assert ("keras-lstm", "recurrent_dropout") in rows and ("keras-lstm", "units") not in rows
    load(page, "#all")
    page.evaluate("const q = document.getElementById('filter-q'); q.value = 'go_backwards';"
                  " q.dispatchEvent(new Event('input'))")
    assert visible_rows(page) == {("keras-lstm", "go_backwards")}
    assert page.evaluate("location.hash") == "#q=go_backwards"


def test_browser_empty_and_invalid_filters_say_so(page):
    load(page, "#q=no-row-has-this")
    assert visible_rows(page) == set()
    assert page.evaluate("document.getElementById('no-rows').hidden") is False
    load(page, "#verdict=bogus&colour=red")
    message = page.evaluate("document.getElementById('filter-message')")
    assert message is not None
    text = page.evaluate("document.getElementById('filter-message').textContent")
    assert "verdict 'bogus' is not in this report" in text and "unknown filter 'colour'" in text
    assert page.evaluate("document.getElementById('filter-message').hidden") is False
    assert int(page.evaluate("document.body.dataset.visibleRows")) == len(page.evaluate(
        "Array.from(document.querySelectorAll('tbody.case'))"))


def listed_wrong(page) -> set[tuple[str, str]]:
    return {tuple(x) for x in page.evaluate(
        "Array.from(document.querySelectorAll('#wrong-list li:not([hidden])')).map(li => [li.dataset.page, li.dataset.row])")}


def test_browser_the_wrong_rows_list_follows_the_filters(page):
    both = {("keras-lstm", "go_backwards"), (TORCH_PAGE.id, DRIFTING_ROW[1])}
    load(page)
    assert listed_wrong(page) == both
    assert page.evaluate("document.getElementById('wrong-shown').textContent") == "2"
    expected = {"#framework=torch": {(TORCH_PAGE.id, DRIFTING_ROW[1])},
                "#page=keras-lstm": {("keras-lstm", "go_backwards")},
                "?kind=mapping_page&q=GO_BACKWARDS": {("keras-lstm", "go_backwards")},
                "#framework=torch&version=2.9.0&verdict=equivalent": {(TORCH_PAGE.id, DRIFTING_ROW[1])},
                "#verdict=equal_at_default": set(), "#split=1": set()}
    for address, rows in expected.items():
        load(page, address)
        assert listed_wrong(page) == rows, address
        assert listed_wrong(page) == both & visible_rows(page), "the list shows the wrong rows the tables show"
        assert page.evaluate("document.getElementById('wrong-shown').textContent") == f"{len(rows)} of 2", address
        assert page.evaluate("document.getElementById('no-wrong-shown').hidden") == bool(rows), address
    # set in the filter bar: the list follows at once
    load(page, "#all")
    page.evaluate("const s = document.querySelector('select[data-filter=framework]'); s.value = 'tfkeras';"
                  " s.dispatchEvent(new Event('change'))")
    assert listed_wrong(page) == {("keras-lstm", "go_backwards")}
    page.evaluate("document.getElementById('filters-reset').click()")
    assert listed_wrong(page) == both and page.evaluate("document.getElementById('wrong-shown').textContent") == "2"
