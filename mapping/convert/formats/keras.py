"""Keras weights files, read and written with h5py (no TensorFlow import): Keras 3's ``.weights.h5`` and
Keras 2's (``tf_keras``) HDF5 weights file.

Keras has no layer count and no bidirectional flag: a stack is a sequence of Keras layers, each the op's
layer or a ``Bidirectional`` wrapper around it (forward layer first), as :mod:`mapping.adapters.keras` builds
it. Each layer's cell holds ``[kernel, recurrent_kernel(, bias)]`` in the layout of
:func:`mapping.converters.to_keras`.

* **Keras 3** (``model.save_weights("x.weights.h5")``) stores a layer's cell variables at
  ``layers/<key>/cell/vars/0, 1, 2`` and a Bidirectional's at ``layers/<key>/forward_layer/cell/vars/...`` and
  ``backward_layer``. ``<key>`` is the snake-case class name with a counter per class within the container
  (``lstm``, ``lstm_1``, ``bidirectional``): Keras matches a model's layers to the file by that key and order,
  not by the layers' names (which the file keeps in ``vars`` attributes).
* **Keras 2** (``tf_keras``, ``model.save_weights("x.h5")``) lists the model's layers in the root attribute
  ``layer_names``; each layer's group lists its ``weight_names`` (``lstm/lstm_cell/kernel:0``, and for a
  Bidirectional ``forward_lstm/...`` then ``backward_lstm/...``), in order. A whole-model file
  (``model.save("x.h5")``) keeps the same under ``model_weights``.

A file that holds nothing but recurrent layers which chain (each takes what the one before gives) is one
stack; otherwise the user names the layers (``--layer lstm_1`` or ``--layer enc0,enc1`` for a stack).
"""

from __future__ import annotations

import io
import re
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ... import converters
from ...errors import CheckpointError, UsageError, one_line
from ...spec import LayerSpec
from ...weights import CanonicalWeights
from .. import infer
from ..stack import Stack
from .base import Candidate, CheckpointFormat, Scan, class_names


