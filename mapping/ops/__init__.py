"""The recurrent ops the harness knows, by name: each module of this package describes one.

``get("lstm")`` gives an :class:`~mapping.ops.base.Op` (gates, states, spec class, cell); ``of(spec)`` the op
a spec belongs to. See :mod:`mapping.ops.base` for what an op consists of.

Every op comes in two forms: the layer (``torch.nn.GRU``) and the cell (``torch.nn.GRUCell``: one step per
call, run over time by the user's loop). :data:`APIS` names both (``gru``, ``gru_cell``); case files
(``page.op``) and the adapters' tables use these names, ``get`` accepts either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Cell, Op, Scales, State

if TYPE_CHECKING:
    from ..spec import LayerSpec

__all__ = ["APIS", "OPS", "Cell", "Op", "Scales", "State", "api_name", "get", "of"]


def _registry() -> dict[str, Op]:
    from . import gru, lstm, rnn

    return {op.name: op for op in (lstm.OP, gru.OP, rnn.OP)}


OPS: dict[str, Op] = _registry()


def api_name(op: str, form: str) -> str:
    """``("gru", "cell")`` -> ``gru_cell``; ``("gru", "layer")`` -> ``gru``."""
    from ..spec import CELL_SUFFIX

    return op + (CELL_SUFFIX if form == "cell" else "")


#: API name -> (op, form), for every op as a layer and as a cell, layers first.
APIS: dict[str, tuple[str, str]] = {api_name(op, form): (op, form) for form in ("layer", "cell") for op in OPS}


def get(name: str) -> Op:
    """The op called ``name``, or whose cell is called ``name`` (``gru_cell``); KeyError lists the known ones."""
    try:
        return OPS[APIS[name][0]]
    except KeyError:
        raise KeyError(f"unknown op {name!r}; known: {', '.join(APIS)}") from None


def of(spec: "LayerSpec") -> Op:
    """The op ``spec`` describes."""
    return get(spec.op)
