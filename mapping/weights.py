"""Canonical weights: one documented layout that every framework's weights convert to and from.

Layout (the same as PyTorch's, which MindSpore also uses):

* one :class:`DirectionWeights` per (layer, direction), direction 0 forward and 1 backward;
* ``w_ih``: ``(4 * hidden, layer_input)``, ``w_hh``: ``(4 * hidden, output_size)``;
* ``b_ih`` and ``b_hh``: ``(4 * hidden,)``, both ``None`` when the spec has no bias;
* ``w_hr``: ``(proj_size, hidden)`` when projecting, else ``None``;
* gates stacked along the first axis in the order **i, f, g, o** (input, forget, cell candidate,
  output). Keras uses the same order (it calls g "c").

All arrays are float64. Frameworks that hold float32 get a rounded copy; the reference keeps float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from .spec import LSTMSpec

#: Gate order of the canonical layout, along the first axis of w_ih, w_hh and the biases.
GATE_ORDER = ("i", "f", "g", "o")


@dataclass(frozen=True)
class DirectionWeights:
    w_ih: np.ndarray
    w_hh: np.ndarray
    b_ih: np.ndarray | None = None
    b_hh: np.ndarray | None = None
    w_hr: np.ndarray | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays that are present, by name."""
        names = ("w_ih", "w_hh", "b_ih", "b_hh", "w_hr")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


@dataclass(frozen=True)
class CanonicalWeights:
    """All weights of an LSTM stack, keyed by ``(layer, direction)``."""

    spec: LSTMSpec
    cells: dict[tuple[int, int], DirectionWeights] = field(default_factory=dict)

    def __getitem__(self, key: tuple[int, int]) -> DirectionWeights:
        return self.cells[key]

    def keys(self) -> Iterator[tuple[int, int]]:
        """(layer, direction) pairs in layer-major order, the order of the final states."""
        for layer in range(self.spec.num_layers):
            for direction in range(self.spec.num_directions):
                yield layer, direction

    def allclose(self, other: "CanonicalWeights", *, rtol: float = 0.0, atol: float = 0.0) -> bool:
        """True when every array matches (exactly, by default)."""
        if list(self.keys()) != list(other.keys()):
            return False
        for key in self.keys():
            mine, theirs = self[key].arrays(), other[key].arrays()
            if mine.keys() != theirs.keys():
                return False
            for name, arr in mine.items():
                if arr.shape != theirs[name].shape or not np.allclose(arr, theirs[name], rtol=rtol, atol=atol):
                    return False
        return True

    def check_shapes(self) -> None:
        """Raise ValueError naming the array whose shape does not fit the spec."""
        spec = self.spec
        gates = 4 * spec.hidden_size
        for layer, direction in self.keys():
            cell = self.cells.get((layer, direction))
            if cell is None:
                raise ValueError(f"missing weights for layer {layer}, direction {direction}")
            expected = {
                "w_ih": (gates, spec.layer_input_size(layer)),
                "w_hh": (gates, spec.output_size),
            }
            if spec.bias:
                expected.update(b_ih=(gates,), b_hh=(gates,))
            if spec.proj_size:
                expected["w_hr"] = (spec.proj_size, spec.hidden_size)
            present = cell.arrays()
            if set(present) != set(expected):
                raise ValueError(
                    f"layer {layer} direction {direction}: arrays {sorted(present)}, expected {sorted(expected)}"
                )
            for name, shape in expected.items():
                if present[name].shape != shape:
                    raise ValueError(
                        f"layer {layer} direction {direction}: {name} has shape {present[name].shape}, "
                        f"expected {shape}"
                    )


def random_weights(spec: LSTMSpec, seed: int = 0, scale: float | None = None) -> CanonicalWeights:
    """Deterministic float64 weights, uniform in ``[-scale, scale]``.

    The default scale is ``1 / sqrt(hidden_size)``, PyTorch's and MindSpore's own initial range, so the
    gates work in their sensitive region rather than saturating (saturated gates would hide errors).
    """
    rng = np.random.default_rng(seed)
    k = scale if scale is not None else 1.0 / np.sqrt(spec.hidden_size)
    gates = 4 * spec.hidden_size
    cells = {}
    for layer in range(spec.num_layers):
        for direction in range(spec.num_directions):

            def draw(*shape: int) -> np.ndarray:
                return rng.uniform(-k, k, size=shape)

            cells[(layer, direction)] = DirectionWeights(
                w_ih=draw(gates, spec.layer_input_size(layer)),
                w_hh=draw(gates, spec.output_size),
                b_ih=draw(gates) if spec.bias else None,
                b_hh=draw(gates) if spec.bias else None,
                w_hr=draw(spec.proj_size, spec.hidden_size) if spec.proj_size else None,
            )
    return CanonicalWeights(spec=spec, cells=cells)


def random_inputs(spec: LSTMSpec, batch: int, seq_len: int, seed: int = 1, scale: float = 1.0) -> np.ndarray:
    """A deterministic float64 input in the spec's layout, standard normal times ``scale``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, seq_len, spec.input_size)) * scale
    return x if spec.batch_first else x.transpose(1, 0, 2).copy()


def random_state(spec: LSTMSpec, batch: int, seed: int = 2, scale: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """A deterministic initial ``(h0, c0)`` in the common state layout."""
    rng = np.random.default_rng(seed)
    n = spec.num_layers * spec.num_directions
    h0 = rng.standard_normal((n, batch, spec.output_size)) * scale
    c0 = rng.standard_normal((n, batch, spec.hidden_size)) * scale
    return h0, c0
