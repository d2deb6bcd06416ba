"""Diagnosis of a mismatch: where a framework's result starts to differ from the reference, and why.

Given the problem a framework ran (spec, canonical weights, input, initial state, lengths) and the
:class:`~mapping.outputs.LSTMResult` it returned, :func:`diagnose`

1. **locates** the first difference: the lowest layer whose final state differs (an error in one layer
   reaches every layer above it), which direction(s), which of output / final h / final c, and for the last
   layer the first time step of the output that differs, in each direction's processing order;
2. **explains** it by recomputing the float64 reference under plausible mistakes and reporting those that
   reproduce the framework's numbers: the 23 other orders of the four gates (everywhere or in one layer and
   direction), the bias folds (b_ih or b_hh dropped or counted twice), kernels reshaped instead of transposed,
   a reversed time axis, swapped directions or layers, swapped h and c, final states collected in another
   order, an ignored initial state, lengths off by one, the batch and time axes read the other way, another
   activation.

The explanation is worded in the canonical gate names i, f, g, o (Keras calls g "c"): "matches if the
gates are ordered i, g, f, o" means the framework's gate slots i, f, g, o held the canonical blocks
i, g, f, o, i.e. the f and g blocks were swapped on the way in.

Pure NumPy; no framework is imported. Used by :class:`mapping.checks.measure.Measurement` when a
comparison that carries its problem fails, so the failure message gets a ``diagnosis:`` line.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

import numpy as np

from .outputs import LSTMResult, valid_steps
from .reference import ACTIVATIONS, reference_lstm, reverse_padded
from .spec import LSTMSpec
from .weights import GATE_ORDER, CanonicalWeights, DirectionWeights

DIRECTION_NAMES = ("forward", "backward")


@dataclass(frozen=True)
class Problem:
    """What a framework was given: enough to recompute the reference under any hypothesis."""

    spec: LSTMSpec
    weights: CanonicalWeights
    x: np.ndarray
    initial_state: tuple[np.ndarray, np.ndarray] | None = None
    lengths: np.ndarray | None = None

    def reference(self, **changes) -> LSTMResult:
        p = replace(self, **changes) if changes else self
        return reference_lstm(p.spec, p.weights, p.x, p.initial_state, p.lengths)


@dataclass
class Diagnosis:
    where: str
    explanations: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    tried: int = 0

    @property
    def explained(self) -> bool:
        return bool(self.explanations)

    def line(self) -> str:
        """One line for a failure message."""
        text = self.where
        if self.explanations:
            text += f"; matches if {self.explanations[0]}"
            if len(self.explanations) > 1:
                text += f" (equally: {'; '.join(self.explanations[1:4])}"
                text += f"; +{len(self.explanations) - 4} more)" if len(self.explanations) > 4 else ")"
        else:
            text += f"; none of {self.tried} single explanations tried reproduces it"
            if self.partial:
                text += f" (partly: {'; '.join(self.partial[:3])})"
        return text

    def __str__(self) -> str:
        return self.line()


# --- comparing -------------------------------------------------------------------------------------------


def _bad(actual: np.ndarray, expected: np.ndarray, tol: float) -> np.ndarray:
    """Boolean array, True where an element is out of tolerance (NaN counts as out)."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        ok = np.abs(a - e) <= tol * (1.0 + np.abs(e))
    return ~ok


def _output_select(spec: LSTMSpec, lengths, batch: int, steps: int) -> np.ndarray | None:
    """(time, batch) or (batch, time) boolean array of real steps, in the output's layout, or None."""
    if lengths is None:
        return None
    valid = valid_steps(lengths, batch, steps)  # (time, batch)
    if spec.go_backwards:
        valid = valid[::-1]
    return valid.T if spec.batch_first else valid


def _field_ok(name: str, actual: np.ndarray, expected: np.ndarray, tol: float, select) -> bool:
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        return False
    bad = _bad(actual, expected, tol)
    if name == "output" and select is not None and select.shape == bad.shape[:2]:
        bad = bad & select[..., None]
    return not bad.any()


def _fields_ok(actual: LSTMResult, expected: LSTMResult, tol: float, select) -> dict[str, bool]:
    return {name: _field_ok(name, getattr(actual, name), getattr(expected, name), tol, select)
            for name in ("output", "h_n", "c_n")}


# --- where -----------------------------------------------------------------------------------------------


def _direction_label(spec: LSTMSpec, d: int) -> str:
    return DIRECTION_NAMES[d] if spec.bidirectional else ("backward (go_backwards)" if spec.go_backwards
                                                          else "forward")


