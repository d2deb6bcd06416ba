"""mapping.audit: every seed rendering reads to the right rows, and coverage gaps are reported.

Seed pages are read from ../shared/seeds (skipped when absent). Expectations come from the seeds'
README and from the pages themselves (their signatures, and one rendering compared with another);
the add/remove/renumber cases compare a fixture page with its edited copies in tests/fixtures/audit/.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mapping import audit

REPO = Path(__file__).parents[1]
SEEDS = REPO.parent / "shared" / "seeds"
FIXTURES = Path(__file__).parent / "fixtures" / "audit"
PAGES = FIXTURES / "pages"
CASE_FILES = FIXTURES / "case_files"  # not named "cases": the root conftest collects cases/*.yaml as tests
REAL_CASES = REPO / "cases"


def seed(number: str) -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"seed pages not found at {SEEDS}")
    found = sorted(SEEDS.glob(f"{number}_*.txt"))
    assert len(found) == 1, f"expected one seed {number}_*.txt, found {found}"
    return found[0]


def fixture_cases() -> list[audit.CaseFileInfo]:
    return audit.index_case_files(CASE_FILES)


def signature_names(text: str, api: str) -> set[str]:
    """Names in the page's own ``class <api>(...)(...)`` signature block."""
    start = text.index(f"class {api}(")
    end = text.find("->", start)
    block = text[start + len(f"class {api}("):end if end > 0 else start + 1500]
    return set(re.findall(r"\*{0,2}[A-Za-z_]\w*", block))


def params_sequence(page: audit.PageTable) -> list[dict]:
    return [row.params for row in page.rows]


# --- reading each seed rendering -----------------------------------------------------------------


def test_master_markdown_table_has_32_numbered_rows_named_as_in_the_signatures():
    path = seed("000")
    page = audit.read_page(path)
    text = path.read_text(encoding="utf-8")
    assert (page.form, page.layout.name, page.sides) == ("Markdown table", "numbered", ["tensorflow", "mindspore"])
    assert [row.row_id for row in page.rows] == [f"Parameter {n}" for n in range(1, 33)]
    assert page.rows[16].params == {"tensorflow": "recurrent_dropout", "mindspore": None}
    tf_names, ms_names = signature_names(text, "tf.keras.layers.LSTM"), signature_names(text, "mindspore.nn.LSTM")
    for row in page.rows:
        assert row.params["tensorflow"] in tf_names | {None}, row
        assert row.params["mindspore"] in ms_names | {None}, row
        assert row.difference, row
    assert page.address and page.address.startswith("https://gitee.com/mindspore/docs/blob/master/")


def test_later_revision_one_cell_per_line_inserts_kwargs_as_parameter_24():
    master, later = audit.read_page(seed("000")), audit.read_page(seed("002"))
    assert later.form == "plain text, one table cell per line"
    assert [row.row_id for row in later.rows] == [f"Parameter {n}" for n in range(1, 34)]
    kwargs = later.rows[23]
    assert (kwargs.row_id, kwargs.params) == ("Parameter 24", {"tensorflow": "**kwargs", "mindspore": None})
    assert params_sequence(later)[:23] + params_sequence(later)[24:] == params_sequence(master)
    assert later.address is None
    assert any("source address" in note for note in later.notes)


def test_r19_chinese_table_is_keyed_by_parameter_name():
    page = audit.read_page(seed("001"))
    assert (page.layout.name, page.sides) == ("keyed", ["mindspore", "tensorflow"])
    ids = [row.row_id for row in page.rows]
    assert ids == ["input_size", "hidden_size", "num_layers", "batch_first", "bidirectional", "output、hn、cn"]
    assert audit.row_key(ids[-1]) == "output/hn/cn"
    assert all(row.params is None and row.difference for row in page.rows)


def test_english_r19_rendering_keeps_descriptions_but_loses_names_and_headings():
    page, chinese = audit.read_page(seed("003")), audit.read_page(seed("001"))
    assert page.form == "plain text, one table cell per paragraph"
    assert len(page.rows) == len(chinese.rows)
    assert all(row.row_id is None and row.params is None for row in page.rows)
    assert page.sides == [None, None]
    notes = " ".join(page.notes)
    assert "'diff parameters' column" in notes and "which framework" in notes
    cut = [row.label for row in page.rows if row.difference.count("(") > row.difference.count(")")]
    assert cut and all(f"in {label}," in notes for label in cut)


