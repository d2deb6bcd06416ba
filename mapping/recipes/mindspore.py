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


@recipe("forward", target="output_and_states", spec={"batch_first": True}, state=True)
def initial_state(net, x, hx):
    """PyTorch's ``lstm(x, (h_0, c_0))``: MindSpore's ``hx`` is the same tuple, each state
    ``(num_layers * num_directions, batch, hidden_size)``."""
    output, (h_n, c_n) = net(x, hx)
    return output, h_n, c_n


@recipe("forward", target="keras_states", spec={"batch_first": True})
def return_state(net, x):
    """Keras's ``return_state=True`` states, (batch, units) each: the last layer's final ``h`` and ``c`` (one
    direction; a bidirectional layer's are ``h_n[-2]``, ``c_n[-2]``, then ``h_n[-1]``, ``c_n[-1]``)."""
    _, (h_n, c_n) = net(x)
    return h_n[-1], c_n[-1]


@recipe("forward", target="go_backwards", spec={"batch_first": True})
def go_backwards(net, x):
    """Keras's ``go_backwards=True``: flip the time axis of the input. The output stays in processing order
    (reversed), as Keras returns it."""
    from mindspore import ops

    output, (h_n, c_n) = net(ops.flip(x, (1,)))
    return output, h_n, c_n


@recipe("forward", target="second_batch", spec={"batch_first": True})
def stateful(net, x, x2):
    """Keras's ``stateful=True`` across two batches: pass the first call's final states as ``hx`` of the next
    (pass None to reset)."""
    _, hx = net(x)
    output, (h_n, c_n) = net(x2, hx)
    return output, h_n, c_n


@recipe("forward", target="output_and_states", spec={"batch_first": False})
def time_major(net, x):
    """Keras 2's ``time_major=True``: ``mindspore.nn.LSTM`` with its default ``batch_first=False`` reads
    (time, batch, features). (Keras 3 removed time_major: transpose to (batch, time, features) instead.)"""
    output, (h_n, c_n) = net(x)
    return output, h_n, c_n


@recipe("forward", target="real_steps_and_states", spec={"batch_first": True}, padded=True)
def mask_as_seq_length(net, x, mask, hx=None):
    """Keras's ``mask`` for a right-padded batch: one length per sample, passed as ``seq_length``. Padded output
    steps come back as zeros (a one-direction Keras layer repeats the last real output there)."""
    import mindspore
    from mindspore import ops

    seq_length = ops.cast(mask, mindspore.int32).sum(axis=1)
    output, (h_n, c_n) = net(x, hx, seq_length)
    return output, h_n, c_n


@recipe("forward", target="output_and_states", spec={"batch_first": True})
def training_mode(net, x):
    """Keras's ``training=True`` on a call: MindSpore's mode is a property of the cell, set with
    ``set_train(True)`` until ``set_train(False)``. (Without dropout both modes compute the same.)"""
    net.set_train(True)
    output, (h_n, c_n) = net(x)
    net.set_train(False)
    return output, h_n, c_n


@recipe("forward", target="keras_initial_state", spec={"batch_first": True})
def keras_initial_state(net, x, h0, c0):
    """Keras's ``lstm(x, initial_state=[h0, c0])`` with (batch, units) states: MindSpore wants a leading
    (num_layers * num_directions) axis."""
    output, (h_n, c_n) = net(x, (h0.expand_dims(0), c0.expand_dims(0)))
    return output, h_n, c_n


@recipe("forward", target="keras_sequences_and_states", spec={"batch_first": False})
def keras_like_outputs(net, x):
    """A default (time-major) ``mindspore.nn.LSTM``'s results in Keras's form: the output as (batch, time,
    hidden) and the last layer's final states, (batch, hidden) (one direction)."""
    output, (h_n, c_n) = net(x)
    return output.transpose(1, 0, 2), h_n[-1], c_n[-1]


