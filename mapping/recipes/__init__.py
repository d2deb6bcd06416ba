"""What a user of one framework writes, as runnable code: the native way to use a feature (Keras's
regularisers and constraints) and the workaround on the side that lacks it (MindSpore's initialisers and
constraints applied by hand).

One module per framework family, written in that framework's own API the way a porting engineer would
write it; the checks look a recipe up by framework and name (:func:`get`) and run it, so every recipe the
suite vouches for is code the suite has executed.
"""

from __future__ import annotations

import importlib
from typing import Callable

#: framework -> the module holding its recipes
MODULES = {"torch": "torch", "tfkeras": "keras", "keras2": "keras", "mindspore": "mindspore"}


def get(framework: str, name: str) -> Callable:
    """The recipe ``name`` for ``framework``; LookupError says that none is written for it."""
    module = importlib.import_module(f"{__name__}.{MODULES[framework]}")
    try:
        return getattr(module, name)
    except AttributeError:
        raise LookupError(f"no recipe {name!r} is written for {framework}") from None
