"""Build the Keras optimizer of a fit, without the TensorFlow leak of one training graph per fit.

With the TensorFlow backend, Keras' optimizer passes the gradients through
``ReplicaContext.all_reduce`` even when no distribution strategy is in use. That call wraps
them in ``tf.custom_gradient``, which, while tracing, registers a gradient function under a
new name in TensorFlow's process-wide gradient registry and never removes it; the function
holds tensors of the traced training step, so every fit's whole training graph outlives its
model: about 13 MB per fit of a small LSTM on 2 cores, 1.3 GB over 100 fits
(``benchmarks/memory.py``). Across a single replica the all-reduce is the identity, so this
optimizer skips it there and keeps it under a real ``tf.distribute`` strategy.
"""

import keras


def build_optimizer(name, learning_rate):
    """A new Keras optimizer ``name`` (e.g. ``"adam"``) with this learning rate."""
    optimizer = keras.optimizers.get(
        {"class_name": name, "config": {"learning_rate": learning_rate}}
    )
    # A private Keras method, overridden on this instance only: checked by
    # tests/test_forecaster.py::test_fits_release_their_training_graphs on every Keras release.
    all_reduce = getattr(optimizer, "_all_reduce_sum_gradients", None)
    if all_reduce is not None:
        optimizer._all_reduce_sum_gradients = _unless_single_replica(all_reduce)
    return optimizer


def _unless_single_replica(all_reduce):
    import tensorflow as tf

    def reduce(grads_and_vars):
        if tf.distribute.has_strategy():
            return all_reduce(grads_and_vars)
        return list(grads_and_vars)

    return reduce
