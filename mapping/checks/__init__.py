"""The vocabulary of checks that case files name.

A check takes its arguments (validated by its own pydantic model, so a typo in a case file is an error
naming the argument) and one framework, measures what that framework does, and returns an
:class:`Outcome`: the verdict it measured, the figures behind it, and any recorded behaviour that no
longer matches reality. Each framework is measured on its own against the float64 reference, so a
single-framework environment checks its half of every row; two sides that both match the reference
match each other. Checks ask the framework's adapter (:mod:`mapping.adapters`) for everything
framework-specific; none branches on a framework's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

from pydantic import BaseModel

from .measure import Measurement, Outcome

__all__ = ["CHECKS", "Check", "CheckContext", "Measurement", "Outcome", "register"]


@dataclass(frozen=True)
class CheckContext:
    """What a check needs besides its arguments."""

    framework: str
    tolerance: float | None = None  # a case's override; None means the framework's default
    seed: int = 0
    op: str = "lstm"  # the API of the case's page: a recurrent op (``gru``) or its cell (``gru_cell``)

    @cached_property
    def adapter(self):
        from ..adapters import get_adapter

        return get_adapter(self.framework)

    def measurement(self, dtype: str = "float32") -> Measurement:
        return Measurement(self.framework, dtype, tol=self.tolerance, op=self.op)


@dataclass(frozen=True)
class Check:
    name: str
    args_model: type[BaseModel]
    run_fn: Callable[[Any, CheckContext], Outcome]
    summary: str

    def parse_args(self, raw: dict) -> BaseModel:
        return self.args_model.model_validate(raw or {})

    def run(self, raw_args: dict, ctx: CheckContext) -> Outcome:
        return self.run_fn(self.parse_args(raw_args), ctx)


CHECKS: dict[str, Check] = {}


def register(name: str, args_model: type[BaseModel]):
    """Decorator: add a check function to the vocabulary under ``name``."""

    def wrap(fn: Callable[[Any, CheckContext], Outcome]) -> Callable:
        CHECKS[name] = Check(name, args_model, fn, (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return wrap


# Importing the modules registers their checks.
from . import (  # noqa: E402,F401
    dropout,
    dropout_stats,
    examples,
    initializers,
    layouts,
    padding,
    parameters,
    recipes,
    regularizers,
    returns,
)
