"""Small real data sets that ship with sklstm, so examples and tests work offline.

``load_seattle_weather`` returns observed daily weather; ``load_hourly_temperatures`` returns
hourly climate normals (30-year averages), a smooth cycle rather than observed weather.
Sources and licences are in ``sklstm/datasets/data/SOURCES.md``.
"""

from importlib import resources

import pandas as pd

__all__ = ["load_hourly_temperatures", "load_seattle_weather"]


def _read(name, index_col):
    with resources.files(__package__).joinpath("data", name).open("r") as f:
        frame = pd.read_csv(f, index_col=index_col, parse_dates=[index_col])
    frame.index = pd.DatetimeIndex(frame.index, freq="infer")
    return frame


def load_seattle_weather():
    """Load daily Seattle weather, 2012-2015 (public domain, NOAA).

    These are observations: real daily weather, with its day-to-day noise. Persistence
    (tomorrow's maximum equals today's) is hard to beat on them by much.

    Returns
    -------
    frame : pandas.DataFrame of shape (1461, 4)
        Columns ``precipitation`` (mm), ``temp_max`` and ``temp_min`` (degrees C) and
        ``wind`` (m/s), indexed by a daily :class:`pandas.DatetimeIndex` without gaps.

    See Also
    --------
    load_hourly_temperatures : Hourly climate normals (30-year averages) with a daily cycle.

    Examples
    --------
    >>> from sklstm.datasets import load_seattle_weather
    >>> frame = load_seattle_weather()
    >>> frame.shape
    (1461, 4)
    >>> list(frame.columns)
    ['precipitation', 'temp_max', 'temp_min', 'wind']
    >>> frame.index.freqstr
    'D'
    """
    return _read("seattle_weather.csv", "date")


def load_hourly_temperatures():
    """Load hourly temperature normals of Seattle and San Francisco (public domain, NOAA).

    These are climate normals, not observations: for each hour of the year, the 30-year
    average air temperature of that hour at the two cities' airports (NOAA's 1981-2010
    hourly normals), laid out on the calendar of 2010. Averaging removes the weather, so the
    series are smooth daily and yearly cycles: a forecast of them measures how well a model
    follows such a cycle, not how well it forecasts real hourly weather. Even the seasonal
    naive forecast (the value 24 hours earlier) beats persistence by far on them; the
    accuracy page of the documentation (``docs/accuracy.md``) measures how far.

    Returns
    -------
    frame : pandas.DataFrame of shape (8760, 2)
        Columns ``seattle`` and ``san_francisco`` (degrees F), indexed by an hourly
        :class:`pandas.DatetimeIndex`. One missing hour (the daylight-saving switch) is
        linearly interpolated.

    See Also
    --------
    load_seattle_weather : Observed daily multivariate weather.

    Examples
    --------
    >>> from sklstm.datasets import load_hourly_temperatures
    >>> frame = load_hourly_temperatures()
    >>> frame.shape
    (8760, 2)
    >>> frame.index.freqstr
    'h'
    """
    return _read("hourly_temperatures.csv", "time")
