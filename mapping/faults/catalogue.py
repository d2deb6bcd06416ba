"""The catalogue of deliberate harness faults: each a named patch of a converter, an adapter or the reference
(never a framework), with the problem on which it shows and the words its diagnosis must contain."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Iterator

import numpy as np

from .. import converters, probes, reference
from ..converters import native
from ..problem import RunResult
from .patching import mutated, mutated_everywhere, patched, patched_everywhere, wrapped_converter, wrapped_run

ALL_FRAMEWORKS = ("torch", "tfkeras", "keras2", "mindspore")
#: Pseudo-framework of faults in the machinery that decides (comparison, judgement, checks, reference): they
#: are hunted with the framework-free test files of the suite (see :func:`mapping.faults.probes.suite_probes`).
HARNESS = "harness"


def _adapter_class(framework: str) -> type:
    from ..adapters import get_adapter

    return type(get_adapter(framework))


def _keras_base() -> type:
    from ..adapters.keras import _KerasAdapter

    return _KerasAdapter


# --- small array helpers ----------------------------------------------------------------------------------


def _gate_blocks(arr: np.ndarray, perm: tuple[int, ...], axis: int) -> np.ndarray:
    blocks = np.split(arr, len(perm), axis=axis)
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

    @contextmanager
    def apply(self) -> Iterator[None]:
        """The fault in place. Probe findings measured in this process are forgotten on the way in and out: they
        were measured by the code the fault changes (:func:`mapping.probes.forget`)."""
        probes.forget()
        try:
            with self.patch():
                yield
        finally:
            probes.forget()


def _keras_gates_f_g_swapped():
    perm = (0, 2, 1, 3)
    return wrapped_converter(converters.to_keras, _per_keras_cell(
        lambda cell, arrays: [_gate_blocks(a, perm, axis=-1) for a in arrays]))


def _only_gru(change):
    """A converter change applied to GRU weights only (the other ops' conversions are left alone)."""
    return lambda weights, out: change(weights, out) if weights.spec.op == "gru" else out


def _keras_gru_gates_z_r_swapped():
    # Keras orders GRU gates z, r, h: a converter that copies PyTorch's r, z, n order across unchanged
    perm = (1, 0, 2)
    return wrapped_converter(converters.to_keras, _only_gru(_per_keras_cell(
        lambda cell, arrays: [_gate_blocks(a, perm, axis=-1) for a in arrays])))


def _native_gru_gates_r_z_swapped():
    def change(weights, state):
        return {k: _gate_blocks(v, (1, 0, 2), axis=0) for k, v in state.items()}

    return wrapped_converter(native.to_native, _only_gru(change))


def _keras_gru_reset_after_flipped():
    # the Keras adapter builds a GRU in the other form (reset_after=False for True, and the other way round) and
    # converts the weights for that form: the reset gate lands on the other side of the recurrent product
    from ..weights import CanonicalWeights

    base = _keras_base()
    original = base.build

    def build(self, spec, weights):
        if spec.op != "gru":
            return original(self, spec, weights)
        flipped = spec.replace(reset_after=not spec.reset_after)
        return original(self, flipped, CanonicalWeights(spec=flipped, cells=weights.cells))

    return patched(base, "build", build)


def _native_b_hh_zeroed():
    return wrapped_converter(native.to_native, lambda w, state: {
        k: (np.zeros_like(v) if k.startswith("bias_hh") else v) for k, v in state.items()})


def _keras_recurrent_kernel_reshaped():
    def change(cell, arrays):
        arrays[1] = cell.w_hh.reshape(cell.w_hh.shape[1], cell.w_hh.shape[0]).copy()
        return arrays

    return wrapped_converter(converters.to_keras, _per_keras_cell(change))


def _keras_kernel_reshaped():
    def change(cell, arrays):
        arrays[0] = cell.w_ih.reshape(cell.w_ih.shape[1], cell.w_ih.shape[0]).copy()
        return arrays

    return wrapped_converter(converters.to_keras, _per_keras_cell(change))


def _keras_bias_folded_twice():
    def change(cell, arrays):
        if len(arrays) > 2:
            arrays[2] = cell.b_ih + cell.b_hh + cell.b_hh
        return arrays

    return wrapped_converter(converters.to_keras, _per_keras_cell(change))


def _mindspore_directions_swapped():
    def change(weights, params):
        out = dict(params)
        for key in params:
            if key.endswith("_reverse"):
                forward = key[: -len("_reverse")]
                out[forward], out[key] = params[key], params[forward]
        return out

    return wrapped_converter(converters.to_mindspore, change)


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

    return wrapped_converter(converters.to_mindspore, change)


def _state_rows(order: Callable[[Any], list[int]]):
    def result(problem, r):
        rows = order(problem.spec)
        return RunResult(r.output, {name: state[rows] for name, state in r.states.items()})

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
    return wrapped_run(_adapter_class("torch"), result=lambda problem, r: r.replace(h_n=r.c_n, c_n=r.h_n))


def _torch_backward_output_flipped():
    def result(problem, r):
        spec = problem.spec
        if not spec.bidirectional:
            return r
        size = spec.output_size
        back = _reverse_real_steps(r.output[..., size:], problem.lengths, spec.batch_first)
        return r.replace(output=np.concatenate([r.output[..., :size], back], axis=-1))

    return wrapped_run(_adapter_class("torch"), result=result)


def _torch_lengths_ignored():
    return wrapped_run(_adapter_class("torch"), inputs=lambda p: p.replace(lengths=None))


def _mindspore_lengths_off_by_one():
    def inputs(p):
        if p.lengths is None:
            return p
        return p.replace(lengths=np.where(p.lengths > 1, p.lengths - 1, p.lengths))

    return wrapped_run(_adapter_class("mindspore"), inputs=inputs)


def _mindspore_initial_h_c_swapped():
    def inputs(p):
        if p.initial_state is None:
            return p
        h0, c0 = p.initial_state
        return p.replace(initial_state=(c0, h0))

    return wrapped_run(_adapter_class("mindspore"), inputs=inputs)


def _keras_initial_state_ignored():
    return wrapped_run(_keras_base(), inputs=lambda p: p.replace(initial_state=None))


def _mindspore_batch_first_not_passed():
    cls = _adapter_class("mindspore")
    return mutated(cls, "build", 'skip=("layer_dropout",)', 'skip=("layer_dropout", "batch_first")',
                   fault="mindspore_batch_first_not_passed")


def _keras2_time_major_mask_not_transposed():
    return mutated(_keras_base(), "_forward", "mask = tf.transpose(mask)", "pass", target=_adapter_class("keras2"),
                   fault="keras2_time_major_mask_not_transposed")


def _reference_go_backwards_output_unreversed():
    original = reference.reference_forward

    def faulty(problem, *args, **kwargs):
        r = original(problem, *args, **kwargs)
        spec = problem.spec
        if not spec.go_backwards:
            return r
        axis = 1 if spec.batch_first else 0
        return r.replace(output=np.ascontiguousarray(np.flip(r.output, axis=axis)))

    return patched_everywhere(original, faulty)


def _reference_backward_ignores_lengths():
    original = reference.reverse_padded
    return patched_everywhere(original, lambda x, lengths: x[::-1].copy())


def _reference_gru_reset_gate_moved():
    # the reference's GRU step computes the other form from the same weights: with reset_after=True the reset gate
    # multiplies h before the recurrent product (Keras's reset_after=False), and the other way round
    from ..ops.gru import GRUCell

    original = GRUCell.step

    def step(self, w, x, state, dropout=None):
        moved = GRUCell(self.spec.replace(reset_after=not self.spec.reset_after))
        return original(moved, w, x, state, dropout)

    return patched(GRUCell, "step", step)


@contextmanager
def _native_rnn_relu_built_as_tanh():
    # the PyTorch and MindSpore adapters build an Elman RNN (layer or cell) with tanh whatever the spec's
    # nonlinearity: a relu network runs as tanh from the same weights
    from contextlib import ExitStack

    from ..adapters import missing_reason

    with ExitStack() as stack:
        for framework in ("torch", "mindspore"):
            if missing_reason(framework) is not None:
                continue
            owner = _adapter_class(framework)

            def build(self, spec, weights, original=owner.build):
                if spec.op == "rnn" and spec.activation == "relu":
                    spec = spec.replace(activation="tanh")
                    weights = type(weights)(spec=spec, cells=weights.cells)
                return original(self, spec, weights)

            stack.enter_context(patched(owner, "build", build))
        yield


def _module(name: str) -> Any:
    import importlib

    return importlib.import_module(f"mapping.{name}")


def _compare_c_n_against_itself():
    return mutated_everywhere(_module("compare"), "compare_results", "got.get(name, np.empty(0)), ref, tol,",
                              'got.get(name, np.empty(0)), got.get(name) if name == "c_n" else ref, tol,',
                              fault="compare_c_n_against_itself")


def _compare_within_99_percent():
    return mutated_everywhere(_module("compare"), "mismatches", "elif f.within < 1.0:", "elif f.within < 0.99:",
                              fault="compare_within_99_percent")


def _compare_nan_to_num():
    return mutated_everywhere(_module("compare"), "within_tolerance", "diff = np.abs(a - e)",
                              "diff = np.nan_to_num(np.abs(a - e))", fault="compare_nan_to_num")


def _judge_ignores_problems():
    return mutated_everywhere(_module("judge"), "judge", "agrees = outcome.verdict == expected and not outcome.problems",
                              "agrees = outcome.verdict == expected", fault="judge_ignores_problems")


def _padding_small_values_as_zeros():
    return mutated_everywhere(_module("checks.padding"), "classify", "elif np.all(out[padded] == 0):",
                              "elif np.all(np.abs(out[padded]) < 1e-3):", fault="padding_small_values_as_zeros")


def _reference_go_backwards_mask_not_reversed():
    return mutated_everywhere(_module("reference.forward"), "prepare", "xt, valid = xt[::-1], valid[::-1]",
                              "xt = xt[::-1]", fault="reference_go_backwards_mask_not_reversed")


def _keras_bidirectional_export_in_threes():
    old = ("        for direction, rnn in enumerate(_directions(spec, keras_layer)):\n"
           "            per_cell[layer, direction] = [np.asarray(w) for w in rnn.get_weights()]")
    new = ("        arrays = [np.asarray(w) for w in keras_layer.get_weights()]\n"
           "        for direction in range(spec.num_directions):\n"
           "            per_cell[layer, direction] = arrays[3 * direction : 3 * direction + 3]")
    return mutated(_keras_base(), "export_weights", old, new, fault="keras_bidirectional_export_in_threes")


def _keras_go_backwards_on_every_layer():
    return mutated_everywhere(_module("adapters.keras"), "build_keras_stack",
                              "go_backwards=spec.go_backwards and layer == 0,", "go_backwards=spec.go_backwards,",
                              fault="keras_go_backwards_on_every_layer")


def _keras_go_backwards_same_mask_on_every_layer():
    return mutated(_keras_base(), "_forward", "layer_mask = tf.reverse(mask, axis=[time_axis])", "layer_mask = mask",
                   fault="keras_go_backwards_same_mask_on_every_layer")


def _torch_lengths_through_float_mean():
    _adapter_class("torch")
    return mutated_everywhere(
        _module("adapters.torch"), "_forward", "x, torch.from_numpy(problem.lengths), batch_first",
        "x, (torch.from_numpy(np.arange(problem.steps)[None, :] < problem.lengths[:, None]).float().mean(1)"
        " * problem.steps).long(), batch_first", fault="torch_lengths_through_float_mean")


def _torch_dropout_in_inference():
    return mutated(_adapter_class("torch"), "_run", "model.train(training)", "model.train(True)",
                   fault="torch_dropout_in_inference")


def _mindspore_dropout_in_inference():
    return mutated(_adapter_class("mindspore"), "_run", "model.set_train(training)", "model.set_train(True)",
                   fault="mindspore_dropout_in_inference")


FAULTS: list[Fault] = [
    Fault("keras_gates_f_g_swapped",
          "to_keras swaps the forget and cell-candidate blocks (f, g) of the kernel, recurrent kernel and bias",
          ("tfkeras", "keras2"), _keras_gates_f_g_swapped,
          diagnosis="the gates are ordered i, g, f, o", demo=Demo()),
    Fault("keras_gru_gates_z_r_swapped",
          "to_keras copies a GRU's gates in PyTorch's order r, z, n instead of Keras's z, r, h (the update and reset "
          "blocks of the kernel, recurrent kernel and both bias rows exchanged)",
          ("tfkeras", "keras2"), _keras_gru_gates_z_r_swapped,
          diagnosis="the gates are ordered z, r, n", demo=Demo(spec={"op": "gru"})),
    Fault("native_gru_gates_r_z_swapped",
          "the native converter (PyTorch's and MindSpore's names) writes a GRU's reset and update blocks in each "
          "other's place", ("torch", "mindspore"), _native_gru_gates_r_z_swapped,
          diagnosis="the gates are ordered z, r, n", demo=Demo(spec={"op": "gru"})),
    Fault("keras_gru_reset_after_flipped",
          "the Keras adapter builds a GRU with the reset gate on the other side of the recurrent product "
          "(reset_after negated) from the same weights", ("tfkeras", "keras2"), _keras_gru_reset_after_flipped,
          diagnosis="the reset gate is applied before the recurrent product", demo=Demo(spec={"op": "gru"})),
    Fault("reference_gru_reset_gate_moved",
          "the reference's GRU step puts the reset gate on the other side of the recurrent product (it computes "
          "reset_after=False's form for reset_after=True and the other way round)",
          ALL_FRAMEWORKS, _reference_gru_reset_gate_moved, hint=("grid:",)),
    Fault("native_rnn_relu_built_as_tanh",
          "the PyTorch and MindSpore adapters build an Elman RNN (layer or cell) with tanh whatever the "
          "nonlinearity asked (a relu network runs as tanh)", ("torch", "mindspore"),
          _native_rnn_relu_built_as_tanh, hint=("pytorch_rnn", "simplernn")),
    Fault("native_b_hh_zeroed",
          "the native converter (PyTorch's and MindSpore's names) writes zeros for bias_hh (one of the two "
          "biases lost)", ("torch", "mindspore"), _native_b_hh_zeroed,
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
    # --- the deciding machinery, and the paths no test combined before (issue 16) -------------------------
    Fault("compare_c_n_against_itself",
          "compare_results compares the cell state with itself instead of with the reference",
          (HARNESS,), _compare_c_n_against_itself, hint=("test_meta_compare",)),
    Fault("compare_within_99_percent",
          "a field counts as mismatching only when more than 1% of its elements are out of tolerance",
          (HARNESS,), _compare_within_99_percent, hint=("test_meta_compare",)),
    Fault("compare_nan_to_num",
          "np.nan_to_num around the difference in the tolerance test, so that a NaN from a framework passes",
          (HARNESS,), _compare_nan_to_num, hint=("test_meta_compare",)),
    Fault("judge_ignores_problems",
          "the judgement ignores the problems a check recorded (a changed default passes, printing 'changed:')",
          (HARNESS,), _judge_ignores_problems, hint=("test_meta_judgement",)),
    Fault("padding_small_values_as_zeros",
          "the padding classifier calls padded outputs zeros when they are merely below 1e-3",
          (HARNESS,), _padding_small_values_as_zeros, hint=("test_meta_checks",)),
    Fault("reference_go_backwards_mask_not_reversed",
          "with go_backwards the reference reverses the input in time but not the mask of real steps",
          ("tfkeras", "keras2", HARNESS), _reference_go_backwards_mask_not_reversed,
          hint=("test_reference_matches_onnx", "test_go_backwards_stack_reverses_once")),
    Fault("keras_bidirectional_export_in_threes",
          "export_weights reads a Bidirectional wrapper's weights in threes per direction (wrong without a bias)",
          ("tfkeras", "keras2"), _keras_bidirectional_export_in_threes,
          hint=("test_export_round_trip_through_framework",)),
    Fault("keras_go_backwards_on_every_layer",
          "the Keras stack sets go_backwards on every layer, so the second layer re-reverses the first's output",
          ("tfkeras", "keras2"), _keras_go_backwards_on_every_layer,
          hint=("test_go_backwards_stack_reverses_once",)),
    Fault("keras_go_backwards_same_mask_on_every_layer",
          "with go_backwards and lengths the Keras adapter gives every layer the input-order mask (the layers "
          "above the first see the sequence in processing order)", ("tfkeras", "keras2"),
          _keras_go_backwards_same_mask_on_every_layer, hint=("test_go_backwards_stack_reverses_once",)),
    Fault("torch_lengths_through_float_mean",
          "the PyTorch adapter rebuilds the lengths as a float32 mean of the mask times the steps, truncated "
          "with .long() (exact up to 21 steps)", ("torch",), _torch_lengths_through_float_mean,
          hint=("test_long_sequences_with_lengths",)),
    Fault("torch_dropout_in_inference",
          "the PyTorch adapter runs the model in training mode whatever it is asked (dropout in inference)",
          ("torch",), _torch_dropout_in_inference, hint=("Parameter 6", "dropout")),
    Fault("mindspore_dropout_in_inference",
          "the MindSpore adapter runs the model in training mode whatever it is asked (dropout in inference)",
          ("mindspore",), _mindspore_dropout_in_inference, hint=("Parameter 6", "dropout")),
]

FAULTS_BY_NAME = {f.name: f for f in FAULTS}
