"""Canonical weights: one documented layout that every framework's weights convert to and from.

Layout (PyTorch's, which MindSpore also uses), for every recurrent op:

* one :class:`DirectionWeights` per (layer, direction), direction 0 forward and 1 backward;
* ``w_ih``: ``(gates * hidden, layer_input)``, ``w_hh``: ``(gates * hidden, output_size)``;
* ``b_ih`` and ``b_hh``: ``(gates * hidden,)``, both ``None`` when the spec has no bias;
* ``w_hr``: ``(proj_size, hidden)`` for an LSTM that projects, else ``None``;
* gates stacked along the first axis in the op's canonical order (its spec's ``GATES``: i, f, g, o for
  LSTM).

All arrays are float64. Frameworks that hold float32 get a rounded copy; the reference keeps float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from .spec import LayerSpec

#: The arrays of one direction, in the order they are drawn and listed.
ARRAY_NAMES = ("w_ih", "w_hh", "b_ih", "b_hh", "w_hr")


@dataclass(frozen=True)
class DirectionWeights:
    w_ih: np.ndarray
    w_hh: np.ndarray
    b_ih: np.ndarray | None = None
    b_hh: np.ndarray | None = None
    w_hr: np.ndarray | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays that are present, by name."""
        return {n: getattr(self, n) for n in ARRAY_NAMES if getattr(self, n) is not None}


@dataclass(frozen=True)
class CanonicalWeights:
    """All weights of a layer stack, keyed by ``(layer, direction)``."""

    spec: LayerSpec
    cells: dict[tuple[int, int], DirectionWeights] = field(default_factory=dict)

    def __getitem__(self, key: tuple[int, int]) -> DirectionWeights:
        return self.cells[key]

    def keys(self) -> Iterator[tuple[int, int]]:
        """(layer, direction) pairs in layer-major order, the order of the final states."""
        return layer_directions(self.spec)

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
        for layer, direction in self.keys():
            cell = self.cells.get((layer, direction))
            if cell is None:
                raise ValueError(f"missing weights for layer {layer}, direction {direction}")
            expected = expected_shapes(self.spec, layer)
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


def layer_directions(spec: LayerSpec) -> Iterator[tuple[int, int]]:
    """(layer, direction) pairs in layer-major order: the order of the weights and of the final states."""
    for layer in range(spec.num_layers):
        for direction in range(spec.num_directions):
            yield layer, direction


def expected_shapes(spec: LayerSpec, layer: int) -> dict[str, tuple[int, ...]]:
    """The canonical arrays of one direction of ``layer`` and their shapes, in :data:`ARRAY_NAMES` order."""
    rows = len(spec.GATES) * spec.hidden_size
    shapes = {"w_ih": (rows, spec.layer_input_size(layer)), "w_hh": (rows, spec.output_size)}
    if spec.bias:
        shapes.update(b_ih=(rows,), b_hh=(rows,))
    shapes.update(spec.extra_shapes())
    return shapes


def random_weights(spec: LayerSpec, seed: int = 0, scale: float | None = None) -> CanonicalWeights:
    """Deterministic float64 weights, uniform in ``[-scale, scale]``.

    The default scale is ``1 / sqrt(hidden_size)``, PyTorch's and MindSpore's own initial range, so the
    gates work in their sensitive region rather than saturating (saturated gates would hide errors).
    """
    rng = np.random.default_rng(seed)
    k = scale if scale is not None else 1.0 / np.sqrt(spec.hidden_size)
    cells = {}
    for layer, direction in layer_directions(spec):
        shapes = expected_shapes(spec, layer)
        cells[(layer, direction)] = DirectionWeights(**{name: rng.uniform(-k, k, size=shape)
                                                        for name, shape in shapes.items()})
    return CanonicalWeights(spec=spec, cells=cells)


def random_inputs(spec: LayerSpec, batch: int, seq_len: int, seed: int = 1, scale: float = 1.0) -> np.ndarray:
    """A deterministic float64 input in the spec's layout, standard normal times ``scale``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, seq_len, spec.input_size)) * scale
    return x if spec.batch_first else x.transpose(1, 0, 2).copy()


def random_state(spec: LayerSpec, batch: int, seed: int = 2, scale: float = 0.5) -> tuple[np.ndarray, ...]:
    """A deterministic initial state in the common state layout, one array per state of the op (h first)."""
    rng = np.random.default_rng(seed)
    n = spec.num_layers * spec.num_directions
    return tuple(rng.standard_normal((n, batch, size)) * scale for size in spec.state_sizes().values())
