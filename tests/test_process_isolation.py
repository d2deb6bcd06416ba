"""Regression: test files that use pytester must not unload a framework from the test process.

``pytest -p no:xdist tests/test_cases.py tests/test_version_verdicts.py`` used to end in
``SystemError: ... bad call flags`` inside torch/__init__.py and a segfault: torch was first imported inside
an in-process pytester run, pytester dropped it from ``sys.modules`` afterwards, and the next import of
torch re-ran its package initialisation over the still-loaded C extension. Now such runs go through
``runpytest_subprocess`` and tests/conftest.py's ``pytester`` fixture fails any in-process run that imports
a framework. This runs the two tests of the order that crashed, in a fresh process.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.torch
def test_case_file_tests_then_version_tests_in_one_process():
    pytest.importorskip("torch")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q",
         # the two tests whose order crashed: a pytester run of torch cases, then a test importing torch
         "tests/test_cases.py::test_results_file_records_passes_and_crashes",
         "tests/test_version_verdicts.py::test_judge_expects_the_verdict_recorded_for_the_installed_version"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    tail = (proc.stdout + proc.stderr)[-4000:]
    assert proc.returncode == 0, tail
    assert "bad call flags" not in tail and "2 passed" in tail