def locate(problem: Problem, actual: LSTMResult, expected: LSTMResult, tol: float) -> str:
    """Where the difference starts, in words."""
    spec = problem.spec
    shapes = [f"{n} has shape {tuple(np.shape(getattr(actual, n)))}, reference {tuple(np.shape(getattr(expected, n)))}"
              for n in ("output", "h_n", "c_n") if np.shape(getattr(actual, n)) != np.shape(getattr(expected, n))]
    if shapes:
        return "shapes differ: " + ", ".join(shapes)
    out_a, out_e = np.asarray(actual.output), np.asarray(expected.output)
    if spec.batch_first:
        out_a, out_e = out_a.transpose(1, 0, 2), out_e.transpose(1, 0, 2)
    steps, batch = out_e.shape[:2]
    bad_out = _bad(out_a, out_e, tol)  # (time, batch, features)
    valid = valid_steps(problem.lengths, batch, steps)
    if spec.go_backwards:
        valid = valid[::-1]
    bad_out &= valid[..., None]
    dirs, size = spec.num_directions, spec.output_size
    bad_h = [bool(_bad(actual.h_n[k], expected.h_n[k], tol).any()) for k in range(len(expected.h_n))]
    bad_c = [bool(_bad(actual.c_n[k], expected.c_n[k], tol).any()) for k in range(len(expected.c_n))]
    layers_bad = [layer for layer in range(spec.num_layers)
                  if any(bad_h[layer * dirs + d] or bad_c[layer * dirs + d] for d in range(dirs))]
    out_dirs_bad = [d for d in range(dirs) if bad_out[..., d * size:(d + 1) * size].any()]
    if not layers_bad and not out_dirs_bad:
        return "no difference beyond tolerance"
    layer = layers_bad[0] if layers_bad else spec.num_layers - 1
    last = spec.num_layers - 1
    parts = []
    for d in range(dirs):
        k = layer * dirs + d
        fields = []
        if layer == last and d in out_dirs_bad:
            steps_bad = np.flatnonzero(bad_out[..., d * size:(d + 1) * size].any(axis=(1, 2)))
            real = int(valid.any(axis=1).sum())
            backward = d == 1  # a backward direction's first step is each sample's last real step
            first = int(steps_bad.max()) if backward else int(steps_bad.min())
            order = ", where it starts" if backward else ""
            fields.append(f"output from time step {first}{order} ({len(steps_bad)} of {real} steps differ)")
        if bad_h[k]:
            fields.append("final h")
        if bad_c[k]:
            fields.append("final c")
        if fields:
            parts.append(f"{_direction_label(spec, d)}: " + ", ".join(fields))
        elif dirs > 1:
            parts.append(f"{_direction_label(spec, d)} matches")
    where = f"difference starts in layer {layer}" + (f" of {spec.num_layers}" if spec.num_layers > 1 else "")
    if layer > 0:
        where += " (layers below match)"
    text = f"{where}: " + "; ".join(parts)
    if layer != last:
        above = [str(m) for m in range(layer + 1, spec.num_layers) if m in layers_bad]
        if above:
            many = len(above) > 1
            text += f"; layer{'s' if many else ''} {', '.join(above)} then differ{'' if many else 's'}"
        if out_dirs_bad:
            text += "; the output differs"
    return text


# --- hypotheses ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hypothesis:
    text: str
    result: Callable[[], LSTMResult]
    #: lengths the alternative ran with (the output is compared on steps real under both)
    lengths: np.ndarray | None = None
    same_select: bool = True


