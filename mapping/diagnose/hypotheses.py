"""Single mistakes that could explain a mismatch, each as a recomputation of the float64 reference.

Generic over ops: gate permutations come from the op's gates, state swaps from its states, activations
from its activation fields; an op may add its own (:attr:`mapping.ops.Op.hypotheses`). Worded in the
canonical gate names ("the gates are ordered i, g, f, o" means the framework's gate slots i, f, g, o
held the canonical blocks i, g, f, o, i.e. the f and g blocks were swapped on the way in).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Callable, Iterator

import numpy as np

from .. import ops
from ..ops.activations import ACTIVATIONS
from ..problem import Problem, RunResult
from ..reference import reverse_padded
from ..spec import LayerSpec
from ..weights import CanonicalWeights, DirectionWeights
from .locate import DIRECTION_NAMES


@dataclass(frozen=True)
class Hypothesis:
    text: str
    result: Callable[[], RunResult]
    #: lengths the alternative ran with (the output is compared on steps real under both)
    lengths: np.ndarray | None = None


def _gates(arr: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    blocks = np.split(arr, len(perm), axis=0)
    return np.concatenate([blocks[p] for p in perm], axis=0)


def _map_cells(weights: CanonicalWeights, fn: Callable[[tuple[int, int], DirectionWeights], DirectionWeights],
               only: tuple[int, int] | None = None) -> CanonicalWeights:
    cells = {key: (fn(key, cell) if only is None or key == only else cell) for key, cell in weights.cells.items()}
    return CanonicalWeights(spec=weights.spec, cells=cells)


def _scope(spec: LayerSpec, key: tuple[int, int] | None) -> str:
    if key is None:
        return ""
    layer, d = key
    where = []
    if spec.num_layers > 1:
        where.append(f"layer {layer}")
    if spec.bidirectional:
        where.append(f"the {DIRECTION_NAMES[d]} direction")
    return " in " + ", ".join(where) + " only"


def _scopes(weights: CanonicalWeights) -> list[tuple[int, int] | None]:
    keys = list(weights.keys())
    return [None] + (keys if len(keys) > 1 else [])


def gate_order_text(gates: tuple[str, ...], perm: tuple[int, ...]) -> str:
    return ", ".join(gates[p] for p in perm)


def _same_shape_pairs(names: tuple[str, ...], arrays: dict[str, np.ndarray]) -> list[tuple[str, str]]:
    return [(a, b) for a, b in itertools.combinations(names, 2) if np.shape(arrays[a]) == np.shape(arrays[b])]


def weight_hypotheses(problem: Problem) -> Iterator[Hypothesis]:
    spec, w = problem.spec, problem.weights
    gates = ops.of(spec).gates

    def with_weights(new: CanonicalWeights) -> Callable[[], RunResult]:
        return lambda: problem.replace(weights=new).reference()

    identity = tuple(range(len(gates)))
    for perm in itertools.permutations(identity):
        if perm == identity:
            continue
        for key in _scopes(w):
            def permute(_, cell, perm=perm):
                return DirectionWeights(
                    w_ih=_gates(cell.w_ih, perm), w_hh=_gates(cell.w_hh, perm),
                    b_ih=None if cell.b_ih is None else _gates(cell.b_ih, perm),
                    b_hh=None if cell.b_hh is None else _gates(cell.b_hh, perm), w_hr=cell.w_hr)
            yield Hypothesis(f"the gates are ordered {gate_order_text(gates, perm)}{_scope(spec, key)}",
                             with_weights(_map_cells(w, permute, key)))

    if spec.bias:
        folds = [
            ("b_hh is dropped (only b_ih is used)", lambda c: (c.b_ih, 0 * c.b_hh)),
            ("b_ih is dropped (only b_hh is used)", lambda c: (0 * c.b_ih, c.b_hh)),
            ("both biases are dropped", lambda c: (0 * c.b_ih, 0 * c.b_hh)),
            ("b_hh is added twice (bias = b_ih + 2 b_hh)", lambda c: (c.b_ih, 2 * c.b_hh)),
            ("b_ih is added twice (bias = 2 b_ih + b_hh)", lambda c: (2 * c.b_ih, c.b_hh)),
            ("the bias is doubled (bias = 2 (b_ih + b_hh), the fold done twice)", lambda c: (2 * c.b_ih, 2 * c.b_hh)),
        ]
        for text, fold in folds:
            for key in _scopes(w):
                def refold(_, cell, fold=fold):
                    b_ih, b_hh = fold(cell)
                    return replace(cell, b_ih=b_ih, b_hh=b_hh)
                yield Hypothesis(text + _scope(spec, key), with_weights(_map_cells(w, refold, key)))

    def reshaped_in(a):  # a Keras-layout kernel made with reshape where .T belongs, read back correctly
        return a.reshape(a.shape[1], a.shape[0]).T

    def reshaped_out(a):  # a correct Keras-layout kernel read back with reshape where .T belongs
        return a.T.reshape(a.shape)

    for name, array in (("recurrent kernel (w_hh)", "w_hh"), ("input kernel (w_ih)", "w_ih")):
        for text, fn in ((f"the {name} is reshaped instead of transposed on the way in", reshaped_in),
                         (f"the {name} is reshaped instead of transposed on the way out", reshaped_out)):
            for key in _scopes(w):
                yield Hypothesis(text + _scope(spec, key), with_weights(
                    _map_cells(w, lambda _, c, fn=fn, array=array: replace(c, **{array: fn(getattr(c, array))}),
                               key)))
    if spec.output_size == spec.hidden_size:
        def blockwise_t(_, c):
            return replace(c, w_hh=np.concatenate([b.T for b in np.split(c.w_hh, len(gates), axis=0)], axis=0))
        yield Hypothesis("each gate's block of the recurrent kernel is transposed",
                         with_weights(_map_cells(w, blockwise_t)))

    if spec.bidirectional:
        def swapped(layers):
            cells = dict(w.cells)
            for layer in layers:
                cells[layer, 0], cells[layer, 1] = w.cells[layer, 1], w.cells[layer, 0]
            return CanonicalWeights(spec=spec, cells=cells)

        yield Hypothesis("the forward and backward directions' weights are swapped",
                         with_weights(swapped(range(spec.num_layers))))
        if spec.num_layers > 1:
            for layer in range(spec.num_layers):
                yield Hypothesis(f"the forward and backward directions' weights are swapped in layer {layer} only",
                                 with_weights(swapped([layer])))
            size = spec.output_size

            def halves(_, c):
                return replace(c, w_ih=np.concatenate([c.w_ih[:, size:], c.w_ih[:, :size]], axis=1))
            for key in [None] + [k for k in w.keys() if k[0] > 0]:
                if key is None:
                    new = CanonicalWeights(spec=spec, cells={k: halves(k, c) if k[0] > 0 else c
                                                             for k, c in w.cells.items()})
                    scope = ""
                else:
                    new = _map_cells(w, halves, key)
                    scope = _scope(spec, key)
                yield Hypothesis("the layers above the first read the backward features first (the two halves "
                                 f"of w_ih's input columns are swapped){scope}", with_weights(new))
    for a, b in itertools.combinations(range(spec.num_layers), 2):
        if spec.layer_input_size(a) == spec.layer_input_size(b):
            cells = dict(w.cells)
            for d in range(spec.num_directions):
                cells[a, d], cells[b, d] = w.cells[b, d], w.cells[a, d]
            yield Hypothesis(f"layers {a} and {b} have each other's weights",
                             with_weights(CanonicalWeights(spec=spec, cells=cells)))


def input_hypotheses(problem: Problem) -> Iterator[Hypothesis]:
    spec, x, lengths = problem.spec, problem.x, problem.lengths
    op = ops.of(spec)
    time_axis = 1 if spec.batch_first else 0
    flipped = np.flip(x, axis=time_axis).copy()
    yield Hypothesis("the input is reversed in time", lambda: problem.replace(x=flipped).reference())
    if lengths is not None:
        xt = x.transpose(1, 0, 2) if spec.batch_first else x
        rp = reverse_padded(xt, lengths)
        rp = rp.transpose(1, 0, 2) if spec.batch_first else rp
        yield Hypothesis("each sample's real steps are reversed in time",
                         lambda: problem.replace(x=rp.copy()).reference())
    if not spec.bidirectional:
        flag = not spec.go_backwards
        yield Hypothesis(f"go_backwards is {'on' if flag else 'off'}",
                         lambda: problem.replace(spec=spec.replace(go_backwards=flag)).reference())
    yield Hypothesis("the batch and time axes are read the other way round (batch_first not applied)",
                     lambda: problem.replace(spec=spec.replace(batch_first=not spec.batch_first)).reference())
    if problem.initial_state is not None:
        initial = dict(zip(op.states, problem.initial_state))
        yield Hypothesis("the initial state is ignored (zeros are used)",
                         lambda: problem.replace(initial_state=None).reference())
        for a, b in _same_shape_pairs(op.states, initial):
            swapped = tuple(initial[b] if s == a else initial[a] if s == b else initial[s] for s in op.states)
            yield Hypothesis(f"the initial {a} and {b} are swapped",
                             lambda swapped=swapped: problem.replace(initial_state=swapped).reference())
    if lengths is not None:
        steps = x.shape[time_axis]
        shorter = np.where(lengths > 1, lengths - 1, lengths)
        longer = np.where(lengths < steps, lengths + 1, lengths)
        yield Hypothesis("the lengths are one shorter (lengths - 1)",
                         lambda: problem.replace(lengths=shorter).reference(), lengths=shorter)
        yield Hypothesis("the lengths are one longer (lengths + 1)",
                         lambda: problem.replace(lengths=longer).reference(), lengths=longer)
        yield Hypothesis("the lengths are ignored (every step runs)", lambda: problem.replace(lengths=None).reference())
    for field in op.activation_fields:
        current = getattr(spec, field)
        name = field.replace("_", " ")
        for act in ACTIVATIONS:
            if act != current:
                yield Hypothesis(f"the {name} is {act} (not {current})",
                                 lambda act=act, field=field: problem.replace(
                                     spec=spec.replace(**{field: act})).reference())


def result_hypotheses(problem: Problem, ref: RunResult) -> Iterator[Hypothesis]:
    """Mistakes in collecting the result: the reference's numbers, put together differently."""
    spec, lengths = problem.spec, problem.lengths
    op = ops.of(spec)
    time_axis = 1 if spec.batch_first else 0
    out = np.asarray(ref.output)

    def as_tm(a):
        return a.transpose(1, 0, 2) if spec.batch_first else a

    finals = dict(zip(op.states, ref.states.values()))
    for a, b in _same_shape_pairs(op.states, finals):
        yield Hypothesis(f"{a} and {b} are swapped in the final states",
                         lambda a=a, b=b: ref.replace(**{f"{a}_n": finals[b], f"{b}_n": finals[a]}))
    yield Hypothesis("the output comes back in reverse time order",
                     lambda: ref.replace(output=np.flip(out, axis=time_axis).copy()))
    if lengths is not None:
        rp = as_tm(reverse_padded(as_tm(out), lengths))
        yield Hypothesis("each sample's real output steps come back in reverse order", lambda: ref.replace(output=rp))
    if spec.bidirectional:
        size = spec.output_size
        for per_sample in ((False, True) if lengths is not None else (False,)):
            back = out[..., size:]
            if per_sample:
                back = as_tm(reverse_padded(as_tm(back), lengths))
            else:
                back = np.flip(back, axis=time_axis)
            alt = np.concatenate([out[..., :size], back], axis=-1)
            how = "each sample's real steps" if per_sample else "the time axis"
            yield Hypothesis(f"the backward half of the output is reversed along {how} (backward output left in "
                             "processing order, or flipped twice)", lambda alt=alt: ref.replace(output=alt))
        swapped = np.concatenate([out[..., size:], out[..., :size]], axis=-1)
        yield Hypothesis("the output's forward and backward halves are swapped (backward features first)",
                         lambda: ref.replace(output=swapped))
    yield Hypothesis("the output's batch and time axes are swapped",
                     lambda: ref.replace(output=out.transpose(1, 0, 2).copy()))
