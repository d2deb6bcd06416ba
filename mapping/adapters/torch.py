"""PyTorch: ``torch.nn.LSTM``. The canonical layout is PyTorch's own, so weights load by name.

Per-sample lengths go through ``pack_padded_sequence`` (``enforce_sorted=False``), the way PyTorch users
feed right-padded batches; padded output steps come back as zeros from ``pad_packed_sequence``.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import torch

from .. import converters, frameworks, ops
from ..problem import Problem, RunResult
from ..reference import Gradients, Upstream
from ..spec import LayerSpec
from ..weights import CanonicalWeights
from .base import Adapter, flatten

_TORCH_DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}

#: Per op: the torch.nn class, and the activations it is fixed to (spec field -> value).
_OPS: dict[str, tuple[str, dict[str, str]]] = {
    "lstm": ("LSTM", {"activation": "tanh", "recurrent_activation": "sigmoid"}),
}


class TorchAdapter(Adapter):
    framework = frameworks.get("torch")
    length_mechanism = "pack_padded_sequence"
    parameters = {
        "lstm": {"input_size": "input_size", "hidden_size": "hidden_size", "num_layers": "num_layers",
                 "bias": "bias", "batch_first": "batch_first", "bidirectional": "bidirectional",
                 "proj_size": "proj_size", "layer_dropout": "dropout"},
    }

    def _unsupported_reason(self, spec: LayerSpec) -> str | None:
        cls, fixed = _OPS[spec.op]
        if any(getattr(spec, field) != value for field, value in fixed.items()):
            return f"torch.nn.{cls} has fixed activations ({', '.join(fixed.values())})"
        if spec.go_backwards:
            return f"torch.nn.{cls} has no go_backwards (recipe: flip the input in time)"
        return None

    def layer_class(self, op: str) -> type:
        return getattr(torch.nn, _OPS[op][0])

    def constructor(self, op: str) -> Callable:
        return torch.nn.modules.rnn.RNNBase.__init__  # nn.LSTM.__init__ is (*args, **kwargs)

    def call(self, op: str) -> Callable:
        return self.layer_class(op).forward

    def seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def call_native(self, layer: torch.nn.Module, *args: Any, **kwargs: Any) -> list[np.ndarray]:
        """Call a built layer as a user does (NumPy arrays, or tuples of them, become tensors of the layer's
        dtype); the outputs flattened in order (output, then each final state)."""
        dtype = next(layer.parameters()).dtype

        def tensor(a):
            if isinstance(a, np.ndarray):
                return torch.from_numpy(np.ascontiguousarray(a)).to(dtype)
            return type(a)(tensor(v) for v in a) if isinstance(a, (tuple, list)) else a

        with torch.no_grad():
            out = layer(*(tensor(a) for a in args), **{k: tensor(v) for k, v in kwargs.items()})
        return [t.numpy() for t in flatten(out)]

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
        options = {self.parameters[spec.op][f]: getattr(spec, f) for f in self.parameters[spec.op]}
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="dropout option adds dropout after all but last")
            return self.layer_class(spec.op)(**options, dtype=_TORCH_DTYPES[spec.dtype])

    def cell_loop(self, problem: Problem) -> np.ndarray:
        spec = problem.spec
        cell = getattr(torch.nn, f"{_OPS[spec.op][0]}Cell")(spec.input_size, spec.hidden_size, bias=spec.bias,
                                                              dtype=_TORCH_DTYPES[spec.dtype])
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
        options = {self.parameters[spec.op][f]: getattr(spec, f) for f in self.parameters[spec.op]}
        with warnings.catch_warnings():
            # one layer with dropout: torch warns that its dropout acts between layers only; the checks measure it
            warnings.filterwarnings("ignore", message="dropout option adds dropout after all but last")
            model = self.layer_class(spec.op)(**options, dtype=dtype)
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
    """The forward call users write: plain, or through a packed sequence when lengths are given.

    ``hx`` is the initial state in the op's order (a tuple for LSTM, one tensor otherwise, as torch takes it);
    the final states come back in the op's order.
    """
    spec = problem.spec
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
