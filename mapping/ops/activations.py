"""The activation functions the reference knows, and their derivatives (for the backward pass).

``hard_sigmoid`` is the modern definition (Keras 3, PyTorch's Hardsigmoid): ``clip(x / 6 + 0.5, 0, 1)``.
``hard_sigmoid_legacy`` is Keras 2 / TensorFlow 1.x's ``clip(0.2 * x + 0.5, 0, 1)``: the same name in
two Keras versions, two functions.
"""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np

Activation = Literal["tanh", "sigmoid", "hard_sigmoid", "hard_sigmoid_legacy", "relu", "linear"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free form of 1 / (1 + exp(-x))


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "hard_sigmoid": lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
    "hard_sigmoid_legacy": lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),
    "relu": lambda x: np.maximum(x, 0.0),
    "linear": lambda x: x,
}

#: Derivative of each activation, as a function of its *input* (the pre-activation). At the kinks of
#: hard_sigmoid and relu the derivative is taken as that of the flat side, as the frameworks do.
DERIVATIVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": lambda x: 1.0 - np.tanh(x) ** 2,
    "sigmoid": lambda x: ACTIVATIONS["sigmoid"](x) * (1.0 - ACTIVATIONS["sigmoid"](x)),
    "hard_sigmoid": lambda x: np.where((x > -3.0) & (x < 3.0), 1.0 / 6.0, 0.0),
    "hard_sigmoid_legacy": lambda x: np.where((x > -2.5) & (x < 2.5), 0.2, 0.0),
    "relu": lambda x: (x > 0.0).astype(np.float64),
    "linear": lambda x: np.ones_like(x),
}
