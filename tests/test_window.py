"""Windows: views, history, names, and the one-line Ridge baseline."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline

from sklstm import SlidingWindowTransformer, sliding_windows
from sklstm.datasets import load_seattle_weather


def test_windows_are_views_of_the_rows():
    X = np.arange(30.0).reshape(10, 3)
    windows = sliding_windows(X, 4)
    assert windows.shape == (10, 4, 3)
    # Stepping along the window axis moves by one row: no copy of the window axis.
    assert windows.strides[1] == windows.strides[0] == X.strides[0]
    np.testing.assert_array_equal(windows[9], X[6:10])
    np.testing.assert_array_equal(windows[0], np.repeat(X[:1], 4, axis=0))


def test_history_fills_the_first_windows():
    X = np.arange(10.0).reshape(-1, 1)
    windows = sliding_windows(X[6:], 4, history=X[4:6])
    np.testing.assert_array_equal(windows[0, :, 0], [4.0, 4.0, 5.0, 6.0])
    np.testing.assert_array_equal(sliding_windows(X[6:], 4, history=X[:6])[0, :, 0], [3, 4, 5, 6])


def test_transformer_continues_the_fitted_rows():
    frame = load_seattle_weather().iloc[:60]
    transformer = SlidingWindowTransformer(5).fit(frame.iloc[:40])
    full = sliding_windows(frame.to_numpy(), 5)
    np.testing.assert_array_equal(transformer.transform(frame.iloc[40:]), full[40:])
    np.testing.assert_array_equal(transformer.transform(frame.iloc[:40]), full[:40])
    np.testing.assert_array_equal(transformer.last_window_, frame.to_numpy()[36:40])


def test_flatten_names_and_ridge_baseline():
    frame = load_seattle_weather().iloc[:300]
    transformer = SlidingWindowTransformer(3, flatten=True).fit(frame)
    names = transformer.get_feature_names_out()
    assert names[0] == "precipitation_lag2" and names[-1] == "wind_lag0"
    assert transformer.transform(frame).shape == (300, 12)
    y = frame["temp_max"].shift(-1).ffill()
    scores = cross_val_score(
        make_pipeline(SlidingWindowTransformer(7, flatten=True), Ridge()),
        frame,
        y,
        cv=TimeSeriesSplit(3),
        scoring="r2",
    )
    assert scores.min() > 0  # better than predicting each fold's mean


def test_transformer_rejects_bad_input():
    with pytest.raises(ValueError, match="'window' parameter"):
        SlidingWindowTransformer(0).fit(np.zeros((5, 2)))
    index = pd.DatetimeIndex(["2020-01-02", "2020-01-01"])
    with pytest.raises(ValueError, match="sort_index"):
        SlidingWindowTransformer(2).fit(pd.DataFrame({"a": [1.0, 2.0]}, index=index))


def test_a_series_shorter_than_the_window_is_refused():
    with pytest.raises(ValueError, match=r"window=5 needs at least 5 samples.*got 3 samples"):
        SlidingWindowTransformer(5).fit(np.zeros((3, 2)))


def test_flattened_output_follows_set_output():
    frame = load_seattle_weather().iloc[:30]
    transformer = SlidingWindowTransformer(3, flatten=True).set_output(transform="pandas")
    out = transformer.fit(frame.iloc[:20]).transform(frame.iloc[20:])
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(transformer.get_feature_names_out())
    assert out.index.equals(frame.index[20:])
    np.testing.assert_array_equal(
        out.to_numpy(), SlidingWindowTransformer(3, flatten=True).fit(frame).transform(frame)[20:]
    )
    # The global setting too, and through a Pipeline ending in a regressor.
    from sklearn import config_context

    with config_context(transform_output="pandas"):
        assert isinstance(
            SlidingWindowTransformer(2, flatten=True).fit_transform(frame), pd.DataFrame
        )
        windows = SlidingWindowTransformer(2).fit_transform(frame)
    # 3-D windows have no pandas container: they stay arrays.
    assert isinstance(windows, np.ndarray) and windows.shape == (30, 2, 4)
    model = make_pipeline(SlidingWindowTransformer(3, flatten=True), Ridge()).set_output(
        transform="pandas"
    )
    assert model.fit(frame, frame["temp_max"]).predict(frame).shape == (30,)
