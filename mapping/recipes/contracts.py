"""How the suite executes a recipe: what the function receives, and what its result is compared with.

A recipe (:func:`mapping.recipes.recipe`) names its contract and the contract's options. Contracts are
framework-neutral: they build the problem (:class:`~mapping.problem.Problem`) from the case's setup, ask the
framework's adapter for the native objects a user would hold, call the function the way a user calls it, and
compare what it returns with the float64 reference of a named **target** (:data:`TARGETS`).

Contracts:

* ``forward``: ``fn(layer, ...)``. ``layer`` is the layer a user of the framework holds for the problem's spec,
  holding the problem's weights (:meth:`Adapter.user_layer`). The other parameters are filled by name from the
  target's inputs, as the framework's tensors: ``x`` (also ``inputs``, ``input``, ``sequences``); ``hx`` (also
  ``initial_state``, ``state``: the op's states as its users pass them, each ``(layers * directions, batch,
  hidden)``: a tuple for LSTM's two, the tensor itself for GRU's and the Elman RNN's one);
  ``seq_length`` or ``lengths`` (one integer per sample); ``mask`` (``(batch, time)`` booleans); and what a
  target adds (``x2``, ``h0``, ``c0``). A parameter with a default that the target does not fill keeps its
  default. Whatever the function returns (a tensor, or nested tuples of them) is flattened in order and
  compared, array by array, with the target's arrays.
  Options: ``target`` (a name in :data:`TARGETS`), ``spec`` (spec fields for the problem, e.g.
  ``{"batch_first": True}``), ``padded`` (True: the problem is a right-padded batch in every variant), ``state``
  (True: the problem has a random initial state in every variant), ``layer`` (spec fields the handed layer is
  built with instead of the problem's, for a setting the framework's layer cannot hold: the recipe computes it by
  hand from the layer's weights, e.g. ``{"activation": "tanh"}``). A parameter named like a spec field that no
  input fills (``activation``, ``reset_after``) gets the problem spec's setting as a plain value. ``loop`` (True:
  the recipe steps the weights by hand over the framework's elementwise functions, so it is judged with the
  tolerance of the framework's cell API for the op, ``lstm_cell``, ``gru_cell``, which computes the same way; any
  contract takes it).
* ``keras_layers``: ``fn(keras, units, ...)`` builds Keras layers the way a user does (``keras`` is ``tf.keras``
  or ``tf_keras``); parameters named like spec fields (``num_layers``, ``bidirectional``, ``input_size``) get the
  spec's values. The contract calls the result once on ``x`` to build it, assigns the problem's weights in
  Keras's own enumeration order (:meth:`Adapter.assign_in_order`), calls it again (with ``mask=`` when the target
  has lengths) and compares with the target like ``forward``.
* ``build``: ``fn(...)`` builds the user's layer itself from what the target gives by name, as NumPy arrays (a
  port from another framework's weights: ``kernel``, ``recurrent_kernel``, ``bias``); the contract calls the
  layer on ``x`` as its users do (:meth:`Adapter.call_user`) and compares like ``forward``.
* ``input_dropout``: ``fn(layer, x, rate)`` applies Keras's input ``dropout=rate`` (training) by hand before the
  layer and returns what the layer returns. The contract runs it on a batch of identical sequences with one input
  feature and checks that every sample's output equals the float64 reference on the input scaled by exactly one
  kept (1 / (1 - rate)) or dropped (0) pattern, and reports the share of samples explained, whether the patterns
  are constant over time (``per_sequence=True``: Keras 3's one mask per sequence) and the dropped fraction
  (within six standard errors of ``rate``).
* ``recurrent_dropout``: ``fn(layer, x, rate)`` applies Keras's ``recurrent_dropout=rate`` (training) by hand
  from the layer's weights (a loop over time) and returns the output sequence. The contract runs it on a batch of
  identical sequences with one input feature and one unit and checks that every sample's output equals the float64
  reference under exactly one kept/dropped value per gate on h(t-1), constant over the sequence (Keras's structure:
  ``2**gates`` patterns, each sample matched to its nearest), that the gates' masks differ in some samples (one
  mask for all gates is not Keras's structure) and that the dropped fraction is within six standard errors of
  ``rate``.
* ``check``: the case's check executes the recipe and records that it did
  (:meth:`mapping.checks.measure.Measurement.recipe`); nothing is run here.

Further contracts (dropout structure, penalties, constraints) live in their own modules under
:mod:`mapping.recipes` and register themselves in :data:`CONTRACTS`.

Variants (:data:`VARIANTS`; the ``recipe_variants`` probe runs a recipe on each): ``plain``; ``bidirectional``;
``layers`` (two layers); ``padding`` (a right-padded batch: the padded steps of ``x`` are zeros and the target's
lengths say which steps are real; a recipe that takes no lengths is called without them, as a user who forgot
them would); ``initial_state`` (a random initial state; not applicable to a recipe that takes none). A target
that cannot state the expectation of a variant raises :class:`~mapping.errors.Unsupported`: not applicable.
"""

