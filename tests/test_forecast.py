"""LSTMForecaster.forecast: the next steps as a DataFrame with future time stamps."""

import numpy as np
import pandas as pd
import pytest

from sklstm import LSTMForecaster, make_horizon_target
from sklstm.datasets import load_seattle_weather

HORIZON = 3


def tiny():
    return LSTMForecaster(window=4, units=2, epochs=1, batch_size=16, random_state=0)


@pytest.fixture(scope="module")
def weather():
    return load_seattle_weather().iloc[:100]


@pytest.fixture(scope="module")
def fitted(weather):
    X, y = make_horizon_target(weather, ["temp_max", "wind"], horizon=HORIZON)
    return tiny().fit(X, y), X, y


def test_forecast_after_the_fitted_data(fitted):
    model, X, _ = fitted
    future = model.forecast()
    assert list(future.columns) == ["temp_max", "wind"]
    assert isinstance(future.index, pd.DatetimeIndex) and future.index.freqstr == "D"
    assert future.index[0] == X.index[-1] + pd.Timedelta(days=1) and len(future) == HORIZON
    # The values are the prediction for the last fitted row, target by target.
    last = model.predict(X)[-1]
    np.testing.assert_allclose(future["temp_max"], last[:HORIZON], rtol=1e-6)
    np.testing.assert_allclose(future["wind"], last[HORIZON:], rtol=1e-6)


def test_forecast_after_given_rows(fitted, weather):
    model, _, _ = fitted
    future = model.forecast(weather)
    assert future.index[0] == weather.index[-1] + pd.Timedelta(days=1)
    # Rows that continue the fitted data take their history from it: the last HORIZON rows
    # alone (fewer than a window) give the same forecast as all rows.
    pd.testing.assert_frame_equal(model.forecast(weather.iloc[-HORIZON:]), future)
    np.testing.assert_allclose(
        model.forecast(weather.iloc[-10:]).to_numpy(), future.to_numpy(), rtol=1e-6
    )


def test_forecast_without_time_index():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(50, 2)), columns=["a", "b"])  # RangeIndex: steps
    X, y = make_horizon_target(frame, "a", horizon=2)
    model = tiny().fit(X, y)
    assert model.forecast(frame).index.tolist() == [50, 51]
    # Arrays have no clock: the index counts the steps ahead.
    arrays = tiny().fit(X.to_numpy(), y)
    future = arrays.forecast(frame.to_numpy())
    assert future.index.tolist() == [1, 2] and future.index.name == "steps_ahead"


def test_forecast_needs_horizon_targets():
    X = np.random.default_rng(0).normal(size=(30, 2))
    model = tiny().fit(X, X[:, 0])
    with pytest.raises(ValueError, match="make_horizon_target"):
        model.forecast()
    named = tiny().fit(pd.DataFrame(X), pd.Series(X[:, 0], name="level"))
    with pytest.raises(ValueError, match=r"got targets \['level'\]"):
        named.forecast()
