"""The one small interface every framework adapter implements."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from ..errors import Unsupported
from ..outputs import LSTMResult, RunInputs, check_inputs
from ..reference_grad import Gradients, Upstream, check_upstream
from ..spec import LSTMSpec
from ..weights import CanonicalWeights


class Adapter(ABC):
    """Builds one framework's LSTM from a spec and canonical weights, and runs it.

    Subclasses import their framework lazily (inside methods or in their own module, which the
    registry imports only on use), so importing :mod:`mapping` never pulls a framework in.
    """

    #: Short name used in test ids, markers and reports (``torch``, ``tfkeras``, ...).
    name: ClassVar[str]
    #: Human label for reports.
    label: ClassVar[str]
    #: Module whose presence means the framework is installed.
    import_name: ClassVar[str]
    #: Distribution whose version is reported.
    distribution: ClassVar[str]
    #: dtypes this adapter can run (measured; see the adapter's docstring for why others are missing).
    dtypes: ClassVar[tuple[str, ...]] = ("float32", "float64")

    # --- discovery -------------------------------------------------------------------------------
    @classmethod
    def is_available(cls) -> bool:
        return importlib.util.find_spec(cls.import_name) is not None

    @classmethod
    def version(cls) -> str | None:
        try:
            return importlib.metadata.version(cls.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None

    # --- what can be expressed -----------------------------------------------------------------
    def unsupported_reason(self, spec: LSTMSpec) -> str | None:
        """Why this framework cannot build ``spec`` natively, or None if it can."""
        if spec.dtype not in self.dtypes:
            return f"{self.label} LSTM does not run in {spec.dtype} here"
        return self._unsupported_reason(spec)

    def _unsupported_reason(self, spec: LSTMSpec) -> str | None:
        return None

    def check_supported(self, spec: LSTMSpec) -> None:
        reason = self.unsupported_reason(spec)
        if reason:
            raise Unsupported(reason)

    # --- the work ------------------------------------------------------------------------------
    @abstractmethod
    def build(self, spec: LSTMSpec, weights: CanonicalWeights) -> Any:
        """A native model holding ``weights`` (rounded to ``spec.dtype``)."""

    @abstractmethod
    def _run(self, model: Any, spec: LSTMSpec, inputs: RunInputs, training: bool) -> LSTMResult:
        """Run ``model`` on already validated inputs; return NumPy arrays in the common convention."""

    @abstractmethod
    def export_weights(self, model: Any, spec: LSTMSpec) -> CanonicalWeights:
        """Read the model's weights back into the canonical layout."""

    def run(
        self,
        model: Any,
        spec: LSTMSpec,
        x: np.ndarray,
        initial_state: tuple[np.ndarray, np.ndarray] | None = None,
        lengths: np.ndarray | list[int] | None = None,
        *,
        training: bool = False,
    ) -> LSTMResult:
        inputs = _as_dtype(check_inputs(spec, x, initial_state, lengths), spec.dtype)
        return self._run(model, spec, inputs, training)

    def forward(
        self,
        spec: LSTMSpec,
        weights: CanonicalWeights,
        x: np.ndarray,
        initial_state: tuple[np.ndarray, np.ndarray] | None = None,
        lengths: np.ndarray | list[int] | None = None,
    ) -> LSTMResult:
        """Build and run in one call (inference mode)."""
        self.check_supported(spec)
        check_inputs(spec, x, initial_state, lengths)
        return self.run(self.build(spec, weights), spec, x, initial_state, lengths)

    # --- gradients (issue 5) ----------------------------------------------------------------------
    def gradients(
        self,
        model: Any,
        spec: LSTMSpec,
        x: np.ndarray,
        initial_state: tuple[np.ndarray, np.ndarray] | None,
        upstream: Upstream,
        *,
        lengths: np.ndarray | list[int] | None = None,
    ) -> Gradients:
        """Gradients of ``L = sum(output * G_out) + sum(h_n * G_h) + sum(c_n * G_c)`` (see
        :mod:`mapping.reference_grad`) with respect to ``x``, the initial state and every weight, computed
        by the framework's own automatic differentiation and returned in the canonical layout, float64.

        ``upstream`` holds the ``G_*`` arrays (any float dtype; they are rounded to ``spec.dtype``).
        ``h0``/``c0`` of the result are None when ``initial_state`` is None. With ``lengths``, the output
        gradient at padded steps should be zero: frameworks differ in what they output there.
        """
        inputs = check_inputs(spec, x, initial_state, lengths)
        check_upstream(spec, inputs.batch, inputs.steps, upstream)
        inputs = _as_dtype(inputs, spec.dtype)
        return self._gradients(model, spec, inputs, upstream.astype(spec.dtype))

    def _gradients(self, model: Any, spec: LSTMSpec, inputs: RunInputs, upstream: Upstream) -> Gradients:
        """Framework part of :meth:`gradients`, on validated inputs already cast to ``spec.dtype``."""
        raise NotImplementedError(f"{self.label}: gradients are not implemented by this adapter")


def _as_dtype(inputs: RunInputs, dtype: str) -> RunInputs:
    """Validated inputs with x and the initial state rounded to the spec's dtype (lengths stay integers)."""
    state = None if inputs.initial_state is None else tuple(s.astype(dtype) for s in inputs.initial_state)
    return RunInputs(x=inputs.x.astype(dtype), initial_state=state, lengths=inputs.lengths,
                     batch_first=inputs.batch_first)
