"""The time rules of sklstm/_time.py: time indexes, steps, stamps read from a column."""

import numpy as np
import pandas as pd
import pytest

from sklstm._time import future_index, looks_like_time, parse_time_column, regular_step


def test_whole_numbers_are_years_even_before_1677():
    index = parse_time_column(pd.Series([1500.0, 1501.0, 1502.0]), "year")
    assert isinstance(index, pd.PeriodIndex) and index.freqstr.startswith(("Y", "A"))
    assert index.year.tolist() == [1500, 1501, 1502] and index.name == "year"
    future = future_index(index[-1:], regular_step(index), 2)
    assert future.year.tolist() == [1503, 1504]


@pytest.mark.parametrize(
    "values, message",
    [
        ([1700.5, 1701.5, 1702.5], "not whole years"),
        ([20240101, 20240102, 20240103], "not whole years"),
        ([1700, 1702, 1703], "not consecutive"),
        (["2024-01-01", "not a date", "2024-01-03"], "not dates"),
        (["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-06"], "not evenly spaced"),
        (["2024-01-02", "2024-01-01", "2024-01-03"], "not sorted"),
        (["2024-01-01", "2024-01-01", "2024-01-02"], "duplicated"),
        ([1700, np.nan, 1702], "empty values"),
    ],
)
def test_bad_time_columns_say_what_to_do(values, message):
    with pytest.raises(ValueError, match=message):
        parse_time_column(pd.Series(values), "when")


def test_a_format_reads_numbers_as_dates():
    index = parse_time_column(pd.Series([20240130, 20240131, 20240201]), "d", "%Y%m%d")
    assert index[-1] == pd.Timestamp("2024-02-01") and index.freqstr == "D"


def test_what_looks_like_time():
    assert looks_like_time("YEAR", [1.0, 5.0, 2.0])
    assert looks_like_time("order_date", ["a", "b", "c"])
    assert looks_like_time("t", [1, 2, 3, 4])
    assert not looks_like_time("holiday", [0, 1, 0])
    assert not looks_like_time("winds", [3.0, 2.0, 5.0])
