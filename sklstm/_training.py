"""The Keras pieces of one training run: its optimizer and its callbacks.

With the TensorFlow backend, Keras' optimizer passes the gradients through
``ReplicaContext.all_reduce`` even when no distribution strategy is in use. That call wraps
them in ``tf.custom_gradient``, which, while tracing, registers a gradient function under a
new name in TensorFlow's process-wide gradient registry and never removes it; the function
holds tensors of the traced training step, so every fit's whole training graph would outlive
its model (docs/performance.md, "Memory", measures it). Across a single replica the
all-reduce is the identity, so :func:`build_optimizer` skips it there and keeps it under a
real ``tf.distribute`` strategy.
"""

import sys

import keras

# The private Keras method the leak fix overrides; tests/test_forecaster.py fails clearly if a
# Keras release renames it, instead of the fix silently no longer applying.
ALL_REDUCE_METHOD = "_all_reduce_sum_gradients"


def build_optimizer(name, learning_rate):
    """A new Keras optimizer ``name`` (e.g. ``"adam"``) with this learning rate."""
    optimizer = keras.optimizers.get(
        {"class_name": name, "config": {"learning_rate": learning_rate}}
    )
    all_reduce = getattr(optimizer, ALL_REDUCE_METHOD, None)
    if all_reduce is not None:
        # Overridden on this instance only: other optimizers in the process are untouched.
        setattr(optimizer, ALL_REDUCE_METHOD, _unless_single_replica(all_reduce))
    return optimizer


def _unless_single_replica(all_reduce):
    import tensorflow as tf  # only reached with the TensorFlow backend's optimizer

    def reduce(grads_and_vars):
        if tf.distribute.has_strategy():
            return all_reduce(grads_and_vars)
        return list(grads_and_vars)

    return reduce


class EarlyStoppingBest(keras.callbacks.Callback):
    """Stop when the validation loss has not improved for ``patience`` epochs, and always end
    on the best epoch's weights (Keras' own callback keeps the last epoch's when training runs
    out of epochs first).

    Parameters
    ----------
    patience : int
        Epochs without improvement before training stops.
    """

    def __init__(self, patience):
        super().__init__()
        self.patience = patience

    def on_train_begin(self, logs=None):
        self.wait, self.best, self.best_weights = 0, float("inf"), None

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("val_loss")
        if loss is None:
            return
        if loss < self.best:
            self.wait, self.best, self.best_weights = 0, loss, self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class EpochProgress(keras.callbacks.Callback):
    """One line, rewritten after every epoch: the epoch count and the training loss.

    Parameters
    ----------
    stream : file-like, default=None
        Where to write; None means ``sys.stderr`` at the time of writing.
    """

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss", float("nan"))
        epochs = self.params.get("epochs", "?")
        self._write(f"\r  epoch {epoch + 1}/{epochs}, training loss {loss:.4f} ")

    def on_train_end(self, logs=None):
        self._write("\r" + " " * 50 + "\r")

    def _write(self, text):
        stream = self.stream or sys.stderr
        stream.write(text)
        stream.flush()
