"""Saving and loading trained models in a safe, versioned, pickle-free format.

A model file is a zip archive holding ``model.json`` (format version, model class, config,
scalar state, and the name, dtype, shape and SHA-256 of every array) and one ``.npy`` file
per array, read with ``allow_pickle=False``. Loading executes no code from the file: the
class is looked up in a fixed table, the config is validated by pydantic, and every array is
checked against its recorded digest, dtype and shape before use.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import tokenize
import zipfile
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._atomic import atomic_output
from .als import ALSBase, BiasedMFScorer, ImplicitMFScorer
from .bias import BiasModel
from .data import CSRMatrix, Vocabulary

FORMAT = "alskit-model"
FORMAT_VERSION = 1
_MODELS: dict[str, type[ALSBase]] = {
    "BiasedMFScorer": BiasedMFScorer,
    "ImplicitMFScorer": ImplicitMFScorer,
}
_ALLOWED_KINDS = {"f", "i", "U", "b"}  # numbers, integer/string ids, flags: never objects


class ModelFileError(ValueError):
    """A model file that is not a valid alskit model (wrong format, damaged, or tampered)."""


def _digest(array: NDArray[Any]) -> str:
    """SHA-256 of the array's bytes in C order, hashed in place (no copy of the data)."""
    flat = np.ascontiguousarray(array).reshape(-1)
    return hashlib.sha256(flat.view(np.uint8).data).hexdigest()


def _collect(model: ALSBase) -> tuple[dict[str, NDArray[Any]], dict[str, Any]]:
    arrays: dict[str, NDArray[Any]] = {
        "users": model.users_.ids(),
        "items": model.items_.ids(),
        "item_features": model.item_features_,
        "seen_indptr": model.user_items_.indptr,
        "seen_indices": model.user_items_.indices,
    }
    state: dict[str, Any] = {"trained_epochs": model.trained_epochs}
    if model.user_features_ is not None:
        arrays["user_features"] = model.user_features_
    if isinstance(model, BiasedMFScorer):
        arrays["user_biases"] = model.bias_.user_biases
        arrays["item_biases"] = model.bias_.item_biases
        state["global_bias"] = model.bias_.global_bias
        state["damping"] = list(model.bias_.damping)
    if isinstance(model, ImplicitMFScorer) and getattr(model, "OtOr_", None) is not None:
        arrays["OtOr"] = model.OtOr_
    return arrays, state


def save(model: ALSBase, path: str | PathLike[str]) -> None:
    """Write a trained model to ``path``, atomically (see :mod:`alskit._atomic`: a unique
    temporary file renamed over the final name, so a failed or concurrent save never leaves a
    half-written model, and the file that is there is always one complete model).

    Safe to call from any thread: while the model trains in another thread, the model as it
    was before that training started is written (never a mix of epochs).
    """
    if not isinstance(model, ALSBase):
        raise TypeError(f"cannot save a {type(model).__name__}: only alskit ALS models")
    with model._reading() as snapshot:
        _write(snapshot, path)


def _write(model: ALSBase, path: str | PathLike[str]) -> None:
    model._check_trained()
    name = type(model).__name__
    if name not in _MODELS or type(model) is not _MODELS[name]:
        raise TypeError(f"cannot save a {name}: only {sorted(_MODELS)} are supported")
    arrays, state = _collect(model)
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": name,
        "config": model.dump_config(),
        "state": state,
        "arrays": {
            key: {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": _digest(a)}
            for key, a in arrays.items()
        },
    }
    with (
        atomic_output(path) as stream,
        zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive,
    ):
        archive.writestr("model.json", json.dumps(header, indent=1))
        for key, array in arrays.items():
            with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)


