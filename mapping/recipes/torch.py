"""PyTorch: what a PyTorch user writes where ``torch.nn.LSTM`` and ``mindspore.nn.LSTM`` differ.

Each function is a recipe shown in the report, executed by the suite under the contract it declares
(:mod:`mapping.recipes.contracts`); the code uses PyTorch's own API only and can be copied as it stands.
"""

from __future__ import annotations

from . import recipe


@recipe("forward", target="real_steps_and_states", spec={"batch_first": True}, padded=True)
def packed_lengths(lstm, x, lengths, hx=None):
    """MindSpore's ``seq_length`` in PyTorch: pack the right-padded batch, run, and pad the output again.

    ``lengths`` holds one length per sample (any order: ``enforce_sorted=False``; every length at least 1).
    Padded output steps come back as zeros, and the final states are each sample's state after its last real
    step, as with MindSpore's ``seq_length``.
    """
    import torch

    time_axis = 1 if lstm.batch_first else 0
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=lstm.batch_first,
                                                     enforce_sorted=False)
    output, (h_n, c_n) = lstm(packed, hx)
    output, _ = torch.nn.utils.rnn.pad_packed_sequence(output, batch_first=lstm.batch_first,
                                                       total_length=x.shape[time_axis])
    return output, h_n, c_n


# --- LSTM pages and supplements: recipes for the rows that had text only ---


@recipe("forward", target="left_padded", spec={"batch_first": True}, padded=True)
def left_padding(rnn, x, lengths):
    """Keras's ``mask`` on a left-padded batch (each sample's real steps at the end) in PyTorch, whose packed
    sequences mean "the first n steps are real": move each sample's real steps to the front, run packed, and move
    the output back (padded steps are zeros). The final states are each sample's state after its last real step.
    Batch-first; any recurrent layer (LSTM, GRU, RNN)."""
    import torch

    steps = x.shape[1]
    shifts = [steps - int(n) for n in lengths]
    right = torch.stack([torch.roll(s, -k, dims=0) for s, k in zip(x, shifts)])
    packed = torch.nn.utils.rnn.pack_padded_sequence(right, lengths, batch_first=True, enforce_sorted=False)
    output, states = rnn(packed)
    output, _ = torch.nn.utils.rnn.pad_packed_sequence(output, batch_first=True, total_length=steps)
    return torch.stack([torch.roll(s, k, dims=0) for s, k in zip(output, shifts)]), states


@recipe("build", target="from_keras_weights", spec={"batch_first": True})
def from_keras_gru_weights(kernel, recurrent_kernel, bias):
    """A Keras GRU layer's weights (``layer.get_weights()``, the default ``reset_after=True``) in a
    ``torch.nn.GRU``: the kernels are transposed (Keras stores (inputs, 3*units)), the gate blocks reordered from
    Keras's z, r, h to PyTorch's r, z, n, and Keras's two bias rows (input, recurrent) go to ``bias_ih`` and
    ``bias_hh``, which stay apart (the reset gate multiplies the recurrent one)."""
    import numpy as np
    import torch

    def pytorch_order(a):  # gate blocks along the last axis: z, r, h -> r, z, n
        z, r, h = np.split(a, 3, axis=-1)
        return np.ascontiguousarray(np.concatenate([r, z, h], axis=-1).T, dtype=np.float32)

    gru = torch.nn.GRU(kernel.shape[0], recurrent_kernel.shape[0], batch_first=True)
    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.from_numpy(pytorch_order(kernel)))
        gru.weight_hh_l0.copy_(torch.from_numpy(pytorch_order(recurrent_kernel)))
        gru.bias_ih_l0.copy_(torch.from_numpy(pytorch_order(bias[0])))
        gru.bias_hh_l0.copy_(torch.from_numpy(pytorch_order(bias[1])))
    return gru


@recipe("forward", target="keras_sequences_and_states", spec={"batch_first": True, "reset_after": False},
        layer={"reset_after": True}, loop=True)