@recipe("build", target="from_keras_weights", spec={"batch_first": True})
def from_keras_weights(kernel, recurrent_kernel, bias):
    """A Keras LSTM layer's weights (``layer.get_weights()``) in a ``mindspore.nn.LSTM``: the input size is read
    from the kernel (no ``input_size`` in Keras), the kernels are transposed (Keras stores (inputs, 4*units)),
    gates are in the same order i, f, g, o, and Keras's one bias goes to ``bias_ih`` with ``bias_hh`` zero
    (MindSpore adds the two)."""
    from mindspore import Tensor, nn

    input_size, units = kernel.shape[0], recurrent_kernel.shape[0]
    net = nn.LSTM(input_size, units, batch_first=True)
    net.weight_ih_l0.set_data(Tensor(np.ascontiguousarray(kernel.T, dtype=np.float32)))
    net.weight_hh_l0.set_data(Tensor(np.ascontiguousarray(recurrent_kernel.T, dtype=np.float32)))
    net.bias_ih_l0.set_data(Tensor(bias.astype(np.float32)))
    net.bias_hh_l0.set_data(Tensor(np.zeros_like(bias, dtype=np.float32)))
    return net


@recipe("input_dropout", rate=0.5, per_sequence=True)
def keras_input_dropout(net, x, rate):
    """Keras 3's ``LSTM(dropout=rate)`` in training: MindSpore's ``dropout`` acts between stacked layers only, so
    drop the layer's input by hand, one mask per sample and feature for the whole sequence (Keras 2 draws one per
    step), rescaled by 1 / (1 - rate). Batch-first input; skip it in inference."""
    from mindspore import ops

    mask = ops.dropout(ops.ones((x.shape[0], 1, x.shape[2]), x.dtype), p=rate)
    return net(x * mask)


@recipe("forward", target="batch_major_output", spec={"batch_first": False})
def keras_layout(net, x, hx=None):
    """Keras-layout data, (batch, time, features), through a ``mindspore.nn.LSTM`` built with the default
    ``batch_first=False``: swap the first two axes on the way in and out (building the layer with
    ``batch_first=True`` does the same). Fed unswapped, the batch runs without an error and computes something
    else."""
    output, (h_n, c_n) = net(x.swapaxes(0, 1), hx)
    return output.swapaxes(0, 1), h_n, c_n


@recipe("check")
def keras_initialization(net, input_size: int, hidden: int) -> None:
    """Keras's LSTM defaults on layer 0 of a ``mindspore.nn.LSTM``: glorot_uniform kernel, orthogonal recurrent
    kernel, and Keras's one bias (zeros, 1 in the forget gate: ``unit_forget_bias=True``) as ``bias_ih``, with
    ``bias_hh`` zero (MindSpore adds the two). Gates are in the order i, f, g, o on both sides."""
    import mindspore
    from mindspore import Tensor
    from mindspore.common.initializer import Orthogonal, XavierUniform, initializer

    params = {p.name.split(".")[-1]: p for p in net.get_parameters()}
    params["weight_ih_l0"].set_data(initializer(XavierUniform(), (4 * hidden, input_size), mindspore.float32))
    params["weight_hh_l0"].set_data(initializer(Orthogonal(), (4 * hidden, hidden), mindspore.float32))
    forget = np.zeros(4 * hidden, np.float32)
    forget[hidden:2 * hidden] = 1.0
    params["bias_ih_l0"].set_data(Tensor(forget))
    params["bias_hh_l0"].set_data(Tensor(np.zeros(4 * hidden, np.float32)))


@recipe("check")
def kernel_l2(net, l2: float):
    """Keras's ``kernel_regularizer=L2(l2)``: add this to the loss (Keras's kernel is ``weight_ih_l0``
    transposed; the sum of squares is the same)."""
    from mindspore import ops

    return l2 * ops.sum(net.weight_ih_l0 ** 2)


@recipe("check")
def recurrent_l2(net, l2: float):
    """Keras's ``recurrent_regularizer=L2(l2)``: add this to the loss."""
    from mindspore import ops

    return l2 * ops.sum(net.weight_hh_l0 ** 2)


