"""The configuration grid every adapter is checked on against the reference, for every API (each op as a layer
and as a cell).

Specs vary what needs a new model (layers, directions, layout, bias, dtype, and the op's own choices: GRU's
``reset_after``, the RNN's nonlinearity); each built model then runs on every input variant (batch size,
sequence length, with or without an initial state). For LSTM a framework builds 48 models and runs 384
configurations; GRU and RNN double that with their own axis; a cell has one layer and one direction.

Two profiles: ``full``, the whole product (what ``mapping measure`` measures the tolerances on, and what
``pytest --grid full`` checks), and ``ci``, the default test selection: the whole LSTM grid, and for the other
APIs a pairwise covering subset (every value of every axis, and every pair of values of any two axes, appears in
some spec), which keeps the default run short while no single axis or pair of axes goes unchecked.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .compare import FieldFigures, compare_results
from .problem import Problem
from .spec import LayerSpec, split_api
from .weights import random_inputs, random_state, random_weights

INPUT_SIZE = 4
HIDDEN_SIZE = 5
BATCHES = (1, 3)
SEQ_LENS = (1, 7)
NUM_LAYERS = (1, 2, 3)
BIDIRECTIONAL = (False, True)
BATCH_FIRST = (False, True)
BIAS = (False, True)
INITIAL_STATE = (False, True)
DTYPES = ("float32", "float64")
#: Each op's own axis, spec field -> values (the default first).
OP_AXES: dict[str, dict[str, tuple[Any, ...]]] = {
    "gru": {"reset_after": (True, False)},
    "rnn": {"activation": ("tanh", "relu")},
}
#: APIs whose default test selection is the whole grid; the others get the pairwise subset.
FULL_IN_CI = ("lstm",)

Profile = Literal["ci", "full"]


def _op_of(api: str) -> str:
    return split_api(api)[0]


def _axes(api: str, dtypes: tuple[str, ...]) -> dict[str, tuple[Any, ...]]:
    layered = split_api(api)[1] == "layer"
    return {"dtype": dtypes, "num_layers": NUM_LAYERS if layered else (1,),
            "bidirectional": BIDIRECTIONAL if layered else (False,), "batch_first": BATCH_FIRST, "bias": BIAS,
            **OP_AXES.get(_op_of(api), {})}


def pairwise(axes: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """A small subset of the product of ``axes`` in which every pair of values of any two axes occurs (greedy,
    deterministic: each step takes the first combination covering the most pairs not yet covered)."""
    names = list(axes)
    rows = [dict(zip(names, values)) for values in itertools.product(*axes.values())]

    def pairs(row):
        return {(a, row[a], b, row[b]) for a, b in itertools.combinations(names, 2)}

    uncovered = set().union(*(pairs(r) for r in rows))
    chosen: list[dict[str, Any]] = []
    while uncovered:
        best = max(rows, key=lambda r: len(pairs(r) & uncovered))
        chosen.append(best)
        uncovered -= pairs(best)
    return chosen


def grid_specs(dtypes: tuple[str, ...] = DTYPES, op: str = "lstm", profile: Profile = "full") -> list[LayerSpec]:
    """The grid's specs of API ``op`` (``gru``, ``gru_cell``, ...) in ``dtypes``: the whole product, or with
    ``profile="ci"`` the pairwise subset for the APIs not in :data:`FULL_IN_CI`."""
    axes = _axes(op, dtypes)
    rows = [dict(zip(axes, values)) for values in itertools.product(*axes.values())]
    if profile == "ci" and op not in FULL_IN_CI:
        # every framework runs float32 and the op's default choice: their structural pairs are covered on their own,
        # so that no framework is left with a thin slice; then every pair over all axes
        common = {name: values[:1] if name == "dtype" or name in OP_AXES.get(_op_of(op), {}) else values
                  for name, values in axes.items()}
        chosen = pairwise(common) + pairwise(axes)
        rows = [row for row in rows if row in chosen]  # in grid order, without repeats
    return [LayerSpec.parse(dict(input_size=INPUT_SIZE, hidden_size=HIDDEN_SIZE, **row), op=op) for row in rows]


def spec_id(spec: LayerSpec) -> str:
    """A short readable id: ``L2-bi-tm-nobias-float32`` (prefixed with the API unless it is LSTM, and with the
    op's own choice where it is not the default: ``gru-reset_before-...``, ``rnn-relu-...``)."""
    own = []
    if spec.op == "gru" and not spec.reset_after:
        own.append("reset_before")
    if spec.op == "rnn" and spec.activation != "tanh":
        own.append(spec.activation)
    layer = [] if spec.form == "cell" else [f"L{spec.num_layers}", "bi" if spec.bidirectional else "uni"]
    return "-".join(
        ([spec.api] if spec.api != "lstm" else []) + own + layer + [
            "bf" if spec.batch_first else "tm",
            "bias" if spec.bias else "nobias",
            spec.dtype,
        ]
    )


@dataclass(frozen=True)
class InputVariant:
    label: str
    x: np.ndarray
    initial_state: tuple[np.ndarray, ...] | None


def input_variants(spec: LayerSpec) -> list[InputVariant]:
    variants = []
    for batch, steps, with_state in itertools.product(BATCHES, SEQ_LENS, INITIAL_STATE):
        x = random_inputs(spec, batch, steps, seed=10 * batch + steps)
        state = random_state(spec, batch, seed=batch) if with_state else None
        label = f"batch={batch} steps={steps} state={'given' if with_state else 'zero'}"
        variants.append(InputVariant(label, x, state))
    return variants


def problems(spec: LayerSpec, seed: int = 0) -> list[tuple[str, Problem]]:
    """Every input variant of ``spec`` as a problem with the spec's seeded weights."""
    weights = random_weights(spec, seed=seed)
    return [(v.label, Problem(spec, weights, v.x, v.initial_state)) for v in input_variants(spec)]


def check_spec(adapter, spec: LayerSpec, tol: float, seed: int = 0) -> list[tuple[str, list[FieldFigures]]]:
    """Build once, run every input variant, return the figures per variant."""
    variants = problems(spec, seed)
    model = adapter.build(spec, variants[0][1].weights)
    return [(label, compare_results(adapter.run(model, problem), problem.reference(), tol))
            for label, problem in variants]
