"""The one small interface every checkpoint format implements, and choosing a stack in a scanned file.

A format reads its framework's real checkpoint files (what the framework's own save function writes), finds
the recurrent stacks in them (:class:`Scan`), writes the equivalent file for a stack, and says how a user
of its framework builds the layer and loads that file: :meth:`CheckpointFormat.loading_code` is Python
source that ``mapping convert --verify`` executes as printed, so the recipe a user copies is the one proven.

Framework facts come from the framework's adapter (its constructor-parameter and layer-class tables), never
from a second table here; the adapter's class is imported without going through the adapter registry, so a
format whose framework is not needed (Keras files are HDF5, read and written with h5py) imports none.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

from ... import frameworks
from ...errors import CheckpointError, show
from ...spec import LayerSpec
from ...weights import CanonicalWeights
from ..stack import Stack


@dataclass
class Candidate:
    """A stack a scan found, built on demand (its inference may fail; the error then names it)."""

    name: str
    #: Other names that select it (a Keras layer's group path, a prefix without its dot).
    aliases: tuple[str, ...]
    #: One line for lists: what it looks like before any inference (``LSTM? weight_hh_l0 (20, 5)``).
    sketch: str
    make: Callable[[dict[str, Any]], Stack]


@dataclass
class Scan:
    """What one file holds: its recurrent stacks, and which one is meant when the user names none."""

    path: Path
    candidates: list[Candidate]
    #: Chosen when no layer is named: the only candidate, or a Keras file that holds nothing but one stack.
    default: Candidate | None = None
    #: Builds a candidate from several names (Keras layers named in order form one stack), or None.
    compose: Callable[[list[str]], Candidate | None] | None = None
    #: What the scan looked for, for the "no recurrent layer" message.
    looked_for: str = ""
    notes: list[str] = field(default_factory=list)

    def pick(self, layer: str | None) -> Candidate:
        """The candidate ``layer`` names (or the default); CheckpointError in one line otherwise."""
        if not self.candidates:
            raise CheckpointError(f"{self.path}: no recurrent layer found (looked for {self.looked_for})")
        if layer is None:
            if self.default is not None:
                return self.default
            if len(self.candidates) == 1:
                return self.candidates[0]
            raise CheckpointError(f"{self.path}: {len(self.candidates)} recurrent layers ({self.listing()}); name one "
                                  "with --layer" + (", or several in order, comma-separated, to convert them as one "
                                                    "stack" if self.compose else ""))
        wanted = layer.strip()
        for candidate in self.candidates:
            if wanted == candidate.name or wanted in candidate.aliases:
                return candidate
        if self.compose and "," in wanted:
            composed = self.compose([part.strip() for part in wanted.split(",")])
            if composed is not None:
                return composed
        raise CheckpointError(f"{self.path}: no recurrent layer named {show(layer, 80)}; found: {self.listing()}")

    def listing(self, limit: int = 8) -> str:
        shown = [f"{c.name or '(top level)'} [{c.sketch}]" for c in self.candidates[:limit]]
        more = len(self.candidates) - limit
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


class CheckpointFormat(ABC):
    """Reading, writing and loading one framework's checkpoint files."""

    #: The framework (a :mod:`mapping.frameworks` name) whose save function writes this format.
    framework: ClassVar[str]
    #: What the file is, for messages: ``PyTorch state_dict (torch.save)``.
    description: ClassVar[str]
    #: File-name endings this format writes and recognises, lower case, the usual one first.
    suffixes: ClassVar[tuple[str, ...]]
    #: Which converters of :mod:`mapping.converters` hold its layout (``to_<converter>``, ``from_<converter>``).
    converter: ClassVar[str]

    @property
    def label(self) -> str:
        return frameworks.get(self.framework).label

    def claims(self, path: Path) -> bool:
        """Whether ``path``'s name says this format (content is checked when it is read)."""
        return path.name.lower().endswith(self.suffixes)

    @abstractmethod
    def scan(self, path: Path) -> Scan:
        """Open ``path`` and find its recurrent stacks (CheckpointError when it is not this format's file)."""

    @abstractmethod
    def encode(self, weights: CanonicalWeights, dtype: str, name: str, form: str = "layer") -> bytes:
        """The bytes of a checkpoint holding ``weights`` (in ``dtype``) under ``name`` (a prefix, or the Keras layers'
        base name), as a layer or a cell; Unsupported when this framework's layer cannot hold them."""

    #: How stacks are named: ``prefix`` (a module path before the parameter names) or ``keras`` (layer names).
    naming: ClassVar[str]

    @abstractmethod
    def default_name(self, source: Stack, source_format: "CheckpointFormat") -> str:
        """The name a converted stack gets here unless the user gives one."""

    @abstractmethod
    def constructor(self, spec: LayerSpec, name: str = "", form: str = "layer") -> str:
        """The Python expression that builds this framework's layer (or list of layers) for ``spec``."""

    @abstractmethod
    def loading_code(self, stack: Stack) -> str:
        """Python a user of this framework writes to build the layer for ``stack`` and load its file into it;
        it binds ``layer`` (for Keras, the list ``layers``)."""

    @abstractmethod
    def loaded_weights(self, namespace: dict[str, Any], stack: Stack) -> CanonicalWeights:
        """The weights the framework holds after :meth:`loading_code` ran in ``namespace``, read back through
        the framework's adapter (canonical, float64)."""

    def namespace(self) -> dict[str, Any]:
        """The modules :meth:`loading_code` uses (importing this framework)."""
        return {}

    def write_dtype(self, dtype: str) -> str:
        """The dtype a stack of ``dtype`` is written in: its own where the framework's layer runs it, else float32."""
        return dtype if dtype in self.adapter_type().dtypes else "float32"

    def holds(self, weights: CanonicalWeights) -> str | None:
        """Why this framework's layer cannot hold ``weights`` (the converter's refusal), or None. Pure NumPy."""
        from ... import converters
        from ...errors import Unsupported

        try:
            getattr(converters, f"to_{self.converter}")(weights)
        except Unsupported as exc:
            return str(exc)
        return None

    def adapter_type(self) -> type:
        """The framework adapter's class, for its tables (imports the adapter module only: no framework for Keras)."""
        module, name = frameworks.get(self.framework).adapter.split(":")
        return getattr(importlib.import_module(module), name)


def _table(framework: str) -> dict:
    """The adapter module's per-API table of classes (``_OPS``: ``lstm``, ``gru_cell``, ...) for ``framework``: the
    one place that reads it, so a change of the table's shape is a change here."""
    module = frameworks.get(framework).adapter.split(":")[0]
    return importlib.import_module(module)._OPS


def _layers(framework: str) -> dict:
    """The table's layer entries (a cell's class is the layer's name with ``Cell``: see ``NativeFormat``)."""
    return {api: entry for api, entry in _table(framework).items() if not api.endswith("_cell")}


def class_names(framework: str) -> dict[str, str]:
    """op -> the name of ``framework``'s layer class for it (``LSTM``; Keras's ``SimpleRNN``)."""
    return {op: getattr(entry, "name", entry) for op, entry in _layers(framework).items()}


def fixed_fields(framework: str, op: str) -> dict[str, Any]:
    """The spec fields ``framework``'s class for ``op`` fixes (``torch.nn.LSTM``: tanh and sigmoid); Keras: none."""
    return dict(getattr(_layers(framework)[op], "fixed", {}))
