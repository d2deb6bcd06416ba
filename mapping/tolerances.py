"""Per-framework, per-API, per-dtype tolerances, read from ``tolerances.yaml`` (data, with the measurements).

Each framework's top-level ``float32``/``float64`` entries are LSTM's; every other API (``gru``, ``rnn``,
``lstm_cell``, ``gru_cell``, ``rnn_cell``) has its own entries under its name, measured on its own grid. An API
without an entry has no tolerance (KeyError): nothing is compared with a tolerance nobody measured.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

_FILE = Path(__file__).with_name("tolerances.yaml")


@lru_cache(maxsize=None)
def _table() -> dict:
    return yaml.safe_load(_FILE.read_text(encoding="utf-8"))


def _section(table: dict, framework: str, op: str, what: str) -> dict:
    entry = table.get(framework)
    if entry is None:
        raise KeyError(f"no {what} for {framework} in {_FILE.name}")
    if op == "lstm":
        return entry
    if op not in entry:
        raise KeyError(f"no {what} for {framework} {op} in {_FILE.name} (measure it: mapping measure --op {op})")
    return entry[op]


def tolerance(framework: str, dtype: str, op: str = "lstm") -> float:
    """The tolerance for ``framework``'s ``op`` (an API name: ``gru``, ``gru_cell``) at ``dtype``; KeyError names
    what is missing."""
    try:
        return float(_section(_table(), framework, op, "tolerance")[dtype]["tol"])
    except KeyError as exc:
        if exc.args and str(exc.args[0]).startswith("no "):
            raise
        raise KeyError(f"no tolerance for {framework} {op} at {dtype} in {_FILE.name}") from None


def forward_tolerance(framework: str, dtype: str, padded: bool, op: str = "lstm") -> float:
    """The tolerance for one forward run: frameworks whose padded path computes differently may have their
    own entry ``<dtype>_seq_length`` (see the measurements in tolerances.yaml)."""
    if padded and f"{dtype}_seq_length" in _section(_table(), framework, op, "tolerance"):
        return tolerance(framework, f"{dtype}_seq_length", op)
    return tolerance(framework, dtype, op)


def gradient_tolerance(framework: str, dtype: str, padded: bool = False, op: str = "lstm") -> float:
    """The gradient tolerance (section ``gradients:``) for ``framework``'s ``op`` at ``dtype``.

    An element of a gradient passes when ``|actual - reference| <= tol * (1 + |reference|)``, with the
    reference from :mod:`mapping.reference.backward`; KeyError names what is missing. With ``padded`` (a run
    with per-sample lengths), a framework's ``<dtype>_seq_length`` entry applies where it has one.
    """
    section = _section(_table().get("gradients", {}), framework, op, "gradient tolerance")
    key = f"{dtype}_seq_length" if padded and f"{dtype}_seq_length" in section else dtype
    try:
        return float(section[key]["tol"])
    except KeyError:
        raise KeyError(f"no gradient tolerance for {framework} {op} at {key} in {_FILE.name}") from None
