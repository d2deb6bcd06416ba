"""Framework-native construction that the checks need beyond the adapters' spec-driven build.

The adapters build "the LSTM a spec describes". Checks also need what a user writes by hand: a Keras
layer with ``return_sequences=False`` or ``stateful=True``, the constructor's real signature, a
call by keyword. Frameworks are imported only inside these functions.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from .. import converters, trace
from ..adapters import get_adapter
from ..spec import LSTMSpec
from ..weights import CanonicalWeights, random_inputs, random_state, random_weights

FAMILY = {"torch": "pytorch", "tfkeras": "tensorflow", "keras2": "tensorflow", "mindspore": "mindspore"}


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

    def spec(self, **fields: Any) -> LSTMSpec:
        return LSTMSpec.parse({"input_size": self.input_size, "hidden_size": self.hidden_size, **fields})

    def problem(self, spec: LSTMSpec, seed: int = 0, state: bool = False):
        """Weights, input and (optionally) initial state for ``spec``, all deterministic."""
        weights = random_weights(spec, seed=seed)
        x = random_inputs(spec, self.batch, self.steps, seed=seed + 1)
        return weights, x, (random_state(spec, self.batch, seed=seed + 2) if state else None)


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
    from ..cases import parse_specifier, parse_version

    value = recorded[framework]
    if isinstance(value, str):
        return value
    version = get_adapter(framework).version()
    for entry in value:
        if entry.versions == "*" or (version and parse_specifier(entry.versions).contains(
                parse_version(version).public, prereleases=True)):
            return entry.behaviour
    raise ValueError(f"no recorded behaviour of {framework} covers version {version}")


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
