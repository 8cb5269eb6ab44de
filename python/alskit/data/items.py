"""ItemList: an ordered, numpy-backed list of items with optional scores and fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._display import REPR_ROWS, table_repr
from ._arrays import IdArray, IdsLike, as_float_array, as_id_array, first_index, readonly
from ._compat import require_module
from .vocabulary import Vocabulary

_RESERVED = frozenset({"item_id", "item_num", "score"})
_USER_COLUMNS = frozenset({"user_id", "user_num"})
_FORMATS = ("numpy", "torch", "arrow", "pandas")


def _as_format(arr: NDArray[Any], format: str, name: str) -> Any:
    """``arr`` in a LensKit array format; ``"torch"`` gives numpy (alskit has no torch)."""
    if format in ("numpy", "torch"):
        return arr
    if format == "arrow":
        return require_module("pyarrow", f"{name} in arrow format").array(arr)
    if format == "pandas":
        import pandas as pd

        return pd.Series(arr, name=name)
    raise ValueError(f"unknown format {format!r}; expected one of {_FORMATS}")


class ItemList:
    """An ordered list of items (ids and/or vocabulary numbers) with scores and fields.

    Ids are derived lazily from numbers (and vice versa) through the vocabulary. All arrays
    are read-only; the ``rating`` field and scores are float64.
    """

    __slots__ = (
        "_len",
        "_ids",
        "_nums",
        "_first_unknown",
        "_vocab",
        "_scores",
        "_fields",
        "_ordered",
        "_ranks",
    )

    _len: int
    _ids: IdArray | None
    _nums: NDArray[np.int32] | None
    # Position of the first id missing from the own vocabulary (-1: none); set with _nums.
    _first_unknown: int
    _vocab: Vocabulary | None
    _scores: NDArray[np.float64] | None
    _fields: dict[str, NDArray[Any]]
    _ordered: bool
    _ranks: NDArray[np.int32] | None

    def __init__(
        self,
        source: ItemList | IdsLike | None = None,
        *,
        item_ids: IdsLike | None = None,
        item_nums: ArrayLike | None = None,
        vocabulary: Vocabulary | None = None,
        # (bool | None; typed Any so that callers' **fields of arrays type-check)
        ordered: Any = None,
        scores: ArrayLike | Literal[False] | None = None,
        **fields: ArrayLike | Literal[False],
    ) -> None:
        """As LensKit's ``ItemList``: ``source`` is another list (whose data fill in what is
        not given; ``scores=False`` or ``field=False`` drop its scores or a field) or the
        item ids. A ``rank`` field marks the list ordered. Unlike LensKit, ``score``,
        ``item_id`` and ``item_num`` are not accepted as field names (use ``scores=``,
        ``item_ids=``, ``item_nums=``)."""
        if isinstance(source, ItemList):
            if item_ids is None and item_nums is None:
                item_ids, item_nums = source._ids, source._nums
                if item_ids is None and item_nums is None:
                    item_ids = source.ids()
            vocabulary = source._vocab if vocabulary is None else vocabulary
            if scores is None:
                scores = source._scores
            fields = {**source._fields, **fields}
            ordered = source._ordered if ordered is None else ordered
        elif source is not None:
            if item_ids is not None:
                raise ValueError("give the item ids once: positionally or as item_ids=")
            item_ids = source
        if scores is False:
            scores = None
        fields = {k: v for k, v in fields.items() if v is not False}
        ranks = fields.pop("rank", None)
        self._ordered = bool(ordered) or (ranks is not None and ordered is None)
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
        self._ranks = None
        if ranks is not None and self._ordered:
            self._ranks = readonly(_column("rank", ranks, n, None).astype(np.int32))
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
        ordered: bool = False,
    ) -> ItemList:
        obj = cls.__new__(cls)
        obj._ordered = ordered
        obj._ranks = None
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
    def from_df(
        cls, df: Any, *, vocabulary: Vocabulary | None = None, keep_user: bool = False
    ) -> ItemList:
        """From a DataFrame with ``item_id`` (or ``item_num``), optional ``score`` and
        ``rank``; other columns become fields, except the user columns (``user_id``,
        ``user_num``) unless ``keep_user``."""
        columns = [str(c) for c in df.columns]
        if "item_id" not in columns and "item_num" not in columns:
            raise ValueError(f"no 'item_id' or 'item_num' column; available columns: {columns}")
        ids = df["item_id"].to_numpy() if "item_id" in columns else None
        nums = df["item_num"].to_numpy() if "item_num" in columns else None
        scores = df["score"].to_numpy() if "score" in columns else None
        fields = {
            c: df[c].to_numpy()
            for c in columns
            if c not in _RESERVED and (keep_user or c not in _USER_COLUMNS)
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

    @property
    def ordered(self) -> bool:
        """Whether the order of the list means something (a ranking, e.g. from
        :meth:`top_n`); only ordered lists have :meth:`ranks`."""
        return self._ordered

    def ids(self, *, format: Literal["numpy", "arrow"] = "numpy") -> Any:
        """Item ids (int64 or unicode), read-only; ``format="arrow"`` gives a pyarrow array.

        Raises ValueError (LensKit: RuntimeError) if the list has numbers but no vocabulary.
        """
        if self._ids is None:
            if self._vocab is None:
                raise ValueError("item list has numbers but no vocabulary, so no ids")
            assert self._nums is not None
            self._ids = readonly(self._vocab.ids(self._nums))
        return _as_format(self._ids, format, "ids")

    def numbers(
        self,
        format: str | Vocabulary = "numpy",
        *,
        vocabulary: Vocabulary | None = None,
        missing: Literal["error", "negative"] = "error",
    ) -> Any:
        """Item numbers (int32) in this list's vocabulary or in another one.

        Unknown items raise KeyError (``'error'``) or become -1 (``'negative'``). ``format``:
        ``"numpy"`` (also for LensKit's ``"torch"``: alskit returns numpy, never a tensor),
        ``"arrow"`` or ``"pandas"``. A Vocabulary as the first argument is taken as
        ``vocabulary`` (alskit's earlier signature).
        """
        if isinstance(format, Vocabulary):
            vocabulary = format
            format = "numpy"
        if missing not in ("error", "negative"):
            raise ValueError(f"missing must be 'error' or 'negative', not {missing!r}")
        if vocabulary is not None and vocabulary is not self._vocab:
            return _as_format(vocabulary.numbers(self.ids(), missing=missing), format, "numbers")
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
        return _as_format(self._nums, format, "numbers")

    def scores(self, format: str = "numpy", *, index: str | None = None) -> Any:
        """Scores, or None if the list has none: float64 (LensKit stores float32) in the
        ``format`` of :meth:`field` (e.g. ``scores("pandas", index="ids")``)."""
        return self.field("score", format, index=index)

    def field(self, name: str, format: str = "numpy", *, index: str | None = None) -> Any:
        """A named field (e.g. ``'rating'``; ``'score'`` gives the scores, ``'rank'`` the
        ranks), or None if the list has no such field.

        ``format``: ``"numpy"`` (the read-only array; LensKit's ``"torch"`` also gives numpy:
        alskit has no torch), ``"arrow"`` (a pyarrow array) or ``"pandas"`` (a Series indexed
        by ``index``: ``"ids"`` → ``item_id``, ``"numbers"`` → ``item_num``, None → 0..n-1).
        """
        if name == "score":
            value = self._scores
        elif name == "rank":
            value = self.ranks()
        else:
            value = self._fields.get(name)
        if value is None:
            if format not in _FORMATS:
                raise ValueError(f"unknown format {format!r}; expected one of {_FORMATS}")
            return None
        if format == "pandas":
            import pandas as pd

            if index not in (None, "ids", "numbers"):
                raise ValueError(f"index must be 'ids', 'numbers' or None, not {index!r}")
            idx = None
            if index == "ids":
                idx = pd.Index(self.ids(), name="item_id")
            elif index == "numbers":
                idx = pd.Index(self.numbers(), name="item_num")
            return pd.Series(value, index=idx, name=name)
        if index is not None:
            raise ValueError("index= applies to the 'pandas' format only")
        return _as_format(value, format, name)

    def ranks(self, format: str = "numpy") -> Any:
        """1-based ranks (int32) of an ordered list, by position (not by score); None for
        an unordered list."""
        if not self._ordered:
            return None
        if self._ranks is None:
            self._ranks = readonly(np.arange(1, self._len + 1, dtype=np.int32))
        if format == "pandas":
            import pandas as pd

            return pd.Series(self._ranks, name="rank")
        return _as_format(self._ranks, format, "rank")

    def isin(self, other: ItemList) -> NDArray[np.bool_]:
        """Which items of this list are in ``other`` (by id; ids of another type never
        match)."""
        if not isinstance(other, ItemList):
            raise TypeError(f"other must be an ItemList, not {type(other).__name__}")
        vocab = self._vocab
        if vocab is None:
            vocab = Vocabulary(self.ids())
            mine = vocab.numbers(self.ids())
        else:
            mine = self.numbers(missing="negative")
        theirs = other.numbers(vocabulary=vocab, missing="negative")
        present = np.zeros(len(vocab) + 1, dtype=bool)  # the last slot: unknown (-1)
        present[theirs[theirs >= 0]] = True
        out: NDArray[np.bool_] = present[mine]
        return out

    def top_n(self, n: int | None = None, *, scores: str | ArrayLike | None = None) -> ItemList:
        """The ``n`` best-scored items, best first, as an ordered list (``n`` None or
        negative: all items, sorted). Items whose score is NaN are left out; ties keep list
        order. ``scores``: a field name or an array of scores to rank by (default: the
        list's scores)."""
        if scores is None:
            values = self._scores
            if values is None:
                raise ValueError("item list has no scores")
        elif isinstance(scores, str):
            values = self.field(scores)
            if values is None:
                raise KeyError(scores)
        else:
            values = as_float_array(np.asarray(scores), "scores")
            if len(values) != self._len:
                raise ValueError(f"scores has {len(values)} entries but the list has {self._len}")
        values = np.asarray(values, dtype=np.float64)
        valid = np.flatnonzero(~np.isnan(values))
        order = valid[np.argsort(-values[valid], kind="stable")]
        if n is not None and n >= 0:
            order = order[:n]
        return self._take(order, ordered=True)

    def remove(self, *, ids: IdsLike | None = None, numbers: ArrayLike | None = None) -> ItemList:
        """This list without the given items (by id or by number; they need not be in it)."""
        if (ids is None) == (numbers is None):
            raise ValueError("give exactly one of ids= and numbers=")
        if ids is not None:
            drop = self.isin(ItemList(ids))
        else:
            drop = np.isin(self.numbers(missing="negative"), np.asarray(numbers))
        return self._take(~drop)

    def clone(self) -> ItemList:
        """A shallow copy (the arrays are read-only, so shared)."""
        return self._take(slice(None))

    @classmethod
    def from_vocabulary(cls, vocab: Vocabulary) -> ItemList:
        """Every item of the vocabulary, in number order."""
        return cls(item_nums=np.arange(len(vocab), dtype=np.int32), vocabulary=vocab)

    def to_arrow(
        self,
        *,
        ids: bool = True,
        numbers: bool = False,
        type: Literal["table", "array"] = "table",
        columns: Mapping[str, Any] | None = None,
    ) -> Any:
        """A pyarrow Table (``type="array"``: StructArray) with ``item_id`` (``ids``),
        ``item_num`` (``numbers``), ``score``, ``rank`` (ordered lists) and the fields;
        ``columns`` (name → pyarrow type) picks and types the columns instead."""
        pa = require_module("pyarrow", "ItemList.to_arrow")
        if type not in ("table", "array"):
            raise ValueError(f"type must be 'table' or 'array', not {type!r}")
        cols = self._columns(ids=ids, numbers=numbers)
        if columns is not None:
            missing = [c for c in columns if c not in cols]
            if missing and len(self):
                raise KeyError(f"the item list has no columns {missing}")
            arrays = [pa.array(cols[c] if c in cols else [], type=t) for c, t in columns.items()]
            names = list(columns)
        else:
            arrays = [pa.array(v) for v in cols.values()]
            names = list(cols)
        if type == "table":
            return pa.Table.from_arrays(arrays, names)
        return pa.StructArray.from_arrays(arrays, names)

    @classmethod
    def from_arrow(cls, table: Any, *, vocabulary: Vocabulary | None = None) -> ItemList:
        """From a pyarrow Table (or StructArray) with ``item_id`` and/or ``item_num``."""
        pa = require_module("pyarrow", "ItemList.from_arrow")
        if isinstance(table, (pa.StructArray, pa.ChunkedArray)):
            table = pa.Table.from_struct_array(table)
        return cls.from_df(table.to_pandas(), vocabulary=vocabulary)

    def _columns(self, *, ids: bool, numbers: bool) -> dict[str, NDArray[Any]]:
        cols: dict[str, NDArray[Any]] = {}
        has_ids = self._ids is not None or self._vocab is not None
        if ids and has_ids:
            cols["item_id"] = self.ids()
        if (numbers or not has_ids) and (self._nums is not None or self._vocab is not None):
            cols["item_num"] = self.numbers(missing="negative")
        if self._scores is not None:
            cols["score"] = self._scores
        if self._ordered:
            cols["rank"] = self.ranks()
        cols.update(self._fields)
        return cols

    def __getitem__(self, sel: slice | ArrayLike) -> ItemList:
        """Subset by a slice, an integer position array or a boolean mask (an ordered list
        stays ordered; its ranks are the new positions)."""
        return self._take(sel)

    def _take(self, sel: slice | ArrayLike, ordered: bool = False) -> ItemList:
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
        return ItemList._make(
            n, ids, nums, first_unknown, self._vocab, scores, fields, ordered or self._ordered
        )

    def to_df(self, *, ids: bool = True, numbers: bool = False) -> Any:
        """A pandas DataFrame with ``item_id`` (``ids``), ``item_num`` (``numbers``, or when
        there are no ids), ``score``, ``rank`` (ordered lists) and the fields. (LensKit
        includes ``item_num`` by default; alskit only when asked.)"""
        import pandas as pd

        return pd.DataFrame(self._columns(ids=ids, numbers=numbers))

    def __repr__(self) -> str:
        parts = [f"{self._len} items"]
        if self._vocab is not None and self._vocab.name:
            parts.append(f"vocabulary={self._vocab.name!r}")
        if self._scores is not None:
            parts.append("scores")
        names = (["rank"] if self._ordered else []) + list(self._fields)
        if names:
            parts.append(f"fields={names}")
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
