"""A recurrent layer stack found in a checkpoint: where it is, what it is, and how that was worked out.

A :class:`Stack` is what :mod:`mapping.convert.infer` makes of the tensors of one stack (a PyTorch or MindSpore
module prefix, or the Keras layers that form it): the framework-neutral spec, the canonical float64 weights,
and, in words, the evidence for each part of the configuration and what the file cannot say (an RNN's
nonlinearity, the activations of a Keras layer), which was assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import ops
from ..spec import LayerSpec
from ..weights import CanonicalWeights

#: The forms a stack can take: a layer (``nn.LSTM``, ``keras.layers.LSTM``) or a cell (``nn.LSTMCell``: one layer,
#: one direction, one step per call, parameters named without the ``_l0`` suffix).
FORMS = ("layer", "cell")


@dataclass(frozen=True)
class Stack:
    """One recurrent stack of one checkpoint file."""

    #: The framework whose checkpoint holds it (a :mod:`mapping.frameworks` name).
    framework: str
    path: Path
    #: How the user names it: a module prefix (``encoder.rnn.``, empty at the top) or Keras layer names.
    name: str
    spec: LayerSpec
    weights: CanonicalWeights
    #: Where the tensors are in the file: native names' prefix path, or the Keras layers' paths, in order.
    members: tuple[str, ...] = ()
    form: str = "layer"
    #: One line per inferred part of the configuration, saying which tensor showed it.
    evidence: tuple[str, ...] = ()
    #: What the weights cannot show and was assumed (or taken from the user's options).
    assumed: tuple[str, ...] = ()
    #: The dtype the file stores (float16 and bfloat16 are read as float32 specs).
    stored_dtype: str = "float32"
    #: Anything the format needs to find the stack again (a nested checkpoint's container keys, ...).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def op(self) -> ops.Op:
        return ops.of(self.spec)

    def replace(self, **changes: Any) -> "Stack":
        return replace(self, **changes)

    def summary(self) -> str:
        """The inferred configuration on one line: ``LSTM input_size=4 hidden_size=5 num_layers=2 ...``."""
        return f"{self.op.label}{' cell' if self.form == 'cell' else ''} " + configuration(self.spec)


def configuration(spec: LayerSpec) -> str:
    """The structural fields of ``spec`` (what the weights decide, plus the op's own fields), ``name=value``."""
    shown = ["input_size", "hidden_size", "num_layers", "bidirectional", "bias"]
    shown += [name for name in type(spec).model_fields if name not in LayerSpec.model_fields]
    parts = []
    for name in shown:
        value = getattr(spec, name)
        if name == "proj_size" and not value:
            continue
        parts.append(f"{name}={value}")
    return " ".join(parts)
