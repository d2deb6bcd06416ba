"""The one small interface every framework adapter implements.

An adapter builds its framework's layer from a spec and canonical weights, runs it on a
:class:`~mapping.problem.Problem`, differentiates it, reads its weights back, and answers what the checks
need to know about the framework (constructor and call signatures, seeding, the one-layer native layer a
user writes by hand, how padded batches are fed). Checks ask the adapter; they never branch on a
framework's name.

Subclasses import their framework lazily (their module is imported only on first use through
:func:`mapping.adapters.get_adapter`), so importing :mod:`mapping` never pulls a framework in.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterator

import numpy as np

from .. import frameworks
from ..errors import Unsupported
from ..problem import Problem, RunResult
from ..reference import Gradients, Upstream, check_upstream
from ..spec import LayerSpec
from ..weights import CanonicalWeights


@dataclass(frozen=True)
class NativeClass:
    """The class a framework offers for one API (an op, or its cell), and what of the spec it cannot change."""

    #: The class's name in the framework's module (``GRU``, ``GRUCell``, ``SimpleRNN``).
    name: str
    #: Spec field -> the only value the class computes (PyTorch's GRU has its reset gate after the product).
    fixed: dict[str, Any] = field(default_factory=dict)
    #: Spec field -> the values the class's parameter for it accepts (PyTorch's RNN: tanh or relu).
    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def refusal(self, spec: LayerSpec, module: str) -> str | None:
        """Why ``module.<name>`` cannot compute ``spec``, or None."""
        for spec_field, value in self.fixed.items():
            if getattr(spec, spec_field) != value:
                return f"{module}.{self.name} has {spec_field} fixed to {value!r} (got {getattr(spec, spec_field)!r})"
        for spec_field, values in self.choices.items():
            if getattr(spec, spec_field) not in values:
                return (f"{module}.{self.name} takes {spec_field} in {', '.join(map(repr, values))} "
                        f"(got {getattr(spec, spec_field)!r})")
        return None


class Adapter(ABC):
    """Builds one framework's recurrent layer from a spec and canonical weights, and runs it."""

    #: The registry entry (:mod:`mapping.frameworks`) this adapter implements.
    framework: ClassVar[frameworks.Framework]
    #: dtypes this adapter can run (measured; see the adapter's docstring for why others are missing).
    dtypes: ClassVar[tuple[str, ...]] = ("float32", "float64")
    #: How a user of this framework feeds a right-padded batch (named in reports and details).
    length_mechanism: ClassVar[str]
    #: Per API (an op, ``gru``, or its cell, ``gru_cell``): spec field -> the framework's constructor parameter for
    #: it (what a page's row names).
    parameters: ClassVar[dict[str, dict[str, str]]]

    @property
    def name(self) -> str:
        return self.framework.name

    @property
    def label(self) -> str:
        return self.framework.label

    @classmethod
    def version(cls) -> str | None:
        return cls.framework.version()

    # --- what can be expressed -----------------------------------------------------------------
    def unsupported_reason(self, spec: LayerSpec) -> str | None:
        """Why this framework cannot build ``spec`` natively, or None if it can."""
        if spec.dtype not in self.dtypes:
            return f"{self.label} {spec.op.upper()} does not run in {spec.dtype} here"
        if spec.api not in self.parameters:
            return f"{self.label}: no adapter for {spec.api}"
        for name in ("input_dropout", "recurrent_dropout", "layer_dropout"):
            if getattr(spec, name) and name not in self.parameters[spec.api]:
                return f"{self.label} {spec.op.upper()} has no counterpart of {name}"
        return self._unsupported_reason(spec)

    def _unsupported_reason(self, spec: LayerSpec) -> str | None:
        return None

    def check_supported(self, spec: LayerSpec) -> None:
        reason = self.unsupported_reason(spec)
        if reason:
            raise Unsupported(reason)

    # --- the work ------------------------------------------------------------------------------
    @abstractmethod
    def build(self, spec: LayerSpec, weights: CanonicalWeights) -> Any:
        """A native model holding ``weights`` (rounded to ``spec.dtype``), in inference mode."""

    @abstractmethod
    def _run(self, model: Any, problem: Problem, training: bool) -> RunResult:
        """Run ``model`` on a validated problem already cast to the spec's dtype; NumPy results."""

    @abstractmethod
    def export_weights(self, model: Any, spec: LayerSpec) -> CanonicalWeights:
        """Read the model's weights back into the canonical layout."""

    def run(self, model: Any, problem: Problem, *, training: bool = False) -> RunResult:
        """Run a built model on ``problem`` (its weights are the model's own; ``problem.weights`` is not read)."""
        return self._run(model, problem.validated().cast(problem.spec.dtype), training)

    def run_unchecked(self, model: Any, problem: Problem) -> RunResult:
        """Run without the harness's own validation of ``problem`` (inference mode): for probes of what the
        framework itself does with input the harness refuses (a length of zero)."""
        return self._run(model, problem.cast(problem.spec.dtype), False)

    def run_masked(self, model: Any, problem: Problem, mask: Any) -> RunResult:
        """Run with an arbitrary ``(batch, time)`` boolean mask of real steps (left padding, holes) instead of
        ``problem.lengths``. Frameworks whose only mechanism is a length per sample (right padding) refuse."""
        raise Unsupported(f"{self.label} takes a length per sample ({self.length_mechanism}): right padding only")

    def forward(self, problem: Problem) -> RunResult:
        """Build ``problem``'s layer and run it in one call (inference mode)."""
        self.check_supported(problem.spec)
        problem = problem.validated()
        return self.run(self.build(problem.spec, problem.weights), problem)

    def gradients(self, model: Any, problem: Problem, upstream: Upstream) -> Gradients:
        """Gradients of ``L = sum(output * G_output) + sum over states of sum(state_n * G_state_n)`` (see
        :mod:`mapping.reference.backward`) with respect to ``x``, the initial state and every weight, computed
        by the framework's own automatic differentiation and returned in the canonical layout, float64.

        ``upstream`` holds the ``G`` arrays (any float dtype; they are rounded to ``spec.dtype``).
        ``initial`` of the result is None when ``problem.initial_state`` is None. With lengths, the output
        gradient at padded steps should be zero: frameworks differ in what they output there.
        """
        problem = problem.validated()
        check_upstream(problem, upstream)
        return self._gradients(model, problem.cast(problem.spec.dtype), upstream.astype(problem.spec.dtype))

    def _gradients(self, model: Any, problem: Problem, upstream: Upstream) -> Gradients:
        """Framework part of :meth:`gradients`, on a validated problem already cast to ``spec.dtype``."""
        raise NotImplementedError(f"{self.label}: gradients are not implemented by this adapter")

    # --- what the checks ask about the framework ---------------------------------------------------
    @abstractmethod
    def layer_class(self, op: str) -> type:
        """The class users build for ``op`` (``torch.nn.LSTM``, ``keras.layers.LSTM``, ...)."""

    def construct(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """The op's layer constructed exactly as a user writes it (no weights set, nothing checked)."""
        return self.layer_class(op)(*args, **kwargs)

    @abstractmethod
    def constructor(self, op: str) -> Callable:
        """The function whose signature is the op's constructor (``__init__`` of the class users build)."""

    @abstractmethod
    def call(self, op: str) -> Callable:
        """The function whose signature is how the op's layer is called (``forward``, ``call``, ``construct``)."""

    def constructor_parameters(self, op: str = "lstm") -> dict[str, Any]:
        """Keyword parameters of the op's constructor, with their defaults (None where there is none)."""
        params = inspect.signature(self.constructor(op)).parameters
        return {
            n: (None if p.default is inspect.Parameter.empty else p.default)
            for n, p in params.items()
            if n not in ("self", "mode") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }

    def call_parameters(self, op: str = "lstm") -> list[str]:
        """Names of the arguments the op's layer is called with."""
        return [n for n in inspect.signature(self.call(op)).parameters if n != "self"]

    def field_for(self, op: str, parameter: str) -> str | None:
        """The spec field a constructor parameter of this framework sets, or None."""
        return next((f for f, p in self.parameters.get(op, {}).items() if p == parameter), None)

    def constructor_arguments(self, api: str, spec: LayerSpec, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """``spec``'s values for the constructor of ``api`` (a layer or its cell), keyed by this framework's parameter
        names (the ``parameters`` table); the spec fields in ``skip`` are left out."""
        return {p: getattr(spec, f) for f, p in self.parameters[api].items() if f not in skip}

    @abstractmethod
    def seed(self, seed: int) -> None:
        """Seed the framework's global random state (dropout masks, initialisers)."""

    @contextmanager
    def seeded(self, seed: int) -> Iterator[None]:
        """Seeded for the duration of the block; global state the framework borrows is given back after."""
        self.seed(seed)
        yield

    def mode_text(self, training: bool) -> str:
        """How a user of this framework switches training mode, e.g. ``train(True)``."""
        return f"train({training})"

    def native_layer(self, spec: LayerSpec, weights: CanonicalWeights | None = None, *, batch: int | None = None,
                     infer_input: bool = False, **options: Any) -> Any:
        """The framework's own one-layer, one-direction layer for ``spec`` with extra constructor ``options``
        (what a user writes by hand: ``return_sequences=False``, ``stateful=True``), holding ``weights``.

        ``batch`` fixes the batch size (stateful layers need it); with ``infer_input`` the layer is left to
        infer its input size from the first call, as a user's would.
        """
        raise NotImplementedError(f"{self.label}: no hand-built native layer in this adapter")

    def native_weights(self, layer: Any) -> list[Any]:
        """A :meth:`native_layer`'s weights as NumPy arrays, in the framework's own order and layout."""
        raise NotImplementedError(f"{self.label}: no hand-built native layer in this adapter")

    def call_native(self, layer: Any, *args: Any, **kwargs: Any) -> list[Any]:
        """Call a built layer (from :meth:`build` or :meth:`native_layer`) the way a user does: NumPy arrays, and
        tuples or lists of them, become the framework's tensors of the layer's dtype; the outputs come back as
        NumPy arrays, flattened in order (the output, then each final state)."""
        raise NotImplementedError(f"{self.label}: calling a native layer is not implemented by this adapter")

    # --- what recipes and probes are handed ----------------------------------------------------------
    def tensor(self, value: Any, like: Any = None, dtype: str | None = None) -> Any:
        """``value`` as this framework's tensor, the way a user makes one: a floating array in ``dtype``, else in
        the dtype of ``like`` (a built layer), else in its own; an integer array in the dtype the framework takes
        lengths in; booleans as booleans. Tuples and lists are converted element-wise and keep their type."""
        raise NotImplementedError(f"{self.label}: tensors are not implemented by this adapter")

    def numpy(self, value: Any) -> np.ndarray:
        """A tensor (or anything array-like) as a NumPy array, in the tensor's own dtype."""
        return np.asarray(value)

    def user_layer(self, spec: LayerSpec, weights: CanonicalWeights) -> Any:
        """The layer a user of this framework holds for ``spec``, with ``weights``: what a recipe is handed.
        :class:`~mapping.errors.Unsupported` where one layer object cannot express the spec."""
        return self.build(spec, weights)

    def fresh_layer(self, spec: LayerSpec) -> Any:
        """The layer a user gets from the constructor alone for ``spec`` (the framework's own initial weights,
        its own starting mode), callable with :meth:`call_user`; its weights read with :meth:`export_weights`."""
        raise NotImplementedError(f"{self.label}: a freshly built layer is not implemented by this adapter")

    def cell_loop(self, problem: Problem) -> np.ndarray:
        """The framework's one-step cell class (its lower-level API), holding layer 0's forward weights of
        ``problem`` and stepped over time by hand from zero states, as a user who needs what the layer lacks
        (a projection, another activation, a recurrent dropout) writes it; the outputs, (batch, time, hidden).
        :class:`~mapping.errors.Unsupported` where the framework has no such cell."""
        raise Unsupported(f"{self.label}: no one-step cell class")

    def call_user(self, layer: Any, x: Any, hx: Any = None) -> list[np.ndarray]:
        """Call a :meth:`user_layer` the way its users do: ``x`` and the initial state ``hx`` (None, or a tuple or
        list of the op's states, each ``(layers * directions, batch, size)``; the container is passed on as given)
        as NumPy arrays (converted to the layer's dtype) or as this framework's tensors (passed as they are). The
        outputs come back as NumPy arrays in their own dtype, flattened (output, then each final state)."""
        raise NotImplementedError(f"{self.label}: calling a user's layer is not implemented by this adapter")

    def parameters_in_order(self, model: Any) -> list[tuple[str, np.ndarray]]:
        """The model's parameters as the framework enumerates them (what a positional weight copy walks
        through): ``(name, array)`` pairs, in the framework's own order, names and layouts."""
        raise NotImplementedError(f"{self.label}: parameter enumeration is not implemented by this adapter")

    def assign_in_order(self, model: Any, arrays: list[np.ndarray]) -> None:
        """Assign ``arrays`` to the model's parameters by position, in :meth:`parameters_in_order` order, the way a
        user's positional copy does (each framework's own assignment: its checks, or none)."""
        raise NotImplementedError(f"{self.label}: positional assignment is not implemented by this adapter")

    def call_form(self, layer: Any, *args: Any, **kwargs: Any) -> str:
        """What one call of a built layer returns, as its user unpacks it: ``(tensor (3, 4), tensor (3, 4))``
        (see :func:`describe`). Same arguments as :meth:`call_native`."""
        raise NotImplementedError(f"{self.label}: describing a call's result is not implemented by this adapter")


def describe(value: Any) -> str:
    """The nesting of a call's result, with each tensor's shape: ``(tensor (3, 4), (tensor (1, 3, 4),))``."""
    if isinstance(value, (tuple, list)):
        inner = ", ".join(describe(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return f"tensor {tuple(value.shape)}"


def flatten(value: Any) -> list:
    """Nested tuples and lists of outputs, flattened in order: ``(out, (h, c))`` -> ``[out, h, c]``."""
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in flatten(v)]
    return [value]