def test_english_r19_rows_are_recognised_by_content_in_the_chinese_page_order():
    report = audit.audit_page(seed("003"), fixture_cases())
    chinese = audit.read_page(seed("001"))
    assert report.case_file.path.name == "tensorflow_lstm_r1.9.yaml"
    assert {m.how for m in report.coverage.matches} == {"content"}
    assert [audit.row_key(m.case.row) for m in report.coverage.matches] == [
        audit.row_key(row.row_id) for row in chinese.rows]


def test_one_line_torch_page_has_8_parameters_and_4_inputs():
    path = seed("004")
    page = audit.read_page(path)
    assert page.form == "Markdown table flattened onto one line"
    assert path.read_text(encoding="utf-8").count("\n") <= 1
    assert [row.row_id for row in page.rows] == [f"Parameter {n}" for n in range(1, 9)] + [
        f"Input {n}" for n in range(1, 5)]
    assert page.rows[9].params == {"pytorch": "h_0", "mindspore": "hx"}
    torch_names = signature_names(path.read_text(encoding="utf-8"), "torch.nn.LSTM")
    assert all(row.params["pytorch"] in torch_names | {None} for row in page.rows)


# --- seeds against the fixture case files --------------------------------------------------------


@pytest.mark.parametrize("number", ["000", "001", "002", "003", "004"])
def test_each_seed_is_fully_covered_by_its_fixture_case_file(number):
    report = audit.audit_page(seed(number), fixture_cases())
    assert report.rendering == seed(number).name
    assert not report.coverage.uncovered and not report.coverage.orphaned
    assert report.exit_code == audit.FULL_COVERAGE
    assert [c.row for c in report.case_file.example_cases] in ([], ["Code example"])


def test_rows_after_the_inserted_kwargs_row_are_reported_renumbered():
    report = audit.audit_page(seed("002"), fixture_cases())
    inserted = next(row for row in report.page.rows if row.params["tensorflow"] == "**kwargs")
    number = lambda row_id: int(row_id.split()[1])  # noqa: E731
    shifted = [(m.case.row, m.row.row_id) for m in report.coverage.renumbered]
    expected = [(f"Parameter {number(row.row_id) - 1}", row.row_id) for row in report.page.rows
                if number(row.row_id) > number(inserted.row_id)]
    assert shifted == expected and expected


def test_case_only_in_another_rendering_is_not_expected_on_the_master_page():
    report = audit.audit_page(seed("000"), fixture_cases())
    kwargs_case = next(c for c in report.case_file.cases if c.only_in)
    assert report.rendering not in kwargs_case.only_in
    assert kwargs_case not in report.coverage.orphaned and report.exit_code == audit.FULL_COVERAGE


def test_unlisted_copy_of_master_page_is_matched_by_address_and_only_in_case_is_not_counted(tmp_path):
    copy = tmp_path / "master_copy.md"
    shutil.copy(seed("000"), copy)
    report = audit.audit_page(copy, fixture_cases())
    assert (report.case_file.path.name, report.chosen_by, report.rendering) == (
        "tensorflow_lstm_master.yaml", "by source address", None)
    assert [c.row for c in report.coverage.elsewhere] == [c.row for c in report.case_file.cases if c.only_in]
    assert report.exit_code == audit.FULL_COVERAGE


def test_unlisted_copy_of_plain_text_r19_page_is_found_by_title_and_content(tmp_path):
    copy = tmp_path / "renamed.txt"
    shutil.copy(seed("003"), copy)
    report = audit.audit_page(copy, fixture_cases())
    assert (report.case_file.path.name, report.chosen_by) == ("tensorflow_lstm_r1.9.yaml", "by title and rows")
    assert report.exit_code == audit.FULL_COVERAGE


