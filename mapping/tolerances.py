"""Per-framework, per-dtype tolerances, read from ``tolerances.yaml`` (data, with the measurements)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

_FILE = Path(__file__).with_name("tolerances.yaml")


@lru_cache(maxsize=None)
def _table() -> dict:
    return yaml.safe_load(_FILE.read_text(encoding="utf-8"))


def tolerance(framework: str, dtype: str) -> float:
    """The tolerance for ``framework`` at ``dtype``; KeyError names what is missing."""
    try:
        return float(_table()[framework][dtype]["tol"])
    except KeyError:
        raise KeyError(f"no tolerance for {framework} at {dtype} in {_FILE.name}") from None


def measured(framework: str, dtype: str) -> float:
    return float(_table()[framework][dtype]["measured"])
