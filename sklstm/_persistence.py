"""Save and load estimators without pickle: a zip of JSON, ``.npy`` arrays and a ``.keras`` model.

The archive holds

- ``manifest.json``: format name and version, and the SHA-256 of every other member;
- ``params.json``: the constructor parameters (``get_params(deep=False)``);
- ``state.json``: the fitted attributes, as JSON, with NumPy arrays stored as ``arrays/<n>.npy``
  (read with ``allow_pickle=False``) and pandas indexes and offsets as plain values;
- ``model.keras``: the trained network, read back with Keras' ``safe_mode=True``.

Only plain data and a short list of known types can be decoded, so loading a file never runs code
from it. Anything that does not match (a bad zip, a missing or altered member, a value of an
unknown type, a network that does not fit the parameters) raises a ValueError.
"""

import hashlib
import io
import json
import os
import tempfile
import warnings
import zipfile

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

FORMAT = "sklstm-estimator"
FORMAT_VERSION = 1
_MODEL_MEMBER = "model.keras"


def _estimator_classes():
    from ._forecaster import LSTMForecaster

    return {"LSTMForecaster": LSTMForecaster}


def _known_objects():
    # Plain-state objects that may appear in fitted attributes, rebuilt from their __dict__.
    from ._history import History

    return {"History": History}


class _Invalid(ValueError):
    """A file that is not a valid sklstm model; the message says what is wrong."""


# -- saving ----------------------------------------------------------------------------------


def save(estimator, path):
    """Write a fitted or unfitted estimator to ``path`` (a zip archive; see the module doc)."""
    class_name = type(estimator).__name__
    if _estimator_classes().get(class_name) is not type(estimator):
        raise TypeError(f"save() supports {sorted(_estimator_classes())}, not {class_name}.")
    arrays = {}
    params = estimator.get_params(deep=False)
    if params.get("callbacks"):
        # Callbacks are code and only matter while training: the loaded model has none.
        warnings.warn(
            "save() does not store the 'callbacks' parameter; the loaded estimator has "
            "callbacks=None. Set them again with set_params(callbacks=[...]) before refitting.",
            UserWarning,
            stacklevel=3,
        )
        params = {**params, "callbacks": None}
    params = _encode(params, arrays, "params")
    state = {
        "__type__": "dict",
        "items": {
            name: _encode(value, arrays, name)
            for name, value in vars(estimator).items()
            if name not in estimator.get_params(deep=False) and name != "model_"
        },
    }
    members = {
        "params.json": json.dumps(params, indent=1, allow_nan=True).encode(),
        "state.json": json.dumps(state, indent=1, allow_nan=True).encode(),
    }
    for member, array in arrays.items():
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        members[member] = buffer.getvalue()
    if hasattr(estimator, "model_"):
        with tempfile.TemporaryDirectory() as tmp:
            model_path = os.path.join(tmp, _MODEL_MEMBER)
            estimator.model_.save(model_path)
            with open(model_path, "rb") as f:
                members[_MODEL_MEMBER] = f.read()
    from . import __version__

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": class_name,
        "sklstm_version": __version__,
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
        for name, data in members.items():
            archive.writestr(name, data)


