"""The configuration grid every adapter is checked on against the reference.

Specs vary what needs a new model (layers, directions, layout, bias, dtype); each built model then runs
on every input variant (batch size, sequence length, with or without an initial state), so a
framework builds 48 models and runs 384 configurations.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .compare import FieldFigures, compare_results
from .problem import Problem
from .spec import LayerSpec
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


def grid_specs(dtypes: tuple[str, ...] = DTYPES, op: str = "lstm") -> list[LayerSpec]:
    return [
        LayerSpec.parse(dict(
            op=op,
            input_size=INPUT_SIZE,
            hidden_size=HIDDEN_SIZE,
            num_layers=layers,
            bidirectional=bidi,
            batch_first=batch_first,
            bias=bias,
            dtype=dtype,
        ))
        for dtype, layers, bidi, batch_first, bias in itertools.product(
            dtypes, NUM_LAYERS, BIDIRECTIONAL, BATCH_FIRST, BIAS
        )
    ]


def spec_id(spec: LayerSpec) -> str:
    """A short readable id: ``L2-bi-tm-nobias-float32`` (prefixed with the op unless it is LSTM)."""
    return "-".join(
        ([spec.op] if spec.op != "lstm" else []) + [
            f"L{spec.num_layers}",
            "bi" if spec.bidirectional else "uni",
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