from __future__ import annotations

import dataclasses
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import numpy as np

from .. import ops
from ..compare import within_tolerance
from ..errors import Unsupported
from ..problem import Problem
from ..spec import split_api
from ..tolerances import forward_tolerance
from . import RecipeSpec, spec_of

Variant = Literal["plain", "bidirectional", "layers", "padding", "initial_state"]
VARIANTS: tuple[str, ...] = Variant.__args__  # type: ignore[attr-defined]

#: Parameter names a recipe may use for each of the target's canonical inputs.
ALIASES = {"x": ("x", "inputs", "input", "sequences"), "hx": ("hx", "initial_state", "state"),
           "lengths": ("seq_length", "lengths"), "mask": ("mask",)}


@dataclass(frozen=True)
class Expected:
    """A target's expectation for one problem: the inputs the recipe is given and the arrays its results (flattened,
    in order) are compared with, each where ``select`` is True (None: everywhere)."""

    inputs: dict[str, Any]
    arrays: list[np.ndarray]
    what: str
    select: list[np.ndarray | None] = field(default_factory=list)

    def selection(self, index: int) -> np.ndarray | None:
        return self.select[index] if index < len(self.select) else None


@dataclass(frozen=True)
class RecipeCall:
    """What a contract runs a recipe with: the framework's adapter, the op, the case's setup, the variant."""

    adapter: Any
    op: str
    setup: Any  # mapping.checks.arguments.Setup
    seed: int = 0
    tolerance: float | None = None
    variant: str = "plain"

    def problem(self, spec_fields: dict[str, Any] | None = None, padded: bool = False,
                state: bool = False) -> Problem:
        """The case's problem for this variant (see the module docstring); ``padded``: right-padded in every variant
        (for recipes about lengths); ``state``: with a random initial state in every variant."""
        fields = dict(spec_fields or {})
        if split_api(self.op)[1] == "cell" and self.variant in ("bidirectional", "layers", "padding"):
            raise Unsupported("a cell is one step of one layer in one direction, and its loop takes no lengths")
        if self.variant == "bidirectional":
            fields["bidirectional"] = True
        elif self.variant == "layers":
            fields["num_layers"] = 2
        problem = self.setup.problem(self.setup.spec(self.op, **fields), self.seed,
                                     state=state or self.variant == "initial_state")
        if self.variant == "padding" or padded:
            lengths = np.full(problem.batch, problem.steps)
            lengths[1::2] = max(1, problem.steps // 2)
            problem = problem.replace(lengths=lengths)
            real = problem.real_steps()  # (time, batch)
            mask = (real.T if problem.spec.batch_first else real)[..., None]
            problem = problem.replace(x=np.where(mask, problem.x, 0.0))
        return problem

    def tol(self, problem: Problem, loop: bool = False) -> float:
        """The case's tolerance, else the framework's for the op (``loop``: a recipe that steps the weights by hand
        over the framework's elementwise functions is judged like the framework's cell API, which does the same)."""
        if self.tolerance is not None:
            return self.tolerance
        op = f"{self.op}_cell" if loop and not self.op.endswith("_cell") else self.op
        return forward_tolerance(self.adapter.name, problem.spec.dtype, padded=problem.lengths is not None, op=op)


@dataclass
class RecipeRun:
    """One execution of a recipe: whether it reproduced what it is compared with, and the figure."""

    ok: bool
    max_abs: float | None
    compared_with: str
    detail: str = ""


@dataclass(frozen=True)
class Contract:
    name: str
    #: What the recipe function receives, in words (for the report's legend and the docs).
    receives: str
    run: Callable[[Callable, RecipeSpec, RecipeCall], RecipeRun]


CONTRACTS: dict[str, Contract] = {}


def contract(name: str, receives: str):
    """Decorator: register a contract's runner."""

    def wrap(fn: Callable[[Callable, RecipeSpec, RecipeCall], RecipeRun]) -> Callable:
        CONTRACTS[name] = Contract(name, receives, fn)
        return fn

    return wrap


# --- targets: the reference's side of a comparison ---------------------------------------------------------

TARGETS: dict[str, Callable[[Problem], Expected]] = {}


def target(name: str):
    def wrap(fn: Callable[[Problem], Expected]) -> Callable:
        TARGETS[name] = fn
        return fn

    return wrap


def _inputs(problem: Problem) -> dict[str, Any]:
    """The canonical inputs every target offers: x, the initial state, lengths and a (batch, time) mask."""
    hx = None if problem.initial_state is None else ops.of(problem.spec).as_passed(problem.initial_state)
    inputs: dict[str, Any] = {"x": problem.x, "hx": hx}
    if problem.lengths is not None:
        inputs["lengths"] = problem.lengths
        inputs["mask"] = problem.real_steps().T.copy()
    return inputs


def _real_output(problem: Problem) -> np.ndarray | None:
    return problem.output_mask()


@target("output")
def _output(problem: Problem) -> Expected:
    """The whole output sequence (zeros at padded steps: the reference's convention)."""
    ref = problem.reference()
    return Expected(_inputs(problem), [ref.output], "the float64 reference's output sequence")


@target("output_and_states")
def _output_and_states(problem: Problem) -> Expected:
    """The output and every final state, in the spec's layout and the op's order."""
    ref = problem.reference()
    return Expected(_inputs(problem), list(ref.fields().values()),
                    "the float64 reference's output and final states")


@target("real_steps_and_states")
def _real_steps_and_states(problem: Problem) -> Expected:
    """The output at real steps only, and every final state (what every length mechanism agrees on)."""
    ref = problem.reference()
    return Expected(_inputs(problem), list(ref.fields().values()),
                    "the float64 reference's output at real steps and its final states",
                    select=[_real_output(problem)])


@target("batch_major_output")
def _batch_major_output(problem: Problem) -> Expected:
    """Keras's layout on a time-major layer: ``x`` is given (batch, time, features) and the output and final states
    are expected with the output (batch, time, units), as Keras returns it."""
    if problem.spec.batch_first:
        raise Unsupported("the layer under this target reads (time, batch, features)")
    ref = problem.reference()
    arrays = list(ref.fields().values())
    arrays[0] = np.swapaxes(arrays[0], 0, 1)
    return Expected({**_inputs(problem), "x": np.swapaxes(problem.x, 0, 1).copy()}, arrays,
                    "the float64 reference's output in (batch, time, units), and its final states",
                    select=[None if problem.output_mask() is None else np.swapaxes(problem.output_mask(), 0, 1)])


@target("keras_sequences_and_states")
def _keras_sequences_and_states(problem: Problem) -> Expected:
    """What a one-direction Keras layer with ``return_sequences=True, return_state=True`` returns: the output as
    (batch, time, units) (compared at real steps: Keras repeats the last real output at padded ones), then the
    last layer's final states, (batch, units)."""
    if problem.spec.bidirectional:
        raise Unsupported("one direction: a bidirectional Keras layer returns each direction's states")
    ref = problem.reference()
    output = ref.output if problem.spec.batch_first else np.swapaxes(ref.output, 0, 1)
    mask = problem.output_mask()
    if mask is not None and not problem.spec.batch_first:
        mask = np.swapaxes(mask, 0, 1)
    return Expected(_inputs(problem), [output] + [ref.states[name][-1] for name in ops.of(problem.spec).final_names],
                    "the float64 reference's output as (batch, time, units) (at real steps) and its last layer's "
                    "final states", select=[mask])


@target("from_keras_weights")
def _from_keras_weights(problem: Problem) -> Expected:
    """A one-layer, one-direction layer ported from Keras's weights (``kernel``, ``recurrent_kernel``, ``bias`` as
    Keras's ``get_weights()`` returns them): its output and final states."""
    from .. import converters

    spec = problem.spec
    if spec.num_layers != 1 or spec.bidirectional or not spec.bias:
        raise Unsupported("one Keras layer with a bias holds kernel, recurrent_kernel and bias")
    kernel, recurrent_kernel, bias = converters.to_keras(problem.weights)[0, 0]
    return Expected({**_inputs(problem), "kernel": kernel, "recurrent_kernel": recurrent_kernel, "bias": bias},
                    list(problem.reference().fields().values()),
                    "the float64 reference with the Keras layer's weights")


@target("from_torch_weights")
def _from_torch_weights(problem: Problem) -> Expected:
    """A one-layer, one-direction layer ported from a PyTorch layer's ``state_dict`` (given as ``state_dict``: NumPy
    arrays under PyTorch's names, ``weight_ih_l0``, ..., ``weight_hr_l0`` with a projection): its output and final
    states in the spec's layout."""
    from .. import converters

    spec = problem.spec
    if spec.num_layers != 1 or spec.bidirectional:
        raise Unsupported("the port reads one layer, one direction")
    return Expected({**_inputs(problem), "state_dict": converters.to_torch(problem.weights)},
                    list(problem.reference().fields().values()), "the float64 reference with the PyTorch layer's weights")


@target("left_padded")
def _left_padded(problem: Problem) -> Expected:
    """A left-padded batch (each sample's real steps at the end, zeros before them, as Keras's ``mask`` accepts it):
    ``x`` left-padded, ``lengths`` and a left ``mask`` ``(batch, time)``; expected the output in the same
    left-padded layout (compared at real steps) and the final states after each sample's last step: the reference's
    run of the real steps."""
    if problem.lengths is None:
        raise Unsupported("left padding needs lengths")
    batch_first = problem.spec.batch_first
    shift = [problem.steps - int(n) for n in problem.lengths]

    def to_left(a: np.ndarray) -> np.ndarray:  # right-padded -> left-padded, in the spec's layout
        b_major = a if batch_first else np.swapaxes(a, 0, 1)
        moved = np.stack([np.roll(sample, k, axis=0) for sample, k in zip(b_major, shift)])
        return moved if batch_first else np.swapaxes(moved, 0, 1)

    ref = problem.reference()
    arrays = list(ref.fields().values())
    mask = np.arange(problem.steps)[None, :] >= np.array(shift)[:, None]  # (batch, time), real steps at the end
    select = (mask if batch_first else mask.T)[..., None]
    return Expected({**_inputs(problem), "x": to_left(problem.x), "mask": mask}, [to_left(arrays[0])] + arrays[1:],
                    "the float64 reference of each sample's real steps: the output in the left-padded layout (at real "
                    "steps) and the final states", select=[select])


def _last_layer(problem: Problem, name: str) -> list[np.ndarray]:
    ref = problem.reference()
    dirs = problem.spec.num_directions
    return [ref.states[name][-dirs + d] for d in range(dirs)]


@target("keras_last_output")
def _keras_last_output(problem: Problem) -> Expected:
    """What Keras's ``return_sequences=False`` returns: per sample, the last layer's output after its last real
    step, the backward direction's (which ends at the first step) concatenated after the forward one's."""
    last = np.concatenate(_last_layer(problem, "h_n"), axis=-1)
    return Expected(_inputs(problem), [last], "Keras's return_sequences=False output (the float64 reference's last "
                                              "layer final h per direction, concatenated)")


@target("keras_states")
def _keras_states(problem: Problem) -> Expected:
    """What Keras's ``return_state=True`` returns besides the output: the last layer's final states, per direction
    in the op's order (forward h, c, then backward h, c), each ``(batch, units)``."""
    names = ops.of(problem.spec).final_names
    per_direction = [_last_layer(problem, name) for name in names]
    arrays = [per_direction[i][d] for d in range(problem.spec.num_directions) for i in range(len(names))]
    return Expected(_inputs(problem), arrays, "Keras's return_state=True states (the float64 reference's last layer "
                                              "final states, (batch, units) each)")


@target("go_backwards")
def _go_backwards(problem: Problem) -> Expected:
    """Keras's ``go_backwards=True``: the reversed sequence's output in processing order, and its final states."""
    if problem.lengths is not None:
        raise Unsupported("go_backwards with padding: Keras reverses the padded axis, masks included")
    backwards = problem.replace(spec=problem.spec.replace(go_backwards=True))
    return Expected(_inputs(problem), list(backwards.reference().fields().values()),
                    "Keras's go_backwards=True (the float64 reference run on the reversed sequence)")


@target("second_batch")
def _second_batch(problem: Problem) -> Expected:
    """Keras's ``stateful=True``: a second batch ``x2`` starts from the first batch's final states."""
    first = problem.reference()
    x2 = np.flip(problem.x, axis=1 if problem.spec.batch_first else 0).copy() * 0.5 + 0.1
    second = problem.replace(x=x2, initial_state=tuple(first.states.values()), lengths=None).reference()
    return Expected({**_inputs(problem), "x2": x2}, list(second.fields().values()),
                    "Keras's stateful=True across two batches (the float64 reference of the second batch, started "
                    "from the first batch's final states)")


@target("keras_initial_state")
def _keras_initial_state(problem: Problem) -> Expected:
    """Keras's ``initial_state=[h0, c0]`` with ``(batch, units)`` states: one layer, one direction."""
    spec = problem.spec
    if spec.num_layers != 1 or spec.bidirectional:
        raise Unsupported("Keras's initial_state of one LSTM layer holds one (batch, units) array per state")
    from ..weights import random_state

    state = problem.initial_state or random_state(spec, problem.batch, seed=2)
    given = problem.replace(initial_state=state)
    names = ops.of(spec).states
    inputs = {**_inputs(given), **{f"{name}0": s[0] for name, s in zip(names, state)}}
    return Expected(inputs, list(given.reference().fields().values()),
                    "the float64 reference started from Keras-shaped (batch, units) initial states")


@target("cell_steps")
def _cell_steps(problem: Problem) -> Expected:
    """A cell (``LSTMCell``, ``GRUCell``, ``RNNCell``) stepped over a time-major ``x`` by the user's loop, from
    initial states given one array per state, ``(batch, hidden)``, named ``h0`` (and ``c0``): every step's hidden
    state stacked along time, then the last step's states, ``(batch, hidden)`` each."""
    spec = problem.spec
    if spec.form != "cell" or spec.batch_first:
        raise Unsupported("a cell stepped over a time-major x")
    from ..weights import random_state

    state = problem.initial_state or random_state(spec, problem.batch, seed=2)
    given = problem.replace(initial_state=state)
    op = ops.of(spec)
    ref = given.reference()
    inputs = {**_inputs(given), **{name: s[0] for name, s in zip(op.initial_names, state)}}
    return Expected(inputs, [ref.output] + [ref.states[name][0] for name in op.final_names],
                    "the float64 reference's hidden state at every step, then its last states, (batch, hidden)")


# --- running ------------------------------------------------------------------------------------------------


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flatten(v)]
    return [value]


