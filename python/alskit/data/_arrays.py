"""Array normalization shared by the data types (ids, float columns, read-only views)."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

#: Identifiers: int64 or numpy unicode ('U').
IdArray: TypeAlias = NDArray[Any]
IdsLike: TypeAlias = ArrayLike | Iterable[Any]
IdKind: TypeAlias = Literal["i", "U"]

_INT64_MIN = int(np.iinfo(np.int64).min)
_INT64_MAX = int(np.iinfo(np.int64).max)
# Floats above 2**53 cannot hold every integer, so such "ids" may already be corrupted.
_FLOAT_EXACT = 2.0**53
#: The types of the missing-value markers (None, pandas.NA, pandas.NaT).
_MISSING_TYPES: tuple[type, ...] = (type(None), type(pd.NA), type(pd.NaT))


def readonly(arr: NDArray[Any]) -> NDArray[Any]:
    """A read-only view, so shared arrays cannot be changed behind the owner's back."""
    view = arr.view()
    view.flags.writeable = False
    return view


def first_index(mask: NDArray[np.bool_]) -> int:
    """Position of the first True entry (the mask must have one)."""
    return int(np.argmax(mask))


def to_numpy(values: object, what: str) -> NDArray[Any]:
    """Turn array-likes (lists, ranges, pandas/pyarrow columns) into a numpy array.

    Python lists whose numpy conversion is not plainly numeric are kept as object arrays so
    that mixed or unhashable elements are detected instead of silently stringified.
    """
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{what} must be an array of ids, not a single {type(values).__name__}")
    to_np = getattr(values, "to_numpy", None)
    if callable(to_np):
        return np.asarray(to_np())
    if isinstance(values, (set, frozenset, dict)):
        raise TypeError(f"{what} must be an ordered sequence, not a {type(values).__name__}")
    if not isinstance(values, (list, tuple)):
        if not isinstance(values, Iterable):
            raise TypeError(f"{what} must be array-like, not {type(values).__name__}")
        values = list(values)
    if any(issubclass(t, str) for t in set(map(type, values))):
        # Never through np.asarray: that builds a fixed-width rows × longest-string array.
        return np.fromiter(values, dtype=object, count=len(values))
    try:
        arr = np.asarray(values)
    except (ValueError, TypeError):
        arr = np.empty(0, dtype=object)  # ragged input: fall through to the object path
    else:
        # numpy turns a list mixing ints beyond int64 with int64 ones into inexact floats
        # ([2**63, 1] -> float64): such lists take the object path, which keeps the ints.
        inexact = arr.dtype.kind == "f" and bool(np.any(np.abs(arr) > _FLOAT_EXACT))
        if arr.ndim == 1 and arr.dtype.kind in "biuf" and not inexact:
            return arr
    return np.fromiter(values, dtype=object, count=len(values))


def as_id_array(values: object, what: str = "ids") -> IdArray:
    """Normalize ids to a 1-D int64 or unicode array, rejecting ambiguous input."""
    arr = to_numpy(values, what)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {arr.shape}")
    kind = arr.dtype.kind
    if kind == "i":
        return arr.astype(np.int64, copy=False)
    if kind == "u":
        if arr.size and int(arr.max()) > _INT64_MAX:
            raise ValueError(f"{what} contain {int(arr.max())}, beyond the int64 range")
        return arr.astype(np.int64)
    if kind == "U":
        return arr
    if kind == "f":
        return _float_ids(arr, what)
    if kind == "O":
        return _object_ids(arr, what)
    if kind == "b":
        raise TypeError(f"{what} must be integers or strings, not booleans")
    raise TypeError(f"{what} must be integers or strings, not {arr.dtype}")


def unique_inverse(ids: IdArray) -> tuple[IdArray, NDArray[np.int32]]:
    """Sorted distinct ids, and each input id's position among them."""
    n = len(ids)
    if ids.dtype.kind == "i" and n:
        lo, hi = int(ids.min()), int(ids.max())
        span = hi - lo + 1
        if span <= 2 * n + 1024:
            # Dense integer ids (the usual case): counting is much faster than sorting.
            offsets = ids - lo
            present = np.zeros(span, dtype=bool)
            present[offsets] = True
            rank = np.cumsum(present, dtype=np.int64) - 1
            uniq = (np.flatnonzero(present) + lo).astype(np.int64)
            return uniq, rank[offsets].astype(np.int32)
    uniq, inverse = np.unique(ids, return_inverse=True)
    return uniq, inverse.astype(np.int32)


