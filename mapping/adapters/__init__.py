"""Framework adapters, looked up by framework name and imported only on use.

The framework registry (:mod:`mapping.frameworks`) names each adapter's class; :func:`get_adapter` imports
it (after the modules the registry says must come first) the first time it is asked for, so
``import mapping`` never imports a framework.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import lru_cache

from .. import frameworks
from .base import Adapter

__all__ = ["Adapter", "get_adapter", "is_available", "missing_reason", "available_adapters"]


def is_available(name: str) -> bool:
    """Whether the framework behind adapter ``name`` is installed (nothing is imported)."""
    return not frameworks.get(name).missing()


def missing_reason(name: str) -> str | None:
    missing = frameworks.get(name).missing()
    return f"{', '.join(missing)} not installed" if missing else None


def available_adapters() -> list[str]:
    return [name for name in frameworks.NAMES if is_available(name)]


@lru_cache(maxsize=None)
def get_adapter(name: str) -> Adapter:
    """The adapter instance for ``name``; imports its framework on first use."""
    framework = frameworks.get(name)
    for module in framework.preload:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    module_name, class_name = framework.adapter.split(":")
    from ..trace import wrap_adapter

    return wrap_adapter(getattr(importlib.import_module(module_name), class_name)())
