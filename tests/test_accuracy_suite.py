"""The accuracy promise on the suite's SMALL slice, with benchmarks/suite.py's protocol.

LSTMForecaster with its defaults (only ``window`` set, at most ``MAX_EPOCHS`` epochs to keep CI
fast) against the simple baselines on each short series of the slice, scored on the test
origins. The guard bounds are what the defaults meet today with a margin, so that a change
that makes them worse fails here; the promise itself (never more than 10 % behind the best
simple baseline, never more than 2 % behind persistence) is not met on every series yet and
is checked as an expected failure until it is (docs/accuracy.md, issue 13).
"""

import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
suite = pytest.importorskip("suite")

MAX_EPOCHS = 20
# Regression guards: MAE / MAE of the best simple baseline, and MAE / persistence MAE. Today's
# worst on the slice: 1.255 (wwwusage_1min, where ETS is best) and 0.985 (beaver1_10min); the
# guards leave a 5 % and a 10 % margin. (Before the linear part's six anchors: 1.33 and 1.00.)
GUARD_VS_BEST, GUARD_VS_PERSISTENCE = 1.32, 1.08
# The promise of the README, with the margin the issue states for seeds and epochs.
PROMISE_VS_BEST, PROMISE_VS_PERSISTENCE = 1.10, 1.02


@pytest.fixture(scope="module")
def ratios():
    found = {}
    for name in suite.suite_series.SMALL:
        data = suite.prepare(name)
        origins = np.arange(data["test_start"], data["n_origins"])
        y_test = data["y"][data["test_start"] :]

        def mae(pred, y_test=y_test):
            return suite._mae(y_test, pred)

        simple = {
            "persistence": mae(
                suite.as_y(suite.persistence(data["values"], origins, data["horizon"]))
            ),
            "ridge": mae(suite.fit_ridge(data, None)[0]),
            "ets": mae(suite.fit_ets(data, None)[0]),
        }
        if data["season"]:
            forecasts = suite.seasonal_naive(
                data["values"], origins, data["horizon"], data["season"]
            )
            simple["seasonal_naive"] = mae(suite.as_y(forecasts))
        model = mae(suite.fit_lstm_forecaster(data, seed=0, max_epochs=MAX_EPOCHS)[0])
        found[name] = (model / min(simple.values()), model / simple["persistence"])
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", suite.suite_series.SMALL)
def test_no_series_falls_far_behind_the_simple_baselines(ratios, name):
    vs_best, vs_persistence = ratios[name]
    assert vs_best <= GUARD_VS_BEST, f"{name}: {vs_best:.3f} x the best simple baseline"
    assert vs_persistence <= GUARD_VS_PERSISTENCE, f"{name}: {vs_persistence:.3f} x persistence"


@pytest.mark.slow
@pytest.mark.xfail(reason="issue 13: the promise is not met on every series yet", strict=False)
def test_the_promise_holds_on_every_series(ratios):
    for name, (vs_best, vs_persistence) in ratios.items():
        assert vs_best <= PROMISE_VS_BEST, f"{name}: {vs_best:.3f} x the best simple baseline"
        assert vs_persistence <= PROMISE_VS_PERSISTENCE, (
            f"{name}: {vs_persistence:.3f} x persistence"
        )
