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
