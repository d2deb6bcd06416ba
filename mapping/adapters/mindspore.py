"""MindSpore: ``mindspore.nn.LSTM``, ``GRU``, ``RNN`` and their cells. PyTorch's parameter names and layout; no
projection, fixed activations (RNN: tanh or relu).

Runs in PyNative mode on the CPU. Per-sample lengths go in as ``seq_length`` (int32), MindSpore's own
mechanism for right-padded batches. A cell is one step, run in the user's loop over time; unlike PyTorch's, a
MindSpore cell needs its state at every call (no default of zeros).

On the CPU, ``nn.GRU`` and ``nn.RNN`` always run a Python loop over ``ops`` (``_DynamicRNNBase``), and so do the
cells: every path but ``nn.LSTM``'s fused kernel uses the approximate CPU ``ops.Tanh`` (see tolerances.yaml).
"""

from __future__ import annotations

import inspect
import os
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np

os.environ.setdefault("GLOG_v", "3")  # MindSpore logs warnings at import otherwise

import mindspore  # noqa: E402
from mindspore import Tensor, nn  # noqa: E402

from .. import converters, frameworks, ops  # noqa: E402
from ..problem import Problem, RunResult  # noqa: E402
from ..reference import Gradients, Upstream  # noqa: E402
from ..spec import CELL_SUFFIX, LayerSpec  # noqa: E402
from ..weights import CanonicalWeights  # noqa: E402
from .base import Adapter, NativeClass, describe, flatten  # noqa: E402

mindspore.set_context(mode=mindspore.PYNATIVE_MODE)
mindspore.set_device("CPU")
# PyNative runs ops asynchronously by default: an op that fails raises at its call, and now and then the same error
# is raised a second time at the next synchronisation point, inside whatever later and unrelated call reaches one
# first (measured with MindSpore 2.10.0: 3 in 900 calls of a layer whose positional weight copy had given a bias
# the shape of a weight; the echo failed an unrelated case). Synchronous launches keep each error with the call that
# caused it, and on these small CPU problems they are not slower (900 such calls: 12.5 s against 22.9 s).
mindspore.runtime.launch_blocking()

_MS_DTYPES = {"float16": mindspore.float16, "float32": mindspore.float32, "float64": mindspore.float64}

_GATED = {"activation": "tanh", "recurrent_activation": "sigmoid"}
_ELMAN = {"activation": ("tanh", "relu")}
#: Per API: the mindspore.nn class and what it fixes (as PyTorch's: GRU's reset gate after the recurrent product).
_OPS: dict[str, NativeClass] = {
    "lstm": NativeClass("LSTM", _GATED),
    "gru": NativeClass("GRU", {**_GATED, "reset_after": True}),
    "rnn": NativeClass("RNN", choices=_ELMAN),
    "lstm_cell": NativeClass("LSTMCell", _GATED),
    "gru_cell": NativeClass("GRUCell", {**_GATED, "reset_after": True}),
    "rnn_cell": NativeClass("RNNCell", choices=_ELMAN),
}
_LAYER = {"input_size": "input_size", "hidden_size": "hidden_size", "num_layers": "num_layers", "bias": "has_bias",
          "batch_first": "batch_first", "bidirectional": "bidirectional", "layer_dropout": "dropout"}
_CELL = {"input_size": "input_size", "hidden_size": "hidden_size", "bias": "has_bias"}


