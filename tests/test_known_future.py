"""Known-future inputs: the block's layout, no leakage, forecasting with future values, and
every estimator carrying the setting (Pipeline, TimeSeriesSplit, search, save/load)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline

import sklstm
from sklstm import LSTMForecaster, SlidingWindowTransformer, make_horizon_target
from sklstm._target import KnownFuture
from sklstm.datasets import load_seattle_weather

HORIZON = 3
# Seattle's daily weather: the maximum temperature forecast with precipitation and wind known
# ahead (as a weather forecast would give them); temp_min stays an ordinary, unknown input.
KNOWN = ["precipitation", "wind"]


def tiny(**params):
    return LSTMForecaster(
        **{"window": 4, "units": 3, "epochs": 2, "batch_size": 16, "random_state": 0, **params}
    )


@pytest.fixture(scope="module")
def weather():
    return load_seattle_weather().iloc[:120]


@pytest.fixture(scope="module")
def fitted(weather):
    X, y = make_horizon_target(weather, "temp_max", horizon=HORIZON, known=KNOWN)
    return tiny().fit(X, y), X, y


# -- declaring the block -------------------------------------------------------------------------


def test_make_horizon_target_adds_the_future_values_of_known_columns(weather):
    X, y = make_horizon_target(weather, "temp_max", horizon=HORIZON, known=KNOWN)
    assert list(X.columns[:4]) == list(weather.columns)
    assert list(X.columns[4:]) == [f"{c}_t+{k}" for c in KNOWN for k in (1, 2, 3)]
    assert len(X) == len(y) == len(weather) - HORIZON
    # Row t holds the known column at t + k, and no target's future anywhere.
    for k in (1, 2, 3):
        np.testing.assert_array_equal(X[f"wind_t+{k}"], weather["wind"].iloc[k : k + len(X)])
    assert not any(c.startswith("temp_max_t+") for c in X.columns)


@pytest.mark.parametrize(
    "known, match",
    [
        ("temp_max", "are target"),
        (["wind", "temp_max"], "are target"),
        ("winds", "Did you mean 'wind'"),
    ],
)
def test_make_horizon_target_refuses_bad_known_columns(weather, known, match):
    with pytest.raises(ValueError, match=match):
        make_horizon_target(weather, "temp_max", horizon=2, known=known)


def test_known_columns_need_named_data():
    with pytest.raises(ValueError, match="DataFrame"):
        make_horizon_target(np.zeros((10, 2)), 0, horizon=2, known=[1])


def test_the_block_is_found_by_name_and_arranged_last():
    names = np.array(["a_t+1", "load", "a", "a_t+2", "b"], dtype=object)
    known = KnownFuture.of(names, "auto", 5)
    assert known.columns == ["a"] and known.n_known == 2 and known.steps == 2
    np.testing.assert_array_equal(known.order, [1, 2, 4, 0, 3])
    assert KnownFuture.of(names, None, 5).n_known == 0
    assert KnownFuture.of(names, ["a"], 5).order.tolist() == known.order.tolist()
    with pytest.raises(ValueError, match="no column 'b_t\\+1'"):
        KnownFuture.of(names, ["b"], 5)
    with pytest.raises(ValueError, match="every step from 1"):
        KnownFuture.of(np.array(["a", "a_t+2"], dtype=object), "auto", 2)
    with pytest.raises(ValueError, match="named columns"):
        KnownFuture.of(None, ["a"], 5)


# -- no leakage ----------------------------------------------------------------------------------


def _changed_after(frame, row, column, by=5.0):
    changed = frame.copy()
    changed.loc[changed.index[row + 1 :], column] += by
    return changed


@pytest.mark.parametrize(
    "model",
    [
        pytest.param(lambda: tiny(), id="lstm"),
        pytest.param(
            lambda: make_pipeline(SlidingWindowTransformer(4, flatten=True), Ridge()),
            id="ridge",
        ),
    ],
)
def test_only_declared_future_values_reach_a_prediction(weather, model):
    X, y = make_horizon_target(weather, "temp_max", horizon=HORIZON, known=KNOWN)
    model = model().fit(X[:80], y[:80])
    row = 90

    def predictions(frame):
        X_new, _ = make_horizon_target(frame, "temp_max", horizon=HORIZON, known=KNOWN)
        return np.asarray(model.predict(X_new)).reshape(len(X_new), -1)

    before = predictions(weather)
    # The target's future and an undeclared column's future never reach rows up to `row`.
    for column in ("temp_max", "temp_min"):
        after = predictions(_changed_after(weather, row, column))
        np.testing.assert_array_equal(after[: row + 1], before[: row + 1])
    # A declared column's next values do: they are the known future of rows row - 2 .. row.
    after = predictions(_changed_after(weather, row, "wind"))
    np.testing.assert_array_equal(after[: row + 1 - HORIZON], before[: row + 1 - HORIZON])
    for t in range(row + 1 - HORIZON, row + 1):
        assert not np.allclose(after[t], before[t])


def test_the_block_is_read_once_at_the_last_row_of_the_window(fitted):
    model, X, _ = fitted
    before = model.predict(X)
    earlier = X.copy()
    block = [c for c in X.columns if "_t+" in c]
    earlier.loc[earlier.index[50], block] += 10.0  # row 50's block, in later rows' windows
    after = model.predict(earlier)
    np.testing.assert_array_equal(np.delete(after, 50, axis=0), np.delete(before, 50, axis=0))
    assert not np.allclose(after[50], before[50])
    # The block beside the weekday's indicators (daily rows: seasonal_phase).
    n_read_once = 2 * HORIZON + model.seasonal_phase_
    assert model.model_.get_layer("known_future").output.shape == (None, n_read_once)


def test_the_targets_own_future_in_X_is_refused(weather):
    X, y = make_horizon_target(weather, "temp_max", horizon=2)
    X = X.assign(**{"temp_max_t+1": y["temp_max_t+1"], "temp_max_t+2": y["temp_max_t+2"]})
    with pytest.raises(ValueError, match="declared known ahead"):
        tiny().fit(X, y)
    # The same values under another name: refused by value.
    frame = weather.assign(copy=weather["temp_max"])
    X, y = make_horizon_target(frame, "temp_max", horizon=2, known="copy")
    with pytest.raises(ValueError, match="equals target 0"):
        tiny().fit(X, y)


def test_declared_columns_must_be_in_X(weather):
    X, y = make_horizon_target(weather, "temp_max", horizon=2)
    with pytest.raises(ValueError, match="make_horizon_target"):
        tiny(known_future=["wind"]).fit(X, y)
    windows = SlidingWindowTransformer(4).fit_transform(X)
    with pytest.raises(ValueError, match="3-D windows"):
        tiny(known_future=["wind"]).fit(windows, y)


def test_known_future_none_keeps_the_block_as_window_columns(weather):
    X, y = make_horizon_target(weather, "temp_max", horizon=2, known=KNOWN)
    # No weekday inputs either: they too are read once, beside the LSTM's final state.
    model = tiny(known_future=None, seasonal_phase=None).fit(X, y)
    assert model.known_future_ == []
    assert "known_future" not in [layer.name for layer in model.model_.layers]


# -- forecasting ---------------------------------------------------------------------------------


def _with_future_rows(weather, n_rows):
    """The data up to row 110, then n_rows future rows with the target missing."""
    frame = weather.iloc[: 111 + n_rows].copy()
    frame.loc[frame.index[111:], ["temp_max", "temp_min"]] = np.nan
    return frame


def test_forecast_uses_the_known_future_values(fitted, weather):
    model, _, _ = fitted
    frame = _with_future_rows(weather, HORIZON)
    future = model.forecast(frame)
    assert list(future.index) == list(frame.index[111:])
    # The forecast is the prediction for the last observed row, whose block is the future rows.
    X_all, _ = make_horizon_target(weather.iloc[: 111 + HORIZON], "temp_max", HORIZON, known=KNOWN)
    expected = model.predict(X_all)[-1]
    np.testing.assert_allclose(future["temp_max"], expected, rtol=1e-6)
    # Extra future rows are ignored; other known values change the forecast.
    np.testing.assert_allclose(model.forecast(_with_future_rows(weather, 5)), future)
    wetter = frame.copy()
    wetter.loc[frame.index[112], "precipitation"] += 20.0
    assert not np.allclose(model.forecast(wetter), future)
    # Prediction intervals come with it.
    bounded = model.forecast(frame, confidence_level=0.8)
    np.testing.assert_allclose(bounded["temp_max"], future["temp_max"])
    assert (bounded["temp_max_lower_80"] <= bounded["temp_max_upper_80"]).all()


def test_forecast_refuses_missing_known_values(fitted, weather):
    model, _, _ = fitted
    with pytest.raises(ValueError, match="next 3 step"):
        model.forecast()
    with pytest.raises(ValueError, match="0 row\\(s\\) after its last observation"):
        model.forecast(weather)
    with pytest.raises(ValueError, match="2 row\\(s\\) after its last observation"):
        model.forecast(_with_future_rows(weather, 2))
    gap = _with_future_rows(weather, HORIZON)
    gap.loc[gap.index[112], "wind"] = np.nan
    with pytest.raises(ValueError, match="'wind' is missing at 2012-04-22"):
        model.forecast(gap)
    with pytest.raises(ValueError, match="\\['wind'\\] are missing"):
        model.forecast(_with_future_rows(weather, HORIZON).drop(columns="wind"))
    with pytest.raises(ValueError, match="DataFrame"):
        model.forecast(_with_future_rows(weather, HORIZON).to_numpy())


# -- everywhere ----------------------------------------------------------------------------------


def test_sliding_window_transformer_gives_the_block_once(weather):
    X, _ = make_horizon_target(weather, "temp_max", horizon=2, known=KNOWN)
    transformer = SlidingWindowTransformer(3, flatten=True).fit(X)
    names = transformer.get_feature_names_out().tolist()
    assert names[:4] == [f"{c}_lag2" for c in weather.columns]
    assert names[12:] == ["precipitation_t+1", "precipitation_t+2", "wind_t+1", "wind_t+2"]
    rows = transformer.transform(X)
    assert rows.shape == (len(X), 3 * 4 + 4)
    np.testing.assert_array_equal(rows[:, 12:], X.iloc[:, 4:].to_numpy())
    assert SlidingWindowTransformer(3).fit(X).transform(X).shape == (len(X), 3, 8)


def test_pipeline_and_time_series_split_work_unchanged(weather):
    X, y = make_horizon_target(weather, "temp_max", horizon=2, known=KNOWN)
    scores = cross_val_score(tiny(epochs=1), X, y, cv=TimeSeriesSplit(2))
    assert np.isfinite(scores).all()
    ridge = make_pipeline(SlidingWindowTransformer(4, flatten=True), Ridge())
    assert np.isfinite(cross_val_score(ridge, X, y, cv=TimeSeriesSplit(3))).all()


def test_save_and_load_keep_the_block(fitted, weather, tmp_path):
    model, X, _ = fitted
    model.save(tmp_path / "model.zip")
    loaded = sklstm.load(tmp_path / "model.zip")
    assert loaded.known_future == "auto" and loaded.known_future_ == KNOWN
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    frame = _with_future_rows(weather, HORIZON)
    pd.testing.assert_frame_equal(loaded.forecast(frame), model.forecast(frame))


def test_search_carries_the_setting(weather):
    from optuna.distributions import IntDistribution

    X, y = make_horizon_target(weather, "temp_max", horizon=2, known=KNOWN)
    search = sklstm.LSTMSearchCV(
        tiny(epochs=1, known_future=KNOWN),
        {"units": IntDistribution(2, 3)},
        n_trials=1,
        cv=2,
        random_state=0,
    ).fit(X, y)
    assert search.best_estimator_.known_future_ == KNOWN


def _csv_with_future_rows(weather, tmp_path, n_future):
    frame = _with_future_rows(weather, n_future).drop(columns="wind")
    path = tmp_path / "weather.csv"
    frame.to_csv(path, index_label="date")
    return path


def test_command_line_forecasts_with_known_columns(weather, tmp_path, capsys):
    from sklstm.cli import main

    path = _csv_with_future_rows(weather, tmp_path, HORIZON)
    args = ["forecast", path, "--target", "temp_max", "--known", "precipitation"]
    args += ["--horizon", "3", "--window", "4", "--epochs", "1", "--units", "2"]
    assert main([*map(str, args), "--out", str(tmp_path / "out")]) == 0
    forecast = pd.read_csv(tmp_path / "out" / "forecast.csv", index_col="date")
    assert list(forecast.index) == ["2012-04-21", "2012-04-22", "2012-04-23"]
    capsys.readouterr()

    short = _csv_with_future_rows(weather, tmp_path, 2)
    assert main([*map(str, [*args[:1], short, *args[2:]]), "--out", str(tmp_path)]) == 2
    assert "the CSV has 2 row(s) after the last one" in capsys.readouterr().err
    bad = [*map(str, args), "--known", "temp_max", "--out", str(tmp_path)]
    assert main(bad) == 2
    assert "--known temp_max is a --target" in capsys.readouterr().err


def test_the_linear_part_penalises_the_block_less_and_reads_it_unscaled():
    from sklstm import _linear
    from sklstm._window import sliding_windows

    rng = np.random.default_rng(0)
    past, block = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    windows = np.ascontiguousarray(sliding_windows(np.hstack([past, block]), 4)[3:])
    y = block[3:, :1] - past[3:, 1:] + 0.1 * rng.normal(size=(len(windows), 1))
    flat = _linear.flat_inputs(windows, n_last=2)
    assert flat.shape == (len(windows), 4 * 2 + 2)
    np.testing.assert_array_equal(flat[:, -2:], windows[:, -1, 2:])
    normal = _linear.Normal.of([(windows, y)], 10, 1, n_last=2)
    zero = _linear.anchors([None], window=4, n_features=2, x_scale=np.ones(2), y_scale=np.ones(1))
    part = _linear.fit(normal, zero, _linear.Choice.single([0], [1.0]), n_known=2)
    # The same ridge, written out: the block scaled up, its coefficients scaled back.
    scale = np.r_[np.ones(8), np.full(2, _linear.BLOCK_SCALE)]
    centred = flat * scale - (flat * scale).mean(axis=0)
    gram = centred.T @ centred
    penalty = np.trace(gram) / len(gram)
    slopes = np.linalg.solve(gram + penalty * np.eye(10), centred.T @ (y - y.mean()))
    np.testing.assert_allclose(part.coef, slopes * scale[:, None], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(part.predict(windows), flat @ part.coef + part.intercept)
