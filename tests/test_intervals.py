"""Prediction intervals: their calibration, time semantics, paths and errors."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklstm
from sklstm import LSTMForecaster, make_horizon_target
from sklstm._intervals import adaptive_half_widths, split_half_widths

TINY = dict(window=4, units=4, epochs=2, random_state=0)


def _noisy_series(n_rows=700, noise=0.5, seed=0):
    """A seasonal signal with known Gaussian noise, and the horizon-2 targets of it."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_rows)
    signal = np.sin(2 * np.pi * t / 12)
    frame = pd.DataFrame(
        {"y": signal + noise * rng.normal(size=n_rows), "x": np.cos(2 * np.pi * t / 12)},
        index=pd.date_range("2020-01-01", periods=n_rows, freq="D"),
    )
    return make_horizon_target(frame, "y", horizon=2)


@pytest.fixture(scope="module")
def fitted():
    X, y = _noisy_series()
    model = LSTMForecaster(**TINY).fit(X[:500], y[:500])
    return model, X, y


def _coverage(y, y_pis, level=0):
    y = np.asarray(y, dtype=float).reshape(len(y), -1)
    bounds = y_pis.reshape(len(y), -1, 2, y_pis.shape[-1])[..., level]
    return float(np.mean((bounds[:, :, 0] <= y) & (y <= bounds[:, :, 1])))


# -- the conformal arithmetic ------------------------------------------------------------------


def test_split_intervals_cover_exchangeable_residuals_at_their_level():
    # Over many calibration sets of n residuals, an interval at level c covers a fresh one
    # with probability ceil((n + 1) c) / (n + 1): at least c, and at most 1 / (n + 1) more.
    rng = np.random.default_rng(0)
    n, levels = 40, np.array([0.8, 0.95])
    covered = []
    for _ in range(2000):
        residuals = rng.standard_t(df=4, size=(n + 1, 2)) * [1.0, 3.0]
        widths = split_half_widths(residuals[:n], levels)
        covered.append(np.abs(residuals[n])[:, None] <= widths)
    expected = np.ceil((n + 1) * levels) / (n + 1)
    np.testing.assert_allclose(np.mean(covered, axis=0), [expected, expected], atol=0.02)


def test_each_output_gets_its_own_width():
    rng = np.random.default_rng(0)
    widths = split_half_widths(rng.normal(size=(400, 2)) * [1.0, 3.0], np.array([0.9]))
    np.testing.assert_allclose(widths[1] / widths[0], 3, rtol=0.2)


def test_adaptive_intervals_follow_a_residual_scale_that_triples():
    rng = np.random.default_rng(1)
    calibration = rng.normal(size=(100, 1))
    later = 3 * rng.normal(size=(1500, 1))  # the residual scale triples after calibration
    levels = np.array([0.9])
    split = split_half_widths(calibration, levels)[np.newaxis]
    adaptive = adaptive_half_widths(calibration, later, np.array([1]), levels)
    settled = slice(500, None)
    split_coverage = np.mean(np.abs(later[settled]) <= split[..., 0])
    adaptive_coverage = np.mean(np.abs(later[settled]) <= adaptive[settled, :, 0])
    assert split_coverage < 0.5
    assert abs(adaptive_coverage - 0.9) < 0.04


def test_adaptive_bounds_use_only_residuals_known_at_their_row():
    rng = np.random.default_rng(2)
    calibration = rng.normal(size=(30, 2))
    observed = rng.normal(size=(60, 2))
    lags = np.array([1, 3])
    levels = np.array([0.8])
    before = adaptive_half_widths(calibration, observed, lags, levels)
    t = 40
    changed = observed.copy()
    # Output 0's residual of row t is known from row t + 1; output 1's of row t - 2 from t + 1.
    changed[t, 0] *= 50
    changed[t - 2, 1] *= 50
    after = adaptive_half_widths(calibration, changed, lags, levels)
    np.testing.assert_array_equal(before[: t + 1], after[: t + 1])
    assert not np.array_equal(before[t + 1 :], after[t + 1 :])
    # Unknown targets (NaN) change nothing.
    unknown = observed.copy()
    unknown[:, 1] = np.nan
    partial = adaptive_half_widths(calibration, unknown, lags, levels)
    np.testing.assert_array_equal(partial[:, 1], np.broadcast_to(partial[0, 1], (60, 1)))


