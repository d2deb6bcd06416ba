"""Keras, in two flavours: Keras 3 as ``tf.keras`` ships it, and legacy Keras 2 (``tf_keras``).

Keras has no layer count and no bidirectional flag. The adapter builds both the way a user porting a
PyTorch or MindSpore model would, and this construction is itself the recipe the mapping pages point
at (see :func:`build_keras_stack`):

* ``num_layers = n``: n layers called one after another, each with ``return_sequences=True`` so the
  next sees the whole sequence, and ``return_state=True`` to collect every layer's final state;
* ``bidirectional=True``: each layer wrapped in ``Bidirectional`` (``merge_mode='concat'``, forward
  features first, as PyTorch and MindSpore concatenate);
* time-major input: Keras 2 has ``time_major=True``; Keras 3 removed it, so the adapter transposes
  to batch-first and back;
* per-sample lengths: a boolean ``mask`` of shape ``(batch, time)`` passed to every layer (reversed in time
  above the first layer with ``go_backwards``, whose output comes in processing order)
  (``(time, batch)`` for Keras 2 with ``time_major=True``, which does not transpose it).

Weights go in through ``set_weights`` after :func:`mapping.converters.to_keras` (one folded bias; a GRU with
``reset_after=True`` keeps both biases). The ops are ``LSTM``, ``GRU`` and ``SimpleRNN``; their cells
(``LSTMCell``, ``GRUCell``, ``SimpleRNNCell``) are one step each, run in the loop over time a user writes
(``h, states = cell(x_t, states)``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .. import converters, frameworks, ops, trace, versions  # noqa: E402
from ..errors import Unsupported  # noqa: E402
from ..problem import Problem, RunResult  # noqa: E402
from ..reference import Gradients, Upstream  # noqa: E402
from ..spec import CELL_SUFFIX, LayerSpec  # noqa: E402
from ..weights import CanonicalWeights  # noqa: E402
from .base import Adapter  # noqa: E402

#: Per API: the keras.layers class.
_OPS: dict[str, str] = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN",
                        "lstm_cell": "LSTMCell", "gru_cell": "GRUCell", "rnn_cell": "SimpleRNNCell"}
#: Spec fields the stack and the cell set themselves (everything else in an op's table is an op option).
_STRUCTURE = ("hidden_size", "bias", "go_backwards")
_DROPOUT = ("input_dropout", "recurrent_dropout")


@dataclass
class KerasStack:
    """The built stack: one Keras layer (the op's layer, or ``Bidirectional`` around it) per spec layer; for a
    cell spec, the one cell."""

    layers: list[Any]


def build_keras_cell(keras: Any, spec: LayerSpec, options: dict[str, Any]) -> KerasStack:
    """Construct (without weights) the Keras cell that stands for a cell ``spec``."""
    cell = getattr(keras.layers, _OPS[spec.api])(units=spec.hidden_size, **options, use_bias=spec.bias,
                                                 dtype=spec.dtype)
    cell.build((None, spec.input_size))
    return KerasStack([cell])


def _cell(layer: Any) -> Any:
    """The cell inside a Keras recurrent layer (a cell is its own)."""
    return getattr(layer, "cell", layer)


def build_keras_stack(keras: Any, spec: LayerSpec, options: dict[str, Any], time_major_arg: bool) -> KerasStack:
    """Construct (without weights) the Keras layers that stand for ``spec``; ``options`` are the op's own
    constructor arguments (activations, dropout)."""
    layers = []
    for layer in range(spec.num_layers):
        kwargs = dict(
            units=spec.hidden_size,
            **options,
            use_bias=spec.bias,
            return_sequences=True,
            return_state=True,
            # the spec reverses the input once; later layers run over the already reversed sequence
            go_backwards=spec.go_backwards and layer == 0,
            dtype=spec.dtype,
        )
        if time_major_arg:
            kwargs["time_major"] = not spec.batch_first
        rnn = getattr(keras.layers, _OPS[spec.api])(**kwargs)
        if spec.bidirectional:
            rnn = keras.layers.Bidirectional(rnn, merge_mode="concat", dtype=spec.dtype)
        rnn.build((None, None, spec.layer_input_size(layer)))
        layers.append(rnn)
    return KerasStack(layers)


def _directions(spec: LayerSpec, keras_layer: Any) -> list[Any]:
    """The plain layers inside one stack entry, forward first."""
    if spec.bidirectional:
        return [keras_layer.forward_layer, keras_layer.backward_layer]
    return [keras_layer]


class _KerasAdapter(Adapter):
    """Shared by both Keras flavours; subclasses say which module and which activation names."""

    length_mechanism = "mask"
    parameters = {
        "lstm": {"hidden_size": "units", "bias": "use_bias", "activation": "activation",
                 "recurrent_activation": "recurrent_activation", "go_backwards": "go_backwards",
                 "input_dropout": "dropout", "recurrent_dropout": "recurrent_dropout"},
        "gru": {"hidden_size": "units", "bias": "use_bias", "activation": "activation",
                "recurrent_activation": "recurrent_activation", "reset_after": "reset_after",
                "go_backwards": "go_backwards", "input_dropout": "dropout", "recurrent_dropout": "recurrent_dropout"},
        "rnn": {"hidden_size": "units", "bias": "use_bias", "activation": "activation", "go_backwards": "go_backwards",
                "input_dropout": "dropout", "recurrent_dropout": "recurrent_dropout"},
        # a cell runs in the user's loop: no go_backwards; its dropout arguments are not driven here (the spec's
        # cell form has none)
        "lstm_cell": {"hidden_size": "units", "bias": "use_bias", "activation": "activation",
                      "recurrent_activation": "recurrent_activation"},
        "gru_cell": {"hidden_size": "units", "bias": "use_bias", "activation": "activation",
                     "recurrent_activation": "recurrent_activation", "reset_after": "reset_after"},
        "rnn_cell": {"hidden_size": "units", "bias": "use_bias", "activation": "activation"},
    }
    #: spec activation name -> this Keras's name for the same function
    activations: dict[str, str]
    #: whether the layer constructors still take ``time_major``
    has_time_major: bool

    def keras(self) -> Any:
        raise NotImplementedError

    def _unsupported_reason(self, spec: LayerSpec) -> str | None:
        label = ops.of(spec).label
        if getattr(spec, "proj_size", 0):
            return f"{self.label} {label} has no projection (proj_size)"
        for field in ops.of(spec).activation_fields:
            value = getattr(spec, field)
            if value not in self.activations:
                return f"{self.label} has no built-in activation equal to the reference's {value!r}"
        return None

    def layer_class(self, op: str) -> type:
        return getattr(self.keras().layers, _OPS[op])

    def construct(self, op: str, *args: Any, bidirectional: bool = False, **kwargs: Any) -> Any:
        """As a user writes it; ``bidirectional`` wraps the layer in ``Bidirectional`` (Keras has no flag)."""
        layer = self.layer_class(op)(*args, **kwargs)
        return self.keras().layers.Bidirectional(layer) if bidirectional else layer

    def constructor(self, op: str) -> Callable:
        return self.layer_class(op).__init__

    def call(self, op: str) -> Callable:
        return self.layer_class(op).call

    def seed(self, seed: int) -> None:
        self.keras().utils.set_random_seed(seed)

    def mode_text(self, training: bool) -> str:
        return f"training={training}"

    def _options(self, spec: LayerSpec) -> dict[str, Any]:
        """The op's own constructor arguments for ``spec``: activations (in this Keras's names), the op's own
        fields (GRU's ``reset_after``) and dropout where it is set."""
        activation_fields = ops.of(spec).activation_fields
        options = {}
        for field, parameter in self.parameters[spec.api].items():
            value = getattr(spec, field)
            if field in _STRUCTURE or (field in _DROPOUT and not value):
                continue
            options[parameter] = self.activations[value] if field in activation_fields else value
        return options

    def build(self, spec: LayerSpec, weights: CanonicalWeights) -> KerasStack:
        self.check_supported(spec)
        if spec.form == "cell":
            stack = build_keras_cell(self.keras(), spec, self._options(spec))
        else:
            stack = build_keras_stack(self.keras(), spec, self._options(spec), self.has_time_major)
        per_cell = converters.to_keras(weights)
        for layer, keras_layer in enumerate(stack.layers):
            for direction, rnn in enumerate(_directions(spec, keras_layer)):
                rnn.set_weights([a.astype(spec.dtype) for a in per_cell[layer, direction]])
        return stack

    def _forward(self, stack: KerasStack, problem: Problem, x: Any, state: list | None, training: bool,
                 mask: Any = None):
        """The stacked call on tensors, shared by :meth:`_run`, :meth:`run_masked` and :meth:`_gradients`.

        Returns the output tensor in the spec's layout and, per state of the op, the list of final-state
        tensors in layer-major order. ``mask`` (batch, time) replaces the one made from ``problem.lengths``.
        """
        import tensorflow as tf

        spec = problem.spec
        if spec.form == "cell":
            return _cell_loop(stack.layers[0], spec, x, state, training)
        n_states = len(ops.of(spec).states)
        transpose = not spec.batch_first and not self.has_time_major
        if mask is not None:
            mask = tf.constant(np.asarray(mask, dtype=bool))
        elif problem.lengths is not None:
            mask = tf.sequence_mask(problem.lengths, maxlen=problem.steps)
            if self.has_time_major and not spec.batch_first:
                # Keras 2 with time_major=True reads the mask as (time, batch), not (batch, time):
                # tf_keras.backend.rnn only swaps the mask's axes when time_major is False.
                mask = tf.transpose(mask)
        dirs = spec.num_directions
        sequence = tf.transpose(x, (1, 0, 2)) if transpose else x
        finals: list[list[Any]] = [[] for _ in range(n_states)]
        for layer, keras_layer in enumerate(stack.layers):
            initial = None
            if state is not None:
                initial = [state[i][layer * dirs + d] for d in range(dirs) for i in range(n_states)]
            layer_mask = mask
            if mask is not None and spec.go_backwards and layer > 0:
                # The first layer reverses its own mask with its input; its output comes in processing order
                # (reversed in time), so the layers above it need the mask reversed with the sequence.
                time_axis = 0 if self.has_time_major and not spec.batch_first else 1
                layer_mask = tf.reverse(mask, axis=[time_axis])
            outputs = keras_layer(sequence, initial_state=initial, mask=layer_mask, training=training)
            sequence, returned = outputs[0], outputs[1:]
            for d in range(dirs):
                for i in range(n_states):
                    finals[i].append(returned[n_states * d + i])
        output = tf.transpose(sequence, (1, 0, 2)) if transpose else sequence
        return output, finals

    def _run(self, stack: KerasStack, problem: Problem, training: bool, mask: Any = None) -> RunResult:
        import tensorflow as tf

        x = tf.constant(np.ascontiguousarray(problem.x))
        state = None
        if problem.initial_state is not None:
            state = [tf.constant(np.ascontiguousarray(s)) for s in problem.initial_state]
        output, finals = self._forward(stack, problem, x, state, training, mask)
        return RunResult.of(problem.spec, np.ascontiguousarray(np.asarray(output)),
                            [np.stack([np.asarray(t) for t in per_state]) for per_state in finals])

    def run_masked(self, stack: KerasStack, problem: Problem, mask: Any) -> RunResult:
        """Keras's boolean mask says which steps are real wherever they are (left padding, holes)."""
        if not problem.spec.batch_first:
            raise ValueError("run_masked takes a batch-first problem and a (batch, time) mask")
        return self._run(stack, problem.validated().cast(problem.spec.dtype), False, mask)

    def _gradients(self, stack: KerasStack, problem: Problem, upstream: Upstream) -> Gradients:
        """``tf.GradientTape`` around the forward of :meth:`_run`.

        Weight gradients come back in Keras's layout and are converted to the canonical one
        (:func:`mapping.converters.keras_gradients`): the kernels are transposed, and since Keras has ONE
        bias, ``bias = b_ih + b_hh`` (the fold of :func:`mapping.converters.to_keras`),
        ``dL/db_ih = dL/db_hh = dL/dbias``: both canonical bias gradients are the Keras bias gradient.
        """
        import tensorflow as tf

        spec = problem.spec
        op = ops.of(spec)
        x = tf.constant(np.ascontiguousarray(problem.x))
        state = None
        if problem.initial_state is not None:
            state = [tf.constant(np.ascontiguousarray(s)) for s in problem.initial_state]
        cells = {
            (layer, direction): _cell(rnn)
            for layer, keras_layer in enumerate(stack.layers)
            for direction, rnn in enumerate(_directions(spec, keras_layer))
        }
        variables = []
        for cell in cells.values():
            variables += [cell.kernel, cell.recurrent_kernel] + ([cell.bias] if spec.bias else [])
        g = {name: tf.constant(np.ascontiguousarray(a)) for name, a in upstream.fields().items()}
        with tf.GradientTape() as tape:
            tape.watch(x)
            if state is not None:
                tape.watch(state)
            output, finals = self._forward(stack, problem, x, state, training=False)
            loss = tf.reduce_sum(output * g["output"])
            for name, per_state in zip(op.final_names, finals):
                loss = loss + tf.reduce_sum(tf.stack(per_state) * g[name])
        sources = [x] + (state or []) + variables
        grads = tape.gradient(loss, sources, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        grads = [np.asarray(d, dtype=np.float64) for d in grads]
        dx, rest = grads[0], grads[1:]
        initial = None
        if state is not None:
            initial = dict(zip(op.initial_names, rest[:len(state)]))
            rest = rest[len(state):]
        per_cell = {}
        width = 3 if spec.bias else 2
        for n, key in enumerate(cells):
            per_cell[key] = rest[n * width:(n + 1) * width]
        return Gradients(x=dx, initial=initial, weights=converters.keras_gradients(spec, per_cell))

    def export_weights(self, stack: KerasStack | Any, spec: LayerSpec) -> CanonicalWeights:
        """The weights of a stack from :meth:`build`, or of one layer from :meth:`native_layer`."""
        layers = stack.layers if isinstance(stack, KerasStack) else [stack]
        per_cell = {}
        for layer, keras_layer in enumerate(layers):
            for direction, rnn in enumerate(_directions(spec, keras_layer)):
                per_cell[layer, direction] = [np.asarray(w) for w in rnn.get_weights()]
        return converters.from_keras(spec, per_cell)

    # --- the layer a user builds by hand ------------------------------------------------------------
    def native_layer(self, spec: LayerSpec, weights: CanonicalWeights | None = None, *, batch: int | None = None,
                     infer_input: bool = False, **options: Any) -> Any:
        kwargs = dict(units=spec.hidden_size, use_bias=spec.bias, dtype=spec.dtype)
        kwargs.update(options)
        layer = self.layer_class(spec.api)(**kwargs)
        if not infer_input:
            layer.build((batch, None, spec.input_size))
        if weights is not None:
            layer.set_weights([a.astype(spec.dtype) for a in converters.to_keras(weights)[0, 0]])
        trace.record({"framework": self.name, "event": "keras_layer", "spec": spec.model_dump(), "batch": batch,
                      "options": {k: v for k, v in options.items() if isinstance(v, (bool, int, float, str))},
                      "model": id(layer)})
        return layer

    def tensor(self, value: Any, like: Any = None, dtype: str | None = None) -> Any:
        import tensorflow as tf

        if isinstance(value, (tuple, list)):
            return type(value)(self.tensor(v, like, dtype) for v in value)
        if isinstance(value, tf.Tensor):
            return value
        a = np.asarray(value)
        if a.dtype.kind == "f":
            if isinstance(like, KerasStack):
                like = like.layers[0]
            target = dtype or (getattr(like, "dtype", None) if like is not None else None) or a.dtype.name
            return tf.constant(a, dtype=target)
        return tf.constant(a.astype(np.int32) if a.dtype.kind in "iu" else a)

    def user_layer(self, spec: LayerSpec, weights: CanonicalWeights) -> Any:
        """One Keras layer returning the sequence and the states; a stack or a bidirectional layer is built by a
        recipe (``keras_layers`` contract), not handed to one."""
        if spec.num_layers != 1 or spec.bidirectional or not spec.batch_first:
            raise Unsupported(f"{self.label}: one LSTM layer is batch-first, one direction, one layer")
        return self.native_layer(spec, weights, return_sequences=True, return_state=True,
                                 **self._options(spec))

    def fresh_layer(self, spec: LayerSpec) -> Any:
        """One Keras layer, built from the input's shape as a user's first call builds it (no weights set)."""
        if spec.num_layers != 1 or spec.bidirectional or not spec.batch_first:
            raise Unsupported(f"{self.label}: one LSTM layer is batch-first, one direction, one layer")
        return self.native_layer(spec, None, return_sequences=True, return_state=True, **self._options(spec))

    def cell_loop(self, problem: Problem) -> np.ndarray:
        import tensorflow as tf

        spec = problem.spec
        cell = self.layer_class(spec.op + CELL_SUFFIX)(spec.hidden_size, use_bias=spec.bias,
                                                                     dtype=spec.dtype, **self._options(spec))
        cell.build((None, spec.input_size))
        cell.set_weights([a.astype(spec.dtype) for a in converters.to_keras(problem.weights)[0, 0]])
        x = problem.x if spec.batch_first else np.swapaxes(problem.x, 0, 1)
        state = [tf.zeros((x.shape[0], spec.hidden_size), dtype=spec.dtype) for _ in ops.of(spec).states]
        outputs = []
        for t in range(x.shape[1]):
            out, state = cell(tf.constant(x[:, t], dtype=spec.dtype), state)
            outputs.append(np.asarray(out))
        return np.stack(outputs, axis=1)

    def call_user(self, layer: Any, x: Any, hx: Any = None) -> list[np.ndarray]:
        """Keras takes the initial states as ``initial_state=[h, c]``, each ``(batch, units)``: the leading
        (layers * directions) axis of one layer's states is dropped, the container kept."""
        x = self.tensor(x, like=layer)
        if hx is None:
            out = layer(x)
        else:
            out = layer(x, initial_state=type(hx)(self.tensor(s, like=layer)[0] for s in hx))
        return [self.numpy(t) for t in (out if isinstance(out, (list, tuple)) else [out])]

    def assign_in_order(self, model: Any, arrays: list[np.ndarray]) -> None:
        arrays = list(arrays)
        for layer in model.layers if isinstance(model, KerasStack) else [model]:
            count = len(layer.weights)
            layer.set_weights([np.asarray(a) for a in arrays[:count]])  # Keras checks each shape
            arrays = arrays[count:]

    def parameters_in_order(self, model: Any) -> list[tuple[str, np.ndarray]]:
        layers = model.layers if isinstance(model, KerasStack) else [model]
        return [(getattr(v, "path", None) or v.name, np.asarray(v, dtype=np.float64))
                for layer in layers for v in layer.weights]

    def native_weights(self, layer: Any) -> list[np.ndarray]:
        return [np.asarray(w) for w in layer.get_weights()]

    def call_native(self, layer: Any, *args: Any, **kwargs: Any) -> list[np.ndarray]:
        """Call on tensors of the layer's dtype (Keras 2 refuses NumPy initial states); return NumPy.

        ``layer`` is a :meth:`native_layer`, or a one-layer stack from :meth:`build` (its layer is called).
        """
        import tensorflow as tf

        if isinstance(layer, KerasStack):
            (layer,) = layer.layers

        def tensor(a):
            if isinstance(a, np.ndarray):
                return tf.constant(np.asarray(a, dtype=layer.dtype))
            return [tensor(v) for v in a] if isinstance(a, (tuple, list)) else a

        x = args[0] if args else next(iter(kwargs.values()))
        trace.record({"framework": "keras", "event": "keras_call", "model": id(layer), "x": list(np.shape(x)),
                      "kwargs": sorted(kwargs)})
        out = layer(*(tensor(a) for a in args), **{k: tensor(v) for k, v in kwargs.items()})
        out = out if isinstance(out, (list, tuple)) else [out]
        return [np.asarray(o) for o in out]


def _cell_loop(cell: Any, spec: LayerSpec, x: Any, state: list | None, training: bool):
    """What a user of a Keras cell writes: ``h, states = cell(x_t, states)`` per step, starting from zeros; the
    outputs stacked along the time axis, each final state as ``(1, batch, size)`` (the stack's convention)."""
    import tensorflow as tf

    axis = 1 if spec.batch_first else 0
    batch = x.shape[1 - axis]
    if state is None:
        states = [tf.zeros((batch, size), dtype=x.dtype) for size in spec.state_sizes().values()]
    else:
        states = [s[0] for s in state]
    outputs = []
    for t in range(x.shape[axis]):
        h, states = cell(x[:, t] if axis == 1 else x[t], states, training=training)
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        outputs.append(h)
    return tf.stack(outputs, axis=axis), [[s] for s in states]


class TfKerasAdapter(_KerasAdapter):
    """``tf.keras`` as TensorFlow ships it: Keras 3 since TensorFlow 2.16, Keras 2 before.

    The reported version is the ``keras`` distribution's, so a report shows which Keras it was.
    """

    framework = frameworks.get("tfkeras")

    @property
    def is_keras3(self) -> bool:
        return versions.major(self.version(), default=3) >= 3

    @property
    def has_time_major(self) -> bool:  # Keras 3 removed time_major
        return not self.is_keras3

    @property
    def activations(self) -> dict[str, str]:
        # Keras 3's hard_sigmoid is relu6(x + 3) / 6; Keras 2's is clip(0.2 * x + 0.5, 0, 1).
        hard = "hard_sigmoid" if self.is_keras3 else "hard_sigmoid_legacy"
        return {"tanh": "tanh", "sigmoid": "sigmoid", hard: "hard_sigmoid", "relu": "relu", "linear": "linear"}

    def keras(self) -> Any:
        import tensorflow as tf

        return tf.keras


class Keras2Adapter(_KerasAdapter):
    """Legacy Keras 2, the ``tf-keras`` package (``import tf_keras``): still has ``time_major``."""

    framework = frameworks.get("keras2")
    has_time_major = True
    # Keras 2's hard_sigmoid is 0.2 * x + 0.5 clipped: the legacy definition.
    activations = {
        "tanh": "tanh",
        "sigmoid": "sigmoid",
        "hard_sigmoid_legacy": "hard_sigmoid",
        "relu": "relu",
        "linear": "linear",
    }

    def keras(self) -> Any:
        import tf_keras

        return tf_keras
