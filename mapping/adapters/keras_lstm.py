"""Keras ``LSTM``, in two flavours: Keras 3 as ``tf.keras`` ships it, and legacy Keras 2 (``tf_keras``).

Keras has no layer count and no bidirectional flag. The adapter builds both the way a user porting a
PyTorch or MindSpore model would, and this construction is itself the recipe the mapping pages point
at (see :func:`build_keras_stack`):

* ``num_layers = n``: n ``LSTM`` layers called one after another, each with ``return_sequences=True``
  so the next sees the whole sequence, and ``return_state=True`` to collect every layer's final state;
* ``bidirectional=True``: each layer wrapped in ``Bidirectional`` (``merge_mode='concat'``, forward
  features first, as PyTorch and MindSpore concatenate);
* time-major input: Keras 2 has ``time_major=True``; Keras 3 removed it, so the adapter transposes
  to batch-first and back;
* per-sample lengths: a boolean ``mask`` of shape ``(batch, time)`` passed to every layer
  (``(time, batch)`` for Keras 2 with ``time_major=True``, which does not transpose it).

Weights go in through ``set_weights`` after :func:`mapping.converters.to_keras` (one folded bias).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .. import converters  # noqa: E402
from ..outputs import LSTMResult, RunInputs  # noqa: E402
from ..reference_grad import Gradients, Upstream  # noqa: E402
from ..spec import LSTMSpec  # noqa: E402
from ..weights import CanonicalWeights, DirectionWeights  # noqa: E402
from .base import Adapter  # noqa: E402


@dataclass
class KerasStack:
    """The built stack: one Keras layer (``LSTM`` or ``Bidirectional``) per spec layer."""

    layers: list[Any]


def build_keras_stack(keras: Any, spec: LSTMSpec, activations: dict[str, str], time_major_arg: bool) -> KerasStack:
    """Construct (without weights) the Keras layers that stand for ``spec``."""
    layers = []
    for layer in range(spec.num_layers):
        options = dict(
            units=spec.hidden_size,
            activation=activations[spec.activation],
            recurrent_activation=activations[spec.recurrent_activation],
            use_bias=spec.bias,
            return_sequences=True,
            return_state=True,
            # the spec reverses the input once; later layers run over the already reversed sequence
            go_backwards=spec.go_backwards and layer == 0,
            dtype=spec.dtype,
        )
        if time_major_arg:
            options["time_major"] = not spec.batch_first
        lstm = keras.layers.LSTM(**options)
        if spec.bidirectional:
            lstm = keras.layers.Bidirectional(lstm, merge_mode="concat", dtype=spec.dtype)
        shape = (None, None, spec.layer_input_size(layer))
        lstm.build(shape)
        layers.append(lstm)
    return KerasStack(layers)


def _directions(spec: LSTMSpec, keras_layer: Any) -> list[Any]:
    """The plain LSTM layers inside one stack entry, forward first."""
    if spec.bidirectional:
        return [keras_layer.forward_layer, keras_layer.backward_layer]
    return [keras_layer]


class _KerasAdapter(Adapter):
    """Shared by both Keras flavours; subclasses say which module and which activation names."""

    #: spec activation name -> this Keras's name for the same function
    activations: dict[str, str]
    #: whether the LSTM constructor still takes ``time_major``
    has_time_major: bool

    def keras(self) -> Any:
        raise NotImplementedError

    def _unsupported_reason(self, spec: LSTMSpec) -> str | None:
        if spec.proj_size:
            return f"{self.label} LSTM has no projection (proj_size)"
        for field in ("activation", "recurrent_activation"):
            value = getattr(spec, field)
            if value not in self.activations:
                return f"{self.label} has no built-in activation equal to the reference's {value!r}"
        return None

    def build(self, spec: LSTMSpec, weights: CanonicalWeights) -> KerasStack:
        self.check_supported(spec)
        stack = build_keras_stack(self.keras(), spec, self.activations, self.has_time_major)
        per_cell = converters.to_keras(weights)
        for layer, keras_layer in enumerate(stack.layers):
            for direction, lstm in enumerate(_directions(spec, keras_layer)):
                lstm.set_weights([a.astype(spec.dtype) for a in per_cell[layer, direction]])
        return stack

    def _run(self, stack: KerasStack, spec: LSTMSpec, inputs: RunInputs, training: bool) -> LSTMResult:
        import tensorflow as tf

        x = inputs.x
        transpose = not spec.batch_first and not self.has_time_major
        if transpose:
            x = x.transpose(1, 0, 2)
        sequence = tf.constant(np.ascontiguousarray(x))
        mask = None
        if inputs.lengths is not None:
            mask = tf.sequence_mask(inputs.lengths, maxlen=inputs.steps)
            if self.has_time_major and not spec.batch_first:
                # Keras 2 with time_major=True reads the mask as (time, batch), not (batch, time):
                # tf_keras.backend.rnn only swaps the mask's axes when time_major is False.
                mask = tf.transpose(mask)
        h_n, c_n = [], []
        dirs = spec.num_directions
        for layer, keras_layer in enumerate(stack.layers):
            state = None
            if inputs.initial_state is not None:
                h0, c0 = inputs.initial_state
                state = []
                for d in range(dirs):
                    state += [tf.constant(h0[layer * dirs + d]), tf.constant(c0[layer * dirs + d])]
            outputs = keras_layer(sequence, initial_state=state, mask=mask, training=training)
            sequence, states = outputs[0], outputs[1:]
            for d in range(dirs):
                h_n.append(np.asarray(states[2 * d]))
                c_n.append(np.asarray(states[2 * d + 1]))
        output = np.asarray(sequence)
        if transpose:
            output = output.transpose(1, 0, 2)
        return LSTMResult(np.ascontiguousarray(output), np.stack(h_n), np.stack(c_n))

    def _gradients(self, stack: KerasStack, spec: LSTMSpec, inputs: RunInputs, upstream: Upstream) -> Gradients:
        """``tf.GradientTape`` around the forward of :meth:`_run` (same layers, mask and layout handling).

        The forward is repeated here on tensors rather than shared with :meth:`_run`, which stays as it
        is. Weight gradients come back in Keras's layout and are converted to the canonical one:
        ``kernel`` and ``recurrent_kernel`` are transposed (``(in, 4H)`` -> ``(4H, in)``), and since
        Keras has ONE bias, ``bias = b_ih + b_hh`` (the fold of :func:`mapping.converters.to_keras`),
        ``dL/db_ih = dL/db_hh = dL/dbias``: both canonical bias gradients are the Keras bias gradient.
        """
        import tensorflow as tf

        dirs = spec.num_directions
        transpose = not spec.batch_first and not self.has_time_major
        x = tf.constant(np.ascontiguousarray(inputs.x))
        state = None
        if inputs.initial_state is not None:
            state = [tf.constant(np.ascontiguousarray(s)) for s in inputs.initial_state]
        mask = None
        if inputs.lengths is not None:
            mask = tf.sequence_mask(inputs.lengths, maxlen=inputs.steps)
            if self.has_time_major and not spec.batch_first:
                mask = tf.transpose(mask)  # see _run: Keras 2 time_major reads the mask as (time, batch)
        cells = {
            (layer, direction): lstm.cell
            for layer, keras_layer in enumerate(stack.layers)
            for direction, lstm in enumerate(_directions(spec, keras_layer))
        }
        variables = []
        for cell in cells.values():
            variables += [cell.kernel, cell.recurrent_kernel] + ([cell.bias] if spec.bias else [])
        g_out, g_h, g_c = (tf.constant(np.ascontiguousarray(a)) for a in (upstream.output, upstream.h_n, upstream.c_n))
        with tf.GradientTape() as tape:
            tape.watch(x)
            if state is not None:
                tape.watch(state)
            sequence = tf.transpose(x, (1, 0, 2)) if transpose else x
            h_n, c_n = [], []
            for layer, keras_layer in enumerate(stack.layers):
                initial = None
                if state is not None:
                    initial = []
                    for d in range(dirs):
                        initial += [state[0][layer * dirs + d], state[1][layer * dirs + d]]
                outputs = keras_layer(sequence, initial_state=initial, mask=mask, training=False)
                sequence, states = outputs[0], outputs[1:]
                for d in range(dirs):
                    h_n.append(states[2 * d])
                    c_n.append(states[2 * d + 1])
            output = tf.transpose(sequence, (1, 0, 2)) if transpose else sequence
            loss = (
                tf.reduce_sum(output * g_out)
                + tf.reduce_sum(tf.stack(h_n) * g_h)
                + tf.reduce_sum(tf.stack(c_n) * g_c)
            )
        sources = [x] + (state or []) + variables
        grads = tape.gradient(loss, sources, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        grads = [np.asarray(g, dtype=np.float64) for g in grads]
        dx, rest = grads[0], grads[1:]
        dh0 = dc0 = None
        if state is not None:
            (dh0, dc0), rest = rest[:2], rest[2:]
        per_cell = {}
        for key in cells:
            d_kernel, d_recurrent, rest = rest[0], rest[1], rest[2:]
            d_bias = None
            if spec.bias:
                d_bias, rest = rest[0], rest[1:]
            per_cell[key] = DirectionWeights(
                w_ih=d_kernel.T.copy(),
                w_hh=d_recurrent.T.copy(),
                b_ih=None if d_bias is None else d_bias.copy(),
                b_hh=None if d_bias is None else d_bias.copy(),  # the one Keras bias: see the docstring
            )
        weights = CanonicalWeights(spec=spec, cells=per_cell)
        weights.check_shapes()
        return Gradients(x=dx, h0=dh0, c0=dc0, weights=weights)

    def export_weights(self, stack: KerasStack, spec: LSTMSpec) -> CanonicalWeights:
        per_cell = {}
        for layer, keras_layer in enumerate(stack.layers):
            for direction, lstm in enumerate(_directions(spec, keras_layer)):
                per_cell[layer, direction] = [np.asarray(w) for w in lstm.get_weights()]
        return converters.from_keras(spec, per_cell)


class TfKerasAdapter(_KerasAdapter):
    """``tf.keras`` as TensorFlow ships it: Keras 3 since TensorFlow 2.16, Keras 2 before.

    The reported version is the ``keras`` distribution's, so a report shows which Keras it was.
    """

    name = "tfkeras"
    label = "tf.keras"
    import_name = "keras"
    distribution = "keras"

    @property
    def is_keras3(self) -> bool:
        return int((self.version() or "3").split(".")[0]) >= 3

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

    name = "keras2"
    label = "Keras 2 (tf_keras)"
    import_name = "tf_keras"
    distribution = "tf-keras"
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
