"""The report package: merging results from several environments, and the HTML a reader opens.

Every input is a synthetic ResultsFile built here; expectations are derived from those inputs, so a
wrong merge or a wrong figure in the page fails a test. The browser tests load the rendered file in
headless Chromium and read the DOM after the page's script ran.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from mapping.report.merge import (
    MeasurementKey,
    ReportInputError,
    VerdictKey,
    merge,
    read_results,
    verdict_consistency,
)
from mapping.report.render import render, write_report
from mapping.results import CaseResult, Environment, Figures, PageRecord, ResultsFile

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


def expected_summary(files: list[ResultsFile]) -> dict[str, int]:
    """The summary figures, counted straight from the inputs."""
    results = [r for f in files for r in f.results]
    outcomes = Counter(r.outcome for r in results)
    pages = {p.id: p for f in files for p in f.pages}
    return {
        "pages-total": len(pages),
        "rows-total": len({(r.page, r.row) for r in results}),
        "rows-declared": sum(p.rows for p in pages.values()),
        "rows-wrong": len({(r.page, r.row) for r in results if r.measured_verdict == "diverges"}),
        "rows-failed": len({(r.page, r.row) for r in results if r.outcome == "failed"}),
        "rows-drift": 1,  # DRIFTING_ROW, built to drift
        "measurements-total": len(results),
        "environments-total": len(files),
        **{f"outcome-{o}": outcomes[o] for o in ("passed", "failed", "skipped", "error")},
    }


def test_summary_figures_match_the_inputs(all_files):
    page = Elements(render(merge(all_files)))
    expected = expected_summary(all_files)
    assert {key: page.figure(key) for key in expected} == expected
    for record in (TORCH_PAGE, KERAS_PAGE):
        rows = {(r.page, r.row) for f in all_files for r in f.results if r.page == record.id}
        assert page.figure(f"page-{record.id}-rows-covered") == len(rows)
        assert page.figure(f"page-{record.id}-rows-declared") == record.rows


def test_summary_counts_verdicts_per_page_and_framework(all_files):
    page = Elements(render(merge(all_files)))
    cells = {(a["data-page"], a["data-framework"], a["data-verdict"]) for a in page.all("td", "verdict-count")}
    measured = Counter((r.page, r.framework, r.measured_verdict or "none") for f in all_files for r in f.results)
    html = render(merge(all_files))
    for (page_id, framework, verdict), count in measured.items():
        assert (page_id, framework, verdict) in cells
        pattern = (rf'data-page="{page_id}" data-framework="{framework}"\s+data-verdict="{verdict}">(\d+)</td>')
        assert [int(n) for n in re.findall(pattern, html)] == [count]


def test_environments_are_listed(all_files):
    page = Elements(render(merge(all_files)))
    assert [a["data-environment"] for a in page.all("tr", "environment")] == [f.environment.name for f in all_files]


def test_one_row_per_case_with_its_verdicts(all_files):
    page = Elements(render(merge(all_files)))
    rows = page.all("tr", "case-row")
    results = [r for f in all_files for r in f.results]
    assert [(a["data-page"], a["data-row"]) for a in rows] == list(dict.fromkeys((r.page, r.row) for r in results))
    for attributes in rows:
        measured = {r.measured_verdict or "none" for r in results
                    if (r.page, r.row) == (attributes["data-page"], attributes["data-row"])}
        assert set(attributes["data-verdicts"].split()) == measured
        assert "hidden" not in attributes, "without JavaScript every row must be visible"


def test_failed_rows_show_expected_against_measured(all_files):
    html = render(merge(all_files))
    failed = [r for f in all_files for r in f.results if r.outcome == "failed"]
    assert len(re.findall(r'class="mismatch"', html)) == len(failed)
    for r in failed:
        assert (f"Expected {r.expected_verdict.replace('_', ' ')}, measured {r.measured_verdict.replace('_', ' ')}"
                in html)


def test_rows_show_figures_skip_reasons_recipes_and_reproduction(all_files):
    html = render(merge(all_files))
    hidden_size = torch_results("2.13.0", "diverges")[0]
    assert '<dd data-figure="max_abs">3.1e-07</dd>' in html
    assert '<dd data-figure="within">100%</dd>' in html
    assert hidden_size.recipe in html and '<pre><code>' + hidden_size.recipe + '</code></pre>' in html
    assert re.search(r'<details class="reproduce">\s*<summary>Reproduce</summary>.*?'
                     + re.escape(hidden_size.reproduce), html, re.S)
    assert "Skipped: dropout is random" in html


def test_findings_and_corrections_only_on_rows_the_page_gets_wrong(all_files):
    merged = merge(all_files)
    html = render(merged)
    for row in merged.rows():
        for r in row.measurements:
            if r.result.correction:
                shown = html.count("The page should say:</strong> " + str(escape(r.result.correction)))
                assert shown == (1 if row.wrong else 0), (row.page, row.row)
    assert html.count('class="finding"') == sum(r.wrong for r in merged.rows())


def test_drift_section_names_the_versions(all_files):
    page = Elements(render(merge(all_files)))
    drift = page.all("tr", "drift-row")
    assert [(a["data-page"], a["data-row"], a["data-framework"]) for a in drift] == [(*DRIFTING_ROW, "torch")]
    assert drift[0]["data-versions"] == "2.9.0 2.13.0"
    assert "no-drift" in Elements(render(merge(all_files[:1]))).text_by_id


def test_everything_from_inputs_is_escaped(all_files):
    html = render(merge(all_files))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "<b>loudly</b>" not in html and "&lt;b&gt;loudly&lt;/b&gt;" in html
    assert html.count("<script") == 2  # the JSON data block and the filter script, nothing injected


def test_embedded_data_cannot_close_its_script_element(all_files):
    html = render(merge(all_files))
    body = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S).group(1)
    assert "</" not in body and "<!--" not in body
    data = json.loads(body)
    assert any(HOSTILE_SCRIPT_END in (r["finding"] or "") for r in data["results"])
    assert len(data["results"]) == sum(len(f.results) for f in all_files)


def test_embedded_data_is_strict_json_even_with_nan_figures(torch_new):
    torch_new.results[0].figures = Figures(max_abs=float("nan"), max_rel=float("inf"), within=0.5, tolerance=1e-5)
    html = render(merge([torch_new]))
    body = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S).group(1)

    def reject(constant):
        raise ValueError(f"{constant} is not JSON")

    figures = json.loads(body, parse_constant=reject)["results"][0]["figures"]
    assert figures == {"max_abs": "nan", "max_rel": "inf", "within": 0.5, "tolerance": 1e-5}
    assert '<dd data-figure="max_abs">nan</dd>' in html


def test_only_web_addresses_become_links(all_files):
    page = Elements(render(merge(all_files)))
    hrefs = [a.get("href") or "" for a in page.all("a")]
    assert TORCH_PAGE.address in hrefs
    assert not [h for h in hrefs if h.lower().startswith("javascript:")]


def test_page_is_self_contained(all_files):
    page = Elements(render(merge(all_files)))
    external = re.compile(r"^\s*(https?:)?//", re.I)
    for tag, attributes in page.tags:
        if tag in {"script", "link", "img", "iframe", "source", "audio", "video", "embed", "object", "style"}:
            for name in ("src", "href", "data"):
                value = attributes.get(name) or ""
                assert not external.match(value), f"<{tag} {name}={value!r}> loads from the network"
    assert not page.all("link"), "stylesheets must be inline"
    assert [a.get("src") for a in page.all("script")] == [None, None]
    css = "".join(re.findall(r"<style>(.*?)</style>", render(merge(all_files)), re.S))
    assert "@import" not in css and "url(" not in css


def test_write_report_accepts_files_and_directories(tmp_path, torch_new, keras):
    folder = tmp_path / "results"
    torch_new.write(folder / "torch.json")
    keras.write(folder / "keras.json")
    written = write_report([folder], tmp_path / "out" / "report.html")
    assert written == tmp_path / "out" / "report.html"
    assert Elements(written.read_text(encoding="utf-8")).figure("environments-total") == 2
    assert [f.environment.name for f in read_results([folder / "torch.json", folder / "keras.json"])] == ["torch", "keras"]


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

BROWSER_TIMEOUT_S = 60


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium; installed with apt-get only when MAPPING_INSTALL_BROWSER=1, otherwise skipped."""
    path = find_chromium()
    if path is None and os.environ.get("MAPPING_INSTALL_BROWSER") == "1":
        apt_env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            done = subprocess.run(command, env=apt_env, capture_output=True, text=True, timeout=1200)
            if done.returncode != 0:
                pytest.fail(f"MAPPING_INSTALL_BROWSER=1 but `{' '.join(command)}` failed "
                            f"(needs root and network): {done.stderr.strip()[-500:]}")
        path = find_chromium()
    if path is None:
        pytest.skip("chromium is not installed: run `apt-get install -y chromium`, "
                    "or set MAPPING_INSTALL_BROWSER=1 to let this test install it")
    return path


