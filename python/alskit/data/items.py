"""ItemList: an ordered, numpy-backed list of items with optional scores and fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._display import REPR_ROWS, table_repr
from ._arrays import IdArray, IdsLike, as_float_array, as_id_array, first_index, readonly
from .vocabulary import Vocabulary

_RESERVED = frozenset({"item_id", "item_num", "score"})
_USER_COLUMNS = frozenset({"user_id", "user_num"})


class ItemList:
    """An ordered list of items (ids and/or vocabulary numbers) with scores and fields.

    Ids are derived lazily from numbers (and vice versa) through the vocabulary. All arrays
    are read-only; the ``rating`` field and scores are float64.
    """

    __slots__ = ("_len", "_ids", "_nums", "_first_unknown", "_vocab", "_scores", "_fields")

    _len: int
    _ids: IdArray | None
    _nums: NDArray[np.int32] | None
    # Position of the first id missing from the own vocabulary (-1: none); set with _nums.
    _first_unknown: int
    _vocab: Vocabulary | None
    _scores: NDArray[np.float64] | None
    _fields: dict[str, NDArray[Any]]

    def __init__(
        self,
        item_ids: IdsLike | None = None,
        *,
        item_nums: ArrayLike | None = None,
        vocabulary: Vocabulary | None = None,
        scores: ArrayLike | None = None,
        **fields: ArrayLike,
    ) -> None:
        if vocabulary is not None and not isinstance(vocabulary, Vocabulary):
            raise TypeError(f"vocabulary must be a Vocabulary, not {type(vocabulary).__name__}")
        ids = None if item_ids is None else as_id_array(item_ids, "item_ids")
        nums = None if item_nums is None else _as_numbers(item_nums, vocabulary)
        if ids is None and nums is None:
            ids = np.empty(0, dtype=np.int64) if vocabulary is None else vocabulary.ids()[:0]
        if ids is not None and nums is not None:
            if len(ids) != len(nums):
                raise ValueError(f"item_ids has {len(ids)} entries but item_nums has {len(nums)}")
            if vocabulary is not None and not np.array_equal(vocabulary.ids(nums), ids):
                raise ValueError("item_ids and item_nums disagree with the vocabulary")
        n = len(ids) if ids is not None else len(nums)  # type: ignore[arg-type]
        self._len = n
        self._ids = None if ids is None else readonly(ids)
        self._nums = None if nums is None else readonly(nums)
        self._first_unknown = -1
        self._vocab = vocabulary
        self._scores = None if scores is None else _column("scores", scores, n, float)
        self._fields = {}
        for name, value in fields.items():
            if name in _RESERVED:
                raise ValueError(f"field name {name!r} is reserved; use item_ids/item_nums/scores")
            self._fields[name] = _column(name, value, n, float if name == "rating" else None)

    @classmethod
    def _make(
        cls,
        n: int,
        ids: IdArray | None,
        nums: NDArray[np.int32] | None,
        first_unknown: int,
        vocab: Vocabulary | None,
        scores: NDArray[np.float64] | None,
        fields: dict[str, NDArray[Any]],
    ) -> ItemList:
        obj = cls.__new__(cls)
        obj._len = n
        obj._ids = ids
        obj._nums = nums
        obj._first_unknown = first_unknown
        obj._vocab = vocab
        obj._scores = scores
        obj._fields = fields
        return obj

    @classmethod
    def from_ratings(
        cls, ratings: Mapping[Any, float] | Any, *, vocabulary: Vocabulary | None = None
    ) -> ItemList:
        """Items and a ``rating`` field from ``{item_id: rating}`` (or a pandas Series)."""
        if hasattr(ratings, "to_numpy") and hasattr(ratings, "index"):
            ids: Any = ratings.index
            values: Any = ratings.to_numpy()
        else:
            ids = list(ratings.keys())
            values = list(ratings.values())
        return cls(ids, vocabulary=vocabulary, rating=as_float_array(values, "ratings"))

    @classmethod
    def from_df(cls, df: Any, *, vocabulary: Vocabulary | None = None) -> ItemList:
        """From a DataFrame with ``item_id`` (or ``item_num``), optional ``score``; other
        columns (except user columns) become fields."""
        columns = [str(c) for c in df.columns]
        if "item_id" not in columns and "item_num" not in columns:
            raise ValueError(f"no 'item_id' or 'item_num' column; available columns: {columns}")
        ids = df["item_id"].to_numpy() if "item_id" in columns else None
        nums = df["item_num"].to_numpy() if "item_num" in columns else None
        scores = df["score"].to_numpy() if "score" in columns else None
        fields = {
            c: df[c].to_numpy() for c in columns if c not in _RESERVED and c not in _USER_COLUMNS
        }
        return cls(ids, item_nums=nums, vocabulary=vocabulary, scores=scores, **fields)

    def __len__(self) -> int:
        return self._len

    @property
    def vocabulary(self) -> Vocabulary | None:
        """The vocabulary that the item numbers refer to, if any."""
        return self._vocab

    @property
    def field_names(self) -> tuple[str, ...]:
        """Names of the extra fields (not including scores)."""
        return tuple(self._fields)

    def with_scores(self, scores: ArrayLike) -> ItemList:
        """A copy of this list (ids, numbers, vocabulary, fields) with new scores."""
        copy = ItemList.__new__(ItemList)
        for slot in ItemList.__slots__:
            setattr(copy, slot, getattr(self, slot))
        copy._scores = _column("scores", scores, self._len, float)
        copy._fields = dict(self._fields)
        return copy

    def ids(self) -> IdArray:
        """Item ids (int64 or unicode), read-only."""
        if self._ids is None:
            if self._vocab is None:
                raise ValueError("item list has numbers but no vocabulary, so no ids")
            assert self._nums is not None
            self._ids = readonly(self._vocab.ids(self._nums))
        return self._ids

    def numbers(
        self,
        vocabulary: Vocabulary | None = None,
        missing: Literal["error", "negative"] = "error",
    ) -> NDArray[np.int32]:
        """Item numbers (int32) in this list's vocabulary or in another one.

        Unknown items raise KeyError (``'error'``) or become -1 (``'negative'``).
        """
        if missing not in ("error", "negative"):
            raise ValueError(f"missing must be 'error' or 'negative', not {missing!r}")
        if vocabulary is not None and vocabulary is not self._vocab:
            return vocabulary.numbers(self.ids(), missing=missing)
        if self._nums is None:
            if self._vocab is None:
                raise ValueError("item list has no vocabulary, so no item numbers")
            assert self._ids is not None
            nums = self._vocab.numbers(self._ids, missing="negative")
            unknown = nums < 0
            self._first_unknown = first_index(unknown) if unknown.any() else -1
            self._nums = readonly(nums)
        if missing == "error" and self._first_unknown >= 0:
            bad = self.ids()[self._first_unknown].item()
            raise KeyError(f"unknown item id {bad!r}")
        return self._nums

    def scores(self) -> NDArray[np.float64] | None:
        """Scores (float64), or None if the list has none."""
        return self._scores

    def field(self, name: str) -> NDArray[Any] | None:
        """A named field (e.g. ``'rating'``), or None; ``'score'`` gives the scores."""
        if name == "score":
            return self._scores
        return self._fields.get(name)

    def __getitem__(self, sel: slice | ArrayLike) -> ItemList:
        """Subset by a slice, an integer position array or a boolean mask."""
        if isinstance(sel, (int, np.integer)):
            raise TypeError("index an ItemList with a slice, position array or mask, not an int")
        idx: slice | NDArray[Any]
        if isinstance(sel, slice):
            idx = sel
        else:
            idx = np.asarray(sel)
            if idx.size == 0:
                idx = idx.astype(np.intp)
            if idx.ndim != 1:
                raise ValueError(f"item list index must be one-dimensional, got shape {idx.shape}")
            if idx.dtype.kind == "b":
                if len(idx) != self._len:
                    raise ValueError(f"mask has {len(idx)} entries but the list has {self._len}")
            elif idx.dtype.kind not in "iu":
                raise TypeError(f"item list index must be integers or booleans, not {idx.dtype}")
        ids = None if self._ids is None else readonly(self._ids[idx])
        nums = None if self._nums is None else readonly(self._nums[idx])
        first_unknown = -1
        if nums is not None and self._first_unknown >= 0:
            unknown = nums < 0
            first_unknown = first_index(unknown) if unknown.any() else -1
        n = len(ids) if ids is not None else len(nums)  # type: ignore[arg-type]
        scores = None if self._scores is None else readonly(self._scores[idx])
        fields = {k: readonly(v[idx]) for k, v in self._fields.items()}
        return ItemList._make(n, ids, nums, first_unknown, self._vocab, scores, fields)

    def to_df(self, *, numbers: bool = False) -> Any:
        """A pandas DataFrame with ``item_id`` (and ``item_num``), ``score`` and fields."""
        import pandas as pd

        cols: dict[str, NDArray[Any]] = {}
        has_ids = self._ids is not None or self._vocab is not None
        if has_ids:
            cols["item_id"] = self.ids()
        if numbers or not has_ids:
            cols["item_num"] = self.numbers(missing="negative")
        if self._scores is not None:
            cols["score"] = self._scores
        cols.update(self._fields)
        return pd.DataFrame(cols)

    def __repr__(self) -> str:
        parts = [f"{self._len} items"]
        if self._vocab is not None and self._vocab.name:
            parts.append(f"vocabulary={self._vocab.name!r}")
        if self._scores is not None:
            parts.append("scores")
        if self._fields:
            parts.append(f"fields={list(self._fields)}")
        title = f"ItemList({', '.join(parts)})"
        return table_repr(title, self[:REPR_ROWS].to_df(), self._len)


def _as_numbers(values: ArrayLike, vocab: Vocabulary | None) -> NDArray[np.int32]:
    arr = np.asarray(values)
    if arr.size == 0:
        return np.empty(0, dtype=np.int32)
    if arr.ndim != 1:
        raise ValueError(f"item_nums must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"item_nums must be integers, not {arr.dtype}")
    limit = len(vocab) if vocab is not None else np.iinfo(np.int32).max
    bad = (arr < 0) | (arr >= limit)
    if bad.any():
        raise ValueError(f"item_nums contain {arr[first_index(bad)]}, outside [0, {limit})")
    return arr.astype(np.int32, copy=False)


def _column(name: str, value: ArrayLike, n: int, dtype: type | None) -> NDArray[Any]:
    arr = as_float_array(np.atleast_1d(value), name) if dtype is float else np.asarray(value)
    if np.ndim(value) == 0:
        arr = np.full(n, arr.reshape(-1)[0], dtype=arr.dtype)  # a scalar applies to every item
    if arr.ndim != 1:
        raise ValueError(f"field {name!r} must be one-dimensional, got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"field {name!r} has {len(arr)} entries but the list has {n} items")
    return readonly(arr)
