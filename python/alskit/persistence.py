"""The model file: a safe, versioned, pickle-free archive of a model's state.

A model file is a zip archive holding ``model.json`` (format version, model class, config,
scalar state, and the name, dtype, shape and SHA-256 of every array) and one ``.npy`` file
per array, read with ``allow_pickle=False``. Reading executes no code from the file: every
array is checked against its recorded digest, dtype and shape, and against the names and
dtypes a :class:`Schema` allows for the model class, before use.

This module knows nothing of the models: the scorers declare their own state
(``_state``/``_restore`` in :mod:`alskit.als`, whose registry is the :class:`Schema` and which
implements ``alskit.load`` and ``save`` on :func:`write_model`/:func:`read_model`).
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import tokenize
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ._atomic import atomic_output

FORMAT = "alskit-model"
FORMAT_VERSION = 1
_ALLOWED_KINDS = {"f", "i", "U", "b"}  # numbers, integer/string ids, flags: never objects


class ModelFileError(ValueError):
    """A model file that is not a valid alskit model (wrong format, damaged, or tampered)."""


def _digest(array: NDArray[Any]) -> str:
    """SHA-256 of the array's bytes in C order, hashed in place (no copy of the data)."""
    flat = np.ascontiguousarray(array).reshape(-1)
    return hashlib.sha256(flat.view(np.uint8).data).hexdigest()


class Schema(Protocol):
    """What a model file of each model class may hold (the model registry implements it)."""

    def arrays(self, model: Any) -> Mapping[str, tuple[str, ...]]:
        """The arrays a file of ``model`` (the header's class name) may hold, each with its
        allowed dtypes (``"ids"``: int64 or unicode ids; ``"factor"``: :meth:`factor_dtype`;
        else a dtype string such as ``"<i4"``). Raises ModelFileError for an unknown class."""
        ...

    def factor_dtype(self, model: str, config: Any) -> np.dtype[Any]:
        """The factor dtype of a ``model`` file with this ``config``; ModelFileError if the
        config is invalid."""
        ...


@dataclass(frozen=True)
class Archive:
    """The contents of a model file, checked against its :class:`Schema`."""

    model: str
    config: dict[str, Any]
    state: dict[str, Any]
    arrays: dict[str, NDArray[Any]]


def write_model(
    path: str | PathLike[str],
    model: str,
    config: dict[str, Any],
    state: dict[str, Any],
    arrays: Mapping[str, NDArray[Any]],
) -> None:
    """Write a model file, atomically (see :mod:`alskit._atomic`: a unique temporary file
    renamed over the final name, so a failed or concurrent save never leaves a half-written
    model, and the file that is there is always one complete model)."""
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": model,
        "config": config,
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


def _read_header(archive: zipfile.ZipFile, schema: Schema) -> dict[str, Any]:
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
    schema.arrays(header.get("model"))  # an unknown class is refused here
    if not isinstance(header.get("arrays"), dict) or not isinstance(header.get("state"), dict):
        raise ModelFileError("model.json lacks its array table or state")
    return header


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


def _read_arrays(
    archive: zipfile.ZipFile, header: dict[str, Any], file_size: int, schema: Schema
) -> dict[str, Any]:
    allowed = schema.arrays(header["model"])
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
    if not isinstance(header.get("config"), dict):
        raise ModelFileError("model.json has no config")
    factor = schema.factor_dtype(header["model"], header["config"])
    return {
        key: _read_array(archive, key, spec, allowed[key], factor, file_size)
        for key, spec in header["arrays"].items()
    }


def read_model(path: str | PathLike[str], schema: Schema) -> Archive:
    """Read a model file written by :func:`write_model`; raises :class:`ModelFileError` (a
    ``ValueError``) for a damaged, tampered, foreign or too-new file.

    Memory stays bounded by the file: members must be stored uncompressed, declared sizes are
    checked against the file's size before anything is allocated, and each array is read
    straight into its final buffer. Array names and dtypes are checked against ``schema``.
    """
    if not isinstance(path, str | PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if not Path(path).exists():
        raise FileNotFoundError(errno.ENOENT, "model file not found", str(path))
    try:
        with open(path, "rb") as raw, zipfile.ZipFile(raw) as archive:
            file_size = os.fstat(raw.fileno()).st_size
            header = _read_header(archive, schema)
            arrays = _read_arrays(archive, header, file_size, schema)
    except ModelFileError:
        raise
    except _DAMAGE as e:
        raise unreadable(path, e) from e
    return Archive(header["model"], header["config"], header["state"], arrays)


def unreadable(path: str | PathLike[str], error: BaseException) -> ModelFileError:
    """The error for a file that reading (or assembling a model from it) failed on."""
    return ModelFileError(
        f"{path}: not a readable alskit model file ({type(error).__name__}: {error})"
    )


def state_count(state: dict[str, Any], key: str) -> int:
    """``state[key]`` as a non-negative int (ModelFileError naming it otherwise)."""
    value = state.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ModelFileError(f"state.{key} must be a non-negative int, got {value!r}")
    return value


def state_float(state: dict[str, Any], key: str) -> float:
    """``state[key]`` as a finite float (ModelFileError naming it otherwise)."""
    value = state.get(key)
    # JSON has NaN, Infinity and ints beyond float range: none is a usable (finite) number.
    number = value if isinstance(value, float) else math.nan
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**1023:
        number = float(value)
    if not math.isfinite(number):
        raise ModelFileError(f"state.{key} must be a finite number, got {value!r}")
    return number


def require_array(arrays: Mapping[str, NDArray[Any]], key: str) -> NDArray[Any]:
    """``arrays[key]``, or ModelFileError naming the missing array."""
    if key not in arrays:
        raise ModelFileError(f"array {key!r} is missing from the file")
    return arrays[key]
