"""Working out a recurrent stack's configuration from its tensors' names and shapes. Pure NumPy.

Every op of :data:`mapping.ops.OPS` is recognised by its number of gate blocks (LSTM 4, GRU 3, RNN 1): the
recurrent matrix holds ``gates * hidden`` rows (PyTorch, MindSpore) or columns (Keras) for ``hidden`` units.
Layers and directions come from the names (``_l1``, ``_reverse``) or from the Keras layers given; the bias
from whether there is one; a projection from ``weight_hr``. A field of the op that changes the layout of its
weights (GRU's ``reset_after``: Keras keeps two bias rows with it, one folded bias without) is settled by
asking the op's converter which values the tensors fit (:mod:`mapping.converters` is the one authority on
layouts); when several fit (a GRU without bias), the op's default is assumed and said.

What the weights cannot show at all (an RNN's nonlinearity, a Keras layer's activations) comes from the
user's options or is the op's default, and is listed as assumed.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import converters, ops
from ..errors import CheckpointError, Unsupported, one_line
from ..spec import LayerSpec
from ..weights import CanonicalWeights

#: The canonical arrays' native names (PyTorch and MindSpore; see :mod:`mapping.converters.native`).
NATIVE = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
_LAYER_NAME = re.compile(r"(?P<prefix>.*?)(?P<name>weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(?P<layer>\d+)"
                         r"(?P<reverse>_reverse)?")
_CELL_NAME = re.compile(r"(?P<prefix>.*?)(?P<name>weight_ih|weight_hh|bias_ih|bias_hh)")


@dataclass(frozen=True)
class Inferred:
    """A configuration worked out from tensors: the spec, the canonical weights and the reasons."""

    spec: LayerSpec
    weights: CanonicalWeights
    evidence: tuple[str, ...]
    assumed: tuple[str, ...]
    stored_dtype: str


# --- native names (PyTorch, MindSpore) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NativeGroup:
    """The tensors of one module: ``prefix`` (``encoder.rnn.``), its form, its arrays by name without the prefix."""

    prefix: str
    form: str
    arrays: dict[str, np.ndarray]


def native_groups(tensors: dict[str, Any]) -> list[NativeGroup]:
    """The recurrent modules among a flat ``name -> array`` mapping, grouped by prefix, in first-seen order.

    A layer's parameters end in ``weight_ih_l0`` ... (``_reverse``); a cell's in ``weight_ih``, ``weight_hh``
    (and the biases). The prefix is empty or ends with a dot, so ``myweight_ih`` is nobody's parameter.
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for key, value in tensors.items():
        for form, pattern in (("layer", _LAYER_NAME), ("cell", _CELL_NAME)):
            match = pattern.fullmatch(key)
            if match and (match["prefix"] == "" or match["prefix"].endswith(".")):
                groups.setdefault((match["prefix"], form), {})[key[len(match["prefix"]):]] = value
                break
    return [NativeGroup(prefix, form, arrays) for (prefix, form), arrays in groups.items()
            if "weight_hh" in arrays or any(k.startswith("weight_hh_l") for k in arrays)]


