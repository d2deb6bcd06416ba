"""The recurrent ops the harness knows, by name: each module of this package describes one.

``get("lstm")`` gives an :class:`~mapping.ops.base.Op` (gates, states, spec class, cell); ``of(spec)`` the op
a spec belongs to. See :mod:`mapping.ops.base` for what an op consists of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Cell, Op, Scales, State

if TYPE_CHECKING:
    from ..spec import LayerSpec

__all__ = ["OPS", "Cell", "Op", "Scales", "State", "get", "of"]


def _registry() -> dict[str, Op]:
    from . import gru, lstm, rnn

    return {op.name: op for op in (lstm.OP, gru.OP, rnn.OP)}


OPS: dict[str, Op] = _registry()


def get(name: str) -> Op:
    """The op called ``name``; KeyError lists the known ones."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"unknown op {name!r}; known: {', '.join(OPS)}") from None


def of(spec: "LayerSpec") -> Op:
    """The op ``spec`` describes."""
    return get(spec.op)
