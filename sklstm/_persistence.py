"""The sklstm model file: a zip of JSON, ``.npy`` arrays and a ``.keras`` network, never pickle.

The archive holds

- ``manifest.json``: format name and version, the estimator's class name, and the SHA-256 of
  every other member;
- ``params.json``: the constructor parameters;
- ``state.json``: the fitted state, as JSON, with NumPy arrays stored as ``arrays/<n>.npy``
  (read with ``allow_pickle=False``) and pandas indexes and offsets as plain values;
- ``model.keras``: the trained network, read back with Keras' ``safe_mode=True``.

This module knows the file format, not the estimators: each estimator lists the fitted state
it saves and rebuilds itself from what :func:`read_estimator` decodes. Only plain data and a
short list of known types can be decoded, so loading a file never runs code from it. Anything
that does not match (a bad zip, a missing or altered member, a value of an unknown type, a
network that does not fit the parameters) raises a ValueError.

Format versions: 1 (sklstm 0.1.0 before the time context) stored every attribute of the
estimator, with its history as an object; 2 stores the listed fields only. Both are read.
"""

import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from . import __version__

FORMAT = "sklstm-estimator"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
_MODEL_MEMBER = "model.keras"


class InvalidFile(ValueError):
    """A file that is not a valid sklstm model; the message says what is wrong."""


@dataclass(frozen=True)
class SavedEstimator:
    """What a model file holds, decoded: everything but the network is plain data."""

    estimator: str
    format_version: int
    params: dict
    state: dict
    model_bytes: bytes | None


# -- saving ----------------------------------------------------------------------------------


def write_estimator(path, *, estimator, params, state, model=None):
    """Write a model file: the class name ``estimator``, its ``params`` and fitted ``state``
    (dicts of plain values, arrays, pandas indexes and offsets) and its Keras ``model``."""
    arrays = {}
    members = {
        "params.json": _json_bytes(_encode(params, arrays, "params")),
        "state.json": _json_bytes(_encode(state, arrays, "state")),
    }
    for member, array in arrays.items():
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        members[member] = buffer.getvalue()
    if model is not None:
        with tempfile.TemporaryDirectory() as tmp:
            model_path = os.path.join(tmp, _MODEL_MEMBER)
            model.save(model_path)
            with open(model_path, "rb") as f:
                members[_MODEL_MEMBER] = f.read()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": estimator,
        "sklstm_version": __version__,
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
        for name, data in members.items():
            archive.writestr(name, data)


def _json_bytes(value):
    return json.dumps(value, indent=1, allow_nan=True).encode()


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


def read_estimator(path, builders):
    """Decode the model file at ``path`` and rebuild its estimator.

    ``builders`` maps estimator class names to callables that take a :class:`SavedEstimator`
    and return the estimator, raising :class:`InvalidFile` when its content does not fit.
    Every problem with the file ends in one ValueError that names the file.
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
        saved = _decode_members(members)
        build = builders.get(saved.estimator)
        if build is None:
            raise InvalidFile(f"unknown estimator {saved.estimator!r}.")
        return build(saved)
    except InvalidFile as exc:
        raise ValueError(f"{where} is not a valid sklstm model file: {exc}") from None


def _decode_members(members):
    manifest = _json(members, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidFile("manifest.json does not describe an sklstm estimator.")
    version = manifest.get("format_version")
    if version not in READABLE_VERSIONS:
        raise InvalidFile(
            f"format version {version!r} is not supported by this sklstm (it reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}); upgrade sklstm to read it."
        )
    hashes = manifest.get("sha256")
    if not isinstance(hashes, dict) or set(hashes) != set(members) - {"manifest.json"}:
        raise InvalidFile("its members do not match the manifest (files added or removed).")
    for name, digest in hashes.items():
        if hashlib.sha256(members[name]).hexdigest() != digest:
            raise InvalidFile(f"{name} was altered after saving (checksum mismatch).")

    def array(member):
        if member not in members or not member.startswith("arrays/"):
            raise InvalidFile(f"array {member!r} is missing.")
        try:
            return np.load(io.BytesIO(members[member]), allow_pickle=False)
        except ValueError as exc:
            raise InvalidFile(f"{member} is not a plain NumPy array ({exc}).") from None

    params = _decode(_json(members, "params.json"), array)
    state = _decode(_json(members, "state.json"), array)
    if not isinstance(params, dict) or not isinstance(state, dict):
        raise InvalidFile("params.json and state.json must hold objects.")
    return SavedEstimator(
        estimator=str(manifest.get("estimator")),
        format_version=version,
        params=params,
        state=state,
        model_bytes=members.get(_MODEL_MEMBER),
    )


def _json(members, name):
    if name not in members:
        raise InvalidFile(f"{name} is missing.")
    try:
        return json.loads(members[name].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidFile(f"{name} is not valid JSON ({exc}).") from None


def _decode(value, array):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_decode(v, array) for v in value]
    if not isinstance(value, dict):
        raise InvalidFile(f"unexpected value {value!r}.")
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
        if kind == "object" and value["class"] == "History":
            # Format 1's history of the fitted rows: its fields, for the estimator to read.
            return _decode(value["state"], array)
    except InvalidFile:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidFile(f"cannot decode a value of type {kind!r} ({exc!r}).") from None
    raise InvalidFile(f"unknown value type {kind!r}.")


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
    raise InvalidFile(f"unknown index kind {kind!r}.")


def load_keras_model(data, custom_objects):
    """The Keras model in ``data`` (a ``.keras`` file's bytes), read in safe mode with the
    given custom layers only."""
    import keras

    with tempfile.TemporaryDirectory() as tmp:
        model_path = os.path.join(tmp, _MODEL_MEMBER)
        with open(model_path, "wb") as f:
            f.write(data)
        try:
            return keras.saving.load_model(
                model_path, custom_objects=custom_objects, compile=False, safe_mode=True
            )
        except Exception as exc:  # Keras raises many types for a bad file; all mean "invalid"
            raise InvalidFile(f"the Keras model cannot be loaded safely ({exc}).") from None
