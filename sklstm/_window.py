"""Sliding windows over time-ordered rows: the one place where windows are built."""

from numbers import Integral

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._sklearn_private import (
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
    _get_output_config,
)
from ._target import KnownFuture
from ._time import TimeContext, time_index
from ._validation import check_n_rows


def flatten_windows(windows, n_known=0):
    """Windows of shape (n, window, n_features) as rows of lagged values: every step's
    features but the last ``n_known``, oldest first, then those ``n_known`` (the known-future
    block) of the last step only. The layout of ``SlidingWindowTransformer(flatten=True)``
    and of the forecaster's linear part, so that both see the same inputs."""
    if not n_known:
        return windows.reshape(len(windows), -1)
    n_past = windows.shape[2] - n_known
    past = windows[:, :, :n_past].reshape(len(windows), -1)
    return np.hstack([past, windows[:, -1, n_past:]])


def sliding_windows(X, window, history=None):
    """Return the window ending at every row of X, as a read-only view.

    Row ``t`` of the result holds rows ``t - window + 1 .. t``. Rows before the first row of X
    are taken from ``history`` (the rows that immediately precede X); where that runs out, the
    earliest available row is repeated, so every window is finite and no window ever contains a
    row that comes after its last row.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Time-ordered rows.
    window : int
        Number of time steps per window.
    history : ndarray of shape (n_history, n_features), default=None
        Rows that precede X; only the last ``window - 1`` are used.

    Returns
    -------
    windows : ndarray of shape (n_rows, window, n_features)
        A strided view: the window axis is not copied.

    See Also
    --------
    SlidingWindowTransformer : The same windows as a scikit-learn transformer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import sliding_windows
    >>> X = np.arange(5.0).reshape(-1, 1)
    >>> sliding_windows(X, 3)[:, :, 0]
    array([[0., 0., 0.],
           [0., 0., 1.],
           [0., 1., 2.],
           [1., 2., 3.],
           [2., 3., 4.]])
    >>> sliding_windows(X[3:], 3, history=X[:3])[:, :, 0]
    array([[1., 2., 3.],
           [2., 3., 4.]])
    """
    context = window_context(X, window, history)
    # sliding_window_view puts the window axis last; move it before the features.
    return sliding_window_view(context, window, axis=0).transpose(0, 2, 1)


def window_context(X, window, history=None):
    """Return ``window - 1`` rows of history followed by X, so that the window ending at row
    ``t`` of X is ``context[t : t + window]``; see :func:`sliding_windows` for the padding rule.
    """
    n_history = window - 1
    history = X[:0] if history is None or n_history == 0 else history[-n_history:]
    first = history[:1] if len(history) else X[:1]
    padding = np.repeat(first, n_history - len(history), axis=0)
    return np.concatenate([padding, history, X]).astype(X.dtype, copy=False)


class SlidingWindowTransformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Turn time-ordered rows into the window of past rows that ends at each row.

    One output row per input row, so it fits into a :class:`~sklearn.pipeline.Pipeline`. The
    window for row ``t`` holds rows ``t - window + 1 .. t``: the transformer never looks ahead.
    ``fit`` remembers the last ``window - 1`` rows; ``transform`` on rows that continue them
    (the test fold of a :class:`~sklearn.model_selection.TimeSeriesSplit`) takes the first
    windows' history from there. Rows without enough history repeat the earliest available row.
    How continuity is decided is described in the user guide ("Time semantics").

    A known-future block (the ``<column>_t+<k>`` columns that
    :func:`~sklstm.make_horizon_target` adds with ``known=``) is laid out as
    :class:`~sklstm.LSTMForecaster` uses it: the flattened output holds the other columns'
    lags, then the block of the row itself, once.

    Parameters
    ----------
    window : int, default=24
        Number of time steps in each window.
    flatten : bool, default=False
        If True, return 2-D rows of ``window * n_features`` lagged values (oldest first), ready
        for any scikit-learn regressor; if False, return 3-D windows for
        :class:`~sklstm.LSTMForecaster`. Only 2-D output follows :meth:`set_output`.
    known_future : "auto", list of str or None, default="auto"
        Columns whose known-future block X holds, as in :class:`~sklstm.LSTMForecaster`:
        "auto" finds every ``<column>_t+<k>`` column whose ``<column>`` is in X, a list
        declares them, None windows every column alike. 3-D windows hold the block as the
        last features of every step, in the order the forecaster's network reads it.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has feature names
        that are all strings.
    last_window_ : ndarray of shape (window - 1, n_features_in_)
        The last rows seen during :term:`fit`, history for rows that continue them.
    known_future_ : list of str
        The columns whose known-future block X holds; empty when it holds none.

    See Also
    --------
    LSTMForecaster : LSTM regressor that builds the same windows internally.
    sliding_windows : The function behind this transformer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklstm import SlidingWindowTransformer
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> SlidingWindowTransformer(window=3).fit_transform(X).shape
    (10, 3, 2)
    >>> flat = SlidingWindowTransformer(window=3, flatten=True).fit(X)
    >>> flat.get_feature_names_out().tolist()
    ['x0_lag2', 'x1_lag2', 'x0_lag1', 'x1_lag1', 'x0_lag0', 'x1_lag0']
    >>> model = make_pipeline(SlidingWindowTransformer(3, flatten=True), Ridge())
    >>> model.fit(X[:8], np.arange(8.0)).predict(X[8:]).shape
    (2,)
    """

    _parameter_constraints = {
        "window": [Interval(Integral, 1, None, closed="left")],
        "flatten": ["boolean"],
        "known_future": [StrOptions({"auto"}), list, tuple, None],
    }

    def __init__(self, window=24, *, flatten=False, known_future="auto"):
        self.window = window
        self.flatten = flatten
        self.known_future = known_future

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Remember the number of features and the last ``window - 1`` rows of X.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Time-ordered rows.
        y : None
            Ignored.

        Returns
        -------
        self : SlidingWindowTransformer
            The fitted transformer.
        """
        index = time_index(X)
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        window = int(self.window)
        # Fewer rows than a window would only give windows padded from the first row.
        check_n_rows(len(X), window, window, type(self).__name__)
        known = KnownFuture.of(
            getattr(self, "feature_names_in_", None), self.known_future, X.shape[1]
        )
        self.known_future_ = known.columns
        # The last full window, as LSTMForecaster keeps it: both see the same history.
        self._time = TimeContext.from_rows(known.arrange(X), index, window)
        return self

    @property
    def last_window_(self):
        """The last ``window - 1`` fitted rows: history for the rows that continue them."""
        return self._time.rows[1:]

    def set_output(self, *, transform=None):
        """Set the output container of :meth:`transform` and ``fit_transform``.

        With ``flatten=True`` the lagged values become a DataFrame (``"pandas"``) or a polars
        DataFrame (``"polars"``) with :meth:`get_feature_names_out` as columns and the input's
        index. 3-D windows (``flatten=False``) stay NumPy arrays whatever is set: pandas and
        polars have no 3-D container, and :class:`~sklstm.LSTMForecaster` reads the array.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            The container of 2-D output; None leaves the setting unchanged.

        Returns
        -------
        self : SlidingWindowTransformer
            The transformer.
        """
        if transform is not None:
            self._sklearn_output_config = {"transform": transform}
        return self

    def transform(self, X):
        """Return the window ending at each row of X.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Time-ordered rows.

        Returns
        -------
        windows : ndarray of shape (n_rows, window, n_features) or (n_rows, window * n_features)
            3-D strided view, or 2-D lagged values when ``flatten=True``.
        """
        check_is_fitted(self)
        index = time_index(X)
        known = KnownFuture.fitted(self)
        rows = known.arrange(validate_data(self, X, reset=False, dtype=[np.float64, np.float32]))
        windows = sliding_windows(rows, int(self.window), self._time.preceding(rows, index))
        if not self.flatten:
            return windows
        flat = flatten_windows(windows, known.n_known)
        return _as_container(flat, self, getattr(X, "index", None))

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; defaults to `feature_names_in_` or ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str
            ``<feature>_lag<k>`` for every lag ``k`` (oldest first) when ``flatten=True``,
            then the known-future block's names; the input names (the last axis of the
            windows, the block last) otherwise.
        """
        check_is_fitted(self)
        known = KnownFuture.fitted(self)
        names = np.asarray(_check_feature_names_in(self, input_features), dtype=object)
        names = names[known.order]
        if not self.flatten:
            return names
        past, block = names[: len(names) - known.n_known], names[len(names) - known.n_known :]
        lags = range(int(self.window) - 1, -1, -1)
        lagged = [f"{name}_lag{lag}" for lag in lags for name in past]
        return np.array(lagged + list(block), dtype=object)


def _as_container(flat, transformer, index):
    """2-D output in the container that ``set_output`` or ``set_config`` asks for."""
    container = _get_output_config("transform", transformer)["dense"]
    columns = transformer.get_feature_names_out()
    if container == "pandas":
        return pd.DataFrame(flat, columns=columns, index=index)
    if container == "polars":
        import polars as pl  # only installed where a user asked for polars output

        return pl.DataFrame(flat, schema=list(columns), orient="row")
    return flat
