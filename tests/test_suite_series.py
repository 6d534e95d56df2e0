"""The forecasting suite's series (benchmarks/suite_series.py) and its naive baselines.

Fast: loads the SMALL slice offline and checks the split and the naive forecasts on toy
series; nothing is trained.
"""

import pathlib
import sys

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
suite_series = pytest.importorskip("suite_series")
suite = pytest.importorskip("suite")

# pandas' spelling of each frequency of the rule, for indexes that carry one.
PANDAS_FREQ = {"1min": "min", "10min": "10min", "30min": "30min", "h": "h", "D": "D", "M": "M"}


@pytest.mark.parametrize("name", suite_series.SMALL)
def test_small_series_load_as_declared(name):
    frame, spec = suite_series.load(name)
    assert spec.name == name
    assert frame.shape == (spec.rows, len(spec.inputs))
    assert list(frame.columns) == list(spec.inputs)
    assert set(spec.targets) <= set(spec.inputs)
    assert frame.notna().all().all()
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    if isinstance(frame.index, pd.DatetimeIndex):
        assert pd.DatetimeIndex(frame.index, freq="infer").freqstr == PANDAS_FREQ[spec.freq]
    elif isinstance(frame.index, pd.PeriodIndex):
        assert frame.index.freqstr.startswith(spec.freq)
    else:  # integer positions or years, one step apart
        assert np.all(np.diff(frame.index.to_numpy()) == 1)
    # Enough rows for the protocol: training windows after the window, the gap and the test.
    n_train, test_start = suite.split(len(frame) - spec.horizon, spec.horizon)
    assert n_train - (spec.window - 1) >= 30
    assert test_start - n_train == spec.horizon


def test_small_slice_is_short_and_varied():
    specs = [suite_series.SERIES[name] for name in suite_series.SMALL]
    assert len(specs) == 5
    assert all(spec.rows <= 300 for spec in specs)
    assert len({spec.freq for spec in specs}) == 5
    assert any(len(spec.targets) > 1 for spec in specs)
    assert any(len(spec.inputs) > len(spec.targets) for spec in specs)
    assert any(spec.season for spec in specs) and not all(spec.season for spec in specs)


def test_window_and_horizon_follow_the_frequency_rule():
    for spec in suite_series.SERIES.values():
        assert (spec.window, spec.horizon) == suite_series.window_horizon(spec.freq)
    assert suite_series.window_horizon("M") == (24, 12)
    assert suite_series.window_horizon("Y") == (10, 1)
    assert suite_series.window_horizon("30min") == (96, 48)
    with pytest.raises(ValueError, match="Unknown frequency"):
        suite_series.window_horizon("fortnightly")


def test_suite_covers_what_the_issue_asks():
    specs = list(suite_series.SERIES.values())
    assert len(specs) >= 24
    assert len(set(suite_series.NAMES)) == len(specs)
    assert min(s.rows for s in specs) >= 100 and max(s.rows for s in specs) <= 30_000
    horizons = {s.horizon for s in specs}
    assert min(horizons) == 1 and max(horizons) == 48
    assert {"5min", "30min", "h", "D", "W", "M", "Q", "Y"} <= {s.freq for s in specs}
    assert sum("normals" in s.about.lower() for s in specs) == 1
    with pytest.raises(KeyError, match="No series"):
        suite_series.load("not_a_series")


def test_mae_never_broadcasts_a_single_output():
    y_true = np.array([[1.0], [2.0], [4.0]])
    assert suite._mae(y_true, np.array([1.0, 2.0, 3.0])) == pytest.approx(1 / 3)
    assert suite._mae(y_true, np.array([np.nan, 2.0, 3.0])) == np.inf


def test_split_leaves_a_horizon_gap():
    n_train, test_start = suite.split(100, horizon=4)
    assert (n_train, test_start) == (76, 80)
    # The last training origin's last target (row n_train - 1 + horizon) precedes the first
    # test origin, so no test target value was a training target.
    assert n_train - 1 + 4 < test_start


def test_persistence_repeats_the_value_at_each_origin():
    values = np.column_stack([np.arange(10.0), 100 + np.arange(10.0)])
    forecasts = suite.persistence(values, origins=np.array([3, 7]), horizon=2)
    assert forecasts.shape == (2, 2, 2)  # origins, targets, steps
    np.testing.assert_array_equal(forecasts[0], [[3, 3], [103, 103]])
    np.testing.assert_array_equal(forecasts[1], [[7, 7], [107, 107]])


def test_seasonal_naive_takes_the_last_value_one_season_back():
    # Season 4: the value at step k comes from t + k - 4 * ceil(k / 4), never after t.
    values = np.arange(20.0)
    forecasts = suite.seasonal_naive(values, origins=np.array([10]), horizon=6, season=4)
    assert forecasts.shape == (1, 1, 6)
    np.testing.assert_array_equal(forecasts[0, 0], [7, 8, 9, 10, 7, 8])
    # A purely seasonal series is forecast exactly, persistence is not.
    pattern = np.tile([1.0, 5.0, 2.0, 8.0], 6)
    origins = np.arange(8, 20)
    truth = np.stack([pattern[origins + k] for k in (1, 2, 3)], axis=1)
    naive = suite.seasonal_naive(pattern, origins, horizon=3, season=4)[:, 0]
    np.testing.assert_array_equal(naive, truth)
    assert np.abs(suite.persistence(pattern, origins, 3)[:, 0] - truth).mean() > 1


