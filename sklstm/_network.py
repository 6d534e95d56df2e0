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


@keras.saving.register_keras_serializable(package="sklstm")
class KnownFutureSplit(layers.Layer):
    """One part of windows whose last ``n_known`` features are the known-future block.

    ``part="past"``: every step without the block, for the LSTM. ``part="future"``: the block
    at the window's last step (the future values known at the forecast origin), read once
    rather than at every step.
    """

    def __init__(self, n_known, part, **kwargs):
        super().__init__(**kwargs)
        self.n_known = int(n_known)
        self.part = part

    def call(self, inputs):
        n_past = inputs.shape[-1] - self.n_known
        if self.part == "past":
            return inputs[:, :, :n_past]
        return inputs[:, -1, n_past:]

    def get_config(self):
        return {**super().get_config(), "n_known": self.n_known, "part": self.part}


# The custom layers of sklstm's networks, by their registered names: what loading a saved
# network may build besides Keras' own layers.
CUSTOM_OBJECTS = {
    "sklstm>WindowCentering": WindowCentering,
    "sklstm>KnownFutureSplit": KnownFutureSplit,
}


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
    n_known=0,
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
    n_known : int, default=0
        The last ``n_known`` features are read once, at the window's last step: the
        seasonal phase's indicators and the known-future block (values of inputs known
        ahead, see :func:`~sklstm.make_horizon_target`'s ``known``). The LSTM reads the other
        features; these join the LSTM's final state in a dense layer before the output and
        the highway's inputs.

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
    past = inputs
    if n_known:
        past = KnownFutureSplit(n_known, "past", name="past")(inputs)
        future = KnownFutureSplit(n_known, "future", name="known_future")(inputs)
    x = WindowCentering(centering, name="centering")(past) if centering else past
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
    if n_known:
        # The future values shape the output together with the recent past (a working day
        # after a holiday, heat after a cold spell): one nonlinear layer on both. Its seed is
        # drawn apart, so networks without a block keep their weights.
        mix_seed = int(np.random.default_rng([seed, 1]).integers(0, 2**31 - 1))
        x = layers.Dense(
            units[-1] * (2 if bidirectional else 1),
            activation=activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=mix_seed),
            name="future_mix",
        )(layers.Concatenate(name="state_and_future")([x, future]))
    # With a highway the LSTM head starts at zero: the network starts as the linear model and
    # the LSTM learns what that misses.
    outputs = layers.Dense(
        int(n_outputs),
        kernel_initializer="zeros" if highway else keras.initializers.GlorotUniform(seed=head_seed),
        name="lstm_head",
    )(x)
    if highway:
        flat = layers.Flatten()(past)
        if n_known:
            flat = layers.Concatenate(name="flat_and_future")([flat, future])
        linear = layers.Dense(int(n_outputs), kernel_initializer="zeros", name="highway")(flat)
        outputs = layers.Add(name="output")([outputs, linear])
    return keras.Model(inputs, outputs, name="lstm_forecaster")


def ignore_inputs(model, features):
    """Zero the input weights of ``features`` (indices of the window's features) in a network
    from :func:`build_lstm_network`, in the first LSTM layer and the known-future mix.

    For inputs that never vary in the training rows: standardised to 0 there, they get no
    gradient, so their weights would stay at their random start and act only once the input
    moves, at prediction time, in a way nothing was learned from. Zeroed, they stay zero.
    """
    features = np.asarray(features, dtype=int)
    if not len(features):
        return
    names = {layer.name for layer in model.layers}
    n_known = model.get_layer("known_future").n_known if "known_future" in names else 0
    n_past = model.input_shape[-1] - n_known
    first = next(
        layer for layer in model.layers if isinstance(layer, layers.LSTM | layers.Bidirectional)
    )
    cells = (
        [first.forward_layer.cell, first.backward_layer.cell]
        if isinstance(first, layers.Bidirectional)
        else [first.cell]
    )
    for cell in cells:
        _zero_rows(cell.kernel, features[features < n_past])
    if n_known:
        mix = model.get_layer("future_mix").kernel
        state = mix.shape[0] - n_known
        _zero_rows(mix, state + features[features >= n_past] - n_past)


def _zero_rows(variable, rows):
    if len(rows):
        values = ops.convert_to_numpy(variable).copy()
        values[rows] = 0.0
        variable.assign(values)
