"""Time context: which rows come before which, where fitted data ends, and what comes next.

Every estimator remembers the last rows it was fitted on in a :class:`TimeContext`. When it
later sees rows that continue the fitted data (the test fold of a ``TimeSeriesSplit``), their
first windows take their history from those rows. Whenever continuity cannot be shown, no
history is used and the first windows are padded with their own first row, so no prediction
can ever depend on a row that comes after it. The same context gives the time stamps of a
forecast: the steps after the last fitted (or given) row.
"""

import re

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

# Words in a column name that suggest time stamps.
_TIME_WORDS = {"date", "datetime", "time", "timestamp", "year", "month", "day", "week", "ds"}


def time_index(X):
    """Return X's index when it orders time, else None; reject unsorted or duplicated indexes.

    A DatetimeIndex, PeriodIndex or numeric index is taken as the time axis; any other index
    (strings, a MultiIndex) and plain arrays carry no time information.
    """
    index = getattr(X, "index", None)
    if not isinstance(index, pd.Index) or isinstance(index, pd.MultiIndex):
        return None
    if not (
        isinstance(index, pd.DatetimeIndex | pd.PeriodIndex)
        or pd.api.types.is_numeric_dtype(index.dtype)
    ):
        return None
    if index.has_duplicates:
        first = index[index.duplicated()][0]
        raise ValueError(
            f"X's index has duplicated time stamps (first: {first!r}). Each row must be one "
            "time step: aggregate the duplicates (X.groupby(level=0).mean()) or drop them "
            "(X[~X.index.duplicated()])."
        )
    if not index.is_monotonic_increasing:
        raise ValueError(
            "X's index is not sorted in time order. Rows must be time steps in order: "
            "call X.sort_index() first."
        )
    return index


def regular_step(index):
    """The constant spacing of a time index, or None when it has none."""
    if index is None or len(index) < 2:
        return None
    if isinstance(index, pd.DatetimeIndex):
        return index.freq or pd.DatetimeIndex(index, freq="infer").freq
    if isinstance(index, pd.PeriodIndex):
        return index.freq
    steps = np.unique(np.diff(np.asarray(index)))
    return steps[0] if len(steps) == 1 else None


