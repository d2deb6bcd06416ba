"""LSTM weights to and from PyTorch, MindSpore and Keras layouts.

Round trips are exact, with one documented exception: Keras's single bias.

**The Keras bias fold.** PyTorch and MindSpore add two bias vectors, ``b_ih`` and ``b_hh``; Keras adds
one. Both enter the gate pre-activation as a sum, so ``to_keras`` stores ``bias = b_ih + b_hh``: the
layer computes exactly the same function (up to the rounding of that one addition). Going back,
``from_keras`` cannot know how the sum was split and puts all of it in ``b_ih`` with ``b_hh = 0``.
So Keras -> canonical -> Keras is exact, and canonical -> Keras -> canonical preserves ``b_ih + b_hh``
but not the split.

Gate order: i, f, g, o on every side (Keras calls g "c"), so no block is moved.
"""

from __future__ import annotations

import numpy as np

from ..errors import Unsupported
from ..spec import LayerSpec
from ..weights import CanonicalWeights
from . import keras_layout, native

#: Keras's gate order in canonical indices: the same i, f, g (Keras's "c"), o.
KERAS_ORDER = (0, 1, 2, 3)


def to_torch(weights: CanonicalWeights) -> dict[str, np.ndarray]:
    """``torch.nn.LSTM`` state-dict entries: the canonical layout under PyTorch's names."""
    return native.to_native(weights)


def from_torch(spec: LayerSpec, state: dict[str, np.ndarray]) -> CanonicalWeights:
    return native.from_native(spec, state)


def to_mindspore(weights: CanonicalWeights) -> dict[str, np.ndarray]:
    """``mindspore.nn.LSTM`` parameters: PyTorch's names, layout and gate order; no projection."""
    if weights.spec.proj_size:
        raise Unsupported("mindspore.nn.LSTM has no projection (proj_size)")
    return native.to_native(weights)


def from_mindspore(spec: LayerSpec, params: dict[str, np.ndarray]) -> CanonicalWeights:
    if spec.proj_size:
        raise Unsupported("mindspore.nn.LSTM has no projection (proj_size)")
    return native.from_native(spec, params)


def to_keras(weights: CanonicalWeights) -> dict[tuple[int, int], list[np.ndarray]]:
    """Per (layer, direction), the list ``LSTM.set_weights`` takes: ``[kernel, recurrent_kernel(, bias)]``.

    ``kernel`` is ``(input, 4 * units)``, ``recurrent_kernel`` ``(units, 4 * units)``, gates i, f, c, o
    along the last axis (the canonical order), ``bias = b_ih + b_hh`` (see the module docstring).
    """
    if weights.spec.proj_size:
        raise Unsupported("Keras LSTM has no projection (proj_size)")
    return keras_layout.to_keras(weights, KERAS_ORDER, "sum")


def from_keras(spec: LayerSpec, per_cell: dict[tuple[int, int], list[np.ndarray]]) -> CanonicalWeights:
    """Inverse of :func:`to_keras`; the whole bias goes to ``b_ih`` and ``b_hh`` is zero."""
    if spec.proj_size:
        raise Unsupported("Keras LSTM has no projection (proj_size)")
    return keras_layout.from_keras(spec, per_cell, KERAS_ORDER, "sum")


def keras_gradients(spec: LayerSpec, per_cell: dict[tuple[int, int], list[np.ndarray]]) -> CanonicalWeights:
    """Gradients of Keras's weights in the canonical layout: like :func:`from_keras`, except that the one
    Keras bias's gradient is the gradient of both canonical biases (each enters the sum once)."""
    return keras_layout.from_keras(spec, per_cell, KERAS_ORDER, "sum", gradients=True)
