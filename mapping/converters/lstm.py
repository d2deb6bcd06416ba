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
from ..weights import CanonicalWeights, DirectionWeights
from . import native


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
    out = {}
    for key in weights.keys():
        cell = weights[key]
        arrays = [cell.w_ih.T.copy(), cell.w_hh.T.copy()]
        if cell.b_ih is not None:
            arrays.append(cell.b_ih + cell.b_hh)
        out[key] = arrays
    return out


def from_keras(spec: LayerSpec, per_cell: dict[tuple[int, int], list[np.ndarray]]) -> CanonicalWeights:
    """Inverse of :func:`to_keras`; the whole bias goes to ``b_ih`` and ``b_hh`` is zero."""
    if spec.proj_size:
        raise Unsupported("Keras LSTM has no projection (proj_size)")
    cells = {}
    for key, arrays in per_cell.items():
        kernel, recurrent = (np.asarray(a, dtype=np.float64) for a in arrays[:2])
        bias = np.asarray(arrays[2], dtype=np.float64) if len(arrays) > 2 else None
        cells[key] = DirectionWeights(
            w_ih=kernel.T.copy(),
            w_hh=recurrent.T.copy(),
            b_ih=None if bias is None else bias.copy(),
            b_hh=None if bias is None else np.zeros_like(bias),
        )
    weights = CanonicalWeights(spec=spec, cells=cells)
    weights.check_shapes()
    return weights


def keras_gradients(spec: LayerSpec, per_cell: dict[tuple[int, int], list[np.ndarray]]) -> CanonicalWeights:
    """Gradients of Keras's weights in the canonical layout: like :func:`from_keras`, except that the one
    Keras bias's gradient is the gradient of both canonical biases (each enters the sum once)."""
    cells = {}
    for key, arrays in per_cell.items():
        d_kernel, d_recurrent = arrays[0], arrays[1]
        d_bias = arrays[2] if len(arrays) > 2 else None
        cells[key] = DirectionWeights(
            w_ih=d_kernel.T.copy(),
            w_hh=d_recurrent.T.copy(),
            b_ih=None if d_bias is None else d_bias.copy(),
            b_hh=None if d_bias is None else d_bias.copy(),
        )
    weights = CanonicalWeights(spec=spec, cells=cells)
    weights.check_shapes()
    return weights
