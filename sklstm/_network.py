"""Build the Keras network from plain parameters: the one module that touches ``keras.layers``.

``build_lstm_network`` is a pure function (same arguments, same weights), usable on its own, e.g.
as ``scikeras.wrappers.KerasRegressor(model=build_lstm_network, ...)``.
"""

import keras
import numpy as np
from keras import layers, ops

CENTERINGS = ("last", "mean")


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
    seed=0,
):
    """Build an uncompiled stack of LSTM layers mapping windows to ``n_outputs`` values.

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
    centering : {"last", "mean"} or None, default="last"
        Subtract each window's last step (or mean) from the LSTM's input.
    seed : int, default=0
        Seed of every initializer and dropout mask; the network is the same for the same seed.

    Returns
    -------
    model : keras.Model
        Input shape ``(None, window, n_features)``, output shape ``(None, n_outputs)``.
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
                seed=int(next(seeds)),
                **initializers(),
            )

        if bidirectional:
            x = layers.Bidirectional(lstm(), backward_layer=lstm(go_backwards=True))(x)
        else:
            x = lstm()(x)
        if dropout:
            x = layers.Dropout(float(dropout), seed=int(next(seeds)))(x)
    outputs = layers.Dense(
        int(n_outputs),
        kernel_initializer=keras.initializers.GlorotUniform(seed=int(next(seeds))),
        name="lstm_head",
    )(x)
    if highway:
        linear = layers.Dense(int(n_outputs), kernel_initializer="zeros", name="highway")(
            layers.Flatten()(inputs)
        )
        outputs = layers.Add(name="output")([outputs, linear])
    return keras.Model(inputs, outputs, name="lstm_forecaster")
