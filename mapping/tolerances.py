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


def forward_tolerance(framework: str, dtype: str, padded: bool) -> float:
    """The tolerance for one forward run: frameworks whose padded path computes differently may have their
    own entry ``<dtype>_seq_length`` (see the measurements in tolerances.yaml)."""
    if padded and f"{dtype}_seq_length" in _table().get(framework, {}):
        return tolerance(framework, f"{dtype}_seq_length")
    return tolerance(framework, dtype)


def gradient_tolerance(framework: str, dtype: str, padded: bool = False) -> float:
    """The gradient tolerance (section ``gradients:``) for ``framework`` at ``dtype``.

    An element of a gradient passes when ``|actual - reference| <= tol * (1 + |reference|)``, with the
    reference from :mod:`mapping.reference.backward`; KeyError names what is missing. With ``padded`` (a run
    with per-sample lengths), a framework's ``<dtype>_seq_length`` entry applies where it has one.
    """
    section = _table().get("gradients", {}).get(framework, {})
    key = f"{dtype}_seq_length" if padded and f"{dtype}_seq_length" in section else dtype
    try:
        return float(section[key]["tol"])
    except KeyError:
        raise KeyError(f"no gradient tolerance for {framework} at {key} in {_FILE.name}") from None

