"""The seasonal phase: read from the calendar of X's time index, used by the linear part to
learn a profile longer than a window, kept through predict, forecast and save/load, and
refused clearly where X cannot give it."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import TimeSeriesSplit

import sklstm
from sklstm import LSTMForecaster, make_horizon_target
from sklstm._time import regular_step, season_phase


def tiny(**params):
    return LSTMForecaster(
        **{"window": 2, "units": 3, "epochs": 1, "batch_size": 16, "random_state": 0, **params}
    )


@pytest.mark.parametrize(
    "index, expected",
    [
        (pd.date_range("2021-11-01", periods=4, freq="MS"), [10, 11, 0, 1]),
        (pd.period_range("2021-11", periods=4, freq="M"), [10, 11, 0, 1]),
        (pd.period_range("2021Q3", periods=4, freq="Q"), [2, 3, 0, 1]),
        (pd.date_range("2024-01-05", periods=4, freq="D"), [4, 5, 6, 0]),  # Friday first
        (pd.date_range("2024-01-01 22:00", periods=4, freq="h"), [22, 23, 0, 1]),
        (pd.date_range("2024-01-01 23:00", periods=3, freq="30min"), [46, 47, 0]),
        (pd.date_range("2024-12-22", periods=3, freq="W-SUN"), [50, 51, 0]),
    ],
)
def test_the_phase_is_read_from_the_calendar(index, expected):
    np.testing.assert_array_equal(season_phase(index, regular_step(index)), expected)


def test_there_is_no_phase_without_a_season_or_dates():
    years = pd.date_range("2000", periods=5, freq="YS")
    assert season_phase(years, regular_step(years)) is None
    numbers = pd.Index(np.arange(5))
    assert season_phase(numbers, regular_step(numbers)) is None


def test_seasons_of_more_than_a_day_of_5_minute_rows_are_not_read():
    index = pd.date_range("2024-01-01", periods=40, freq="min")
    X = pd.DataFrame({"v": np.sin(np.arange(40.0))}, index=index)
    assert tiny(early_stopping=False).fit(X, X["v"]).seasonal_phase_ is None


@pytest.fixture(scope="module")
def monthly():
    """A fixed monthly profile (no pattern two rows can reveal) plus noise."""
    rng = np.random.default_rng(0)
    profile = rng.normal(0, 3, 12)
    index = pd.period_range("2000-01", periods=180, freq="M")
    values = profile[index.month - 1] + rng.normal(0, 0.3, len(index))
    return make_horizon_target(pd.DataFrame({"v": values}, index=index), "v", horizon=1)


def test_the_phase_lets_a_short_window_learn_a_whole_season(monthly):
    X, y = monthly
    train, test = slice(0, 150), slice(150, None)
    error = {}
    for phase in ("auto", None):
        model = tiny(seasonal_phase=phase).fit(X[train], y[train])
        error[phase] = np.abs(model.predict(X[test]) - y[test].to_numpy()).mean()
    assert model.seasonal_phase_ is None
    # Two rows cannot tell the month; its indicators can: the noise's scale is 0.3 * 0.8.
    assert error["auto"] < 0.5 < error[None]


def test_the_phase_is_kept_through_forecast_and_save_and_load(monthly, tmp_path):
    X, y = monthly
    model = tiny().fit(X, y)
    assert model.seasonal_phase_ == 12
    assert model.last_window_.shape == (1, 1)  # the user's columns, not the indicators
    path = tmp_path / "model.sklstm.zip"
    model.save(path)
    loaded = sklstm.load(path)
    np.testing.assert_array_equal(loaded.predict(X[-20:]), model.predict(X[-20:]))
    pd.testing.assert_frame_equal(loaded.forecast(), model.forecast())
    # The forecast from the last fitted row reads that row's month, as predict does.
    np.testing.assert_allclose(model.forecast().to_numpy().ravel(), model.predict(X[-1:]).ravel())


def test_the_phase_does_not_depend_on_where_the_rows_start(monthly):
    X, y = monthly
    train, test = next(iter(TimeSeriesSplit(n_splits=2).split(X)))
    model = tiny().fit(X.iloc[train], y.iloc[train])
    # A test fold continues the fitted rows; the whole series is an in-sample call.
    np.testing.assert_allclose(model.predict(X.iloc[test]), model.predict(X)[test], rtol=1e-6)


def test_rows_without_their_index_take_their_phase_as_they_take_their_history(monthly):
    X, y = monthly
    model = tiny().fit(X.iloc[:100], y.iloc[:100])
    # In-sample: from the first fitted row's month; otherwise after the last fitted row's.
    np.testing.assert_allclose(model.predict(X.iloc[:100].to_numpy()), model.predict(X.iloc[:100]))
    np.testing.assert_allclose(model.predict(X.iloc[100:].to_numpy()), model.predict(X.iloc[100:]))


def test_what_cannot_give_a_phase_is_refused_with_the_fix(monthly):
    X, y = monthly
    model = tiny().fit(X, y)
    with pytest.raises(ValueError, match="3-D windows carry no time index.*seasonal_phase=None"):
        model.predict(np.zeros((3, 2, 1)))
    numbered = X.set_axis(pd.Index(np.arange(len(X)) + 0.5))
    with pytest.raises(ValueError, match="X's index holds no dates"):
        model.predict(numbered)
    # Nor can they carry the smoothing's state, whatever its share.
    without = tiny(seasonal_phase=None, fallback=None).fit(X, y)
    assert without.predict(np.zeros((3, 2, 1))).shape == (3, 1)
