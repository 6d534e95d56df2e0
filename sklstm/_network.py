"""Build the Keras network from plain parameters: the one module that touches ``keras.layers``.

``build_lstm_network`` is a pure function (same arguments, same weights), usable on its own, e.g.
as ``scikeras.wrappers.KerasRegressor(model=build_lstm_network, ...)``.
"""

import keras
import numpy as np
from keras import layers, ops

CENTERINGS = ("last", "mean")

# Longer windows make an unrolled graph slow to build and heavy in memory for little gain.
MAX_UNROLLED_WINDOW = 128
# From this batch size on the time loop stays rolled (see should_unroll).
MIN_ROLLED_BATCH = 128


def gpu_available():
    """Whether Keras' backend sees a GPU (asked of the backend in use, so that JAX or torch
    never load TensorFlow)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return any(device.platform == "gpu" for device in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def cudnn_blockers(*, activation, recurrent_dropout):
    """Reasons why Keras cannot use the fused cuDNN LSTM kernel for these settings."""
    reasons = []
    if activation != "tanh":
        reasons.append(f"activation={activation!r} (cuDNN needs 'tanh')")
    if recurrent_dropout:
        reasons.append(f"recurrent_dropout={recurrent_dropout} (cuDNN needs 0)")
    return reasons


def should_unroll(window, batch_size):
    """Unroll the time loop on TensorFlow's CPUs for small batches of short windows.

    With TensorFlow, unrolled training is faster at small batches, where per-step overhead
    dominates, and no faster at large ones, where tracing the unrolled graph costs seconds more
    (docs/performance.md measures both). On GPUs the loop must stay rolled for cuDNN. JAX
    compiles the rolled loop (``lax.scan``) to a step as fast as the unrolled one, and the
    unrolled graph takes XLA several times longer to compile, so other backends never unroll.
    """
    if keras.backend.backend() != "tensorflow":
        return False
    small_batch = int(batch_size) < MIN_ROLLED_BATCH
    return int(window) <= MAX_UNROLLED_WINDOW and small_batch and not gpu_available()


@keras.saving.register_keras_serializable(package="sklstm")
class WindowCentering(layers.Layer):
    """Subtract each window's last step (or its mean) from every step of that window.

    The LSTM then sees the shape of the recent past, not its level, so a series that drifts
    above anything seen in training does not push the recurrent units into saturation.
    """

    def __init__(self, mode="last", **kwargs):
        super().__init__(**kwargs)
        self.mode = mode

    def call(self, inputs):
        if self.mode == "last":
            return inputs - inputs[:, -1:, :]
        return inputs - ops.mean(inputs, axis=1, keepdims=True)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


# The custom layers of sklstm's networks, by their registered names: what loading a saved
# network may build besides Keras' own layers.
CUSTOM_OBJECTS = {"sklstm>WindowCentering": WindowCentering}


def build_lstm_network(
    *,
    window,
    n_features,
    n_outputs=1,
    units=(50,),
    bidirectional=False,
    dropout=0.0,
    recurrent_dropout=0.0,
    activation="tanh",
    highway=True,
    centering="last",
    unroll=False,
    seed=0,
):
    """Build an uncompiled stack of LSTM layers mapping windows to ``n_outputs`` values.

    A pure function of its arguments: the same arguments give the same network and weights,
    so it can serve any Keras training loop, e.g. as
    ``scikeras.wrappers.KerasRegressor(model=build_lstm_network, ...)``.

    Parameters
    ----------
    window : int
        Time steps per input window.
    n_features : int
        Features per time step.
    n_outputs : int, default=1
        Number of values predicted per window.
    units : int or tuple of int, default=(50,)
        Units of each LSTM layer, first to last.
    bidirectional : bool, default=False
        Wrap every LSTM layer in :class:`keras.layers.Bidirectional`.
    dropout : float, default=0.0
        Rate of the dropout layer after each LSTM layer.
    recurrent_dropout : float, default=0.0
        Dropout on the recurrent state inside each LSTM layer (disables cuDNN on GPUs).
    activation : str, default="tanh"
        Activation of the LSTM cells; "tanh" is the one the cuDNN kernel supports.
    highway : bool, default=True
        Add a linear autoregressive term (a dense layer on the flattened window) to the output,
        as in LSTNet: the network can represent persistence and linear autoregression exactly.
        The LSTM head then starts at zero, and the highway too: :class:`LSTMForecaster` sets
        it to a validated ridge regression before training.
    centering : {"last", "mean"} or None, default="last"
        Subtract each window's last step (or mean) from the LSTM's input.
    unroll : bool, default=False
        Unroll the time loop: faster on CPUs for short windows, never used by cuDNN on GPUs.
    seed : int, default=0
        Seed of every initializer and dropout mask; the network is the same for the same seed.

    Returns
    -------
    model : keras.Model
        Input shape ``(None, window, n_features)``, output shape ``(None, n_outputs)``.

    See Also
    --------
    LSTMForecaster : The estimator that builds, trains and scales this network.

    Examples
    --------
    >>> from sklstm import build_lstm_network
    >>> model = build_lstm_network(window=12, n_features=3, n_outputs=2, units=(16, 8))
    >>> model.input_shape, model.output_shape
    ((None, 12, 3), (None, 2))
    """
    units = (int(units),) if np.ndim(units) == 0 else tuple(int(u) for u in units)
    seeds = iter(np.random.default_rng(seed).integers(0, 2**31 - 1, size=7 * len(units) + 1))

    def initializers():
        return {
            "kernel_initializer": keras.initializers.GlorotUniform(seed=int(next(seeds))),
            "recurrent_initializer": keras.initializers.Orthogonal(seed=int(next(seeds))),
        }

    inputs = keras.Input(shape=(int(window), int(n_features)), name="window")
    x = WindowCentering(centering, name="centering")(inputs) if centering else inputs
    for i, n_units in enumerate(units):
        last = i == len(units) - 1

        def lstm(go_backwards=False, n_units=n_units, last=last):
            return layers.LSTM(
                n_units,
                activation=activation,
                recurrent_dropout=float(recurrent_dropout),
                return_sequences=not last,
                go_backwards=go_backwards,
                unroll=bool(unroll),
                seed=int(next(seeds)),
                **initializers(),
            )

        if bidirectional:
            x = layers.Bidirectional(lstm(), backward_layer=lstm(go_backwards=True))(x)
        else:
            x = lstm()(x)
        if dropout:
            x = layers.Dropout(float(dropout), seed=int(next(seeds)))(x)
    head_seed = int(next(seeds))
    # With a highway the LSTM head starts at zero: the network starts as the linear model and
    # the LSTM learns what that misses.
    outputs = layers.Dense(
        int(n_outputs),
        kernel_initializer="zeros" if highway else keras.initializers.GlorotUniform(seed=head_seed),
        name="lstm_head",
    )(x)
    if highway:
        linear = layers.Dense(int(n_outputs), kernel_initializer="zeros", name="highway")(
            layers.Flatten()(inputs)
        )
        outputs = layers.Add(name="output")([outputs, linear])
    return keras.Model(inputs, outputs, name="lstm_forecaster")
