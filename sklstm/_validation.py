"""Checks shared by the estimators, with their error wording in one place."""

import difflib
from numbers import Integral


def check_n_rows(n_rows, window, n_needed, estimator_name):
    """Raise a ValueError when fewer rows than ``n_needed`` were given."""
    if n_rows < n_needed:
        noun = "sample" if n_rows == 1 else "samples"
        raise ValueError(
            f"{estimator_name} with window={window} needs at least {n_needed} samples (rows), "
            f"got {n_rows} {noun}. Use a smaller window, fewer validation rows or more data."
        )


def check_windows_3d(X, window, n_features=None):
    """Validate a 3-D array of windows (n_windows, window, n_features)."""
    if X.shape[1] != window:
        raise ValueError(
            f"X holds windows of length {X.shape[1]} but window={window}. Build the windows "
            f"with SlidingWindowTransformer(window={window}) or set window={X.shape[1]}."
        )
    if n_features is not None and X.shape[2] != n_features:
        raise ValueError(
            f"X has {X.shape[2]} features per time step, but the estimator was fitted with "
            f"{n_features} features."
        )


def units_per_layer(units, n_layers, estimator_name):
    """Turn ``units`` (an int or one int per layer) and ``n_layers`` into a tuple of ints."""
    if isinstance(units, Integral):
        return (int(units),) * int(n_layers)
    units = tuple(units)
    if not units or not all(isinstance(u, Integral) and u >= 1 for u in units):
        raise ValueError(
            f"The 'units' parameter of {estimator_name} must be an int >= 1 or a non-empty "
            f"tuple of ints >= 1, one per layer. Got {units!r} instead."
        )
    if n_layers not in (1, len(units)):
        raise ValueError(
            f"{estimator_name} got units={units!r} ({len(units)} layers) and "
            f"n_layers={n_layers}. Give the layer sizes as a tuple, or an int units with "
            "n_layers, not both."
        )
    return tuple(int(u) for u in units)


def did_you_mean(name, choices):
    """`` Did you mean 'x'?`` for the choice closest to ``name``, or an empty string."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""
