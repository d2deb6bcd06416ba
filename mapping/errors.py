"""Errors raised for bad user input, and the functions that keep their messages short and safe.

The harness never lets a framework's own traceback be the first thing a user sees when the user's
input (a YAML case, a spec, an array shape) was the problem. A message names where the input came
from (file, line, case, field) and echoes the offending value through :func:`show`, which bounds its
length: a value built by a few lines of input (nested YAML aliases, a megabyte-long cell) must not
become a gigabyte-long error line.
"""

from __future__ import annotations

import reprlib

#: The most characters of an offending value a message echoes.
SHOWN_CHARS = 120

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxset = 3, 6, 6, 6, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = SHOWN_CHARS, SHOWN_CHARS, 40


def clip(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis marks the cut)."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def show(value: object, limit: int = SHOWN_CHARS) -> str:
    """A bounded, one-line repr of ``value`` for an error message: nesting, list lengths and the total
    length are all capped, so the cost is bounded whatever the value holds."""
    try:
        text = _REPR.repr(value)
    except RecursionError:  # pragma: no cover - reprlib's maxlevel already stops deep nesting
        text = f"<{type(value).__name__} nested too deeply to show>"
    return clip(text, limit)


def one_line(text: object, limit: int = 400) -> str:
    """The first line of ``text`` (a framework's exception message, say), cut to ``limit`` characters."""
    first = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return clip(first, limit)


class MappingError(Exception):
    """Base class for errors about user input to the harness."""


class SpecError(MappingError, ValueError):
    """An LSTM spec, or an input given to a built LSTM, is invalid.

    ``where`` says where the spec came from (``cases/foo.yaml, case 'Parameter 3'``) and ``field`` names
    the offending field, so the message points at one line a user can fix.
    """

    def __init__(self, message: str, *, field: str | None = None, where: str | None = None):
        self.field = field
        self.where = where
        self.problem = message
        parts = []
        if where:
            parts.append(where)
        if field:
            parts.append(f"field '{field}'")
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class Unsupported(MappingError):
    """The framework (or its installed version) cannot express this spec natively.

    Not a fault: the tests turn it into a skip with this reason, and the cases into the verdict
    "not applicable in this version" or "no counterpart".
    """


class FrameworkImportError(MappingError, ImportError):
    """A framework is installed but fails to import; the message is one line saying which and why."""


class ArgsError(MappingError):
    """A check's arguments that cannot work; ``field`` is the path below ``args`` (``values.0``, ``setup``).

    Deliberately not a ValueError: raised inside a pydantic validator it passes through unwrapped, so the
    case-file loader can point at the exact argument and its line.
    """

    def __init__(self, field: str, problem: str):
        self.field, self.problem = field, problem
        super().__init__(f"args.{field}: {problem}")


class CaseInputError(MappingError, ValueError):
    """A case's input that turns out unusable only at run time (no recorded behaviour for this version)."""


class UsageError(MappingError, ValueError):
    """A command was asked for something it refuses (an output that is one of its inputs, a bad name)."""


class CheckpointError(MappingError, ValueError):
    """A checkpoint file ``mapping convert`` cannot use: not a checkpoint of its format, no recurrent layer in it,
    several and none named, shapes that fit no configuration; the message names the file (and the tensor)."""
