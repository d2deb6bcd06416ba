"""LSTM: four gates (i, f, g, o), two states (h, c), an optional projection of h.

The step, with σ the recurrent activation and ``act`` the activation (PyTorch's and Keras's equations)::

    a  = x W_ih^T + h W_hh^T + b_ih + b_hh      (gate pre-activations, blocks i, f, g, o)
    i, f, o = σ(a_i), σ(a_f), σ(a_o)            g = act(a_g)
    c' = f * c + i * g                          m = o * act(c')
    h' = m W_hr^T (projection) or m

and its derivative (``dh``, ``dc``: gradients arriving at h', c'; ``'`` a derivative at the pre-activation)::

    dm  = dh W_hr (projection) or dh            dW_hr = dh^T m
    do  = dm * act(c')                          dc' = dc + dm * o * act'(c')
    di, df, dg = dc' * g, dc' * c, dc' * i       dc_prev = dc' * f
    da  = [di σ'(a_i), df σ'(a_f), dg act'(a_g), do σ'(a_o)]
    dW_ih = da^T x,  dW_hh = da^T h,  db_ih = db_hh = Σ_batch da,  dx = da W_ih,  dh_prev = da W_hh

Keras uses the same gate order (it calls g "c"); PyTorch and MindSpore too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, model_validator

from ..spec import MAX_FEATURES, LayerSpec
from .activations import ACTIVATIONS, DERIVATIVES, Activation
from .base import Cell, Op, Scales, State

if TYPE_CHECKING:
    from ..weights import DirectionWeights


class LSTMSpec(LayerSpec):
    """An LSTM stack: the shared layout plus activations and PyTorch's projection."""

    GATES = ("i", "f", "g", "o")
    STATES = ("h", "c")

    op: Literal["lstm"] = "lstm"
    activation: Activation = "tanh"
    recurrent_activation: Activation = "sigmoid"
    proj_size: int = Field(default=0, ge=0, le=MAX_FEATURES, description="PyTorch: project h to this size; 0 = off")

    @model_validator(mode="after")
    def _projection(self) -> "LSTMSpec":
        if self.proj_size and self.proj_size >= self.hidden_size:
            raise ValueError(
                f"proj_size ({self.proj_size}) must be smaller than hidden_size ({self.hidden_size})"
            )
        if self.proj_size and (self.activation, self.recurrent_activation) != ("tanh", "sigmoid"):
            # PyTorch, the only framework with a projection, has fixed activations: nothing outside the
            # reference would compute this, so it is not modelled rather than modelled unchecked.
            raise ValueError("proj_size is modelled with the tanh/sigmoid activations only (as PyTorch has it)")
        return self

    @property
    def output_size(self) -> int:
        """Size of h per direction: the projection size when projecting, else hidden_size."""
        return self.proj_size or self.hidden_size

    def state_sizes(self) -> dict[str, int]:
        return {"h": self.output_size, "c": self.hidden_size}

    def extra_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"w_hr": (self.proj_size, self.hidden_size)} if self.proj_size else {}


@dataclass
class _Cache:
    """What the backward step needs from one forward step."""

    x: np.ndarray  # input at this step (batch, in)
    h: np.ndarray  # h before the step
    c: np.ndarray  # c before the step
    a: np.ndarray  # gate pre-activations (batch, 4H), order i, f, g, o
    c_new: np.ndarray  # c'
    m: np.ndarray  # o * act(c'), h' before projection


class LSTMCell(Cell):
    spec: LSTMSpec

    def __init__(self, spec: LSTMSpec):
        super().__init__(spec)
        self.act, self.ract = ACTIVATIONS[spec.activation], ACTIVATIONS[spec.recurrent_activation]
        self.dact, self.dract = DERIVATIVES[spec.activation], DERIVATIVES[spec.recurrent_activation]

    def step(self, w: "DirectionWeights", x: np.ndarray, state: State, dropout: Scales | None = None
             ) -> tuple[State, _Cache]:
        h, c = state
        hidden = w.w_hh.shape[0] // 4
        if dropout is None:
            a = x @ w.w_ih.T + h @ w.w_hh.T
        else:  # each gate sees its own draw of the masks on x and h
            xs, hs = dropout
            a = np.concatenate([
                (x if xs is None else x * xs[k]) @ w.w_ih[k * hidden:(k + 1) * hidden].T
                + (h if hs is None else h * hs[k]) @ w.w_hh[k * hidden:(k + 1) * hidden].T
                for k in range(4)], axis=1)
        if w.b_ih is not None:
            a = a + w.b_ih + w.b_hh
        a_i, a_f, a_g, a_o = (a[:, k * hidden : (k + 1) * hidden] for k in range(4))
        i, f, g, o = self.ract(a_i), self.ract(a_f), self.act(a_g), self.ract(a_o)
        c_new = f * c + i * g
        m = o * self.act(c_new)
        h_new = m @ w.w_hr.T if w.w_hr is not None else m
        return (h_new, c_new), _Cache(x=x, h=h, c=c, a=a, c_new=c_new, m=m)

    def step_backward(self, w: "DirectionWeights", cache: _Cache, d_state: State
                      ) -> tuple[np.ndarray, State, dict[str, np.ndarray]]:
        dh, dc = d_state
        s = cache
        hidden = w.w_hh.shape[0] // 4
        grads: dict[str, np.ndarray] = {}
        if w.w_hr is not None:  # h' = m W_hr^T
            grads["w_hr"] = dh.T @ s.m
            dm = dh @ w.w_hr
        else:
            dm = dh
        a_i, a_f, a_g, a_o = (s.a[:, k * hidden : (k + 1) * hidden] for k in range(4))
        i, f, g, o = self.ract(a_i), self.ract(a_f), self.act(a_g), self.ract(a_o)
        do = dm * self.act(s.c_new)
        dc_new = dc + dm * o * self.dact(s.c_new)
        di, df, dg = dc_new * g, dc_new * s.c, dc_new * i
        dc_prev = dc_new * f
        da = np.concatenate([di * self.dract(a_i), df * self.dract(a_f), dg * self.dact(a_g),
                             do * self.dract(a_o)], axis=1)
        grads["w_ih"] = da.T @ s.x
        grads["w_hh"] = da.T @ s.h
        if w.b_ih is not None:
            db = da.sum(axis=0)
            grads["b_ih"] = db
            grads["b_hh"] = db
        return da @ w.w_ih, (da @ w.w_hh, dc_prev), grads


OP = Op(
    name="lstm",
    label="LSTM",
    spec=LSTMSpec,
    cell=LSTMCell,
    activation_fields=("recurrent_activation", "activation"),
)