@recipe("check")
def bias_l2(net, l2: float):
    """Keras's ``bias_regularizer=L2(l2)``: Keras's one bias is ``bias_ih + bias_hh``; penalise the sum, not
    each vector."""
    from mindspore import ops

    return l2 * ops.sum((net.bias_ih_l0 + net.bias_hh_l0) ** 2)


@recipe("check")
def activity_l2(net, x, l2: float):
    """Keras's ``activity_regularizer=L2(l2)`` on a layer returning its last output: Keras divides by the batch
    size (and with ``return_state=True`` also penalises h and c)."""
    from mindspore import ops

    _, (h_n, _) = net(x)
    return l2 * ops.sum(h_n[-1] ** 2) / x.shape[0]


@recipe("check")
def kernel_max_norm(net, max_value: float) -> None:
    """Keras's ``kernel_constraint=MaxNorm(max_value)``, after each optimiser step. Keras's ``axis=0`` on its
    (input, 4*units) kernel is a norm per gate unit: on MindSpore's (4*hidden, input) weight, axis 1."""
    from mindspore import ops

    w = net.weight_ih_l0
    norms = ops.sqrt(ops.sum(w ** 2, 1, keepdim=True))
    w.set_data(w * ops.clamp(norms, 0, max_value) / (1e-7 + norms))


@recipe("check")
def recurrent_max_norm(net, max_value: float) -> None:
    """Keras's ``recurrent_constraint=MaxNorm(max_value)``, after each optimiser step (axis 1, as for the
    kernel)."""
    from mindspore import ops

    w = net.weight_hh_l0
    norms = ops.sqrt(ops.sum(w ** 2, 1, keepdim=True))
    w.set_data(w * ops.clamp(norms, 0, max_value) / (1e-7 + norms))


@recipe("check")
def bias_max_norm(net, max_value: float) -> None:
    """Keras's ``bias_constraint=MaxNorm(max_value)``, after each optimiser step: constrain the sum Keras sees
    (``bias_ih + bias_hh``), then keep it in ``bias_ih``."""
    from mindspore import ops

    b = net.bias_ih_l0 + net.bias_hh_l0
    norm = ops.sqrt(ops.sum(b ** 2))
    net.bias_ih_l0.set_data(b * ops.clamp(norm, 0, max_value) / (1e-7 + norm))
    net.bias_hh_l0.set_data(ops.zeros_like(b))


# --- LSTM pages and supplements: recipes for the rows that had text only ---


@recipe("forward", target="keras_sequences_and_states",
        spec={"batch_first": True, "activation": "relu", "recurrent_activation": "hard_sigmoid"},
        layer={"activation": "tanh", "recurrent_activation": "sigmoid"}, loop=True)
def keras_activations(net, x, activation="tanh", recurrent_activation="sigmoid"):
    """Keras's ``LSTM(activation=..., recurrent_activation=...)`` with functions other than tanh and sigmoid:
    ``mindspore.nn.LSTM`` has them fixed, so run its weights through the LSTM equations by hand with Keras's
    functions (``relu``, ``hard_sigmoid`` as Keras 3 defines it: x / 6 + 1/2 clipped to [0, 1], ``linear``, ...).
    One layer, one direction, with a bias, batch-first; returns what Keras returns with ``return_sequences=True,
    return_state=True``: the output (batch, time, hidden), then h and c (batch, hidden)."""
    from mindspore import ops

    functions = {"tanh": ops.tanh, "sigmoid": ops.sigmoid, "relu": ops.relu, "hard_sigmoid": ops.hardsigmoid,
                 "linear": lambda v: v}
    act, gate = functions[activation], functions[recurrent_activation]
    hidden = net.weight_hh_l0.shape[1]
    bias = net.bias_ih_l0 + net.bias_hh_l0
    h = ops.zeros((x.shape[0], hidden), x.dtype)
    c = h
    outputs = []
    for t in range(x.shape[1]):
        z = ops.matmul(x[:, t], net.weight_ih_l0.T) + ops.matmul(h, net.weight_hh_l0.T) + bias
        i, f, g, o = ops.split(z, hidden, axis=1)  # gate order i, f, g, o, as in Keras
        c = gate(f) * c + gate(i) * act(g)
        h = gate(o) * act(c)
        outputs.append(h)
    return ops.stack(outputs, axis=1), h, c


