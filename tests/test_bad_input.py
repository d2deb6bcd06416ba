"""The bad-input corpus: every input a user can get wrong gets a clear one-line error naming where, or is accepted
as written; no traceback, no silent wrong result, no runaway, and no earlier output damaged.

Each corpus entry's test id starts with its outcome class: ``error-...`` (a one-line error that names the file,
and the line, case and field where they apply) or ``accepted-...`` (taken correctly). Most entries are
in-process checks of the loaders and validators; the commands run in-process where they can and as real
subprocesses where only a subprocess shows the behaviour (an interrupt, a broken framework, the main job).
Count them with ``pytest tests/test_bad_input.py --collect-only -q``.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mapping import atomic
from mapping.cases import CaseFileError, load_case_file

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "fixtures" / "bad_input"
BASE = (CORPUS / "base_case_file.yaml").read_text(encoding="utf-8")
ENTRIES = yaml.safe_load((CORPUS / "case_file_corpus.yaml").read_text(encoding="utf-8"))

#: The longest error line any bad input may produce (a 1.2 KB file once produced a 1.4 GB one).
MAX_MESSAGE = 1000
#: The longest any single bad input may take to be refused (no runaway).
MAX_SECONDS = 10.0


def assert_clear_error(message: str, *, names: list[str | Path], line: int | None = None) -> None:
    """One line, bounded, no traceback, naming every file in ``names`` (and the line where one is given)."""
    assert "\n" not in message.strip(), f"not one line: {message!r}"
    assert len(message) <= MAX_MESSAGE, f"{len(message)} characters"
    assert "Traceback" not in message
    for name in names:
        assert str(name) in message, f"{name} not named in {message!r}"
    if line is not None:
        assert f":{line}:" in message, f"line {line} not named in {message!r}"


def edited(entry: dict) -> str:
    if "text" in entry:
        return entry["text"]
    if "append" in entry:
        return BASE + entry["append"]
    old, new = entry["replace"]
    assert old in BASE, f"{entry['id']}: the text to replace is not in the base file"
    return BASE.replace(old, new, 1)


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{e['expect']}-{e['id']}" for e in ENTRIES])
def test_case_file_corpus(tmp_path, entry):
    path = tmp_path / "case.yaml"
    path.write_text(edited(entry), encoding="utf-8")
    start = time.perf_counter()
    if entry["expect"] == "accepted":
        loaded = load_case_file(path)
        if "row" in entry:
            assert entry["row"] in [c.row for c in loaded.cases]
        return
    with pytest.raises(CaseFileError) as caught:
        load_case_file(path)
    assert time.perf_counter() - start < MAX_SECONDS
    error = caught.value
    assert_clear_error(str(error), names=[path], line=entry.get("line"))
    assert str(error).startswith(str(path))
    if "line" in entry:
        assert error.line == entry["line"], str(error)
    if "case" in entry:
        assert error.case == entry["case"], str(error)
    if "field" in entry:
        assert error.field == entry["field"], str(error)
    if "words" in entry:
        assert entry["words"] in str(error), str(error)


def test_base_case_file_is_valid_and_every_edit_changes_it(tmp_path):
    """The corpus tests its edits, not a broken base: the base loads, and no edit leaves it unchanged."""
    path = tmp_path / "base.yaml"
    path.write_text(BASE, encoding="utf-8")
    assert len(load_case_file(path).cases) == 5
    assert all(edited(e) != BASE for e in ENTRIES)
    assert len({e["id"] for e in ENTRIES}) == len(ENTRIES)


# Inputs that are not text, or not small: built here rather than written in the corpus file.
BYTE_ENTRIES = {
    "error-not-utf8-latin1": (BASE.replace("hidden_size.", "hidden_size \u00e9.").encode("latin-1"), 14, "not UTF-8"),
    "error-utf16": (BASE.encode("utf-16"), 1, "not UTF-8"),
    "error-nul-byte": (BASE.replace("Demo page", "Demo\x00page").encode(), 4, "not valid YAML"),
    "error-100000-nested-brackets": (b"page: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", None, "nested too deeply"),
    "error-larger-than-1-mib": (BASE.encode() + b"# padding\n" * 120_000, None, "a case file is at most"),
    "accepted-utf8-with-bom": (b"\xef\xbb\xbf" + BASE.encode(), None, None),
    "accepted-crlf-line-ends": (BASE.replace("\n", "\r\n").encode(), None, None),
}


@pytest.mark.parametrize("name", list(BYTE_ENTRIES))
def test_case_file_bytes(tmp_path, name):
    data, line, words = BYTE_ENTRIES[name]
    path = tmp_path / "case.yaml"
    path.write_bytes(data)
    start = time.perf_counter()
    if name.startswith("accepted"):
        assert [c.row for c in load_case_file(path).cases][0] == "Parameter 1"
        return
    with pytest.raises(CaseFileError) as caught:
        load_case_file(path)
    assert time.perf_counter() - start < MAX_SECONDS
    assert_clear_error(str(caught.value), names=[path], line=line)
    assert words in str(caught.value)
