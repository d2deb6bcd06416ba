"""Weight converters between the canonical layout (:mod:`mapping.weights`) and each framework's.

Pure NumPy, no framework import: a porting engineer can convert a checkpoint's arrays with these
functions alone. One module per op (:mod:`mapping.converters.lstm`, ...) documents that op's layouts, gate
orders and bias handling; the functions here pick the module of the spec's op.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

from ..spec import LayerSpec
from ..weights import CanonicalWeights
from .native import native_names

__all__ = ["for_op", "to_torch", "from_torch", "to_mindspore", "from_mindspore", "to_keras", "from_keras",
           "keras_gradients", "native_names"]


def for_op(op: str) -> ModuleType:
    """The converter module of ``op``."""
    return importlib.import_module(f"{__name__}.{op}")


def to_torch(weights: CanonicalWeights) -> dict[str, np.ndarray]:
    return for_op(weights.spec.op).to_torch(weights)


def from_torch(spec: LayerSpec, state: dict[str, np.ndarray]) -> CanonicalWeights:
    return for_op(spec.op).from_torch(spec, state)


def to_mindspore(weights: CanonicalWeights) -> dict[str, np.ndarray]:
    return for_op(weights.spec.op).to_mindspore(weights)


def from_mindspore(spec: LayerSpec, params: dict[str, np.ndarray]) -> CanonicalWeights:
    return for_op(spec.op).from_mindspore(spec, params)


def to_keras(weights: CanonicalWeights) -> dict[tuple[int, int], list[np.ndarray]]:
    return for_op(weights.spec.op).to_keras(weights)


def from_keras(spec: LayerSpec, per_cell: dict[tuple[int, int], list[np.ndarray]]) -> CanonicalWeights:
    return for_op(spec.op).from_keras(spec, per_cell)


def keras_gradients(spec: LayerSpec, per_cell: dict[tuple[int, int], list[np.ndarray]]) -> CanonicalWeights:
    """Gradients of Keras's weights (in ``get_weights`` order per cell) in the canonical layout."""
    return for_op(spec.op).keras_gradients(spec, per_cell)
