"""Fault injection: does the suite notice when the harness itself is wrong?

A catalogue of deliberate, named mistakes in the *harness* (converters, adapters, reference), each a
context manager that patches one function for as long as it is active and restores it afterwards. The
frameworks are never touched. :func:`hunt` applies a fault and runs the suite's own checks against it:

* every YAML case of each framework the fault affects (through :func:`mapping.runner.judge`, exactly as
  ``pytest cases`` runs them), and
* a small subset of the adapter grid of ``tests/test_adapters.py``: two grid specs with their eight input
  variants each, and the per-sample-lengths test, uni- and bidirectional.

A fault is *caught* on a framework when at least one of these fails: a verdict that no longer matches the
recorded one (wrong numbers), or an exception. Each fault here is built to produce plausible wrong numbers,
not a crash, and the self-check (``tests/test_faults.py``) holds it to that.

``python -m mapping.faults`` prints the table fault -> the cases that caught it, and the score.

The patches come in three kinds:

* wrappers around a converter (``to_keras``, ``to_torch_state_dict``, ``to_mindspore``) or the reference,
  patched in every ``mapping`` module that holds a reference to the function;
* wrappers around an adapter's ``_run`` that alter its inputs or its collected result;
* source mutations: for a mistake inside a function body (a flag not passed, a transpose left out), the
  function's current source is recompiled with one exact text replaced. When the text is no longer there
  the fault raises :class:`FaultNotApplicable`, so a refactoring of the harness shows up as a catalogue to
  update rather than as a fault silently not injected.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import sys
import textwrap
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator

import numpy as np

from . import converters
from . import reference as reference_module
from .outputs import LSTMResult, RunInputs

ROOT = Path(__file__).resolve().parents[1]
CASES_DIR = ROOT / "cases"
ALL_FRAMEWORKS = ("torch", "tfkeras", "keras2", "mindspore")


class FaultNotApplicable(RuntimeError):
    """The harness code a fault mutates has changed: the catalogue needs updating."""


# --- patching helpers ------------------------------------------------------------------------------------


@contextmanager
def patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    """Set ``owner.name = value``; afterwards restore exactly what was there (or remove it)."""
    namespace = vars(owner)
    had = name in namespace
    old = namespace.get(name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        if had:
            setattr(owner, name, old)
        else:
            delattr(owner, name)


@contextmanager
def patched_everywhere(original: Callable, replacement: Callable) -> Iterator[None]:
    """Replace ``original`` in every loaded ``mapping`` module that holds it (``from x import f`` included)."""
    with ExitStack() as stack:
        for module_name, module in list(sys.modules.items()):
            if module is None or not (module_name == "mapping" or module_name.startswith("mapping.")):
                continue
            for attr, value in list(vars(module).items()):
                if value is original:
                    stack.enter_context(patched(module, attr, replacement))
        yield


@contextmanager
def mutated(source_owner: Any, name: str, old: str, new: str, *, target: Any = None,
            fault: str = "?") -> Iterator[None]:
    """Recompile ``source_owner.name`` from its current source with ``old`` replaced by ``new`` (exactly once),
    and install it on ``target`` (default: the same owner)."""
    fn = vars(source_owner)[name]
    source = textwrap.dedent(inspect.getsource(fn))
    count = source.count(old)
    if count != 1:
        raise FaultNotApplicable(
            f"fault {fault}: expected the text {old!r} once in {getattr(source_owner, '__qualname__', source_owner)}"
            f".{name}, found it {count} times; the harness changed, update mapping/faults.py")
    namespace = dict(vars(sys.modules[fn.__module__]))
    exec(compile(source.replace(old, new), f"<fault {fault}: {fn.__module__}.{name}>", "exec"), namespace)
    with patched(target if target is not None else source_owner, name, namespace[name]):
        yield


def _adapter_class(framework: str) -> type:
    from .adapters import get_adapter

    return type(get_adapter(framework))


def _keras_base() -> type:
    from .adapters.keras_lstm import _KerasAdapter

    return _KerasAdapter


@contextmanager
def wrapped_run(cls: type, *, inputs: Callable[[Any, RunInputs], RunInputs] | None = None,
                result: Callable[[Any, RunInputs, LSTMResult], LSTMResult] | None = None) -> Iterator[None]:
    """Patch ``cls._run`` to alter the validated inputs before, or the collected result after, the real one."""
    original = cls._run

    def _run(self, model, spec, run_inputs, training):
        if inputs is not None:
            run_inputs = inputs(spec, run_inputs)
        out = original(self, model, spec, run_inputs, training)
        return result(spec, run_inputs, out) if result is not None else out

    with patched(cls, "_run", _run):
        yield


@contextmanager
def wrapped_converter(name: str, change: Callable[[Any, Any], Any]) -> Iterator[None]:
    """Patch converter ``name`` so that ``change(weights, its_output)`` is returned instead of its output."""
    original = getattr(converters, name)

    def faulty(weights, *args, **kwargs):
        return change(weights, original(weights, *args, **kwargs))

    faulty.__name__ = original.__name__
    with patched_everywhere(original, faulty):
        yield


# --- small array helpers ---------------------------------------------------------------------------------


def _gate_blocks(arr: np.ndarray, perm: tuple[int, ...], axis: int) -> np.ndarray:
    blocks = np.split(arr, 4, axis=axis)
    return np.concatenate([blocks[p] for p in perm], axis=axis)


def _per_keras_cell(change: Callable[[Any, list[np.ndarray]], list[np.ndarray]]):
    def apply(weights, per_cell):
        return {key: change(weights[key], list(arrays)) for key, arrays in per_cell.items()}

    return apply


def _reverse_real_steps(a: np.ndarray, lengths, batch_first: bool) -> np.ndarray:
    """Each sample's real steps reversed in time (the whole axis without lengths); own copy, not the reference's."""
    tm = a.transpose(1, 0, 2) if batch_first else a
    steps, batch = tm.shape[:2]
    lens = np.full(batch, steps) if lengths is None else np.asarray(lengths)
    t = np.arange(steps)[:, None]
    source = np.where(t < lens[None, :], lens[None, :] - 1 - t, t)
    out = tm[source, np.arange(batch)[None, :]]
    return np.ascontiguousarray(out.transpose(1, 0, 2) if batch_first else out)


# --- the faults ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    """A problem on which the fault shows, for the diagnosis test: spec fields, batch, steps, state, lengths."""

    spec: dict[str, Any] = field(default_factory=dict)
    batch: int = 3
    steps: int = 5
    state: bool = False
    lengths: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    frameworks: tuple[str, ...]
    patch: Callable[[], ContextManager]  # a fresh context manager per use
    #: words the diagnosis of the demo problem must contain (None: the diagnosis is not expected to name it)
    diagnosis: str | None = None
    demo: Demo | None = None
    #: probes whose name contains one of these are tried first by a hunt that stops at the first catch (a
    #: speed-up only: the other probes still run when these do not catch it, and the full table runs all)
    hint: tuple[str, ...] = ()

    def apply(self) -> ContextManager:
        return self.patch()


def _keras_gates_f_g_swapped():
    perm = (0, 2, 1, 3)
    return wrapped_converter("to_keras", _per_keras_cell(
        lambda cell, arrays: [_gate_blocks(a, perm, axis=-1) for a in arrays]))


def _native_b_hh_zeroed():
    return wrapped_converter("to_torch_state_dict", lambda w, state: {
        k: (np.zeros_like(v) if k.startswith("bias_hh") else v) for k, v in state.items()})


def _keras_recurrent_kernel_reshaped():
    def change(cell, arrays):
        arrays[1] = cell.w_hh.reshape(cell.w_hh.shape[1], cell.w_hh.shape[0]).copy()
        return arrays

    return wrapped_converter("to_keras", _per_keras_cell(change))


def _keras_kernel_reshaped():
    def change(cell, arrays):
        arrays[0] = cell.w_ih.reshape(cell.w_ih.shape[1], cell.w_ih.shape[0]).copy()
        return arrays

    return wrapped_converter("to_keras", _per_keras_cell(change))


def _keras_bias_folded_twice():
    def change(cell, arrays):
        if len(arrays) > 2:
            arrays[2] = cell.b_ih + cell.b_hh + cell.b_hh
        return arrays

    return wrapped_converter("to_keras", _per_keras_cell(change))


def _mindspore_directions_swapped():
    def change(weights, params):
        out = dict(params)
        for key in params:
            if key.endswith("_reverse"):
                forward = key[: -len("_reverse")]
                out[forward], out[key] = params[key], params[forward]
        return out

    return wrapped_converter("to_mindspore", change)


def _mindspore_layer_input_halves_swapped():
    def change(weights, params):
        spec = weights.spec
        out = dict(params)
        if spec.bidirectional:
            size = spec.output_size
            for key, value in params.items():
                if key.startswith("weight_ih_l") and not key.startswith("weight_ih_l0"):
                    out[key] = np.concatenate([value[:, size:], value[:, :size]], axis=1)
        return out

    return wrapped_converter("to_mindspore", change)


def _state_rows(order: Callable[[Any], list[int]]):
    def result(spec, inputs, r):
        rows = order(spec)
        return LSTMResult(r.output, r.h_n[rows], r.c_n[rows])

    return result


def _keras_state_layers_reversed():
    def order(spec):
        d = spec.num_directions
        return [(spec.num_layers - 1 - layer) * d + k for layer in range(spec.num_layers) for k in range(d)]

    return wrapped_run(_keras_base(), result=_state_rows(order))


def _keras_state_directions_swapped():
    def order(spec):
        d = spec.num_directions
        return [layer * d + (d - 1 - k) for layer in range(spec.num_layers) for k in range(d)]

    return wrapped_run(_keras_base(), result=_state_rows(order))


def _torch_h_c_swapped():
    return wrapped_run(_adapter_class("torch"), result=lambda spec, inputs, r: LSTMResult(r.output, r.c_n, r.h_n))


def _torch_backward_output_flipped():
    def result(spec, inputs, r):
        if not spec.bidirectional:
            return r
        size = spec.output_size
        back = _reverse_real_steps(r.output[..., size:], inputs.lengths, spec.batch_first)
        return LSTMResult(np.concatenate([r.output[..., :size], back], axis=-1), r.h_n, r.c_n)

    return wrapped_run(_adapter_class("torch"), result=result)


def _torch_lengths_ignored():
    return wrapped_run(_adapter_class("torch"), inputs=lambda spec, i: dataclasses.replace(i, lengths=None))


def _mindspore_lengths_off_by_one():
    def inputs(spec, i):
        if i.lengths is None:
            return i
        return dataclasses.replace(i, lengths=np.where(i.lengths > 1, i.lengths - 1, i.lengths))

    return wrapped_run(_adapter_class("mindspore"), inputs=inputs)


def _mindspore_initial_h_c_swapped():
    def inputs(spec, i):
        if i.initial_state is None:
            return i
        h0, c0 = i.initial_state
        return dataclasses.replace(i, initial_state=(c0, h0))

    return wrapped_run(_adapter_class("mindspore"), inputs=inputs)


def _keras_initial_state_ignored():
    return wrapped_run(_keras_base(), inputs=lambda spec, i: dataclasses.replace(i, initial_state=None))


def _mindspore_batch_first_not_passed():
    cls = _adapter_class("mindspore")
    return mutated(cls, "build", "batch_first=spec.batch_first,", "", fault="mindspore_batch_first_not_passed")


def _keras2_time_major_mask_not_transposed():
    return mutated(_keras_base(), "_run", "mask = tf.transpose(mask)", "pass", target=_adapter_class("keras2"),
                   fault="keras2_time_major_mask_not_transposed")


def _reference_go_backwards_output_unreversed():
    original = reference_module.reference_lstm

    def faulty(spec, weights, x, initial_state=None, lengths=None):
        r = original(spec, weights, x, initial_state, lengths)
        if not spec.go_backwards:
            return r
        axis = 1 if spec.batch_first else 0
        return LSTMResult(np.ascontiguousarray(np.flip(r.output, axis=axis)), r.h_n, r.c_n)

    return patched_everywhere(original, faulty)


def _reference_backward_ignores_lengths():
    original = reference_module.reverse_padded
    return patched_everywhere(original, lambda x, lengths: x[::-1].copy())


FAULTS: list[Fault] = [
    Fault("keras_gates_f_g_swapped",
          "to_keras swaps the forget and cell-candidate blocks (f, g) of the kernel, recurrent kernel and bias",
          ("tfkeras", "keras2"), _keras_gates_f_g_swapped,
          diagnosis="the gates are ordered i, g, f, o", demo=Demo()),
    Fault("native_b_hh_zeroed",
          "to_torch_state_dict writes zeros for bias_hh (one of the two biases lost); MindSpore's converter "
          "reuses it", ("torch", "mindspore"), _native_b_hh_zeroed,
          diagnosis="b_hh is dropped", demo=Demo()),
    Fault("keras_recurrent_kernel_reshaped",
          "to_keras makes the recurrent kernel with w_hh.reshape(units, 4*units) instead of w_hh.T (same shape, "
          "wrong layout)", ("tfkeras", "keras2"), _keras_recurrent_kernel_reshaped,
          diagnosis="recurrent kernel (w_hh) is reshaped instead of transposed on the way in", demo=Demo()),
    Fault("keras_kernel_reshaped",
          "to_keras makes the input kernel with w_ih.reshape(input, 4*units) instead of w_ih.T",
          ("tfkeras", "keras2"), _keras_kernel_reshaped,
          diagnosis="input kernel (w_ih) is reshaped instead of transposed on the way in", demo=Demo()),
    Fault("keras_bias_folded_twice",
          "to_keras folds the bias as b_ih + b_hh + b_hh (the fold applied on top of an already folded bias)",
          ("tfkeras", "keras2"), _keras_bias_folded_twice,
          diagnosis="b_hh is added twice", demo=Demo()),
    Fault("mindspore_directions_swapped",
          "to_mindspore puts the reverse direction's weights in the forward slot and vice versa",
          ("mindspore",), _mindspore_directions_swapped,
          diagnosis="the forward and backward directions' weights are swapped",
          demo=Demo(spec={"bidirectional": True})),
    Fault("mindspore_layer_input_halves_swapped",
          "to_mindspore swaps the two halves of w_ih's input columns above the first layer of a bidirectional "
          "stack (as if the layer below concatenated backward features first)",
          ("mindspore",), _mindspore_layer_input_halves_swapped,
          diagnosis="read the backward features first", demo=Demo(spec={"bidirectional": True, "num_layers": 2}),
          hint=("output/hn/cn",)),
    Fault("keras_state_layers_reversed",
          "the Keras adapter collects the final states with the layers in reverse order",
          ("tfkeras", "keras2"), _keras_state_layers_reversed,
          diagnosis="layers in reverse order", demo=Demo(spec={"num_layers": 3}), hint=("Parameter 29",)),
    Fault("keras_state_directions_swapped",
          "the Keras adapter collects each bidirectional layer's final states backward first",
          ("tfkeras", "keras2"), _keras_state_directions_swapped,
          diagnosis="two directions are in the other order", demo=Demo(spec={"bidirectional": True})),
    Fault("keras_initial_state_ignored",
          "the Keras adapter does not pass the initial state to the layers (they start from zeros)",
          ("tfkeras", "keras2"), _keras_initial_state_ignored,
          diagnosis="the initial state is ignored", demo=Demo(state=True), hint=("grid:",)),
    Fault("keras2_time_major_mask_not_transposed",
          "the Keras adapter gives Keras 2 with time_major=True the mask as (batch, time) instead of (time, batch)",
          ("keras2",), _keras2_time_major_mask_not_transposed,
          diagnosis=None, demo=Demo(spec={"batch_first": False}, batch=5, steps=5, lengths=(5, 2, 5, 2, 5)),
          hint=("Parameter 25",)),
    Fault("torch_h_c_swapped",
          "the PyTorch adapter returns (c_n, h_n) where (h_n, c_n) belongs",
          ("torch",), _torch_h_c_swapped,
          diagnosis="h and c are swapped in the final states", demo=Demo()),
    Fault("torch_backward_output_flipped",
          "the PyTorch adapter reverses the backward half of the output in time (un-reversing output that "
          "PyTorch already returns in input order)", ("torch",), _torch_backward_output_flipped,
          diagnosis="the backward half of the output is reversed", demo=Demo(spec={"bidirectional": True})),
    Fault("torch_lengths_ignored",
          "the PyTorch adapter runs the padded batch without pack_padded_sequence (lengths dropped)",
          ("torch",), _torch_lengths_ignored,
          diagnosis="the lengths are ignored", demo=Demo(lengths=(5, 2, 4))),
    Fault("mindspore_lengths_off_by_one",
          "the MindSpore adapter passes seq_length = lengths - 1 for every sample longer than one step",
          ("mindspore",), _mindspore_lengths_off_by_one,
          diagnosis="the lengths are one shorter", demo=Demo(lengths=(5, 2, 4))),
    Fault("mindspore_initial_h_c_swapped",
          "the MindSpore adapter passes hx = (c0, h0)",
          ("mindspore",), _mindspore_initial_h_c_swapped,
          diagnosis="the initial h and c are swapped", demo=Demo(state=True), hint=("Input 2",)),
    Fault("mindspore_batch_first_not_passed",
          "the MindSpore adapter builds nn.LSTM without batch_first, so batch-first input is read time-major",
          ("mindspore",), _mindspore_batch_first_not_passed,
          diagnosis="batch and time axes are read the other way round", demo=Demo(spec={"batch_first": True})),
    Fault("reference_go_backwards_output_unreversed",
          "the reference returns go_backwards output in input order instead of processing order",
          ("tfkeras", "keras2", "mindspore"), _reference_go_backwards_output_unreversed, hint=("Parameter 20",)),
    Fault("reference_backward_ignores_lengths",
          "the reference's backward direction reverses the whole padded time axis, ignoring the lengths",
          ALL_FRAMEWORKS, _reference_backward_ignores_lengths, hint=("Input 4", "Parameter 25")),
]

FAULTS_BY_NAME = {f.name: f for f in FAULTS}


# --- probes: the suite's checks, runnable one at a time ---------------------------------------------------


@dataclass(frozen=True)
class Probe:
    name: str
    framework: str
    run: Callable[[], tuple[str, str]]  # -> (status: passed | failed | skipped, message)


def case_probes(framework: str, root: Path = CASES_DIR) -> list[Probe]:
    """Every YAML case of ``framework``, judged as ``pytest cases`` judges it."""
    from .cases import case_files, load_cached
    from .runner import judge

    probes = []
    for path in case_files(root):
        case_file = load_cached(str(path))
        rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        for case in case_file.cases:
            if framework in case_file.frameworks_of(case):
                def run(rel=rel, case_file=case_file, case=case):
                    j = judge(rel, case_file, case, framework)
                    return j.status, j.message or (j.skip_reason or "")
                probes.append(Probe(f"{rel}::{case.row}[{framework}]", framework, run))
    return probes


#: Grid specs (ids of mapping.grid.spec_id) the self-check runs besides the cases.
GRID_SPECS = ("L2-bi-tm-bias-float32", "L3-uni-bf-bias-float32")


def _first_mismatch(framework, spec, weights, x, state, lengths, actual, expected, tol, label) -> str | None:
    from .compare import compare_results, mismatches, output_valid_mask
    from .diagnose import Problem, diagnose

    batch, steps = (x.shape[0], x.shape[1]) if spec.batch_first else (x.shape[1], x.shape[0])
    select = output_valid_mask(spec.batch_first, lengths, batch, steps)
    bad = mismatches(compare_results(actual, expected, tol, select))
    if not bad:
        return None
    diag = diagnose(Problem(spec, weights, x, state, lengths), actual, tol)
    return "\n".join([f"{label}: {line}" for line in bad] + [f"  diagnosis: {diag.line()}"])


def grid_probes(framework: str) -> list[Probe]:
    """The grid test and the lengths test of tests/test_adapters.py, on a few specs."""
    from .adapters import get_adapter
    from .grid import grid_specs, input_variants, spec_id
    from .reference import reference_lstm
    from .spec import LSTMSpec
    from .tolerances import tolerance
    from .weights import random_inputs, random_state, random_weights

    specs = {spec_id(s): s for s in grid_specs()}
    probes = []
    for sid in GRID_SPECS:
        spec = specs[sid]

        def run(spec=spec, sid=sid):
            adapter = get_adapter(framework)
            reason = adapter.unsupported_reason(spec)
            if reason:
                return "skipped", reason
            weights = random_weights(spec, seed=0)  # as mapping.grid.check_spec
            model = adapter.build(spec, weights)
            tol = tolerance(framework, spec.dtype)
            for variant in input_variants(spec):
                expected = reference_lstm(spec, weights, variant.x, variant.initial_state)
                actual = adapter.run(model, spec, variant.x, variant.initial_state)
                bad = _first_mismatch(framework, spec, weights, variant.x, variant.initial_state, None, actual,
                                      expected, tol, variant.label)
                if bad:
                    return "failed", bad
            return "passed", ""

        probes.append(Probe(f"grid:{framework}-{sid}", framework, run))
    for bidirectional in (False, True):
        def run(bidirectional=bidirectional):
            adapter = get_adapter(framework)
            spec = LSTMSpec(input_size=3, hidden_size=4, num_layers=2, bidirectional=bidirectional)
            w, x, state = random_weights(spec), random_inputs(spec, 3, 6), random_state(spec, 3)
            lengths = np.array([6, 1, 4])
            got = adapter.forward(spec, w, x, state, lengths)
            ref = reference_lstm(spec, w, x, state, lengths)
            bad = _first_mismatch(framework, spec, w, x, state, lengths, got, ref, tolerance(framework, "float32"),
                                  "lengths [6, 1, 4]")
            return ("failed", bad) if bad else ("passed", "")

        probes.append(Probe(f"lengths:{framework}-{'bi' if bidirectional else 'uni'}", framework, run))
    return probes


def probes_for(framework: str) -> list[Probe]:
    return case_probes(framework) + grid_probes(framework)


# --- hunting ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catch:
    probe: str
    framework: str
    how: str  # "mismatch" (a verdict or comparison off: wrong numbers) or "error" (an exception)
    message: str


@dataclass
class FaultReport:
    fault: Fault
    catches: list[Catch] = field(default_factory=list)
    tried: dict[str, int] = field(default_factory=dict)
    skipped_frameworks: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def caught_on(self, framework: str) -> list[Catch]:
        return [c for c in self.catches if c.framework == framework]

    @property
    def frameworks_run(self) -> list[str]:
        return [f for f in self.fault.frameworks if f not in self.skipped_frameworks]

    @property
    def caught(self) -> bool:
        """Caught on every affected (installed) framework."""
        return bool(self.frameworks_run) and all(self.caught_on(f) for f in self.frameworks_run)

    @property
    def by_numbers(self) -> bool:
        """Caught by a mismatch (not only by exceptions) on every affected framework."""
        return self.caught and all(any(c.how == "mismatch" for c in self.caught_on(f)) for f in self.frameworks_run)

    def first_catch(self, framework: str) -> Catch | None:
        catches = self.caught_on(framework)
        numbers = [c for c in catches if c.how == "mismatch"]
        return (numbers or catches or [None])[0]


def run_probe(probe: Probe) -> tuple[str, str]:
    """(status, message); an exception is status ``error`` with the exception as message."""
    try:
        return probe.run()
    except Exception as exc:  # noqa: BLE001 - any exception is the suite noticing
        return "error", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def hunt(fault: Fault, *, first: bool = True, probes: Callable[[str], list[Probe]] = probes_for) -> FaultReport:
    """Apply ``fault`` and run the probes of each framework it affects.

    With ``first``, stop on a framework at its first probe that fails with a mismatch (exceptions are
    recorded and the hunt goes on, looking for wrong numbers); otherwise run every probe.
    """
    from .adapters import get_adapter, missing_reason

    report = FaultReport(fault)
    start = time.perf_counter()
    for framework in fault.frameworks:
        reason = missing_reason(framework)
        if reason:
            report.skipped_frameworks[framework] = reason
            continue
        get_adapter(framework)  # import before patching (import order, and the classes to patch)
        framework_probes = probes(framework)
        if first and fault.hint:
            framework_probes.sort(key=lambda p: not any(h in p.name for h in fault.hint))
        report.tried[framework] = 0
        with fault.apply():
            for probe in framework_probes:
                status, message = run_probe(probe)
                report.tried[framework] += 1
                if status in ("failed", "error"):
                    how = "mismatch" if status == "failed" else "error"
                    report.catches.append(Catch(probe.name, framework, how, message))
                    if first and how == "mismatch":
                        break
    report.seconds = time.perf_counter() - start
    return report


# --- command line ----------------------------------------------------------------------------------------


def _table(reports: list[FaultReport], full: bool) -> str:
    lines = []
    for r in reports:
        mark = "CAUGHT" if r.caught else "MISSED"
        lines.append(f"{r.fault.name}  [{mark}, {r.seconds:.1f} s]")
        lines.append(f"    {r.fault.description}")
        for framework in r.fault.frameworks:
            if framework in r.skipped_frameworks:
                lines.append(f"    {framework}: not run ({r.skipped_frameworks[framework]})")
                continue
            catches = r.caught_on(framework)
            lines.append(f"    {framework}: {len(catches)} of {r.tried.get(framework, 0)} probes "
                         f"{'failed' if full else 'run until the first mismatch'}")
            for c in catches:
                lines.append(f"      {c.how:8s} {c.probe}")
    caught = sum(r.caught for r in reports)
    numbers = sum(r.by_numbers for r in reports)
    lines.append("")
    lines.append(f"score: {caught}/{len(reports)} faults caught ({100 * caught / max(len(reports), 1):.0f}%), "
                 f"{numbers} of them by wrong numbers on every affected framework")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mapping.faults",
                                     description="Inject each harness fault and list the cases that catch it.")
    parser.add_argument("--fault", action="append", help="only this fault (repeatable)")
    parser.add_argument("--first", action="store_true",
                        help="stop at the first mismatch per framework (fast) instead of running every probe")
    parser.add_argument("--list", action="store_true", help="print the catalogue and exit")
    parser.add_argument("--json", help="also write the table as JSON to this path")
    args = parser.parse_args(argv)
    unknown = [n for n in args.fault or () if n not in FAULTS_BY_NAME]
    if unknown:
        parser.error(f"no fault named {unknown[0]!r}; --list shows the catalogue")
    if args.json:
        from .atomic import refuse_overwriting
        from .errors import UsageError

        try:
            refuse_overwriting(args.json, suffixes=(".json",), what="--json output")
        except UsageError as exc:
            parser.error(str(exc))
    faults = [FAULTS_BY_NAME[n] for n in args.fault] if args.fault else FAULTS
    if args.list:
        for f in faults:
            print(f"{f.name:42s} {', '.join(f.frameworks):32s} {f.description}")
        return 0
    reports = []
    for fault in faults:
        report = hunt(fault, first=args.first)
        reports.append(report)
        print(f"{fault.name}: {'caught' if report.caught else 'MISSED'} ({report.seconds:.1f} s)", file=sys.stderr)
    print(_table(reports, full=not args.first))
    if args.json:
        from .atomic import write_text

        write_text(args.json, json.dumps([
            {"fault": r.fault.name, "description": r.fault.description, "frameworks": list(r.fault.frameworks),
             "caught": r.caught,
             "catches": [{"probe": c.probe, "framework": c.framework, "how": c.how} for c in r.catches],
             "tried": r.tried} for r in reports], indent=2) + "\n")
    return 0 if all(r.caught for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
