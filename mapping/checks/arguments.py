"""What every check's arguments share: strict models, the small problem most checks run on, and values
given per framework or per page family.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from .. import frameworks, versions
from ..adapters import get_adapter
from ..problem import Problem
from ..spec import LayerSpec
from ..weights import random_inputs, random_state, random_weights


class Args(BaseModel):
    """Base of every check's arguments: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Setup(BaseModel):
    """The small problem most checks run on; a case may override any of it under ``args.setup``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input_size: int = 3
    hidden_size: int = 4
    batch: int = 2
    steps: int = 5

    def spec(self, op: str, **fields: Any) -> LayerSpec:
        """A spec of ``op`` with this setup's sizes and ``fields``."""
        return LayerSpec.parse({"input_size": self.input_size, "hidden_size": self.hidden_size, **fields}, op=op)

    def problem(self, spec: LayerSpec, seed: int = 0, state: bool = False) -> Problem:
        """Weights, input and (optionally) initial state for ``spec``, all deterministic."""
        weights = random_weights(spec, seed=seed)
        x = random_inputs(spec, self.batch, self.steps, seed=seed + 1)
        return Problem(spec, weights, x, random_state(spec, self.batch, seed=seed + 2) if state else None)


class VersionedBehaviour(BaseModel):
    """A behaviour measured on the releases a PEP 440 specifier names (e.g. tf.keras before Keras 3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    versions: str
    behaviour: str
    measured_on: list[str]


#: A recorded behaviour: one string, or a list of version-specific ones with today's as ``versions: "*"``.
Recorded = str | list[VersionedBehaviour]


def recorded_for(recorded: dict[str, Recorded], framework: str) -> str:
    """The behaviour recorded for the installed version of ``framework``."""
    value = recorded[framework]
    if isinstance(value, str):
        return value
    version = get_adapter(framework).version()
    for entry in value:
        if entry.versions == "*" or (version and versions.matches(entry.versions, version)):
            return entry.behaviour
    raise ValueError(f"no recorded behaviour of {framework} covers version {version}")


def per_framework(value: Any, framework: str) -> Any:
    """Arguments may give one value for all frameworks or a mapping by framework (or by page family)."""
    if isinstance(value, dict):
        for key in (framework, frameworks.get(framework).family):
            if key in value:
                return value[key]
    return value