def load_in_browser(chromium: str, html_file: Path, suffix: str, profile: Path) -> tuple[Elements, str, list[str]]:
    """The DOM after the page's script ran, its raw text, and the console lines that report errors."""
    url = html_file.resolve().as_uri() + suffix
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--dump-dom", url]
    # A new session, so that a hung browser (an injected alert() blocks --dump-dom) is ended with all its children.
    browser = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        dom, log = browser.communicate(timeout=BROWSER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(browser.pid, signal.SIGKILL)
        browser.communicate()
        pytest.fail(f"chromium did not finish loading {url} in {BROWSER_TIMEOUT_S} s; "
                    "a dialog opened by the page (alert, confirm) blocks headless --dump-dom")
    assert browser.returncode == 0, log[-2000:]
    console_errors = [line for line in log.splitlines() if "CONSOLE" in line and re.search(r"Uncaught|Error", line)]
    return Elements(dom), dom, console_errors


@pytest.fixture
def report_file(tmp_path, all_files) -> Path:
    for results in all_files:
        results.write(tmp_path / "results" / f"{results.environment.name}.json")
    return write_report([tmp_path / "results"], tmp_path / "conformance.html")


def body_attributes(dom: Elements) -> dict[str, str | None]:
    return dom.all("body")[0]


def test_browser_shows_summary_and_every_row(chromium, report_file, all_files, tmp_path):
    dom, raw, console_errors = load_in_browser(chromium, report_file, "", tmp_path / "profile")
    assert console_errors == []
    body = body_attributes(dom)
    assert body.get("data-ready") == "1", "the page's script did not run to the end"
    assert "data-pwned" not in body, "text from the inputs ran as script"
    expected = expected_summary(all_files)
    assert {key: dom.figure(key) for key in expected} == expected
    rows = dom.all("tr", "case-row")
    assert len(rows) == expected["rows-total"]
    assert not [a for a in rows if "hidden" in a]
    assert "hidden" not in dom.all("nav")[0], "filters appear once the script runs"
    assert body.get("data-visible-rows") == str(expected["rows-total"])
    assert dom.text_by_id["rows-visible"] == str(expected["rows-total"])


def test_browser_filter_from_the_address_hides_other_rows(chromium, report_file, all_files, tmp_path):
    dom, _, console_errors = load_in_browser(chromium, report_file, "#verdict=diverges", tmp_path / "profile")
    assert console_errors == []
    assert body_attributes(dom).get("data-ready") == "1"
    rows = dom.all("tr", "case-row")
    diverging = {(r.page, r.row) for f in all_files for r in f.results if r.measured_verdict == "diverges"}
    shown = {(a["data-page"], a["data-row"]) for a in rows if "hidden" not in a}
    assert shown == diverging
    assert len(rows) > len(shown), "the scenario must have rows to hide"
    assert body_attributes(dom).get("data-visible-rows") == str(len(diverging))


def test_browser_filters_combine_page_and_framework_from_the_query(chromium, report_file, all_files, tmp_path):
    dom, _, console_errors = load_in_browser(chromium, report_file, "?page=pytorch-lstm&outcome=failed",
                                             tmp_path / "profile")
    assert console_errors == []
    rows = dom.all("tr", "case-row")
    failed_torch = {(r.page, r.row) for f in all_files for r in f.results
                    if r.page == "pytorch-lstm" and r.outcome == "failed"}
    assert {(a["data-page"], a["data-row"]) for a in rows if "hidden" not in a} == failed_torch
    sections = {a["data-page"]: "hidden" in a for a in dom.all("section", "page")}
    assert sections == {"pytorch-lstm": False, "keras-lstm": True}


def test_a_row_whose_caveat_bites_is_shown_and_counted_as_holding_with_caveats(torch_new):
    from mapping.results import CaveatRecord, RecipeRecord

    biting = CaveatRecord(probe="fresh_mode", kind="defaults", title="starting mode", bites=True,
                          behaviour="training mode: dropout active on a plain call", figure=0.027)
    quiet = CaveatRecord(probe="size_one", kind="edge_values", title="sizes of one", behaviour="runs")
    ran = RecipeRecord(name="packed_lengths", framework="torch", source="def packed_lengths(): ...", executed=True,
                       ok=True, max_abs=5e-8, compared_with="the reference")
    hidden = torch_new.results[0]
    torch_new.results[0] = hidden.model_copy(update={"caveats": [quiet, biting], "recipes": [ran]})
    html = render(merge([torch_new]))
    page = Elements(html)
    assert page.figure("rows-caveats") == 1
    assert page.figure("caveats-total") == 2 and page.figure("recipes-executed") == 1
    assert re.search(r'data-row="hidden_size".*?data-status="holds_with_caveats">holds, with caveats<', html, re.S)
    assert 'data-probe="fresh_mode" data-bites="1"' in html and 'data-probe="size_one" data-bites="0"' in html
    assert 'data-recipe="packed_lengths" data-ok="1"' in html
    torch_new.results[0] = hidden.model_copy(update={"caveats": [quiet]})
    assert Elements(render(merge([torch_new]))).figure("rows-caveats") == 0
