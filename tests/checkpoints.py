"""Real checkpoint files for the ``mapping convert`` tests, each written by its framework's own save function
(``torch.save`` of a module's ``state_dict``, ``mindspore.save_checkpoint`` of a cell, Keras 3's and Keras 2's
``model.save_weights``), of a model in which the recurrent stack sits among other layers.

The recurrent weights are random draws of the framework's own initialiser, and every array is then replaced by
seeded random values of its own shape (Keras starts its biases at zero and one), set through the framework's
own API and never through this project's converters, so that a converter mistake cannot cancel itself out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Suffix of the file each framework's save function writes.
SUFFIX = {"torch": ".pt", "mindspore": ".ckpt", "tfkeras": ".weights.h5", "keras2": ".h5"}


def _random_like(shape, rng) -> np.ndarray:
    return rng.uniform(-0.6, 0.6, size=shape).astype(np.float32)


def write(framework: str, folder: Path, *, input_size: int = 3, hidden: int = 4, layers: int = 2,
          bidirectional: bool = True, bias: bool = True, proj_size: int = 0, seed: int = 0, name: str = "model") -> Path:
    """A checkpoint of a small model holding one LSTM stack (under the module prefix ``encoder.rnn.`` where the
    framework names parameters by module path); returns its path."""
    path = Path(folder) / f"{name}{SUFFIX[framework]}"
    rng = np.random.default_rng(seed)
    if framework == "torch":
        _torch(path, rng, input_size, hidden, layers, bidirectional, bias, proj_size)
    elif framework == "mindspore":
        _mindspore(path, rng, input_size, hidden, layers, bidirectional, bias)
    else:
        _keras(framework, path, rng, input_size, hidden, layers, bidirectional, bias)
    return path


def _torch(path, rng, input_size, hidden, layers, bidirectional, bias, proj_size) -> None:
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Linear(2, input_size)
            self.rnn = torch.nn.LSTM(input_size, hidden, num_layers=layers, bidirectional=bidirectional, bias=bias,
                                     proj_size=proj_size, batch_first=True)

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.head = torch.nn.Linear((proj_size or hidden) * (2 if bidirectional else 1), 2)

    model = Model()
    with torch.no_grad():
        for parameter in model.encoder.rnn.parameters():
            parameter.copy_(torch.from_numpy(_random_like(tuple(parameter.shape), rng)))
    torch.save(model.state_dict(), path)


def _mindspore(path, rng, input_size, hidden, layers, bidirectional, bias) -> None:
    import mindspore
    from mindspore import nn

    class Encoder(nn.Cell):
        def __init__(self):
            super().__init__()
            self.embed = nn.Dense(2, input_size)
            self.rnn = nn.LSTM(input_size, hidden, num_layers=layers, has_bias=bias, batch_first=True,
                               bidirectional=bidirectional)

    class Model(nn.Cell):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.head = nn.Dense(hidden * (2 if bidirectional else 1), 2)

    model = Model()
    for parameter in model.encoder.rnn.get_parameters():
        parameter.set_data(mindspore.Tensor(_random_like(parameter.shape, rng)))
    mindspore.save_checkpoint(model, str(path))


def _keras(framework, path, rng, input_size, hidden, layers, bidirectional, bias) -> None:
    from mapping.adapters import get_adapter

    keras = get_adapter(framework).keras()
    stack = []
    for _ in range(layers):
        layer = keras.layers.LSTM(hidden, use_bias=bias, return_sequences=True)
        stack.append(keras.layers.Bidirectional(layer) if bidirectional else layer)
    model = keras.Sequential([keras.Input((None, input_size)), *stack])
    for layer in stack:
        layer.set_weights([_random_like(w.shape, rng) for w in layer.get_weights()])
    model.save_weights(str(path))
