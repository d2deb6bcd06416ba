"""Framework adapters, looked up by name and imported only on use.

``ADAPTERS`` maps each adapter's short name to ``module:Class``; :func:`get_adapter` imports the module
the first time it is asked for, so ``import mapping`` never imports a framework.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from functools import lru_cache

from ..errors import FrameworkImportError, one_line
from .base import Adapter

ADAPTERS: dict[str, str] = {
    "torch": "mapping.adapters.torch_lstm:TorchAdapter",
    "tfkeras": "mapping.adapters.keras_lstm:TfKerasAdapter",
    "keras2": "mapping.adapters.keras_lstm:Keras2Adapter",
    "mindspore": "mapping.adapters.mindspore_lstm:MindSporeAdapter",
}

#: Module that must be importable for each adapter (checked without importing it).
REQUIRES: dict[str, tuple[str, ...]] = {
    "torch": ("torch",),
    "tfkeras": ("tensorflow", "keras"),
    "keras2": ("tensorflow", "tf_keras"),
    "mindspore": ("mindspore",),
}


def is_available(name: str) -> bool:
    """Whether the framework behind adapter ``name`` is installed (nothing is imported)."""
    return all(importlib.util.find_spec(module) is not None for module in REQUIRES[name])


def missing_reason(name: str) -> str | None:
    missing = [m for m in REQUIRES[name] if importlib.util.find_spec(m) is None]
    return f"{', '.join(missing)} not installed" if missing else None


def available_adapters() -> list[str]:
    return [name for name in ADAPTERS if is_available(name)]


#: adapter name -> the one line saying why its installed framework failed to import (tried once per process).
_IMPORT_FAILURES: dict[str, str] = {}


def import_failure(name: str) -> str | None:
    """Why the installed framework behind ``name`` fails to import, if it was tried and failed."""
    return _IMPORT_FAILURES.get(name)


def adapter_class(name: str) -> type[Adapter] | None:
    """The adapter's class if it is already loaded (its framework imported), else None; imports nothing and raises
    nothing: for recording the version of a case that may have failed before its framework was imported."""
    if missing_reason(name) or ADAPTERS[name].split(":")[0] not in sys.modules:
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
    try:
        return _get_adapter(name)
    except KeyError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever an import raises, it is one line about that framework
        modules = ", ".join(REQUIRES[name])
        label = name if modules == name else f"{name} ({modules})"
        _IMPORT_FAILURES[name] = (f"{label} is installed but importing it failed: "
                                  f"{type(exc).__name__}: {one_line(exc, 300)}")
        raise FrameworkImportError(_IMPORT_FAILURES[name]) from None


@lru_cache(maxsize=None)
def _get_adapter(name: str) -> Adapter:
    if name not in ADAPTERS:
        raise KeyError(f"unknown framework {name!r}; known: {', '.join(ADAPTERS)}")
    if name in ("tfkeras", "keras2") and importlib.util.find_spec("torch") is not None:
        # Import torch before TensorFlow, as Keras's own test set-up does: the other order has crashed.
        importlib.import_module("torch")
    if name == "tfkeras" and importlib.util.find_spec("tf_keras") is not None:
        # With TensorFlow 2.15 (tf.keras = Keras 2.15), whether tf_keras has been imported in the process
        # changes how tf.keras's LSTM draws input-dropout masks (per step without it, one per sequence with
        # it; see FINDINGS.md). Importing it whenever it is installed makes every measurement see the same
        # process state, whatever order the tests run in.
        importlib.import_module("tf_keras")
    module_name, class_name = ADAPTERS[name].split(":")
    from ..trace import wrap_adapter

    return wrap_adapter(getattr(importlib.import_module(module_name), class_name)())
