"""Framework adapters, looked up by framework name and imported only on use.

The framework registry (:mod:`mapping.frameworks`) names each adapter's class; :func:`get_adapter` imports
it (after the modules the registry says must come first) the first time it is asked for, so
``import mapping`` never imports a framework. An installed framework that fails to import is one line
(:class:`~mapping.errors.FrameworkImportError`), tried once per process.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from functools import lru_cache

from .. import frameworks
from ..errors import FrameworkImportError, one_line
from .base import Adapter

__all__ = ["Adapter", "adapter_class", "available_adapters", "get_adapter", "import_failure", "is_available",
           "missing_reason"]


def is_available(name: str) -> bool:
    """Whether the framework behind adapter ``name`` is installed (nothing is imported)."""
    return not frameworks.get(name).missing()


def missing_reason(name: str) -> str | None:
    missing = frameworks.get(name).missing()
    return f"{', '.join(missing)} not installed" if missing else None


def available_adapters() -> list[str]:
    return [name for name in frameworks.NAMES if is_available(name)]


#: adapter name -> the one line saying why its installed framework failed to import (tried once per process).
_IMPORT_FAILURES: dict[str, str] = {}


def import_failure(name: str) -> str | None:
    """Why the installed framework behind ``name`` fails to import, if it was tried and failed."""
    return _IMPORT_FAILURES.get(name)


def adapter_class(name: str) -> type[Adapter] | None:
    """The adapter's class if it is already loaded (its framework imported), else None; imports nothing and raises
    nothing: for recording the version of a case that may have failed before its framework was imported."""
    if missing_reason(name) or frameworks.get(name).adapter.split(":")[0] not in sys.modules:
        return None
    try:
        return type(get_adapter(name))
    except FrameworkImportError:
        return None


def get_adapter(name: str) -> Adapter:
    """The adapter instance for ``name``; imports its framework on first use.

    An installed framework that fails to import raises :class:`FrameworkImportError` with one line (which
    modules, the exception and its first line), the same line on every later call: the import is not
    retried, so a broken installation costs one line per case, not a traceback each.
    """
    if name in _IMPORT_FAILURES:
        raise FrameworkImportError(_IMPORT_FAILURES[name])
    framework = frameworks.get(name)  # KeyError for an unknown name, before any import is tried
    try:
        return _get_adapter(name)
    except Exception as exc:  # noqa: BLE001 - whatever an import raises, it is one line about that framework
        modules = ", ".join(framework.imports)
        label = name if modules == name else f"{name} ({modules})"
        _IMPORT_FAILURES[name] = (f"{label} is installed but importing it failed: "
                                  f"{type(exc).__name__}: {one_line(exc, 300)}")
        raise FrameworkImportError(_IMPORT_FAILURES[name]) from None


@lru_cache(maxsize=None)
def _get_adapter(name: str) -> Adapter:
    framework = frameworks.get(name)
    for module in framework.preload:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    module_name, class_name = framework.adapter.split(":")
    from ..trace import wrap_adapter

    return wrap_adapter(getattr(importlib.import_module(module_name), class_name)())
