"""Framework-native construction that the checks need beyond the adapters' spec-driven build.

The adapters build "the LSTM a spec describes". Checks also need what a user writes by hand: a Keras
layer with ``return_sequences=False`` or ``stateful=True``, the constructor's real signature, a
call by keyword. Frameworks are imported only inside these functions.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import converters, trace
from ..adapters import ADAPTERS, get_adapter
from ..errors import ArgsError, CaseInputError, SpecError, show
from ..spec import MAX_BATCH, MAX_FEATURES, MAX_STEPS, LSTMSpec
from ..weights import CanonicalWeights, random_inputs, random_state, random_weights

FAMILY = {"torch": "pytorch", "tfkeras": "tensorflow", "keras2": "tensorflow", "mindspore": "mindspore"}
#: Keys a per-framework argument may use: an adapter's name, or a family standing for its adapters.
FRAMEWORK_KEYS = frozenset(ADAPTERS) | frozenset(FAMILY.values())


class Args(BaseModel):
    """Base of every check's arguments: unknown keys are errors, and nothing is converted (strict: ``true``
    is not taken as 1, nor ``"4"`` as 4), so a case means what it says."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def check_frameworks(self, frameworks: list[str]) -> None:
        """Raise :class:`ArgsError` if the arguments leave out one of the case's ``frameworks`` (a check reads
        its per-framework arguments for each). Checks with per-framework arguments override this."""


def covers(args: BaseModel, field: str, frameworks: list[str], *, families: bool = True) -> None:
    """ArgsError unless the per-framework mapping ``args.<field>`` names each of ``frameworks`` (by adapter
    name, or by family where ``families``) and names nothing else."""
    value = getattr(args, field)
    if not isinstance(value, dict):
        return
    allowed = FRAMEWORK_KEYS if families else frozenset(ADAPTERS)
    unknown = [key for key in value if key not in allowed]
    if unknown:
        raise ArgsError(f"{field}.{unknown[0]}", f"{show(unknown[0])} is not a framework; use one of "
                                                 f"{', '.join(sorted(allowed))}")
    for framework in frameworks:
        if framework not in value and not (families and FAMILY[framework] in value):
            raise ArgsError(field, f"gives nothing for {framework}, which the case is measured on"
                                   + (f" (key {framework} or {FAMILY[framework]})"
                                      if families and FAMILY[framework] != framework else ""))


class Setup(BaseModel):
    """The small problem most checks run on; a case may override any of it under ``args.setup``.

    Sizes are positive and bounded (mapping.spec: MAX_FEATURES, MAX_BATCH, MAX_STEPS), and the largest
    problem any check builds from a setup (3 layers, both directions, a square batch) stays within
    MAX_PROBLEM_NUMBERS, so no case can exhaust memory.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    input_size: int = Field(default=3, gt=0, le=MAX_FEATURES)
    hidden_size: int = Field(default=4, gt=0, le=MAX_FEATURES)
    batch: int = Field(default=2, gt=0, le=MAX_BATCH)
    steps: int = Field(default=5, gt=0, le=MAX_STEPS)

    @model_validator(mode="after")
    def _bounded(self) -> "Setup":
        largest = LSTMSpec(input_size=self.input_size, hidden_size=self.hidden_size, num_layers=3, bidirectional=True)
        try:
            largest.check_problem_size(max(self.batch, self.steps), self.steps)
        except SpecError as exc:
            raise ArgsError("setup", exc.problem) from None
        return self

    def spec(self, **fields: Any) -> LSTMSpec:
        spec = LSTMSpec.parse({"input_size": self.input_size, "hidden_size": self.hidden_size, **fields})
        spec.check_problem_size(self.batch, self.steps)
        return spec

    def spec_for_value(self, field: str, value: Any, *, at: str) -> LSTMSpec:
        """The spec with ``field`` set to ``value`` as a case states it, checked strictly and for size;
        ArgsError naming ``at`` (the argument holding the value) if it is not a valid value of ``field``."""
        if field not in LSTMSpec.model_fields:
            raise ArgsError("field", f"{show(field)} is not a spec field; spec fields: "
                                     f"{', '.join(LSTMSpec.model_fields)}")
        try:
            spec = LSTMSpec.parse({"input_size": self.input_size, "hidden_size": self.hidden_size, field: value},
                                  strict=True)
            spec.check_problem_size(self.batch, self.steps)
        except SpecError as exc:
            raise ArgsError(at, f"not a valid {field}: {exc.problem}") from None
        return spec

    def problem(self, spec: LSTMSpec, seed: int = 0, state: bool = False):
        """Weights, input and (optionally) initial state for ``spec``, all deterministic."""
        weights = random_weights(spec, seed=seed)
        x = random_inputs(spec, self.batch, self.steps, seed=seed + 1)
        return weights, x, (random_state(spec, self.batch, seed=seed + 2) if state else None)


class VersionedBehaviour(BaseModel):
    """A behaviour measured on the releases a PEP 440 specifier names (e.g. tf.keras before Keras 3)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    versions: str
    behaviour: str
    measured_on: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _versions(self) -> "VersionedBehaviour":
        from ..cases import parse_specifier, parse_version

        if self.versions != "*":
            parse_specifier(self.versions)
        for version in self.measured_on:
            parse_version(version)
        return self


