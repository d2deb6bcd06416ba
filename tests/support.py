"""Helpers shared by the tests: skip-or-get an adapter, parameters carrying framework markers, and the mutation
classifier (a script, not a package module)."""

import importlib.util
from pathlib import Path

import pytest

from mapping.adapters import get_adapter, missing_reason
from mapping.frameworks import NAMES
from mapping.grid import grid_specs, spec_id
from mapping.ops import APIS


def adapter_or_skip(name: str):
    """The adapter, or a skip that says which framework is missing."""
    reason = missing_reason(name)
    if reason:
        pytest.skip(reason)
    return get_adapter(name)


def framework_params(names=NAMES) -> list:
    """One parameter per framework, marked so that ``-m <framework>`` selects it."""
    return [pytest.param(n, marks=getattr(pytest.mark, n)) for n in names]


def grid_params(profile: str = "ci") -> list:
    """(framework, spec) over the adapter grid of every API (mapping.grid: ``ci`` is the default selection,
    ``full`` what ``--grid full`` runs), with readable ids and framework markers."""
    return [pytest.param(name, spec, id=f"{name}-{spec_id(spec)}", marks=getattr(pytest.mark, name))
            for name in NAMES for api in APIS for spec in grid_specs(op=api, profile=profile)]


def load_classify():
    """``mutation/classify.py`` as a module."""
    spec = importlib.util.spec_from_file_location("classify", Path(__file__).resolve().parents[1] / "mutation" /
                                                  "classify.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
