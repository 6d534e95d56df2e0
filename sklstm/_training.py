"""The Keras pieces of one training run: its optimizer, its compiled steps and its callbacks.

With the TensorFlow backend, Keras' optimizer passes the gradients through
``ReplicaContext.all_reduce`` even when no distribution strategy is in use. That call wraps
them in ``tf.custom_gradient``, which, while tracing, registers a gradient function under a
new name in TensorFlow's process-wide gradient registry and never removes it; the function
holds tensors of the traced training step, so every fit's whole training graph would outlive
its model (docs/performance.md, "Memory", measures it). Across a single replica the
all-reduce is the identity, so :func:`build_optimizer` skips it there and keeps it under a
real ``tf.distribute`` strategy. Other backends have no such call: there the optimizer is
Keras' own, untouched.

With the JAX backend, Keras' compiled training, evaluation and prediction steps are pure
functions of the model's state (weights, optimizer slots, seeds, metrics), passed in at every
call. :func:`share_compiled_steps` therefore hands a new network the steps already compiled for
an earlier one of the same architecture and training settings: a search's folds and trials
then compile once instead of at every fit (seconds each), and since the compiled computation
and the fresh network's state are the same as without sharing, so is every result.
"""

import collections
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


def check_distribution():
    """Raise if a ``tf.distribute`` strategy is active under a backend that would ignore it."""
    backend = keras.backend.backend()
    tf = sys.modules.get("tensorflow")
    if backend == "tensorflow" or tf is None or not tf.distribute.has_strategy():
        return
    raise RuntimeError(
        f"A tf.distribute strategy is active, but Keras runs on the {backend!r} backend, "
        "which ignores it. Set KERAS_BACKEND=tensorflow to train under the strategy, or use "
        f"keras.distribution (e.g. keras.distribution.DataParallel) with {backend!r}."
    )


# Compiled steps by network and training settings, most recently used last. Each entry keeps
# its first network alive (the steps were traced with its layers): a few MB per entry.
_STEPS = collections.OrderedDict()
MAX_SHARED_STEPS = 8
_STEP_NAMES = ("train_function", "test_function", "predict_function")


def share_compiled_steps(model, key):
    """Give ``model`` (compiled, not yet trained) the JAX steps compiled for an earlier network
    with the same ``key``, or remember its own for the next; a no-op on other backends.

    ``key`` must hold everything the steps' computation depends on besides the state: the
    network's architecture and input shape, which layers train, the optimizer and the loss.
    """
    if keras.backend.backend() != "jax":
        return
    steps = _STEPS.pop(key, None)
    if steps is None:
        model.make_train_function()
        model.make_test_function()
        model.make_predict_function()
        steps = tuple(getattr(model, name) for name in _STEP_NAMES)
    _STEPS[key] = steps
    while len(_STEPS) > MAX_SHARED_STEPS:
        _STEPS.popitem(last=False)
    for name, step in zip(_STEP_NAMES, steps, strict=True):
        setattr(model, name, step)


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