def snake_case(name: str) -> str:
    """Keras's file key for a class name: ``SimpleRNN`` -> ``simple_rnn``, ``LSTM`` -> ``lstm``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def op_of_key(key: str, framework: str) -> str | None:
    """The op a Keras layer or cell name says (``lstm_1``, ``gru_cell``, ``forward_simple_rnn``), if any."""
    base = re.sub(r"_\d+$", "", key.rsplit("/", 1)[-1])
    base = base.removesuffix("_cell").removeprefix("forward_").removeprefix("backward_")
    return {snake_case(cls): op for op, cls in class_names(framework).items()}.get(base)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


@dataclass
class _Found:
    """One recurrent Keras layer in a file."""

    key: str  # its path (Keras 3) or layer name (Keras 2)
    name: str  # the layer's own name
    cells: list[list[np.ndarray]]  # per direction, forward first
    op_hint: str | None

    def layer(self) -> infer.KerasLayer:
        return infer.KerasLayer(key=self.key, label=self.name, directions=tuple(tuple(c) for c in self.cells),
                                op_hint=self.op_hint)

    def sketch(self) -> str:
        recurrent = self.cells[0][1].shape
        bi = "Bidirectional " if len(self.cells) == 2 else ""
        return f"{bi}{(self.op_hint or 'recurrent').upper()} recurrent kernel {tuple(recurrent)}"


def chains(found: list[_Found]) -> bool:
    """Whether these layers, in order, form one stack by their shapes alone."""
    first = found[0].cells[0]
    units, directions = first[1].shape[0], len(found[0].cells)
    for index, layer in enumerate(found):
        expected_in = first[0].shape[0] if index == 0 else directions * units
        if len(layer.cells) != directions or any(
                len(c) != len(first) or c[1].shape != first[1].shape or c[0].shape[0] != expected_in for c in layer.cells):
            return False
    return True


class KerasFormat(CheckpointFormat):
    """What both Keras files share: finding layers, composing stacks, the user's constructor."""

    converter = "keras"
    naming = "keras"
    #: How the user's code refers to this Keras (``keras``, ``tf_keras``) and imports it.
    module: str
    import_line: str

    @abstractmethod
    def layers_in(self, handle: Any, path: Path) -> tuple[list[_Found], bool]:
        """The recurrent layers of an open file in model order (where the file shows it), and whether they could
        be the file's only content (nothing else holds weights, nothing sits between them)."""

    def scan(self, path: Path) -> Scan:
        import h5py

        try:
            handle = h5py.File(path, "r")
        except Exception as exc:  # noqa: BLE001 - h5py's errors for a file that is not HDF5
            raise CheckpointError(f"{path}: not an HDF5 file, so not a {self.description} "
                                  f"({type(exc).__name__}: {one_line(exc, 120)})") from None
        with handle:
            found, alone = self.layers_in(handle, path)
        by_name: dict[str, _Found] = {}
        for layer in found:
            by_name.setdefault(layer.name, layer)
            by_name.setdefault(layer.key, layer)
            by_name.setdefault(layer.key.rsplit("/", 1)[-1], layer)

        def candidate(layers: list[_Found]) -> Candidate:
            names = ",".join(layer.name for layer in layers)

            def make(options: dict[str, Any]) -> Stack:
                inferred = infer.infer_keras([layer.layer() for layer in layers], where=f"{path}: ", options=options)
                return Stack(framework=self.framework, path=path, name=names, spec=inferred.spec,
                             weights=inferred.weights, members=tuple(layer.key for layer in layers),
                             evidence=inferred.evidence, assumed=inferred.assumed, stored_dtype=inferred.stored_dtype,
                             extra={"only": alone})

            aliases = tuple(dict.fromkeys([",".join(layer.key for layer in layers),
                                           ",".join(layer.key.rsplit("/", 1)[-1] for layer in layers)]))
            sketch = (layers[0].sketch() if len(layers) == 1 else f"{len(layers)} layers, {layers[0].sketch()}")
            return Candidate(name=names, aliases=aliases, sketch=sketch, make=make)

        def compose(names: list[str]) -> Candidate | None:
            missing = [n for n in names if n not in by_name]
            if missing:
                raise CheckpointError(f"{path}: no recurrent layer named {missing[0]!r}; found: "
                                      f"{', '.join(layer.name for layer in found)}")
            return candidate([by_name[n] for n in names])

        candidates = [candidate([layer]) for layer in found]
        default = None
        if len(found) > 1 and alone and chains(found):
            default = candidate(found)
        return Scan(path=path, candidates=candidates, default=default, compose=compose,
                    looked_for=self.looked_for)

    looked_for = "Keras recurrent layers (a cell's kernel, recurrent kernel and bias, or a Bidirectional pair)"

    # --- names ------------------------------------------------------------------------------------------------
    def default_name(self, source: Stack, source_format: CheckpointFormat) -> str:
        return ""

    def layer_names(self, spec: LayerSpec, name: str) -> list[str]:
        """The names of the Keras layers of a stack: ``name`` given as one name per layer (``enc0,enc1``), or as
        a base name numbered as Keras does (``enc``, ``enc_1``); Keras's own (``lstm``, ``lstm_1``, or
        ``bidirectional``, ...) when empty."""
        parts = [part.strip() for part in name.split(",")]
        if len(parts) == spec.num_layers and all(parts) and (len(parts) > 1 or parts[0]):
            return parts
        if len(parts) > 1:
            raise UsageError(f"{len(parts)} Keras layer names ({name}) for a stack of {spec.num_layers} layers")
        return _numbered(parts[0] or self.class_key(spec), spec.num_layers)

    def class_key(self, spec: LayerSpec) -> str:
        return "bidirectional" if spec.bidirectional else snake_case(class_names(self.framework)[spec.op])

    # --- the user's code ------------------------------------------------------------------------------------------
    def constructor(self, spec: LayerSpec, name: str = "", form: str = "layer") -> str:
        lines = [self.layer_constructor(spec, layer, name_) for layer, name_ in
                 enumerate(self.layer_names(spec, name))]
        return "[" + ",\n          ".join(lines) + "]"

    def layer_constructor(self, spec: LayerSpec, layer: int, name: str) -> str:
        adapter = self.adapter_type()()
        table = adapter.parameters[spec.op]
        from ...ops import of

        args = [f"{table['hidden_size']}={spec.hidden_size}"]
        for field in of(spec).activation_fields:
            args.append(f"{table[field]}={adapter.activations[getattr(spec, field)]!r}")
        args.append(f"{table['bias']}={spec.bias}")
        for field in infer.layout_fields(of(spec)):
            args.append(f"{table.get(field, field)}={getattr(spec, field)}")
        for field in ("input_dropout", "recurrent_dropout"):
            if getattr(spec, field):
                args.append(f"{table[field]}={getattr(spec, field)}")
        args.append("return_sequences=True")
        args += self.layout_arguments(spec)
        cls = f"{self.module}.layers.{class_names(self.framework)[spec.op]}"
        if spec.bidirectional:
            return f"{self.module}.layers.Bidirectional({cls}({', '.join(args)}), name={name!r})"
        return f"{cls}({', '.join(args)}, name={name!r})"

    def layout_arguments(self, spec: LayerSpec) -> list[str]:
        return []

    def model_lines(self, stack: Stack) -> list[str]:
        spec = stack.spec
        return [self.import_line,
                f"layers = {self.constructor(spec, stack.name)}",
                f"model = {self.module}.Sequential([{self.module}.Input((None, {spec.input_size})), *layers])"]

    def loaded_weights(self, namespace: dict[str, Any], stack: Stack) -> CanonicalWeights:
        from ...adapters import get_adapter
        from ...adapters.keras import KerasStack

        return get_adapter(self.framework).export_weights(KerasStack(list(namespace["layers"])), stack.spec)

    def namespace(self) -> dict[str, Any]:
        from ...adapters import get_adapter

        return {self.module: get_adapter(self.framework).keras()}

    # --- writing ------------------------------------------------------------------------------------------------
    def encode(self, weights: CanonicalWeights, dtype: str, name: str, form: str = "layer") -> bytes:
        import h5py

        per_cell = converters.to_keras(weights)
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as handle:
            self.write(handle, weights.spec, per_cell, dtype, self.layer_names(weights.spec, name))
        return buffer.getvalue()

    @abstractmethod
    def write(self, handle: Any, spec: LayerSpec, per_cell: dict, dtype: str, names: list[str]) -> None:
        """Lay the stack's arrays out in an open HDF5 file as this Keras's ``save_weights`` does."""