class MindSporeAdapter(Adapter):
    framework = frameworks.get("mindspore")
    # ops.LSTM (the CPU kernel behind nn.LSTM) rejects float64: "the element of 'x' must be one of
    # Float32, Float16" (measured with MindSpore 2.10.0); hx is checked the same way.
    dtypes = ("float32",)
    length_mechanism = "seq_length"
    parameters = {
        "lstm": _LAYER,
        "gru": _LAYER,
        "rnn": {**_LAYER, "activation": "nonlinearity"},
        "lstm_cell": _CELL,
        "gru_cell": _CELL,
        "rnn_cell": {**_CELL, "activation": "nonlinearity"},
    }

    def _unsupported_reason(self, spec: LayerSpec) -> str | None:
        native = _OPS[spec.api]
        refusal = native.refusal(spec, "mindspore.nn")
        if refusal:
            return refusal
        if spec.go_backwards:
            return f"mindspore.nn.{native.name} has no go_backwards (recipe: flip the input in time)"
        if getattr(spec, "proj_size", 0):
            return f"mindspore.nn.{native.name} has no proj_size"
        return None

    def layer_class(self, op: str) -> type:
        return getattr(nn, _OPS[op].name)

    def constructor(self, op: str) -> Callable:
        if op.endswith("_cell"):
            return self.layer_class(op).__init__
        from mindspore.nn.layer.rnns import (
            _RNNBase,  # nn.LSTM/GRU/RNN.__init__ are (*args, **kwargs)
        )

        if op != "rnn":
            return _RNNBase.__init__
        # nn.RNN pops `nonlinearity` from its keyword arguments before calling _RNNBase: keyword only
        base = inspect.signature(_RNNBase.__init__)
        params = list(base.parameters.values()) + [
            inspect.Parameter("nonlinearity", inspect.Parameter.KEYWORD_ONLY, default="tanh")]

        def constructor(*args: Any, **kwargs: Any) -> None:
            """Stand-in carrying the signature only."""

        constructor.__signature__ = base.replace(parameters=params)  # type: ignore[attr-defined]
        return constructor

    def call(self, op: str) -> Callable:
        return self.layer_class(op).construct

    def seed(self, seed: int) -> None:
        mindspore.set_seed(seed)

    @contextmanager
    def seeded(self, seed: int) -> Iterator[None]:
        """nn.LSTM draws its initial weights with NumPy's global generator: seed it too, and give the caller's
        state back afterwards."""
        saved = np.random.get_state()
        np.random.seed(seed)
        mindspore.set_seed(seed)
        try:
            yield
        finally:
            np.random.set_state(saved)

    def mode_text(self, training: bool) -> str:
        return f"set_train({training})"

    def _call_raw(self, layer: nn.Cell, *args: Any, **kwargs: Any) -> Any:
        dtype = layer.trainable_params()[0].dtype

        def tensor(a):
            if isinstance(a, np.ndarray):
                return Tensor(a, dtype=dtype)
            return type(a)(tensor(v) for v in a) if isinstance(a, (tuple, list)) else a

        return layer(*(tensor(a) for a in args), **{k: tensor(v) for k, v in kwargs.items()})

    def call_native(self, layer: nn.Cell, *args: Any, **kwargs: Any) -> list[np.ndarray]:
        """Call a built layer as a user does (NumPy arrays, or tuples of them, become tensors of the layer's
        dtype); the outputs flattened in order (output, then each final state)."""
        return [t.asnumpy() for t in flatten(self._call_raw(layer, *args, **kwargs))]

    def call_form(self, layer: nn.Cell, *args: Any, **kwargs: Any) -> str:
        return describe(self._call_raw(layer, *args, **kwargs))

    def tensor(self, value: Any, like: Any = None, dtype: str | None = None) -> Any:
        if isinstance(value, (tuple, list)):
            return type(value)(self.tensor(v, like, dtype) for v in value)
        if isinstance(value, Tensor):
            return value
        a = np.asarray(value)
        if a.dtype.kind == "f":
            target = (_MS_DTYPES[dtype] if dtype else like.trainable_params()[0].dtype if like is not None
                      else _MS_DTYPES.get(a.dtype.name, mindspore.float32))
            return Tensor(a, dtype=target)
        return Tensor(a.astype(np.int32) if a.dtype.kind in "iu" else a)  # seq_length: int32

    def numpy(self, value: Any) -> np.ndarray:
        return value.asnumpy() if isinstance(value, Tensor) else np.asarray(value)

    def fresh_layer(self, spec: LayerSpec) -> nn.Cell:
        self.check_supported(spec)
        return self.layer_class(spec.api)(**self.constructor_arguments(spec.api, spec), dtype=_MS_DTYPES[spec.dtype])

    def cell_loop(self, problem: Problem) -> np.ndarray:
        spec = problem.spec
        dtype = _MS_DTYPES[spec.dtype]
        api = spec.op + CELL_SUFFIX  # built from its own parameter table: the layer's options (nonlinearity) too
        cell = self.layer_class(api)(**self.constructor_arguments(api, spec), dtype=dtype)
        arrays = converters.to_mindspore(problem.weights)
        for param in cell.get_parameters():
            param.set_data(Tensor(arrays[f"{param.name.split('.')[-1]}_l0"].astype(spec.dtype), dtype=dtype))
        x = problem.x if spec.batch_first else np.swapaxes(problem.x, 0, 1)
        zeros = Tensor(np.zeros((x.shape[0], spec.hidden_size), spec.dtype), dtype=dtype)
        state = tuple(zeros for _ in ops.of(spec).states)
        outputs = []
        for t in range(x.shape[1]):
            new = cell(Tensor(np.ascontiguousarray(x[:, t]), dtype=dtype), state if len(state) > 1 else state[0])
            state = tuple(new) if isinstance(new, (tuple, list)) else (new,)
            outputs.append(state[0].asnumpy())
        return np.stack(outputs, axis=1)

    def call_user(self, layer: nn.Cell, x: Any, hx: Any = None) -> list[np.ndarray]:
        x = self.tensor(x, like=layer)
        args = (x,) if hx is None else (x, self.tensor(hx, like=layer))
        return [self.numpy(t) for t in flatten(layer(*args))]

    def parameters_in_order(self, model: nn.Cell) -> list[tuple[str, np.ndarray]]:
        return [(p.name, p.asnumpy().astype(np.float64)) for p in model.trainable_params()]

    def assign_in_order(self, model: nn.Cell, arrays: list[np.ndarray]) -> None:
        for p, a in zip(model.trainable_params(), arrays):
            p.set_data(Tensor(np.asarray(a, dtype=np.float32)))

    def build(self, spec: LayerSpec, weights: CanonicalWeights) -> nn.Cell:
        self.check_supported(spec)
        dtype = _MS_DTYPES[spec.dtype]
        model = self.layer_class(spec.api)(**self.constructor_arguments(spec.api, spec, skip=("layer_dropout",)),
                                           dtype=dtype)
        arrays = converters.to_mindspore(weights)
        params = {p.name: p for p in model.get_parameters()}
        for native_name, arr in arrays.items():
            param = params[_parameter_key(params, native_name)]
            param.set_data(Tensor(arr.astype(spec.dtype), dtype=dtype))
        if spec.layer_dropout:
            # The user's nn.LSTM(dropout=p) sets these two attributes; set here, after the weights, the Dropout
            # draws its op seed at the point the recorded dropout statistics were measured with.
            model.dropout = spec.layer_dropout
            model.dropout_op = nn.Dropout(p=spec.layer_dropout)
        model.set_train(False)
        return model

    def _run(self, model: nn.Cell, problem: Problem, training: bool) -> RunResult:
        model.set_train(training)
        dtype = _MS_DTYPES[problem.spec.dtype]
        x = Tensor(problem.x, dtype=dtype)
        hx = None
        if problem.initial_state is not None:
            hx = [Tensor(s, dtype=dtype) for s in problem.initial_state]
        out, finals = _forward(model, problem, x, hx)
        return RunResult.of(problem.spec, out.asnumpy(), [f.asnumpy() for f in finals])

    def _gradients(self, model: nn.Cell, problem: Problem, upstream: Upstream) -> Gradients:
        """``mindspore.grad`` over the loss, with respect to the inputs (x, and the initial state when given:
        the ``grad_position``) and ``weights=model.trainable_params()``, in PyNative mode.

        The parameters carry PyTorch's names and layout, so the gradients convert like the weights do.
        """
        spec = problem.spec
        model.set_train(False)
        dtype = _MS_DTYPES[spec.dtype]
        args = [Tensor(problem.x, dtype=dtype)]
        if problem.initial_state is not None:
            args += [Tensor(s, dtype=dtype) for s in problem.initial_state]
        g = {name: Tensor(a, dtype=dtype) for name, a in upstream.fields().items()}
        final_names = ops.of(spec).final_names

        def loss_fn(x, *hx):
            out, finals = _forward(model, problem, x, list(hx) if hx else None)
            loss = (out * g["output"]).sum()
            for name, final in zip(final_names, finals):
                loss = loss + (final * g[name]).sum()
            return loss

        params = model.trainable_params()
        grad_fn = mindspore.grad(loss_fn, grad_position=tuple(range(len(args))), weights=params)
        d_inputs, d_params = grad_fn(*args)
        if isinstance(d_inputs, Tensor):  # a one-element grad_position comes back unwrapped
            d_inputs = (d_inputs,)
        d_inputs = [d.asnumpy().astype(np.float64) for d in d_inputs]
        by_name = {p.name: d.asnumpy().astype(np.float64) for p, d in zip(params, d_params)}
        arrays = {native: by_name[_parameter_key(by_name, native)] for native in converters.native_names(spec)}
        initial = dict(zip(ops.of(spec).initial_names, d_inputs[1:])) if len(d_inputs) > 1 else None
        return Gradients(x=d_inputs[0], initial=initial, weights=converters.from_mindspore(spec, arrays))

    def export_weights(self, model: nn.Cell, spec: LayerSpec) -> CanonicalWeights:
        params = {p.name: p for p in model.get_parameters()}
        arrays = {native: params[_parameter_key(params, native)].asnumpy().astype(np.float64)
                  for native in converters.native_names(spec)}
        return converters.from_mindspore(spec, arrays)


