"""The exponential smoothing the estimator falls back on (sklstm._smoothing)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import mean_absolute_error

import sklstm
from sklstm import LSTMForecaster, _smoothing, make_horizon_target, sliding_windows
from sklstm._smoothing import Smoothing


def test_recursion_matches_statsmodels_ets():
    ets = pytest.importorskip("statsmodels.tsa.exponential_smoothing.ets")
    values = np.cumsum(np.random.default_rng(0).normal(size=60)) + 10.0
    smoothing = Smoothing(alpha=0.3, beta=0.05, gamma=0.0, phi=0.9, season=0, profile=np.zeros(0))
    level, trend = 9.0, 0.2
    ours = smoothing.states(values, (level, trend, np.zeros(0)))
    model = ets.ETSModel(
        values,
        error="add",
        trend="add",
        damped_trend=True,
        initialization_method="known",
        initial_level=level,
        initial_trend=trend,
    )
    theirs = np.asarray(model.smooth([0.3, 0.05, 0.9]).states)
    np.testing.assert_allclose(ours.level, theirs[:, 0], rtol=1e-9)
    np.testing.assert_allclose(ours.trend, theirs[:, 1], rtol=1e-9)


def test_full_smoothing_is_persistence():
    values = np.random.default_rng(1).normal(size=30)
    states = Smoothing(1.0, 0.0, 0.0, 1.0, season=0, profile=np.zeros(0)).states(values)
    np.testing.assert_allclose(states.forecasts([1, 3]), np.c_[values, values])


def test_fitted_smoothing_forecasts_a_clean_season_on_a_trend():
    rows = np.arange(120)
    values = 0.5 * rows + 10 * np.sin(2 * np.pi * rows / 12)
    smoothing = Smoothing.fit(values[:96], season=12)
    assert smoothing.season == 12
    pred = smoothing.states(values).forecasts([1, 6, 12])
    # The damped trend (at most 0.98 per row) falls behind the clean one a little per step;
    # the season, of amplitude 10, is forecast.
    for k, atol, column in zip([1, 6, 12], [0.1, 0.6, 1.5], pred[96:-12].T, strict=True):
        np.testing.assert_allclose(column, values[96 + k : 120 - 12 + k], atol=atol)


def test_running_on_from_a_kept_state_equals_one_run():
    values = np.random.default_rng(2).normal(size=80) + np.tile(np.arange(7.0), 12)[:80]
    smoothing = Smoothing.fit(values[:60], season=7)
    whole = smoothing.states(values)
    first = smoothing.states(values[:50])
    rest = smoothing.states(values[50:], first.after(49))
    np.testing.assert_allclose(rest.forecasts([1, 4, 9]), whole.forecasts([1, 4, 9])[50:])


def test_no_state_reads_a_later_row():
    values = np.random.default_rng(5).normal(size=50) + np.tile(np.arange(5.0), 10)
    smoothing = Smoothing.fit(values, season=5)
    changed = values.copy()
    changed[20:] += 100.0
    np.testing.assert_array_equal(
        smoothing.states(changed).forecasts([1, 2])[:20],
        smoothing.states(values).forecasts([1, 2])[:20],
    )


def test_fallback_state_continues_and_restarts():
    rng = np.random.default_rng(3)
    rows = np.c_[np.cumsum(rng.normal(size=100)), rng.normal(size=100)]
    sources = [(0, 1), None, (0, 2)]
    state = _smoothing.fit_fallback(rows[:70], sources, None, 5)
    # Rows that follow the kept ones run on from them; the first rows start afresh, as the
    # fit's own run did: its kept states give the same forecasts.
    again = _smoothing.fallback_forecasts(state, rows, 0)
    assert np.isnan(again[:, 1]).all() and np.isfinite(again[:, [0, 2]]).all()
    np.testing.assert_allclose(_smoothing.kept_forecasts(state), again[65:70], equal_nan=True)
    later = _smoothing.fallback_forecasts(state, rows[70:], 5)
    np.testing.assert_allclose(later, again[70:], equal_nan=True)
    # A continuation from inside the kept rows: after the 3rd of the 5 (row 67).
    inside = _smoothing.fallback_forecasts(state, rows[68:80], 3)
    np.testing.assert_allclose(inside, again[68:80], equal_nan=True)
    whole = _smoothing.fit_fallback(rows, sources, None, 5)
    assert whole["level"].shape == whole["trend"].shape == (1, 5)


def test_shares_pick_the_better_blend_per_output():
    rng = np.random.default_rng(4)
    truth = rng.normal(size=(400, 4))
    model = truth + rng.normal(scale=[0.1, 1.0, 1.0, 1.0], size=(400, 4))
    smooth = truth + rng.normal(scale=[1.0, 0.1, 1.0, 1.0], size=(400, 4))
    smooth[:, 3] = np.nan  # an output the smoothing has no forecast for
    shares = _smoothing.choose_shares(truth - model, truth - smooth)
    # Equal, independent errors: their average halves the squared error. The smoothing is
    # never taken alone, however much better it was.
    np.testing.assert_array_equal(shares, [0.0, 0.5, 0.5, 0.0])


# -- the estimator's fallback ------------------------------------------------------------------


@pytest.fixture(scope="module")
def seasonal_walk():
    """A monthly season on a wandering level: a window of 4 rows holds neither, the
    smoothing's state both."""
    rng = np.random.default_rng(0)
    n = 300
    values = (
        np.cumsum(rng.normal(scale=0.2, size=n))
        + 3 * np.sin(2 * np.pi * np.arange(n) / 12)
        + rng.normal(size=n)
    )
    frame = pd.DataFrame({"y": values}, index=pd.period_range("2000-01", periods=n, freq="M"))
    X, y = make_horizon_target(frame, "y", horizon=2)
    model = LSTMForecaster(window=4, units=4, epochs=2, random_state=0).fit(X[:200], y[:200])
    return frame, X, y, model


