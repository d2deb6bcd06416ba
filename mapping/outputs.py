"""What running an LSTM returns, in the harness's one convention, plus input checks shared by all runners."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import SpecError
from .spec import LSTMSpec


@dataclass(frozen=True)
class LSTMResult:
    """Outputs of one run.

    ``output`` is in the spec's layout (batch-first or time-major), features ``num_directions *
    output_size`` with the forward direction first. ``h_n``/``c_n`` are ``(num_layers * num_directions,
    batch, size)`` in layer-major order. With ``go_backwards`` the output is in processing order, i.e.
    reversed in time, as Keras returns it.
    """

    output: np.ndarray
    h_n: np.ndarray
    c_n: np.ndarray

    def fields(self) -> dict[str, np.ndarray]:
        return {"output": self.output, "h_n": self.h_n, "c_n": self.c_n}

    def astype(self, dtype) -> "LSTMResult":
        return LSTMResult(*(np.asarray(a, dtype=dtype) for a in (self.output, self.h_n, self.c_n)))


@dataclass(frozen=True)
class RunInputs:
    """A validated input batch: ``x`` in the spec's layout, optional state and lengths."""

    x: np.ndarray
    initial_state: tuple[np.ndarray, np.ndarray] | None
    lengths: np.ndarray | None
    batch_first: bool

    @property
    def batch(self) -> int:
        return self.x.shape[0] if self.batch_first else self.x.shape[1]

    @property
    def steps(self) -> int:
        return self.x.shape[1] if self.batch_first else self.x.shape[0]


def check_inputs(
    spec: LSTMSpec,
    x: np.ndarray,
    initial_state: tuple[np.ndarray, np.ndarray] | None = None,
    lengths: np.ndarray | list[int] | None = None,
    *,
    where: str | None = None,
) -> RunInputs:
    """Validate shapes against the spec before any framework sees them.

    Raises :class:`SpecError` naming the argument (``x``, ``initial_state``, ``lengths``) so that an
    impossible shape never surfaces as a framework's internal error.
    """
    x = np.asarray(x)
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
    if initial_state is not None:
        if len(initial_state) != 2:
            raise SpecError("initial_state must be a pair (h0, c0)", field="initial_state", where=where)
        n = spec.num_layers * spec.num_directions
        h0, c0 = (np.asarray(s) for s in initial_state)
        for name, arr, size in (("h0", h0, spec.output_size), ("c0", c0, spec.hidden_size)):
            if arr.shape != (n, batch, size):
                raise SpecError(
                    f"{name} has shape {arr.shape}, expected {(n, batch, size)} "
                    "(num_layers * num_directions, batch, size)",
                    field=f"initial_state.{name}",
                    where=where,
                )
        state = (h0, c0)
    lens = None
    if lengths is not None:
        lens = np.asarray(lengths)
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
    return RunInputs(x=x, initial_state=state, lengths=lens, batch_first=spec.batch_first)


def valid_steps(lengths: np.ndarray | None, batch: int, steps: int) -> np.ndarray:
    """Boolean ``(time, batch)`` array, True where a step is real data (right padding)."""
    if lengths is None:
        return np.ones((steps, batch), dtype=bool)
    return np.arange(steps)[:, None] < np.asarray(lengths)[None, :]
