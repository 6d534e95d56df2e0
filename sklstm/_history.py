"""The history rule: which remembered rows may precede the rows an estimator is asked about.

Both estimators remember the last ``window - 1`` rows they were fitted on. When they later see
rows that continue the fitted data (the test fold of a ``TimeSeriesSplit``), the first windows
take their history from those rows. Whenever continuity cannot be shown, no history is used and
the first windows are padded with their own first row, so no prediction can ever depend on a
row that comes after it.
"""

import numpy as np
import pandas as pd


def _regular_step(index):
    """The constant spacing of a time index, or None when it has none."""
    if index is None or len(index) < 2:
        return None
    if isinstance(index, pd.DatetimeIndex):
        return index.freq or pd.DatetimeIndex(index, freq="infer").freq
    if isinstance(index, pd.PeriodIndex):
        return index.freq
    steps = np.unique(np.diff(np.asarray(index)))
    return steps[0] if len(steps) == 1 else None


class History:
    """The last ``window - 1`` fitted rows and how to tell whether new rows continue them.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        The rows an estimator was fitted on, in time order.
    index : pandas.Index or None
        Their time index when X was a pandas object with one.
    window : int
        Window length; ``window - 1`` rows are kept.
    """

    def __init__(self, X, index, window):
        keep = slice(max(len(X) - (window - 1), 0), None) if window > 1 else slice(0, 0)
        self.rows = np.array(X[keep])
        self.first_row = np.array(X[0])
        self.index = None if index is None else index[keep]
        self.step = _regular_step(index)

    def preceding(self, X, index):
        """Return the remembered rows that immediately precede X (possibly none).

        With a time index on both sides, the rows whose index lies before X's first index are
        used when they are contiguous with it (one regular step before it; any gap when the
        fitted index had no regular step). Without one, X continues the fitted data unless
        its first row equals the first fitted row, which marks an in-sample call.
        """
        none = self.rows[:0]
        if self.index is not None and index is not None and _comparable(self.index, index):
            if len(index) == 0:
                return none
            before = np.asarray(self.index < index[0])
            if not before.any():
                return none
            last = self.index[before][-1]
            if self.step is not None and last + self.step != index[0]:
                return none
            return self.rows[before]
        if len(X) and np.array_equal(X[0], self.first_row):
            return none
        return self.rows


def _comparable(fitted, new):
    if isinstance(fitted, pd.DatetimeIndex) and isinstance(new, pd.DatetimeIndex):
        return (fitted.tz is None) == (new.tz is None)
    if isinstance(fitted, pd.PeriodIndex) and isinstance(new, pd.PeriodIndex):
        return fitted.freq == new.freq
    return pd.api.types.is_numeric_dtype(fitted.dtype) and pd.api.types.is_numeric_dtype(new.dtype)
