"""``mindspore.nn.LSTM``: PyTorch's parameter names and layout; no projection, fixed activations.

Runs in PyNative mode on the CPU. Per-sample lengths go in as ``seq_length`` (int32), MindSpore's
own mechanism for right-padded batches.
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("GLOG_v", "3")  # MindSpore logs warnings at import otherwise

import mindspore  # noqa: E402
from mindspore import Tensor, nn  # noqa: E402

from .. import converters  # noqa: E402
from ..outputs import LSTMResult, RunInputs  # noqa: E402
from ..reference_grad import Gradients, Upstream  # noqa: E402
from ..spec import LSTMSpec  # noqa: E402
from ..weights import CanonicalWeights  # noqa: E402
from .base import Adapter  # noqa: E402

mindspore.set_context(mode=mindspore.PYNATIVE_MODE)
mindspore.set_device("CPU")

_MS_DTYPES = {"float32": mindspore.float32, "float64": mindspore.float64}


class MindSporeAdapter(Adapter):
    name = "mindspore"
    label = "MindSpore"
    import_name = "mindspore"
    distribution = "mindspore"
    # ops.LSTM (the CPU kernel behind nn.LSTM) rejects float64: "the element of 'x' must be one of
    # Float32, Float16" (measured with MindSpore 2.10.0); hx is checked the same way.
    dtypes = ("float32",)

    def _unsupported_reason(self, spec: LSTMSpec) -> str | None:
        if spec.activation != "tanh" or spec.recurrent_activation != "sigmoid":
            return "mindspore.nn.LSTM has fixed activations (tanh, sigmoid)"
        if spec.go_backwards:
            return "mindspore.nn.LSTM has no go_backwards (recipe: flip the input in time)"
        if spec.proj_size:
            return "mindspore.nn.LSTM has no proj_size"
        return None

    def build(self, spec: LSTMSpec, weights: CanonicalWeights) -> nn.LSTM:
        self.check_supported(spec)
        dtype = _MS_DTYPES[spec.dtype]
        model = nn.LSTM(
            spec.input_size,
            spec.hidden_size,
            num_layers=spec.num_layers,
            has_bias=spec.bias,
            batch_first=spec.batch_first,
            bidirectional=spec.bidirectional,
            dtype=dtype,
        )
        arrays = converters.to_mindspore(weights)
        params = {p.name: p for p in model.get_parameters()}
        for native_name, arr in arrays.items():
            param = params[_parameter_key(params, native_name)]
            param.set_data(Tensor(arr.astype(spec.dtype), dtype=dtype))
        model.set_train(False)
        return model

    def _run(self, model: nn.LSTM, spec: LSTMSpec, inputs: RunInputs, training: bool) -> LSTMResult:
        model.set_train(training)
        dtype = _MS_DTYPES[spec.dtype]
        x = Tensor(inputs.x, dtype=dtype)
        hx = None
        if inputs.initial_state is not None:
            hx = tuple(Tensor(s, dtype=dtype) for s in inputs.initial_state)
        seq_length = None if inputs.lengths is None else Tensor(inputs.lengths.astype(np.int32))
        out, (h_n, c_n) = model(x, hx, seq_length)
        return LSTMResult(out.asnumpy(), h_n.asnumpy(), c_n.asnumpy())

    def _gradients(self, model: nn.LSTM, spec: LSTMSpec, inputs: RunInputs, upstream: Upstream) -> Gradients:
        """``mindspore.grad`` over the loss, with respect to the inputs (x, and h0, c0 when given: the
        ``grad_position``) and ``weights=model.trainable_params()``, in PyNative mode.

        The parameters carry PyTorch's names and layout, so the gradients convert like the weights do.
        """
        model.set_train(False)
        dtype = _MS_DTYPES[spec.dtype]
        args = [Tensor(inputs.x, dtype=dtype)]
        if inputs.initial_state is not None:
            args += [Tensor(s, dtype=dtype) for s in inputs.initial_state]
        seq_length = None if inputs.lengths is None else Tensor(inputs.lengths.astype(np.int32))
        g_out, g_h, g_c = (Tensor(a, dtype=dtype) for a in (upstream.output, upstream.h_n, upstream.c_n))

        def loss_fn(x, *hx):
            out, (h_n, c_n) = model(x, tuple(hx) if hx else None, seq_length)
            return (out * g_out).sum() + (h_n * g_h).sum() + (c_n * g_c).sum()

        params = model.trainable_params()
        grad_fn = mindspore.grad(loss_fn, grad_position=tuple(range(len(args))), weights=params)
        d_inputs, d_params = grad_fn(*args)
        if isinstance(d_inputs, Tensor):  # a one-element grad_position comes back unwrapped
            d_inputs = (d_inputs,)
        d_inputs = [g.asnumpy().astype(np.float64) for g in d_inputs]
        by_name = {p.name: g.asnumpy().astype(np.float64) for p, g in zip(params, d_params)}
        arrays = {
            native_name: by_name[_parameter_key(by_name, native_name)]
            for native_name in converters.to_mindspore(_zero_weights(spec))
        }
        dh0, dc0 = (d_inputs[1], d_inputs[2]) if len(d_inputs) == 3 else (None, None)
        return Gradients(x=d_inputs[0], h0=dh0, c0=dc0, weights=converters.from_mindspore(spec, arrays))

    def export_weights(self, model: nn.LSTM, spec: LSTMSpec) -> CanonicalWeights:
        params = {p.name: p for p in model.get_parameters()}
        arrays = {}
        for native_name in converters.to_mindspore(_zero_weights(spec)):
            arrays[native_name] = params[_parameter_key(params, native_name)].asnumpy().astype(np.float64)
        return converters.from_mindspore(spec, arrays)


def _parameter_key(params: dict, native_name: str) -> str:
    """MindSpore may prefix parameter names with the cell path; match on the PyTorch-style suffix."""
    if native_name in params:
        return native_name
    matches = [k for k in params if k.endswith("." + native_name)]
    if len(matches) != 1:
        raise KeyError(f"mindspore.nn.LSTM parameter {native_name!r} not found among {sorted(params)}")
    return matches[0]


def _zero_weights(spec: LSTMSpec) -> CanonicalWeights:
    from ..weights import random_weights

    return random_weights(spec, seed=0, scale=0.0)
