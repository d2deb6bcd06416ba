"""GRU weights to and from PyTorch, MindSpore and Keras layouts.

* PyTorch and MindSpore: the canonical layout itself (gates r, z, n), under the native names. Both compute
  the reset gate after the recurrent product (``reset_after=True``); a GRU with ``reset_after=False`` has no
  PyTorch or MindSpore counterpart and is refused, never written wrong.
* Keras ``GRU`` / ``GRUCell``: kernels transposed, gates in Keras's order **z, r, h** (its "h" is n). With
  ``reset_after=True`` (Keras's default) the reset gate multiplies the recurrent bias, so the two biases
  cannot be folded: Keras keeps both, as a ``(2, 3 * units)`` array (input bias first) and the round trip
  is exact. With ``reset_after=False`` both biases enter additively and Keras keeps their sum, folded as
  for LSTM: Keras -> canonical -> Keras is exact, canonical -> Keras -> canonical keeps ``b_ih + b_hh``.
"""

from __future__ import annotations

import numpy as np

from ..errors import Unsupported
from ..spec import LayerSpec
from ..weights import CanonicalWeights
from . import keras_layout, native

#: Keras's gate order in canonical indices: z (1), r (0), h = n (2).
KERAS_ORDER = (1, 0, 2)

_NO_RESET_AFTER = ("has no reset_after=False form: it computes the reset gate after the recurrent product "
                   "(r * (h W_hn^T + b_hn)); nearest: keep the Keras layer, or retrain with reset_after=True")


def _native_only_reset_after(spec: LayerSpec, framework: str) -> None:
    if not spec.reset_after:
        raise Unsupported(f"{framework} GRU {_NO_RESET_AFTER}")


def to_torch(weights: CanonicalWeights) -> dict[str, np.ndarray]:
    _native_only_reset_after(weights.spec, "torch.nn")
    return native.to_native(weights)


def from_torch(spec: LayerSpec, state: dict[str, np.ndarray]) -> CanonicalWeights:
    _native_only_reset_after(spec, "torch.nn")
    return native.from_native(spec, state)


def to_mindspore(weights: CanonicalWeights) -> dict[str, np.ndarray]:
    _native_only_reset_after(weights.spec, "mindspore.nn")
    return native.to_native(weights)


def from_mindspore(spec: LayerSpec, params: dict[str, np.ndarray]) -> CanonicalWeights:
    _native_only_reset_after(spec, "mindspore.nn")
    return native.from_native(spec, params)


def _bias(spec: LayerSpec) -> keras_layout.BiasForm:
    return "pair" if spec.reset_after else "sum"


def to_keras(weights: CanonicalWeights) -> dict[tuple[int, int], list[np.ndarray]]:
    """Per (layer, direction), ``[kernel, recurrent_kernel(, bias)]`` for ``GRU.set_weights``."""
    return keras_layout.to_keras(weights, KERAS_ORDER, _bias(weights.spec))


def from_keras(spec: LayerSpec, per_cell: dict[tuple[int, int], list[np.ndarray]]) -> CanonicalWeights:
    return keras_layout.from_keras(spec, per_cell, KERAS_ORDER, _bias(spec))


def keras_gradients(spec: LayerSpec, per_cell: dict[tuple[int, int], list[np.ndarray]]) -> CanonicalWeights:
    return keras_layout.from_keras(spec, per_cell, KERAS_ORDER, _bias(spec), gradients=True)