def _gates(arr: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    blocks = np.split(arr, 4, axis=0)
    return np.concatenate([blocks[p] for p in perm], axis=0)


def _map_cells(weights: CanonicalWeights, fn: Callable[[tuple[int, int], DirectionWeights], DirectionWeights],
               only: tuple[int, int] | None = None) -> CanonicalWeights:
    cells = {key: (fn(key, cell) if only is None or key == only else cell) for key, cell in weights.cells.items()}
    return CanonicalWeights(spec=weights.spec, cells=cells)


def _scope(spec: LSTMSpec, key: tuple[int, int] | None) -> str:
    if key is None:
        return ""
    layer, d = key
    where = []
    if spec.num_layers > 1:
        where.append(f"layer {layer}")
    if spec.bidirectional:
        where.append(f"the {DIRECTION_NAMES[d]} direction")
    return " in " + ", ".join(where) + " only"


def _scopes(spec: LSTMSpec, weights: CanonicalWeights) -> list[tuple[int, int] | None]:
    keys = list(weights.keys())
    return [None] + (keys if len(keys) > 1 else [])


def gate_order_text(perm: tuple[int, ...]) -> str:
    return ", ".join(GATE_ORDER[p] for p in perm)


def _weight_hypotheses(problem: Problem) -> Iterator[Hypothesis]:
    spec, w = problem.spec, problem.weights

    def with_weights(new: CanonicalWeights) -> Callable[[], LSTMResult]:
        return lambda: problem.reference(weights=new)

    identity = tuple(range(4))
    for perm in itertools.permutations(range(4)):
        if perm == identity:
            continue
        for key in _scopes(spec, w):
            def permute(_, cell, perm=perm):
                return DirectionWeights(
                    w_ih=_gates(cell.w_ih, perm), w_hh=_gates(cell.w_hh, perm),
                    b_ih=None if cell.b_ih is None else _gates(cell.b_ih, perm),
                    b_hh=None if cell.b_hh is None else _gates(cell.b_hh, perm), w_hr=cell.w_hr)
            yield Hypothesis(f"the gates are ordered {gate_order_text(perm)}{_scope(spec, key)}",
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
            for key in _scopes(spec, w):
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
            for key in _scopes(spec, w):
                yield Hypothesis(text + _scope(spec, key), with_weights(
                    _map_cells(w, lambda _, c, fn=fn, array=array: replace(c, **{array: fn(getattr(c, array))}),
                               key)))
    if spec.output_size == spec.hidden_size:
        def blockwise_t(_, c):
            return replace(c, w_hh=np.concatenate([b.T for b in np.split(c.w_hh, 4, axis=0)], axis=0))
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


def _input_hypotheses(problem: Problem) -> Iterator[Hypothesis]:
    spec, x, lengths = problem.spec, problem.x, problem.lengths
    time_axis = 1 if spec.batch_first else 0
    flipped = np.flip(x, axis=time_axis).copy()
    yield Hypothesis("the input is reversed in time", lambda: problem.reference(x=flipped))
    if lengths is not None:
        xt = x.transpose(1, 0, 2) if spec.batch_first else x
        rp = reverse_padded(xt, lengths)
        rp = rp.transpose(1, 0, 2) if spec.batch_first else rp
        yield Hypothesis("each sample's real steps are reversed in time", lambda: problem.reference(x=rp.copy()))
    if not spec.bidirectional:
        flag = not spec.go_backwards
        yield Hypothesis(f"go_backwards is {'on' if flag else 'off'}",
                         lambda: problem.reference(spec=spec.replace(go_backwards=flag)))
    yield Hypothesis("the batch and time axes are read the other way round (batch_first not applied)",
                     lambda: problem.reference(spec=spec.replace(batch_first=not spec.batch_first)))
    if problem.initial_state is not None:
        h0, c0 = problem.initial_state
        yield Hypothesis("the initial state is ignored (zeros are used)", lambda: problem.reference(initial_state=None))
        if h0.shape == c0.shape:
            yield Hypothesis("the initial h and c are swapped", lambda: problem.reference(initial_state=(c0, h0)))
    if lengths is not None:
        steps = x.shape[time_axis]
        shorter = np.where(lengths > 1, lengths - 1, lengths)
        longer = np.where(lengths < steps, lengths + 1, lengths)
        yield Hypothesis("the lengths are one shorter (lengths - 1)",
                         lambda: problem.reference(lengths=shorter), lengths=shorter)
        yield Hypothesis("the lengths are one longer (lengths + 1)",
                         lambda: problem.reference(lengths=longer), lengths=longer)
        yield Hypothesis("the lengths are ignored (every step runs)", lambda: problem.reference(lengths=None))
    for act in ACTIVATIONS:
        if act != spec.recurrent_activation:
            yield Hypothesis(f"the recurrent activation is {act} (not {spec.recurrent_activation})",
                             lambda act=act: problem.reference(spec=spec.replace(recurrent_activation=act)))
    for act in ACTIVATIONS:
        if act != spec.activation:
            yield Hypothesis(f"the activation is {act} (not {spec.activation})",
                             lambda act=act: problem.reference(spec=spec.replace(activation=act)))


def _result_hypotheses(problem: Problem, ref: LSTMResult) -> Iterator[Hypothesis]:
    """Mistakes in collecting the result: the reference's numbers, put together differently."""
    spec, lengths = problem.spec, problem.lengths
    time_axis = 1 if spec.batch_first else 0
    out = np.asarray(ref.output)

    def as_tm(a):
        return a.transpose(1, 0, 2) if spec.batch_first else a

    if ref.h_n.shape == ref.c_n.shape:
        yield Hypothesis("h and c are swapped in the final states", lambda: LSTMResult(ref.output, ref.c_n, ref.h_n))
    yield Hypothesis("the output comes back in reverse time order",
                     lambda: LSTMResult(np.flip(out, axis=time_axis).copy(), ref.h_n, ref.c_n))
    if lengths is not None:
        rp = as_tm(reverse_padded(as_tm(out), lengths))
        yield Hypothesis("each sample's real output steps come back in reverse order",
                         lambda: LSTMResult(rp, ref.h_n, ref.c_n))
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
                             "processing order, or flipped twice)", lambda alt=alt: LSTMResult(alt, ref.h_n, ref.c_n))
        swapped = np.concatenate([out[..., size:], out[..., :size]], axis=-1)
        yield Hypothesis("the output's forward and backward halves are swapped (backward features first)",
                         lambda: LSTMResult(swapped, ref.h_n, ref.c_n))
    yield Hypothesis("the output's batch and time axes are swapped",
                     lambda: LSTMResult(out.transpose(1, 0, 2).copy(), ref.h_n, ref.c_n))


def _state_order(spec: LSTMSpec, actual: LSTMResult, ref: LSTMResult, tol: float) -> str | None:
    """If the final states are the reference's in another order, say which order."""
    n = len(ref.h_n)
    if n < 2 or np.shape(actual.h_n) != np.shape(ref.h_n) or np.shape(actual.c_n) != np.shape(ref.c_n):
        return None
    order = []
    for k in range(n):
        hits = [j for j in range(n) if not _bad(actual.h_n[k], ref.h_n[j], tol).any()
                and not _bad(actual.c_n[k], ref.c_n[j], tol).any()]
        if len(hits) != 1:
            return None
        order.append(hits[0])
    if order == list(range(n)) or sorted(order) != list(range(n)):
        return None
    dirs = spec.num_directions

    def name(j):
        layer, d = divmod(j, dirs)
        return f"layer {layer}" + (f" {DIRECTION_NAMES[d]}" if dirs > 1 else "")

    layers_reversed = [(spec.num_layers - 1 - j // dirs) * dirs + j % dirs for j in range(n)]
    dirs_swapped = [(j // dirs) * dirs + (dirs - 1 - j % dirs) for j in range(n)]
    if order == layers_reversed:
        return "the final states are collected with the layers in reverse order"
    if order == dirs_swapped:
        return "the final states of the two directions are in the other order (backward first)"
    return "the final states are collected in the order " + ", ".join(name(j) for j in order)


def diagnose(problem: Problem, actual: LSTMResult, tol: float | None = None) -> Diagnosis:
    """Locate the first difference of ``actual`` from the reference and try to explain it."""
    spec = problem.spec
    if tol is None:
        tol = 1e-6 if spec.dtype == "float32" else 1e-12
    match_tol = 10 * tol  # the alternatives are exact float64; the framework rounds as it always does
    ref = problem.reference()
    steps = problem.x.shape[1 if spec.batch_first else 0]
    batch = problem.x.shape[0 if spec.batch_first else 1]
    select = _output_select(spec, problem.lengths, batch, steps)
    diagnosis = Diagnosis(where=locate(problem, actual, ref, tol))
    baseline = _fields_ok(actual, ref, match_tol, select)
    if all(baseline.values()):
        diagnosis.where += " (within 10x the tolerance)"
    seen: set[str] = set()

    def consider(h: Hypothesis) -> None:
        if h.text in seen:
            return
        seen.add(h.text)
        diagnosis.tried += 1
        try:
            alt = h.result()
        except Exception:  # a hypothesis that does not fit the problem's shapes is simply not it
            return
        sel = select
        if h.lengths is not None:
            sel = _output_select(spec, np.minimum(h.lengths, problem.lengths), batch, steps)
        ok = _fields_ok(actual, alt, match_tol, sel)
        if all(ok.values()):
            diagnosis.explanations.append(h.text)
        elif sum(ok.values()) > sum(baseline.values()):
            fixed = [k for k in ok if ok[k] and not baseline[k]]
            still = [k for k in ok if not ok[k]]
            diagnosis.partial.append(f"{h.text} explains {', '.join(fixed)} but not {', '.join(still)}")

    order = _state_order(spec, actual, ref, match_tol)
    diagnosis.tried += 1
    if order and _field_ok("output", actual.output, ref.output, match_tol, select):
        diagnosis.explanations.append(order)
    for h in itertools.chain(_result_hypotheses(problem, ref), _input_hypotheses(problem), _weight_hypotheses(problem)):
        consider(h)
    return diagnosis
