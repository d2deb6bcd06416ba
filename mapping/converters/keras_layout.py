"""Keras's weight layout, shared by every op: transposed matrices, gate blocks in Keras's order, and a bias
that is either the sum of the canonical two (one vector) or the pair of them (GRU with ``reset_after``).

Each op's converter module says its gate order and bias form; the functions here do the rest. Pure NumPy.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..spec import LayerSpec
from ..weights import CanonicalWeights, DirectionWeights

#: ``sum``: Keras holds one bias, b_ih + b_hh (both enter additively); ``pair``: Keras holds both, stacked as
#: a (2, gates * units) array (input bias first), because the op cannot fold them.
BiasForm = Literal["sum", "pair"]


def reorder(a: np.ndarray, order: tuple[int, ...], axis: int) -> np.ndarray:
    """The gate blocks of ``a`` along ``axis`` in ``order`` (``order[k]`` is the canonical block put k-th)."""
    if order == tuple(range(len(order))):
        return a
    blocks = np.split(a, len(order), axis=axis)
    return np.concatenate([blocks[k] for k in order], axis=axis)


def inverse(order: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(order))


def to_keras(weights: CanonicalWeights, order: tuple[int, ...], bias: BiasForm
             ) -> dict[tuple[int, int], list[np.ndarray]]:
    """Per (layer, direction), ``[kernel, recurrent_kernel(, bias)]`` as ``set_weights`` takes them."""
    out = {}
    for key in weights.keys():
        cell = weights[key]
        arrays = [reorder(cell.w_ih, order, 0).T.copy(), reorder(cell.w_hh, order, 0).T.copy()]
        if cell.b_ih is not None:
            if bias == "sum":
                arrays.append(reorder(cell.b_ih + cell.b_hh, order, 0))
            else:
                arrays.append(np.stack([reorder(cell.b_ih, order, 0), reorder(cell.b_hh, order, 0)]))
        out[key] = arrays
    return out


def from_keras(spec: LayerSpec, per_cell: dict[tuple[int, int], list[np.ndarray]], order: tuple[int, ...],
               bias: BiasForm, *, gradients: bool = False) -> CanonicalWeights:
    """Inverse of :func:`to_keras`. A summed bias goes to ``b_ih`` with ``b_hh = 0``; with ``gradients`` (the
    arrays are gradients of Keras's weights) a summed bias's gradient is both canonical biases' gradient."""
    back = inverse(order)
    cells = {}
    for key, arrays in per_cell.items():
        kernel, recurrent = (np.asarray(a, dtype=np.float64) for a in arrays[:2])
        b = np.asarray(arrays[2], dtype=np.float64) if len(arrays) > 2 else None
        if b is None:
            b_ih = b_hh = None
        elif bias == "pair":
            b_ih, b_hh = reorder(b[0], back, 0).copy(), reorder(b[1], back, 0).copy()
        else:
            b_ih = reorder(b, back, 0).copy()
            b_hh = b_ih.copy() if gradients else np.zeros_like(b_ih)
        cells[key] = DirectionWeights(w_ih=reorder(kernel.T, back, 0).copy(), w_hh=reorder(recurrent.T, back, 0).copy(),
                                      b_ih=b_ih, b_hh=b_hh)
    weights = CanonicalWeights(spec=spec, cells=cells)
    weights.check_shapes()
    return weights