def test_page_about_other_frameworks_is_not_matched_to_a_case_file_by_shared_parameter_names(tmp_path):
    copy = tmp_path / "renamed.md"
    shutil.copy(seed("001"), copy)  # same parameter names as the torch page, but TensorFlow on the other side
    cases = [cf for cf in fixture_cases() if cf.path.name == "pytorch_lstm_r2.3.yaml"]
    report = audit.audit_page(copy, cases)
    assert report.case_file is None and len(report.coverage.uncovered) == len(report.page.rows)


def test_paragraph_rendering_of_a_numbered_table_is_anchored_on_row_ids(tmp_path):
    markdown = audit.read_page(PAGES / "mini_gru.md")
    cells = [markdown.title, "Categories", "Subcategories", "PyTorch", "MindSpore", "Differences"]
    for row in markdown.rows:  # one paragraph per non-empty cell, as a plain-text export writes them
        names = [name or "-" for name in row.params.values()]
        category = row.category if row.row_id.endswith(" 1") else ""
        cells += [c for c in (category, row.row_id, *names, row.difference) if c] + [""]
    page = tmp_path / "paragraphs.txt"
    page.write_text("\n\n".join(cells) + "\n\nCode Example\n\nx = 1\n", encoding="utf-8")
    read = audit.read_page(page)
    assert read.form == "plain text, one table cell per paragraph"
    assert [(r.row_id, r.params) for r in read.rows] == [(r.row_id, r.params) for r in markdown.rows]


# --- fixture pages: each format and each kind of gap ---------------------------------------------


def audited(name: str) -> audit.PageReport:
    return audit.audit_page(PAGES / name, fixture_cases())


def test_full_fixture_page_is_covered():
    report = audited("mini_gru.md")
    assert (report.chosen_by, report.rendering, report.exit_code) == ("by source address", "mini_gru.md", 0)
    assert report.page.rows[3].params == {"pytorch": "bidirectional", "mindspore": "bidirectional"}  # `code` stripped


def test_removed_row_leaves_its_case_orphaned():
    full, removed = audit.read_page(PAGES / "mini_gru.md"), audited("mini_gru_row_removed.md")
    gone = {row.row_id for row in full.rows} - {row.row_id for row in removed.page.rows}
    assert [c.row for c in removed.coverage.orphaned] == sorted(gone) and gone
    assert not removed.coverage.uncovered and removed.exit_code == audit.GAPS


def test_added_row_is_uncovered_and_gets_a_skeleton_case():
    full, added = audit.read_page(PAGES / "mini_gru.md"), audited("mini_gru_row_added.md")
    new = [row for row in added.page.rows if row.params not in params_sequence(full)]
    assert added.coverage.uncovered == new and len(new) == 1
    assert not added.coverage.orphaned and added.exit_code == audit.GAPS
    skeleton = yaml.safe_load(added.skeleton())
    assert skeleton == [{"row": new[0].row_id, "params": new[0].params, "claim": audit.TODO_CLAIM,
                         "check": "TODO", "verdict": "TODO"}]
    assert f"# {new[0].row_id} on mini_gru_row_added.md" in added.skeleton()
    assert new[0].difference not in added.skeleton()


def test_renumbered_rows_are_reported_with_old_and_new_numbers():
    full, moved = audit.read_page(PAGES / "mini_gru.md"), audited("mini_gru_renumbered.md")
    old_id = {json.dumps(row.params): row.row_id for row in full.rows}
    expected = {(old_id[json.dumps(row.params)], row.row_id) for row in moved.page.rows
                if old_id[json.dumps(row.params)] != row.row_id}
    assert {(m.case.row, m.row.row_id) for m in moved.coverage.renumbered} == expected and expected
    assert moved.exit_code == audit.FULL_COVERAGE


def test_changed_parameter_name_is_reported_against_the_case_with_that_row_id():
    report = audited("mini_gru_params_changed.md")
    assert [(m.row.row_id, m.case.row) for m in report.coverage.params_changed] == [("Parameter 3", "Parameter 3")]
    assert report.exit_code == audit.GAPS


