"""Safe save/load: identical predictions after a round trip; bad files give a ValueError."""

import hashlib
import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sklstm
from sklstm import LSTMForecaster, make_horizon_target
from sklstm.datasets import load_seattle_weather


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A tiny model fitted on a DataFrame, its saved file, and the data around it."""
    weather = load_seattle_weather().iloc[:120]
    X, y = make_horizon_target(weather, ["temp_max", "wind"], horizon=2)
    model = LSTMForecaster(window=4, units=4, epochs=1, batch_size=16, random_state=0)
    model.fit(X[:90], y[:90])
    path = tmp_path_factory.mktemp("saved") / "model.sklstm.zip"
    model.save(path)
    return model, path, weather, X


def test_round_trip_gives_identical_predictions(fitted):
    model, path, weather, X = fitted
    loaded = sklstm.load(path)
    assert loaded.get_params() == model.get_params()
    # Continuation: the first test rows take their history from the fitted rows.
    np.testing.assert_array_equal(loaded.predict(X[90:]), model.predict(X[90:]))
    # A short continuation relies on the remembered history (window - 1 rows).
    np.testing.assert_array_equal(loaded.predict(X[90:92]), model.predict(X[90:92]))
    # In-sample and a non-continuing slice (no history) behave the same too.
    np.testing.assert_array_equal(loaded.predict(X[:90]), model.predict(X[:90]))
    np.testing.assert_array_equal(loaded.predict(X[100:103]), model.predict(X[100:103]))
    pd.testing.assert_frame_equal(loaded.forecast(), model.forecast())
    pd.testing.assert_frame_equal(loaded.forecast(weather), model.forecast(weather))
    np.testing.assert_array_equal(loaded.feature_names_in_, model.feature_names_in_)
    np.testing.assert_array_equal(loaded.last_window_, model.last_window_)
    assert loaded._time.step == model._time.step
    assert loaded.history_ == model.history_


def test_round_trip_numpy_and_unfitted(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    model = LSTMForecaster(window=3, units=(4, 2), epochs=1, random_state=0).fit(X, X[:, 0])
    model.save(tmp_path / "numpy.zip")
    loaded = sklstm.load(tmp_path / "numpy.zip")
    assert loaded.units == (4, 2)
    np.testing.assert_array_equal(loaded.predict(X[30:]), model.predict(X[30:]))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))

    LSTMForecaster(window=7, random_state=np.random.RandomState(3)).save(tmp_path / "new.zip")
    unfitted = sklstm.load(tmp_path / "new.zip")
    assert unfitted.window == 7 and not hasattr(unfitted, "model_")
    assert unfitted.random_state.randint(1000) == np.random.RandomState(3).randint(1000)


def test_pickle_still_works(fitted):
    model, _, _, X = fitted
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X[90:]), model.predict(X[90:]))


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write(path, members, *, rehash=True):
    """Write members as an archive; with rehash, update the manifest's checksums to match."""
    members = dict(members)
    if rehash:
        manifest = json.loads(members["manifest.json"])
        manifest["sha256"] = {
            name: hashlib.sha256(data).hexdigest()
            for name, data in members.items()
            if name != "manifest.json"
        }
        members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_garbage_and_truncated_files(fitted, tmp_path):
    _, path, _, _ = fitted
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"this is not a model" * 10)
    with pytest.raises(ValueError, match="not a valid sklstm model file"):
        sklstm.load(garbage)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="not a valid sklstm model file"):
        sklstm.load(truncated)
    other_zip = _write(tmp_path / "other.zip", {"readme.txt": b"hi"}, rehash=False)
    with pytest.raises(ValueError, match="manifest.json is missing"):
        sklstm.load(other_zip)
    with pytest.raises(FileNotFoundError):
        sklstm.load(tmp_path / "missing.zip")


