"""Keras (tf.keras and Keras 2): what a Keras user writes for what ``keras.layers.LSTM`` has no parameter for
(stacked and bidirectional layers, ``seq_length``), and the helpers the checks use to attach regularisers and
constraints as Keras users do (those take the framework's adapter and work on a one-layer, one-direction spec).
Functions marked with :func:`~mapping.recipes.recipe` are shown and executed under their contract.
"""

from __future__ import annotations

import numpy as np

from . import recipe


@recipe("keras_layers", target="output", spec={"batch_first": True, "num_layers": 2})
def stacked_layers(keras, units, num_layers):
    """MindSpore's ``num_layers``: stack Keras LSTM layers, each returning its whole sequence (add
    ``return_state=True`` to each layer to get every layer's states)."""
    return keras.Sequential([keras.layers.LSTM(units, return_sequences=True) for _ in range(num_layers)])


@recipe("keras_layers", target="output", spec={"batch_first": True, "bidirectional": True})
def bidirectional(keras, units):
    """MindSpore's ``bidirectional=True``: wrap the layer in ``Bidirectional``; ``merge_mode="concat"`` puts the
    forward features first, as MindSpore does."""
    return keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True), merge_mode="concat")


@recipe("forward", target="keras_sequences_and_states", spec={"batch_first": True}, padded=True)
def seq_length_as_mask(lstm, x, lengths):
    """MindSpore's ``seq_length`` in Keras: a mask of real steps from the lengths. Real steps and final states
    agree; at padded steps a one-direction Keras layer repeats the last real output (MindSpore gives zeros)."""
    import tensorflow as tf

    mask = tf.sequence_mask(lengths, maxlen=x.shape[1])
    return lstm(x, mask=mask)


def regularizer_loss(adapter, spec, weights, x, target: str, l2: float) -> float:
    """The loss Keras adds for ``<target>_regularizer=L2(l2)`` after one call on ``x``."""
    keras = adapter.keras()
    layer = adapter.native_layer(spec, weights, **{f"{target}_regularizer": keras.regularizers.L2(l2)})
    adapter.call_native(layer, x)
    return float(sum(float(v) for v in layer.losses))


def constrained_after_step(adapter, spec, weights, target: str, max_norm: float) -> dict[str, np.ndarray]:
    """The weights after one optimiser step (learning rate 0) with ``<target>_constraint=MaxNorm(max_norm)``:
    Keras applies constraints after each step. Returned in the canonical layout (the bias as Keras's one)."""
    import tensorflow as tf

    keras = adapter.keras()
    layer = adapter.native_layer(spec, weights, **{f"{target}_constraint": keras.constraints.MaxNorm(max_norm)})
    optimizer = keras.optimizers.SGD(learning_rate=0.0)
    optimizer.apply_gradients([(tf.zeros(v.shape, dtype=v.dtype), v) for v in layer.trainable_weights])
    kernel, recurrent, bias = (np.asarray(v, dtype=np.float64) for v in layer.get_weights())
    return {"w_ih": kernel.T, "w_hh": recurrent.T, "bias": bias}


# --- LSTM pages and supplements: recipes for the rows that had text only ---


@recipe("forward", target="keras_sequences_and_states", spec={"batch_first": True})
def positional_input(lstm, x):
    """Call the layer with the sequence as its first positional argument: the keyword is ``inputs`` in Keras 2
    (``tf_keras``) but ``sequences`` in Keras 3 (``lstm(inputs=x)`` raises TypeError there), and ``x`` in
    MindSpore; positionally the same call runs everywhere."""
    return lstm(x)


@recipe("keras_layers", target="output", spec={"batch_first": False})
def time_major_layer(keras, units):
    """MindSpore's default ``batch_first=False`` in Keras 2 (``tf_keras``): ``time_major=True`` reads and returns
    (time, batch, features). Keras 3 removed ``time_major``: transpose to (batch, time, features) there."""
    return keras.layers.LSTM(units, return_sequences=True, time_major=True)