def test_the_fallback_is_chosen_where_it_helps(seasonal_walk):
    _, X, y, model = seasonal_walk
    assert (model.smoothing_share_ > 0).all()
    alone = clone(model).set_params(fallback=None).fit(X[:200], y[:200])
    assert (alone.smoothing_share_ == 0).all()
    error = mean_absolute_error(y[200:], model.predict(X[200:]))
    assert error < 0.95 * mean_absolute_error(y[200:], alone.predict(X[200:]))
    # Its calibration residuals are the blend's: intervals widen less.
    assert np.abs(model.calibration_residuals_).mean() < np.abs(alone.calibration_residuals_).mean()


def test_the_fallback_runs_on_through_the_rows_given(seasonal_walk):
    frame, X, y, model = seasonal_walk
    whole = model.predict(X)
    # In-sample rows start afresh as the fit did; rows that continue it run on from its state,
    # however few, and from inside its last rows by their index.
    np.testing.assert_allclose(model.predict(X[:200]), whole[:200], rtol=1e-6)
    np.testing.assert_allclose(model.predict(X[200:]), whole[200:], rtol=1e-6)
    np.testing.assert_allclose(model.predict(X[200:202]), whole[200:202], rtol=1e-6)
    np.testing.assert_allclose(model.predict(X[199:230]), whole[199:230], rtol=1e-6)
    # The forecast is the last row's prediction, from the fitted state or from given rows.
    np.testing.assert_allclose(model.forecast()["y"], whole[199], rtol=1e-6)
    np.testing.assert_allclose(model.forecast(frame.iloc[:240])["y"], whole[239], rtol=1e-6)


def test_the_fallback_survives_a_round_trip(seasonal_walk, tmp_path):
    frame, X, _, model = seasonal_walk
    model.save(tmp_path / "model.zip")
    loaded = sklstm.load(tmp_path / "model.zip")
    np.testing.assert_array_equal(loaded.smoothing_share_, model.smoothing_share_)
    for part in (X[:200], X[200:], X[205:210]):
        np.testing.assert_array_equal(loaded.predict(part), model.predict(part))
    pd.testing.assert_frame_equal(loaded.forecast(), model.forecast())


def test_windows_cannot_carry_the_smoothing(seasonal_walk):
    _, X, y, model = seasonal_walk
    # Without the phase, which 3-D windows cannot carry either.
    model = clone(model).set_params(seasonal_phase=None).fit(X[:200], y[:200])
    assert (model.smoothing_share_ > 0).any()
    with pytest.raises(ValueError, match="fallback=None"):
        model.predict(sliding_windows(X.to_numpy(), 4))
