"""Errors raised for bad user input: each names where the input came from and which field is wrong.

The harness never lets a framework's own traceback be the first thing a user sees when the user's
input (a YAML case, a spec, an array shape) was the problem.
"""

from __future__ import annotations


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
