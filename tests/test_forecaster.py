"""LSTMForecaster: parameters, shapes, determinism without global state, pickling, bad input."""

import gc
import pickle
import random
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from sklstm import LSTMForecaster, SlidingWindowTransformer, make_horizon_target
from sklstm.datasets import load_seattle_weather


def tiny(**params):
    defaults = dict(window=4, units=4, epochs=2, batch_size=16, random_state=0)
    return LSTMForecaster(**{**defaults, **params})


@pytest.fixture(scope="module")
def data():
    X, y = make_horizon_target(load_seattle_weather().iloc[:200], "temp_max", horizon=2)
    return X.to_numpy(), y.to_numpy()


def test_is_a_regressor_and_clones_with_its_settings():
    model = LSTMForecaster(window=7, units=(8, 4), epochs=3, dropout=0.1, random_state=1)
    assert is_regressor(model)
    assert clone(model).get_params() == model.get_params()
    assert model.set_params(units=5).units == 5


@pytest.mark.parametrize(
    "params, n_lstm",
    [
        (dict(units=50, activation="relu"), 1),
        (dict(units=(64, 32), dropout=0.2), 2),
        (dict(units=50, bidirectional=True), 1),
    ],
    ids=["vanilla", "stacked", "bidirectional"],
)
def test_blog_architectures_are_one_line(data, params, n_lstm):
    X, y = data
    model = LSTMForecaster(window=5, epochs=1, random_state=0, **params).fit(X, y[:, 0])
    names = [layer.__class__.__name__ for layer in model.model_.layers]
    assert names.count("Bidirectional" if params.get("bidirectional") else "LSTM") == n_lstm
    assert model.predict(X[:10]).shape == (10,)


def test_output_shapes_follow_y(data):
    X, y = data
    assert tiny().fit(X, y[:, 0]).predict(X[:7]).shape == (7,)
    assert tiny().fit(X, y[:, :1]).predict(X[:7]).shape == (7, 1)
    model = tiny().fit(X, y)
    assert model.predict(X[:7]).shape == (7, 2)
    assert model.n_outputs_ == 2 and model.n_features_in_ == 4


def test_three_d_windows_from_the_transformer(data):
    X, y = data
    windows = SlidingWindowTransformer(4).fit_transform(X)
    model = tiny().fit(windows, y)
    assert model.predict(windows[:5]).shape == (5, 2)
    with pytest.raises(ValueError, match="windows of length 6 but window=4"):
        model.predict(SlidingWindowTransformer(6).fit_transform(X))


def test_numpy_integer_parameters_and_grid_search(data):
    X, y = data
    model = LSTMForecaster(
        window=np.int64(3), units=np.int64(3), epochs=np.int64(1), batch_size=np.int32(32)
    )
    assert model.fit(X, y).predict(X[:3]).shape == (3, 2)
    grid = GridSearchCV(
        tiny(epochs=1, early_stopping=False),
        {"units": np.arange(2, 4), "window": np.arange(3, 5)},
        cv=TimeSeriesSplit(2),
    ).fit(X, y)
    assert grid.best_params_["units"] in (2, 3)


def global_state():
    import keras
    import tensorflow as tf

    tf.random.get_global_generator()  # created once, so that its state can be compared
    return {
        "random": random.getstate(),
        "numpy": pickle.dumps(np.random.get_state()),  # noqa: NPY002 (the legacy global state)
        "tf_generator": tf.random.get_global_generator().state.numpy().tolist(),
        "tf_seed": tf.compat.v1.get_default_graph().seed,
        "floatx": keras.config.floatx(),
        "policy": keras.mixed_precision.global_policy().name,
        "threads": (
            tf.config.threading.get_inter_op_parallelism_threads(),
            tf.config.threading.get_intra_op_parallelism_threads(),
        ),
    }


def test_same_seed_same_predictions_and_global_state_untouched(data):
    X, y = data
    before = global_state()
    first_model = tiny(dropout=0.2).fit(X[:150], y[:150])
    first = first_model.predict(X[150:])
    second = tiny(dropout=0.2).fit(X[:150], y[:150]).predict(X[150:])
    assert global_state() == before
    np.testing.assert_array_equal(first, second)
    # Another seed, another LSTM (whose predictions may still agree with the first's where
    # both are left out in favour of the linear part).
    other = tiny(dropout=0.2, random_state=1).fit(X[:150], y[:150])
    assert not np.allclose(other.model_.weights[0], first_model.model_.weights[0])
    lstm_only = tiny(dropout=0.2, highway=False, fallback=None)
    assert not np.allclose(
        lstm_only.fit(X[:150], y[:150]).predict(X[150:]),
        lstm_only.set_params(random_state=1).fit(X[:150], y[:150]).predict(X[150:]),
    )