def test_page_flattened_onto_one_line_reads_like_the_markdown_page():
    one_line, markdown = audit.read_page(PAGES / "mini_gru_one_line.md"), audit.read_page(PAGES / "mini_gru.md")
    assert one_line.form == "Markdown table flattened onto one line"
    assert [(r.row_id, r.params, r.difference) for r in one_line.rows] == [
        (r.row_id, r.params, r.difference) for r in markdown.rows]
    assert (one_line.title, one_line.address) == (markdown.title, markdown.address)
    assert audited("mini_gru_one_line.md").exit_code == audit.FULL_COVERAGE


def test_chinese_keyed_table_matches_cases_by_normalised_row_id():
    report = audited("mini_keyed_zh.md")
    assert report.page.rows[-1].row_id == "output、hn"
    assert [m.case.row for m in report.coverage.matches] == [c.row for c in report.case_file.cases]
    assert report.exit_code == audit.FULL_COVERAGE


def test_forced_case_file_reports_every_row_and_case(tmp_path):
    forced = [audit.index_case_file(CASE_FILES / "mini_gru.yaml")]
    report = audit.audit_page(seed("004"), forced, forced=True)
    params_here = params_sequence(report.page)
    assert [r.row_id for r in report.coverage.uncovered] == [
        r.row_id for r in report.page.rows if not any(audit.same_params(r.params, c.params) for c in forced[0].cases)]
    assert all(c.params not in params_here for c in report.coverage.orphaned)
    assert report.exit_code == audit.GAPS


def test_without_a_case_file_the_skeleton_is_a_whole_case_file(tmp_path):
    report = audit.audit_page(PAGES / "mini_gru.md", [])
    assert report.case_file is None
    skeleton = yaml.safe_load(report.skeleton())
    assert skeleton["page"]["address"] == report.page.address
    assert skeleton["page"]["renderings"] == [{"seed": "mini_gru.md", "rows": len(report.page.rows)}]
    assert [case["row"] for case in skeleton["cases"]] == [row.row_id for row in report.page.rows]


def test_page_with_an_address_no_case_file_has_is_not_matched_by_title(tmp_path):
    other_version = tmp_path / "mini_gru_other_version.md"
    text = (PAGES / "mini_gru.md").read_text(encoding="utf-8")
    other_version.write_text(text.replace("/blob/fixture/", "/blob/r9.9/"), encoding="utf-8")
    report = audit.audit_page(other_version, fixture_cases())
    assert report.case_file is None and "source address" in report.chosen_by
    assert report.exit_code == audit.GAPS


# --- bad input: one line, exit 2, no traceback ---------------------------------------------------


def write_binary(tmp_path: Path) -> Path:
    path = tmp_path / "page.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    return path


def write_keyed_one_line_missing_a_cell(tmp_path: Path) -> Path:
    path = tmp_path / "keyed_one_line.md"
    path.write_text("# Differences with tf.keras.layers.GRU (fixture) | diff parameters | MindSpore | TensorFlow | "
                    "|---|---|---| | input_size | given | inferred | | hidden_size | given | ## Code Example",
                    encoding="utf-8")
    return path


def write_latin1(tmp_path: Path) -> Path:
    path = tmp_path / "page.md"
    path.write_bytes("| Catégories | Sous-catégories |\n".encode("latin-1"))
    return path


@pytest.mark.parametrize("make_page, message", [
    (lambda tmp: PAGES / "empty.md", "empty file; expected an API-mapping page"),
    (lambda tmp: PAGES / "no_table.md", "no difference table found; expected"),
    (lambda tmp: PAGES / "wrong_columns.md", "the table has 4 columns"),
    (lambda tmp: PAGES / "unrecognised_header.md", "unrecognised table header 'Option | Before | After'"),
    (lambda tmp: PAGES / "mini_gru_bad_row.md", "table row has 4 cells; the header has 5"),
    (lambda tmp: PAGES / "mini_gru_one_line_broken.md", "row 'Parameter 2' does not have 5 cells"),
    (write_keyed_one_line_missing_a_cell, "breaks off after 1 row: the next does not have 3 cells"),
    (write_binary, "binary file; expected"),
    (write_latin1, "not UTF-8 text; expected"),
    (lambda tmp: tmp / "missing.md", "cannot read"),
], ids=["empty", "no-table", "wrong-columns", "unrecognised", "bad-row", "one-line-broken",
        "keyed-one-line-broken", "binary", "latin-1",
        "missing"])
