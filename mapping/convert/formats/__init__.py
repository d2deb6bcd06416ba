"""The checkpoint formats ``mapping convert`` reads and writes, one per framework of the registry.

``for_framework("torch")`` gives the format a framework's own save function writes; ``for_path(path)`` the one
a file's name (and, for ``.h5``, its layout) says. Nothing here imports a framework.
"""

from __future__ import annotations

from pathlib import Path

from ... import frameworks
from ...errors import UsageError
from .base import Candidate, CheckpointFormat, Scan
from .keras import Keras2Format, Keras3Format
from .mindspore import MindSporeFormat
from .torch import TorchFormat

__all__ = ["FORMATS", "Candidate", "CheckpointFormat", "Scan", "for_framework", "for_path"]

#: framework name -> its checkpoint format, in registry order.
FORMATS: dict[str, CheckpointFormat] = {
    f.framework: f for f in sorted((TorchFormat(), Keras3Format(), Keras2Format(), MindSporeFormat()),
                                   key=lambda f: frameworks.sort_key(f.framework))
}

#: The order file names are matched in: Keras 3's ``.weights.h5`` before Keras 2's ``.h5``.
_BY_NAME = ("torch", "mindspore", "tfkeras", "keras2")


def for_framework(name: str) -> CheckpointFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise UsageError(f"no checkpoint format for {name!r}; choose from {', '.join(FORMATS)}") from None


def for_path(path: Path | str, *, role: str = "checkpoint") -> CheckpointFormat:
    """The format ``path``'s name says; UsageError naming the suffixes known."""
    path = Path(path)
    for name in _BY_NAME:
        if FORMATS[name].claims(path):
            return FORMATS[name]
    known = "; ".join(f"{', '.join(f.suffixes)} ({f.label})" for f in FORMATS.values())
    raise UsageError(f"{path}: cannot tell the framework of this {role} from its name; name it with --from/--to, or "
                     f"use a known suffix: {known}")
