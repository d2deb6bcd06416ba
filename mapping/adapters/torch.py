"""PyTorch: ``torch.nn.LSTM``, ``GRU``, ``RNN`` and their cells. The canonical layout is PyTorch's own, so
weights load by name.

Per-sample lengths go through ``pack_padded_sequence`` (``enforce_sorted=False``), the way PyTorch users
feed right-padded batches; padded output steps come back as zeros from ``pad_packed_sequence``. A cell
(``LSTMCell``, ...) is one step: it runs in the loop over time its users write, each step's state fed to the next.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, Callable

import numpy as np
import torch

from .. import converters, frameworks, ops
from ..problem import Problem, RunResult
from ..reference import Gradients, Upstream
from ..spec import CELL_SUFFIX, LayerSpec
from ..weights import CanonicalWeights
from .base import Adapter, NativeClass, describe, flatten

_TORCH_DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}

_GATED = {"activation": "tanh", "recurrent_activation": "sigmoid"}
_ELMAN = {"activation": ("tanh", "relu")}
#: Per API: the torch.nn class and what it fixes. GRU (and GRUCell) compute the reset gate after the recurrent
#: product (Keras's reset_after=True); RNN's nonlinearity is tanh or relu.
_OPS: dict[str, NativeClass] = {
    "lstm": NativeClass("LSTM", _GATED),
    "gru": NativeClass("GRU", {**_GATED, "reset_after": True}),
    "rnn": NativeClass("RNN", choices=_ELMAN),
    "lstm_cell": NativeClass("LSTMCell", _GATED),
    "gru_cell": NativeClass("GRUCell", {**_GATED, "reset_after": True}),
    "rnn_cell": NativeClass("RNNCell", choices=_ELMAN),
}
_LAYER = {"input_size": "input_size", "hidden_size": "hidden_size", "num_layers": "num_layers", "bias": "bias",
          "batch_first": "batch_first", "bidirectional": "bidirectional"}
_CELL = {"input_size": "input_size", "hidden_size": "hidden_size", "bias": "bias"}


def _layer_constructor(api: str) -> Callable:
    """A stand-in with the signature of ``torch.nn.<API>``'s constructor: ``nn.LSTM/GRU/RNN.__init__`` are
    ``(*args, **kwargs)`` around ``RNNBase.__init__``. GRU and RNN refuse ``proj_size``; RNN takes ``nonlinearity``
    (positionally fourth, after ``num_layers``)."""
    base = inspect.signature(torch.nn.modules.rnn.RNNBase.__init__)
    params = [p for p in base.parameters.values() if not (api != "lstm" and p.name == "proj_size")]
    if api == "rnn":
        at = [p.name for p in params].index("num_layers") + 1
        params.insert(at, inspect.Parameter("nonlinearity", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="tanh"))

    def constructor(*args: Any, **kwargs: Any) -> None:
        """Stand-in carrying the signature only."""

    constructor.__signature__ = base.replace(parameters=params)  # type: ignore[attr-defined]
    return constructor


class TorchAdapter(Adapter):
    framework = frameworks.get("torch")
    length_mechanism = "pack_padded_sequence"
    parameters = {
        "lstm": {"input_size": "input_size", "hidden_size": "hidden_size", "num_layers": "num_layers",
                 "bias": "bias", "batch_first": "batch_first", "bidirectional": "bidirectional",
                 "proj_size": "proj_size", "layer_dropout": "dropout"},
        "gru": {**_LAYER, "layer_dropout": "dropout"},
        "rnn": {**_LAYER, "activation": "nonlinearity", "layer_dropout": "dropout"},
        "lstm_cell": _CELL,
        "gru_cell": _CELL,
        "rnn_cell": {**_CELL, "activation": "nonlinearity"},
    }

    def _unsupported_reason(self, spec: LayerSpec) -> str | None:
        native = _OPS[spec.api]
        refusal = native.refusal(spec, "torch.nn")
        if refusal:
            return refusal
        if spec.go_backwards:
            return f"torch.nn.{native.name} has no go_backwards (recipe: flip the input in time)"
        return None

    def layer_class(self, op: str) -> type:
        return getattr(torch.nn, _OPS[op].name)

    def constructor(self, op: str) -> Callable:
        if op.endswith("_cell"):
            return self.layer_class(op).__init__
        return _layer_constructor(op)

    def call(self, op: str) -> Callable:
        return self.layer_class(op).forward

    def seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def _call_raw(self, layer: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
        dtype = next(layer.parameters()).dtype

        def tensor(a):
            if isinstance(a, np.ndarray):
                return torch.from_numpy(np.ascontiguousarray(a)).to(dtype)
            return type(a)(tensor(v) for v in a) if isinstance(a, (tuple, list)) else a

        with torch.no_grad():
            return layer(*(tensor(a) for a in args), **{k: tensor(v) for k, v in kwargs.items()})

    def call_native(self, layer: torch.nn.Module, *args: Any, **kwargs: Any) -> list[np.ndarray]:
        """Call a built layer as a user does (NumPy arrays, or tuples of them, become tensors of the layer's
        dtype); the outputs flattened in order (output, then each final state)."""
        return [t.numpy() for t in flatten(self._call_raw(layer, *args, **kwargs))]

    def call_form(self, layer: torch.nn.Module, *args: Any, **kwargs: Any) -> str:
        return describe(self._call_raw(layer, *args, **kwargs))

    def tensor(self, value: Any, like: Any = None, dtype: str | None = None) -> Any:
        if isinstance(value, (tuple, list)):
            return type(value)(self.tensor(v, like, dtype) for v in value)
        if isinstance(value, torch.Tensor):
            return value
        a = np.ascontiguousarray(value)
        if a.dtype.kind == "f":
            target = _TORCH_DTYPES[dtype] if dtype else next(like.parameters()).dtype if like is not None else None
            t = torch.from_numpy(a)
            return t.to(target) if target is not None else t
        return torch.from_numpy(a.astype(np.int64) if a.dtype.kind in "iu" else a)  # lengths are int64

    def numpy(self, value: Any) -> np.ndarray:
        return value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)

    def fresh_layer(self, spec: LayerSpec) -> torch.nn.Module:
        self.check_supported(spec)
        options = self.constructor_arguments(spec.api, spec)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="dropout option adds dropout after all but last")
            return self.layer_class(spec.api)(**options, dtype=_TORCH_DTYPES[spec.dtype])

    def cell_loop(self, problem: Problem) -> np.ndarray:
        spec = problem.spec
        api = spec.op + CELL_SUFFIX  # built from its own parameter table: the layer's options (nonlinearity) too
        cell = self.layer_class(api)(**self.constructor_arguments(api, spec), dtype=_TORCH_DTYPES[spec.dtype])
        arrays = converters.to_torch(problem.weights)
        cell.load_state_dict({name: torch.from_numpy(arrays[f"{name}_l0"]).to(_TORCH_DTYPES[spec.dtype])
                              for name in dict(cell.named_parameters())})
        x = torch.from_numpy(np.ascontiguousarray(problem.x)).to(_TORCH_DTYPES[spec.dtype])
        steps = x.unbind(1 if spec.batch_first else 0)
        state, outputs = None, []
        with torch.no_grad():
            for x_t in steps:
                state = cell(x_t, state)
                outputs.append((state[0] if isinstance(state, tuple) else state).numpy())
        return np.stack(outputs, axis=1)

    def call_user(self, layer: torch.nn.Module, x: Any, hx: Any = None) -> list[np.ndarray]:
        x = self.tensor(x, like=layer)
        args = (x,) if hx is None else (x, self.tensor(hx, like=layer))
        with torch.no_grad():
            return [self.numpy(t) for t in flatten(layer(*args))]

    def parameters_in_order(self, model: torch.nn.Module) -> list[tuple[str, np.ndarray]]:
        return [(name, p.detach().to(torch.float64).numpy()) for name, p in model.named_parameters()]

    def assign_in_order(self, model: torch.nn.Module, arrays: list[np.ndarray]) -> None:
        with torch.no_grad():
            for p, a in zip(model.parameters(), arrays):
                p.copy_(torch.from_numpy(np.ascontiguousarray(a)))

    def build(self, spec: LayerSpec, weights: CanonicalWeights) -> torch.nn.Module:
        self.check_supported(spec)
        dtype = _TORCH_DTYPES[spec.dtype]
        options = self.constructor_arguments(spec.api, spec)
        with warnings.catch_warnings():
            # one layer with dropout: torch warns that its dropout acts between layers only; the checks measure it
            warnings.filterwarnings("ignore", message="dropout option adds dropout after all but last")
            model = self.layer_class(spec.api)(**options, dtype=dtype)
        state = {k: torch.from_numpy(v).to(dtype) for k, v in converters.to_torch(weights).items()}
        model.load_state_dict(state, strict=True)
        return model.eval()

    def _run(self, model: torch.nn.Module, problem: Problem, training: bool) -> RunResult:
        model.train(training)
        x = torch.from_numpy(np.ascontiguousarray(problem.x))
        hx = None if problem.initial_state is None else [torch.from_numpy(s) for s in problem.initial_state]
        with torch.no_grad():
            out, finals = _forward(model, problem, x, hx)
        return RunResult.of(problem.spec, out.numpy(), [f.numpy() for f in finals])

    def export_weights(self, model: torch.nn.Module, spec: LayerSpec) -> CanonicalWeights:
        state = {k: v.detach().to(torch.float64).numpy() for k, v in model.state_dict().items()}
        return converters.from_torch(spec, state)

    def _gradients(self, model: torch.nn.Module, problem: Problem, upstream: Upstream) -> Gradients:
        """Autograd on the same forward as :meth:`_run` (packed when there are lengths).

        The state-dict names are the canonical layout's, so the parameter gradients convert with
        :func:`mapping.converters.from_torch` unchanged.
        """
        spec = problem.spec
        model.eval()
        x = torch.from_numpy(np.ascontiguousarray(problem.x)).requires_grad_(True)
        hx = None
        if problem.initial_state is not None:
            hx = [torch.from_numpy(np.ascontiguousarray(s)).requires_grad_(True) for s in problem.initial_state]
        out, finals = _forward(model, problem, x, hx)
        g = {name: torch.from_numpy(np.ascontiguousarray(a)) for name, a in upstream.fields().items()}
        loss = (out * g["output"]).sum()
        for name, final in zip(ops.of(spec).final_names, finals):
            loss = loss + (final * g[name]).sum()
        names, params = zip(*model.named_parameters())
        sources = [x, *(hx or ()), *params]
        grads = torch.autograd.grad(loss, sources)
        as64 = [g.detach().to(torch.float64).numpy() for g in grads]
        dx, rest = as64[0], as64[1:]
        initial = None
        if hx is not None:
            initial = dict(zip(ops.of(spec).initial_names, rest[:len(hx)]))
            rest = rest[len(hx):]
        return Gradients(x=dx, initial=initial, weights=converters.from_torch(spec, dict(zip(names, rest))))


def _forward(model: torch.nn.Module, problem: Problem, x: torch.Tensor, hx: list | None
             ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """The forward call users write: plain, or through a packed sequence when lengths are given, or a cell's loop.

    ``hx`` is the initial state in the op's order (a tuple for LSTM, one tensor otherwise, as torch takes it);
    the final states come back in the op's order.
    """
    spec = problem.spec
    if spec.form == "cell":
        return _cell_loop(model, spec, x, hx)
    state: Any = None if hx is None else (tuple(hx) if len(hx) > 1 else hx[0])
    if problem.lengths is None:
        out, finals = model(x, state)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            x, torch.from_numpy(problem.lengths), batch_first=spec.batch_first, enforce_sorted=False
        )
        packed_out, finals = model(packed, state)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=spec.batch_first,
                                                        total_length=problem.steps)
    return out, (tuple(finals) if isinstance(finals, tuple) else (finals,))


def _cell_loop(cell: torch.nn.Module, spec: LayerSpec, x: torch.Tensor, hx: list | None
               ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """What a user of ``nn.LSTMCell``/``GRUCell``/``RNNCell`` writes: one call per step, each step's state fed to
    the next (``None`` at the first step means zeros); the outputs stacked along the time axis, the last state
    returned as ``(1, batch, size)`` like a one-layer layer's."""
    axis = 1 if spec.batch_first else 0
    state: Any = None if hx is None else (tuple(s[0] for s in hx) if len(hx) > 1 else hx[0][0])
    outputs = []
    for t in range(x.shape[axis]):
        state = cell(x.select(axis, t), state)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    finals = state if isinstance(state, tuple) else (state,)
    return torch.stack(outputs, dim=axis), tuple(f.unsqueeze(0) for f in finals)