def test_bad_page_gets_one_line_message_and_exit_2(tmp_path, capsys, make_page, message):
    page = make_page(tmp_path)
    assert audit.main([str(page), "--cases", str(CASE_FILES)]) == audit.BAD_INPUT
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and str(page) in err and message in err, err
    assert "Traceback" not in err + out


def test_bad_page_among_good_ones_still_reports_the_good_ones(capsys):
    code = audit.main([str(PAGES / "mini_gru.md"), str(PAGES / "empty.md"), "--cases", str(CASE_FILES)])
    out, err = capsys.readouterr()
    assert code == audit.BAD_INPUT and "mini_gru.md" in out and "result: full coverage" in out
    assert "empty.md" in err


def test_malformed_case_file_is_bad_input(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("page: {title: [unclosed\n", encoding="utf-8")
    assert audit.main([str(PAGES / "mini_gru.md"), "--cases", str(broken)]) == audit.BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "broken.yaml" in err and "not valid YAML" in err


# --- the command line ----------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mapping.audit", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


def test_cli_json_output_and_exit_codes():
    result = run_cli(str(PAGES / "mini_gru.md"), str(PAGES / "mini_gru_row_added.md"), "--cases", str(CASE_FILES),
                     "--format", "json")
    assert result.returncode == audit.GAPS, result.stderr
    report = json.loads(result.stdout)
    assert report["exit_code"] == audit.GAPS
    full, added = report["pages"]
    assert (full["exit_code"], full["uncovered"], full["orphaned"]) == (0, [], [])
    assert [row["row"] for row in added["uncovered"]] == ["Parameter 5"]
    assert yaml.safe_load(added["skeleton"])[0]["claim"] == audit.TODO_CLAIM


def test_cli_bad_input_prints_no_traceback():
    result = run_cli(str(PAGES / "wrong_columns.md"), "--cases", str(CASE_FILES))
    assert result.returncode == audit.BAD_INPUT
    assert result.stdout == "" and "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_cli_text_output_names_case_file_and_result():
    result = run_cli(str(seed("002")), "--cases", str(CASE_FILES))
    assert result.returncode == audit.FULL_COVERAGE, result.stderr
    assert "tensorflow_lstm_master.yaml" in result.stdout and "renumbered (9)" in result.stdout
    assert result.stdout.rstrip().endswith("result: full coverage")


# --- the real case files -------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["000", "001", "002", "003", "004"])
def test_each_seed_is_fully_covered_by_the_real_case_files(number):
    page = seed(number)
    listing = [cf.path for cf in audit.index_case_files(REAL_CASES) if page.name in cf.renderings] \
        if REAL_CASES.is_dir() else []
    if not listing:
        pytest.skip(f"no case file in {REAL_CASES} lists {page.name} as a rendering yet")
    report = audit.audit_page(page, audit.index_case_files(REAL_CASES))
    assert report.case_file.path in listing
    assert [r.label for r in report.coverage.uncovered] == [] and [c.row for c in report.coverage.orphaned] == []
    assert report.exit_code == audit.FULL_COVERAGE


# --- the recurrent family's pages (../shared/pages) against the real case files ------------------

FAMILY = REPO.parent / "shared" / "pages"
#: Rows of each page's table (see ../shared/pages/README.md): 38 in all, in English and in Chinese.
FAMILY_ROWS = {"GRU": 10, "RNN": 11, "LSTMCell": 6, "GRUCell": 5, "RNNCell": 6}


@pytest.mark.parametrize("language", ["en", "zh_cn"])
@pytest.mark.parametrize("op", list(FAMILY_ROWS))
def test_family_page_is_fully_covered_by_its_case_file(op, language):
    path = FAMILY / f"pytorch_diff_{op}.{language}.md"
    if not path.is_file():
        pytest.skip(f"page copy not found at {path}")
    report = audit.audit_page(path, audit.index_case_files(REAL_CASES))
    assert report.case_file.path.name == f"pytorch_{op.lower()}_master.yaml"
    assert len(report.page.rows) == FAMILY_ROWS[op]
    assert not report.coverage.uncovered and not report.coverage.orphaned
    assert report.exit_code == audit.FULL_COVERAGE
