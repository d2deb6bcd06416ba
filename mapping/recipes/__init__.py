"""What a user of one framework writes, as runnable code: the native way to use a feature (Keras's
regularisers and constraints) and the workaround on the side that lacks it (MindSpore's initialisers and
constraints applied by hand, the last step of the output for ``return_sequences=False``, ...).

One module per framework family, written in that framework's own API the way a porting engineer would write
it: a docstring saying what it is for, imports inside the function, nothing from this harness, so the function
can be copied as it stands. A case shows a recipe by naming it (``recipe: {mindspore: last_step}``); the suite
executes every recipe it shows and records the exact source it ran (:class:`mapping.results.RecipeRecord`), so
no recipe text exists apart from the code that proves it.

Each recipe declares, with :func:`recipe`, the contract it is executed under (:mod:`mapping.recipes.contracts`):
what the function receives (a built layer holding the problem's weights, the input, states, lengths, ...) and
what its result is compared with (the float64 reference of a named target). The contract ``check`` means the
case's own check executes it (the initialisers, regularisers and constraints) and records that it did.

Recipe modules import no framework at module level: a case file naming a recipe is validated without one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

#: framework -> the module holding its recipes
MODULES = {"torch": "torch", "tfkeras": "keras", "keras2": "keras", "mindspore": "mindspore"}


@dataclass(frozen=True)
class RecipeSpec:
    """How a recipe is executed: its contract's name and the contract's options (which target, which layout)."""

    contract: str
    options: dict[str, Any] = field(default_factory=dict)


def recipe(contract: str, **options: Any) -> Callable[[Callable], Callable]:
    """Decorator: mark a function as a recipe shown to users, executed under ``contract`` with ``options``."""

    def wrap(fn: Callable) -> Callable:
        fn.__recipe__ = RecipeSpec(contract, dict(options))
        return fn

    return wrap


def get(framework: str, name: str) -> Callable:
    """The recipe ``name`` for ``framework``; LookupError says that none is written for it."""
    module = importlib.import_module(f"{__name__}.{MODULES[framework]}")
    fn = getattr(module, name, None)
    if not callable(fn) or name.startswith("_"):
        raise LookupError(f"no recipe {name!r} is written for {framework}")
    return fn


def spec_of(fn: Callable) -> RecipeSpec | None:
    """The contract a recipe function is executed under, or None for a helper that is not shown as a recipe."""
    return getattr(fn, "__recipe__", None)


def shown(framework: str, name: str) -> Callable:
    """A recipe a case may show: written for ``framework`` and declared with :func:`recipe`; LookupError otherwise
    (naming the recipes that are)."""
    fn = get(framework, name)
    if spec_of(fn) is None:
        raise LookupError(f"{name!r} in mapping/recipes/{MODULES[framework]}.py is a helper, not a recipe (no "
                          f"@recipe contract); recipes for {framework}: {', '.join(names(framework)) or 'none'}")
    return fn


def names(framework: str) -> list[str]:
    """The recipes written for ``framework`` (functions declared with :func:`recipe`), sorted."""
    module = importlib.import_module(f"{__name__}.{MODULES[framework]}")
    return sorted(n for n, v in vars(module).items() if callable(v) and spec_of(v) is not None
                  and not n.startswith("_"))