def _read_header(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        header = json.loads(archive.read("model.json"))
    except KeyError as e:
        raise ModelFileError("not an alskit model file (no model.json)") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelFileError(f"model.json is not valid JSON: {e}") from e
    except RecursionError as e:  # e.g. 100000 nested arrays: no model header looks like that
        raise ModelFileError("model.json is nested too deeply to be a model header") from e
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError("not an alskit model file (wrong format tag)")
    version = header.get("version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"model file format version {version} is newer than this alskit supports "
            f"({FORMAT_VERSION}); upgrade alskit to load it"
        )
    if header.get("model") not in _MODELS:
        raise ModelFileError(f"unknown model class {header.get('model')!r}")
    if not isinstance(header.get("arrays"), dict) or not isinstance(header.get("state"), dict):
        raise ModelFileError("model.json lacks its array table or state")
    return header


# Arrays a model file may hold, and the dtypes each may have ("factor": the config's dtype).
_COMMON_ARRAYS = {
    "users": ("ids",),
    "items": ("ids",),
    "item_features": ("factor",),
    "user_features": ("factor",),
    "seen_indptr": ("<i4", "<i8"),
    "seen_indices": ("<i4",),
}
_MODEL_ARRAYS: dict[str, dict[str, tuple[str, ...]]] = {
    "BiasedMFScorer": {**_COMMON_ARRAYS, "user_biases": ("<f8",), "item_biases": ("<f8",)},
    "ImplicitMFScorer": {**_COMMON_ARRAYS, "OtOr": ("factor",)},
}
_CHUNK = 1 << 20  # bytes read at a time into the final array (no whole-member buffer)


def _describe_dtype(dtype: np.dtype[Any]) -> str:
    return f"{dtype.name} ({dtype.str})"


def _dtype_allowed(dtype: np.dtype[Any], allowed: tuple[str, ...], factor: np.dtype[Any]) -> bool:
    if dtype.kind not in _ALLOWED_KINDS or dtype.hasobject:
        return False
    for choice in allowed:
        if choice == "ids" and (dtype.str == "<i8" or (dtype.kind == "U" and dtype.str[0] == "<")):
            return True
        if choice == "factor" and dtype == factor:
            return True
        if dtype.str == choice:
            return True
    return False


def _expected_names(allowed: tuple[str, ...], factor: np.dtype[Any]) -> str:
    names = {"ids": "int64 or unicode ids", "factor": _describe_dtype(factor)}
    return " or ".join(names.get(a) or _describe_dtype(np.dtype(a)) for a in allowed)


def _read_array(
    archive: zipfile.ZipFile,
    key: str,
    spec: Any,
    allowed: tuple[str, ...],
    factor: np.dtype[Any],
    file_size: int,
) -> NDArray[Any]:
    if not isinstance(spec, dict) or not {"dtype", "shape", "sha256"} <= set(spec):
        raise ModelFileError(f"array {key!r}: malformed entry in model.json")
    name = f"{key}.npy"
    try:
        member = archive.getinfo(name)
    except KeyError as e:
        raise ModelFileError(f"array {key!r} is missing from the file") from e
    # save() writes uncompressed members only, so a member's declared size is bounded by the
    # file itself: a compressed one (a small file declaring gigabytes) is refused unread.
    if member.compress_type != zipfile.ZIP_STORED:
        raise ModelFileError(f"array {key!r} is a compressed zip member (alskit never writes one)")
    if member.file_size != member.compress_size or member.file_size > file_size:
        raise ModelFileError(f"array {key!r} declares {member.file_size} bytes: damaged file")
    with archive.open(member) as stream:
        # The .npy header is checked against model.json before any data is read, so a
        # header declaring an enormous shape is refused instead of allocated.
        try:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        except (ValueError, SyntaxError, tokenize.TokenError) as e:
            # numpy tokenizes and literal-evals the header dict: a damaged one can raise any.
            raise ModelFileError(f"array {key!r} has a malformed .npy header: {e}") from e
        if not _dtype_allowed(dtype, allowed, factor):
            if dtype.kind == "b" and "ids" in allowed:
                raise ModelFileError(f"array {key!r} holds booleans: ids are integers or strings")
            raise ModelFileError(
                f"array {key!r} has dtype {_describe_dtype(dtype)}, expected "
                f"{_expected_names(allowed, factor)}"
            )
        if dtype.str != spec["dtype"]:
            raise ModelFileError(
                f"array {key!r} has dtype {_describe_dtype(dtype)} but model.json records "
                f"{spec['dtype']!r}"
            )
        if fortran:
            raise ModelFileError(f"array {key!r} is stored in Fortran order (alskit writes C)")
        if list(shape) != spec["shape"]:
            raise ModelFileError(f"array {key!r} has shape {shape}, expected {spec['shape']}")
        nbytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
        if nbytes + stream.tell() != member.file_size:
            raise ModelFileError(f"array {key!r} is truncated or has trailing data")
        # Read straight into the final (writable: factors are updated in place when
        # training resumes) array, a chunk at a time: no second copy of the data.
        array: NDArray[Any] = np.empty(shape, dtype=dtype)
        target = array.reshape(-1).view(np.uint8)
        done = 0
        while done < nbytes:
            chunk = stream.read(min(_CHUNK, nbytes - done))
            if not chunk:
                raise ModelFileError(f"array {key!r} is truncated")
            target[done : done + len(chunk)] = np.frombuffer(chunk, np.uint8)
            done += len(chunk)
    if _digest(array) != spec["sha256"]:
        raise ModelFileError(f"array {key!r} does not match its checksum (file altered?)")
    return array


# What reading a damaged or hostile zip/npy can raise, besides our own checks.
_DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    RuntimeError,  # e.g. zipfile's "File is encrypted"
    EOFError,
    OSError,
    ValueError,
    KeyError,
    MemoryError,
)


