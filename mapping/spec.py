"""The framework-neutral description of one LSTM layer stack.

Every adapter builds its framework's LSTM from an :class:`LSTMSpec`; the reference computes from it
directly. Field names follow no single framework so that none of them is privileged: each adapter
documents how a field maps onto its own arguments.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import SpecError

#: Activations the reference knows. ``hard_sigmoid`` is the modern definition (Keras 3, PyTorch's
#: Hardsigmoid): ``clip(x / 6 + 0.5, 0, 1)``. ``hard_sigmoid_legacy`` is Keras 2 / TensorFlow 1.x's
#: ``clip(0.2 * x + 0.5, 0, 1)``, the default recurrent activation on the r1.9 page.
Activation = Literal["tanh", "sigmoid", "hard_sigmoid", "hard_sigmoid_legacy", "relu", "linear"]
DType = Literal["float32", "float64"]


class LSTMSpec(BaseModel):
    """What an LSTM computes, independent of any framework.

    Shapes follow one convention throughout the harness: inputs and full outputs are
    ``(batch, time, features)`` when ``batch_first`` else ``(time, batch, features)``; final states
    are ``(num_layers * num_directions, batch, size)`` ordered layer-major (layer 0 forward, layer 0
    backward, layer 1 forward, ...), as PyTorch and MindSpore return them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_size: int = Field(gt=0, description="features per time step of the input")
    hidden_size: int = Field(gt=0, description="units per direction (Keras `units`)")
    num_layers: int = Field(default=1, gt=0, le=16)
    bidirectional: bool = False
    batch_first: bool = True
    bias: bool = True
    activation: Activation = "tanh"
    recurrent_activation: Activation = "sigmoid"
    go_backwards: bool = Field(default=False, description="Keras: process the sequence in reverse")
    proj_size: int = Field(default=0, ge=0, description="PyTorch: project h to this size; 0 = off")
    dtype: DType = "float32"

    @model_validator(mode="after")
    def _consistent(self) -> "LSTMSpec":
        if self.proj_size and self.proj_size >= self.hidden_size:
            raise ValueError(
                f"proj_size ({self.proj_size}) must be smaller than hidden_size ({self.hidden_size})"
            )
        if self.go_backwards and self.bidirectional:
            raise ValueError("go_backwards with bidirectional=True is not modelled; use one or the other")
        return self

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """Size of h per direction: the projection size when projecting, else hidden_size."""
        return self.proj_size or self.hidden_size

    def layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.num_directions * self.output_size

    @classmethod
    def parse(cls, data: Any, *, where: str | None = None) -> "LSTMSpec":
        """Validate ``data`` (a mapping) into a spec; errors name the field and ``where``."""
        if isinstance(data, LSTMSpec):
            return data
        if not isinstance(data, dict):
            raise SpecError(f"an LSTM spec must be a mapping, got {type(data).__name__}", where=where)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise spec_error_from_validation(exc, where=where, prefix="spec") from None

    def replace(self, **changes: Any) -> "LSTMSpec":
        """A copy with ``changes`` applied and validated again."""
        return LSTMSpec.parse({**self.model_dump(), **changes})


def spec_error_from_validation(exc: ValidationError, *, where: str | None, prefix: str = "") -> SpecError:
    """Turn pydantic's error list into one SpecError naming the first bad field."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    field = f"{prefix}.{loc}" if prefix and loc else (loc or prefix or None)
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown parameter"
    elif "input" in first and first["type"] != "missing":
        message = f"{message} (got {first['input']!r})"
    extra = len(exc.errors()) - 1
    if extra:
        message += f" (and {extra} more problem{'s' if extra > 1 else ''})"
    return SpecError(message, field=field, where=where)
