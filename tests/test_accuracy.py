"""Accuracy regressions on real data: no flat lines, no collapse outside the training range.

Every model here is tiny and trains for a few epochs on bundled data, so the checks are about
failure modes (a constant forecast, saturation above the training range, losing to
persistence), not about fine accuracy; benchmarks/suite.py measures that.
"""

import numpy as np
import pytest

from sklstm import LSTMForecaster, make_horizon_target, sliding_windows
from sklstm.datasets import load_hourly_temperatures

N_TRAIN, N_TEST = 24 * 20, 24 * 5


def small(**params):
    defaults = dict(window=24, units=8, epochs=5, batch_size=32, random_state=0)
    return LSTMForecaster(**{**defaults, **params})


def mae(y_true, y_pred):
    y_true = np.asarray(y_true)
    return float(np.mean(np.abs(y_true - np.reshape(y_pred, y_true.shape))))


def is_flat(y_pred, y_true):
    """A forecast that barely moves while the truth does: the classic LSTM failure."""
    return float(np.std(y_pred)) < 0.1 * float(np.std(y_true))


@pytest.fixture(scope="module")
def hours():
    return load_hourly_temperatures().iloc[: N_TRAIN + N_TEST]


def split(X, y):
    return X.iloc[:N_TRAIN], y.iloc[:N_TRAIN], X.iloc[N_TRAIN:], y.iloc[N_TRAIN:].to_numpy()


def test_flat_line_detector_flags_a_constant_forecast(hours):
    truth = hours["seattle"].to_numpy()
    assert is_flat(np.full_like(truth, truth.mean()), truth)
    assert not is_flat(truth + 0.5, truth)


def test_forecast_follows_the_daily_cycle_not_a_flat_line(hours):
    X, y = make_horizon_target(hours, "seattle", horizon=1)
    X_train, y_train, X_test, y_test = split(X, y)
    y_pred = small().fit(X_train, y_train).predict(X_test)
    assert not is_flat(y_pred, y_test)
    persistence = X_test["seattle"].to_numpy()
    assert mae(y_test, y_pred) < mae(y_test.ravel(), persistence)


def test_continuation_far_above_the_training_range_stays_near_persistence(hours):
    # A trending series (real temperatures plus a drift of 0.05 F an hour), continued three
    # training ranges above anything seen: min-max-scaled LSTMs saturate there.
    trending = hours[["seattle"]] + 0.05 * np.arange(len(hours))[:, None]
    X, y = make_horizon_target(trending, "seattle", horizon=1)
    X_train, y_train, X_test, y_test = split(X, y)
    model = small().fit(X_train, y_train)
    shift = 3 * float(np.ptp(y_train.to_numpy()))
    # The whole series shifted, so that every test window lies above the training range.
    y_pred = model.predict(X + shift)[N_TRAIN:]
    persistence = X_test["seattle"].to_numpy() + shift
    assert y_pred.min() > shift
    assert mae(y_test + shift, y_pred) <= 2 * mae(y_test.ravel() + shift, persistence)


def test_direct_multi_step_forecast_beats_persistence_at_every_step(hours):
    X, y = make_horizon_target(hours, "seattle", horizon=3)
    X_train, y_train, X_test, y_test = split(X, y)
    y_pred = small().fit(X_train, y_train).predict(X_test)
    assert y_pred.shape == (len(X_test), 3)
    persistence = X_test["seattle"].to_numpy()
    for step in range(3):
        assert not is_flat(y_pred[:, step], y_test[:, step])
        assert mae(y_test[:, step], y_pred[:, step]) < mae(y_test[:, step], persistence)


def test_multi_output_forecast_beats_persistence_for_every_target(hours):
    X, y = make_horizon_target(hours, ["seattle", "san_francisco"], horizon=1)
    X_train, y_train, X_test, y_test = split(X, y)
    y_pred = small().fit(X_train, y_train).predict(X_test)
    assert y_pred.shape == (len(X_test), 2)
    for column, name in enumerate(["seattle", "san_francisco"]):
        persistence = X_test[name].to_numpy()
        assert mae(y_test[:, column], y_pred[:, column]) < mae(y_test[:, column], persistence)


