"""MindSpore: what a MindSpore user writes for what ``mindspore.nn.LSTM`` lacks (Keras's initialisation,
constraints, ``return_sequences=False``, ...), by hand on the layer's parameters and outputs.

Parameter names are PyTorch's (``weight_ih_l0``, ``bias_hh_l0``, ...), gates in the order i, f, g, o. Functions
marked with :func:`~mapping.recipes.recipe` are shown in the report and executed by the suite under their
contract (:mod:`mapping.recipes.contracts`); the others are helpers of the checks.
"""

from __future__ import annotations

import numpy as np

from . import recipe


@recipe("forward", target="keras_last_output", spec={"batch_first": True})
def last_step(net, x):
    """Keras's ``return_sequences=False``: ``mindspore.nn.LSTM`` returns every step; keep the last one.

    Only for one direction without padding: with ``seq_length`` the last real step lies elsewhere, and in a
    bidirectional layer the backward half of ``output[:, -1]`` has seen the last step only (use
    :func:`last_output`).
    """
    output, _ = net(x)
    return output[:, -1, :]


@recipe("forward", target="keras_last_output", spec={"batch_first": True})
def last_output(net, x, seq_length=None):
    """Keras's ``return_sequences=False`` for any ``mindspore.nn.LSTM``: the last layer's final ``h``.

    Keras returns each sample's output after its last real step; in a bidirectional layer, the forward
    direction's final output and the backward direction's (which ends at the first step), concatenated. Both are
    the final hidden states of the last layer, also with ``seq_length``.
    """
    from mindspore import ops

    _, (h_n, _) = net(x, None, seq_length)
    if net.bidirectional:
        return ops.cat((h_n[-2], h_n[-1]), axis=-1)
    return h_n[-1]


@recipe("forward", target="batch_major_output", spec={"batch_first": False})
def keras_layout(net, x, hx=None):
    """Keras-layout data, (batch, time, features), through a ``mindspore.nn.LSTM`` built with the default
    ``batch_first=False``: swap the first two axes on the way in and out (building the layer with
    ``batch_first=True`` does the same). Fed unswapped, the batch runs without an error and computes something
    else."""
    output, (h_n, c_n) = net(x.swapaxes(0, 1), hx)
    return output.swapaxes(0, 1), h_n, c_n


def _params(net) -> dict:
    return {p.name.split(".")[-1]: p for p in net.get_parameters()}


def keras_initialization(net, input_size: int, hidden: int) -> None:
    """Keras's LSTM defaults on layer 0: glorot_uniform kernel, orthogonal recurrent kernel, zero bias with 1 in
    the forget gate (Keras's single bias is bias_ih + bias_hh)."""
    import mindspore
    from mindspore import Tensor
    from mindspore.common import initializer as init

    params = _params(net)
    recipe = {
        "weight_ih_l0": init.initializer(init.XavierUniform(), (4 * hidden, input_size), mindspore.float32),
        "weight_hh_l0": init.initializer(init.Orthogonal(), (4 * hidden, hidden), mindspore.float32),
    }
    for name, value in recipe.items():
        params[name].set_data(value.init_data() if hasattr(value, "init_data") else value)
    forget = np.zeros(4 * hidden, np.float32)
    forget[hidden:2 * hidden] = 1.0
    params["bias_ih_l0"].set_data(Tensor(forget))
    params["bias_hh_l0"].set_data(Tensor(np.zeros(4 * hidden, np.float32)))


def set_constrained(net, constrained: dict[str, np.ndarray]) -> None:
    """Write constrained layer-0 arrays back (``w_ih``, ``w_hh``, or ``bias``: the sum, kept in bias_ih)."""
    from mindspore import Tensor

    params = _params(net)
    if "w_ih" in constrained:
        params["weight_ih_l0"].set_data(Tensor(constrained["w_ih"].astype(np.float32)))
    if "w_hh" in constrained:
        params["weight_hh_l0"].set_data(Tensor(constrained["w_hh"].astype(np.float32)))
    if "bias" in constrained:
        params["bias_ih_l0"].set_data(Tensor(constrained["bias"].astype(np.float32)))
        params["bias_hh_l0"].set_data(Tensor(np.zeros_like(constrained["bias"], dtype=np.float32)))
