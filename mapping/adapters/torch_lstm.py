"""``torch.nn.LSTM``: the canonical layout is PyTorch's own, so weights load by name.

Per-sample lengths go through ``pack_padded_sequence`` (``enforce_sorted=False``), the way PyTorch
users feed right-padded batches; padded output steps come back as zeros from ``pad_packed_sequence``.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import converters
from ..outputs import LSTMResult, RunInputs
from ..reference_grad import Gradients, Upstream
from ..spec import LSTMSpec
from ..weights import CanonicalWeights
from .base import Adapter

_TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class TorchAdapter(Adapter):
    name = "torch"
    label = "PyTorch"
    import_name = "torch"
    distribution = "torch"

    def _unsupported_reason(self, spec: LSTMSpec) -> str | None:
        if spec.activation != "tanh" or spec.recurrent_activation != "sigmoid":
            return "torch.nn.LSTM has fixed activations (tanh, sigmoid)"
        if spec.go_backwards:
            return "torch.nn.LSTM has no go_backwards (recipe: flip the input in time)"
        return None

    def build(self, spec: LSTMSpec, weights: CanonicalWeights) -> torch.nn.LSTM:
        self.check_supported(spec)
        dtype = _TORCH_DTYPES[spec.dtype]
        model = torch.nn.LSTM(
            input_size=spec.input_size,
            hidden_size=spec.hidden_size,
            num_layers=spec.num_layers,
            bias=spec.bias,
            batch_first=spec.batch_first,
            bidirectional=spec.bidirectional,
            proj_size=spec.proj_size,
            dtype=dtype,
        )
        state = {k: torch.from_numpy(v).to(dtype) for k, v in converters.to_torch_state_dict(weights).items()}
        model.load_state_dict(state, strict=True)
        return model.eval()

    def _run(self, model: torch.nn.LSTM, spec: LSTMSpec, inputs: RunInputs, training: bool) -> LSTMResult:
        model.train(training)
        x = torch.from_numpy(np.ascontiguousarray(inputs.x))
        hx = None if inputs.initial_state is None else tuple(torch.from_numpy(s) for s in inputs.initial_state)
        with torch.no_grad():
            out, h_n, c_n = _forward(model, spec, inputs, x, hx)
        return LSTMResult(out.numpy(), h_n.numpy(), c_n.numpy())

    def export_weights(self, model: torch.nn.LSTM, spec: LSTMSpec) -> CanonicalWeights:
        state = {k: v.detach().to(torch.float64).numpy() for k, v in model.state_dict().items()}
        return converters.from_torch_state_dict(spec, state)

    def _gradients(self, model: torch.nn.LSTM, spec: LSTMSpec, inputs: RunInputs, upstream: Upstream) -> Gradients:
        """Autograd on the same forward as :meth:`_run` (packed when there are lengths).

        The state-dict names are the canonical layout's, so the parameter gradients convert with
        :func:`mapping.converters.from_torch_state_dict` unchanged.
        """
        model.eval()
        x = torch.from_numpy(np.ascontiguousarray(inputs.x)).requires_grad_(True)
        hx = None
        if inputs.initial_state is not None:
            hx = tuple(torch.from_numpy(np.ascontiguousarray(s)).requires_grad_(True) for s in inputs.initial_state)
        out, h_n, c_n = _forward(model, spec, inputs, x, hx)
        g_out, g_h, g_c = (torch.from_numpy(np.ascontiguousarray(a)) for a in (upstream.output, upstream.h_n, upstream.c_n))
        loss = (out * g_out).sum() + (h_n * g_h).sum() + (c_n * g_c).sum()
        names, params = zip(*model.named_parameters())
        sources = [x, *(hx or ()), *params]
        grads = torch.autograd.grad(loss, sources)
        as64 = [g.detach().to(torch.float64).numpy() for g in grads]
        dx, rest = as64[0], as64[1:]
        dh0 = dc0 = None
        if hx is not None:
            (dh0, dc0), rest = rest[:2], rest[2:]
        weights = converters.from_torch_state_dict(spec, dict(zip(names, rest)))
        return Gradients(x=dx, h0=dh0, c0=dc0, weights=weights)


def _forward(model: torch.nn.LSTM, spec: LSTMSpec, inputs: RunInputs, x: torch.Tensor, hx):
    """The forward call users write: plain, or through a packed sequence when lengths are given."""
    if inputs.lengths is None:
        out, (h_n, c_n) = model(x, hx)
        return out, h_n, c_n
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        x, torch.from_numpy(inputs.lengths), batch_first=spec.batch_first, enforce_sorted=False
    )
    packed_out, (h_n, c_n) = model(packed, hx)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=spec.batch_first, total_length=inputs.steps)
    return out, h_n, c_n
