"""How a probe calls the layer a user holds, whatever the op: the call a user of that API writes.

A layer (``nn.GRU``) takes the whole sequence and, optionally, the initial state; a cell (``nn.GRUCell``) takes one
step, ``(batch, features)``, and its state as ``(batch, hidden)`` arrays, and MindSpore's cells have no default
state, so a cell is always handed one (zeros where the problem has none: what a loop's first step passes). The
state goes in as the op passes it (:meth:`mapping.ops.Op.as_passed`): a tuple for LSTM's two states, the tensor
itself for GRU's and the Elman RNN's one. Probes describe behaviours in the same words for every op.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import ops
from ..problem import Problem


def is_cell(problem: Problem) -> bool:
    return problem.spec.form == "cell"


def one_step(problem: Problem) -> Problem:
    """A cell's problem cut to its first step (one call of the cell); a layer's problem as it is."""
    if not is_cell(problem):
        return problem
    axis = 1 if problem.spec.batch_first else 0
    return problem.replace(x=np.take(problem.x, [0], axis=axis))


def user_args(problem: Problem, states: tuple[np.ndarray, ...] | None = None, *, unbatched: bool = False,
              x_as: Callable[[np.ndarray], Any] = lambda a: a,
              state_as: Callable[[np.ndarray], Any] = lambda a: a) -> tuple[Any, Any]:
    """``(x, hx)`` for :meth:`Adapter.call_user`: ``states`` (default: the problem's initial state) in the op's
    layout ``(layers * directions, batch, size)``; ``unbatched``: the first sample without its batch axis;
    ``x_as``/``state_as`` convert each array (a dtype, a framework's tensor)."""
    states = problem.initial_state if states is None else states
    x = problem.x
    if is_cell(problem):
        x = x[:, 0] if problem.spec.batch_first else x[0]
        if states is None:
            states = tuple(np.zeros((1, problem.batch, size), problem.x.dtype)
                           for size in problem.spec.state_sizes().values())
        states = tuple(s[0] for s in states)  # (batch, size): one layer, one direction
        if unbatched:
            x, states = x[0], tuple(s[0] for s in states)
    elif unbatched:
        x = x[0] if problem.spec.batch_first else x[:, 0]
        states = None if states is None else tuple(s[:, 0] for s in states)
    hx = None if states is None else ops.of(problem.spec).as_passed(tuple(state_as(s) for s in states))
    return x_as(x), hx


def user_output(problem: Problem, output: np.ndarray | None = None) -> np.ndarray:
    """The first array a user's call returns, as the float64 reference has it: the output sequence of a layer,
    the new hidden state of a cell (the reference's first and only step)."""
    output = problem.reference().output if output is None else output
    if not is_cell(problem):
        return output
    return output[:, 0] if problem.spec.batch_first else output[0]


def state_count(op: str) -> int:
    """How many states the op (or its cell) carries: 2 for LSTM, 1 for GRU and the Elman RNN."""
    return len(ops.get(op).states)
