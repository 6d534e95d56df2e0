"""LSTM forecasting of multivariate time series as scikit-learn estimators.

Importing sklstm does not import TensorFlow; it loads at the first fit, predict or load.
"""

from ._forecaster import LSTMForecaster
from ._target import make_horizon_target
from ._window import SlidingWindowTransformer, sliding_windows

__version__ = "0.1.0"

__all__ = [
    "LSTMForecaster",
    "build_lstm_network",
    "SlidingWindowTransformer",
    "__version__",
    "make_horizon_target",
    "sliding_windows",
]


def __getattr__(name):
    # The network builder imports Keras (and TensorFlow): load it only when asked for.
    if name == "build_lstm_network":
        from ._network import build_lstm_network

        return build_lstm_network
    raise AttributeError(f"module 'sklstm' has no attribute {name!r}")
