"""Weight converters between the canonical layout (see :mod:`mapping.weights`) and each framework's.

Pure NumPy, no framework import: a porting engineer can convert a checkpoint's arrays with these
functions alone. Each ``to_*`` has a ``from_*`` and the round trips are exact, with one documented
exception: Keras's single bias.

**The Keras bias fold.** PyTorch and MindSpore add two bias vectors, ``b_ih`` and ``b_hh``; Keras adds
one. Both enter the gate pre-activation as a sum, so ``to_keras`` stores ``bias = b_ih + b_hh``: the
layer computes exactly the same function (up to the rounding of that one addition). Going back,
``from_keras`` cannot know how the sum was split and puts all of it in ``b_ih`` with ``b_hh = 0``.
So Keras → canonical → Keras is exact, and canonical → Keras → canonical preserves ``b_ih + b_hh``
but not the split.
"""

from __future__ import annotations

import numpy as np

from .errors import Unsupported
from .spec import LSTMSpec
from .weights import CanonicalWeights, DirectionWeights

# --- PyTorch and MindSpore: the canonical layout itself, under their parameter names -------------------

_NATIVE_NAMES = {"w_ih": "weight_ih", "w_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh", "w_hr": "weight_hr"}


def _suffix(layer: int, direction: int) -> str:
    return f"_l{layer}" + ("_reverse" if direction == 1 else "")


def to_torch_state_dict(weights: CanonicalWeights) -> dict[str, np.ndarray]:
    """``torch.nn.LSTM`` state-dict entries (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...)."""
    out = {}
    for layer, direction in weights.keys():
        for name, arr in weights[layer, direction].arrays().items():
            out[_NATIVE_NAMES[name] + _suffix(layer, direction)] = arr.copy()
    return out


def from_torch_state_dict(spec: LSTMSpec, state: dict[str, np.ndarray]) -> CanonicalWeights:
    cells = {}
    for layer in range(spec.num_layers):
        for direction in range(spec.num_directions):
            arrays = {}
            for name, native in _NATIVE_NAMES.items():
                key = native + _suffix(layer, direction)
                if key in state:
                    arrays[name] = np.asarray(state[key], dtype=np.float64).copy()
            cells[(layer, direction)] = DirectionWeights(**arrays)
    weights = CanonicalWeights(spec=spec, cells=cells)
    weights.check_shapes()
    return weights


def to_mindspore(weights: CanonicalWeights) -> dict[str, np.ndarray]:
    """``mindspore.nn.LSTM`` parameters: PyTorch's names, layout and gate order; no projection."""
    if weights.spec.proj_size:
        raise Unsupported("mindspore.nn.LSTM has no projection (proj_size)")
    return to_torch_state_dict(weights)


def from_mindspore(spec: LSTMSpec, params: dict[str, np.ndarray]) -> CanonicalWeights:
    if spec.proj_size:
        raise Unsupported("mindspore.nn.LSTM has no projection (proj_size)")
    return from_torch_state_dict(spec, params)


# --- Keras: transposed matrices, one bias -------------------------------------------------------------


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


def from_keras(spec: LSTMSpec, per_cell: dict[tuple[int, int], list[np.ndarray]]) -> CanonicalWeights:
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
