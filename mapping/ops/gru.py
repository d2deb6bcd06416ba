"""GRU: three gates (r, z, n), one state (h), and the place of the reset gate.

The step, with σ the recurrent activation and ``act`` the activation, in PyTorch's gate order r, z, n
(MindSpore uses the same; Keras orders z, r, h and calls n "h")::

    r  = σ(x W_ir^T + b_ir + h W_hr^T + b_hr)          z = σ(x W_iz^T + b_iz + h W_hz^T + b_hz)
    reset_after=True  (PyTorch, MindSpore, Keras's default):  n = act(x W_in^T + b_in + r * (h W_hn^T + b_hn))
    reset_after=False (Keras's other form):                   n = act(x W_in^T + b_in + (r * h) W_hn^T + b_hn)
    h' = (1 - z) * n + z * h

With ``reset_after`` the reset gate multiplies the recurrent bias b_hn too, so b_in and b_hn cannot be
folded into one bias; without it they can (Keras then keeps one bias vector). Derivative
(``dh``: gradient arriving at h'; ``a_*`` the pre-activations; ``g_n`` the recurrent part of n)::

    dn = dh * (1 - z)     dz = dh * (h - n)     da_n = dn * act'(a_n)
    da_z = dz * σ'(a_z)   reset_after:  dr = da_n * g_n,       dg_n = da_n * r   (g_n = h W_hn^T + b_hn)
                          otherwise:    dr = (da_n W_hn) * h,  d(r*h) = da_n W_hn
    da_r = dr * σ'(a_r)
    dW_ih = [da_r, da_z, da_n]^T x;  db_ih = Σ_batch [da_r, da_z, da_n]
    reset_after: dW_hh = [da_r, da_z, dg_n]^T h;  db_hh = Σ_batch [da_r, da_z, dg_n]
    otherwise:   dW_h{r,z} = [da_r, da_z]^T h,  dW_hn = da_n^T (r * h);  db_hh = Σ_batch [da_r, da_z, da_n]
    dx = [da_r, da_z, da_n] W_ih;  dh_prev = dh * z + (the h-part of the recurrent products, back through W_hh)
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


class GRUSpec(LayerSpec):
    """A GRU stack: the shared layout plus activations and where the reset gate acts."""

    GATES = ("r", "z", "n")
    STATES = ("h",)

    op: Literal["gru"] = "gru"
    activation: Activation = "tanh"
    recurrent_activation: Activation = "sigmoid"
    #: True: the reset gate multiplies the recurrent product including its bias (PyTorch, MindSpore, Keras's
    #: default); False: it multiplies h before the recurrent product (Keras ``reset_after=False``).
    reset_after: bool = True


@dataclass
class _Cache:
    x: np.ndarray  # input at this step (batch, in)
    h: np.ndarray  # h before the step
    a_r: np.ndarray  # pre-activations
    a_z: np.ndarray
    a_n: np.ndarray
    g_n: np.ndarray  # the recurrent part of n: h W_hn^T + b_hn (reset_after) or (r*h) W_hn^T + b_hn
    n: np.ndarray
    xs: np.ndarray | None  # the dropout scales on x and h (per gate), None when there were none
    hs: np.ndarray | None


class GRUCell(Cell):
    spec: GRUSpec

    def __init__(self, spec: GRUSpec):
        super().__init__(spec)
        self.act, self.ract = ACTIVATIONS[spec.activation], ACTIVATIONS[spec.recurrent_activation]
        self.dact, self.dract = DERIVATIVES[spec.activation], DERIVATIVES[spec.recurrent_activation]

    def step(self, w: "DirectionWeights", x: np.ndarray, state: State, dropout: Scales | None = None
             ) -> tuple[State, _Cache]:
        (h,) = state
        hidden = w.w_hh.shape[0] // 3
        xs, hs = dropout if dropout is not None else (None, None)

        def block(a: np.ndarray, k: int) -> np.ndarray:
            return a[k * hidden:(k + 1) * hidden]

        x_k = [x if xs is None else x * xs[k] for k in range(3)]
        h_k = [h if hs is None else h * hs[k] for k in range(3)]
        gi = [x_k[k] @ block(w.w_ih, k).T for k in range(3)]
        if w.b_ih is not None:
            gi = [gi[k] + block(w.b_ih, k) for k in range(3)]
        gh = [h_k[k] @ block(w.w_hh, k).T for k in range(2)]
        if w.b_hh is not None:
            gh = [gh[k] + block(w.b_hh, k) for k in range(2)]
        a_r, a_z = gi[0] + gh[0], gi[1] + gh[1]
        r, z = self.ract(a_r), self.ract(a_z)
        if self.spec.reset_after:
            g_n = h_k[2] @ block(w.w_hh, 2).T
        else:
            g_n = (r * h_k[2]) @ block(w.w_hh, 2).T
        if w.b_hh is not None:
            g_n = g_n + block(w.b_hh, 2)
        a_n = gi[2] + (r * g_n if self.spec.reset_after else g_n)
        n = self.act(a_n)
        h_new = (1.0 - z) * n + z * h
        return (h_new,), _Cache(x=x, h=h, a_r=a_r, a_z=a_z, a_n=a_n, g_n=g_n, n=n, xs=xs, hs=hs)

    def step_backward(self, w: "DirectionWeights", cache: _Cache, d_state: State
                      ) -> tuple[np.ndarray, State, dict[str, np.ndarray]]:
        if cache.xs is not None or cache.hs is not None:
            raise NotImplementedError("gradients under dropout scales are not modelled")
        (dh,) = d_state
        s = cache
        hidden = w.w_hh.shape[0] // 3
        w_hn = w.w_hh[2 * hidden:]
        r, z = self.ract(s.a_r), self.ract(s.a_z)
        dn = dh * (1.0 - z)
        dz = dh * (s.h - s.n)
        da_n = dn * self.dact(s.a_n)
        da_z = dz * self.dract(s.a_z)
        if self.spec.reset_after:
            dr = da_n * s.g_n
            dg_n = da_n * r  # gradient of g_n = h W_hn^T + b_hn
            da_r = dr * self.dract(s.a_r)
            d_hidden = np.concatenate([da_r, da_z, dg_n], axis=1)  # gradients of the three h-side products
            grads = {"w_ih": np.concatenate([da_r, da_z, da_n], axis=1).T @ s.x, "w_hh": d_hidden.T @ s.h}
            dh_prev = dh * z + d_hidden @ w.w_hh
        else:
            d_rh = da_n @ w_hn  # gradient of r * h
            dr = d_rh * s.h
            da_r = dr * self.dract(s.a_r)
            d_rz = np.concatenate([da_r, da_z], axis=1)
            grads = {"w_ih": np.concatenate([da_r, da_z, da_n], axis=1).T @ s.x,
                     "w_hh": np.concatenate([d_rz.T @ s.h, da_n.T @ (r * s.h)], axis=0)}
            d_hidden = np.concatenate([da_r, da_z, da_n], axis=1)
            dh_prev = dh * z + d_rz @ w.w_hh[:2 * hidden] + d_rh * r
        d_input = np.concatenate([da_r, da_z, da_n], axis=1)
        if w.b_ih is not None:
            grads["b_ih"] = d_input.sum(axis=0)
            grads["b_hh"] = d_hidden.sum(axis=0)
        return d_input @ w.w_ih, (dh_prev,), grads


def _hypotheses(problem):
    """GRU's own mistake: the reset gate on the wrong side of the recurrent product (``reset_after`` flipped, as a
    port between PyTorch's form and Keras's ``reset_after=False`` does when it keeps the weights and not the form)."""
    from ..diagnose.hypotheses import Hypothesis

    spec = problem.spec
    where = "before" if spec.reset_after else "after"
    yield Hypothesis(f"the reset gate is applied {where} the recurrent product (reset_after={not spec.reset_after}, "
                     f"not {spec.reset_after})",
                     lambda: problem.replace(spec=spec.replace(reset_after=not spec.reset_after)).reference())


OP = Op(
    name="gru",
    label="GRU",
    spec=GRUSpec,
    cell=GRUCell,
    activation_fields=("recurrent_activation", "activation"),
    hypotheses=_hypotheses,
)
