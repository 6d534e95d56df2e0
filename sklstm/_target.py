"""Align features with the future values to forecast (direct multi-horizon targets).

The one home of the naming rule: the value of column ``c`` ``k`` steps ahead is ``c_t+k``,
in y for the targets and in X for the columns whose future is known (calendars, plans,
weather forecasts): the *known-future block* of a row, laid out by :class:`KnownFuture`.
"""

import re
from dataclasses import dataclass

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


def make_horizon_target(data, target, horizon=1, *, known=None):
    """Split time-ordered data into features X and the next ``horizon`` values of ``target``.

    Row ``t`` of y holds ``target[t + 1 .. t + horizon]`` (columns ``<target>_t+1`` ...
    ``<target>_t+<horizon>``), so a model predicting y[t] from rows up to t forecasts the
    future. The last ``horizon`` rows, which have no complete target, are dropped. X keeps every
    column of ``data``, including the target's current value.

    Columns named in ``known`` are known ahead (a calendar, a plan, a weather forecast): row
    ``t`` of X also holds their values at ``t + 1 .. t + horizon``, as columns
    ``<column>_t+1`` ... ``<column>_t+<horizon>`` after the others (the *known-future block*;
    docs/time_semantics.md draws it). Every scikit-learn model, ``Pipeline`` and
    ``TimeSeriesSplit`` then sees them as ordinary features of row ``t``;
    :class:`~sklstm.LSTMForecaster` and :class:`~sklstm.SlidingWindowTransformer` recognise
    the block by these names and give it once per row instead of at every step of the window.

    Parameters
    ----------
    data : pandas.DataFrame or array-like of shape (n_rows, n_columns)
        Time-ordered rows.
    target : str, int or list of them
        Column name(s) of a DataFrame, or column position(s) of an array.
    horizon : int, default=1
        Number of future steps to predict directly.
    known : str or list of str, default=None
        Columns of a DataFrame whose future values are known when forecasting. The target
        itself cannot be one: its future is what is predicted.

    Returns
    -------
    X : pandas.DataFrame or ndarray of shape (n_rows - horizon, n_columns + n_known * horizon)
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
    >>> X, y = make_horizon_target(frame, "Demand", horizon=2, known="Temp")
    >>> list(X.columns)
    ['Demand', 'Temp', 'Temp_t+1', 'Temp_t+2']
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
    known = _declared_known(known, frame, targets, isinstance(data, pd.DataFrame))
    y = future_values(frame, targets, horizon).iloc[:-horizon]
    X = with_known_future(frame, known, horizon).iloc[:-horizon]
    if isinstance(data, pd.DataFrame):
        return X, y
    return X.to_numpy(), y.to_numpy()


def future_values(frame, columns, horizon):
    """The values of ``columns`` at ``t + 1 .. t + horizon`` for every row ``t`` of ``frame``,
    as columns ``<column>_t+<k>`` (missing past the last row)."""
    values = {
        horizon_name(name, step): frame[name].shift(-step)
        for name in columns
        for step in range(1, horizon + 1)
    }
    return pd.DataFrame(values, index=frame.index)


def with_known_future(frame, known, horizon):
    """``frame`` followed by the known-future block of ``known`` columns over ``horizon``
    steps: the layout of X that :func:`make_horizon_target` returns."""
    if not known:
        return frame
    return pd.concat([frame, future_values(frame, known, horizon)], axis=1)


def _declared_known(known, frame, targets, named):
    """The known columns as a list, after refusing those that are missing or a target."""
    if known is None:
        return []
    known = list(known) if isinstance(known, list | tuple) else [known]
    if known and not named:
        raise ValueError(
            "known needs data as a pandas DataFrame: the estimators find the known-future "
            "block by its column names ('<column>_t+<k>'). Wrap the array in pd.DataFrame "
            "with string column names."
        )
    missing = [c for c in known if c not in frame.columns]
    if missing:
        raise ValueError(
            f"known column(s) {missing} not found; available columns: {list(frame.columns)}."
            + did_you_mean(missing[0], frame.columns)
        )
    leaking = [c for c in known if c in targets]
    if leaking:
        raise ValueError(
            f"known column(s) {leaking} are target(s): a target's future values are what is "
            "predicted and can never be inputs. Remove them from known."
        )
    return list(dict.fromkeys(known))


@dataclass(frozen=True)
class KnownFuture:
    """Where the known-future block sits among X's columns.

    The estimators arrange X as its other columns (in their order) followed by the block
    (by declared column, then step); each row's window reads the other columns, the block is
    read once, at the window's last row.

    Parameters
    ----------
    columns : list of str
        The columns known ahead, each with future columns ``<column>_t+1 .. <column>_t+<k>``.
    order : ndarray of int
        X's column positions in the arranged order.
    n_known : int
        Columns in the block (the last ``n_known`` of the arranged order).
    steps : int
        Future rows the block covers: the most steps of any known column.
    """

    columns: list
    order: np.ndarray
    n_known: int
    steps: int

    @classmethod
    def of(cls, feature_names, known, n_features):
        """The block declared by ``known`` ("auto", a list of columns or None) among the
        ``n_features`` columns of X, named ``feature_names`` (None for unnamed columns).

        "auto" takes every ``<c>_t+<k>`` column whose ``c`` is also a column of X, as
        :func:`make_horizon_target` builds them. A declared column without its future
        columns, or with a gap in their steps, is refused with a ValueError.
        """
        if known is None or known == "auto" and feature_names is None:
            return cls.none(n_features)
        fix = (
            "build X with make_horizon_target(data, target, horizon, known=[...]), which adds "
            "columns '<column>_t+1' .. '<column>_t+<horizon>'"
        )
        if feature_names is None:
            raise ValueError(
                f"known_future={known!r} needs X as a DataFrame with named columns: {fix}."
            )
        names = [str(name) for name in feature_names]
        steps = {}
        for position, name in enumerate(names):
            part = split_horizon_name(name)
            if part is None:
                continue
            column, step = part
            if (known == "auto" and column in names) or (known != "auto" and column in known):
                steps.setdefault(column, {})[step] = position
        if known != "auto":
            absent = [column for column in known if column not in steps]
            if absent:
                raise ValueError(
                    f"known_future declares {absent}, but X has no column "
                    f"{horizon_name(absent[0], 1)!r}: {fix}."
                )
            steps = {column: steps[column] for column in known}
        for column, found in steps.items():
            if sorted(found) != list(range(1, len(found) + 1)):
                raise ValueError(
                    f"X's known-future columns of {column!r} hold steps {sorted(found)}; "
                    f"every step from 1 is needed: {fix}."
                )
        block = [found[k] for found in steps.values() for k in sorted(found)]
        in_block = set(block)
        others = [i for i in range(len(names)) if i not in in_block]
        most = max((len(found) for found in steps.values()), default=0)
        return cls(list(steps), np.array(others + block, dtype=int), len(block), most)

    @classmethod
    def fitted(cls, estimator):
        """The block a fitted estimator's X holds (its ``known_future_``; none for a model
        saved before there were blocks)."""
        if not getattr(estimator, "known_future_", None):
            return cls.none(estimator.n_features_in_)
        return cls.of(
            estimator.feature_names_in_, estimator.known_future_, estimator.n_features_in_
        )

    @classmethod
    def none(cls, n_features):
        """No block: X as it is."""
        return cls([], np.arange(n_features), 0, 0)

    def arrange(self, X):
        """X's columns in the arranged order (X itself when already in it)."""
        if np.array_equal(self.order, np.arange(X.shape[-1])):
            return X
        return X[..., self.order]

    def check_no_target(self, X, y, target_names, feature_names):
        """Refuse a block that holds a target's own future values.

        By name (a known column that a target ``<column>_t+<k>`` forecasts) and by value (a
        block column equal to a target column on every row), so that arrays and renamed
        columns are caught too.
        """
        if not self.n_known:
            return
        targets = {split_horizon_name(n)[0] for n in target_names or [] if split_horizon_name(n)}
        leaking = [column for column in self.columns if column in targets]
        if leaking:
            raise ValueError(
                f"The target column(s) {leaking} are declared known ahead (X holds their "
                "future values): the target's future is what is predicted and can never be an "
                "input. Leave them out of make_horizon_target's known (and of known_future)."
            )
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        block = self.order[len(self.order) - self.n_known :]
        for position in block:
            column = np.asarray(X[:, position], dtype=np.float64)
            for j in range(y.shape[1]):
                if np.allclose(column, y[:, j], rtol=1e-6, atol=1e-12):
                    raise ValueError(
                        f"X's known-future column {feature_names[position]!r} equals target "
                        f"{j} on every row: a target's future values can never be inputs. "
                        "Remove it from X's known columns."
                    )


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


def source_features(sources):
    """The distinct columns of X that the outputs are the future of (``target_sources``),
    in column order."""
    return sorted({source[0] for source in sources if source is not None})


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
