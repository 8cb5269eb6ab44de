"""Hostile inputs at every public entry point, one table per entry point.

Each row is a call and what it must do:

- ``bad(...)``: raise one of the given exception types with a message matching a regex that
  names the problem (the argument, field, id, row or file);
- ``ok(...)``: work, and the result passes a check;
- ``either(...)``: work (passing the check) or raise as in ``bad``.

Whatever the row, the process never crashes and no other exception escapes. A message must
never be a raw pybind11 signature dump ("incompatible function arguments"). Rows marked
``xfail(strict=True, reason="BUG: ...")`` document bugs this suite found.

The ``test_core_errors``, ``test_persistence`` and ``test_cli`` modules already cover the
native core's argument checks and the common model-file and command-line errors; this module
works at the public Python API (Dataset builders and loaders, configs, scorer calls, batch
APIs, ``load``/``save``) and the command line's ``main``.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import re
import struct
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import alskit
from alskit import (
    BiasedMFScorer,
    Dataset,
    ImplicitMFConfig,
    ImplicitMFScorer,
    ItemList,
    ModelFileError,
    RecQuery,
    TrainingOptions,
    Vocabulary,
    cli,
    load_csv,
    load_interactions,
    load_movielens,
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


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Ctx:
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


# ---- 1. Dataset builders -------------------------------------------------------------------

FA = Dataset.from_arrays


def _int8_duplicates() -> Any:
    rows, cols = np.array([0, 0]), np.array([1, 1])
    return sp.coo_array((np.array([100, 100], dtype=np.int8), (rows, cols)), shape=(2, 2))


def _noncontiguous() -> Dataset:
    ids = np.arange(20)[::2]
    return FA(ids, ids[::-1], np.linspace(1, 5, 20)[::2])


def _readonly() -> Dataset:
    ids = np.arange(5)
    ratings = np.ones(5)
    ids.flags.writeable = False
    ratings.flags.writeable = False
    return FA(ids, ids, ratings)


DATASET_TABLE = [
    # non-finite and non-numeric ratings
    bad(
        lambda: FA([1, 2], [1, 2], [1.0, np.nan]),
        ValueError,
        r"rating at input row 1 is nan",
        id="nan-rating",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], [np.inf, 1.0]),
        ValueError,
        r"rating at input row 0 is inf",
        id="inf-rating",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], [1.0, -np.inf]),
        ValueError,
        r"input row 1 is -inf",
        id="neg-inf-rating",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], [1.0, None]), ValueError, r"input row 1 is nan", id="none-rating"
    ),
    bad(
        lambda: FA([1, 2], [1, 2], ["a", "b"]),
        TypeError,
        r"ratings must be numeric",
        id="str-ratings",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], np.array([1j, 2j])),
        TypeError,
        r"ratings must be numeric",
        id="complex-ratings",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], [[1.0], [2.0]]),
        ValueError,
        r"ratings must be one-dimensional",
        id="2d-ratings",
    ),
    ok(
        lambda: FA([1, 2], [1, 2], [-1.0, -2.0]),
        lambda d: d.ratings.tolist() == [-1.0, -2.0],
        id="negative-ratings-allowed",
    ),
    # lengths, shapes, emptiness
    bad(
        lambda: FA([1, 2, 3], [1, 2]),
        ValueError,
        r"user_ids has 3 entries but item_ids has 2",
        id="len-ids",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], [1.0]),
        ValueError,
        r"has 2 entries but ratings has 1",
        id="len-ratings",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], timestamps=[1]),
        ValueError,
        r"timestamps has 1",
        id="len-timestamps",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], timestamps=[[1], [2]]),
        ValueError,
        r"timestamps must be one-dimensional",
        id="2d-timestamps",
    ),
    bad(lambda: FA([], []), ValueError, r"no interactions", id="empty-lists"),
    bad(
        lambda: FA(np.array([], np.int64), np.array([], np.int64), np.array([])),
        ValueError,
        r"no interactions",
        id="empty-arrays",
    ),
    bad(
        lambda: FA(np.zeros((2, 2), int), [1, 2]),
        ValueError,
        r"user ids must be one-dimensional, got shape \(2, 2\)",
        id="2d-ids",
    ),
    bad(lambda: FA(5, [1]), TypeError, r"user ids must be array-like", id="scalar-ids"),
    bad(lambda: FA(None, [1]), TypeError, r"user ids must be array-like", id="none-ids"),
    bad(
        lambda: FA("abc", [1]),
        TypeError,
        r"user ids must be an array of ids, not a single str",
        id="str-as-ids",
    ),
    # id types
    bad(
        lambda: FA([1, "a"], [1, 2]),
        TypeError,
        r"user ids mix integer and string",
        id="mixed-user-ids",
    ),
    bad(
        lambda: FA([1, 2], ["x", 3]),
        TypeError,
        r"item ids mix integer and string",
        id="mixed-item-ids",
    ),
    bad(
        lambda: FA([[1], [2]], [1, 2]),
        TypeError,
        r"user ids must be hashable scalars, found list",
        id="list-ids",
    ),
    bad(
        lambda: FA([[1], [2, 3]], [1, 2]),
        TypeError,
        r"user ids must be hashable.*list",
        id="ragged-list-ids",
    ),
    bad(
        lambda: FA([{1: 2}, {3: 4}], [1, 2]),
        TypeError,
        r"user ids must be hashable.*dict",
        id="dict-ids",
    ),
    bad(
        lambda: FA([1.5, 2.0], [1, 2]),
        TypeError,
        r"user ids must be integers or strings; got non-integral float.*1\.5.*position 0",
        id="fractional-float-ids",
    ),
    bad(
        lambda: FA([1.0, np.nan], [1, 2]),
        ValueError,
        r"user ids contain a missing or non-finite value \(nan\) at position 1",
        id="nan-float-id",
    ),
    bad(
        lambda: FA([1, None], [1, 2]),
        ValueError,
        r"user ids contain a missing value \(None\) at position 1",
        id="none-id",
    ),
    bad(
        lambda: FA(["a", np.nan], [1, 2]),
        ValueError,
        r"user ids contain a missing value",
        id="nan-among-str-ids",
    ),
    bad(
        lambda: FA([True, False], [1, 2]),
        TypeError,
        r"user ids must be integers or strings, not booleans",
        id="bool-ids",
    ),
    bad(
        lambda: FA([b"a", b"b"], [1, 2]),
        TypeError,
        r"user ids must be integers or strings, not bytes",
        id="bytes-ids",
    ),
    bad(
        lambda: FA(np.array([1j, 2j]), [1, 2]),
        TypeError,
        r"user ids must be integers or strings, not complex",
        id="complex-ids",
    ),
    bad(
        lambda: FA(np.array(["2020-01-01"], dtype="datetime64[D]"), [1]),
        TypeError,
        r"user ids must be integers or strings, not datetime64",
        id="datetime-ids",
    ),
    bad(
        lambda: FA(np.array([2**64 - 1, 1], dtype=np.uint64), [1, 2]),
        ValueError,
        r"user ids contain 18446744073709551615, beyond the int64 range",
        id="uint64-beyond-int64",
    ),
    bad(
        lambda: FA([-(2**63) - 1, 1], [1, 2]),
        ValueError,
        r"user ids contain integers beyond the int64 range",
        id="python-int-below-int64",
    ),
    bad(
        lambda: FA([2**63, 1], [1, 2]),
        ValueError,
        r"user ids .*9223372036854775808.*int64",
        id="python-int-above-int64",
    ),
    bad(
        lambda: FA({1, 2}, [1, 2]),
        TypeError,
        r"user ids.*(set|order)",
        id="set-ids",
    ),
    either(
        lambda: FA(["a", "a\x00"], [1, 1], [1.0, 2.0]),
        ValueError,
        r"\\x00|NUL|null character",
        lambda d: d.user_count == 2,
        id="ids-differing-by-trailing-nul",
    ),
    # duplicates
    bad(
        lambda: FA([1, 1], [2, 2], [1.0, 2.0]),
        ValueError,
        r"1 duplicate \(user, item\) pairs.*\(user 1, item 2\) at input row 0 and input row 1",
        id="duplicates-default-error",
    ),
    bad(
        lambda: FA([1, 1], [2, 2], duplicates="first"),
        ValueError,
        r"duplicates must be 'error', 'last' or 'sum', not 'first'",
        id="duplicates-bad-policy",
    ),
    ok(
        lambda: FA([1, 1], [2, 2], [1.0, 2.0], duplicates="last"),
        lambda d: d.ratings.tolist() == [2.0],
        id="duplicates-last",
    ),
    ok(
        lambda: FA([1, 1], [2, 2], [1.0, 2.0], duplicates="sum"),
        lambda d: d.ratings.tolist() == [3.0],
        id="duplicates-sum",
    ),
    # given vocabularies
    bad(
        lambda: FA([1, 2], [1, 2], users=[1]),
        ValueError,
        r"user id 2 at input row 1 is not in the given users",
        id="user-not-in-vocab",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], items=["a", "b"]),
        ValueError,
        r"item id 1 at input row 0 is not in the given items",
        id="item-not-in-vocab",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], users=5),
        TypeError,
        r"users",
        id="vocab-not-array",
    ),
    bad(
        lambda: FA([1], [1], users=Vocabulary([1, 1], reorder=False)),
        ValueError,
        r"duplicate id 1",
        id="vocab-with-duplicates",
    ),
    # odd but valid array layouts and dtypes
    ok(
        lambda: FA([I64_MAX, I64_MIN, I64_MAX], [I64_MIN, I64_MAX, 0], [1.0, 2.0, 3.0]),
        lambda d: (
            d.users.ids().tolist() == [I64_MIN, I64_MAX]
            and d.user_row(I64_MAX).ids().tolist() == [I64_MIN, 0]
            and d.interactions_df()["user_id"].tolist() == [I64_MIN, I64_MAX, I64_MAX]
        ),
        id="int64-extreme-ids-round-trip",
    ),
    ok(
        lambda: FA(np.array([I64_MAX], np.uint64), np.array([I64_MIN])),
        lambda d: d.users.ids().tolist() == [I64_MAX],
        id="uint64-at-int64-max",
    ),
    ok(_noncontiguous, lambda d: d.interaction_count == 10, id="non-contiguous-arrays"),
    ok(_readonly, lambda d: d.interaction_count == 5, id="read-only-arrays"),
    ok(
        lambda: FA(np.arange(5, dtype=">i8"), np.arange(5, dtype=">i4"), np.ones(5, dtype=">f8")),
        lambda d: d.users.ids().tolist() == [0, 1, 2, 3, 4] and d.ratings.dtype == np.float64,
        id="big-endian-arrays",
    ),
    ok(
        lambda: FA(
            np.arange(5, dtype=np.int8), np.arange(5, dtype=np.uint8), np.ones(5, dtype=np.float16)
        ),
        lambda d: d.users.ids().dtype == np.int64,
        id="small-int-and-float16-arrays",
    ),
    ok(
        lambda: FA([1.0, 2.0], [3.0, 4.0]),
        lambda d: d.users.ids().tolist() == [1, 2],
        id="integral-float-ids",
    ),
    ok(
        lambda: FA((u for u in [3, 1]), range(2)),
        lambda d: d.users.ids().tolist() == [1, 3],
        id="generator-ids",
    ),
    ok(
        lambda: FA(["", " "], ["x", "x"]),
        lambda d: d.users.ids().tolist() == ["", " "],
        id="empty-and-blank-string-ids",
    ),
    ok(
        lambda: FA([7], [9], [3.0]),
        lambda d: (d.user_count, d.item_count) == (1, 1),
        id="single-interaction",
    ),
    # the low-level constructor
    bad(
        lambda: Dataset(Vocabulary([1]), Vocabulary([1]), [0.5], [0]),
        TypeError,
        r"user_nums must be integers",
        id="ctor-float-nums",
    ),
    bad(
        lambda: Dataset(Vocabulary([1]), Vocabulary([1]), [0], [1]),
        ValueError,
        r"item_nums\[0\] = 1 outside \[0, 1\)",
        id="ctor-num-out-of-range",
    ),
    bad(
        lambda: Dataset(Vocabulary([1]), Vocabulary([1]), [-1], [0]),
        ValueError,
        r"user_nums\[0\] = -1",
        id="ctor-negative-num",
    ),
    # from_interactions_df
    bad(
        lambda: Dataset.from_interactions_df(pd.DataFrame({"u": [1], "item_id": [1]})),
        ValueError,
        r"column 'user_id' not found; available columns: \['u', 'item_id'\]",
        id="df-missing-user-col",
    ),
    bad(
        lambda: Dataset.from_interactions_df(
            pd.DataFrame({"user_id": [1], "item_id": [1]}), rating_col="score"
        ),
        ValueError,
        r"column 'score' not found",
        id="df-missing-rating-col",
    ),
    bad(
        lambda: Dataset.from_interactions_df(
            pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2], "rating": [1.0, np.nan]})
        ),
        ValueError,
        r"rating at input row 1 is nan",
        id="df-nan-rating",
    ),
    bad(
        lambda: Dataset.from_interactions_df(
            pd.DataFrame({"user_id": pd.array([1, None], dtype="Int64"), "item_id": [1, 2]})
        ),
        ValueError,
        r"user ids contain a missing.*position 1",
        id="df-na-user-id",
    ),
    bad(
        lambda: Dataset.from_interactions_df(pd.DataFrame({"user_id": [], "item_id": []})),
        ValueError,
        r"no interactions",
        id="df-empty",
    ),
    bad(
        lambda: Dataset.from_interactions_df([[1, 2, 3.0]]),
        TypeError,
        r"DataFrame",
        id="df-not-a-dataframe",
    ),
    # from_scipy
    bad(
        lambda: Dataset.from_scipy(np.eye(2)),
        TypeError,
        r"expected a scipy sparse matrix, got ndarray",
        id="scipy-dense",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array((2, 2))),
        ValueError,
        r"no interactions",
        id="scipy-empty",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array((0, 0))),
        ValueError,
        r"no interactions",
        id="scipy-0x0",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array(np.array([[np.nan, 1.0], [0.0, 2.0]]))),
        ValueError,
        r"rating at entry \(0, 0\) is nan",
        id="scipy-nan",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array(np.array([[1j, 0], [0, 1]]))),
        TypeError,
        r"matrix values must be numeric",
        id="scipy-complex",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array(np.eye(2)), users=[1, 2, 3]),
        ValueError,
        r"users has 3 ids but the matrix has 2 users",
        id="scipy-users-length",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array(np.eye(2)), items=["a", "a"]),
        ValueError,
        r"duplicate id 'a'",
        id="scipy-duplicate-item-ids",
    ),
    ok(
        lambda: Dataset.from_scipy(_int8_duplicates()),
        lambda d: d.ratings.tolist() == [200.0],
        id="scipy-int8-duplicates-summed",
    ),
    ok(
        lambda: Dataset.from_scipy(
            sp.coo_array((np.ones(2, dtype=bool), (np.zeros(2, int), np.ones(2, int))), (2, 2))
        ),
        lambda d: d.ratings.tolist() == [2.0],
        id="scipy-bool-duplicates-summed",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array(np.eye(2)), users=5),
        TypeError,
        r"users must be array-like, not int",
        id="scipy-vocab-not-array",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), DATASET_TABLE)
def test_dataset_builders(call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(None, lambda _: call(), errors, pattern, check)


# ---- 2. loaders ----------------------------------------------------------------------------

CSV_HEAD = "user_id,item_id,rating\n"


def _truncated_gzip() -> bytes:
    """The first half of a gzipped CSV (its first line is intact, the stream is not)."""
    rows = "".join(f"{i},{i},3\n" for i in range(2000))
    whole = gzip.compress((CSV_HEAD + rows).encode())
    return whole[: len(whole) // 2]


LOADER_TABLE = [
    bad(lambda c: load_csv(c.tmp / "nope.csv"), FileNotFoundError, r"nope\.csv", id="missing-file"),
    bad(
        lambda c: load_csv(c.tmp / "no-dir" / "r.csv"),
        FileNotFoundError,
        r"no-dir",
        id="missing-directory",
    ),
    bad(lambda c: load_csv(c.tmp), IsADirectoryError, r"directory", id="directory"),
    bad(
        lambda c: load_interactions(c.tmp),
        IsADirectoryError,
        r"directory",
        id="interactions-directory",
    ),
    bad(
        lambda c: load_csv(c.write("e.csv", "")),
        ValueError,
        r"e\.csv: no interactions",
        id="empty-file",
    ),
    bad(
        lambda c: load_csv(c.write("h.csv", CSV_HEAD)),
        ValueError,
        r"h\.csv: no interactions",
        id="header-only",
    ),
    bad(
        lambda c: load_csv(c.write("a.csv", CSV_HEAD + "1,2,x\n")),
        ValueError,
        r"line 2: column 'rating' has non-numeric value 'x'",
        id="non-numeric-rating",
    ),
    bad(
        lambda c: load_csv(c.write("n.csv", CSV_HEAD + "1,2,3\n1,3,nan\n")),
        ValueError,
        r"n\.csv: rating at line 3 is nan",
        id="nan-rating",
    ),
    bad(
        lambda c: load_csv(c.write("i.csv", CSV_HEAD + "1,2,3\n1,3,-inf\n")),
        ValueError,
        r"rating at line 3 is -inf",
        id="inf-rating",
    ),
    bad(
        lambda c: load_csv(c.write("b.csv", CSV_HEAD + "1,2,\n")),
        ValueError,
        r"line 2: column 'rating' is empty",
        id="empty-rating",
    ),
    bad(
        lambda c: load_csv(c.write("c.csv", CSV_HEAD + ",2,1\n")),
        ValueError,
        r"line 2: column 'user_id' is empty",
        id="empty-id",
    ),
    bad(
        lambda c: load_csv(c.write("g.csv", CSV_HEAD + "1,2,1\n1,2,3,4,5\n")),
        ValueError,
        r"g\.csv: malformed",
        id="ragged-rows",
    ),
    bad(
        lambda c: load_csv(c.write("f.csv", CSV_HEAD + "1.5,2,1\n")),
        ValueError,
        r"line 2: column 'user_id' has non-integer id",
        id="fractional-id",
    ),
    bad(
        lambda c: load_csv(c.write("k.csv", CSV_HEAD + "9223372036854775808,2,1\n")),
        ValueError,
        r"user ids contain 9223372036854775808, beyond the int64 range",
        id="id-above-int64",
    ),
    ok(
        lambda c: load_csv(
            c.write("x.csv", CSV_HEAD + f"{I64_MAX},{I64_MIN},1\n{I64_MIN},{I64_MAX},2\n")
        ),
        lambda d: (
            d.users.ids().tolist() == [I64_MIN, I64_MAX]
            and d.items.ids().tolist() == [I64_MIN, I64_MAX]
        ),
        id="int64-extreme-ids",
    ),
    bad(
        lambda c: load_csv(c.write("d.csv", CSV_HEAD + "1,2,3\n1,2,4\n")),
        ValueError,
        r"duplicate \(user, item\) pairs.*line 2 and line 3",
        id="duplicate-rows",
    ),
    bad(
        lambda c: load_csv(c.write("p.csv", CSV_HEAD + "1,2,3\n"), duplicates="x"),
        ValueError,
        r"duplicates must be",
        id="bad-duplicates-policy",
    ),
    bad(
        lambda c: load_csv(c.write("bin.csv", bytes(range(256)) * 8)),
        ValueError,
        r"bin\.csv",
        id="binary-garbage",
    ),
    bad(
        lambda c: load_csv(c.write("l.csv.gz", b"\x1f\x8b\x08garbage")),
        ValueError,
        r"l\.csv\.gz",
        id="corrupt-gzip",
    ),
    bad(
        lambda c: load_csv(c.write("t.csv.gz", _truncated_gzip())),
        ValueError,
        r"t\.csv\.gz",
        id="truncated-gzip",
    ),
    bad(
        lambda c: load_csv(c.write("s.csv", CSV_HEAD + "1,2,3\n"), sep=5),
        TypeError,
        r"sep",
        id="separator-not-a-string",
    ),
    bad(
        lambda c: load_csv(c.write("s.csv", CSV_HEAD + "1,2,3\n"), sep=""),
        ValueError,
        r"sep \(the field separator\) must not be empty",
        id="separator-empty",
    ),
    bad(
        lambda c: load_interactions(c.write("n.parquet", b"not parquet")),
        (ValueError, ImportError),
        r"n\.parquet",
        id="garbage-parquet",
    ),
    bad(
        lambda c: load_movielens(c.write_named("u.data", "1,2,3\n")),
        ValueError,
        r"not a MovieLens u\.data file",
        id="movielens-wrong-layout",
    ),
    bad(
        lambda c: load_movielens(c.write_named("x.data", "1\t2\t3\t4\n")),
        ValueError,
        r"not a MovieLens ratings file name 'x\.data'",
        id="movielens-wrong-name",
    ),
    bad(lambda c: load_csv(None), TypeError, r"NoneType", id="path-none"),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), LOADER_TABLE)
def test_loaders(ctx: Ctx, call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(ctx, call, errors, pattern, check)


# ---- 3. configs ----------------------------------------------------------------------------

CONFIG_TABLE = [
    bad(
        lambda: BiasedMFScorer(embedding_size=0),
        ValueError,
        r"embedding_size",
        id="embedding-size-0",
    ),
    bad(
        lambda: BiasedMFScorer(features=-1),
        ValueError,
        r"features|embedding_size",
        id="features-negative",
    ),
    bad(
        lambda: BiasedMFScorer(features=1.5),
        ValueError,
        r"features|embedding_size",
        id="features-fractional",
    ),
    bad(
        lambda: BiasedMFScorer(features="a"),
        ValueError,
        r"features|embedding_size",
        id="features-str",
    ),
    bad(
        lambda: BiasedMFScorer(features=True),
        ValueError,
        r"embedding_size must be an integer, not a boolean",
        id="features-bool",
    ),
    bad(
        lambda: BiasedMFScorer(features=None),
        ValueError,
        r"features|embedding_size",
        id="features-none",
    ),
    bad(lambda: BiasedMFScorer(epochs=0), ValueError, r"epochs", id="epochs-0"),
    bad(lambda: BiasedMFScorer(epochs=-3), ValueError, r"epochs", id="epochs-negative"),
    bad(
        lambda: BiasedMFScorer(regularization=-0.1),
        ValueError,
        r"regularization must be finite and non-negative",
        id="reg-negative",
    ),
    bad(
        lambda: BiasedMFScorer(regularization=float("nan")),
        ValueError,
        r"regularization must be finite",
        id="reg-nan",
    ),
    bad(
        lambda: BiasedMFScorer(regularization=float("inf")),
        ValueError,
        r"regularization must be finite",
        id="reg-inf",
    ),
    bad(
        lambda: BiasedMFScorer(regularization={"user": 1.0, "item": -1.0}),
        ValueError,
        r"regularization must be finite and non-negative, got -1",
        id="reg-pair-negative",
    ),
    bad(
        lambda: BiasedMFScorer(regularization={"user": 1.0}),
        ValueError,
        r"regularization",
        id="reg-pair-incomplete",
    ),
    bad(
        lambda: BiasedMFScorer(damping=-1),
        ValueError,
        r"damping must be finite and non-negative",
        id="damping-negative",
    ),
    bad(
        lambda: BiasedMFScorer(damping=float("nan")),
        ValueError,
        r"damping must be finite",
        id="damping-nan",
    ),
    bad(
        lambda: BiasedMFScorer(damping={"users": 1.0}), ValueError, r"damping", id="damping-bad-key"
    ),
    bad(lambda: BiasedMFScorer(dtype="float16"), ValueError, r"dtype", id="dtype-float16"),
    bad(
        lambda: BiasedMFScorer(user_embeddings="sometimes"),
        ValueError,
        r"user_embeddings",
        id="user-embeddings-bad",
    ),
    bad(lambda: BiasedMFScorer(featurs=3), ValueError, r"featurs", id="misspelt-option"),
    bad(lambda: ImplicitMFScorer(weight=-1), ValueError, r"weight", id="weight-negative"),
    bad(lambda: ImplicitMFScorer(weight=float("nan")), ValueError, r"weight", id="weight-nan"),
    bad(lambda: ImplicitMFScorer(weight=float("inf")), ValueError, r"weight", id="weight-inf"),
    bad(lambda: ImplicitMFScorer(solver="lu"), ValueError, r"solver", id="solver-unknown"),
    bad(lambda: ImplicitMFScorer(cg_steps=0), ValueError, r"cg_steps", id="cg-steps-0"),
    bad(
        lambda: ImplicitMFScorer(cg_steps=True),
        ValueError,
        r"cg_steps must be an integer",
        id="cg-steps-bool",
    ),
    bad(
        lambda: ImplicitMFScorer(damping=1.0), ValueError, r"damping", id="implicit-has-no-damping"
    ),
    bad(
        lambda: BiasedMFScorer(config={}, features=3),
        TypeError,
        r"either config= or keyword options",
        id="config-and-kwargs",
    ),
    bad(
        lambda: BiasedMFScorer(config=ImplicitMFConfig()),
        TypeError,
        r"config must be a BiasedMFConfig or a dict, got ImplicitMFConfig",
        id="config-wrong-class",
    ),
    bad(lambda: BiasedMFScorer(config=5), TypeError, r"config must be", id="config-int"),
    bad(
        lambda: BiasedMFScorer(config={"features": 0}),
        ValueError,
        r"features|embedding_size",
        id="config-dict-invalid",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), CONFIG_TABLE)
def test_configs(call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(None, lambda _: call(), errors, pattern, check)


# ---- 4. training ---------------------------------------------------------------------------


def train_with(model: Any, data: Dataset | None = None, **options: Any) -> Any:
    data = data if data is not None else Dataset.from_arrays(USERS, ITEMS, RATINGS)
    model.train(data, TrainingOptions(**{"rng": 7, "threads": 1, "progress": False, **options}))
    return model


def _small() -> BiasedMFScorer:
    return BiasedMFScorer(features=2, epochs=1)


TRAINING_TABLE = [
    bad(
        lambda: train_with(_small(), threads=-1),
        ValueError,
        r"threads must be >= 0",
        id="threads-negative",
    ),
    bad(
        lambda: train_with(_small(), threads="x"),
        TypeError,
        r"threads must be an int or None, got str",
        id="threads-str",
    ),
    bad(
        lambda: train_with(_small(), threads=1.5),
        TypeError,
        r"threads must be an int",
        id="threads-float",
    ),
    bad(
        lambda: train_with(_small(), threads=True),
        TypeError,
        r"threads must be an int",
        id="threads-bool",
    ),
    either(
        lambda: train_with(_small(), threads=10**9),
        ValueError,
        r"threads",
        lambda m: m.trained_epochs == 1,
        id="threads-a-billion",
    ),
    bad(
        lambda: train_with(_small(), threads=2**31),
        (ValueError, TypeError),
        r"threads",
        id="threads-beyond-int32",
    ),
    bad(
        lambda: train_with(_small(), rng="x"),
        TypeError,
        r"rng must be an int seed, SeedSequence, Generator or None, got str",
        id="rng-str",
    ),
    bad(lambda: train_with(_small(), rng=1.5), TypeError, r"rng must be", id="rng-float"),
    bad(lambda: train_with(_small(), rng=True), TypeError, r"rng must be", id="rng-bool"),
    bad(lambda: train_with(_small(), rng=[1, 2]), TypeError, r"rng must be", id="rng-list"),
    bad(
        lambda: train_with(_small(), rng=-1),
        ValueError,
        r"rng|seed",
        id="rng-negative",
    ),
    bad(
        lambda: _small().train([(1, 2, 3.0)]),
        TypeError,
        r"Dataset",
        id="data-not-a-dataset",
    ),
    bad(
        lambda: _small().train(Dataset.from_arrays(USERS, ITEMS, RATINGS), {"rng": 1}),
        TypeError,
        r"TrainingOptions",
        id="options-dict",
    ),
    bad(
        lambda: train_with(_small(), Dataset.from_arrays([1, 2], [1, 2])),
        ValueError,
        r"needs ratings",
        id="biased-without-ratings",
    ),
    bad(
        lambda: train_with(
            ImplicitMFScorer(features=2, epochs=1, use_ratings=True),
            Dataset.from_arrays([1, 2], [1, 2]),
        ),
        ValueError,
        r"use_ratings=True but the data has no 'rating' field",
        id="implicit-use-ratings-without-ratings",
    ),
    bad(
        lambda: train_with(
            BiasedMFScorer(features=2, epochs=1, dtype="float32"),
            Dataset.from_arrays([1, 2, 1, 3], [1, 2, 2, 1], [1e39, 1.0, 2.0, 3.0]),
        ),
        ValueError,
        r"rating",
        id="ratings-beyond-float32",
    ),
    ok(
        lambda: train_with(
            BiasedMFScorer(features=2, epochs=1, regularization=0),
            Dataset.from_arrays([1, 2, 1], [1, 1, 2], [1.0, 2.0, 3.0]),
        ),
        lambda m: np.isfinite(m.predict([1], [1])).all(),
        id="zero-regularization",
    ),
    ok(
        lambda: train_with(
            BiasedMFScorer(features=8, epochs=2), Dataset.from_arrays([1, 2], [1, 2], [1.0, 2.0])
        ),
        lambda m: np.isfinite(m.predict([1, 2], [1, 2])).all(),
        id="more-features-than-users-and-items",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), TRAINING_TABLE)
def test_training(call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(None, lambda _: call(), errors, pattern, check)


@pytest.mark.parametrize("size", [10**12, 2**31 - 1, 2**31, 10**30])
@pytest.mark.parametrize("cls", [BiasedMFScorer, ImplicitMFScorer])
def test_absurd_embedding_size_refused_before_allocating(cls: Any, size: int) -> None:
    """Accepted by the config, refused at train time at once with a message naming it (the
    factors alone would need terabytes: nothing may try to allocate them)."""
    model = cls(features=size, epochs=1)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=rf"embedding_size={size}\b") as info:
        train_with(model)
    assert time.perf_counter() - start < 2.0
    assert "GiB" in str(info.value)
    assert getattr(model, "item_features_", None) is None


@pytest.mark.parametrize("cls", [BiasedMFScorer, ImplicitMFScorer])
@pytest.mark.parametrize(
    ("users", "items"),
    [
        pytest.param([7, 7, 7], [1, 2, 3], id="single-user"),
        pytest.param([1, 2, 3], [9, 9, 9], id="single-item"),
        pytest.param([1], [9], id="single-interaction"),
        pytest.param(["u"], ["i"], id="single-string-interaction"),
        pytest.param([I64_MIN, I64_MAX], [I64_MAX, I64_MIN], id="int64-extremes"),
    ],
)
def test_degenerate_datasets_train_and_score(
    cls: Any, users: list[Any], items: list[Any], tmp_path: Path
) -> None:
    ratings = [1.0, 2.0, 5.0][: len(users)]
    data = Dataset.from_arrays(users, items, ratings)
    model = train_with(cls(features=3, epochs=2), data)
    unknown = "zz-unknown" if isinstance(items[0], str) else 12345
    scores = model(users[0], [items[0], unknown]).scores()
    assert np.isfinite(scores[0]) and np.isnan(scores[1])
    assert np.isnan(model(unknown, [items[0]]).scores()).all()
    recs = model.recommend(n=5)
    assert len(recs) <= data.item_count * data.user_count
    everything = model.recommend(n=5, exclude_seen=False)
    assert len(everything) == data.user_count * min(5, data.item_count)
    assert np.isfinite(everything.scores).all()
    assert np.isfinite(model.predict([users[0]], [items[0]])).all()
    similar = model.similar_items([items[0]], n=3)
    assert len(similar) == min(3, data.item_count - 1)
    embeddings, _ = model.fold_in_users([ItemList([items[0]], rating=[ratings[0]])])
    assert embeddings.shape == (1, 3) and np.isfinite(embeddings).all()
    model.save(tmp_path / "m.alskit")
    again = alskit.load(tmp_path / "m.alskit")
    assert np.array_equal(again(users[0], [items[0]]).scores(), scores[:1])


# ---- 5. scorer calls -----------------------------------------------------------------------


def _scores(result: ItemList) -> list[float]:
    scores = result.scores()
    assert scores is not None
    return scores.tolist()


def _all_nan(result: ItemList) -> bool:
    return bool(np.isnan(_scores(result)).all())


def _finite_count(n: int) -> Callable[[ItemList], bool]:
    return lambda r: int(np.isfinite(_scores(r)).sum()) == n


SCORER_TABLE = [
    # unknown ids: NaN, never an error
    ok(lambda c: c.biased(999, [10, 11]), _all_nan, id="unknown-user"),
    ok(lambda c: c.implicit(999, [10, 11]), _all_nan, id="implicit-unknown-user"),
    ok(
        lambda c: c.biased(1, [10, 999]),
        lambda r: np.isfinite(_scores(r)[0]) and np.isnan(_scores(r)[1]),
        id="unknown-item",
    ),
    ok(lambda c: c.biased("1", [10]), _all_nan, id="str-user-in-int-model"),
    ok(lambda c: c.biased(2**70, [10]), _all_nan, id="user-beyond-int64"),
    ok(lambda c: c.biased(np.uint64(2**64 - 1), [10]), _all_nan, id="uint64-max-user"),
    ok(
        lambda c: c.biased(I64_MIN, np.array([I64_MAX, I64_MIN])),
        _all_nan,
        id="int64-extreme-ids-unknown",
    ),
    ok(lambda c: c.biased(1, ["x", "y"]), _all_nan, id="str-items-in-int-model"),
    ok(lambda c: c.strmodel("u", [1]), _all_nan, id="int-item-in-str-model"),
    ok(lambda c: c.biased(1, []), lambda r: len(r) == 0, id="no-items"),
    ok(lambda c: c.biased(None, [10, 11]), _all_nan, id="no-user"),
    # array layouts and dtypes of the items
    ok(lambda c: c.biased(1, np.arange(10, 16)[::2]), _finite_count(3), id="non-contiguous-items"),
    ok(
        lambda c: c.biased(1, np.array([10, 11], dtype=">i8")),
        _finite_count(2),
        id="big-endian-items",
    ),
    ok(
        lambda c: c.biased(1, np.array([10, 11], dtype=np.uint8)),
        _finite_count(2),
        id="uint8-items",
    ),
    ok(lambda c: c.biased(1, np.array([10.0, 11.0])), _finite_count(2), id="integral-float-items"),
    ok(
        lambda c: c.biased(1, np.array([10, 11], dtype=object)),
        _finite_count(2),
        id="object-int-items",
    ),
    bad(
        lambda c: c.biased(1, np.array([10.0, 11.5])),
        TypeError,
        r"item_ids must be integers or strings; got non-integral float.*11\.5\)? at position 1",
        id="fractional-float-items",
    ),
    bad(
        lambda c: c.biased(1, np.array([True, False])),
        TypeError,
        r"item_ids must be integers or strings, not booleans",
        id="bool-items",
    ),
    bad(
        lambda c: c.biased(1, np.array([1j])),
        TypeError,
        r"item_ids must be integers or strings, not complex",
        id="complex-items",
    ),
    bad(
        lambda c: c.biased(1, np.array(["2020-01-01"], dtype="datetime64[D]")),
        TypeError,
        r"item_ids .*datetime64",
        id="datetime-items",
    ),
    bad(
        lambda c: c.biased(1, np.array([2**64 - 1], dtype=np.uint64)),
        ValueError,
        r"item_ids contain 18446744073709551615, beyond the int64 range",
        id="uint64-items-beyond-int64",
    ),
    bad(
        lambda c: c.biased(1, np.array([10, None], dtype=object)),
        ValueError,
        r"item_ids contain a missing value \(None\) at position 1",
        id="none-among-items",
    ),
    bad(
        lambda c: c.biased(1, np.array([10, "a"], dtype=object)),
        TypeError,
        r"item_ids mix integer and string",
        id="mixed-object-items",
    ),
    bad(
        lambda c: c.biased(1, np.array([[10, 11]])),
        ValueError,
        r"item_ids must be one-dimensional, got shape \(1, 2\)",
        id="2d-items",
    ),
    bad(
        lambda c: c.biased(1, [[10], [11]]),
        TypeError,
        r"item_ids must be hashable",
        id="nested-list-items",
    ),
    bad(lambda c: c.biased(1, {10: 1.0}), (TypeError, ValueError), r"item", id="dict-items"),
    ok(lambda c: c.biased(1, None), lambda r: len(r) == 0, id="none-items"),
    bad(lambda c: c.biased(1, "10"), (TypeError, ValueError), r"item", id="str-items"),
    bad(lambda c: c.biased(1, 10), (TypeError, ValueError), r"item", id="int-items"),
    bad(
        lambda c: c.biased(1, ItemList([10, "a"])),
        TypeError,
        r"item_ids mix integer and string",
        id="mixed-itemlist",
    ),
    # the query
    bad(
        lambda c: c.biased(1.0, [10]),
        TypeError,
        r"cannot interpret a float as a recommendation query",
        id="float-query",
    ),
    bad(lambda c: c.biased([1], [10]), TypeError, r"cannot interpret a list", id="list-query"),
    bad(
        lambda c: c.biased({"user_id": 1}, [10]),
        TypeError,
        r"cannot interpret a dict",
        id="dict-query",
    ),
    bad(lambda c: c.biased(True, [10]), TypeError, r"a boolean is not a user id", id="bool-query"),
    bad(
        lambda c: c.biased(RecQuery(user_id=[1]), [10]),
        TypeError,
        r"single id",
        id="unhashable-user-id",
    ),
    bad(
        lambda c: c.biased(RecQuery(user_id=1, user_items=[10, 11]), [10]),
        TypeError,
        r"user_items|ItemList",
        id="history-not-an-itemlist",
    ),
    # histories
    bad(
        lambda c: c.biased(ItemList([10, 11]), [10]),
        ValueError,
        r"needs a 'rating' field",
        id="biased-history-without-ratings",
    ),
    ok(
        lambda c: c.implicit(ItemList([10, 11]), [10, 12]),
        _finite_count(2),
        id="implicit-history-without-ratings",
    ),
    ok(
        lambda c: c.biased(ItemList([10, 11], rating=[np.nan, np.inf]), [10, 12]),
        _finite_count(2),
        id="history-non-finite-ratings-ignored",
    ),
    ok(
        lambda c: c.biased(ItemList([98, 99], rating=[1.0, 2.0]), [10, 12]),
        _finite_count(2),
        id="history-unknown-items",
    ),
    ok(
        lambda c: c.biased(ItemList([10, 10, 10], rating=[1.0, 2.0, 3.0]), [10]),
        _finite_count(1),
        id="history-duplicate-items",
    ),
    bad(
        lambda c: ItemList([10, 11], rating=["a", "b"]),
        TypeError,
        r"rating must be numeric",
        id="history-str-ratings",
    ),
    bad(
        lambda c: ItemList([10, 11], scores=[1.0]),
        ValueError,
        r"field 'scores' has 1 entries but the list has 2 items",
        id="itemlist-scores-length",
    ),
    bad(
        lambda c: ItemList([10, 11], score=[1.0, 2.0]),
        ValueError,
        r"field name 'score' is reserved",
        id="itemlist-reserved-field",
    ),
    bad(
        lambda c: ItemList(item_nums=[7], vocabulary=c.biased.items_),
        ValueError,
        r"item_nums contain 7, outside \[0, 5\)",
        id="itemlist-num-out-of-range",
    ),
    bad(
        lambda c: ItemList([10], vocabulary=[10]),
        TypeError,
        r"vocabulary must be a Vocabulary, not list",
        id="itemlist-vocabulary-list",
    ),
    bad(
        lambda c: BiasedMFScorer()(1, [10]),
        RuntimeError,
        r"BiasedMFScorer is not trained",
        id="untrained",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), SCORER_TABLE)
def test_scorer_call(ctx: Ctx, call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(ctx, call, errors, pattern, check)


@pytest.mark.parametrize(
    ("call", "check"),
    [
        pytest.param(
            lambda c: c.biased(1, [10, "a"]),
            lambda r: np.isfinite(_scores(r)[0]),
            id="call-items",
        ),
        pytest.param(
            lambda c: c.strmodel("u", [1, "a"]),
            lambda r: np.isnan(_scores(r)[0]),
            id="call-items-str-model",
        ),
        pytest.param(
            lambda c: c.biased.predict([1, "a"], [10, 10]),
            lambda r: np.isfinite(r[0]) and np.isnan(r[1]),
            id="predict",
        ),
        pytest.param(
            lambda c: c.biased.recommend([1, "a"]),
            None,
            id="recommend-users",
        ),
        pytest.param(
            lambda c: c.biased.recommend([1], candidates=[10, "a"]),
            None,
            id="recommend-candidates",
        ),
    ],
)
def test_mixed_id_lists_are_never_stringified(ctx: Ctx, call: Any, check: Any) -> None:
    """A list mixing int and string ids: either a TypeError saying so, or each id looked up
    as what it is (the known int found, the string unknown, an error naming the string)."""
    try:
        result = call(ctx)
    except TypeError as e:
        assert "mix" in str(e), str(e)
        return
    except KeyError as e:
        assert "'a'" in message_of(e), message_of(e)
        return
    assert check is not None and check(result), result


# ---- 6. batch APIs (recommend, predict, similar_items, fold_in_users) -----------------------


def _at_most(n: int) -> Callable[[Any], bool]:
    return lambda recs: len(recs) <= n


def _lists_cover_unseen() -> Callable[[Any], bool]:
    # The 5 items minus each user's seen ones: 3 + 3 + 3 + 2 = 11 rows for the 4 users.
    return lambda recs: len(recs) == 11 and set(recs.ranks.tolist()) <= {1, 2, 3}


BATCH_TABLE = [
    # recommend: n
    bad(
        lambda c: c.biased.recommend([1], n=0),
        ValueError,
        r"n must be a positive integer, got 0",
        id="recommend-n-0",
    ),
    bad(
        lambda c: c.biased.recommend([1], n=-1),
        ValueError,
        r"n must be a positive integer, got -1",
        id="recommend-n-negative",
    ),
    bad(
        lambda c: c.biased.recommend([1], n="a"),
        (ValueError, TypeError),
        r"n must be a positive integer, got 'a'",
        id="recommend-n-str",
    ),
    bad(
        lambda c: c.biased.recommend([1], n=2.0),
        (ValueError, TypeError),
        r"n must be a positive integer, got 2\.0",
        id="recommend-n-float",
    ),
    bad(
        lambda c: c.biased.recommend([1], n=True),
        (ValueError, TypeError),
        r"n must be a positive integer",
        id="recommend-n-bool",
    ),
    bad(
        lambda c: c.biased.recommend([1], n=None),
        (ValueError, TypeError),
        r"n must be a positive integer",
        id="recommend-n-none",
    ),
    ok(lambda c: c.biased.recommend(n=1000), _lists_cover_unseen(), id="recommend-n-beyond-items"),
    ok(
        lambda c: c.biased.recommend(n=2**63 - 1), _lists_cover_unseen(), id="recommend-n-int64-max"
    ),
    ok(
        lambda c: c.biased.recommend(n=np.int64(1000)),
        _lists_cover_unseen(),
        id="recommend-n-numpy-int",
    ),
    either(
        lambda c: c.biased.recommend(n=2**63),
        (ValueError, TypeError),
        r"\bn must be",
        _lists_cover_unseen(),
        id="recommend-n-beyond-int64",
    ),
    either(
        lambda c: c.biased.recommend(n=np.uint64(2**64 - 1)),
        (ValueError, TypeError),
        r"\bn must be",
        _lists_cover_unseen(),
        id="recommend-n-uint64-max",
    ),
    # recommend: users
    bad(
        lambda c: c.biased.recommend([999]),
        KeyError,
        r"unknown user id 999",
        id="recommend-unknown-user",
    ),
    bad(
        lambda c: c.biased.recommend(["x"]),
        KeyError,
        r"unknown user id 'x'",
        id="recommend-str-user-in-int-model",
    ),
    bad(
        lambda c: c.biased.recommend([I64_MAX]),
        KeyError,
        r"unknown user id 9223372036854775807",
        id="recommend-int64-max-user",
    ),
    bad(
        lambda c: c.biased.recommend({1: 2}),
        TypeError,
        r"users must be an ordered sequence",
        id="recommend-users-dict",
    ),
    bad(
        lambda c: c.biased.recommend([[1, 2]]),
        TypeError,
        r"users must be hashable scalars, found list",
        id="recommend-users-2d",
    ),
    ok(
        lambda c: c.biased.recommend(1, n=2),
        lambda r: set(r.query_ids.tolist()) == {1},
        id="recommend-scalar-user",
    ),
    ok(lambda c: c.biased.recommend([], n=2), lambda r: len(r) == 0, id="recommend-no-users"),
    ok(
        lambda c: c.biased.recommend([1, 1], n=2),
        lambda r: r.query_ids.tolist() == [1, 1, 1, 1],
        id="recommend-duplicate-users",
    ),
    ok(
        lambda c: c.biased.recommend(np.array([4, 3, 2, 1])[::2], n=1),
        lambda r: r.query_ids.tolist() == [4, 2],
        id="recommend-non-contiguous-users",
    ),
    # recommend: candidates and blocklist
    bad(
        lambda c: c.biased.recommend([1], candidates=[10, 999]),
        KeyError,
        r"unknown item id 999",
        id="recommend-unknown-candidate",
    ),
    ok(
        lambda c: c.biased.recommend([1], candidates=12),
        lambda r: r.item_ids.tolist() == [12],
        id="recommend-scalar-candidates",
    ),
    bad(
        lambda c: c.biased.recommend([1], candidates=[[10, 11]]),
        TypeError,
        r"candidates must be hashable scalars, found list",
        id="recommend-2d-candidates",
    ),
    bad(
        lambda c: c.biased.recommend([1], blocklist=[[10, 11]]),
        TypeError,
        r"blocklist must be hashable scalars, found list",
        id="recommend-2d-blocklist",
    ),
    ok(
        lambda c: c.biased.recommend([1], candidates=[]),
        lambda r: len(r) == 0,
        id="recommend-no-candidates",
    ),
    ok(
        lambda c: c.biased.recommend([1], candidates=[12, 12, 13]),
        lambda r: sorted(r.item_ids.tolist()) == [12, 13],
        id="recommend-duplicate-candidates",
    ),
    bad(
        lambda c: c.biased.recommend([1], blocklist=[999, "x"]),
        TypeError,
        r"blocklist mix integer and string",
        id="recommend-unknown-blocklist",
    ),
    ok(
        lambda c: c.biased.recommend([1], blocklist=12),
        lambda r: 12 not in r.item_ids.tolist(),
        id="recommend-scalar-blocklist",
    ),
    bad(
        lambda c: c.biased.recommend([1], threads=-1),
        ValueError,
        r"threads must be >= 0",
        id="recommend-threads-negative",
    ),
    bad(
        lambda c: c.biased.recommend([1], threads=1.5),
        TypeError,
        r"threads must be an int",
        id="recommend-threads-float",
    ),
    bad(
        lambda c: BiasedMFScorer().recommend(),
        RuntimeError,
        r"not trained",
        id="recommend-untrained",
    ),
    # a loaded model
    bad(
        lambda c: c.loaded.recommend([999]),
        KeyError,
        r"user id 999",
        id="loaded-recommend-unknown-user",
    ),
    bad(
        lambda c: c.loaded.recommend([1], candidates=[999]),
        KeyError,
        r"item id 999",
        id="loaded-recommend-unknown-candidate",
    ),
    # predict
    bad(
        lambda c: c.biased.predict([1, 2], [10]),
        ValueError,
        r"users and items must be 1-D and of equal length, got \(2,\) and \(1,\)",
        id="predict-length-mismatch",
    ),
    ok(
        lambda c: c.biased.predict(1, 10),
        lambda r: r.shape == (1,) and np.isfinite(r).all(),
        id="predict-scalars",
    ),
    bad(
        lambda c: c.biased.predict([[1]], [[10]]),
        TypeError,
        r"users must be hashable",
        id="predict-2d",
    ),
    ok(
        lambda c: c.biased.predict([1, 999, 1], [10, 10, 999]),
        lambda r: np.isfinite(r[0]) and np.isnan(r[1:]).all(),
        id="predict-unknown-ids",
    ),
    ok(
        lambda c: c.biased.predict(["a"], ["b"]),
        lambda r: np.isnan(r).all(),
        id="predict-str-ids-in-int-model",
    ),
    ok(
        lambda c: c.biased.predict([I64_MIN, I64_MAX], [I64_MAX, I64_MIN]),
        lambda r: np.isnan(r).all(),
        id="predict-int64-extremes",
    ),
    bad(
        lambda c: c.biased.predict(np.array([2**64 - 1], np.uint64), np.array([10], np.uint64)),
        ValueError,
        r"users contain .* beyond the int64 range",
        id="predict-uint64-beyond-int64",
    ),
    bad(
        lambda c: c.biased.predict([1.0, 1.5], [10.0, 10.0]),
        TypeError,
        r"users must be integers or strings; got non-integral float",
        id="predict-float-ids",
    ),
    ok(lambda c: c.biased.predict([], []), lambda r: r.shape == (0,), id="predict-empty"),
    ok(
        lambda c: c.biased.predict(
            np.array([1, 9, 2, 9, 3, 9, 4, 9])[::2], np.array([10, 10, 11, 12], dtype=">i8")
        ),
        lambda r: np.isfinite(r).all(),
        id="predict-odd-layouts",
    ),
    # similar_items
    bad(
        lambda c: c.biased.similar_items([999]),
        KeyError,
        r"unknown item id 999",
        id="similar-unknown-item",
    ),
    bad(lambda c: c.biased.similar_items([10], n=0), ValueError, r"\bn must be", id="similar-n-0"),
    bad(
        lambda c: c.biased.similar_items([10], n=-1),
        ValueError,
        r"\bn must be",
        id="similar-n-negative",
    ),
    bad(
        lambda c: c.biased.similar_items([10], n="a"),
        (ValueError, TypeError),
        r"\bn must be",
        id="similar-n-str",
    ),
    bad(
        lambda c: c.biased.similar_items([10], n=None),
        (ValueError, TypeError),
        r"\bn must be",
        id="similar-n-none",
    ),
    bad(
        lambda c: c.biased.similar_items([10], n=1.5),
        (ValueError, TypeError),
        r"\bn must be",
        id="similar-n-fractional",
    ),
    bad(
        lambda c: c.biased.similar_items([10], n=True),
        (ValueError, TypeError),
        r"\bn must be",
        id="similar-n-bool",
    ),
    ok(
        lambda c: c.biased.similar_items([10, 11], n=100),
        lambda r: len(r) == 8,
        id="similar-n-beyond-items",
    ),
    either(
        lambda c: c.biased.similar_items([10], n=2**63),
        (ValueError, TypeError),
        r"\bn must be",
        lambda r: len(r) == 4,
        id="similar-n-beyond-int64",
    ),
    ok(lambda c: c.biased.similar_items([], n=2), lambda r: len(r) == 0, id="similar-no-items"),
    # fold_in_users
    bad(
        lambda c: c.biased.fold_in_users([ItemList([10, 11])]),
        ValueError,
        r"BiasedMFScorer fold-in needs a 'rating' field",
        id="fold-in-biased-without-ratings",
    ),
    bad(
        lambda c: ImplicitMFScorer(use_ratings=True, features=2, epochs=1).fold_in_users(
            [ItemList([10])]
        ),
        RuntimeError,
        r"not trained",
        id="fold-in-untrained",
    ),
    bad(
        lambda c: c.biased.fold_in_users([ItemList([10], rating=[1.0])], threads=-1),
        ValueError,
        r"threads must be >= 0",
        id="fold-in-threads-negative",
    ),
    bad(
        lambda c: c.biased.fold_in_users([[10, 11]]),
        TypeError,
        r"ItemList|histories",
        id="fold-in-list-of-lists",
    ),
    bad(
        lambda c: c.biased.fold_in_users(ItemList([10, 11], rating=[1.0, 2.0])),
        TypeError,
        r"histories|sequence",
        id="fold-in-single-itemlist",
    ),
    ok(
        lambda c: c.biased.fold_in_users([]),
        lambda r: r[0].shape == (0, 3) and r[1].shape == (0,),
        id="fold-in-no-histories",
    ),
    ok(
        lambda c: c.implicit.fold_in_users([ItemList([10, 11])]),
        lambda r: np.isfinite(r[0]).all() and r[1] is None,
        id="fold-in-implicit-without-ratings",
    ),
    ok(
        lambda c: c.biased.fold_in_users([ItemList([10, 11], rating=[np.nan, np.inf])]),
        lambda r: (r[0] == 0).all() and r[1].tolist() == [0.0],
        id="fold-in-all-ratings-non-finite",
    ),
    ok(
        lambda c: c.biased.fold_in_users([ItemList(np.arange(30)[::3], rating=np.ones(20)[::2])]),
        lambda r: np.isfinite(r[0]).all(),
        id="fold-in-non-contiguous",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), BATCH_TABLE)
def test_batch_apis(ctx: Ctx, call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(ctx, call, errors, pattern, check)


# ---- 7. load and save ----------------------------------------------------------------------

LOAD_TABLE = [
    bad(
        lambda c: alskit.load(c.tmp / "missing.alskit"),
        FileNotFoundError,
        r"missing\.alskit",
        id="missing-file",
    ),
    bad(
        lambda c: alskit.load(c.tmp / "no-such-dir" / "m.alskit"),
        FileNotFoundError,
        r"no-such-dir",
        id="missing-directory",
    ),
    bad(lambda c: alskit.load(c.tmp), ModelFileError, r"Is a directory|directory", id="directory"),
    bad(
        lambda c: alskit.load(c.write("empty.alskit", b"")),
        ModelFileError,
        r"empty\.alskit: not a readable alskit model file",
        id="empty-file",
    ),
    bad(
        lambda c: alskit.load(c.write("text.alskit", "hello")),
        ModelFileError,
        r"text\.alskit",
        id="text-file",
    ),
    bad(
        lambda c: alskit.load(
            c.write(
                "noise.alskit",
                bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)),
            )
        ),
        ModelFileError,
        r"noise\.alskit",
        id="random-bytes",
    ),
    bad(
        lambda c: alskit.load(c.write("pk.alskit", b"PK\x03\x04" + b"\x00" * 100)),
        ModelFileError,
        r"pk\.alskit",
        id="zip-magic-then-zeros",
    ),
    bad(
        lambda c: alskit.load(c.write("t1.alskit", c.raw[:1])),
        ModelFileError,
        r"t1\.alskit",
        id="truncated-to-1-byte",
    ),
    bad(
        lambda c: alskit.load(c.write("t100.alskit", c.raw[:100])),
        ModelFileError,
        r"t100\.alskit",
        id="truncated-to-100-bytes",
    ),
    bad(
        lambda c: alskit.load(c.write("half.alskit", c.raw[: len(c.raw) // 2])),
        ModelFileError,
        r"half\.alskit",
        id="truncated-to-half",
    ),
    bad(
        lambda c: alskit.load(c.write("less1.alskit", c.raw[:-1])),
        ModelFileError,
        r"less1\.alskit",
        id="truncated-by-1-byte",
    ),
    bad(
        lambda c: alskit.load(c.write("z.alskit", zip_bytes({"other.txt": b"x"}))),
        ModelFileError,
        r"no model\.json",
        id="zip-without-header",
    ),
    bad(
        lambda c: alskit.load(with_member(c, "model.json", b"{not json")),
        ModelFileError,
        r"model\.json is not valid JSON",
        id="header-not-json",
    ),
    bad(
        lambda c: alskit.load(with_member(c, "model.json", b"\xff\xfe\x00")),
        ModelFileError,
        r"model\.json",
        id="header-not-utf8",
    ),
    bad(
        lambda c: alskit.load(with_member(c, "model.json", b"[1, 2]")),
        ModelFileError,
        r"wrong format tag",
        id="header-a-list",
    ),
    bad(
        lambda c: alskit.load(header_edit(c, lambda h: h.update(model="ALSBase"))),
        ModelFileError,
        r"unknown model class 'ALSBase'",
        id="header-abstract-class",
    ),
    bad(
        lambda c: alskit.load(header_edit(c, lambda h: h.update(version=1.0))),
        ModelFileError,
        r"invalid format version 1\.0",
        id="header-float-version",
    ),
    bad(
        lambda c: alskit.load(header_edit(c, lambda h: h["config"].update(embedding_size=10**12))),
        ModelFileError,
        r"item_features must be \(5, 1000000000000\)",
        id="header-absurd-embedding-size",
    ),
    bad(
        lambda c: alskit.load(
            header_edit(c, lambda h: h["arrays"]["users"].update(shape=[10**20]))
        ),
        ModelFileError,
        r"array 'users' has shape",
        id="header-absurd-shape",
    ),
    bad(
        lambda c: alskit.load(
            header_edit(
                c,
                lambda h: h["arrays"].update(
                    {"../evil": {"dtype": "<f8", "shape": [1], "sha256": "0"}}
                ),
            )
        ),
        ModelFileError,
        r"'\.\./evil' is missing",
        id="header-path-traversal-array",
    ),
    bad(
        lambda c: alskit.load(with_member(c, "model.json", deep_json())),
        ModelFileError,
        r"model\.json",
        id="header-deeply-nested",
    ),
    bad(
        lambda c: alskit.load(patched(c, cd("model.json", 10), "<H", 99)),
        ModelFileError,
        r"patched\.alskit|model\.json",
        id="zip-unknown-compression-method",
    ),
    bad(
        lambda c: alskit.load(patched(c, cd("model.json", 8), "<H", 1)),
        ModelFileError,
        r"patched\.alskit|model\.json",
        id="zip-encrypted-flag",
    ),
    bad(
        lambda c: alskit.load(patched(c, cd("item_features.npy", 8), "<H", 64)),
        ModelFileError,
        r"patched\.alskit|item_features",
        id="zip-strong-encryption-flag",
    ),
    bad(
        lambda c: alskit.load(patched(c, cd("model.json", 6), "<H", 255)),
        ModelFileError,
        r"patched\.alskit|model\.json",
        id="zip-version-needed",
    ),
    bad(
        lambda c: alskit.load(patched(c, cd("model.json", 10), "<H", 12)),
        ModelFileError,
        r"patched\.alskit|model\.json",
        id="zip-header-bzip2-method",
    ),
    bad(
        lambda c: alskit.load(patched(c, eocd(16), "<I", 0xFFFFFFF0)),
        ModelFileError,
        r"patched\.alskit",
        id="zip-central-directory-offset",
    ),
    bad(
        lambda c: alskit.load(patched(c, lh("model.json", 28), "<H", 0xFFFF)),
        ModelFileError,
        r"patched\.alskit|model\.json",
        id="zip-local-extra-length",
    ),
    bad(
        lambda c: alskit.load(
            with_member(
                c,
                "users.npy",
                npy_header_only(b"{'descr': 'O', 'fortran_order': False, 'shape': (1,), }"[:40]),
            )
        ),
        ModelFileError,
        r"users",
        id="npy-malformed-header",
    ),
    bad(
        lambda c: alskit.load(with_member(c, "users.npy", npy_with_shape("(10000000000000,)"))),
        ModelFileError,
        r"users",
        id="npy-absurd-shape",
    ),
    bad(
        lambda c: alskit.load(
            header_edit(c, lambda h: h["state"].update(global_bias=float("nan")))
        ),
        ModelFileError,
        r"global_bias",
        id="state-global-bias-nan",
    ),
    bad(
        lambda c: alskit.load(header_edit(c, lambda h: h["state"].update(trained_epochs=-5))),
        ModelFileError,
        r"trained_epochs",
        id="state-negative-epochs",
    ),
    bad(
        lambda c: alskit.load(header_edit(c, lambda h: h["state"].update(damping=[-1, -1]))),
        ModelFileError,
        r"damping",
        id="state-negative-damping",
    ),
    bad(
        lambda c: alskit.load(rehashed(c, "item_features", np.full((5, 3), np.nan))),
        ModelFileError,
        r"item_features",
        id="non-finite-item-features",
    ),
    bad(
        lambda c: alskit.load(rehashed(c, "users", np.array([True, False, True, False]))),
        ModelFileError,
        r"booleans",
        id="boolean-user-ids",
    ),
    bad(
        lambda c: alskit.load(rehashed(c, "users", np.array([1, 1, 2, 3]))),
        ModelFileError,
        r"duplicate id 1",
        id="duplicate-user-ids",
    ),
    bad(
        lambda c: alskit.load(
            rehashed(c, "seen_indices", np.array([0, 1, 0, 2, 1, 3, 0, 3, 99], np.int32))
        ),
        ModelFileError,
        r"indices\[8\] = 99",
        id="seen-index-out-of-range",
    ),
    bad(
        lambda c: alskit.load(rehashed(c, "item_features", c.biased.item_features_.astype(">f8"))),
        ModelFileError,
        r"item_features",
        id="big-endian-features",
    ),
    bad(
        lambda c: alskit.load(None),
        TypeError,
        r"path|NoneType",
        id="path-none",
    ),
    bad(
        lambda c: alskit.load(123),
        TypeError,
        r"path|int",
        id="path-int",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), LOAD_TABLE)
def test_load(ctx: Ctx, call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(ctx, call, errors, pattern, check)


def _save_into_directory(c: Ctx) -> None:
    target = c.path("existing-dir")
    target.mkdir()
    c.biased.save(target)


SAVE_TABLE = [
    bad(
        lambda c: c.biased.save(c.tmp / "no-such-dir" / "m.alskit"),
        FileNotFoundError,
        r"no-such-dir",
        id="missing-directory",
    ),
    bad(_save_into_directory, OSError, r"existing-dir", id="onto-a-directory"),
    bad(lambda c: c.biased.save(None), TypeError, r"NoneType", id="path-none"),
    bad(
        lambda c: BiasedMFScorer().save(c.path("u.alskit")),
        RuntimeError,
        r"not trained",
        id="untrained",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), SAVE_TABLE)
def test_save(ctx: Ctx, call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(ctx, call, errors, pattern, check)


def test_failed_save_leaves_no_partial_file(ctx: Ctx) -> None:
    target = ctx.path("dir-target")
    target.mkdir()
    with pytest.raises(OSError, match="dir-target"):
        ctx.biased.save(target)
    assert not target.with_name(target.name + ".partial").exists()


# ---- 8. the command line -------------------------------------------------------------------


@dataclass
class Files:
    root: Path
    ratings: Path
    model: Path
    extremes_model: Path
    nan: Path
    dup: Path
    empty: Path
    garbage: Path
    truncated_gz: Path
    big_id: Path
    one: Path
    deep_model: Path
    counter: itertools.count  # type: ignore[type-arg]

    def out(self, name: str) -> Path:
        return self.root / f"{next(self.counter)}-{name}"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    root = tmp_path_factory.mktemp("hostile-cli")
    rng = np.random.default_rng(3)
    lines = [CSV_HEAD]
    for user in range(-3, 9):  # user -3 exists: negative ids must work
        for item in rng.choice(8, 4, replace=False):
            lines.append(f"{user},{item},{int(rng.integers(1, 6))}\n")
    ratings = root / "ratings.csv"
    ratings.write_text("".join(lines))
    model = root / "model.alskit"
    train_with(BiasedMFScorer(features=2, epochs=1), load_csv(ratings)).save(model)
    extremes = root / "extremes.alskit"
    data = Dataset.from_arrays([I64_MIN, I64_MAX, 1], [I64_MAX, I64_MIN, 1], [1.0, 2.0, 3.0])
    train_with(BiasedMFScorer(features=2, epochs=1), data).save(extremes)
    with zipfile.ZipFile(model) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["model.json"] = deep_json()
    deep = root / "deep.alskit"
    deep.write_bytes(zip_bytes(members))

    def write(name: str, content: str | bytes) -> Path:
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    return Files(
        root=root,
        ratings=ratings,
        model=model,
        extremes_model=extremes,
        nan=write("nan.csv", CSV_HEAD + "1,2,3\n1,3,nan\n"),
        dup=write("dup.csv", CSV_HEAD + "1,2,3\n1,2,4\n"),
        empty=write("empty.csv", ""),
        garbage=write("garbage.csv", bytes(range(256)) * 8),
        truncated_gz=write("cut.csv.gz", _truncated_gzip()),
        big_id=write("bigid.csv", CSV_HEAD + "9223372036854775808,1,3\n2,1,4\n"),
        one=write("one.csv", CSV_HEAD + "1,2,3\n"),
        deep_model=deep,
        counter=itertools.count(),
    )


SMALL = ["--epochs", "1", "--features", "2", "--threads", "1"]


def run_main(argv: list[Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``alskit`` in-process: (exit status, stdout, stderr). Any exception escaping main() is
    what a user would see as a traceback, so it is left to fail the test."""
    try:
        status = cli.main([str(a) for a in argv])
    except SystemExit as e:  # argparse usage errors
        status = int(e.code) if isinstance(e.code, int) else 2
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def cli_bad(
    argv: Callable[[Files], list[Any]], pattern: str, *, id: str, bug: str | None = None
) -> Any:
    return pytest.param(argv, pattern, None, id=id, marks=_marks(bug))


