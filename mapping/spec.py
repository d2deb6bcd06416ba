"""The framework-neutral description of one LSTM layer stack.

Every adapter builds its framework's LSTM from an :class:`LSTMSpec`; the reference computes from it
directly. Field names follow no single framework so that none of them is privileged: each adapter
documents how a field maps onto its own arguments.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import SpecError, show

# --- bounds: what one spec or one case's problem may ask for ------------------------------------------------
# Chosen so that no case can exhaust memory (or run for hours) on the 24 GiB, 2-core machines the suite runs
# on, far above anything a mapping page's row needs (the largest shipped case uses 64 units and a batch of
# 1,000). Stated in README.md and in the case-file schema (mapping/cases.py).

#: input_size, hidden_size and proj_size are at most this.
MAX_FEATURES = 1024
#: num_layers is at most this.
MAX_LAYERS = 16
#: A problem's batch and number of time steps are at most these.
MAX_BATCH = 4096
MAX_STEPS = 1024
#: One problem holds at most this many numbers: all weights, plus per time step and sample the input and, per
#: layer and direction, the gates, cell and output the reference keeps for its backward pass. 2**24 numbers are
#: 128 MiB in float64; the frameworks' float32 copies add less than that again.
MAX_PROBLEM_NUMBERS = 1 << 24

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

    input_size: int = Field(gt=0, le=MAX_FEATURES, description="features per time step of the input")
    hidden_size: int = Field(gt=0, le=MAX_FEATURES, description="units per direction (Keras `units`)")
    num_layers: int = Field(default=1, gt=0, le=MAX_LAYERS)
    bidirectional: bool = False
    batch_first: bool = True
    bias: bool = True
    activation: Activation = "tanh"
    recurrent_activation: Activation = "sigmoid"
    go_backwards: bool = Field(default=False, description="Keras: process the sequence in reverse")
    proj_size: int = Field(default=0, ge=0, le=MAX_FEATURES, description="PyTorch: project h to this size; 0 = off")
    dtype: DType = "float32"

    @model_validator(mode="after")
    def _consistent(self) -> "LSTMSpec":
        if self.proj_size and self.proj_size >= self.hidden_size:
            raise ValueError(
                f"proj_size ({self.proj_size}) must be smaller than hidden_size ({self.hidden_size})"
            )
        if self.go_backwards and self.bidirectional:
            raise ValueError("go_backwards with bidirectional=True is not modelled; use one or the other")
        if self.weight_count() > MAX_PROBLEM_NUMBERS:
            raise ValueError(f"the weights alone would hold {self.weight_count():,} numbers; at most "
                             f"{MAX_PROBLEM_NUMBERS:,} (make hidden_size, input_size or num_layers smaller)")
        return self

    def weight_count(self) -> int:
        """How many numbers the weights hold (both biases, the projection where there is one)."""
        per_direction = [4 * self.hidden_size * (self.layer_input_size(layer) + self.output_size + 2)
                         + self.proj_size * self.hidden_size for layer in range(self.num_layers)]
        return self.num_directions * sum(per_direction)

    def problem_numbers(self, batch: int, steps: int) -> int:
        """How many numbers a run on ``batch`` samples of ``steps`` steps holds (see MAX_PROBLEM_NUMBERS)."""
        per_step = self.input_size + self.num_layers * self.num_directions * (6 * self.hidden_size + self.output_size)
        return self.weight_count() + batch * steps * per_step

    def check_problem_size(self, batch: int, steps: int, *, where: str | None = None) -> None:
        """SpecError unless a run on ``batch`` x ``steps`` stays within the bounds above."""
        for name, value, bound in (("batch", batch, MAX_BATCH), ("steps", steps, MAX_STEPS)):
            if not 0 < value <= bound:
                raise SpecError(f"{name} must lie in [1, {bound}] (got {show(value)})", field=name, where=where)
        numbers = self.problem_numbers(batch, steps)
        if numbers > MAX_PROBLEM_NUMBERS:
            raise SpecError(f"a run on batch {batch} x steps {steps} would hold {numbers:,} numbers; at most "
                            f"{MAX_PROBLEM_NUMBERS:,} (make the problem smaller)", where=where)

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
    def parse(cls, data: Any, *, where: str | None = None, strict: bool = False) -> "LSTMSpec":
        """Validate ``data`` (a mapping) into a spec; errors name the field and ``where``. With ``strict``, no
        value is converted (``true`` is not taken as 1, nor ``"4"`` as 4): how case files are read."""
        if isinstance(data, LSTMSpec):
            return data
        if not isinstance(data, dict):
            raise SpecError(f"an LSTM spec must be a mapping, got {type(data).__name__}", where=where)
        try:
            return cls.model_validate(data, strict=strict)
        except ValidationError as exc:
            raise spec_error_from_validation(exc, where=where, prefix="spec") from None

    def replace(self, **changes: Any) -> "LSTMSpec":
        """A copy with ``changes`` applied and validated again."""
        return LSTMSpec.parse({**self.model_dump(), **changes})


def spec_error_from_validation(exc: ValidationError, *, where: str | None, prefix: str = "") -> SpecError:
    """Turn pydantic's error list into one SpecError naming the first bad field."""
    errors = exc.errors()
    # a misspelt name usually also leaves a required field missing: name the misspelling, the cause
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = ".".join(str(p) for p in first["loc"])
    field = f"{prefix}.{loc}" if prefix and loc else (loc or prefix or None)
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown parameter"
    elif "input" in first and first["type"] not in ("missing", "value_error"):
        message = f"{message} (got {show(first['input'])})"
    extra = len(errors) - 1
    if extra:
        message += f" (and {extra} more problem{'s' if extra > 1 else ''})"
    return SpecError(message, field=field, where=where)
