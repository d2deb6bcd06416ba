"""Reading a stack from one checkpoint and making the other framework's checkpoint for it.

:func:`read_stack` opens a file in its format, picks the stack (the one named, or the only one) and infers
its configuration. :func:`plan` makes the target file's bytes in memory, after refusing what the target
cannot hold (with the reason and the nearest alternative: the targets that can, and the suite's recipe for
the missing feature) and after reading those bytes back with the target's own reader: the written file
must hold the same numbers, in the target's layout, as the source. :func:`write` puts the bytes in place
atomically and refuses to replace an existing file unless told to.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import atomic, converters, frameworks
from ..errors import CheckpointError, MappingError, UsageError
from ..weights import CanonicalWeights, random_weights
from . import caveats as caveat_data
from . import formats
from .formats.base import CheckpointFormat
from .stack import Stack


class Refusal(MappingError):
    """The target framework cannot hold this stack: nothing is written. The message gives the reason and the
    nearest alternatives."""


def read_stack(path: Path | str, *, framework: str | None = None, layer: str | None = None,
               options: dict[str, Any] | None = None) -> tuple[Stack, CheckpointFormat]:
    """The stack ``layer`` names in ``path`` (or its only one), with its inferred configuration."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    fmt = formats.for_framework(framework) if framework else formats.for_path(path, role="source")
    stack = fmt.scan(path).pick(layer).make(dict(options or {}))
    return stack, fmt


@dataclass
class Plan:
    """A conversion worked out in memory: the target file's bytes, and the stack they hold."""

    source: Stack
    source_format: CheckpointFormat
    target_format: CheckpointFormat
    target_path: Path
    #: The target's name for the stack (module prefix, or Keras layer names) and the stack as read back.
    target_name: str
    target: Stack
    data: bytes
    notes: list[str] = field(default_factory=list)


def plan(source: Stack, source_format: CheckpointFormat, target_path: Path | str, *, to: str | None = None,
         name: str | None = None, cases: caveat_data.CaseSource | None = None) -> Plan:
    """The target file for ``source``, as bytes, checked by reading them back; Refusal when the target cannot
    hold the stack."""
    target_path = Path(target_path)
    target_format = formats.for_framework(to) if to else formats.for_path(target_path, role="target")
    if not target_path.name.lower().endswith(target_format.suffixes):
        raise UsageError(f"{target_path}: a {target_format.description} must be named *{target_format.suffixes[0]}"
                         + (" (Keras 3 loads weights only from files so named)" if target_format.naming == "keras"
                            and target_format.suffixes[0] == ".weights.h5" else ""))
    notes = []
    dtype = target_format.write_dtype(source.spec.dtype)
    if dtype != source.spec.dtype:
        notes.append(f"written in {dtype}: {target_format.label}'s layer runs {dtype} only here (the source is "
                     f"{source.stored_dtype})")
    elif source.stored_dtype != dtype:
        notes.append(f"written in {dtype} (the source stores {source.stored_dtype})")
    spec = source.spec.replace(dtype=dtype)
    weights = CanonicalWeights(spec=spec, cells=source.weights.cells)
    refusal = target_format.holds(weights) or target_format.adapter_type()().unsupported_reason(spec)
    if refusal:
        raise Refusal(refusal_message(source, source_format, target_format, refusal, cases))
    form = source.form
    if form == "cell" and target_format.naming != "prefix":
        form = "layer"
        notes.append(f"{target_format.label} has no stored cell form here: written as a one-layer "
                     f"{source.op.label} layer, whose cell holds the same weights")
    if name is None:
        name = target_format.default_name(source, source_format)
    data = target_format.encode(weights, dtype, name, form)
    target = read_back(target_format, data, target_path, name, source, form)
    return Plan(source=source, source_format=source_format, target_format=target_format, target_path=target_path,
                target_name=name, target=target, data=data, notes=notes)