def cli_ok(
    argv: Callable[[Files], list[Any]],
    check: Callable[[str], bool],
    *,
    id: str,
    bug: str | None = None,
) -> Any:
    return pytest.param(argv, None, check, id=id, marks=_marks(bug))


def cli_either(
    argv: Callable[[Files], list[Any]],
    pattern: str,
    check: Callable[[str], bool],
    *,
    id: str,
    bug: str | None = None,
) -> Any:
    return pytest.param(argv, pattern, check, id=id, marks=_marks(bug))


def _train_args(f: Files, *extra: Any) -> list[Any]:
    return ["train", f.ratings, "-o", f.out("m.alskit"), *SMALL, *extra]


def _csv_rows(stdout: str) -> list[list[str]]:
    return [line.split(",") for line in stdout.strip().splitlines()[1:]]


CLI_TABLE = [
    # argparse: usage and an error line
    cli_bad(lambda f: ["bogus"], r"invalid choice: 'bogus'", id="unknown-command"),
    cli_bad(lambda f: ["train", f.ratings], r"required: -o/--output", id="train-without-output"),
    cli_bad(
        lambda f: _train_args(f, "--features", "abc"),
        r"argument --features: invalid int value: 'abc'",
        id="features-not-int",
    ),
    cli_bad(
        lambda f: _train_args(f, "--model", "svd"),
        r"argument --model: invalid choice: 'svd'",
        id="unknown-model",
    ),
    cli_bad(
        lambda f: _train_args(f, "--threads", "many"),
        r"argument --threads: invalid int value",
        id="threads-not-int",
    ),
    cli_bad(
        lambda f: ["recommend", f.model, "-n", "ten"],
        r"argument -n: invalid int value: 'ten'",
        id="n-not-int",
    ),
    cli_bad(
        lambda f: ["quickstart", "--size", "huge"],
        r"argument --size: invalid choice: 'huge'",
        id="quickstart-size",
    ),
    cli_bad(
        lambda f: _train_args(f, "--user-embeddings", "sometimes"),
        r"argument --user-embeddings: invalid choice",
        id="user-embeddings-choice",
    ),
    # one line naming the problem
    cli_bad(
        lambda f: _train_args(f, "--features", "-5"),
        r"invalid model option: embedding_size",
        id="features-negative",
    ),
    cli_bad(
        lambda f: _train_args(f, "--features", "1000000000000"),
        r"embedding_size=1000000000000 needs .* GiB",
        id="features-absurd",
    ),
    cli_bad(
        lambda f: _train_args(f, "--regularization", "nan"),
        r"regularization",
        id="regularization-nan",
    ),
    cli_bad(lambda f: _train_args(f, "--damping", "-1"), r"damping", id="damping-negative"),
    cli_bad(
        lambda f: _train_args(f, "--model", "implicit", "--weight", "inf"),
        r"weight",
        id="weight-inf",
    ),
    cli_bad(
        lambda f: _train_args(f, "--model", "implicit", "--cg-steps", "0"),
        r"cg_steps",
        id="cg-steps-0",
    ),
    cli_bad(
        lambda f: ["train", f.ratings, "-o", f.out("m.alskit"), "--threads", "-1"],
        r"threads must be >= 0",
        id="threads-negative",
    ),
    cli_bad(
        lambda f: _train_args(f, "--seed", "-1"),
        r"seed|rng",
        id="seed-negative",
    ),
    cli_bad(lambda f: _train_args(f, "--sep", ""), r"separator", id="empty-separator"),
    cli_bad(
        lambda f: ["train", f.nan, "-o", f.out("m.alskit"), *SMALL],
        r"nan\.csv: rating at line 3 is nan",
        id="nan-rating",
    ),
    cli_bad(
        lambda f: ["train", f.dup, "-o", f.out("m.alskit"), *SMALL],
        r"duplicate .* line 2 and line 3",
        id="duplicate-rows",
    ),
    cli_bad(
        lambda f: ["train", f.empty, "-o", f.out("m.alskit"), *SMALL],
        r"empty\.csv: no interactions",
        id="empty-file",
    ),
    cli_bad(
        lambda f: ["train", f.garbage, "-o", f.out("m.alskit"), *SMALL],
        r"garbage\.csv",
        id="binary-garbage",
    ),
    cli_bad(
        lambda f: ["train", f.big_id, "-o", f.out("m.alskit"), *SMALL],
        r"9223372036854775808, beyond the int64 range",
        id="id-beyond-int64",
    ),
    cli_bad(
        lambda f: ["train", f.root, "-o", f.out("m.alskit"), *SMALL],
        r"directory",
        id="data-is-a-directory",
    ),
    cli_bad(
        lambda f: ["train", f.truncated_gz, "-o", f.out("m.alskit"), *SMALL],
        r"cut\.csv\.gz",
        id="truncated-gzip",
    ),
    cli_bad(
        lambda f: ["train", f.ratings, "-o", f.root, *SMALL],
        r"Is a directory|directory",
        id="output-is-a-directory",
    ),
    cli_bad(
        lambda f: ["recommend", f.model, "-n", "0"],
        r"n must be a positive integer, got 0",
        id="n-0",
    ),
    cli_bad(
        lambda f: ["recommend", f.model, "-n", "-1"],
        r"n must be a positive integer, got -1",
        id="n-negative",
    ),
    cli_bad(lambda f: ["recommend", f.model, "--users", "abc"], r"'abc'", id="unknown-str-user"),
    cli_bad(
        lambda f: ["recommend", f.model, "--users", "99999999999999999999999"],
        r"99999999999999999999999",
        id="user-beyond-int64",
    ),
    cli_bad(
        lambda f: ["recommend", f.model, "--threads", "-1"],
        r"threads must be >= 0",
        id="recommend-threads-negative",
    ),
    cli_bad(
        lambda f: ["recommend", f.root],
        r"not a readable alskit model file",
        id="model-is-a-directory",
    ),
    cli_bad(
        lambda f: ["recommend", f.ratings],
        r"ratings\.csv: not a readable alskit model file",
        id="model-is-a-csv",
    ),
    cli_bad(
        lambda f: ["recommend", f.deep_model],
        r"deep\.alskit",
        id="model-deeply-nested-json",
    ),
    cli_bad(
        lambda f: ["recommend", f.model, "-n", "2", "-o", f.root],
        r"Is a directory",
        id="recommend-output-is-a-directory",
    ),
    cli_bad(
        lambda f: ["quickstart", "--size", "tiny", "--threads", "-1"],
        r"threads must be >= 0",
        id="quickstart-threads-negative",
    ),
    # must work
    cli_ok(
        lambda f: ["recommend", f.model, "--users", "1", "-n", "1000"],
        lambda out: len(_csv_rows(out)) == 4,
        id="n-beyond-items",
    ),
    cli_ok(
        lambda f: ["recommend", f.extremes_model, "--users", str(I64_MAX), "-n", "1"],
        lambda out: _csv_rows(out)[0][0] == str(I64_MAX),
        id="int64-max-user",
    ),
    cli_ok(
        lambda f: ["train", f.one, "-o", f.out("one.alskit"), *SMALL],
        lambda out: "1 interactions" in out,
        id="train-single-interaction",
    ),
    cli_ok(
        lambda f: ["recommend", f.model, "--users", "-3", "-n", "2"],
        lambda out: [r[0] for r in _csv_rows(out)] == ["-3", "-3"],
        id="negative-user-id",
    ),
    cli_ok(
        lambda f: ["recommend", f.extremes_model, "--users", str(I64_MIN), "-n", "1"],
        lambda out: _csv_rows(out)[0][0] == str(I64_MIN),
        id="int64-min-user",
    ),
    cli_either(
        lambda f: ["recommend", f.model, "--users", "1", "-n", str(2**63)],
        r"\bn must be",
        lambda out: len(_csv_rows(out)) == 4,
        id="n-beyond-int64",
    ),
    cli_either(
        lambda f: ["evaluate", f.one, *SMALL],
        r"interactions|too few",
        lambda out: "NDCG" in out,
        id="evaluate-single-interaction",
    ),
]


@pytest.mark.parametrize(("argv", "pattern", "check"), CLI_TABLE)
def test_cli(
    files: Files, capsys: pytest.CaptureFixture[str], argv: Any, pattern: Any, check: Any
) -> None:
    status, out, err = run_main(argv(files), capsys)
    assert "Traceback" not in err, err
    if status == 0 and check is not None:
        assert err == "", err
        assert check(out), out
        return
    assert pattern is not None, (status, err)
    assert status == 2, (status, err)
    lines = err.strip().splitlines()
    assert lines, "no error message"
    if not lines[0].startswith("usage:"):
        assert len(lines) == 1, err  # user errors after parsing: exactly one line
    assert lines[-1].startswith("alskit"), lines[-1]
    assert PYBIND_DUMP not in lines[-1], lines[-1]
    assert re.search(pattern, lines[-1]), (pattern, lines[-1])
