"""Vocabulary: a bijection between ids (ints or strings) and dense numbers 0..n-1."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

from ._arrays import (
    IdArray,
    IdKind,
    IdsLike,
    as_id_array,
    factorize_ids,
    first_index,
    is_str_id,
    lookup_keys,
    readonly,
)

MAX_SIZE = int(np.iinfo(np.int32).max)


class Vocabulary:
    """Maps ids (int64 or strings) to numbers 0..n-1 and back.

    With ``reorder=True`` (the default, as in LensKit) ids are sorted and deduplicated;
    with ``reorder=False`` they must be unique and keep the given order.
    """

    __slots__ = ("_ids", "_name", "_sorted_ids", "_order", "_index")

    _ids: IdArray
    _name: str | None
    _sorted_ids: IdArray
    # None when ids are already sorted, so numbers are positions in the sorted array.
    _order: NDArray[np.int32] | None

    def __init__(
        self, ids: IdsLike | None = None, name: str | None = None, *, reorder: bool = True
    ) -> None:
        if reorder:
            # Distinct ids first: a list of strings never becomes a fixed-width array of
            # every entry × the longest one.
            uniq = np.empty(0, dtype=np.int64) if ids is None else factorize_ids(ids, "ids")[0]
            self._setup(uniq, name, is_sorted=True)
            return
        arr = np.empty(0, dtype=np.int64) if ids is None else as_id_array(ids, "ids")
        order = np.argsort(arr, kind="stable")
        srt = arr[order]
        dup = srt[1:] == srt[:-1]
        if dup.any():
            raise ValueError(f"duplicate id {srt[first_index(dup)].item()!r} in vocabulary ids")
        is_sorted = bool(np.all(order[1:] > order[:-1]))
        self._setup(np.array(arr, copy=True), name, is_sorted=is_sorted, order=order)

    @classmethod
    def _from_unique(cls, ids: IdArray, name: str | None, *, is_sorted: bool) -> Vocabulary:
        """Build from ids already known to be unique (skips the duplicate check)."""
        vocab = cls.__new__(cls)
        vocab._setup(ids, name, is_sorted=is_sorted)
        return vocab

    def _setup(
        self,
        ids: IdArray,
        name: str | None,
        *,
        is_sorted: bool | None,
        order: NDArray[np.intp] | None = None,
    ) -> None:
        if len(ids) > MAX_SIZE:
            # Numbers are int32 throughout (CSR indices, the native core): refuse, never wrap.
            raise ValueError(
                f"a vocabulary holds at most {MAX_SIZE} ids (int32 numbers), got {len(ids)}"
            )
        if is_sorted is None:
            is_sorted = bool(np.all(ids[1:] > ids[:-1]))
        self._ids = readonly(ids)
        self._name = name
        self._index: Any = None
        if is_sorted:
            self._sorted_ids = self._ids
            self._order = None
        else:
            if order is None:
                order = np.argsort(ids, kind="stable")
            self._sorted_ids = readonly(ids[order])
            self._order = readonly(order.astype(np.int32))

    @property
    def name(self) -> str | None:
        """The vocabulary's name (e.g. 'user' or 'item'), used in messages."""
        return self._name

    @property
    def index(self) -> Any:
        """The ids as a pandas Index in number order (so ``get_indexer`` gives numbers),
        named ``'<name>_id'`` (e.g. ``'item_id'``) as in LensKit."""
        if self._index is None:
            import pandas as pd

            self._index = pd.Index(self._ids, name=f"{self._name}_id" if self._name else None)
        return self._index

    def term(self, number: int) -> Any:
        """LensKit's name for :meth:`id`."""
        return self.id(number)

    def terms(self, numbers: NDArray[np.integer[Any]] | list[int] | None = None) -> IdArray:
        """LensKit's name for :meth:`ids`."""
        return self.ids(numbers)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> NDArray[Any]:
        return np.asarray(self._ids, dtype=dtype)

    @property
    def size(self) -> int:
        """Number of ids."""
        return len(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def _kind(self) -> IdKind:
        return "U" if self._ids.dtype.kind == "U" else "i"

    @property
    def _label(self) -> str:
        return f"{self._name} id" if self._name else "id"

    def ids(self, numbers: NDArray[np.integer[Any]] | list[int] | None = None) -> IdArray:
        """All ids in number order (read-only), or the ids for the given numbers."""
        if numbers is None:
            return self._ids
        nums = np.asarray(numbers)
        if nums.size == 0:
            return self._ids[:0]
        if nums.dtype.kind not in "iu":
            raise TypeError(f"numbers must be integers, not {nums.dtype}")
        bad = (nums < 0) | (nums >= len(self._ids))
        if bad.any():
            i = first_index(bad)
            raise IndexError(f"number {nums[i]} out of range for vocabulary of size {len(self)}")
        out: IdArray = self._ids[nums]
        return out

    def id(self, number: int) -> Any:
        """The id (a Python int or str) with the given number."""
        n = operator.index(number)
        if n < 0 or n >= len(self._ids):
            raise IndexError(f"number {n} out of range for vocabulary of size {len(self)}")
        return self._ids[n].item()

    @overload
    def number(self, id: Any, missing: Literal["error"] = "error") -> int: ...
    @overload
    def number(self, id: Any, missing: Literal["none"]) -> int | None: ...
    def number(self, id: Any, missing: Literal["error", "none"] = "error") -> int | None:
        """The number of one id; unknown ids raise KeyError or give None."""
        if isinstance(id, (list, tuple, set, dict, np.ndarray)):
            raise TypeError("number() takes a single id; use numbers() for several")
        num = self._find_scalar(id)
        if num is None and missing == "error":
            raise KeyError(f"unknown {self._label} {id!r}")
        return num

    def _find_scalar(self, id: Any) -> int | None:
        kind = self._kind
        if len(self._ids) == 0:
            return None
        # Fast path for the common scalar types; anything else goes through the array path.
        if (kind == "U" and is_str_id(id)) or (
            kind == "i"
            and isinstance(id, (int, np.integer))
            and not isinstance(id, (bool, np.bool_))
            and -(2**63) <= id < 2**63
        ):
            pos = int(np.searchsorted(self._sorted_ids, id))
            if pos < len(self._sorted_ids) and self._sorted_ids[pos] == id:
                return pos if self._order is None else int(self._order[pos])
            return None
        cell = np.empty(1, dtype=object)
        cell[0] = id
        _, keys, valid = lookup_keys(cell, kind)
        nums, found = self._find(keys, valid)
        return int(nums[0]) if found[0] else None

    def _find(
        self, keys: IdArray, valid: NDArray[np.bool_] | None
    ) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
        n = len(self._sorted_ids)
        if n == 0:
            return np.zeros(len(keys), dtype=np.int32), np.zeros(len(keys), dtype=bool)
        pos = np.minimum(np.searchsorted(self._sorted_ids, keys), n - 1)
        found = np.asarray(self._sorted_ids[pos] == keys, dtype=bool)
        if valid is not None:
            found &= valid
        nums = pos if self._order is None else self._order[pos]
        return nums.astype(np.int32), found

    @overload
    def numbers(
        self, ids: IdsLike, missing: Literal["error", "negative"] = "error"
    ) -> NDArray[np.int32]: ...
    @overload
    def numbers(self, ids: IdsLike, missing: Literal["none"]) -> NDArray[np.object_]: ...
    def numbers(
        self, ids: IdsLike, missing: Literal["error", "negative", "none"] = "error"
    ) -> NDArray[np.int32] | NDArray[np.object_]:
        """Numbers (int32) of many ids, vectorized.

        Unknown ids (including ids of the other type) raise KeyError naming the first one
        (``'error'``), become -1 (``'negative'``), or None in an object array (``'none'``).
        """
        if missing not in ("error", "negative", "none"):
            raise ValueError(f"missing must be 'error', 'negative' or 'none', not {missing!r}")
        orig, keys, valid = lookup_keys(ids, self._kind)
        nums, found = self._find(keys, valid)
        if found.all():
            return nums if missing != "none" else nums.astype(object)
        if missing == "error":
            bad = orig[first_index(~found)]
            raise KeyError(f"unknown {self._label} {bad.item() if hasattr(bad, 'item') else bad!r}")
        if missing == "negative":
            nums[~found] = -1
            return nums
        out = nums.astype(object)
        out[~found] = None
        return out

    def __contains__(self, id: object) -> bool:
        try:
            return self.number(id, missing="none") is not None
        except TypeError:
            return False

    def __iter__(self) -> Iterator[Any]:
        return iter(self._ids.tolist())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        if len(self) != len(other) or self._kind != other._kind:
            return False
        return bool(np.array_equal(self._ids, other._ids))

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self) -> dict[str, Any]:
        return {"ids": np.asarray(self._ids), "name": self._name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup(np.array(state["ids"], copy=True), state["name"], is_sorted=None)

    def __repr__(self) -> str:
        head = ", ".join(repr(x) for x in self._ids[:5].tolist())
        more = ", ..." if len(self) > 5 else ""
        return f"Vocabulary(name={self._name!r}, size={len(self)}, ids=[{head}{more}])"
