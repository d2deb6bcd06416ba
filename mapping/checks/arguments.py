"""What every check's arguments share: strict models, the small problem most checks run on, and values
given per framework or per page family.

Arguments are validated twice at load, both with file, line, case and field: by their pydantic model (types,
bounds), then by :meth:`Args.check_case` with what only the case knows (the frameworks it is measured on, the
op of its page), so that nothing a case asks for fails later at run time.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import frameworks, versions
from ..adapters import get_adapter
from ..errors import ArgsError, CaseInputError, SpecError, show
from ..problem import Problem
from ..spec import MAX_BATCH, MAX_FEATURES, MAX_STEPS, LayerSpec
from ..spec import spec_class as spec_class_of
from ..weights import random_inputs, random_state, random_weights

#: Keys a per-framework argument may use: a framework's name, or a page family standing for its frameworks.
FRAMEWORK_KEYS = frozenset(frameworks.NAMES) | frameworks.FAMILIES


class Args(BaseModel):
    """Base of every check's arguments: unknown keys are errors, and nothing is converted (strict: ``true``
    is not taken as 1, nor ``"4"`` as 4), so a case means what it says."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def check_case(self, frameworks: list[str], op: str) -> None:
        """Raise :class:`ArgsError` if the arguments cannot work for a case measured on ``frameworks`` whose
        page is about ``op`` (a per-framework argument that leaves one out, a value the op's spec refuses).
        Checks with such arguments override this."""


def covers(args: BaseModel, field: str, names: list[str], *, families: bool = True) -> None:
    """ArgsError unless the per-framework mapping ``args.<field>`` names each of ``names`` (by framework name,
    or by family where ``families``) and names nothing else."""
    value = getattr(args, field)
    if not isinstance(value, dict):
        return
    allowed = FRAMEWORK_KEYS if families else frozenset(frameworks.NAMES)
    unknown = [key for key in value if key not in allowed]
    if unknown:
        raise ArgsError(f"{field}.{unknown[0]}", f"{show(unknown[0])} is not a framework; use one of "
                                                 f"{', '.join(sorted(allowed))}")
    for name in names:
        family = frameworks.get(name).family
        if name not in value and not (families and family in value):
            raise ArgsError(field, f"gives nothing for {name}, which the case is measured on"
                                   + (f" (key {name} or {family})" if families and family != name else ""))


class Setup(BaseModel):
    """The small problem most checks run on; a case may override any of it under ``args.setup``.

    Sizes are positive and bounded (mapping.spec: MAX_FEATURES, MAX_BATCH, MAX_STEPS), and the largest
    problem any check builds from a setup (3 layers, both directions, a square batch, of the op with the most
    gates) stays within MAX_PROBLEM_NUMBERS, so no case can exhaust memory.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    input_size: int = Field(default=3, gt=0, le=MAX_FEATURES)
    hidden_size: int = Field(default=4, gt=0, le=MAX_FEATURES)
    batch: int = Field(default=2, gt=0, le=MAX_BATCH)
    steps: int = Field(default=5, gt=0, le=MAX_STEPS)

    @model_validator(mode="after")
    def _bounded(self) -> "Setup":
        for op in LayerSpec.by_op:
            largest = LayerSpec.parse({"input_size": self.input_size, "hidden_size": self.hidden_size,
                                       "num_layers": 3, "bidirectional": True}, op=op)
            try:
                largest.check_problem_size(max(self.batch, self.steps), self.steps)
            except SpecError as exc:
                raise ArgsError("setup", exc.problem) from None
        return self

    def spec(self, op: str, **fields: Any) -> LayerSpec:
        """A spec of ``op`` with this setup's sizes and ``fields``, checked for size."""
        spec = LayerSpec.parse({"input_size": self.input_size, "hidden_size": self.hidden_size, **fields}, op=op)
        spec.check_problem_size(self.batch, self.steps)
        return spec

    def spec_for_value(self, op: str, field: str, value: Any, *, at: str) -> LayerSpec:
        """The spec of ``op`` with ``field`` set to ``value`` as a case states it, checked strictly and for size;
        ArgsError naming ``at`` (the argument holding the value) if it is not a valid value of ``field``."""
        spec_class = spec_class_of(op)
        if field not in spec_class.model_fields or field in ("op", "form"):
            raise ArgsError("field", f"{show(field)} is not a spec field of {op}; spec fields: "
                                     f"{', '.join(f for f in spec_class.model_fields if f not in ('op', 'form'))}")
        try:
            spec = LayerSpec.parse({"input_size": self.input_size, "hidden_size": self.hidden_size, field: value},
                                   op=op, strict=True)
            spec.check_problem_size(self.batch, self.steps)
        except SpecError as exc:
            raise ArgsError(at, f"not a valid {field}: {exc.problem}") from None
        return spec

    def problem(self, spec: LayerSpec, seed: int = 0, state: bool = False) -> Problem:
        """Weights, input and (optionally) initial state for ``spec``, all deterministic."""
        weights = random_weights(spec, seed=seed)
        x = random_inputs(spec, self.batch, self.steps, seed=seed + 1)
        return Problem(spec, weights, x, random_state(spec, self.batch, seed=seed + 2) if state else None)


class VersionedBehaviour(BaseModel):
    """A behaviour measured on the releases a PEP 440 specifier names (e.g. tf.keras before Keras 3)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    versions: str
    behaviour: str
    measured_on: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _versions(self) -> "VersionedBehaviour":
        if self.versions != "*":
            versions.parse_specifier(self.versions)
        for version in self.measured_on:
            versions.parse_version(version)
        return self


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
    raise CaseInputError(f"no recorded behaviour of {framework} covers the installed version {version}; "
                         "measure it and add an entry")


def per_framework(value: Any, framework: str) -> Any:
    """Arguments may give one value for all frameworks or a mapping by framework (or by page family)."""
    if isinstance(value, dict):
        for key in (framework, frameworks.get(framework).family):
            if key in value:
                return value[key]
    return value
