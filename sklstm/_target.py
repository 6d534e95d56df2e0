"""Align features with the future values to forecast (direct multi-horizon targets).

The one home of the naming rule: the value of column ``c`` ``k`` steps ahead is ``c_t+k``.
"""

import re

import numpy as np
import pandas as pd

from ._validation import did_you_mean

_HORIZON_NAME = re.compile(r"(.+)_t\+(\d+)")


def horizon_name(column, step):
    """The name of the target holding ``column``'s value ``step`` steps ahead."""
    return f"{column}_t+{step}"


def split_horizon_name(name):
    """``(column, step)`` of a name made by :func:`horizon_name`, or None for other names."""
    match = _HORIZON_NAME.fullmatch(name) if isinstance(name, str) else None
    return None if match is None else (match[1], int(match[2]))


def target_steps(names):
    """The step ``k`` of every target named ``<column>_t+<k>``; None unless all are so named."""
    parts = [split_horizon_name(name) for name in names or []]
    if not parts or not all(parts):
        return None
    return [step for _, step in parts]


def horizon_layout(names):
    """Targets, horizon and the output column of each (target, step) of ``<col>_t+<k>`` names.

    Raises a ValueError, saying how to get such names, unless ``names`` holds every step
    ``1 .. horizon`` of every target exactly once.
    """
    how = (
        "forecast() needs targets named '<column>_t+<k>' for k = 1 .. horizon: fit on the "
        "DataFrame y that make_horizon_target(frame, target, horizon) returns"
    )
    if names is None:
        raise ValueError(f"{how}; this estimator was fitted with an unnamed y.")
    parts = [split_horizon_name(name) for name in names]
    if not all(parts):
        raise ValueError(f"{how}; got targets {list(names)}.")
    column_of = {part: i for i, part in enumerate(parts)}
    targets = list(dict.fromkeys(column for column, _ in parts))
    horizon = max(step for _, step in parts)
    if len(column_of) != len(targets) * horizon or len(column_of) != len(names):
        raise ValueError(f"{how}; got targets {list(names)}.")
    return targets, horizon, column_of


def make_horizon_target(data, target, horizon=1):
    """Split time-ordered data into features X and the next ``horizon`` values of ``target``.

    Row ``t`` of y holds ``target[t + 1 .. t + horizon]`` (columns ``<target>_t+1`` ...
    ``<target>_t+<horizon>``), so a model predicting y[t] from rows up to t forecasts the
    future. The last ``horizon`` rows, which have no complete target, are dropped. X keeps every
    column of ``data``, including the target's current value.

    Parameters
    ----------
    data : pandas.DataFrame or array-like of shape (n_rows, n_columns)
        Time-ordered rows.
    target : str, int or list of them
        Column name(s) of a DataFrame, or column position(s) of an array.
    horizon : int, default=1
        Number of future steps to predict directly.

    Returns
    -------
    X : pandas.DataFrame or ndarray of shape (n_rows - horizon, n_columns)
        The features, with the original index for a DataFrame.
    y : pandas.DataFrame or ndarray of shape (n_rows - horizon, n_targets * horizon)
        For every target, its values 1 .. horizon steps ahead.

    See Also
    --------
    LSTMForecaster.forecast : Turns predictions of such targets into future time stamps.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklstm import make_horizon_target
    >>> frame = pd.DataFrame({"Demand": [1.0, 2.0, 3.0, 4.0], "Temp": [5.0, 6.0, 7.0, 8.0]})
    >>> X, y = make_horizon_target(frame, "Demand", horizon=2)
    >>> y
       Demand_t+1  Demand_t+2
    0         2.0         3.0
    1         3.0         4.0
    >>> X.shape
    (2, 2)
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be an int >= 1. Got {horizon!r} instead.")
    targets = list(target) if isinstance(target, list | tuple) else [target]
    if not targets:
        raise ValueError("target must name at least one column.")
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(np.asarray(data))
    if frame.ndim != 2 or isinstance(data, pd.Series):
        raise ValueError("data must be 2-D: one row per time step, one column per variable.")
    missing = [t for t in targets if t not in frame.columns]
    if missing:
        raise ValueError(
            f"target column(s) {missing} not found; available columns: {list(frame.columns)}."
            + did_you_mean(missing[0], frame.columns)
        )
    if len(frame) <= horizon:
        raise ValueError(
            f"data has {len(frame)} rows: at least horizon + 1 = {horizon + 1} are needed."
        )
    columns = {
        horizon_name(name, step): frame[name].shift(-step)
        for name in targets
        for step in range(1, horizon + 1)
    }
    y = pd.DataFrame(columns, index=frame.index).iloc[:-horizon]
    X = frame.iloc[:-horizon]
    if isinstance(data, pd.DataFrame):
        return X, y
    return X.to_numpy(), y.to_numpy()


def target_sources(X, y, target_names=None, feature_names=None, max_step=400):
    """For each column of y, ``(feature, step)`` when it holds X's column ``feature`` ``step``
    rows ahead (``y[t] == X[t + step, feature]``), else None.

    Targets named ``<column>_t+<k>`` after a column of X say so; other targets are matched by
    value against the training rows, for steps up to ``max_step``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Time-ordered rows.
    y : ndarray of shape (n_rows,) or (n_rows, n_outputs)
        Their targets, aligned with the rows.
    target_names, feature_names : list of str or None
        Names of y's and X's columns, when they have them.
    """
    y = np.asarray(y).reshape(len(y), -1)
    features = (
        {name: i for i, name in enumerate(feature_names)} if feature_names is not None else {}
    )
    sources = []
    for j in range(y.shape[1]):
        named = split_horizon_name(target_names[j]) if target_names is not None else None
        if named is not None and named[0] in features:
            sources.append((features[named[0]], named[1]))
        else:
            sources.append(_matching_column(X, y[:, j], max_step))
    return sources


def _matching_column(X, target, max_step):
    """The first ``(feature, step)`` with ``target[t] == X[t + step, feature]`` on every row
    that has both, or None."""
    n_rows = len(X)
    for step in range(1, min(max_step, n_rows - 1) + 1):
        later, now = X[step:], target[: n_rows - step]
        # A cheap look at the first row before comparing whole columns.
        for feature in np.flatnonzero(np.isclose(later[0], now[0], rtol=1e-6, atol=0)):
            if np.allclose(later[:, feature], now, rtol=1e-6, atol=1e-12):
                return int(feature), step
    return None