# Rows per season for the common regular steps (a week of days, a year of weeks, months or
# quarters), by the base of pandas' rule code.
_SEASONS = {"D": 7, "B": 5, "W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4}


def _calendar_unit(step):
    """The base of a single step's rule code ("D", "W", "MS", "QE", ...), else None."""
    return step.rule_code.split("-")[0] if step.n == 1 else None


def season_length(step):
    """Rows per season of a regular time step (a pandas offset), or None: a day's worth of
    rows for hourly and finer steps, 7 for days, 52 for weeks, 12 for months, 4 for quarters."""
    if not isinstance(step, pd.offsets.BaseOffset):
        return None
    if _calendar_unit(step) in _SEASONS:
        return _SEASONS[_calendar_unit(step)]
    try:
        delta = pd.Timedelta(step)
    except (TypeError, ValueError):
        return None
    day = pd.Timedelta(days=1)
    if delta < day and day % delta == pd.Timedelta(0):
        return int(day // delta)
    return None


def season_phase(index, step):
    """Each row's position in its season (0 .. ``season_length(step) - 1``), read from the
    calendar so that any stretch of rows gets the same phases: the day of the week for days
    and business days, the week of the year (the 52nd holds the year's last days) for weeks,
    the month or the quarter of the year, the time of day for hourly and finer steps.

    Returns None where the step has no season or the index holds no calendar time.
    """
    season = season_length(step)
    if season is None or not isinstance(index, pd.DatetimeIndex | pd.PeriodIndex):
        return None
    stamps = index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index
    base = _calendar_unit(step)
    if base in ("D", "B"):
        phase = stamps.dayofweek
    elif base == "W":
        phase = np.minimum((stamps.dayofyear - 1) // 7, season - 1)
    elif base in ("M", "MS", "ME"):
        phase = stamps.month - 1
    elif base in ("Q", "QS", "QE"):
        phase = stamps.quarter - 1
    else:
        phase = (stamps - stamps.normalize()) // pd.Timedelta(step)
    return np.asarray(phase, dtype=int) % season


# The autocorrelation a season read from the values needs: chosen among 0.2 to 0.5 on the
# suite's dev rows with the time index replaced by row numbers (benchmarks/season_detection.py;
# 0.2 took a season of 2, 3 or 8 rows where there is none, 0.4 missed the daily cycle of
# hourly weather).
MIN_SEASON_AUTOCORRELATION = 0.3


def detected_season(columns, max_season, threshold=MIN_SEASON_AUTOCORRELATION):
    """Rows per season read from the values themselves, for rows whose time index has no
    calendar season (plain arrays, day numbers, annual steps), or None.

    The season is the highest local peak, at lags 2 to ``max_season``, of the
    autocorrelation of the columns' first differences (averaged over the columns), when it
    exceeds ``threshold``; a shorter peak within 10 % of it wins, so that a multiple of the
    season is not taken for it. Differencing keeps a trend or a wandering level from
    correlating every lag.

    Parameters
    ----------
    columns : ndarray of shape (n_rows, n_columns)
        Time-ordered values (the targets' own input columns).
    max_season : int
        The longest season to look for.
    threshold : float
        The least autocorrelation a season needs.
    """
    changes = np.diff(np.asarray(columns, dtype=float), axis=0)
    changes = changes - changes.mean(axis=0)
    n_rows = len(changes)
    max_season = min(int(max_season), n_rows // 3)
    if max_season < 2:
        return None
    energy = (changes**2).sum(axis=0)
    # Constant columns have no season to show.
    varied = energy > 0
    if not varied.any():
        return None
    changes, energy = changes[:, varied], energy[varied]
    acf = np.array(
        [
            ((changes[: n_rows - lag] * changes[lag:]).sum(axis=0) / energy).mean()
            for lag in range(max_season + 2)
        ]
    )
    lags = np.arange(2, max_season + 1)
    peaks = lags[(acf[lags] > acf[lags - 1]) & (acf[lags] >= acf[lags + 1])]
    peaks = peaks[acf[peaks] > threshold]
    if not len(peaks):
        return None
    return int(peaks[acf[peaks] >= 0.9 * acf[peaks].max()].min())


class TimeContext:
    """The last rows an estimator was fitted on, and how new rows relate to them in time.

    Build it with :meth:`from_rows` (or :meth:`from_windows`) in ``fit``; its fields are plain
    data, listed in :attr:`FIELDS`, so that a saved estimator stores exactly these.

    Parameters
    ----------
    rows : ndarray of shape (n_kept, n_features)
        The last fitted rows, in time order.
    index : pandas.Index or None
        Their time index, when the fitted data had one.
    step : pandas offset, number or None
        The regular spacing of the fitted time index, when it has one.
    first_row : ndarray of shape (n_features,) or None
        The first fitted row: X whose first row equals it is an in-sample call on arrays.
        None when the estimator was fitted on ready-made 3-D windows, which do not form one
        series that later rows could continue.
    """

    FIELDS = ("rows", "index", "step", "first_row")

    def __init__(self, rows, index, step, first_row):
        self.rows = rows
        self.index = index
        self.step = step
        self.first_row = first_row

    @classmethod
    def from_rows(cls, X, index, n_keep):
        """The context of time-ordered rows X (with their time ``index`` or None), keeping
        their last ``n_keep`` rows."""
        keep = slice(max(len(X) - n_keep, 0), None) if n_keep > 0 else slice(0, 0)
        return cls(
            rows=np.array(X[keep]),
            index=None if index is None else index[keep],
            step=regular_step(index),
            first_row=np.array(X[0]),
        )

    @classmethod
    def from_windows(cls, windows):
        """The context of ready-made 3-D windows: their last window, no time index."""
        return cls(rows=np.array(windows[-1]), index=None, step=None, first_row=None)

    @property
    def end(self):
        """Where the fitted data ends: an index of length 1, or None without a time index."""
        return None if self.index is None or len(self.index) == 0 else self.index[-1:]

    def preceding(self, X, index):
        """Return the remembered rows that immediately precede X (possibly none).

        With a time index on both sides, the rows whose index lies before X's first index are
        used when they are contiguous with it (one regular step before it; any gap when the
        fitted index had no regular step). Without one, X continues the fitted data unless
        its first row equals the first fitted row, which marks an in-sample call.
        """
        none = self.rows[:0]
        if self.first_row is None:
            return none
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


def future_index(end, step, horizon):
    """The ``horizon`` time stamps after ``end`` (an index of length 1, or None for none)."""
    if end is None:
        return pd.RangeIndex(1, horizon + 1, name="steps_ahead")
    if step is None:
        raise ValueError(
            "Cannot tell the time step of the data: its time index is not evenly spaced. "
            "Resample it to a regular frequency (X.asfreq(...)) before fitting."
        )
    if isinstance(end, pd.DatetimeIndex):
        return pd.date_range(end[0] + step, periods=horizon, freq=step, name=end.name)
    if isinstance(end, pd.PeriodIndex):
        return pd.period_range(end[0] + 1, periods=horizon, freq=end.freq, name=end.name)
    return pd.Index(end[0] + step * np.arange(1, horizon + 1), name=end.name)


# -- reading time stamps from a column -----------------------------------------------------------


def parse_time_column(values, name, date_format=None):
    """Turn a column of time stamps into a sorted, evenly spaced time index.

    Text is parsed as dates (with ``date_format`` when given). Numbers are never read as
    nanoseconds since 1970: whole numbers from 1 to 9999 are years (an annual PeriodIndex);
    other numbers need ``date_format`` (e.g. ``"%Y%m%d"`` for 20240131).

    Raises
    ------
    ValueError
        When the column cannot be read as time stamps, has gaps, duplicates or is unsorted;
        the message says how to fix it.
    """
    values = pd.Series(values)
    if values.isna().any():
        raise ValueError(f"date column {name!r} has empty values.")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        index = _numbers_as_time(values, name, date_format)
    else:
        try:
            index = pd.DatetimeIndex(pd.to_datetime(values, format=date_format))
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"date column {name!r} holds values that are not dates ({exc}). Give their "
                "format (e.g. '%d/%m/%Y')."
            ) from None
    _check_sorted_and_unique(index, name)
    step = regular_step(index) if len(index) >= 3 else None
    if len(index) >= 3 and step is None:
        steps = pd.Series(index[1:] - index[:-1])
        usual = steps.mode()[0]
        position = int((steps != usual).argmax())
        raise ValueError(
            f"date column {name!r} is not evenly spaced: most steps are {_step_text(usual)}, "
            f"but {index[position]} is followed by {index[position + 1]}; fill the gaps "
            "(e.g. resample and interpolate) first."
        )
    if isinstance(index, pd.DatetimeIndex) and step is not None:
        index = pd.DatetimeIndex(index, freq=step)
    return index.rename(name)


def _numbers_as_time(values, name, date_format):
    if date_format is not None:
        text = values.map(lambda v: f"{v:.0f}" if float(v).is_integer() else str(v))
        try:
            return pd.DatetimeIndex(pd.to_datetime(text, format=date_format))
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"date column {name!r} does not match the format {date_format!r} ({exc})."
            ) from None
    numbers = values.to_numpy(dtype=float)
    whole = np.all(numbers == np.round(numbers))
    if whole and numbers.min() >= 1 and numbers.max() <= 9999:
        if not np.all(np.diff(numbers) == 1):
            raise ValueError(
                f"date column {name!r} holds years that are not consecutive (e.g. "
                f"{int(numbers[0])}, {int(numbers[1])}): one row per year is needed, or "
                "give the format of these numbers."
            )
        # Annual periods rather than time stamps: they reach back before 1677.
        return pd.PeriodIndex.from_ordinals((numbers.astype(np.int64) - 1970).tolist(), freq="Y")
    example = int(numbers[0]) if whole else float(numbers[0])
    raise ValueError(
        f"date column {name!r} holds numbers (e.g. {example!r}) that are not whole years; "
        "give their format, e.g. '%Y%m%d' for 20240131 (sklstm's --date-format), or convert "
        "them to dates first."
    )


def _check_sorted_and_unique(index, name):
    if index.has_duplicates:
        raise ValueError(
            f"date column {name!r} has duplicated time stamps (first: "
            f"{index[index.duplicated()][0]}); each row must be one time step: aggregate or "
            "drop the duplicates."
        )
    if not index.is_monotonic_increasing:
        position = int((np.asarray(index[1:] < index[:-1])).argmax()) + 1
        raise ValueError(
            f"date column {name!r} is not sorted in time: {index[position]} comes after "
            f"{index[position - 1]}; sort the rows by date first."
        )


def _step_text(step):
    try:
        return f"'{to_offset(step).freqstr}'"
    except ValueError:
        return str(step)


def looks_like_time(name, values):
    """Whether a column named ``name`` with these values looks like time stamps: a date-like
    name, or whole numbers that rise by one at every row (years or step counters)."""
    words = re.split(r"[^a-z]+", str(name).lower())
    if any(word in _TIME_WORDS for word in words):
        return True
    numbers = pd.Series(values)
    if not pd.api.types.is_numeric_dtype(numbers) or len(numbers) < 3:
        return False
    diffs = np.diff(numbers.to_numpy(dtype=float))
    return bool(np.all(diffs == 1) and float(numbers.iloc[0]).is_integer())
