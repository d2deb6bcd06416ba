"""The code passes the project's linter (ruff, configured in pyproject.toml): unused or undefined names, style,
import order. ruff comes with the ``dev`` extra."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "mapping", "tests", "benchmarks", "mutation",
                             "conftest.py"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
