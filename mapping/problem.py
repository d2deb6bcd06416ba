"""The one problem value every part of the harness passes around, and what running it returns.

A :class:`Problem` is everything a recurrent layer is run on: the spec, the canonical weights, the input
``x`` in the spec's layout, the initial state (one array per state of the op, or None for zeros) and the
per-sample lengths of a right-padded batch (or None). Adapters, the reference, its gradients, the
comparisons and the diagnosis all take one; :meth:`Problem.validated` checks it once, before any
framework sees it, so that an impossible shape is a :class:`~mapping.errors.SpecError` naming the
argument, never a framework's internal error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops
from .errors import SpecError
from .spec import LayerSpec

if TYPE_CHECKING:
    from .weights import CanonicalWeights


@dataclass(frozen=True)
class RunResult:
    """Outputs of one run, in the harness's one convention.

    ``output`` is in the spec's layout (batch-first or time-major), features ``num_directions *
    output_size`` with the forward direction first; with ``go_backwards`` it is in processing order, i.e.
    reversed in time, as Keras returns it. ``states`` holds the final states by field name (``h_n``,
    ``c_n`` for LSTM), in the op's order, each ``(num_layers * num_directions, batch, size)`` in layer-major
    order; they are also attributes (``result.h_n``).
    """

    output: np.ndarray
    states: dict[str, np.ndarray]

    @classmethod
    def of(cls, spec: LayerSpec, output: np.ndarray, finals: Any) -> "RunResult":
        """A result for ``spec``'s op from the output and the final states in the op's order."""
        names = ops.of(spec).final_names
        finals = tuple(finals)
        if len(finals) != len(names):
            raise ValueError(f"{len(finals)} final states for {spec.op}, which has {', '.join(names)}")
        return cls(output, dict(zip(names, finals)))

    def __getattr__(self, name: str) -> np.ndarray:
        if name != "states" and name in self.states:
            return self.states[name]
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def fields(self) -> dict[str, np.ndarray]:
        return {"output": self.output, **self.states}

    def astype(self, dtype) -> "RunResult":
        return RunResult(np.asarray(self.output, dtype=dtype),
                         {k: np.asarray(v, dtype=dtype) for k, v in self.states.items()})

    def replace(self, **fields: np.ndarray) -> "RunResult":
        """A copy with some fields (``output``, ``h_n``, ...) replaced."""
        output = fields.pop("output", self.output)
        unknown = set(fields) - set(self.states)
        if unknown:
            raise KeyError(f"no field {sorted(unknown)} in a result with {list(self.fields())}")
        return RunResult(output, {**self.states, **fields})


@dataclass(frozen=True)
class Problem:
    """What a layer is run on: spec, weights, input, initial state, lengths (see the module docstring)."""

    spec: LayerSpec
    weights: "CanonicalWeights"
    x: np.ndarray
    initial_state: tuple[np.ndarray, ...] | None = None
    lengths: np.ndarray | None = None

    @property
    def batch(self) -> int:
        return int(np.shape(self.x)[0 if self.spec.batch_first else 1])

    @property
    def steps(self) -> int:
        return int(np.shape(self.x)[1 if self.spec.batch_first else 0])

    def replace(self, **changes: Any) -> "Problem":
        return replace(self, **changes)

    def reference(self) -> "RunResult":
        """The float64 reference's result for this problem."""
        from .reference import reference_forward

        return reference_forward(self)

    def real_steps(self) -> np.ndarray:
        """``(time, batch)`` booleans, True where a step is real data (right padding), in input order."""
        return real_steps(self.lengths, self.batch, self.steps)

    def output_mask(self) -> np.ndarray | None:
        """Booleans broadcastable against the output, True at real steps; None without lengths.

        In the output's layout and order (reversed in time with ``go_backwards``, as the output is).
        """
        if self.lengths is None:
            return None
        valid = self.real_steps()
        if self.spec.go_backwards:
            valid = valid[::-1]
        return (valid.T if self.spec.batch_first else valid)[..., None]

    def validated(self, *, where: str | None = None) -> "Problem":
        """Shapes checked against the spec; arrays as NumPy, lengths as int64. Raises :class:`SpecError`."""
        spec = self.spec
        x = np.asarray(self.x)
        if x.ndim != 3:
            raise SpecError(f"x must be 3-D, got shape {x.shape}", field="x", where=where)
        layout = "(batch, time, features)" if spec.batch_first else "(time, batch, features)"
        if x.shape[2] != spec.input_size:
            raise SpecError(
                f"x has {x.shape[2]} features, spec.input_size is {spec.input_size} (layout {layout})",
                field="x",
                where=where,
            )
        batch, steps = (x.shape[0], x.shape[1]) if spec.batch_first else (x.shape[1], x.shape[0])
        if batch == 0 or steps == 0:
            raise SpecError(f"x has an empty batch or time axis: shape {x.shape}", field="x", where=where)
        state = None
        if self.initial_state is not None:
            op = ops.of(spec)
            names = op.initial_names
            if len(self.initial_state) != len(names):
                raise SpecError(f"initial_state must be {len(names)} array{'s' if len(names) > 1 else ''} "
                                f"({', '.join(names)})", field="initial_state", where=where)
            n = spec.num_layers * spec.num_directions
            state = tuple(np.asarray(s) for s in self.initial_state)
            for name, arr, size in zip(names, state, spec.state_sizes().values()):
                if arr.shape != (n, batch, size):
                    raise SpecError(
                        f"{name} has shape {arr.shape}, expected {(n, batch, size)} "
                        "(num_layers * num_directions, batch, size)",
                        field=f"initial_state.{name}",
                        where=where,
                    )
        lens = None
        if self.lengths is not None and spec.form == "cell":
            raise SpecError("a cell (form: cell) takes no lengths: the user's loop runs every step; run the layer "
                            "form for padded batches", field="lengths", where=where)
        if self.lengths is not None:
            lens = np.asarray(self.lengths)
            if lens.shape != (batch,) or not np.issubdtype(lens.dtype, np.integer):
                raise SpecError(
                    f"lengths must be {batch} integers, got {lens.dtype} array of shape {lens.shape}",
                    field="lengths",
                    where=where,
                )
            if lens.min() < 1 or lens.max() > steps:
                raise SpecError(
                    f"lengths must lie in [1, {steps}], got {lens.tolist()}", field="lengths", where=where
                )
            lens = lens.astype(np.int64)
        return replace(self, x=x, initial_state=state, lengths=lens)

    def cast(self, dtype: str) -> "Problem":
        """x and the initial state rounded to ``dtype`` (lengths stay integers): what a framework is fed."""
        state = None if self.initial_state is None else tuple(s.astype(dtype) for s in self.initial_state)
        return replace(self, x=np.asarray(self.x).astype(dtype), initial_state=state)


def real_steps(lengths: np.ndarray | None, batch: int, steps: int) -> np.ndarray:
    """Boolean ``(time, batch)`` array, True where a step is real data (right padding)."""
    if lengths is None:
        return np.ones((steps, batch), dtype=bool)
    return np.arange(steps)[:, None] < np.asarray(lengths)[None, :]