@recipe("build", target="from_torch_weights", spec={"proj_size": 2, "batch_first": False}, loop=True)
def projected_lstm(state_dict):
    """PyTorch's ``nn.LSTM(proj_size=P)`` in MindSpore, which has no projection (and whose LSTMCell cannot take a
    projected h): a Cell computing PyTorch's steps from the PyTorch layer's ``state_dict`` (NumPy arrays, e.g.
    ``{k: v.numpy() for k, v in lstm.state_dict().items()}``; one layer, one direction, time-major as both
    frameworks' default). Each step: gates from x and the projected h, ``c = f * c + i * g``, then
    ``h = (o * tanh(c)) @ W_hr^T``. Returns the output (time, batch, P) and ``(h_n, c_n)``, h_n (1, batch, P) and
    c_n (1, batch, hidden), as PyTorch does."""
    import mindspore
    from mindspore import Parameter, Tensor, nn, ops

    class ProjectedLSTM(nn.Cell):
        def __init__(self):
            super().__init__()
            self.weight_ih = Parameter(Tensor(state_dict["weight_ih_l0"], mindspore.float32))
            self.weight_hh = Parameter(Tensor(state_dict["weight_hh_l0"], mindspore.float32))
            self.weight_hr = Parameter(Tensor(state_dict["weight_hr_l0"], mindspore.float32))
            self.bias = Parameter(Tensor(state_dict["bias_ih_l0"] + state_dict["bias_hh_l0"], mindspore.float32))

        def construct(self, x, hx=None):
            proj, hidden = self.weight_hr.shape
            if hx is None:
                h, c = ops.zeros((x.shape[1], proj), x.dtype), ops.zeros((x.shape[1], hidden), x.dtype)
            else:
                h, c = hx[0][0], hx[1][0]
            outputs = []
            for t in range(x.shape[0]):
                z = ops.matmul(x[t], self.weight_ih.T) + ops.matmul(h, self.weight_hh.T) + self.bias
                i, f, g, o = ops.split(z, hidden, axis=1)
                c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
                h = ops.matmul(ops.sigmoid(o) * ops.tanh(c), self.weight_hr.T)
                outputs.append(h)
            return ops.stack(outputs), (h.expand_dims(0), c.expand_dims(0))

    return ProjectedLSTM()


@recipe("recurrent_dropout", rate=0.5, loop=True)
def keras_recurrent_dropout(net, x, rate):
    """Keras's ``LSTM(recurrent_dropout=rate)`` in training: MindSpore has no recurrent dropout (its ``dropout`` acts
    between stacked layers), so step the layer's weights by hand and drop h(t-1) before the recurrent product, one
    mask per gate and sample drawn once for the whole sequence and rescaled by 1 / (1 - rate), as Keras does. One
    layer, one direction, with a bias, batch-first; returns the output (batch, time, hidden), h and c. Skip the
    masks in inference (call ``net`` itself)."""
    from mindspore import ops

    hidden = net.weight_hh_l0.shape[1]
    bias = net.bias_ih_l0 + net.bias_hh_l0
    recurrent = ops.split(net.weight_hh_l0, hidden, axis=0)  # per gate, (hidden, hidden), order i, f, g, o
    masks = ops.dropout(ops.ones((4, x.shape[0], hidden), x.dtype), p=rate)
    h = ops.zeros((x.shape[0], hidden), x.dtype)
    c = h
    outputs = []
    for t in range(x.shape[1]):
        z = ops.matmul(x[:, t], net.weight_ih_l0.T) + bias
        z = z + ops.cat([ops.matmul(h * masks[k], recurrent[k].T) for k in range(4)], axis=1)
        i, f, g, o = ops.split(z, hidden, axis=1)
        c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
        h = ops.sigmoid(o) * ops.tanh(c)
        outputs.append(h)
    return ops.stack(outputs, axis=1), h, c