def test_too_few_calibration_windows_for_a_level_warn_and_use_the_largest():
    residuals = np.arange(1.0, 6.0)[:, None]
    with pytest.warns(UserWarning, match="5 calibration windows are too few for a 0.95"):
        widths = split_half_widths(residuals, np.array([0.95]))
    assert widths[0, 0] == 5.0


# -- the estimator -----------------------------------------------------------------------------


def test_intervals_are_calibrated_on_a_series_with_known_noise(fitted):
    model, X, y = fitted
    y_pred, y_pis = model.predict_interval(X[500:], confidence_level=[0.8, 0.95])
    assert y_pred.shape == (len(X) - 500, 2) and y_pis.shape == (len(X) - 500, 2, 2, 2)
    np.testing.assert_allclose(y_pred, model.predict(X[500:]))
    assert abs(_coverage(y[500:], y_pis, 0) - 0.8) < 0.08
    assert abs(_coverage(y[500:], y_pis, 1) - 0.95) < 0.05
    _, adaptive = model.predict_interval(X[500:], y[500:], confidence_level=[0.8, 0.95])
    assert abs(_coverage(y[500:], adaptive, 0) - 0.8) < 0.08


def test_intervals_widen_with_the_level_in_any_order(fitted):
    model, X, _ = fitted
    _, y_pis = model.predict_interval(X[500:], confidence_level=[0.95, 0.5, 0.8])
    width = y_pis[:, :, 1] - y_pis[:, :, 0]
    assert (width[..., 0] >= width[..., 2]).all() and (width[..., 2] >= width[..., 1]).all()
    assert (width[..., 1] > 0).all()


def test_predict_with_confidence_level_through_a_pipeline(fitted):
    _, X, y = fitted
    pipe = make_pipeline(StandardScaler(), LSTMForecaster(**TINY)).fit(X[:500], y[:500])
    y_pred, y_pis = pipe.predict(X[500:], confidence_level=0.9)
    expected = pipe[-1].predict_interval(pipe[0].transform(X[500:]), confidence_level=0.9)
    np.testing.assert_array_equal(y_pred, expected[0])
    np.testing.assert_array_equal(y_pis, expected[1])
    assert y_pis.shape == (len(X) - 500, 2, 2, 1)


def test_the_best_pipeline_of_a_search_gives_bounds(fitted):
    from optuna.distributions import IntDistribution

    from sklstm import LSTMSearchCV

    _, X, y = fitted
    pipe = make_pipeline(StandardScaler(), LSTMForecaster(**TINY))
    search = LSTMSearchCV(pipe, {"units": IntDistribution(2, 4)}, n_trials=1, cv=2)
    search.fit(X[:300], y[:300])
    best = search.best_estimator_
    expected = best[-1].predict_interval(best[0].transform(X[300:]), y[300:])
    got = search.predict_interval(X[300:], y[300:])
    np.testing.assert_array_equal(got[1], expected[1])
    split = best[-1].predict_interval(best[0].transform(X[300:]), confidence_level=0.9)
    np.testing.assert_array_equal(search.predict(X[300:], confidence_level=0.9)[1], split[1])


def test_a_single_target_gives_mapie_shaped_bounds():
    X, y = _noisy_series(300)
    model = LSTMForecaster(**TINY).fit(X, y["y_t+1"])
    y_pred, y_pis = model.predict_interval(X[-20:], confidence_level=[0.8, 0.9])
    assert y_pred.shape == (20,) and y_pis.shape == (20, 2, 2)
    assert (y_pis[:, 0] <= y_pred[:, None]).all() and (y_pred[:, None] <= y_pis[:, 1]).all()


def test_bounds_under_time_series_split_depend_only_on_earlier_rows():
    X, y = _noisy_series(400)
    train, test = list(TimeSeriesSplit(n_splits=2).split(X))[-1]
    model = LSTMForecaster(**TINY).fit(X.iloc[train], y.iloc[train])
    _, whole = model.predict_interval(X.iloc[test], y.iloc[test])
    # The first 30 rows alone give the same bounds: no later row, input or target, matters.
    _, head = model.predict_interval(X.iloc[test[:30]], y.iloc[test[:30]])
    np.testing.assert_allclose(head, whole[:30])
    # A target becomes known k rows after its origin: changing the target of row 29 changes
    # no bound up to row 29 + 1 for step 1 (and + 2 for step 2).
    altered = y.iloc[test].copy()
    altered.iloc[29] += 100
    _, after = model.predict_interval(X.iloc[test], altered)
    np.testing.assert_array_equal(after[:30], whole[:30])
    np.testing.assert_array_equal(after[:31, 1], whole[:31, 1])


