"""The table machinery of the hostile-input tests: hostile inputs at every public entry point,
one table per entry point, each in a ``test_*_hostile`` module beside the module it attacks
(tests/data, tests/als, tests/persistence, tests/cli).

Each row is a call and what it must do:

- ``bad(...)``: raise one of the given exception types with a message matching a regex that
  names the problem (the argument, field, id, row or file);
- ``ok(...)``: work, and the result passes a check;
- ``either(...)``: work (passing the check) or raise as in ``bad``.

Whatever the row, the process never crashes and no other exception escapes. A message must
never be a raw pybind11 signature dump ("incompatible function arguments"). Rows marked
``xfail(strict=True, reason="BUG: ...")`` document bugs this suite found.

The ``test_core_errors``, ``test_persistence`` and ``test_cli`` modules already cover the
native core's argument checks and the common model-file and command-line errors; the hostile
tables work at the public Python API (Dataset builders and loaders, configs, scorer calls,
batch APIs, ``load``/``save``) and the command line's ``main``.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import alskit
from alskit import (
    BiasedMFScorer,
    Dataset,
    ImplicitMFScorer,
    TrainingOptions,
)

I64_MIN, I64_MAX = -(2**63), 2**63 - 1
PYBIND_DUMP = "incompatible function arguments"

# ---- the table machinery -------------------------------------------------------------------

Errors = type[BaseException] | tuple[type[BaseException], ...]


def _marks(bug: str | None) -> tuple[pytest.MarkDecorator, ...]:
    return () if bug is None else (pytest.mark.xfail(strict=True, reason=f"BUG: {bug}"),)


def bad(
    call: Callable[..., Any], errors: Errors, pattern: str, *, id: str, bug: str | None = None
) -> Any:
    """A row that must raise ``errors`` with a message matching ``pattern``."""
    return pytest.param(call, errors, pattern, None, id=id, marks=_marks(bug))


def ok(
    call: Callable[..., Any], check: Callable[[Any], bool], *, id: str, bug: str | None = None
) -> Any:
    """A row that must work, its result passing ``check``."""
    return pytest.param(call, None, None, check, id=id, marks=_marks(bug))


def either(
    call: Callable[..., Any],
    errors: Errors,
    pattern: str,
    check: Callable[[Any], bool],
    *,
    id: str,
    bug: str | None = None,
) -> Any:
    """A row that may work (passing ``check``) or raise as a ``bad`` row."""
    return pytest.param(call, errors, pattern, check, id=id, marks=_marks(bug))


def message_of(error: BaseException) -> str:
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])  # str(KeyError) adds quotes
    return str(error)


def assert_names(error: BaseException, pattern: str) -> None:
    text = message_of(error)
    assert PYBIND_DUMP not in text, f"raw pybind11 message: {text[:200]!r}"
    assert re.search(pattern, text), (
        f"{type(error).__name__} message {text[:300]!r} does not match {pattern!r}"
    )


def verify(
    arg: Any,
    call: Callable[[Any], Any],
    errors: Errors | None,
    pattern: str | None,
    check: Callable[[Any], bool] | None,
) -> None:
    if errors is None:
        assert check is not None
        result = call(arg)
        assert check(result), f"check failed on {result!r}"
        return
    assert pattern is not None
    try:
        result = call(arg)
    except errors as e:
        assert_names(e, pattern)
        return
    if check is None:
        pytest.fail(f"did not raise {errors}; returned {result!r}"[:500])
    assert check(result), f"check failed on {result!r}"


# ---- shared models and files ---------------------------------------------------------------

USERS = [1, 1, 2, 2, 3, 3, 4, 4, 4]
ITEMS = [10, 11, 10, 12, 11, 13, 10, 13, 14]
RATINGS = [4.0, 3.0, 5.0, 2.0, 1.0, 4.5, 3.5, 2.5, 5.0]


def _opts() -> TrainingOptions:
    return TrainingOptions(rng=7, threads=1, progress=False)


def _train(model: Any, data: Dataset) -> Any:
    model.train(data, _opts())
    return model


@dataclass
class Ctx:
    data: Dataset
    biased: BiasedMFScorer
    implicit: ImplicitMFScorer
    strmodel: BiasedMFScorer  # string ids, among them the item '1'
    loaded: Any  # ``biased`` after save and load
    model_file: Path
    raw: bytes  # the bytes of model_file
    tmp: Path
    counter: itertools.count  # type: ignore[type-arg]

    def path(self, name: str) -> Path:
        """A fresh path in the scratch directory."""
        return self.tmp / f"{next(self.counter)}-{name}"

    def write(self, name: str, content: bytes | str) -> Path:
        return self._write(self.path(name), content)

    def write_named(self, name: str, content: bytes | str) -> Path:
        """A file of exactly this name (in a fresh directory)."""
        directory = self.path("dir")
        directory.mkdir()
        return self._write(directory / name, content)

    @staticmethod
    def _write(p: Path, content: bytes | str) -> Path:
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        return p


def make_ctx(tmp_path_factory: pytest.TempPathFactory) -> Ctx:
    """The shared models and files (the ``ctx`` fixture of tests/conftest.py)."""
    data = Dataset.from_arrays(USERS, ITEMS, RATINGS)
    biased = _train(BiasedMFScorer(features=3, epochs=2), data)
    implicit = _train(ImplicitMFScorer(features=3, epochs=2), data)
    sdata = Dataset.from_arrays(["u", "u", "v"], ["1", "a", "a"], [1.0, 2.0, 3.0])
    strmodel = _train(BiasedMFScorer(features=2, epochs=1), sdata)
    tmp = tmp_path_factory.mktemp("hostile")
    model_file = tmp / "model.alskit"
    biased.save(model_file)
    return Ctx(
        data,
        biased,
        implicit,
        strmodel,
        alskit.load(model_file),
        model_file,
        model_file.read_bytes(),
        tmp,
        itertools.count(),
    )


# ---- model-file surgery --------------------------------------------------------------------


def zip_members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def header_edit(c: Ctx, edit: Callable[[dict[str, Any]], object]) -> Path:
    """The model file with ``edit`` applied to model.json (no checksum covers the header)."""
    members = zip_members(c.raw)
    header = json.loads(members["model.json"])
    edit(header)
    members["model.json"] = json.dumps(header).encode()
    return c.write("edited.alskit", zip_bytes(members))


def rehashed(c: Ctx, key: str, array: np.ndarray) -> Path:
    """The model file with one array replaced and its recorded dtype/shape/digest updated,
    as a deliberate tamperer would do."""
    import hashlib

    members = zip_members(c.raw)
    header = json.loads(members["model.json"])
    header["arrays"][key] = {
        "dtype": array.dtype.str,
        "shape": list(array.shape),
        "sha256": hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest(),
    }
    members["model.json"] = json.dumps(header).encode()
    members[f"{key}.npy"] = npy_bytes(array)
    return c.write("rehashed.alskit", zip_bytes(members))


def with_member(c: Ctx, name: str, content: bytes) -> Path:
    members = zip_members(c.raw)
    members[name] = content
    return c.write("member.alskit", zip_bytes(members))


def central_entry(raw: bytes, member: str) -> int:
    """Offset of ``member``'s central-directory record."""
    pos = raw.index(b"PK\x01\x02")
    while True:
        length = struct.unpack_from("<H", raw, pos + 28)[0]
        if raw[pos + 46 : pos + 46 + length] == member.encode():
            return pos
        pos = raw.index(b"PK\x01\x02", pos + 4)


