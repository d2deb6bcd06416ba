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