def _forward(model: nn.Cell, problem: Problem, x: Tensor, hx: list | None) -> tuple[Tensor, tuple]:
    """The call users write: ``net(x, hx, seq_length)`` for a layer, the loop over time for a cell. ``hx`` is the
    initial state in the op's order (or None); the final states come back in the op's order."""
    if problem.spec.form == "cell":
        return _cell_loop(model, problem.spec, x, hx)
    out, finals = model(x, None if hx is None else _state(hx), _seq_length(problem))
    return out, _finals(finals)


def _cell_loop(cell: nn.Cell, spec: LayerSpec, x: Tensor, hx: list | None) -> tuple[Tensor, tuple]:
    """What a user of ``nn.LSTMCell``/``GRUCell``/``RNNCell`` writes: one call per step, each step's state fed to the
    next. MindSpore's cells take no default state, so a zero state is passed explicitly at the first step."""
    axis = 1 if spec.batch_first else 0
    batch = x.shape[1 - axis]
    if hx is None:
        hx = [mindspore.ops.zeros((1, batch, size), x.dtype) for size in spec.state_sizes().values()]
    state: Any = _state([s[0] for s in hx])
    outputs = []
    for t in range(x.shape[axis]):
        state = cell(x[:, t] if axis == 1 else x[t], state)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    finals = state if isinstance(state, tuple) else (state,)
    return mindspore.ops.stack(outputs, axis=axis), tuple(f.expand_dims(0) for f in finals)


def _seq_length(problem: Problem) -> Tensor | None:
    return None if problem.lengths is None else Tensor(problem.lengths.astype(np.int32))


def _state(tensors: list) -> Any:
    """The initial state as nn.LSTM takes it (a tuple), or as nn.GRU/nn.RNN take it (one tensor)."""
    return tuple(tensors) if len(tensors) > 1 else tensors[0]


def _finals(finals: Any) -> tuple:
    return tuple(finals) if isinstance(finals, tuple) else (finals,)


def _parameter_key(params: dict, native_name: str) -> str:
    """MindSpore may prefix parameter names with the cell path; match on the PyTorch-style suffix."""
    if native_name in params:
        return native_name
    matches = [k for k in params if k.endswith("." + native_name)]
    if len(matches) != 1:
        raise KeyError(f"mindspore.nn parameter {native_name!r} not found among {sorted(params)}")
    return matches[0]