def bind(fn: Callable, inputs: dict[str, Any], extra: dict[str, Any], skip: int = 1) -> dict[str, Any]:
    """Keyword arguments for ``fn``'s parameters after the first ``skip``, by name: from ``extra`` first, then the
    target's inputs (under their aliases). A parameter without a value and without a default is an error."""
    kwargs = {}
    for param in list(inspect.signature(fn).parameters.values())[skip:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.name in extra:
            kwargs[param.name] = extra[param.name]
            continue
        canonical = next((k for k, names in ALIASES.items() if param.name in names), param.name)
        value = inputs.get(canonical)
        if value is not None:
            kwargs[param.name] = value
        elif param.default is inspect.Parameter.empty:
            raise Unsupported(f"the recipe's parameter {param.name!r} has nothing to receive here")
    return kwargs


def takes(fn: Callable, canonical: str) -> bool:
    """Whether ``fn`` has a parameter for the canonical input ``canonical``."""
    names = ALIASES.get(canonical, (canonical,))
    return any(p in names for p in inspect.signature(fn).parameters)


def compare(results: list[np.ndarray], expected: Expected, tol: float) -> tuple[bool, float, str]:
    """(all within tolerance, largest absolute error, what differs) of the flattened results against a target."""
    if len(results) != len(expected.arrays):
        return False, float("inf"), f"returned {len(results)} arrays, {len(expected.arrays)} expected"
    worst, problems = 0.0, []
    for i, (got, want) in enumerate(zip(results, expected.arrays)):
        got = np.asarray(got, dtype=np.float64)
        if got.shape != want.shape:
            problems.append(f"result {i} has shape {got.shape}, expected {want.shape}")
            worst = float("inf")
            continue
        select = expected.selection(i)
        ok = within_tolerance(got, want, tol)
        diff = np.abs(got - want)
        if select is not None:
            select = np.broadcast_to(select, diff.shape)
            ok, diff = ok[select], diff[select]
        if diff.size:
            worst = max(worst, float(np.nan_to_num(diff, nan=np.inf).max()))
        if not np.all(ok):
            problems.append(f"result {i}: max abs error {float(np.nan_to_num(diff, nan=np.inf).max()):.3g}")
    return not problems, worst, "; ".join(problems)


def _check_variant(fn: Callable, call: RecipeCall) -> None:
    if call.variant == "initial_state" and not takes(fn, "hx") and not takes(fn, "h0"):
        raise Unsupported("the recipe takes no initial state")


@contract("forward", "the layer a user holds (with the problem's weights), then x, states, lengths by name")
def run_forward(fn: Callable, spec: RecipeSpec, call: RecipeCall) -> RecipeRun:
    _check_variant(fn, call)
    problem = call.problem(spec.options.get("spec"), spec.options.get("padded", False),
                           spec.options.get("state", False))
    expected = TARGETS[spec.options["target"]](problem)
    adapter = call.adapter
    layer_spec = problem.spec.replace(**spec.options.get("layer", {}))
    layer = adapter.user_layer(layer_spec, dataclasses.replace(problem.weights, spec=layer_spec))
    settings = _spec_settings(fn, problem, expected.inputs)
    kwargs = bind(fn, expected.inputs, settings)
    native = {k: v if k in settings else adapter.tensor(v, like=layer) for k, v in kwargs.items()}
    results = [adapter.numpy(t) for t in _flatten(fn(layer, **native))]
    tol = call.tol(problem, spec.options.get("loop", False))
    ok, worst, detail = compare(results, expected, tol)
    return RecipeRun(ok, worst, expected.what + _loop_note(spec, tol), detail)


def _spec_settings(fn: Callable, problem: Problem, inputs: dict[str, Any]) -> dict[str, Any]:
    """The problem spec's settings (``activation``, ``reset_after``, ...) for the recipe's parameters named like a
    spec field that the target's inputs do not fill: plain values, passed as they are."""
    fields = type(problem.spec).model_fields
    return {name: getattr(problem.spec, name) for name in list(inspect.signature(fn).parameters)[1:]
            if name in fields and not any(name in names for names in ALIASES.values()) and name not in inputs}


@contract("keras_layers", "the keras module (tf.keras or tf_keras) and units; the spec's sizes by name")
def run_keras_layers(fn: Callable, spec: RecipeSpec, call: RecipeCall) -> RecipeRun:
    _check_variant(fn, call)
    problem = call.problem(spec.options.get("spec"), spec.options.get("padded", False))
    expected = TARGETS[spec.options["target"]](problem)
    adapter = call.adapter
    s = problem.spec
    extra = {"units": s.hidden_size, **{f: getattr(s, f) for f in type(s).model_fields}}
    model = fn(adapter.keras(), **bind(fn, expected.inputs, extra))
    x = adapter.tensor(problem.x, dtype=s.dtype)
    model(x)  # builds the layers from the input's shape, as a user's first call does
    arrays = [a.astype(s.dtype) for key in problem.weights.keys()
              for a in _keras_arrays(problem)[key]]
    adapter.assign_in_order(model, arrays)
    mask = expected.inputs.get("mask")
    out = model(x, mask=adapter.tensor(mask)) if mask is not None else model(x)
    results = [adapter.numpy(t) for t in _flatten(out)]
    tol = call.tol(problem, spec.options.get("loop", False))
    ok, worst, detail = compare(results, expected, tol)
    return RecipeRun(ok, worst, expected.what + _loop_note(spec, tol), detail)


def _loop_note(spec: RecipeSpec, tol: float) -> str:
    """Says which tolerance judged a recipe that loops by hand (it is not the layer's)."""
    return f" (a loop by hand: judged with the cell API's tolerance, {tol:g})" if spec.options.get("loop") else ""


def _keras_arrays(problem: Problem) -> dict:
    from .. import converters

    return converters.to_keras(problem.weights)


@contract("build", "the target's arrays by name (NumPy), to build the user's layer from")
def run_build(fn: Callable, spec: RecipeSpec, call: RecipeCall) -> RecipeRun:
    _check_variant(fn, call)
    problem = call.problem(spec.options.get("spec"), spec.options.get("padded", False))
    expected = TARGETS[spec.options["target"]](problem)
    layer = fn(**bind(fn, expected.inputs, {}, skip=0))
    results = call.adapter.call_user(layer, problem.x.astype(problem.spec.dtype))
    tol = call.tol(problem, spec.options.get("loop", False))
    ok, worst, detail = compare(results, expected, tol)
    return RecipeRun(ok, worst, expected.what + _loop_note(spec, tol), detail)


@contract("input_dropout", "the layer a user holds, the input and the dropout rate")
def run_input_dropout(fn: Callable, spec: RecipeSpec, call: RecipeCall) -> RecipeRun:
    import itertools

    from ..weights import random_inputs, random_weights

    if call.variant != "plain":
        raise Unsupported("the dropout structure is measured on one layer, one direction")
    rate, samples, steps = spec.options.get("rate", 0.5), 256, 3
    layer_spec = call.setup.spec(call.op, batch_first=True).replace(input_size=1)
    weights = random_weights(layer_spec, seed=call.seed)
    one = random_inputs(layer_spec, 1, steps, seed=call.seed + 1) + 1.0  # no zero inputs: a drop is visible
    x = np.repeat(one, samples, axis=0)
    adapter = call.adapter
    layer = adapter.user_layer(layer_spec, weights)
    adapter.seed(call.seed)
    out = adapter.numpy(_flatten(fn(layer, adapter.tensor(x, like=layer), rate))[0]).astype(np.float64)
    patterns = np.array(list(itertools.product((0.0, 1.0 / (1 - rate)), repeat=steps)))  # (2^steps, steps)
    candidates = Problem(layer_spec, weights, one * patterns[:, :, None], None).reference().output
    tol = call.tol(Problem(layer_spec, weights, x, None), spec.options.get("loop", False))
    explained = np.array([[np.all(within_tolerance(o, c, tol)) for c in candidates] for o in out])
    found = explained.argmax(axis=1)[explained.any(axis=1)]
    share = float(explained.any(axis=1).mean())
    matched = patterns[found]
    constant = bool(np.all(matched == matched[:, :1])) if len(matched) else False
    dropped = float((matched == 0).mean()) if len(matched) else float("nan")
    draws = samples if constant else samples * steps
    ok = share == 1.0 and constant == spec.options.get("per_sequence", True) and \
        abs(dropped - rate) <= 6 * np.sqrt(rate * (1 - rate) / draws)
    detail = (f"{share:.0%} of {samples} samples explained by one kept/dropped pattern; "
              f"{'one mask per sequence' if constant else 'masks vary over time'}; dropped fraction {dropped:.3f}")
    return RecipeRun(ok, None, f"Keras's input dropout at rate {rate} (the float64 reference under one kept/dropped "
                               "pattern per sample, constant over time)", detail)


@contract("recurrent_dropout", "the layer a user holds, the input and the recurrent dropout rate")
def run_recurrent_dropout(fn: Callable, spec: RecipeSpec, call: RecipeCall) -> RecipeRun:
    import itertools

    from ..reference import DropoutScales, reference_forward
    from ..weights import random_weights

    if call.variant != "plain":
        raise Unsupported("the dropout structure is measured on one layer, one direction")
    rate, samples, steps = spec.options.get("rate", 0.5), 256, 3
    layer_spec = call.setup.spec(call.op, batch_first=True).replace(input_size=1, hidden_size=1)
    weights = random_weights(layer_spec, seed=call.seed, scale=1.5)  # large enough that a drop shows
    rng = np.random.default_rng(call.seed)
    one = rng.uniform(0.5, 1.5, size=(1, steps, 1)) * rng.choice([-1, 1], size=(1, steps, 1))
    gates = len(ops.of(layer_spec).gates)
    keep = 1.0 / (1 - rate)
    # h(t-1) is zero at the first step: start from a non-zero state through one extra leading step
    x_one = np.concatenate([np.full((1, 1, 1), 1.0), one], axis=1)
    x = np.repeat(x_one, samples, axis=0)
    adapter = call.adapter
    layer = adapter.user_layer(layer_spec, weights)
    adapter.seed(call.seed)
    out = adapter.numpy(_flatten(fn(layer, adapter.tensor(x, like=layer), rate))[0]).astype(np.float64)[:, :, 0]
    kept = np.array(list(itertools.product((False, True), repeat=gates)))
    one_problem = Problem(layer_spec, weights, x_one, None)
    candidates = np.stack([reference_forward(one_problem, DropoutScales(
        recurrent=np.tile(np.where(k, keep, 0.0), (steps + 1, 1))[:, :, None, None])).output[0, :, 0] for k in kept])
    tol = call.tol(Problem(layer_spec, weights, x, None), spec.options.get("loop", False))
    # each sample's nearest pattern (scaled error, the tolerance test's measure), explained when within tolerance
    scaled = np.max(np.abs(out[:, None, :] - candidates[None, :, :]) / (1 + np.abs(candidates[None, :, :])), axis=2)
    nearest, explained = scaled.argmin(axis=1), scaled.min(axis=1) <= tol
    share = float(explained.mean())
    matched = kept[nearest[explained]]
    dropped = float((~matched).mean()) if len(matched) else float("nan")
    # independent masks per gate: some samples keep one gate and drop another (one mask for all gates never does)
    per_gate = bool(np.any(matched != matched[:, :1])) if len(matched) else False
    ok = share == 1.0 and per_gate and abs(dropped - rate) <= 6 * np.sqrt(rate * (1 - rate) / (len(matched) * gates or 1))
    detail = (f"{share:.0%} of {samples} samples explained by one kept/dropped value per gate on h(t-1) for the "
              f"whole sequence; {'masks differ between gates' if per_gate else 'one mask for all gates'}; "
              f"dropped fraction {dropped:.3f}")
    return RecipeRun(ok, None, f"Keras's recurrent dropout at rate {rate} (the float64 reference under one kept/dropped "
                               "value per gate on h(t-1), constant over time)" + _loop_note(spec, tol), detail)


@contract("check", "whatever the case's check hands it (the check executes it and records that it did)")
def run_by_check(fn: Callable, spec: RecipeSpec, call: RecipeCall) -> RecipeRun:
    raise RuntimeError("a 'check' recipe is executed by its case's check, not by the judge")


def execute(fn: Callable, call: RecipeCall) -> RecipeRun:
    """Run a recipe under its contract."""
    spec = spec_of(fn)
    return CONTRACTS[spec.contract].run(fn, spec, call)


def source(fn: Callable) -> str:
    """The recipe as a user copies it: the function's source without the harness's decorator."""
    lines = textwrap.dedent(inspect.getsource(fn)).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("def ", "async def ")))
    return "\n".join(lines[start:]) + "\n"
