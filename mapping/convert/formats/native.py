"""What PyTorch and MindSpore checkpoints share: parameters named ``<module prefix><weight_ih_l0 ...>``, in the
canonical layout (:mod:`mapping.converters.native`), found by prefix, and a layer class whose constructor the
adapter's parameter table describes. The two formats differ only in how the file is read and written.
"""

from __future__ import annotations

import importlib
import inspect
from abc import abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from ... import converters
from ...errors import CheckpointError
from ...spec import LayerSpec
from ...weights import CanonicalWeights
from .. import infer
from ..stack import Stack
from .base import Candidate, CheckpointFormat, Scan, class_names, fixed_fields

#: Nested containers of a checkpoint (``{"model": state_dict}``) are joined to the parameter names with this.
CONTAINER_SEPARATOR = "/"


class NativeFormat(CheckpointFormat):
    """A flat (or nested) mapping of parameter names to arrays, PyTorch's names and layout."""

    #: ``torch.nn`` or ``mindspore.nn``: where the layer classes are, as a user writes it.
    module: str

    @abstractmethod
    def tensors(self, path: Path) -> dict[str, np.ndarray]:
        """Every floating-point array of the file by name (nested containers joined with ``/``)."""

    @abstractmethod
    def save(self, arrays: dict[str, np.ndarray]) -> bytes:
        """The file's bytes for ``arrays`` (names in order), written by the framework's own save function."""

    # --- reading ---------------------------------------------------------------------------------------------
    def scan(self, path: Path) -> Scan:
        tensors = self.tensors(path)
        fixed = {op: fixed_fields(self.framework, op) for op in class_names(self.framework)}
        read = getattr(converters, f"from_{self.converter}")
        candidates = []
        for group in infer.native_groups(tensors):
            candidates.append(self._candidate(path, group, read, fixed, set(tensors)))
        return Scan(path=path, candidates=candidates, looked_for="parameters named weight_ih_l0, weight_hh_l0, ... "
                    "(a layer) or weight_ih, weight_hh (a cell), under any module prefix")

    def _candidate(self, path: Path, group: infer.NativeGroup, read, fixed, names: set[str]) -> Candidate:
        prefix = group.prefix
        w_hh = group.arrays.get("weight_hh_l0", group.arrays.get("weight_hh"))
        sketch = f"{group.form}, weight_hh {tuple(np.shape(w_hh)) if w_hh is not None else '?'}"
        where = f"{path}: {prefix}"

        def make(options: dict[str, Any]) -> Stack:
            found = infer.infer_native(group, read, where=where, options=options, fixed=fixed)
            members = tuple(prefix + name for name in group.arrays)
            return Stack(framework=self.framework, path=path, name=prefix, spec=found.spec, weights=found.weights,
                         members=members, form=group.form, evidence=found.evidence, assumed=found.assumed,
                         stored_dtype=found.stored_dtype,
                         extra={"only": len(members) == len(names)})

        aliases = (prefix.rstrip("."),) if prefix.endswith(".") else ()
        return Candidate(name=prefix, aliases=aliases, sketch=sketch, make=make)

    # --- writing -------------------------------------------------------------------------------------------------
    naming = "prefix"

    def default_name(self, source: Stack, source_format: CheckpointFormat) -> str:
        """The source's module prefix when it has one (PyTorch <-> MindSpore), else none."""
        return source.name if source_format.naming == self.naming else ""

    def encode(self, weights: CanonicalWeights, dtype: str, name: str, form: str = "layer") -> bytes:
        arrays = getattr(converters, f"to_{self.converter}")(weights)
        if form == "cell":
            arrays = {key.removesuffix("_l0"): value for key, value in arrays.items()}
        prefix = normal_prefix(name)
        return self.save({prefix + key: np.asarray(value).astype(dtype) for key, value in arrays.items()})

    # --- the user's code -----------------------------------------------------------------------------------------
    def layer_class(self, spec: LayerSpec, form: str = "layer") -> str:
        return class_names(self.framework)[spec.op] + ("Cell" if form == "cell" else "")

    def constructor(self, spec: LayerSpec, name: str = "", form: str = "layer") -> str:
        adapter = self.adapter_type()
        parameters = adapter.parameters[spec.op]
        accepted = None
        if form == "cell":  # a cell takes a subset: ask its constructor
            accepted = set(inspect.signature(self.cell_init(spec)).parameters)
        args = []
        for field, parameter in parameters.items():
            value = getattr(spec, field)
            if (field.endswith("dropout") or field == "proj_size") and not value:
                continue
            if accepted is not None and parameter not in accepted:
                continue
            args.append(f"{parameter}={value!r}")
        args += self.dtype_arguments(spec)
        return f"{self.module}.{self.layer_class(spec, form)}({', '.join(args)})"

    def cell_init(self, spec: LayerSpec):
        return getattr(importlib.import_module(self.module), self.layer_class(spec, "cell")).__init__

    def dtype_arguments(self, spec: LayerSpec) -> list[str]:
        return []

    @abstractmethod
    def load_lines(self, stack: Stack, prefix: str) -> list[str]:
        """The lines that read the file and load its arrays under ``prefix`` into ``layer``."""

    def loading_code(self, stack: Stack) -> str:
        lines = [f"layer = {self.constructor(stack.spec, stack.name, stack.form)}"]
        return "\n".join(lines + self.load_lines(stack, stack.name))

    def loaded_weights(self, namespace: dict[str, Any], stack: Stack) -> CanonicalWeights:
        arrays = self.parameters_of(namespace["layer"])
        if stack.form == "cell":
            arrays = {f"{key}_l0": value for key, value in arrays.items()}
        return getattr(converters, f"from_{self.converter}")(stack.spec, arrays)

    @abstractmethod
    def parameters_of(self, layer: Any) -> dict[str, np.ndarray]:
        """A built layer's parameters by their names within the layer, float64."""


def normal_prefix(name: str) -> str:
    """A module prefix as it precedes parameter names: empty, or ending with a dot (``encoder.rnn`` ->
    ``encoder.rnn.``); a nested container ends with ``/``."""
    name = name.strip()
    if name and not name.endswith((".", CONTAINER_SEPARATOR)):
        name += "."
    return name


def split_prefix(prefix: str) -> tuple[list[str], str]:
    """``model/encoder.rnn.`` -> (["model"], "encoder.rnn."): the container keys and the module prefix."""
    *containers, module = prefix.split(CONTAINER_SEPARATOR)
    return containers, module


def flatten(obj: Any, is_array, to_numpy, path: Path, keys: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Every array leaf of a nested mapping by name (``/`` joins container keys)."""
    out: dict[str, np.ndarray] = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            continue
        if is_array(value):
            name = CONTAINER_SEPARATOR.join((*keys, key))
            out[name] = to_numpy(value)
        elif isinstance(value, dict) and len(keys) < 4:
            out.update(flatten(value, is_array, to_numpy, path, (*keys, key)))
    return out


def require_mapping(obj: Any, path: Path, what: str) -> None:
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: holds a {type(obj).__name__}, not a {what} (a mapping of names to tensors)")