def _factor_dtype(header: dict[str, Any]) -> np.dtype[Any]:
    cls = _MODELS[header["model"]]
    if not isinstance(header.get("config"), dict):
        raise ModelFileError("model.json has no config")
    try:
        return np.dtype(cls.validate_config(header["config"]).dtype)
    except (ValueError, TypeError) as e:
        raise ModelFileError(f"invalid model configuration: {e}") from e


def _read_arrays(
    archive: zipfile.ZipFile, header: dict[str, Any], file_size: int
) -> dict[str, Any]:
    allowed = _MODEL_ARRAYS[header["model"]]
    unknown = sorted(set(header["arrays"]) - set(allowed))
    if unknown:
        name = unknown[0]
        if f"{name}.npy" not in archive.namelist():
            raise ModelFileError(f"array {name!r} is missing from the file (no alskit array)")
        raise ModelFileError(f"unknown array {name!r} in model.json (not an alskit array)")
    members = {f"{key}.npy" for key in header["arrays"]} | {"model.json"}
    extra = sorted(set(archive.namelist()) - members)
    if extra:
        raise ModelFileError(f"unexpected member {extra[0]!r} in the model file")
    factor = _factor_dtype(header)
    return {
        key: _read_array(archive, key, spec, allowed[key], factor, file_size)
        for key, spec in header["arrays"].items()
    }