def test_the_linear_part_follows_the_forecast_that_validates_best():
    # Out of sample, on ten random walks (persistence is the best forecast) and ten noise
    # series (the mean is): fitted on the first half, scored on the second.
    from sklstm import _linear

    window = 6
    ratios = {"walk": [], "noise": []}
    for seed in range(10):
        rng = np.random.default_rng(seed)
        for kind, rows in (
            ("walk", rng.normal(size=600).cumsum()),
            ("noise", rng.normal(size=600)),
        ):
            rows = rows[:, None]
            windows = np.ascontiguousarray(sliding_windows(rows, window)[window - 1 : -1])
            y = rows[window:]
            candidates = _linear.anchors(
                [(0, 1)], window=window, n_features=1, x_scale=np.ones(1), y_scale=np.ones(1)
            )
            blocks = [
                _linear.Normal.of([(windows[i], y[i])], window, 1)
                for i in np.array_split(np.arange(300), _linear.N_BLOCKS)
            ]
            choice = _linear.select(blocks, candidates)
            part = _linear.fit(sum(blocks[1:], blocks[0]), candidates, choice)
            test = slice(300, None)
            pred = windows[test].reshape(-1, window) @ part.coef + part.intercept
            best = windows[test, -1] if kind == "walk" else y[:300].mean()
            ratios[kind].append(np.abs(pred - y[test]).mean() / np.abs(best - y[test]).mean())
    for kind, found in ratios.items():
        assert np.exp(np.mean(np.log(found))) <= 1.02, kind
        assert max(found) <= 1.10, kind


def test_anchors_are_the_simple_forecasts_they_name():
    from sklstm import _linear

    window, season, step = 10, 4, 3
    rng = np.random.default_rng(0)
    y = rng.normal(size=window)  # one window of the target's own column, oldest first
    expected = {
        "zero": 0.0,
        "persistence": y[-1],
        "seasonal": y[-1 - (season - step)],  # y[t + k - s]
        "seasonal_change": y[-1 - (season - step)] + y[-1] - y[-1 - season],
        # The two whole seasons' values at the target's phase, averaged, moved from the
        # mean level of those seasons to the last season's.
        "seasonal_mean": (y[-2] + y[-6]) / 2 + y[-season:].mean() - y[-2 * season :].mean(),
    }
    for alpha in _linear.SMOOTHING:
        weights = alpha * (1 - alpha) ** np.arange(window)
        expected[f"smoothed_{alpha:g}"] = weights @ y[::-1] / weights.sum()
    expected["drift"] = y[-1] + step * (y[-1] - y[0]) / (window - 1)
    # The least-squares line through the window, continued ``step`` rows on.
    expected["trend"] = np.polyval(np.polyfit(np.arange(window), y, 1), window - 1 + step)

    def anchors(season):
        ones = np.ones(1)
        return _linear.anchors(
            [(0, step)], window=window, n_features=1, x_scale=ones, y_scale=ones, season=season
        )

    found = anchors(season)
    assert [anchor.name for anchor in found] == list(expected)
    for anchor in found:
        assert anchor.coefficients(window)[:, 0] @ y == pytest.approx(expected[anchor.name])
    # Without a season, or one longer than the window, only the season-free anchors.
    for no_season in (None, window):
        names = [anchor.name for anchor in anchors(no_season)]
        assert not {"seasonal", "seasonal_change", "seasonal_mean"} & set(names)


def test_a_tiny_penalty_toward_zero_is_least_squares():
    from sklstm import _linear

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(300, 2))
    windows = np.ascontiguousarray(sliding_windows(rows, 5)[4:], dtype=np.float64)
    y = rows[4:, :1] + 0.1 * rng.normal(size=(len(windows), 1))
    normal = _linear.Normal.of([(windows[:100], y[:100]), (windows[100:], y[100:])], 10, 1)
    zero = _linear.anchors([None], window=5, n_features=2, x_scale=np.ones(2), y_scale=np.ones(1))
    part = _linear.fit(normal, zero, _linear.Choice.single([0], [1e-10]))
    flat = np.hstack([windows.reshape(len(windows), -1), np.ones((len(windows), 1))])
    expected = np.linalg.lstsq(flat, y, rcond=None)[0]
    np.testing.assert_allclose(np.vstack([part.coef, part.intercept]), expected, atol=1e-6)


@pytest.mark.slow
def test_random_walk_forecast_is_no_worse_than_persistence():
    # Persistence is the best forecast of a random walk: the model must represent it.
    rng = np.random.default_rng(1)
    walk = rng.normal(size=(1200, 1)).cumsum(axis=0)
    X, y = walk[:-1], walk[1:]
    model = small(window=12, epochs=10).fit(X[:1000], y[:1000])
    y_pred = model.predict(X[1000:])
    assert mae(y[1000:].ravel(), y_pred) <= 1.05 * mae(y[1000:].ravel(), X[1000:].ravel())
