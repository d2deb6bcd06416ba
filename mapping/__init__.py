"""lstm-mapping-conformance: executable API-mapping tables for recurrent layers (see README.md)."""

from . import ops as _ops  # noqa: F401  (defines every op's spec class, so that specs of any op parse)