def test_every_fit_starts_fresh(data):
    X, y = data
    model = tiny()
    model.fit(X[50:], y[50:])
    first_model = model.model_
    refit = model.fit(X[:150], y[:150]).predict(X[150:])
    assert model.model_ is not first_model
    np.testing.assert_array_equal(refit, tiny().fit(X[:150], y[:150]).predict(X[150:]))


def test_fits_release_their_training_graphs(data):
    # TensorFlow's gradient registry keeps a plain Keras fit's traced training step alive for
    # good; sklstm/_training.py avoids it, so a forgotten estimator leaves nothing behind.
    X, y = data

    def live_graphs():
        gc.collect()
        return sum(type(o).__name__ == "FuncGraph" for o in gc.get_objects())

    tiny().fit(X, y).predict(X[-5:])  # one-time graphs of the first fit in a process
    before = live_graphs()
    for _ in range(3):
        tiny().fit(X, y).predict(X[-5:])
    assert live_graphs() <= before


def test_trains_under_a_distribution_strategy(data):
    import tensorflow as tf

    X, y = data
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        model = tiny().fit(X[:150], y[:150])
    assert np.isfinite(model.predict(X[150:])).all()


def test_pickle_round_trip_in_a_fresh_process(data, tmp_path):
    X, y = data
    model = tiny().fit(X[:150], y[:150])
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    np.save(tmp_path / "X.npy", X[150:])
    script = textwrap.dedent(
        f"""
        import pickle, numpy as np
        model = pickle.loads(open({str(path)!r}, "rb").read())
        np.save({str(tmp_path / "pred.npy")!r}, model.predict(np.load({str(tmp_path / "X.npy")!r})))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    np.testing.assert_array_equal(np.load(tmp_path / "pred.npy"), model.predict(X[150:]))


def test_same_seed_same_predictions_across_processes(data, tmp_path):
    X, y = data
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    script = textwrap.dedent(
        f"""
        import numpy as np
        from sklstm import LSTMForecaster
        X, y = np.load({str(tmp_path / "X.npy")!r}), np.load({str(tmp_path / "y.npy")!r})
        model = LSTMForecaster(window=4, units=4, epochs=2, batch_size=16, random_state=0)
        np.save({str(tmp_path / "pred.npy")!r}, model.fit(X[:150], y[:150]).predict(X[150:]))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    np.testing.assert_array_equal(
        np.load(tmp_path / "pred.npy"), tiny().fit(X[:150], y[:150]).predict(X[150:])
    )


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        tiny().predict(np.zeros((5, 2)))


ROWS = np.random.default_rng(0).normal(size=(40, 3))
TARGET = ROWS[:, 0].copy()


def with_nan(a):
    a = a.copy()
    a[3] = np.nan
    return a


def with_inf(a):
    a = a.copy()
    a[3] = np.inf
    return a


def unsorted_frame():
    index = pd.date_range("2020-01-01", periods=40, freq="D")[::-1]
    return pd.DataFrame(ROWS, index=index)


def duplicated_frame():
    index = pd.DatetimeIndex(["2020-01-01"] * 2).append(pd.date_range("2020-01-02", periods=38))
    return pd.DataFrame(ROWS, index=index)


BAD_FIT_INPUTS = [
    ("nan in X", {}, with_nan(ROWS), TARGET, ValueError, "NaN"),
    ("inf in X", {}, with_inf(ROWS), TARGET, ValueError, "infinity"),
    ("nan in y", {}, ROWS, with_nan(TARGET), ValueError, "NaN"),
    ("too few rows", {"window": 30}, ROWS[:25], TARGET[:25], ValueError, "at least 30 samples"),
    ("too few for validation", {"window": 40}, ROWS, TARGET, ValueError, "at least 41 samples"),
    ("window zero", {"window": 0}, ROWS, TARGET, ValueError, "'window' parameter"),
    ("window float", {"window": 2.5}, ROWS, TARGET, ValueError, "'window' parameter"),
    ("mismatched lengths", {}, ROWS, TARGET[:-1], ValueError, "inconsistent numbers of samples"),
    ("1-D X", {}, ROWS[:, 0], TARGET, ValueError, "Expected 2D array"),
    ("empty", {}, ROWS[:0], TARGET[:0], ValueError, "0 sample"),
    ("strings", {}, np.array([["a", "b"]] * 40), TARGET, ValueError, "could not convert"),
    ("units", {"units": 0}, ROWS, TARGET, ValueError, "'units' parameter"),
    ("units tuple", {"units": (8, 0)}, ROWS, TARGET, ValueError, "'units' parameter"),
    ("dropout", {"dropout": 1.5}, ROWS, TARGET, ValueError, "'dropout' parameter"),
    ("epochs", {"epochs": 0}, ROWS, TARGET, ValueError, "'epochs' parameter"),
    ("batch_size", {"batch_size": -1}, ROWS, TARGET, ValueError, "'batch_size' parameter"),
    ("unsorted index", {}, unsorted_frame(), TARGET, ValueError, "sort_index"),
    ("duplicated index", {}, duplicated_frame(), TARGET, ValueError, "duplicated time stamps"),
]


@pytest.mark.parametrize(
    "params, X, y, error, match",
    [case[1:] for case in BAD_FIT_INPUTS],
    ids=[c[0] for c in BAD_FIT_INPUTS],
)
def test_bad_input_fails_before_training(monkeypatch, params, X, y, error, match):
    def no_training(*args, **kwargs):
        raise AssertionError("training started before the input was rejected")

    monkeypatch.setattr(LSTMForecaster, "_train", no_training)
    with pytest.raises(error, match=match):
        tiny(**params).fit(X, y)


def test_bad_input_at_predict(data):
    X, y = data
    model = tiny().fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        model.predict(with_nan(X))
    with pytest.raises(ValueError, match="windows of length"):
        model.predict(np.zeros((3, 7, 4)))
    with pytest.raises(ValueError, match="n_features|features"):
        model.predict(np.zeros((3, 4, 2)))


def test_scikeras_can_use_the_network_builder(tmp_path):
    pytest.importorskip("scikeras")
    # In a subprocess: importing scikeras patches keras.Model for the whole process.
    script = textwrap.dedent(
        """
        import numpy as np
        from scikeras.wrappers import KerasRegressor
        from sklstm import build_lstm_network, sliding_windows

        rows = np.random.default_rng(0).normal(size=(60, 3)).astype("float32")
        windows = np.ascontiguousarray(sliding_windows(rows, 5))
        model = KerasRegressor(
            model=build_lstm_network, model__window=5, model__n_features=3, model__units=4,
            loss="mse", optimizer="adam", epochs=1, verbose=0, random_state=0,
        )
        print(model.fit(windows, rows[:, 0]).predict(windows).shape)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    assert out.stdout.strip().endswith("(60,)")


def test_the_keras_method_the_leak_fix_overrides_exists():
    # If Keras renames it, the fix would silently stop applying: fail here instead.
    import keras

    from sklstm._training import ALL_REDUCE_METHOD

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the leak and its fix are TensorFlow's")
    assert callable(getattr(keras.optimizers.Adam(), ALL_REDUCE_METHOD, None)), (
        f"Keras' optimizer has no {ALL_REDUCE_METHOD} any more: update sklstm/_training.py"
    )


def test_the_gpu_warning_points_at_the_callers_line(data, monkeypatch):
    from sklstm import _network

    monkeypatch.setattr(_network, "gpu_available", lambda: True)
    monkeypatch.setattr(_network, "should_unroll", lambda window, batch_size: False)
    X, y = data
    with pytest.warns(UserWarning, match="cuDNN") as caught:
        LSTMForecaster(window=3, units=2, epochs=1, activation="relu").fit(X[:60], y[:60])
    assert [w.filename for w in caught if "cuDNN" in str(w.message)] == [__file__]


def test_cross_validation_does_not_warn_about_retracing(data):
    # Each fold's model used to trace its own Keras predict function, which TensorFlow counts
    # as retracing one function and warns about from the fifth fold on.
    import logging

    from sklearn.model_selection import cross_val_score

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    try:
        X, y = data
        cross_val_score(tiny(), X, y, cv=TimeSeriesSplit(6))
    finally:
        logger.removeHandler(handler)
    assert not [r for r in records if "retracing" in r.getMessage()]


@pytest.mark.parametrize("bidirectional", [False, True])
def test_an_input_that_never_varies_in_training_cannot_move_a_forecast(data, bidirectional):
    # Like a law in force only after the training rows: the network never learned what the
    # input does, so when it moves later the forecast must not follow random weights.
    X, y = data
    X = np.column_stack([X, np.zeros(len(X))])
    model = tiny(highway=False, fallback=None, bidirectional=bidirectional).fit(X[:150], y[:150])
    moved = X[150:].copy()
    moved[20:, -1] = 1.0
    np.testing.assert_allclose(model.predict(moved), model.predict(X[150:]), rtol=1e-6)
    assert model.predict(X[150:]).std(axis=0).min() > 0  # the other inputs still count


def test_ignored_inputs_reach_the_known_future_mix():
    from sklstm import build_lstm_network
    from sklstm._network import ignore_inputs

    model = build_lstm_network(window=4, n_features=5, units=3, n_known=2, seed=0)
    ignore_inputs(model, [1, 4])
    kernel = model.get_layer("future_mix").kernel.numpy()
    lstm = next(layer for layer in model.layers if layer.__class__.__name__ == "LSTM")
    assert not lstm.cell.kernel.numpy()[1].any() and lstm.cell.kernel.numpy()[[0, 2]].all()
    assert not kernel[3 + 1].any() and kernel[3].all()