def _float_ids(arr: NDArray[Any], what: str) -> IdArray:
    f = arr.astype(np.float64)
    bad = ~np.isfinite(f)
    if bad.any():
        i = first_index(bad)
        raise ValueError(f"{what} contain a missing or non-finite value ({f[i]}) at position {i}")
    frac = f != np.trunc(f)
    if frac.any():
        i = first_index(frac)
        raise TypeError(
            f"{what} must be integers or strings; got non-integral float {f[i]!r} at position {i}"
        )
    big = np.abs(f) > _FLOAT_EXACT
    if big.any():
        i = first_index(big)
        raise ValueError(
            f"{what} contain the float {float(f[i])!r} at position {i}, beyond 2**53 where "
            "floats cannot hold every integer; pass integer ids"
        )
    return f.astype(np.int64)


def _classify(t: type) -> str:
    if issubclass(t, _MISSING_TYPES):
        return "missing"
    if issubclass(t, (bool, np.bool_)):
        return "bool"
    if issubclass(t, str):
        return "str"
    if issubclass(t, (int, np.integer)):
        return "int"
    if issubclass(t, (float, np.floating)):
        return "float"
    if getattr(t, "__hash__", None) is None:
        return "unhashable"
    return "other"


def _is_missing(x: object) -> bool:
    return isinstance(x, _MISSING_TYPES) or (isinstance(x, float) and x != x)


def factorize_ids(values: object, what: str = "ids") -> tuple[IdArray, NDArray[np.int32]]:
    """Sorted distinct ids (int64 or unicode) and each input id's position among them.

    Unlike ``unique_inverse(as_id_array(values))``, a list or object array of strings is
    never turned into a fixed-width string array of rows × longest id (one 10,000-character
    id among a million rows would take 40 GB): only the distinct ids become one, checked by
    :func:`fixed_width_ids`. The ids are validated exactly as by :func:`as_id_array`.
    """
    arr = to_numpy(values, what)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "O" and len(arr):
        ids = _object_ids(arr, what, as_objects=True)
        if ids.dtype.kind == "O":
            uniq, inverse = _factorize_strings(ids)
            return fixed_width_ids(uniq, what), inverse
        return unique_inverse(ids)
    return unique_inverse(as_id_array(arr, what))


def _factorize_strings(ids: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.int32]]:
    """Sorted distinct strings of an object array, and each entry's position among them (by
    hashing: sorting only the distinct strings)."""
    codes, seen = pd.factorize(ids, sort=False)
    seen = np.asarray(seen, dtype=object)
    order = np.argsort(seen, kind="stable")
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return seen[order], rank[codes]


#: Fixed-width storage of distinct string ids may take this many times the ids' own size
#: (plus a floor) before it is refused: a few very long ids among many short ones.
_WIDTH_OVERHEAD = 16
_WIDTH_FLOOR = 256 * 2**20


def fixed_width_ids(ids: NDArray[Any], what: str) -> IdArray:
    """Distinct string ids (an object array of str) as a numpy unicode array, refused with a
    ValueError when its fixed width (count × longest id) would be out of proportion to the
    ids themselves."""
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    longest = int(lengths.max()) if len(lengths) else 0
    needed = len(ids) * max(longest, 1) * 4
    if needed > max(_WIDTH_OVERHEAD * 4 * int(lengths.sum()), _WIDTH_FLOOR):
        raise ValueError(
            f"{what}: {len(ids)} distinct ids with lengths up to {longest} characters would "
            f"need {needed / 2**30:.1f} GiB as fixed-width strings, out of proportion to the "
            f"{int(lengths.sum()) / 2**20:.1f} M characters of the ids; map the longest ids "
            "to shorter ones (e.g. numbers or hashes)"
        )
    return ids.astype(np.str_)