def test_forecast_adds_bounds_that_widen_with_the_step_and_level(fitted):
    model, X, _ = fitted
    future = model.forecast(X, confidence_level=[0.8, 0.95])
    assert list(future.columns) == ["y", "y_lower_80", "y_upper_80", "y_lower_95", "y_upper_95"]
    assert (future["y_lower_95"] <= future["y_lower_80"]).all()
    assert (future["y_lower_80"] <= future["y"]).all() and (
        future["y"] <= future["y_upper_80"]
    ).all()
    assert (future["y_upper_80"] <= future["y_upper_95"]).all()
    np.testing.assert_allclose(future["y"], model.forecast(X)["y"])


def test_save_and_load_keep_the_calibration(fitted, tmp_path):
    model, X, y = fitted
    model.save(tmp_path / "model.zip")
    loaded = sklstm.load(tmp_path / "model.zip")
    np.testing.assert_array_equal(loaded.calibration_residuals_, model.calibration_residuals_)
    for args in [(X[500:],), (X[500:], y[500:])]:
        expected = model.predict_interval(*args, confidence_level=[0.8, 0.95])
        got = loaded.predict_interval(*args, confidence_level=[0.8, 0.95])
        np.testing.assert_array_equal(got[1], expected[1])


def test_calibration_residuals_are_the_networks_on_its_validation_windows():
    X, y = _noisy_series(300)
    model = LSTMForecaster(**TINY, highway=False).fit(X, y)
    n_windows = len(X) - (model.window - 1)
    n_val = round(0.1 * n_windows)
    assert model.calibration_residuals_.shape == (n_val, 2)
    # The network only ever trained on the earlier windows.
    last = slice(len(X) - n_val, None)
    np.testing.assert_allclose(
        model.calibration_residuals_, y.iloc[last].to_numpy() - model.predict(X)[last], atol=1e-4
    )


class _GateClosed(LSTMForecaster):
    """Leaves the LSTM out whatever the validation windows say: whether a network trained
    on noise validates by luck is the gate's business, not this test's."""

    def _lstm_improves(self, network, alone, y):
        return False


class _GateOpen(LSTMForecaster):
    """Keeps the LSTM whatever the validation windows say."""

    def _lstm_improves(self, network, alone, y):
        return True