@recipe("input_dropout", rate=0.5, per_sequence=False)
def keras2_input_dropout(net, x, rate):
    """Keras 2's (``tf_keras``) ``LSTM(dropout=rate)`` in training: a fresh mask per sample, step and feature on the
    layer's input, rescaled by 1 / (1 - rate) (Keras 3 keeps one mask per sequence: see keras_input_dropout).
    Batch-first input; skip it in inference."""
    from mindspore import ops

    return net(ops.dropout(x, p=rate))


@recipe("forward", target="output_and_states", spec={"batch_first": False, "bidirectional": True}, state=True)
def bidirectional_states(net, x, hx):
    """The page's code example, corrected: a bidirectional ``mindspore.nn.LSTM`` takes initial states of shape
    (num_layers * 2, batch, hidden_size), one per layer and direction, and returns states of that shape; time-major
    input (the default ``batch_first=False``)."""
    h0, c0 = hx
    directions = 2 if net.bidirectional else 1
    expected = (net.num_layers * directions, x.shape[1], net.hidden_size)
    if h0.shape != expected or c0.shape != expected:
        raise ValueError(f"initial states must be {expected}, got {h0.shape} and {c0.shape}")
    output, (h_n, c_n) = net(x, (h0, c0))
    return output, h_n, c_n


@recipe("forward", target="left_padded", spec={"batch_first": True}, padded=True)
def left_padding(net, x, seq_length):
    """Keras's ``mask`` on a left-padded batch (each sample's real steps at the end) in MindSpore, whose
    ``seq_length`` means "the first n steps are real": move each sample's real steps to the front, run with
    ``seq_length``, and move the output back. The final states are each sample's state after its last real step.
    Batch-first; any recurrent layer (LSTM, GRU, RNN)."""
    from mindspore import ops

    steps = x.shape[1]
    shifts = [steps - n for n in seq_length.asnumpy().tolist()]
    right = ops.stack([s if k == 0 else ops.cat((s[k:], s[:k])) for s, k in zip(x, shifts)])
    output, states = net(right, None, seq_length)
    output = ops.stack([s if k == 0 else ops.cat((s[steps - k:], s[:steps - k])) for s, k in zip(output, shifts)])
    return output, states


# --- GRU, RNN and the cells (the pages beside the LSTM ones) ---


@recipe("forward", target="output_and_states", spec={"batch_first": True}, state=True)
def hidden_state_by_position(net, x, hx):
    """PyTorch's ``gru(x, h_0)`` / ``rnn(x, h_0)`` on ``mindspore.nn.GRU`` or ``mindspore.nn.RNN``: the initial state
    is the second argument, by position or as ``hx=``, one tensor ``(num_layers * num_directions, batch,
    hidden_size)``."""
    output, h_n = net(x, hx)
    return output, h_n


@recipe("forward", target="cell_steps", spec={"batch_first": False}, state=True)
def lstm_cell_loop(net, x, h0, c0):
    """``mindspore.nn.LSTMCell`` over a time-major sequence, each step's states fed to the next: assign the result
    back to the ``(h, c)`` tuple passed at the next step (passing the initial states at every step, as the page's
    example does, computes first steps only)."""
    from mindspore import ops

    h, c = h0, c0
    outputs = []
    for x_t in x:
        h, c = net(x_t, (h, c))
        outputs.append(h)
    return ops.stack(outputs), h, c


@recipe("forward", target="cell_steps", spec={"batch_first": False}, state=True)
def hidden_cell_loop(net, x, h0):
    """``mindspore.nn.GRUCell`` or ``mindspore.nn.RNNCell`` over a time-major sequence: the hidden state is the
    second argument and has no default (pass zeros at the first step); each step's result is fed to the next."""
    from mindspore import ops

    h = h0
    outputs = []
    for x_t in x:
        h = net(x_t, h)
        outputs.append(h)
    return ops.stack(outputs), h