def local_entry(raw: bytes, member: str) -> int:
    """Offset of ``member``'s local file header."""
    pos = 0
    while True:
        pos = raw.index(b"PK\x03\x04", pos)
        length = struct.unpack_from("<H", raw, pos + 26)[0]
        if raw[pos + 30 : pos + 30 + length] == member.encode():
            return pos
        pos += 4


def patched(c: Ctx, where: Callable[[bytes], int], fmt: str, value: int) -> Path:
    data = bytearray(c.raw)
    struct.pack_into(fmt, data, where(c.raw), value)
    return c.write("patched.alskit", bytes(data))


def cd(member: str, field: int) -> Callable[[bytes], int]:
    return lambda raw: central_entry(raw, member) + field


def lh(member: str, field: int) -> Callable[[bytes], int]:
    return lambda raw: local_entry(raw, member) + field


def eocd(field: int) -> Callable[[bytes], int]:
    return lambda raw: raw.rindex(b"PK\x05\x06") + field


def deep_json() -> bytes:
    return b"[" * 100_000 + b"]" * 100_000


def npy_header_only(header: bytes) -> bytes:
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def npy_with_shape(shape: str) -> bytes:
    """A float64 .npy file whose header declares ``shape`` but which holds 3 values."""
    raw = npy_bytes(np.zeros(3))
    length = struct.unpack_from("<H", raw, 8)[0]
    header = raw[10 : 10 + length].decode("latin1").replace("(3,)", shape)
    header = header.rstrip() + " " * (length - len(header.rstrip()) - 1) + "\n"
    assert len(header) == length
    return raw[:10] + header.encode("latin1") + raw[10 + length :]


# ---- shared by several sections ------------------------------------------------------------

CSV_HEAD = "user_id,item_id,rating\n"


def _truncated_gzip() -> bytes:
    """The first half of a gzipped CSV (its first line is intact, the stream is not)."""
    rows = "".join(f"{i},{i},3\n" for i in range(2000))
    whole = gzip.compress((CSV_HEAD + rows).encode())
    return whole[: len(whole) // 2]


def train_with(model: Any, data: Dataset | None = None, **options: Any) -> Any:
    data = data if data is not None else Dataset.from_arrays(USERS, ITEMS, RATINGS)
    model.train(data, TrainingOptions(**{"rng": 7, "threads": 1, "progress": False, **options}))
    return model
