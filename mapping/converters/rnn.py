"""Elman RNN weights to and from PyTorch, MindSpore and Keras (``SimpleRNN``) layouts.

One block, so no gate order. PyTorch and MindSpore hold the canonical layout under the native names;
Keras transposes the matrices and keeps one bias, ``b_ih + b_hh`` (folded as for LSTM: Keras -> canonical
-> Keras is exact, canonical -> Keras -> canonical keeps the sum).
"""

from __future__ import annotations

import numpy as np

from ..spec import LayerSpec
from ..weights import CanonicalWeights
from . import keras_layout, native

KERAS_ORDER = (0,)


def to_torch(weights: CanonicalWeights) -> dict[str, np.ndarray]:
    return native.to_native(weights)


def from_torch(spec: LayerSpec, state: dict[str, np.ndarray]) -> CanonicalWeights:
    return native.from_native(spec, state)


def to_mindspore(weights: CanonicalWeights) -> dict[str, np.ndarray]:
    return native.to_native(weights)


def from_mindspore(spec: LayerSpec, params: dict[str, np.ndarray]) -> CanonicalWeights:
    return native.from_native(spec, params)


def to_keras(weights: CanonicalWeights) -> dict[tuple[int, int], list[np.ndarray]]:
    return keras_layout.to_keras(weights, KERAS_ORDER, "sum")


def from_keras(spec: LayerSpec, per_cell: dict[tuple[int, int], list[np.ndarray]]) -> CanonicalWeights:
    return keras_layout.from_keras(spec, per_cell, KERAS_ORDER, "sum")


def keras_gradients(spec: LayerSpec, per_cell: dict[tuple[int, int], list[np.ndarray]]) -> CanonicalWeights:
    return keras_layout.from_keras(spec, per_cell, KERAS_ORDER, "sum", gradients=True)