def _encode(value, arrays, where):
    """Turn a value into JSON data; NumPy arrays go to ``arrays`` as ``.npy`` members."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"__type__": "scalar", "dtype": value.dtype.str, "value": value.item()}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biufc":
            member = f"arrays/{len(arrays)}.npy"
            arrays[member] = value
            return {"__type__": "ndarray", "member": member}
        if value.dtype.kind == "O" and all(isinstance(v, str) for v in value.flat):
            return {"__type__": "strings", "shape": list(value.shape), "values": value.tolist()}
    if isinstance(value, list):
        return [_encode(v, arrays, where) for v in value]
    if isinstance(value, tuple):
        return {"__type__": "tuple", "items": [_encode(v, arrays, where) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {
            "__type__": "dict",
            "items": {k: _encode(v, arrays, where) for k, v in value.items()},
        }
    if isinstance(value, pd.Index):
        return _encode_index(value, arrays, where)
    if isinstance(value, pd.offsets.BaseOffset):
        return {"__type__": "offset", "freq": value.freqstr}
    if isinstance(value, np.random.RandomState):
        return {"__type__": "RandomState", "state": _encode(value.get_state(), arrays, where)}
    if type(value).__name__ in _known_objects() and type(value) is _known_objects().get(
        type(value).__name__
    ):
        return {
            "__type__": "object",
            "class": type(value).__name__,
            "state": _encode(dict(vars(value)), arrays, where),
        }
    raise TypeError(
        f"Cannot save {where!r}: values of type {type(value).__name__} have no safe file "
        "format. Use pickle for such estimators (trusted files only)."
    )


def _encode_index(index, arrays, where):
    name = _encode(index.name, arrays, where)
    if isinstance(index, pd.RangeIndex):
        return {
            "__type__": "index",
            "kind": "range",
            "start": index.start,
            "stop": index.stop,
            "step": index.step,
            "name": name,
        }
    if isinstance(index, pd.DatetimeIndex):
        return {
            "__type__": "index",
            "kind": "datetime",
            "values": index.asi8.tolist(),  # UTC ticks for tz-aware indexes
            "unit": index.unit,
            "tz": None if index.tz is None else str(index.tz),
            "freq": index.freqstr,
            "name": name,
        }
    if isinstance(index, pd.PeriodIndex):
        return {
            "__type__": "index",
            "kind": "period",
            "values": index.asi8.tolist(),
            "freq": index.freqstr,
            "name": name,
        }
    if pd.api.types.is_numeric_dtype(index.dtype) and not pd.api.types.is_bool_dtype(index.dtype):
        return {
            "__type__": "index",
            "kind": "numeric",
            "values": _encode(index.to_numpy(), arrays, where),
            "name": name,
        }
    raise TypeError(f"Cannot save {where!r}: {type(index).__name__} has no safe file format.")


# -- loading ---------------------------------------------------------------------------------


def load(path):
    """Load an estimator written by ``save``.

    Parameters
    ----------
    path : str or path-like
        A file written by :meth:`LSTMForecaster.save <sklstm.LSTMForecaster.save>`.

    Returns
    -------
    estimator : LSTMForecaster
        The estimator, with the same parameters and fitted state: its predictions are
        identical to those of the saved one.

    Raises
    ------
    ValueError
        If the file is not a complete, unaltered sklstm model file.

    Notes
    -----
    The file holds JSON, NumPy ``.npy`` arrays (read with ``allow_pickle=False``) and a
    ``.keras`` model read with Keras' ``safe_mode=True``: loading never unpickles or runs code
    from the file. A ``pickle`` of an estimator, by contrast, runs arbitrary code when loaded:
    unpickle only files you trust.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import sklstm
    >>> X = np.random.default_rng(0).normal(size=(60, 2))
    >>> model = sklstm.LSTMForecaster(window=3, units=4, epochs=1, random_state=0)
    >>> model = model.fit(X, X[:, 0])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.zip")
    >>> model.save(path)
    >>> loaded = sklstm.load(path)
    >>> bool(np.array_equal(loaded.predict(X), model.predict(X)))
    True
    """
    where = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: archive.read(info) for info in archive.infolist()}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ValueError(
            f"{where} is not a valid sklstm model file (not a complete zip archive: {exc})."
        ) from None
    try:
        return _load_members(members)
    except _Invalid as exc:
        raise ValueError(f"{where} is not a valid sklstm model file: {exc}") from None


def _load_members(members):
    manifest = _json(members, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _Invalid("manifest.json does not describe an sklstm estimator.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _Invalid(
            f"format version {manifest.get('format_version')!r} is not supported by this "
            f"sklstm (it reads version {FORMAT_VERSION})."
        )
    hashes = manifest.get("sha256")
    if not isinstance(hashes, dict) or set(hashes) != set(members) - {"manifest.json"}:
        raise _Invalid("its members do not match the manifest (files added or removed).")
    for name, digest in hashes.items():
        if hashlib.sha256(members[name]).hexdigest() != digest:
            raise _Invalid(f"{name} was altered after saving (checksum mismatch).")
    cls = _estimator_classes().get(manifest.get("estimator"))
    if cls is None:
        raise _Invalid(f"unknown estimator {manifest.get('estimator')!r}.")

    def array(member):
        if member not in members or not member.startswith("arrays/"):
            raise _Invalid(f"array {member!r} is missing.")
        try:
            return np.load(io.BytesIO(members[member]), allow_pickle=False)
        except ValueError as exc:
            raise _Invalid(f"{member} is not a plain NumPy array ({exc}).") from None

    params = _decode(_json(members, "params.json"), array)
    state = _decode(_json(members, "state.json"), array)
    if not isinstance(params, dict) or not isinstance(state, dict):
        raise _Invalid("params.json and state.json must hold objects.")
    estimator = cls()
    try:
        estimator.set_params(**params)
        estimator._validate_params()
    except (ValueError, TypeError) as exc:
        raise _Invalid(f"bad parameters ({exc})") from None
    for name, value in state.items():
        # Fitted state is private (_name) or learned (name_); never a dunder or a parameter.
        plain = name.isidentifier() and not name.startswith("__") and name not in params
        if not plain or not (name.startswith("_") or name.endswith("_")):
            raise _Invalid(f"bad attribute name {name!r}.")
        setattr(estimator, name, value)
    if _MODEL_MEMBER in members:
        estimator.model_ = _load_keras(members[_MODEL_MEMBER])
        _check_network(estimator)
    return estimator


def _json(members, name):
    if name not in members:
        raise _Invalid(f"{name} is missing.")
    try:
        return json.loads(members[name].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Invalid(f"{name} is not valid JSON ({exc}).") from None


def _decode(value, array):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_decode(v, array) for v in value]
    if not isinstance(value, dict):
        raise _Invalid(f"unexpected value {value!r}.")
    kind = value.get("__type__")
    try:
        if kind == "dict":
            return {str(k): _decode(v, array) for k, v in value["items"].items()}
        if kind == "tuple":
            return tuple(_decode(v, array) for v in value["items"])
        if kind == "scalar":
            return np.dtype(value["dtype"]).type(value["value"])
        if kind == "ndarray":
            return array(value["member"])
        if kind == "strings":
            strings = np.empty(len(value["values"]), dtype=object)
            strings[:] = [str(v) for v in value["values"]]
            return strings.reshape(value["shape"])
        if kind == "index":
            return _decode_index(value, array)
        if kind == "offset":
            return to_offset(str(value["freq"]))
        if kind == "RandomState":
            random_state = np.random.RandomState()
            random_state.set_state(_decode(value["state"], array))
            return random_state
        if kind == "object":
            cls = _known_objects().get(value["class"])
            if cls is None:
                raise _Invalid(f"unknown object type {value['class']!r}.")
            obj = cls.__new__(cls)
            obj.__dict__.update(_decode(value["state"], array))
            return obj
    except _Invalid:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _Invalid(f"cannot decode a value of type {kind!r} ({exc!r}).") from None
    raise _Invalid(f"unknown value type {kind!r}.")


def _decode_index(value, array):
    kind, name = value["kind"], _decode(value["name"], array)
    if kind == "range":
        return pd.RangeIndex(int(value["start"]), int(value["stop"]), int(value["step"]), name=name)
    if kind == "datetime":
        ticks = np.asarray(value["values"], dtype=np.int64).view(f"datetime64[{value['unit']}]")
        index = pd.DatetimeIndex(ticks, name=name)
        if value["tz"] is not None:
            index = index.tz_localize("UTC").tz_convert(value["tz"])
        if value["freq"] is not None:
            index.freq = to_offset(value["freq"])
        return index
    if kind == "period":
        return pd.PeriodIndex.from_ordinals(value["values"], freq=value["freq"]).rename(name)
    if kind == "numeric":
        return pd.Index(_decode(value["values"], array), name=name)
    raise _Invalid(f"unknown index kind {kind!r}.")


def _load_keras(data):
    import keras

    from . import _network  # noqa: F401 (registers the custom layer sklstm>WindowCentering)

    with tempfile.TemporaryDirectory() as tmp:
        model_path = os.path.join(tmp, _MODEL_MEMBER)
        with open(model_path, "wb") as f:
            f.write(data)
        try:
            return keras.saving.load_model(model_path, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises many types for a bad file; all mean "invalid"
            raise _Invalid(f"the Keras model cannot be loaded safely ({exc}).") from None


def _check_network(estimator):
    model = estimator.model_
    expected_in = (None, int(estimator.window), int(getattr(estimator, "n_features_in_", -1)))
    expected_out = (None, int(getattr(estimator, "n_outputs_", -1)))
    if tuple(model.input_shape) != expected_in or tuple(model.output_shape) != expected_out:
        raise _Invalid(
            f"the network maps {model.input_shape} to {model.output_shape}, which does not "
            f"match the saved parameters ({expected_in} to {expected_out})."
        )
