"""The time semantics: no look-ahead, true preceding windows, CV equal to walk-forward."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline

from sklstm import LSTMForecaster, SlidingWindowTransformer, make_horizon_target, sliding_windows
from sklstm.datasets import load_seattle_weather

WINDOW = 4


def tiny(**params):
    defaults = dict(window=WINDOW, units=4, epochs=2, batch_size=16, random_state=0)
    return LSTMForecaster(**{**defaults, **params})


@pytest.fixture(scope="module")
def weather():
    X, y = make_horizon_target(load_seattle_weather().iloc[:240], "temp_max", horizon=1)
    return X, y


def walk_forward_scores(model, X, y, cv, fit_on_windows):
    """The hand-written loop: fit on the past, predict each test row from its true window."""
    if isinstance(X, pd.DataFrame) and not fit_on_windows:
        # Rows with their dates (the model reads the weekday from them): each test row is
        # predicted from X with its true preceding rows, dropped from the predictions after.
        scores = []
        for train, test in cv.split(X):
            fitted = clone(model).fit(X.iloc[train], y.iloc[train])
            pred = fitted.predict(X.iloc[test[0] - WINDOW + 1 : test[-1] + 1])[WINDOW - 1 :]
            scores.append(-mean_absolute_error(y.iloc[test], pred))
        return scores
    X, y = np.asarray(X), np.asarray(y).ravel()
    windows = sliding_windows(X, WINDOW)
    scores = []
    for train, test in cv.split(X):
        fitted = clone(model).fit(windows[train] if fit_on_windows else X[train], y[train])
        scores.append(-mean_absolute_error(y[test], fitted.predict(windows[test])))
    return scores


@pytest.mark.parametrize("as_frame", [False, True], ids=["numpy", "pandas"])
@pytest.mark.parametrize("pipeline", [False, True], ids=["forecaster", "pipeline"])
def test_cross_val_score_equals_walk_forward(weather, as_frame, pipeline):
    X, y = weather
    if not as_frame:
        X, y = X.to_numpy(), y.to_numpy().ravel()
    model = tiny(early_stopping=False)
    estimator = make_pipeline(SlidingWindowTransformer(WINDOW), model) if pipeline else model
    cv = TimeSeriesSplit(3)
    scores = cross_val_score(estimator, X, y, cv=cv, scoring="neg_mean_absolute_error")
    # The pipeline trains on the transformer's windows, the forecaster on raw rows.
    expected = walk_forward_scores(model, X, y, cv, fit_on_windows=pipeline)
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-6)


def perturb_after(X, t, rng):
    X = np.array(X, dtype=float)
    X[t + 1 :] += rng.normal(scale=100.0, size=X[t + 1 :].shape)
    return X


@pytest.mark.parametrize("as_frame", [False, True], ids=["numpy", "pandas"])
def test_future_rows_never_change_a_prediction(weather, as_frame):
    X, y = weather
    model = tiny().fit(X.iloc[:150], y.iloc[:150])
    rng = np.random.default_rng(0)
    for part in (X.iloc[:150], X.iloc[150:]):  # in-sample, then a continuation
        base = model.predict(part if as_frame else part.to_numpy())
        for t in (0, 2, 10, len(part) - 2):
            changed = perturb_after(part, t, rng)
            changed = (
                pd.DataFrame(changed, index=part.index, columns=part.columns)
                if as_frame
                else changed
            )
            np.testing.assert_allclose(model.predict(changed)[: t + 1], base[: t + 1], atol=1e-6)


def test_continuation_uses_fitted_rows_and_in_sample_does_not(weather):
    X, y = (a.to_numpy() for a in weather)
    # Compared with 3-D windows, which cannot carry the smoothing's state.
    model = tiny(fallback=None).fit(X[:150], y[:150])
    windows = sliding_windows(X, WINDOW)
    np.testing.assert_allclose(
        model.predict(X[150:170]), model.predict(windows[150:170]), atol=1e-6
    )
    # In-sample: the first rows repeat the first row, never using the fitted tail.
    np.testing.assert_allclose(
        model.predict(X[:20]), model.predict(sliding_windows(X[:20], WINDOW)), atol=1e-6
    )
    assert np.all(np.isfinite(model.predict(X[:2])))


def test_pandas_index_decides_continuity(weather):
    X, y = weather
    # The LSTM alone: a linear part near persistence would hardly notice which history it got.
    # No weekday inputs or smoothing either: 3-D windows cannot carry them.
    model = tiny(highway=False, seasonal_phase=None, fallback=None).fit(X.iloc[:150], y.iloc[:150])
    own_windows = sliding_windows(X.to_numpy(), WINDOW)

    def isolated(part):
        return model.predict(sliding_windows(part.to_numpy(), WINDOW))

    # Contiguous: history from the fitted tail.
    np.testing.assert_allclose(
        model.predict(X.iloc[150:160]), model.predict(own_windows[150:160]), atol=1e-6
    )
    # A gap in time: no history, the rows stand alone.
    np.testing.assert_allclose(model.predict(X.iloc[160:170]), isolated(X.iloc[160:170]), atol=1e-6)
    # Starting inside the remembered last window (rows 146-149): rows 146-147 precede it.
    X_np = X.to_numpy()
    expected = sliding_windows(X_np[148:155], WINDOW, history=X_np[146:148])
    np.testing.assert_allclose(model.predict(X.iloc[148:155]), model.predict(expected), atol=1e-6)
    # The same rows as numpy would be taken as a continuation: pandas is the precise route.
    assert not np.allclose(model.predict(X.iloc[160:170].to_numpy()), isolated(X.iloc[160:170]))


def test_early_stopping_validates_on_the_last_rows(weather):
    X, y = (a.to_numpy() for a in weather)
    # The LSTM alone: with a linear part, the LSTM may be left out after early stopping and
    # the linear part refitted on every window, validation rows included; nor is the
    # smoothing blended in.
    model = tiny(epochs=6, validation_fraction=0.2, patience=2, highway=False, fallback=None)
    model.fit(X, y)
    n_windows = len(X) - WINDOW + 1
    n_val = round(0.2 * n_windows)
    pred = model.predict(X).ravel()[-n_val:]
    val_mse = np.mean(((pred - y.ravel()[-n_val:]) / model.y_scale_) ** 2)
    assert min(model.history_["val_loss"]) == pytest.approx(val_mse, rel=1e-4)
