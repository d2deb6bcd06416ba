"""Where a framework's result starts to differ from the reference: layer, direction, output or which final
state, and the first time step, in words. Generic over ops (the states are the op's)."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..compare import within_tolerance
from ..problem import Problem, RunResult
from ..spec import LayerSpec

DIRECTION_NAMES = ("forward", "backward")


def out_of_tolerance(actual: np.ndarray, expected: np.ndarray, tol: float) -> np.ndarray:
    """Boolean array, True where an element is out of tolerance (NaN counts as out)."""
    return ~within_tolerance(actual, expected, tol)


def field_ok(name: str, actual: np.ndarray, expected: np.ndarray, tol: float, select: np.ndarray | None) -> bool:
    """Whether one field matches; ``select`` (broadcastable to the output) limits the output to real steps."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        return False
    bad = out_of_tolerance(actual, expected, tol)
    if name == "output" and select is not None:
        bad = bad & np.broadcast_to(select, bad.shape)
    return not bad.any()


def fields_ok(actual: RunResult, expected: RunResult, tol: float, select) -> dict[str, bool]:
    got = actual.fields()
    return {name: field_ok(name, got.get(name, np.empty(0)), ref, tol, select)
            for name, ref in expected.fields().items()}


def direction_label(spec: LayerSpec, d: int) -> str:
    return DIRECTION_NAMES[d] if spec.bidirectional else ("backward (go_backwards)" if spec.go_backwards
                                                          else "forward")


def locate(problem: Problem, actual: RunResult, expected: RunResult, tol: float) -> str:
    """Where the difference starts, in words."""
    spec = problem.spec
    states = ops.of(spec).states
    got, ref = actual.fields(), expected.fields()
    shapes = [f"{n} has shape {tuple(np.shape(got.get(n)))}, reference {tuple(np.shape(ref[n]))}"
              for n in ref if np.shape(got.get(n)) != np.shape(ref[n])]
    if shapes:
        return "shapes differ: " + ", ".join(shapes)
    out_a, out_e = np.asarray(actual.output), np.asarray(expected.output)
    if spec.batch_first:
        out_a, out_e = out_a.transpose(1, 0, 2), out_e.transpose(1, 0, 2)
    steps, batch = out_e.shape[:2]
    bad_out = out_of_tolerance(out_a, out_e, tol)  # (time, batch, features)
    valid = problem.real_steps()
    if spec.go_backwards:
        valid = valid[::-1]
    bad_out &= valid[..., None]
    dirs, size = spec.num_directions, spec.output_size
    bad = {s: [bool(out_of_tolerance(got[f"{s}_n"][k], ref[f"{s}_n"][k], tol).any())
               for k in range(len(ref[f"{s}_n"]))] for s in states}
    layers_bad = [layer for layer in range(spec.num_layers)
                  if any(bad[s][layer * dirs + d] for d in range(dirs) for s in states)]
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
        fields += [f"final {s}" for s in states if bad[s][k]]
        if fields:
            parts.append(f"{direction_label(spec, d)}: " + ", ".join(fields))
        elif dirs > 1:
            parts.append(f"{direction_label(spec, d)} matches")
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
