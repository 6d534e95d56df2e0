"""The season read from the values where X's time index gives none (plain arrays, day
numbers, annual steps): found through a trend and noise, never a multiple of itself, not
made up from noise, and read from the rows before the validation windows only."""

import numpy as np
import pandas as pd
import pytest

import sklstm
from sklstm import LSTMForecaster, make_horizon_target
from sklstm._time import detected_season


def tiny(**params):
    return LSTMForecaster(
        **{"window": 14, "units": 3, "epochs": 1, "batch_size": 16, "random_state": 0, **params}
    )


def seasonal(n_rows, season, seed=0, slope=0.3):
    """A fixed profile of ``season`` rows on a trend, plus noise."""
    rng = np.random.default_rng(seed)
    profile = rng.normal(0, 3, season)
    t = np.arange(n_rows)
    return profile[t % season] + slope * t + rng.normal(0, 0.5, n_rows)


@pytest.mark.parametrize("season", [4, 7, 12])
def test_a_season_is_found_through_trend_and_noise(season):
    values = seasonal(200, season)[:, None]
    assert detected_season(values, max_season=13) == season


def test_the_season_is_taken_rather_than_its_multiples():
    # Lags 6, 12, 18 and 24 correlate about equally.
    assert detected_season(seasonal(400, 6)[:, None], max_season=30) == 6


def test_a_constant_column_beside_a_seasonal_one_is_left_out():
    columns = np.column_stack([seasonal(200, 7), np.ones(200)])
    assert detected_season(columns, max_season=13) == 7


@pytest.mark.parametrize("seed", range(10))
def test_no_season_is_made_up_from_a_random_walk_or_noise(seed):
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(size=(150, 1)), axis=0)
    assert detected_season(walk, max_season=23) is None
    assert detected_season(rng.normal(size=(150, 2)), max_season=23) is None


def test_constant_or_short_columns_have_no_season():
    assert detected_season(np.ones((50, 1)), max_season=10) is None
    assert detected_season(seasonal(5, 2)[:, None], max_season=4) is None


def frame(values, index=None):
    X = pd.DataFrame({"v": values}, index=index)
    return make_horizon_target(X, "v", horizon=2)


def test_arrays_and_day_numbers_get_the_season_a_calendar_would_give():
    values = seasonal(200, 7)
    dated = frame(values, pd.date_range("2024-01-01", periods=200, freq="D"))
    numbered = frame(values)
    assert tiny().fit(*dated).season_ == 7
    assert tiny().fit(*numbered).season_ == 7
    X, y = numbered
    assert tiny().fit(X.to_numpy(), y.to_numpy()).season_ == 7
    # An annual index has no calendar season; a cycle in the values is still one.
    years = frame(values, pd.period_range("1800", periods=200, freq="Y"))
    assert tiny().fit(*years).season_ == 7
    assert tiny().fit(*frame(np.cumsum(np.random.default_rng(0).normal(size=200)))).season_ is None


def test_the_season_is_read_before_the_validation_windows():
    # A season that starts in the validation windows must not shape the model they judge.
    values = np.cumsum(np.random.default_rng(1).normal(size=300))
    values[-20:] += 10 * np.tile([1.0, -1.0, 0.5, -0.5], 5)
    model = tiny(validation_fraction=0.1)
    assert model.fit(*frame(values)).season_ is None


def test_a_season_is_kept_through_save_and_load(tmp_path):
    model = tiny().fit(*frame(seasonal(200, 7)))
    model.save(tmp_path / "model.zip")
    assert sklstm.load(tmp_path / "model.zip").season_ == 7
