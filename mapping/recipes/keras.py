"""Keras (tf.keras and Keras 2): regularisers and constraints as Keras users attach them.

Each function takes the framework's adapter (which knows which Keras it is) and works on a one-layer,
one-direction spec.
"""

from __future__ import annotations

import numpy as np


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