def test_forecasts_reshape_to_make_horizon_target_columns():
    from sklstm import make_horizon_target

    frame = pd.DataFrame({"a": np.arange(8.0), "b": 10 + np.arange(8.0)})
    _, y = make_horizon_target(frame, ["a", "b"], horizon=2)
    values = frame.to_numpy()
    # (origins, targets, steps), the layout of the naive forecasts.
    truth = np.array([[[values[t + k, j] for k in (1, 2)] for j in (0, 1)] for t in range(len(y))])
    np.testing.assert_array_equal(suite.as_y(truth), y.to_numpy())


def test_block_bootstrap_resamples_runs_of_consecutive_origins():
    assert suite.block_length(20, horizon=1) == 3  # ceil(20 ** (1/3))
    assert suite.block_length(20, horizon=7) == 7
    assert suite.block_length(5, horizon=12) == 5  # never longer than the test
    index = suite.resampled_origins(10, 3, 50, np.random.default_rng(0))
    assert index.shape == (50, 10)
    assert index.min() >= 0 and index.max() <= 9
    # Within each block of 3 the origins follow each other, wrapping from 9 to 0.
    steps = np.diff(index, axis=1) % 10
    assert np.all(steps[:, [0, 1, 3, 4, 6, 7]] == 1)
    assert len(np.unique(index)) == 10


def test_sampling_intervals_resample_every_model_on_the_same_origins():
    rng = np.random.default_rng(0)
    naive = rng.uniform(1, 2, size=40)
    ridge = rng.uniform(1, 2, size=40)
    half = np.minimum(naive, ridge) / 2
    fits = {
        "persistence": [(naive.mean(), None, naive)],
        "ridge": [(ridge.mean(), None, ridge)],
        # Seed 2 is the median (seeds 0 and 1 bracket it): half the better baseline's error
        # at every origin.
        "lstm_forecaster": [
            (9.0, 0, np.full(40, 9.0)),
            (half.mean(), 2, half),
            (0.1, 1, np.full(40, 0.1)),
        ],
        "blog_lstm": [(naive.mean(), 0, naive)],
    }
    rows = {row["model"]: row for row in suite.sampling_intervals(fits, horizon=2, seed=0)}
    assert set(rows) == {"lstm_forecaster", "blog_lstm"}  # not the simple baselines
    lstm, blog = rows["lstm_forecaster"], rows["blog_lstm"]
    assert (lstm["seed"], lstm["n_test"], lstm["block"]) == (2, 40, 4)
    # Half the per-origin best is at most half the best baseline's MAE, in every resample.
    assert lstm["vs_best"] <= 0.5 and lstm["vs_best_high"] <= 0.5
    # Persistence's own errors: exactly 1 to persistence in every resample, and the
    # interval to the best baseline brackets the point.
    assert blog["vs_persistence"] == blog["vs_persistence_low"] == blog["vs_persistence_high"] == 1
    assert blog["vs_best_low"] <= blog["vs_best"] <= blog["vs_best_high"]
    assert blog["vs_best"] == pytest.approx(naive.mean() / min(naive.mean(), ridge.mean()))


def test_headroom_trees_read_each_window_up_to_its_own_row():
    headroom = pytest.importorskip("headroom")
    X = np.arange(20.0).reshape(10, 2)
    features = headroom.window_features(X, 3)
    assert features.shape == (10, 3 * 2)
    # Row 5: rows 3 and 4 less row 5, then row 5 itself; nothing after row 5.
    np.testing.assert_array_equal(features[5], [-4, -4, -2, -2, 10, 11])


def test_headroom_keeps_the_linear_part_where_no_iteration_validates():
    headroom = pytest.importorskip("headroom")
    rng = np.random.default_rng(0)
    features = rng.normal(size=(400, 3))
    # Nothing to correct: no iteration does better than none, so none is kept.
    pred, chosen = headroom.boosted_residuals(features, np.zeros((400, 1)), features[:5], seed=0)
    assert chosen == [0] and not pred.any()
    signal = np.sign(features[:, :1]) + 0.1 * rng.normal(size=(400, 1))
    pred, chosen = headroom.boosted_residuals(features, signal, features[:5], seed=0)
    assert chosen[0] > 0
    np.testing.assert_allclose(pred[:, 0], np.sign(features[:5, 0]), atol=0.3)


def test_split_agreement_counts_misses_on_each_split(tmp_path):
    split_agreement = pytest.importorskip("split_agreement")
    rows = []
    for split, lstm in (("dev", [1.2, 1.0, 0.9]), ("test", [1.0, 1.2, 0.9])):
        for series, ratio in zip("abc", lstm, strict=True):
            for model, mae in (("persistence", 2.0), ("ets", 1.0), ("lstm_forecaster", ratio)):
                rows.append({"split": split, "series": series, "model": model, "mae": mae})
    frame = pd.DataFrame(rows)
    for split in ("dev", "test"):
        frame[frame["split"] == split].to_csv(tmp_path / f"{split}.csv", index=False)
    dev, test = (split_agreement.ratios(tmp_path / f"{s}.csv") for s in ("dev", "test"))
    assert dev.loc["a", "lstm_forecaster"] == pytest.approx(1.2)
    by_model = {row["model"]: row for row in split_agreement.agreement(dev, test)}
    lstm = by_model["lstm_forecaster"]
    assert (lstm["past 1.1x on dev"], lstm["on test"], lstm["on both"]) == (1, 1, 0)
    assert lstm["misses (dev; test)"] == "a; b"
