"""Keras backends: the same estimator under TensorFlow and JAX, its input per backend, and the
compiled steps that JAX networks of one architecture share.

Every test here runs under whichever backend ``KERAS_BACKEND`` names; CI runs this file under
TensorFlow and JAX (``.ci/run``).
"""

import keras
import numpy as np
import pytest

from sklstm import LSTMForecaster, make_horizon_target
from sklstm._batches import Windows
from sklstm._sequence import WindowSequence
from sklstm.datasets import load_seattle_weather

BACKEND = keras.backend.backend()


def tiny(**params):
    defaults = dict(window=6, units=4, epochs=2, batch_size=16, random_state=0)
    return LSTMForecaster(**{**defaults, **params})


@pytest.fixture(scope="module")
def data():
    X, y = make_horizon_target(load_seattle_weather().iloc[:220], "temp_max", horizon=2)
    return X.to_numpy(), y.to_numpy()


def _rows(n=60, n_features=2):
    return np.arange(n * n_features, dtype=np.float64).reshape(n, n_features)


def test_sequence_shuffles_like_the_generator_and_pads_with_exact_weights():
    windows = Windows(_rows(), 5, 0.0, 1.0)
    y = np.arange(len(windows), dtype=np.float32)[:, None]
    sequence = WindowSequence(windows, slice(0, 50), y, batch_size=16, shuffle_seed=0, pad=True)
    rng = np.random.default_rng(0)
    assert len(sequence) == 4
    for _ in range(2):
        sequence.on_epoch_begin()
        expected = rng.permutation(50)
        batches = [sequence[i] for i in range(len(sequence))]
        assert {len(x) for x, _, _ in batches} == {16}  # the last batch of 2 padded to 16
        x, targets, weight = batches[-1]
        np.testing.assert_array_equal(targets[:2, 0], expected[48:])
        np.testing.assert_array_equal(x[:2], windows.take(expected[48:]))
        np.testing.assert_array_equal(weight, [8.0] * 2 + [0.0] * 14)
        assert all((w == 1).all() for _, _, w in batches[:-1])
        seen = np.concatenate([t[w > 0, 0] for _, t, w in batches])
        np.testing.assert_array_equal(seen, expected)


def test_sequence_pads_a_single_batch_to_a_power_of_two_and_never_a_validation_tail():
    windows = Windows(_rows(), 5, 0.0, 1.0)
    y = np.ones((len(windows), 1), dtype=np.float32)
    single = WindowSequence(windows, slice(0, 20), batch_size=1024, pad=True)
    assert single[0][0].shape == (32, 5, 2)
    np.testing.assert_array_equal(single[0][0][:20], windows.take(np.arange(20)))
    # Several batches of targets in order: Keras weights their losses by batch size.
    validation = WindowSequence(windows, slice(0, 50), y, batch_size=16, pad=True)
    assert len(validation[3]) == 2 and len(validation[3][0]) == 2


def test_same_seed_same_fit_after_other_networks(data):
    """A fit equals a fresh one whatever was fitted before it in the process: under JAX it
    reuses the steps compiled for the earlier networks of its architecture."""
    from sklstm import _training

    X, y = data
    params = dict(dropout=0.2, recurrent_dropout=0.1)

    def fit(**extra):
        model = tiny(**params, **extra).fit(X[:160], y[:160])
        return model, model.predict(X[160:])

    _training._STEPS.clear()
    fresh, fresh_pred = fit()
    fit(random_state=1, learning_rate=1e-2)  # another seed and rate, the same steps
    again, again_pred = fit()
    np.testing.assert_array_equal(again_pred, fresh_pred)
    assert again.history_ == fresh.history_
    if BACKEND == "jax":
        assert again.model_.train_function is fresh.model_.train_function
        assert again.model_ is not fresh.model_
    # Another architecture compiles its own steps.
    wider = tiny(**params, units=5).fit(X[:160], y[:160])
    assert wider.model_.train_function is not fresh.model_.train_function


def test_a_fitted_network_stays_as_fitted_when_another_shares_its_steps(data):
    X, y = data
    first = tiny().fit(X[:160], y[:160])
    before = first.predict(X[160:])
    tiny(random_state=1).fit(X[20:180], y[20:180])
    np.testing.assert_array_equal(first.predict(X[160:]), before)


def test_predictions_do_not_depend_on_how_many_rows_come_with_them(data):
    # JAX pads prediction batches to few shapes: the padding never changes a real row's value.
    X, y = data
    model = tiny().fit(X[:160], y[:160])
    full = model.predict(X[160:])
    np.testing.assert_allclose(model.predict(X[160:185]), full[:25], rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(BACKEND == "tensorflow", reason="the strategy applies under TensorFlow")
def test_a_tensorflow_strategy_under_another_backend_is_refused(data):
    tf = pytest.importorskip("tensorflow")
    X, y = data
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        with pytest.raises(RuntimeError, match="KERAS_BACKEND=tensorflow"):
            tiny().fit(X[:160], y[:160])


def test_only_tensorflow_unrolls_the_time_loop():
    from sklstm._network import should_unroll

    assert should_unroll(24, 32) == (BACKEND == "tensorflow")
    assert not should_unroll(24, 256)