def read_back(target_format: CheckpointFormat, data: bytes, target_path: Path, name: str, source: Stack,
              form: str) -> Stack:
    """The stack the target bytes hold, read with the target's own reader from a scratch copy: it must have the
    source's configuration and, in the target's layout, the source's numbers (rounded to the written dtype)."""
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder) / target_path.name
        scratch.write_bytes(data)
        scan = target_format.scan(scratch)
        options = {k: getattr(source.spec, k) for k in type(source.spec).model_fields
                   if k not in ("op", "input_size", "hidden_size", "num_layers", "bidirectional", "bias", "dtype",
                                "proj_size")}
        chosen = scan.pick(_selector(target_format, name, source))
        target = chosen.make(options)
    expected = source.spec.replace(dtype=target.spec.dtype)
    if target.spec != expected:
        raise CheckpointError(f"{target_path}: the written file reads back as {target.summary()}, not as "
                              f"{source.summary()}: nothing was written")
    mine = _layout(target_format, target.weights)
    theirs = _layout(target_format, CanonicalWeights(spec=target.spec, cells=source.weights.cells))
    for key, arrays in theirs.items():
        got = mine[key]
        rounded = np.asarray(arrays).astype(target.spec.dtype).astype(np.float64)
        if np.shape(got) != np.shape(rounded) or not np.array_equal(np.asarray(got, np.float64), rounded):
            raise CheckpointError(f"{target_path}: the written file does not hold the source's {key}: nothing was "
                                  "written")
    return target.replace(path=target_path, form=form)


def _selector(target_format: CheckpointFormat, name: str, source: Stack) -> str | None:
    """How the freshly written file names its stack: its prefix, or its Keras layers."""
    if target_format.naming == "prefix":
        from .formats.native import normal_prefix

        return normal_prefix(name)
    return ",".join(target_format.layer_names(source.spec, name))


def _layout(target_format: CheckpointFormat, weights: CanonicalWeights) -> dict[str, Any]:
    """The weights in the target's own layout, flat: what its file stores."""
    native = getattr(converters, f"to_{target_format.converter}")(weights)
    if isinstance(next(iter(native)), tuple):  # Keras: (layer, direction) -> arrays
        return {f"layer {k[0]} direction {k[1]} array {i}": a for k, arrays in native.items() for i, a in enumerate(arrays)}
    return native


def refusal_message(source: Stack, source_format: CheckpointFormat, target_format: CheckpointFormat, reason: str,
                    cases: caveat_data.CaseSource | None) -> str:
    """The reason, the targets that can hold the stack, and the suite's recipe for the missing feature."""
    able = []
    for fmt in formats.FORMATS.values():
        if fmt is target_format or fmt is source_format:  # the source's own framework holds it: no news
            continue
        spec = source.spec.replace(dtype=fmt.write_dtype(source.spec.dtype))
        weights = CanonicalWeights(spec=spec, cells=source.weights.cells)
        if fmt.holds(weights) is None and (fmt.naming == "keras" or fmt is source_format
                                           or fmt.adapter_type()().unsupported_reason(spec) is None):
            able.append(fmt.label)
    message = (f"cannot convert {source.summary()} to {target_format.label}: {reason}. Nothing was written. "
               f"Nearest alternative: " + (f"convert to {' or '.join(able)}, which can hold it" if able else
                                           f"no other framework here holds it as it is (keep it in "
                                           f"{source_format.label})"))
    culprit = _culprit(source, target_format)
    if culprit and cases is not None:
        recipes = caveat_data.recipes_for_field(culprit, source.framework, target_format.framework, source.spec.op,
                                                cases)
        for where, recipe in recipes[:1]:
            message += f"; the suite's recipe ({where}): {' '.join(recipe.split())}"
    return message


def _culprit(source: Stack, target_format: CheckpointFormat) -> str | None:
    """The op field whose value the target cannot hold: the one that, set to its default, lets it."""
    spec_class = type(source.spec)
    for name, info in spec_class.model_fields.items():
        if getattr(source.spec, name) == info.default or name in ("op", "dtype"):
            continue
        try:  # weights of the right shapes: their values do not matter to a converter's refusal
            weights = random_weights(source.spec.replace(**{name: info.default}), seed=0)
        except (ValueError, MappingError):
            continue
        if target_format.holds(weights) is None:
            return name
    return None


def write(plan_: Plan, *, overwrite: bool = False) -> Path:
    """Write the planned file atomically; UsageError if it exists (unless ``overwrite``) or is the source."""
    target = plan_.target_path
    atomic.refuse_overwriting(target, [plan_.source.path], what="target")
    if target.exists() and not overwrite:
        raise UsageError(f"{target}: exists; refusing to replace it (give --overwrite to replace it)")
    return atomic.write_bytes(target, plan_.data)


def label(framework: str) -> str:
    return frameworks.get(framework).label