def infer_native(group: NativeGroup, read: Callable[[LayerSpec, dict], CanonicalWeights], *, where: str,
                 options: dict[str, Any] | None = None, fixed: dict[str, dict[str, Any]] | None = None) -> Inferred:
    """The configuration of one module's tensors; ``read`` is the framework's converter
    (:func:`mapping.converters.from_torch` or ``from_mindspore``); ``where`` names the file and module in errors;
    ``fixed``: per op, the fields the framework's class fixes (its adapter's table: ``torch.nn.LSTM`` is tanh and
    sigmoid)."""
    arrays = {k: _array(v, f"{where}{k}") for k, v in group.arrays.items()}

    def named(name: str, layer: int, direction: int) -> str:  # as the file names it (a cell has no _l0)
        return name if group.form == "cell" else _native(name, layer, direction)

    if group.form == "cell":
        arrays = {f"{k}_l0": v for k, v in arrays.items()}
    cells: dict[tuple[int, int], dict[str, np.ndarray]] = {}
    for key, arr in arrays.items():
        match = _LAYER_NAME.fullmatch(key)
        cells.setdefault((int(match["layer"]), 1 if match["reverse"] else 0), {})[match["name"]] = arr
    layers = sorted({layer for layer, _ in cells})
    if layers != list(range(len(layers))):
        raise CheckpointError(f"{_place(where)}: layers {layers} are not numbered 0 to {len(layers) - 1}: a layer is missing")
    directions = 2 if any(d for _, d in cells) else 1
    for layer, direction in itertools.product(layers, range(directions)):
        missing = [n for n in ("weight_ih", "weight_hh") if n not in cells.get((layer, direction), {})]
        if missing:
            raise CheckpointError(f"{_place(where)}: no {named(missing[0], layer, direction)} although other layers or "
                                  "directions have one: the checkpoint is incomplete")
    first = cells[0, 0]
    w_ih, w_hh = first["weight_ih"], first["weight_hh"]
    for name, arr in (("weight_ih", w_ih), ("weight_hh", w_hh)):
        if arr.ndim != 2:
            raise CheckpointError(f"{where}{named(name, 0, 0)} has shape {arr.shape}; a recurrent weight is a matrix")
    evidence = []
    fields: dict[str, Any] = {}
    if "weight_hr" in first:
        w_hr = first["weight_hr"]
        hidden, proj = (w_hr.shape[1], w_hr.shape[0]) if w_hr.ndim == 2 else (0, 0)
        fields["proj_size"] = proj
        evidence.append(f"proj_size={proj}, hidden_size={hidden}: {named('weight_hr', 0, 0)} {w_hr.shape}")
    else:
        hidden = w_hh.shape[1]
    op = _op_for(w_hh.shape[0], hidden, f"{where}{named('weight_hh', 0, 0)} {w_hh.shape}")
    if "proj_size" in op.spec.model_fields and "proj_size" not in fields:
        fields["proj_size"] = 0
        evidence.append(f"proj_size=0: no {named('weight_hr', 0, 0)}")
    evidence.insert(0, f"{op.label}: {named('weight_hh', 0, 0)} {w_hh.shape} holds {len(op.gates)} gate "
                       f"block{'s' if len(op.gates) > 1 else ''} of {hidden} units")
    evidence.append(f"input_size={w_ih.shape[1]}: {named('weight_ih', 0, 0)} {w_ih.shape}")
    if group.form == "layer":
        evidence.append(f"num_layers={len(layers)}: _l0 to _l{len(layers) - 1}; bidirectional={directions == 2}: "
                        f"{'_reverse arrays' if directions == 2 else 'no _reverse array'}")
    bias = "bias_ih" in first or "bias_hh" in first
    evidence.append(f"bias={bias}: {'bias_ih and bias_hh' if bias else 'no bias array'}")
    fields.update(op=op.name, input_size=int(w_ih.shape[1]), hidden_size=int(hidden), num_layers=len(layers),
                  bidirectional=directions == 2, bias=bias)
    return _settle(op, fields, lambda spec: read(spec, arrays), options, evidence, arrays.values(), where,
                   (fixed or {}).get(op.name))


def _native(name: str, layer: int, direction: int) -> str:
    return f"{name}_l{layer}" + ("_reverse" if direction else "")


# --- Keras ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KerasLayer:
    """One Keras recurrent layer as stored: per direction (forward first) its ``[kernel, recurrent_kernel(, bias)]``."""

    key: str  # where it is in the file
    label: str  # how the user knows it (its name)
    directions: tuple[tuple[Any, ...], ...]
    op_hint: str | None = None  # the op its Keras class says, where the file shows the class


