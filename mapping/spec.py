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

import numpy as np
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

DType = Literal["float32", "float64"]
#: How an op is used: as a layer (``torch.nn.GRU``: the whole sequence in one call) or as a cell (``torch.nn.GRUCell``:
#: one step per call, driven over time by the user's own loop).
Form = Literal["layer", "cell"]
#: The name of an op's cell form, as case files and adapter tables spell it: ``gru_cell`` for the GRU cell.
CELL_SUFFIX = "_cell"


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
    input_size: int = Field(gt=0, le=MAX_FEATURES, description="features per time step of the input")
    hidden_size: int = Field(gt=0, le=MAX_FEATURES, description="units per direction (Keras `units`)")
    num_layers: int = Field(default=1, gt=0, le=MAX_LAYERS)
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
    form: Form = Field(default="layer", description="layer, or cell: one step per call, driven by a loop over time")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        LayerSpec.by_op[cls.model_fields["op"].default] = cls

    @model_validator(mode="after")
    def _consistent(self) -> "LayerSpec":
        if self.go_backwards and self.bidirectional:
            raise ValueError("go_backwards with bidirectional=True is not modelled; use one or the other")
        if self.form == "cell":
            # A cell is one step of one layer in one direction; the user's loop runs it forward over time.
            # (Sequence lengths are refused by Problem.validated: the loop has no padding mechanism.)
            for field, value, allowed in (("num_layers", self.num_layers, 1), ("bidirectional", self.bidirectional, False),
                                          ("go_backwards", self.go_backwards, False),
                                          ("input_dropout", self.input_dropout, 0.0),
                                          ("recurrent_dropout", self.recurrent_dropout, 0.0),
                                          ("layer_dropout", self.layer_dropout, 0.0)):
                if value != allowed:
                    raise ValueError(f"a cell (form: cell) is one step of one layer in one direction without "
                                     f"dropout; {field} must be {allowed!r} (got {value!r})")
        if self.weight_count() > MAX_PROBLEM_NUMBERS:
            raise ValueError(f"the weights alone would hold {self.weight_count():,} numbers; at most "
                             f"{MAX_PROBLEM_NUMBERS:,} (make hidden_size, input_size or num_layers smaller)")
        return self

    def weight_count(self) -> int:
        """How many numbers the weights hold (both biases, and the op's extra arrays such as a projection)."""
        rows = len(self.GATES) * self.hidden_size
        extra = sum(int(np.prod(shape)) for shape in self.extra_shapes().values())
        per_direction = [rows * (self.layer_input_size(layer) + self.output_size + 2) + extra
                         for layer in range(self.num_layers)]
        return self.num_directions * sum(per_direction)

    def problem_numbers(self, batch: int, steps: int) -> int:
        """How many numbers a run on ``batch`` samples of ``steps`` steps holds (see MAX_PROBLEM_NUMBERS): per step,
        the input and, per layer and direction, the gates' pre-activations, two more vectors of the step's
        working state and the output."""
        per_cell = (len(self.GATES) + 2) * self.hidden_size + self.output_size
        per_step = self.input_size + self.num_layers * self.num_directions * per_cell
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
    def api(self) -> str:
        """The API this spec stands for: the op's name for a layer (``gru``), with ``_cell`` for its cell
        (``gru_cell``). Adapters' tables and case files (``page.op``) are keyed by it."""
        return self.op + (CELL_SUFFIX if self.form == "cell" else "")

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
    def parse(cls, data: Any, *, where: str | None = None, op: str | None = None,
              strict: bool = False) -> "LayerSpec":
        """Validate ``data`` (a mapping) into the spec of its op; errors name the field and ``where``.

        The op is ``data["op"]``, else ``op`` (the op of the page a case belongs to), else LSTM. ``op`` may name
        an op's cell (``gru_cell``): the spec is then of that op with ``form: cell`` unless ``data`` says otherwise.
        With ``strict``, no value is converted (``true`` is not taken as 1, nor ``"4"`` as 4): how case files are read.
        """
        if isinstance(data, LayerSpec):
            return data
        if not isinstance(data, dict):
            raise SpecError(f"a layer spec must be a mapping, got {type(data).__name__}", where=where)
        name, form = split_api(data.get("op", op or "lstm"))
        spec_class = LayerSpec.by_op.get(name)
        if spec_class is None:
            raise SpecError(f"unknown op {name!r}; known: {', '.join(LayerSpec.by_op)}", field="spec.op", where=where)
        try:
            return spec_class.model_validate({"form": form, **data, "op": name}, strict=strict)
        except ValidationError as exc:
            raise spec_error_from_validation(exc, where=where, prefix="spec") from None

    def replace(self, **changes: Any) -> "LayerSpec":
        """A copy with ``changes`` applied and validated again (the op stays unless ``op`` is changed)."""
        return LayerSpec.parse({**self.model_dump(), **changes})


def split_api(name: str) -> tuple[str, Form]:
    """``gru_cell`` -> (``gru``, ``cell``); ``gru`` -> (``gru``, ``layer``). The op is not checked here."""
    if isinstance(name, str) and name.endswith(CELL_SUFFIX):
        return name[: -len(CELL_SUFFIX)], "cell"
    return name, "layer"


def spec_class(api: str) -> type[LayerSpec]:
    """The spec class of an API name (an op, or an op's cell); KeyError lists the known ones."""
    name, _ = split_api(api)
    try:
        return LayerSpec.by_op[name]
    except KeyError:
        raise KeyError(f"unknown op {api!r}; known: {', '.join(LayerSpec.by_op)}") from None


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