def gru_reset_before(gru, x):
    """Keras's ``GRU(reset_after=False)`` (the reset gate multiplies h before the recurrent product) in PyTorch,
    whose ``nn.GRU`` multiplies after it: keep the weights in an ``nn.GRU`` (gates r, z, n; Keras's one bias as
    ``bias_ih`` with ``bias_hh`` zero, or both) and step by hand with ``n = tanh(x W_in + b_in + (r * h) W_hn +
    b_hn)``. One layer, one direction, batch-first; returns the output (batch, time, hidden) and the final h."""
    import torch

    w_ir, w_iz, w_in = gru.weight_ih_l0.chunk(3)
    w_hr, w_hz, w_hn = gru.weight_hh_l0.chunk(3)
    b_ir, b_iz, b_in = gru.bias_ih_l0.chunk(3)
    b_hr, b_hz, b_hn = gru.bias_hh_l0.chunk(3)
    h = x.new_zeros(x.shape[0], gru.hidden_size)
    outputs = []
    for t in range(x.shape[1]):
        x_t = x[:, t]
        r = torch.sigmoid(x_t @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
        z = torch.sigmoid(x_t @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
        n = torch.tanh(x_t @ w_in.T + b_in + (r * h) @ w_hn.T + b_hn)
        h = (1 - z) * n + z * h
        outputs.append(h)
    return torch.stack(outputs, dim=1), h


@recipe("recurrent_dropout", rate=0.5, loop=True)
def keras_recurrent_dropout(lstm, x, rate):
    """Keras's ``LSTM(recurrent_dropout=rate)`` in training: PyTorch has no recurrent dropout (its ``dropout`` acts
    between stacked layers), so step the layer's weights by hand and drop h(t-1) before the recurrent product, one
    mask per gate and sample drawn once for the whole sequence and rescaled by 1 / (1 - rate), as Keras does. One
    layer, one direction, with a bias, batch-first; returns the output (batch, time, hidden), h and c. Skip the
    masks in inference (call ``lstm`` itself)."""
    import torch

    hidden = lstm.hidden_size
    recurrent = lstm.weight_hh_l0.chunk(4)  # per gate, (hidden, hidden), order i, f, g, o
    masks = torch.nn.functional.dropout(x.new_ones(4, x.shape[0], hidden), p=rate, training=True)
    h = x.new_zeros(x.shape[0], hidden)
    c = h
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + lstm.bias_hh_l0
        z = z + torch.cat([(h * masks[k]) @ recurrent[k].T for k in range(4)], dim=1)
        i, f, g, o = z.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, dim=1), h, c


# --- GRU, RNN and the cells (the pages beside the LSTM ones) ---


@recipe("forward", target="output_and_states", spec={"batch_first": True}, state=True)
def hidden_state_by_position(rnn, x, hx):
    """The initial state of ``torch.nn.GRU`` or ``torch.nn.RNN``: the second argument, by position or as ``hx=``
    (``h_0`` is only the documentation's name; ``rnn(x, h_0=h)`` raises TypeError). One tensor,
    ``(num_layers * num_directions, batch, hidden_size)``, as MindSpore's ``hx``."""
    output, h_n = rnn(x, hx)
    return output, h_n


@recipe("forward", target="real_steps_and_states", spec={"batch_first": True}, padded=True)
def packed_lengths_hidden(rnn, x, lengths, hx=None):
    """MindSpore's ``seq_length`` for ``torch.nn.GRU`` or ``torch.nn.RNN``: pack the right-padded batch, run, and
    pad the output again (``enforce_sorted=False``: lengths in any order, each at least 1). Padded output steps
    come back as zeros and ``h_n`` is each sample's state after its last real step, as with ``seq_length``."""
    import torch

    time_axis = 1 if rnn.batch_first else 0
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=rnn.batch_first,
                                                     enforce_sorted=False)
    output, h_n = rnn(packed, hx)
    output, _ = torch.nn.utils.rnn.pad_packed_sequence(output, batch_first=rnn.batch_first,
                                                       total_length=x.shape[time_axis])
    return output, h_n


@recipe("forward", target="cell_steps", spec={"batch_first": False}, state=True)
def lstm_cell_loop(cell, x, h0, c0):
    """``torch.nn.LSTMCell`` over a time-major sequence: the previous state goes in as ONE tuple ``(h, c)``, the
    second argument (there are no separate ``h_0``/``c_0`` inputs: ``cell(x, h, c)`` raises TypeError), and each
    step's result is fed to the next. The same loop runs on ``mindspore.nn.LSTMCell``."""
    import torch

    h, c = h0, c0
    outputs = []
    for x_t in x:
        h, c = cell(x_t, (h, c))
        outputs.append(h)
    return torch.stack(outputs), h, c


@recipe("forward", target="cell_steps", spec={"batch_first": False}, state=True)
def hidden_cell_loop(cell, x, h0):
    """``torch.nn.GRUCell`` or ``torch.nn.RNNCell`` over a time-major sequence: the previous hidden state is the
    second argument, by position or as ``hx=`` (``hidden`` is only the documentation's name), and each step's
    result is fed to the next. The same loop runs on ``mindspore.nn.GRUCell``/``RNNCell``."""
    import torch

    h = h0
    outputs = []
    for x_t in x:
        h = cell(x_t, h)
        outputs.append(h)
    return torch.stack(outputs), h