def infer_keras(layers: list[KerasLayer], *, where: str, options: dict[str, Any] | None = None) -> Inferred:
    """The configuration of Keras layers taken as one stack, in order (each layer feeds the next)."""
    per_cell: dict[tuple[int, int], list[np.ndarray]] = {}
    shapes = []
    for index, layer in enumerate(layers):
        arrays = [[_array(a, f"{where}{layer.label}") for a in direction] for direction in layer.directions]
        for direction, cell in enumerate(arrays):
            if len(cell) not in (2, 3) or any(a.ndim != 2 for a in cell[:2]):
                raise CheckpointError(f"{where}{layer.label}: {len(cell)} arrays of shapes {[a.shape for a in cell]}; a "
                                      "recurrent cell holds a kernel, a recurrent kernel and perhaps a bias")
            per_cell[index, direction] = cell
        shapes.append(arrays)
    first = shapes[0][0]
    kernel, recurrent = first[0], first[1]
    units = recurrent.shape[0]
    op = _op_for(recurrent.shape[1], units, f"{where}{layers[0].label}: recurrent kernel {recurrent.shape}")
    directions = len(layers[0].directions)
    bias = len(first) == 3
    for index, (layer, arrays) in enumerate(zip(layers, shapes)):
        expected_in = kernel.shape[0] if index == 0 else directions * units
        for cell in arrays:
            if (len(arrays), len(cell), cell[1].shape) != (directions, len(first), recurrent.shape):
                raise CheckpointError(f"{where}{layer.label}: does not stack on {layers[0].label} (its directions, "
                                      f"bias or recurrent kernel {cell[1].shape} differ from {recurrent.shape})")
            if cell[0].shape[0] != expected_in:
                raise CheckpointError(f"{where}{layer.label}: its kernel takes {cell[0].shape[0]} features, but the "
                                      f"layer before gives {expected_in}: these layers do not form one stack")
        if layer.op_hint and layer.op_hint != op.name:
            raise CheckpointError(f"{where}{layer.label}: a Keras {layer.op_hint.upper()} layer whose recurrent kernel "
                                  f"{recurrent.shape} holds {len(op.gates)} gate blocks ({op.label}'s count)")
    names = ", ".join(layer.label for layer in layers)
    evidence = [f"{op.label}: recurrent kernel {recurrent.shape} of {names.split(', ')[0]} holds {len(op.gates)} gate "
                f"block{'s' if len(op.gates) > 1 else ''} of {units} units",
                f"input_size={kernel.shape[0]}: kernel {kernel.shape}",
                f"num_layers={len(layers)}: {names}; bidirectional={directions == 2}: "
                f"{'Bidirectional wrapper (forward_layer, backward_layer)' if directions == 2 else 'one direction'}",
                f"bias={bias}: {'bias ' + str(first[2].shape) if bias else 'no bias array'}"]
    fields = dict(op=op.name, input_size=int(kernel.shape[0]), hidden_size=int(units), num_layers=len(layers),
                  bidirectional=directions == 2, bias=bias)
    if "proj_size" in op.spec.model_fields:  # Keras layers do not project
        fields["proj_size"] = 0

    def read(spec: LayerSpec) -> CanonicalWeights:
        weights = converters.from_keras(spec, per_cell)
        back = converters.to_keras(weights)
        for key, arrays in per_cell.items():  # the layout must hold the arrays exactly (it decides reset_after)
            if len(back[key]) != len(arrays) or not all(
                    np.shape(a) == np.shape(b) and np.array_equal(np.asarray(a, np.float64), b)
                    for a, b in zip(arrays, back[key])):
                raise ValueError(f"layer {key[0]} direction {key[1]}: the arrays do not fit this layout")
        return weights

    all_arrays = [a for cell in per_cell.values() for a in cell]
    return _settle(op, fields, read, options, evidence, all_arrays, where)


# --- shared --------------------------------------------------------------------------------------------------------
def _place(where: str) -> str:
    """``where`` (``file: encoder.rnn.`` or ``file: ``) as the subject of a message: ``file: encoder.rnn``."""
    return where.rstrip(" :.")


