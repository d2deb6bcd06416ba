"""PyTorch's and MindSpore's parameter names: the canonical layout itself, under their names.

``torch.nn.LSTM/GRU/RNN`` and ``mindspore.nn.LSTM/GRU/RNN`` store, per layer and direction,
``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` (and ``weight_hr_l{k}`` for a
projecting LSTM), with ``_reverse`` appended for the backward direction, in the canonical layout and gate
order of each op. Their cells (``torch.nn.GRUCell``, ``mindspore.nn.GRUCell``, ...) hold one layer and one
direction under the bare names ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``. Pure NumPy.
"""

from __future__ import annotations

import numpy as np

from ..spec import LayerSpec
from ..weights import CanonicalWeights, DirectionWeights, layer_directions

NATIVE_NAMES = {"w_ih": "weight_ih", "w_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh", "w_hr": "weight_hr"}


def suffix(layer: int, direction: int, form: str = "layer") -> str:
    """The name suffix of one layer and direction: ``_l1_reverse``; none for a cell."""
    if form == "cell":
        return ""
    return f"_l{layer}" + ("_reverse" if direction == 1 else "")


def to_native(weights: CanonicalWeights) -> dict[str, np.ndarray]:
    """State-dict entries (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...), copies of the canonical arrays."""
    out = {}
    for layer, direction in weights.keys():
        for name, arr in weights[layer, direction].arrays().items():
            out[NATIVE_NAMES[name] + suffix(layer, direction, weights.spec.form)] = arr.copy()
    return out


def from_native(spec: LayerSpec, state: dict[str, np.ndarray]) -> CanonicalWeights:
    """Inverse of :func:`to_native`; float64 copies; ValueError when a shape does not fit ``spec``."""
    cells = {}
    for layer, direction in layer_directions(spec):
        arrays = {}
        for name, native in NATIVE_NAMES.items():
            key = native + suffix(layer, direction, spec.form)
            if key in state:
                arrays[name] = np.asarray(state[key], dtype=np.float64).copy()
        cells[(layer, direction)] = DirectionWeights(**arrays)
    weights = CanonicalWeights(spec=spec, cells=cells)
    weights.check_shapes()
    return weights


def native_names(spec: LayerSpec) -> list[str]:
    """The parameter names a framework layer for ``spec`` holds, in canonical order."""
    from ..weights import expected_shapes

    return [NATIVE_NAMES[name] + suffix(layer, direction, spec.form)
            for layer, direction in layer_directions(spec) for name in expected_shapes(spec, layer)]