class Keras3Format(KerasFormat):
    framework = "tfkeras"
    description = "Keras 3 weights file (model.save_weights)"
    suffixes = (".weights.h5",)
    module = "keras"
    import_line = "from tensorflow import keras"

    def claims(self, path: Path) -> bool:
        return path.name.lower().endswith(self.suffixes) or (path.suffix.lower() in (".h5", ".hdf5")
                                                             and is_keras3(path))

    def layers_in(self, handle: Any, path: Path) -> tuple[list[_Found], bool]:
        if "layer_names" in handle.attrs or "model_weights" in handle:
            raise CheckpointError(f"{path}: a Keras 2 (tf_keras) weights file, not a Keras 3 one: convert it "
                                  "--from keras2")
        found: list[_Found] = []
        outside = []

        def cell_arrays(group) -> list[np.ndarray] | None:
            cell = group.get("cell")
            variables = cell.get("vars") if cell is not None and hasattr(cell, "get") else None
            if variables is None or not hasattr(variables, "keys"):
                return None
            keys = sorted(variables.keys())
            if keys not in (["0", "1"], ["0", "1", "2"]):
                return None
            return [np.asarray(variables[k][()]) for k in keys]

        def hint(group, key: str) -> str | None:
            variables = group.get("cell/vars")
            named = _text(variables.attrs.get("name", "")) if variables is not None else ""
            return op_of_key(named, self.framework) if named else op_of_key(key, self.framework)

        def own_name(group, key: str) -> str:
            variables = group.get("vars")
            return _text(variables.attrs["name"]) if variables is not None and "name" in variables.attrs else \
                key.rsplit("/", 1)[-1]

        def visit(group, key: str) -> None:
            single = cell_arrays(group)
            if single is not None:
                found.append(_Found(key, own_name(group, key), [single], hint(group, key)))
                return
            if "forward_layer" in group and "backward_layer" in group:
                forward, backward = cell_arrays(group["forward_layer"]), cell_arrays(group["backward_layer"])
                if forward is not None and backward is not None:
                    found.append(_Found(key, own_name(group, key), [forward, backward],
                                        hint(group["forward_layer"], key)))
                    return
            for child_name, child in group.items():
                child_key = f"{key}/{child_name}" if key else child_name
                if hasattr(child, "keys"):
                    visit(child, child_key)
                else:  # a weight of some other layer
                    outside.append(child_key)

        visit(handle, "")
        # Keras numbers the layers of one class in model order (lstm, lstm_1, ...): that order is all the file shows
        found.sort(key=lambda f: (f.key.rsplit("/", 1)[0], _counter_order(f.key.rsplit("/", 1)[-1])))
        parents = {f.key.rsplit("/", 1)[0] for f in found}
        keys = [f.key.rsplit("/", 1)[-1] for f in found]
        base = _counter_order(keys[0])[0] if keys else ""
        alone = (not outside and len(parents) == 1 and keys == _numbered(base, len(keys))
                 and _only_inputs_beside(handle, parents.pop(), keys))
        return found, alone

    def write(self, handle: Any, spec: LayerSpec, per_cell: dict, dtype: str, names: list[str]) -> None:
        cls_key = snake_case(class_names(self.framework)[spec.op])
        key = self.class_key(spec)
        handle.create_group("vars").attrs["name"] = "sequential"
        for layer, name in enumerate(names):
            group = handle.create_group(f"layers/{key if layer == 0 else f'{key}_{layer}'}")
            group.create_group("vars").attrs["name"] = name
            parts = [("forward_layer", "forward_"), ("backward_layer", "backward_")] if spec.bidirectional else [("", "")]
            for direction, (part, prefix) in enumerate(parts):
                target = group.create_group(part) if part else group
                if part:
                    target.create_group("vars").attrs["name"] = f"{prefix}{cls_key}"
                variables = target.create_group("cell/vars")
                variables.attrs["name"] = f"{cls_key}_cell"
                for index, array in enumerate(per_cell[layer, direction]):
                    variables.create_dataset(str(index), data=np.asarray(array).astype(dtype))

    def loading_code(self, stack: Stack) -> str:
        lines = self.model_lines(stack)
        if list(stack.members) == [f"layers/{k}" for k in _numbered(self.class_key(stack.spec), stack.spec.num_layers)]:
            lines.append(f"model.load_weights({str(stack.path)!r})")
            return "\n".join(lines)
        # The stack is not where a model of these layers alone keeps it: load each layer's cell from its group.
        lines.insert(0, "import h5py")
        lines.append(f"with h5py.File({str(stack.path)!r}, 'r') as f:")
        for layer, key in enumerate(stack.members):
            parts = ([(f"layers[{layer}].forward_layer", f"{key}/forward_layer"),
                      (f"layers[{layer}].backward_layer", f"{key}/backward_layer")]
                     if stack.spec.bidirectional else [(f"layers[{layer}]", key)])
            for expression, group in parts:
                lines.append(f"    {expression}.cell.load_own_variables("
                             f"{{k: v[()] for k, v in f[{group + '/cell/vars'!r}].items()}})")
        return "\n".join(lines)