def _array(value: Any, where: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind != "f" and arr.dtype.name != "bfloat16":
        raise CheckpointError(f"{where}: holds {arr.dtype} values; recurrent weights are floating point")
    return arr


def _op_for(rows: int, hidden: int, where: str) -> ops.Op:
    """The op whose gate count explains ``rows = gates * hidden``."""
    known = ", ".join(f"{op.label} {len(op.gates)}" for op in ops.OPS.values())
    if hidden <= 0 or rows % hidden:
        raise CheckpointError(f"{where}: {rows} is not a whole number of gate blocks of {hidden} units; shapes fit no "
                              f"configuration (gate blocks: {known})")
    gates = rows // hidden
    matching = [op for op in ops.OPS.values() if len(op.gates) == gates]
    if not matching:
        raise CheckpointError(f"{where}: {gates} gate blocks of {hidden} units fit no known op ({known})")
    return matching[0]


def layout_fields(op: ops.Op) -> list[str]:
    """The op's own yes/no fields (GRU's ``reset_after``): they may change how its weights are laid out."""
    return [name for name, info in op.spec.model_fields.items()
            if name not in LayerSpec.model_fields and info.annotation is bool]


def _settle(op: ops.Op, fields: dict[str, Any], read: Callable[[LayerSpec], CanonicalWeights],
            options: dict[str, Any] | None, evidence: list[str], arrays, where: str,
            fixed: dict[str, Any] | None = None) -> Inferred:
    """Apply the user's options, try every value of the op's layout fields the user left open, and keep the
    configurations the converter reads the tensors with."""
    options = dict(options or {})
    assumed = []
    for name in options:
        if name not in op.spec.model_fields:
            raise CheckpointError(f"{_place(where)}: option {name!r} does not apply to {op.label}")
    fixed = fixed or {}
    for name, info in op.spec.model_fields.items():
        if name in LayerSpec.model_fields or name in fields or name in layout_fields(op):
            continue
        if name in fixed:
            if name in options and options[name] != fixed[name]:
                raise CheckpointError(f"{_place(where)}: {name}={options[name]!r} cannot be: the source's {op.label} class "
                                      f"fixes {name}={fixed[name]!r}")
            options[name] = fixed[name]
            evidence.append(f"{name}={fixed[name]!r}: fixed by the source's {op.label} class")
        elif name in options:
            assumed.append(f"{name}={options[name]!r}: from your options (a checkpoint does not store it)")
        elif name != "op":
            assumed.append(f"{name}={info.default!r}: not stored in a checkpoint; the {op.label} default (set it "
                           f"with --{name.replace('_', '-')})")
    stored = _stored_dtype(arrays)
    fields["dtype"] = stored if stored in ("float32", "float64") else "float32"
    chosen_layout = {name: options[name] for name in layout_fields(op) if name in options}
    open_fields = [name for name in layout_fields(op) if name not in options]
    fitting, errors = [], []
    for values in itertools.product((True, False), repeat=len(open_fields)):
        candidate = {**fields, **options, **dict(zip(open_fields, values))}
        try:
            spec = LayerSpec.parse(candidate)
            fitting.append((spec, read(spec), dict(zip(open_fields, values))))
        except Unsupported as exc:
            errors.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure means the tensors do not fit this candidate
            errors.append(one_line(exc) or type(exc).__name__)
    if not fitting:
        raise CheckpointError(f"{_place(where)}: shapes fit no {op.label} configuration: {errors[0] if errors else 'none tried'}")
    if len(fitting) > 1:
        defaults = {name: op.spec.model_fields[name].default for name in open_fields}
        chosen = next((f for f in fitting if f[2] == defaults), fitting[0])
        for name in open_fields:
            assumed.append(f"{name}={chosen[2][name]}: the weights fit either value; the {op.label} default (set it "
                           f"with --{name.replace('_', '-')})")
    else:
        chosen = fitting[0]
        for name in open_fields:
            evidence.append(f"{name}={chosen[2][name]}: the only value the weights fit")
    for name, value in chosen_layout.items():
        assumed.append(f"{name}={value}: from your options")
    spec, weights, _ = chosen
    return Inferred(spec=spec, weights=weights, evidence=tuple(evidence), assumed=tuple(assumed), stored_dtype=stored)


def _stored_dtype(arrays) -> str:
    names = {np.asarray(a).dtype.name for a in arrays}
    if len(names) == 1:
        return names.pop()
    return "float64" if "float64" in names else "float32"
