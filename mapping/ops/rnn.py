"""Elman RNN: one block, one state (h), a selectable nonlinearity.

    h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)

``act`` is PyTorch's and MindSpore's ``nonlinearity`` (tanh or relu) and Keras's ``SimpleRNN`` activation.
Derivative (``dh``: gradient arriving at h')::

    da = dh * act'(a)     dW_ih = da^T x   dW_hh = da^T h   db_ih = db_hh = Σ_batch da
    dx = da W_ih          dh_prev = da W_hh
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..spec import LayerSpec
from .activations import ACTIVATIONS, DERIVATIVES, Activation
from .base import Cell, Op, Scales, State

if TYPE_CHECKING:
    from ..weights import DirectionWeights


class RNNSpec(LayerSpec):
    """An Elman RNN stack: the shared layout plus its nonlinearity."""

    GATES = ("h",)
    STATES = ("h",)

    op: Literal["rnn"] = "rnn"
    activation: Activation = "tanh"


@dataclass
class _Cache:
    x: np.ndarray
    h: np.ndarray
    a: np.ndarray


class RNNCell(Cell):
    spec: RNNSpec

    def __init__(self, spec: RNNSpec):
        super().__init__(spec)
        self.act, self.dact = ACTIVATIONS[spec.activation], DERIVATIVES[spec.activation]

    def step(self, w: "DirectionWeights", x: np.ndarray, state: State, dropout: Scales | None = None
             ) -> tuple[State, _Cache]:
        (h,) = state
        if dropout is not None:
            xs, hs = dropout
            x = x if xs is None else x * xs[0]
            h_in = h if hs is None else h * hs[0]
        else:
            h_in = h
        a = x @ w.w_ih.T + h_in @ w.w_hh.T
        if w.b_ih is not None:
            a = a + w.b_ih + w.b_hh
        return (self.act(a),), _Cache(x=x, h=h, a=a)

    def step_backward(self, w: "DirectionWeights", cache: _Cache, d_state: State
                      ) -> tuple[np.ndarray, State, dict[str, np.ndarray]]:
        (dh,) = d_state
        da = dh * self.dact(cache.a)
        grads = {"w_ih": da.T @ cache.x, "w_hh": da.T @ cache.h}
        if w.b_ih is not None:
            db = da.sum(axis=0)
            grads["b_ih"] = db
            grads["b_hh"] = db
        return da @ w.w_ih, (da @ w.w_hh,), grads


OP = Op(
    name="rnn",
    label="RNN",
    spec=RNNSpec,
    cell=RNNCell,
    activation_fields=("activation",),
)