class Keras2Format(KerasFormat):
    framework = "keras2"
    description = "Keras 2 (tf_keras) HDF5 weights file (model.save_weights)"
    suffixes = (".h5", ".hdf5")
    module = "tf_keras"
    import_line = "import tf_keras"

    def claims(self, path: Path) -> bool:
        return path.name.lower().endswith(self.suffixes) and not path.name.lower().endswith(".weights.h5")

    def layers_in(self, handle: Any, path: Path) -> tuple[list[_Found], bool]:
        root = handle["model_weights"] if "model_weights" in handle else handle
        if "layer_names" not in root.attrs:
            raise CheckpointError(f"{path}: no layer_names attribute, so not a {self.description}"
                                  + (" (it looks like a Keras 3 weights file: convert it --from tfkeras)"
                                     if "layers" in handle or "vars" in handle else ""))
        names = [_text(n) for n in root.attrs["layer_names"]]
        found: list[_Found] = []
        positions, weighted = [], []
        for position, name in enumerate(names):
            if name not in root:
                raise CheckpointError(f"{path}: layer_names lists {name!r}, which the file does not hold")
            group = root[name]
            weight_names = [_text(w) for w in group.attrs.get("weight_names", [])]
            if not weight_names:
                continue
            weighted.append(position)
            cells: dict[str, dict[str, np.ndarray]] = {}
            for weight_name in weight_names:
                cell, leaf = weight_name.rsplit("/", 1) if "/" in weight_name else ("", weight_name)
                cells.setdefault(cell, {})[leaf.split(":")[0]] = np.asarray(group[weight_name][()])
            paths = list(cells)
            shaped = all(set(c) in ({"kernel", "recurrent_kernel"}, {"kernel", "recurrent_kernel", "bias"})
                         for c in cells.values())
            if not shaped or len(paths) not in (1, 2) or (
                    len(paths) == 2 and not ("forward" in paths[0] and "backward" in paths[1])):
                continue
            arrays = [[c["kernel"], c["recurrent_kernel"]] + ([c["bias"]] if "bias" in c else [])
                      for c in cells.values()]
            found.append(_Found(name, name, arrays, op_of_key(paths[0], self.framework)))
            positions.append(position)
        alone = (len(weighted) == len(found) and bool(positions)
                 and positions == list(range(positions[0], positions[0] + len(positions))))
        return found, alone

    def write(self, handle: Any, spec: LayerSpec, per_cell: dict, dtype: str, names: list[str]) -> None:
        from ... import frameworks

        cls_key = snake_case(class_names(self.framework)[spec.op])
        handle.attrs["layer_names"] = np.array([n.encode("utf-8") for n in names])
        handle.attrs["backend"] = b"tensorflow"
        handle.attrs["keras_version"] = (frameworks.distribution_version("tf-keras") or "2").encode("utf-8")
        for layer, name in enumerate(names):
            group = handle.create_group(name)
            cells = ([f"{name}/forward_{cls_key}/{cls_key}_cell", f"{name}/backward_{cls_key}/{cls_key}_cell"]
                     if spec.bidirectional else [f"{name}/{cls_key}_cell"])
            weight_names = []
            for direction, cell in enumerate(cells):
                for leaf, array in zip(("kernel", "recurrent_kernel", "bias"), per_cell[layer, direction]):
                    weight_name = f"{cell}/{leaf}:0"
                    group.create_dataset(weight_name, data=np.asarray(array).astype(dtype))
                    weight_names.append(weight_name.encode("utf-8"))
            group.attrs["weight_names"] = np.array(weight_names)

    def layout_arguments(self, spec: LayerSpec) -> list[str]:
        return [] if spec.batch_first else ["time_major=True"]

    def loading_code(self, stack: Stack) -> str:
        lines = self.model_lines(stack)
        lines.append(f"model.load_weights({str(stack.path)!r}, by_name=True)")
        return "\n".join(lines)


def _numbered(base: str, count: int) -> list[str]:
    """Keras's numbering of ``count`` layers of one class: ``lstm``, ``lstm_1``, ``lstm_2``."""
    return [base if k == 0 else f"{base}_{k}" for k in range(count)]


def _counter_order(key: str) -> tuple[str, int]:
    match = re.fullmatch(r"(.*?)(?:_(\d+))?", key)
    return match[1], int(match[2] or 0)


def _only_inputs_beside(handle: Any, parent: str, keys: list[str]) -> bool:
    """Whether the container of the layers holds nothing else but input layers (which hold no weights)."""
    container = handle[parent] if parent else handle
    others = [k for k in container.keys() if k not in keys]
    return all(k.startswith("input_layer") for k in others)


def is_keras3(path: Path) -> bool:
    """Whether an HDF5 file is laid out as Keras 3 writes weights (a ``layers`` or ``vars`` group, no
    ``layer_names``); False for anything unreadable."""
    try:
        import h5py

        with h5py.File(path, "r") as handle:
            return "layer_names" not in handle.attrs and "model_weights" not in handle and (
                "layers" in handle or "vars" in handle)
    except Exception:  # noqa: BLE001 - not HDF5: not Keras 3 either
        return False