def _object_ids(arr: NDArray[Any], what: str, *, as_objects: bool = False) -> IdArray:
    items = arr.tolist()
    kinds: dict[str, type] = {}
    for t in set(map(type, items)):  # a handful of distinct types, not one per element
        kinds.setdefault(_classify(t), t)
    if "unhashable" in kinds:
        raise TypeError(f"{what} must be hashable scalars, found {kinds['unhashable'].__name__}")
    if "missing" in kinds or "float" in kinds:
        miss = np.frompyfunc(_is_missing, 1, 1)(arr).astype(bool)
        if miss.any():
            i = first_index(miss)
            raise ValueError(f"{what} contain a missing value ({items[i]!r}) at position {i}")
    if "bool" in kinds:
        raise TypeError(f"{what} must be integers or strings, not booleans")
    if "other" in kinds:
        raise TypeError(f"{what} must be integers or strings, not {kinds['other'].__name__}")
    if "str" in kinds and ("int" in kinds or "float" in kinds):
        raise TypeError(f"{what} mix integer and string types")
    if "str" in kinds:
        # numpy strings drop trailing NULs, which would merge 'a' and 'a\0' into one id.
        nul = next((i for i, x in enumerate(items) if x.endswith("\0")), None)
        if nul is not None:
            raise ValueError(
                f"{what} contain {items[nul]!r} at position {nul}, which ends in a NUL "
                "character; such ids cannot be told apart from the id without it"
            )
        return arr if as_objects else arr.astype(np.str_)
    if "float" in kinds:
        return _float_ids(arr.astype(np.float64), what)
    try:
        return np.array(items, dtype=np.int64)
    except OverflowError:
        i = next(i for i, x in enumerate(items) if not _INT64_MIN <= x <= _INT64_MAX)
        raise ValueError(
            f"{what} contain integers beyond the int64 range: {items[i]} at position {i} "
            f"(int64 holds {_INT64_MIN} to {_INT64_MAX})"
        ) from None


def _int_key(x: object) -> tuple[int, bool]:
    if isinstance(x, (bool, np.bool_)):
        return 0, False
    if isinstance(x, (int, np.integer)):
        v = int(x)
        return (v, True) if _INT64_MIN <= v <= _INT64_MAX else (0, False)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        if f == f and f.is_integer() and -(2.0**63) <= f < 2.0**63:
            return int(f), True
    return 0, False


def is_str_id(x: object) -> bool:
    """A str that a numpy string array holds unchanged (it would drop trailing NULs)."""
    return isinstance(x, str) and not x.endswith("\0")


def lookup_keys(
    values: object, kind: IdKind, what: str = "ids"
) -> tuple[NDArray[Any], IdArray, NDArray[np.bool_] | None]:
    """Keys for searching a vocabulary of the given kind.

    Returns ``(original, keys, valid)``; ``valid`` marks entries that could be ids of this
    kind at all (None means all). Ids of the other kind are invalid, never an error.
    """
    arr = to_numpy(values, what)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {arr.shape}")
    n = len(arr)
    src = arr.dtype.kind
    if kind == "U":
        if src == "U":
            return arr, arr, None
        if src == "O":
            valid = np.frompyfunc(is_str_id, 1, 1)(arr).astype(bool)
            return arr, np.where(valid, arr, "").astype(np.str_), valid
        return arr, np.full(n, "", dtype=np.str_), np.zeros(n, dtype=bool)
    if src == "i":
        return arr, arr.astype(np.int64, copy=False), None
    if src == "u":
        ok = arr <= _INT64_MAX
        return arr, np.where(ok, arr, 0).astype(np.int64), ok
    if src == "f":
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(arr) & (arr == np.trunc(arr)) & (arr >= -(2.0**63)) & (arr < 2.0**63)
        return arr, np.where(ok, arr, 0).astype(np.int64), ok
    if src == "O":
        key_obj, ok_obj = np.frompyfunc(_int_key, 1, 2)(arr)
        return arr, np.asarray(key_obj).astype(np.int64), np.asarray(ok_obj).astype(bool)
    return arr, np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)


def _to_float_or_nan(x: object) -> float:
    return float("nan") if _is_missing(x) else float(x)  # type: ignore[arg-type]


def as_float_array(values: object, what: str) -> NDArray[np.float64]:
    """A 1-D float64 array from numeric input; missing values (None, NA) become NaN."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {arr.shape}")
    kind = arr.dtype.kind
    if kind in "biuf":
        return arr.astype(np.float64, copy=False)
    if kind == "O":
        for t in set(map(type, arr.tolist())):  # distinct element types only
            if not issubclass(t, (numbers.Real, *_MISSING_TYPES)):
                raise TypeError(f"{what} must be numeric, found {t.__name__}")
        return np.asarray(np.frompyfunc(_to_float_or_nan, 1, 1)(arr), dtype=np.float64)
    raise TypeError(f"{what} must be numeric, not {arr.dtype}")