def test_a_kept_network_gets_the_refitted_linear_part_but_calibrates_before_the_refit():
    X, y = _noisy_series(1100)
    kept, alone = (model(**TINY).fit(X, y) for model in (_GateOpen, _GateClosed))
    assert not kept.linear_only_ and alone.linear_only_
    # The same linear part either way: refitted on every window, validation windows included.
    for a, b in zip(
        kept.model_.get_layer("highway").get_weights(),
        alone.model_.get_layer("highway").get_weights(),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    # The residuals are the network's from before that refit, on windows it never fitted.
    n_val = round(0.1 * (len(X) - (kept.window - 1)))
    assert kept.calibration_residuals_.shape == (n_val, 2)
    last = slice(len(X) - n_val, None)
    assert not np.allclose(kept.calibration_residuals_, y.iloc[last] - kept.predict(X)[last])


def test_a_linear_only_model_calibrates_on_its_forward_chaining_folds():
    # A random walk: only the linear part is kept, and its folds (blocks 2 .. 9 of 10, each
    # fitted on the blocks before) give the residuals.
    rng = np.random.default_rng(3)
    walk = pd.DataFrame({"y": rng.normal(size=300).cumsum(), "x": rng.normal(size=300)})
    X, y = make_horizon_target(walk, "y", horizon=1)
    model = _GateClosed(**TINY).fit(X, y)
    assert model.linear_only_
    n_windows = len(X) - (model.window - 1)
    first_two_blocks = sum(len(b) for b in np.array_split(np.arange(n_windows), 10)[:2])
    assert model.calibration_residuals_.shape == (n_windows - first_two_blocks, 1)
    # Not the residuals of the final linear part, which was fitted on these windows too.
    in_sample = y.to_numpy()[model.window - 1 :] - model.predict(X)[model.window - 1 :]
    assert not np.allclose(model.calibration_residuals_, in_sample[first_two_blocks:])


class _Folds:
    def __init__(self, n):
        self.n = n

    def fold_residuals(self):
        return None if self.n is None else (np.arange(self.n), np.full((self.n, 1), 2.0))


@pytest.mark.parametrize(
    "n_validation, n_folds, linear_only, source",
    [
        (150, 400, False, "validation"),  # enough windows to calibrate the network itself
        (10, 400, False, "folds"),  # too few: the linear part's folds, on the wide side
        (10, 5, False, "validation"),  # the folds hold fewer still
        (10, None, False, "validation"),  # no folds (too few blocks or inputs)
        (150, 400, True, "folds"),  # the refitted linear part trained on the validation rows
    ],
)
def test_which_residuals_calibrate(n_validation, n_folds, linear_only, source):
    validation = np.ones((n_validation, 1))
    validated = np.arange(n_validation)
    windows, chosen = LSTMForecaster._calibration_residuals(
        validated, validation, _Folds(n_folds), linear_only
    )
    assert (chosen is validation) == (source == "validation")
    assert len(windows) == len(chosen)


def test_a_series_of_two_windows_still_fits_and_calibrates():
    # Blocks 2 .. 9 of the linear part's folds are empty: the validation window calibrates.
    X, y = _noisy_series(6)
    model = LSTMForecaster(**{**TINY, "window": 3}).fit(X, y)
    assert model.calibration_residuals_.shape == (1, 2)


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "level, error, message",
    [
        (0.0, ValueError, r"in \(0, 1\).*got 0.0"),
        (1, ValueError, r"in \(0, 1\).*got 1"),
        (90, ValueError, "For 90 %, pass 0.9"),
        ([0.8, 1.5], ValueError, "got 1.5"),
        ([], ValueError, "non-empty"),
        ("0.9", TypeError, "floats in"),
        (True, TypeError, "floats in"),
    ],
)
def test_bad_confidence_levels_are_refused_before_predicting(fitted, level, error, message):
    model, X, _ = fitted
    with pytest.raises(error, match=message):
        model.predict_interval(X[500:], confidence_level=level)
    with pytest.raises(error, match=message):
        model.forecast(X, confidence_level=level)


def test_a_model_without_calibration_windows_says_how_to_get_them():
    X, y = _noisy_series(200)
    model = LSTMForecaster(**TINY, early_stopping=False).fit(X, y)
    assert model.calibration_residuals_.shape == (0, 2)
    with pytest.raises(ValueError, match="early_stopping=False.*Refit with early_stopping=True"):
        model.predict_interval(X)
    with pytest.raises(ValueError, match="no calibration windows"):
        model.forecast(X, confidence_level=0.9)


def test_adaptive_intervals_need_named_targets_and_aligned_y(fitted):
    model, X, y = fitted
    unnamed = LSTMForecaster(**TINY).fit(X[:300].to_numpy(), y[:300].to_numpy())
    with pytest.raises(ValueError, match="'<column>_t\\+<k>'"):
        unnamed.predict_interval(X[300:].to_numpy(), y[300:].to_numpy())
    with pytest.raises(ValueError, match="targets of the 10 rows of X"):
        model.predict_interval(X[500:510], y[500:505])


# -- MAPIE -------------------------------------------------------------------------------------


def test_mapie_time_series_regressor_wraps_a_single_target_forecaster():
    mapie = pytest.importorskip("mapie.regression")
    X, y = _noisy_series(300)
    model = LSTMForecaster(**TINY).fit(X[:200], y["y_t+1"][:200])
    wrapper = mapie.TimeSeriesRegressor(model, method="enbpi", cv="prefit")
    wrapper.fit(X[200:260], y["y_t+1"][200:260])
    y_pred, y_pis = wrapper.predict(X[260:], confidence_level=0.8)
    assert y_pred.shape == (len(X) - 260,) and y_pis.shape == (len(X) - 260, 2, 1)
    assert (y_pis[:, 0, 0] <= y_pis[:, 1, 0]).all()
    # Several targets: MAPIE takes a 1-D y only (docs/intervals.md says so).
    two = LSTMForecaster(**TINY).fit(X[:200], y[:200])
    with pytest.raises(ValueError):
        mapie.TimeSeriesRegressor(two, method="enbpi", cv="prefit").fit(X[200:260], y[200:260])