def test_tampered_files(fitted, tmp_path):
    _, path, _, _ = fitted
    members = _members(path)

    params = json.loads(members["params.json"])
    params["items"]["window"] = 5
    altered = {**members, "params.json": json.dumps(params).encode()}
    with pytest.raises(ValueError, match="params.json was altered"):
        sklstm.load(_write(tmp_path / "a.zip", altered, rehash=False))
    # Even with matching checksums, a network that does not fit the parameters is refused.
    with pytest.raises(ValueError, match="does not match the saved parameters"):
        sklstm.load(_write(tmp_path / "b.zip", altered))

    params["items"]["window"] = -1
    bad_param = {**members, "params.json": json.dumps(params).encode()}
    with pytest.raises(ValueError, match="bad parameters"):
        sklstm.load(_write(tmp_path / "c.zip", bad_param))

    state = json.loads(members["state.json"])
    state["items"]["n_iter_"] = {"__type__": "pickle", "data": "gASVAAAA"}
    unknown = {**members, "state.json": json.dumps(state).encode()}
    with pytest.raises(ValueError, match="unknown value type 'pickle'"):
        sklstm.load(_write(tmp_path / "d.zip", unknown))

    object_array = io.BytesIO()
    np.save(object_array, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    array_member = next(name for name in members if name.startswith("arrays/"))
    pickled = {**members, array_member: object_array.getvalue()}
    with pytest.raises(ValueError, match="not a plain NumPy array"):
        sklstm.load(_write(tmp_path / "e.zip", pickled))

    extra = {**members, "payload.py": b"import os"}
    with pytest.raises(ValueError, match="do not match the manifest"):
        sklstm.load(_write(tmp_path / "f.zip", extra, rehash=False))


def test_keras_safe_mode_refuses_lambda_layers(fitted, tmp_path):
    import keras

    _, path, _, _ = fitted
    inputs = keras.Input(shape=(4, 2))
    lambda_model = keras.Model(inputs, keras.layers.Lambda(lambda x: x[:, -1, :])(inputs))
    lambda_model.save(tmp_path / "lambda.keras")
    members = {**_members(path), "model.keras": (tmp_path / "lambda.keras").read_bytes()}
    with pytest.raises(ValueError, match="cannot be loaded safely"):
        sklstm.load(_write(tmp_path / "lambda.zip", members))


def test_callbacks_are_not_saved(tmp_path):
    if "callbacks" not in LSTMForecaster().get_params():
        pytest.skip("this LSTMForecaster has no callbacks parameter")
    import keras

    model = LSTMForecaster(window=3, callbacks=[keras.callbacks.TerminateOnNaN()])
    with pytest.warns(UserWarning, match="does not store the 'callbacks'"):
        model.save(tmp_path / "callbacks.zip")
    assert sklstm.load(tmp_path / "callbacks.zip").callbacks is None


FIXTURES = Path(__file__).parent / "fixtures"


def test_format_1_files_still_load():
    # Written by sklstm at commit 67f5e25 (format 1: every attribute of the estimator), with
    # the predictions it made then.
    weather = load_seattle_weather().iloc[:120]
    X, _ = make_horizon_target(weather, ["temp_max", "wind"], horizon=2)
    loaded = sklstm.load(FIXTURES / "forecaster_v1.sklstm.zip")
    expected = np.load(FIXTURES / "forecaster_v1_predictions.npy")
    # atol: written under TensorFlow; another Keras backend rounds float32 differently.
    np.testing.assert_allclose(loaded.predict(X[90:]), expected, rtol=1e-6, atol=1e-5)
    assert loaded.last_window_.shape == (3, 4)
    future = loaded.forecast()
    assert list(future.columns) == ["temp_max", "wind"]
    assert future.index[0] == X.index[89] + pd.Timedelta(days=1)

    rows = np.random.default_rng(0).normal(size=(40, 2))
    arrays = sklstm.load(FIXTURES / "forecaster_v1_arrays.sklstm.zip")
    continued, in_sample = np.load(FIXTURES / "forecaster_v1_arrays_predictions.npy")
    np.testing.assert_allclose(arrays.predict(rows[30:]), continued, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(arrays.predict(rows[:10]), in_sample, rtol=1e-6, atol=1e-5)


def test_the_file_holds_the_listed_fields_only(fitted):
    _, path, _, _ = fitted
    members = _members(path)
    assert json.loads(members["manifest.json"])["format_version"] == 2
    state = json.loads(members["state.json"])["items"]
    assert set(state) == {
        "n_features_in_",
        "feature_names_in_",
        "n_outputs_",
        "x_mean_",
        "x_scale_",
        "y_mean_",
        "y_scale_",
        "history_",
        "n_iter_",
        "linear_only_",
        "calibration_residuals_",
        "_y_1d",
        "_target_names",
        "known_future_",
        "seasonal_phase_",
        "season_",
        "smoothing_share_",
        "_fallback",
        "_time",
    }
    assert set(state["_time"]["items"]) == {"rows", "index", "step", "first_row"}


def test_newer_formats_are_refused_clearly(fitted, tmp_path):
    _, path, _, _ = fitted
    members = _members(path)
    manifest = json.loads(members["manifest.json"])
    manifest["format_version"] = 99
    newer = {**members, "manifest.json": json.dumps(manifest).encode()}
    with pytest.raises(ValueError, match="format version 99 is not supported.*upgrade sklstm"):
        sklstm.load(_write(tmp_path / "newer.zip", newer, rehash=False))


def test_unknown_fitted_attributes_are_refused(fitted, tmp_path):
    _, path, _, _ = fitted
    members = _members(path)
    state = json.loads(members["state.json"])
    state["items"]["__class__"] = "os.system"
    altered = {**members, "state.json": json.dumps(state).encode()}
    with pytest.raises(ValueError, match="unknown fitted attributes"):
        sklstm.load(_write(tmp_path / "attrs.zip", altered))
