"""The framework-neutral description of one recurrent layer stack.

Every adapter builds its framework's layer from a spec; the reference computes from it directly. Field
names follow no single framework so that none of them is privileged: each adapter documents how a field
maps onto its own arguments.

:class:`LayerSpec` holds what every recurrent op shares (sizes, layers, directions, layout, bias,
dropout, dtype). Each op (:mod:`mapping.ops`) subclasses it with its own fields (LSTM: activations and
projection) and names itself in ``op``; :meth:`LayerSpec.parse` picks the op's class from that field.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import SpecError

DType = Literal["float32", "float64"]


class LayerSpec(BaseModel):
    """What a recurrent layer stack computes, independent of any framework and of the op.

    Shapes follow one convention throughout the harness: inputs and full outputs are
    ``(batch, time, features)`` when ``batch_first`` else ``(time, batch, features)``; final states
    are ``(num_layers * num_directions, batch, size)`` ordered layer-major (layer 0 forward, layer 0
    backward, layer 1 forward, ...), as PyTorch and MindSpore return them.

    The dropout fields describe training-mode noise only: the reference computes what every framework
    computes in inference mode, where dropout does nothing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: op name -> its spec class; each op's class registers itself when defined (the modules of mapping.ops)
    by_op: ClassVar[dict[str, type["LayerSpec"]]] = {}
    #: The op's gate blocks, in the canonical order along the first axis of w_ih, w_hh and the biases.
    GATES: ClassVar[tuple[str, ...]] = ()
    #: The op's states, ``h`` first (the output); final states are ``<name>_n``, initial ones ``<name>0``.
    STATES: ClassVar[tuple[str, ...]] = ("h",)

    #: The op's name (``lstm``, ...); each subclass fixes it with a Literal.
    op: str
    input_size: int = Field(gt=0, description="features per time step of the input")
    hidden_size: int = Field(gt=0, description="units per direction (Keras `units`)")
    num_layers: int = Field(default=1, gt=0, le=16)
    bidirectional: bool = False
    batch_first: bool = True
    bias: bool = True
    go_backwards: bool = Field(default=False, description="Keras: process the sequence in reverse")
    dtype: DType = "float32"
    input_dropout: float = Field(default=0.0, ge=0.0, lt=1.0,
                                 description="Keras `dropout`: drop the layer's input at each step")
    recurrent_dropout: float = Field(default=0.0, ge=0.0, lt=1.0,
                                     description="Keras `recurrent_dropout`: drop h(t-1) inside the recurrence")
    layer_dropout: float = Field(default=0.0, ge=0.0, lt=1.0,
                                 description="PyTorch/MindSpore `dropout`: drop each layer's output but the last")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        LayerSpec.by_op[cls.model_fields["op"].default] = cls

    @model_validator(mode="after")
    def _consistent(self) -> "LayerSpec":
        if self.go_backwards and self.bidirectional:
            raise ValueError("go_backwards with bidirectional=True is not modelled; use one or the other")
        return self

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """Size of h per direction (an op with a projection overrides it)."""
        return self.hidden_size

    def layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.num_directions * self.output_size

    def state_sizes(self) -> dict[str, int]:
        """The size of each state, in :attr:`STATES` order (every state has ``output_size`` unless the op says)."""
        return {name: self.output_size for name in self.STATES}

    def extra_shapes(self) -> dict[str, tuple[int, ...]]:
        """Arrays of one direction beyond w_ih, w_hh, b_ih, b_hh, with their shapes (LSTM's projection)."""
        return {}

    @classmethod
    def parse(cls, data: Any, *, where: str | None = None, op: str | None = None) -> "LayerSpec":
        """Validate ``data`` (a mapping) into the spec of its op; errors name the field and ``where``.

        The op is ``data["op"]``, else ``op`` (the op of the page a case belongs to), else LSTM.
        """
        if isinstance(data, LayerSpec):
            return data
        if not isinstance(data, dict):
            raise SpecError(f"a layer spec must be a mapping, got {type(data).__name__}", where=where)
        name = data.get("op", op or "lstm")
        spec_class = LayerSpec.by_op.get(name)
        if spec_class is None:
            raise SpecError(f"unknown op {name!r}; known: {', '.join(LayerSpec.by_op)}", field="spec.op", where=where)
        try:
            return spec_class.model_validate({**data, "op": name})
        except ValidationError as exc:
            raise spec_error_from_validation(exc, where=where, prefix="spec") from None

    def replace(self, **changes: Any) -> "LayerSpec":
        """A copy with ``changes`` applied and validated again (the op stays unless ``op`` is changed)."""
        return LayerSpec.parse({**self.model_dump(), **changes})


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
