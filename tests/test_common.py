"""scikit-learn's own estimator checks on every sklstm estimator, with tiny settings."""

from optuna.distributions import IntDistribution
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklstm import LSTMForecaster, LSTMSearchCV, SlidingWindowTransformer

ROW_ORDER = (
    "X is a time series: the prediction for a row depends on the rows before it, so predicting "
    "a subset or a reordering of the rows legitimately changes the predictions."
)
EXPECTED_FAILED = {
    "check_methods_subset_invariance": ROW_ORDER,
    "check_methods_sample_order_invariance": ROW_ORDER,
}


def tiny_forecaster():
    # A high learning rate lets a tiny network pass the regression-score checks in few epochs.
    return LSTMForecaster(window=3, units=4, epochs=8, learning_rate=0.05, random_state=0)


@parametrize_with_checks(
    [
        tiny_forecaster(),
        SlidingWindowTransformer(window=3),
        SlidingWindowTransformer(window=2, flatten=True),
        # One trial of two folds, fitted in this process: the checks test the wrapping.
        LSTMSearchCV(
            tiny_forecaster(), {"units": IntDistribution(4, 8)}, n_trials=1, cv=2, random_state=0
        ),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
