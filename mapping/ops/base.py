"""What a recurrent op is: its gates, its states and its step; everything else is shared.

The layer x direction x time machinery (lengths, ``go_backwards``, layout, the bidirectional
concatenation) exists once, forward in :mod:`mapping.reference.forward` and backward in
:mod:`mapping.reference.backward`. It asks the op for a :class:`Cell` bound to a spec and drives its
:meth:`~Cell.step` (and :meth:`~Cell.step_backward` on the way back) one time step at a time. The first
state of every op is ``h``, which is also the step's output.

Adding an op is one module in this package (its spec, its cell, its diagnosis hypotheses), one module of
converters in :mod:`mapping.converters`, entries in the adapters' op tables, and its case files.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from ..spec import LayerSpec

if TYPE_CHECKING:
    from ..weights import DirectionWeights

#: Per-gate dropout factors for one step: (for x, for h), each None or (gates, batch, features).
Scales = tuple["np.ndarray | None", "np.ndarray | None"]

#: A state tuple in the op's order (``(h, c)`` for LSTM, ``(h,)`` for GRU and RNN), each ``(batch, size)``.
State = tuple[np.ndarray, ...]


class Cell(ABC):
    """One step of one direction of one layer, for one spec (activations bound).

    ``step`` returns the new state and a cache of whatever ``step_backward`` needs; ``step_backward`` takes
    the gradient arriving at the new state (the output's gradient already added to ``h``'s) and returns
    ``(dL/dx, dL/d(previous state), {weight name: this step's dL/dW})``. Both use float64 NumPy only.
    """

    def __init__(self, spec: LayerSpec):
        self.spec = spec

    @abstractmethod
    def step(self, w: "DirectionWeights", x: np.ndarray, state: State, dropout: Scales | None = None
             ) -> tuple[State, Any]:
        """The new state after input ``x`` (batch, features), and the cache for :meth:`step_backward`.

        ``dropout`` (forward only) is ``(x scales, h scales)``, each None or ``(gates, batch, features)``:
        per gate, the factors that multiply ``x`` and the previous ``h`` under one draw of dropout masks.
        """

    @abstractmethod
    def step_backward(self, w: "DirectionWeights", cache: Any, d_state: State
                      ) -> tuple[np.ndarray, State, dict[str, np.ndarray]]:
        """Gradients through one step (see the class docstring)."""


@dataclass(frozen=True)
class Op:
    """The description of one recurrent op, registered in :data:`mapping.ops.OPS`."""

    #: ``lstm``, ``gru``, ``rnn``: the value of the spec's ``op`` field and of a case file's ``page.op``.
    name: str
    #: What a reader sees (``LSTM``).
    label: str
    #: The op's spec class: a :class:`LayerSpec` subclass with the op's own fields, gates, states and shapes.
    spec: type[LayerSpec]
    #: The op's cell class.
    cell: type[Cell]
    #: Spec fields that name an activation function (diagnosis tries the others).
    activation_fields: tuple[str, ...] = ()
    #: Op-specific single mistakes for diagnosis, beyond the generic ones (``mapping.diagnose``).
    hypotheses: Callable[[Any], Iterable[Any]] | None = None

    @property
    def gates(self) -> tuple[str, ...]:
        return self.spec.GATES

    @property
    def states(self) -> tuple[str, ...]:
        return self.spec.STATES

    @property
    def final_names(self) -> tuple[str, ...]:
        return tuple(f"{s}_n" for s in self.states)

    @property
    def initial_names(self) -> tuple[str, ...]:
        return tuple(f"{s}0" for s in self.states)

    def bind(self, spec: LayerSpec) -> Cell:
        return self.cell(spec)

    def as_passed(self, states: "tuple[Any, ...] | list[Any]") -> Any:
        """The initial state as a user passes it in a call: the tuple of the op's states where it has several
        (LSTM's ``(h_0, c_0)``), the one state itself where it has one (GRU's and the Elman RNN's ``h_0``)."""
        return states[0] if len(self.states) == 1 else states
