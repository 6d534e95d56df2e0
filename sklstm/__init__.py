"""LSTM forecasting of multivariate time series as scikit-learn estimators.

Importing sklstm does not import TensorFlow; it loads at the first fit, predict or load.
"""

import importlib

__version__ = "0.1.0"

# Public names and the module that defines each. They are imported on first use (PEP 562), so
# that `import sklstm` and the `sklstm --help` command line start in a fraction of a second:
# scikit-learn and pandas load with the estimators, Keras and TensorFlow at the first fit,
# predict or load, matplotlib with the first plot. Add new public names here, not as imports.
_LAZY = {
    "LSTMForecaster": "._forecaster",
    "LSTMSearchCV": "._search",
    "SlidingWindowTransformer": "._window",
    "build_lstm_network": "._network",
    "load": "._forecaster",
    "make_horizon_target": "._target",
    "sliding_windows": "._window",
}
_SUBMODULES = ("datasets", "plotting")

__all__ = [
    "LSTMForecaster",
    "LSTMSearchCV",
    "build_lstm_network",
    "SlidingWindowTransformer",
    "__version__",
    "load",
    "make_horizon_target",
    "plotting",
    "sliding_windows",
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'sklstm' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))