#: A recorded behaviour: one string, or a list of version-specific ones with today's as ``versions: "*"``.
Recorded = str | list[VersionedBehaviour]


def recorded_for(recorded: dict[str, Recorded], framework: str) -> str:
    """The behaviour recorded for the installed version of ``framework``."""
    from ..cases import parse_specifier, parse_version

    value = recorded[framework]
    if isinstance(value, str):
        return value
    version = get_adapter(framework).version()
    for entry in value:
        if entry.versions == "*" or (version and parse_specifier(entry.versions).contains(
                parse_version(version).public, prereleases=True)):
            return entry.behaviour
    raise CaseInputError(f"no recorded behaviour of {framework} covers the installed version {version}; "
                         "measure it and add an entry")


def per_framework(value: Any, framework: str) -> Any:
    """Arguments may give one value for all frameworks or a mapping by framework (or by family)."""
    if isinstance(value, dict) and (framework in value or FAMILY[framework] in value):
        return value.get(framework, value.get(FAMILY[framework]))
    return value


def constructor_parameters(framework: str) -> dict[str, Any]:
    """Keyword parameters of the framework's LSTM constructor, with their defaults."""
    if framework == "torch":
        import torch

        fn = torch.nn.modules.rnn.RNNBase.__init__  # nn.LSTM.__init__ is (*args, **kwargs)
        skip = {"self", "mode"}
    elif framework == "mindspore":
        from mindspore.nn.layer.rnns import _RNNBase  # nn.LSTM.__init__ is (*args, **kwargs)

        fn = _RNNBase.__init__
        skip = {"self", "mode"}
    else:
        fn = get_adapter(framework).keras().layers.LSTM.__init__
        skip = {"self"}
    params = inspect.signature(fn).parameters
    return {
        n: (None if p.default is inspect.Parameter.empty else p.default)
        for n, p in params.items()
        if n not in skip and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def call_parameters(framework: str) -> list[str]:
    """Names of the arguments the framework's LSTM is called with."""
    if framework == "torch":
        import torch

        fn = torch.nn.LSTM.forward
    elif framework == "mindspore":
        from mindspore import nn

        fn = nn.LSTM.construct
    else:
        fn = get_adapter(framework).keras().layers.LSTM.call
    return [n for n in inspect.signature(fn).parameters if n != "self"]


def keras_layer(framework: str, spec: LSTMSpec, weights: CanonicalWeights | None = None, *,
                batch: int | None = None, **options: Any):
    """One plain Keras LSTM for a one-layer, one-direction ``spec``, with extra constructor options."""
    keras = get_adapter(framework).keras()
    kwargs = dict(units=spec.hidden_size, use_bias=spec.bias, dtype=spec.dtype)
    kwargs.update(options)
    layer = keras.layers.LSTM(**kwargs)
    layer.build((batch, None, spec.input_size))
    if weights is not None:
        layer.set_weights([a.astype(spec.dtype) for a in converters.to_keras(weights)[0, 0]])
    trace.record({"framework": framework, "event": "keras_layer", "spec": spec.model_dump(), "batch": batch,
                  "options": {k: v for k, v in options.items() if isinstance(v, (bool, int, float, str))},
                  "model": id(layer)})
    return layer


def keras_call(layer, x: np.ndarray, **kwargs: Any) -> list[np.ndarray]:
    """Call a Keras layer on tensors of the layer's dtype (Keras 2 refuses NumPy initial states); return NumPy."""
    import tensorflow as tf

    def tensor(a):
        return tf.constant(np.asarray(a, dtype=layer.dtype)) if isinstance(a, np.ndarray) else a

    trace.record({"framework": "keras", "event": "keras_call", "model": id(layer), "x": list(np.shape(x)),
                  "kwargs": sorted(kwargs)})
    kwargs = {k: [tensor(v) for v in val] if isinstance(val, list) else tensor(val) for k, val in kwargs.items()}
    out = layer(tensor(np.asarray(x)), **kwargs)
    out = out if isinstance(out, (list, tuple)) else [out]
    return [np.asarray(o) for o in out]


def default_setup() -> Setup:
    return Setup()