def load(path: str | PathLike[str]) -> ALSBase:
    """Read a model written by :func:`save`; raises :class:`ModelFileError` (a
    ``ValueError``) for a damaged, tampered, foreign or too-new file.

    Memory stays bounded by the file: members must be stored uncompressed, declared sizes are
    checked against the file's size before anything is allocated, and each array is read
    straight into its final buffer. Array names and dtypes are checked against what
    :func:`save` writes for the model class.
    """
    if not isinstance(path, str | PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if not Path(path).exists():
        raise FileNotFoundError(errno.ENOENT, "model file not found", str(path))
    try:
        with open(path, "rb") as raw, zipfile.ZipFile(raw) as archive:
            file_size = os.fstat(raw.fileno()).st_size
            header = _read_header(archive)
            arrays = _read_arrays(archive, header, file_size)
        return _build(header, arrays)
    except ModelFileError:
        raise
    except _DAMAGE as e:
        raise ModelFileError(
            f"{path}: not a readable alskit model file ({type(e).__name__}: {e})"
        ) from e


def _require(arrays: dict[str, NDArray[Any]], key: str) -> NDArray[Any]:
    if key not in arrays:
        raise ModelFileError(f"array {key!r} is missing from the file")
    return arrays[key]


def _build(header: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> ALSBase:
    """Assemble the model, turning any inconsistency of the file into a ModelFileError."""
    try:
        return _assemble(header, arrays)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"inconsistent model file: {type(e).__name__}: {e}") from e


def _state_count(state: dict[str, Any], key: str) -> int:
    value = state.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ModelFileError(f"state.{key} must be a non-negative int, got {value!r}")
    return value


def _state_float(state: dict[str, Any], key: str) -> float:
    value = state.get(key)
    # JSON has NaN, Infinity and ints beyond float range: none is a usable (finite) number.
    number = value if isinstance(value, float) else math.nan
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**1023:
        number = float(value)
    if not math.isfinite(number):
        raise ModelFileError(f"state.{key} must be a finite number, got {value!r}")
    return number


def _assemble(header: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> ALSBase:
    cls = _MODELS[header["model"]]
    if not isinstance(header.get("config"), dict):
        raise ModelFileError("model.json has no config")
    try:
        model = cls(config=header["config"])
    except (ValueError, TypeError) as e:
        raise ModelFileError(f"invalid model configuration: {e}") from e
    state = header["state"]
    users = Vocabulary(_require(arrays, "users"), "user", reorder=False)
    items = Vocabulary(_require(arrays, "items"), "item", reorder=False)
    k = model.config.embedding_size
    expected = (len(items), k)
    item_features = _require(arrays, "item_features")
    if item_features.shape != expected or item_features.dtype != np.dtype(model.config.dtype):
        raise ModelFileError(f"item_features must be {expected} {model.config.dtype}")
    user_features = arrays.get("user_features")
    # (user_embeddings=False models keep their user features until training finishes.)
    if user_features is None and model.config.user_embeddings is not False:
        raise ModelFileError(
            f"user_embeddings={model.config.user_embeddings!r} but the file has no user features"
        )
    if user_features is not None and (
        user_features.shape != (len(users), k) or user_features.dtype != item_features.dtype
    ):
        raise ModelFileError(f"user_features must be {(len(users), k)} {model.config.dtype}")
    seen = CSRMatrix(
        _require(arrays, "seen_indptr"),
        _require(arrays, "seen_indices"),
        None,
        (len(users), len(items)),
    )
    try:
        seen.validate()
    except (ValueError, TypeError) as e:
        raise ModelFileError(f"seen-items matrix is invalid: {e}") from e

    for key, array in arrays.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ModelFileError(f"array {key!r} contains non-finite values")
    model.users_, model.items_ = users, items
    model.item_features_ = np.ascontiguousarray(item_features)
    model.user_features_ = None if user_features is None else np.ascontiguousarray(user_features)
    model.user_items_ = seen
    model.trained_epochs = _state_count(state, "trained_epochs")
    if isinstance(model, BiasedMFScorer):
        ub, ib = _require(arrays, "user_biases"), _require(arrays, "item_biases")
        if ub.shape != (len(users),) or ib.shape != (len(items),):
            raise ModelFileError("bias arrays do not match the vocabularies")
        damping = state.get("damping")
        if not (
            isinstance(damping, list)
            and len(damping) == 2
            and all(
                isinstance(d, int | float) and not isinstance(d, bool) and np.isfinite(d) and d >= 0
                for d in damping
            )
        ):
            raise ModelFileError(f"state.damping must be a pair of numbers, got {damping!r}")
        model.bias_ = BiasModel(
            (float(damping[0]), float(damping[1])),
            _state_float(state, "global_bias"),
            ub.astype(np.float64),
            ib.astype(np.float64),
            items,
        )
    if isinstance(model, ImplicitMFScorer) and "OtOr" in arrays:
        if arrays["OtOr"].shape != (k, k):
            raise ModelFileError("OtOr must be k × k")
        model.OtOr_ = np.ascontiguousarray(arrays["OtOr"])
    return model
