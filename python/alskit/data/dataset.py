"""Dataset: user and item vocabularies plus deduplicated, sorted interactions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ._arrays import (
    IdArray,
    IdsLike,
    as_float_array,
    as_id_array,
    factorize_ids,
    first_index,
    readonly,
)
from ._columns import Columns, Request, resolve_columns
from ._compat import require_module
from .items import ItemList
from .matrix import CSRMatrix, DuplicateEntries, coo_order, indptr_of
from .vocabulary import Vocabulary

Duplicates: TypeAlias = Literal["error", "last", "sum"]
MatrixFormat: TypeAlias = Literal["csr", "structure", "scipy", "pandas", "torch"]
#: The interaction class of a Dataset not named otherwise (LensKit's from_interactions_df).
DEFAULT_CLASS = "rating"
VocabLike: TypeAlias = Vocabulary | IdsLike
RowLabel: TypeAlias = Callable[[int], str]


def _input_row(i: int) -> str:
    return f"input row {i}"


class Dataset:
    """Users, items and their interactions (optionally ratings and timestamps).

    Interactions are stored sorted by user number then item number, one per (user, item)
    pair: ``user_nums``/``item_nums`` are int32, ``ratings`` float64. All arrays are
    read-only. Vocabularies may hold users/items without interactions (empty rows).
    """

    def __init__(
        self,
        users: Vocabulary,
        items: Vocabulary,
        user_nums: ArrayLike,
        item_nums: ArrayLike,
        ratings: ArrayLike | None = None,
        timestamps: ArrayLike | None = None,
        *,
        duplicates: Duplicates = "error",
    ) -> None:
        self._build(users, items, user_nums, item_nums, ratings, timestamps, duplicates)

    def _build(
        self,
        users: Vocabulary,
        items: Vocabulary,
        user_nums: ArrayLike,
        item_nums: ArrayLike,
        ratings: ArrayLike | None,
        timestamps: ArrayLike | None,
        duplicates: Duplicates,
        row_label: RowLabel = _input_row,
    ) -> None:
        if duplicates not in ("error", "last", "sum"):
            raise ValueError(f"duplicates must be 'error', 'last' or 'sum', not {duplicates!r}")
        for name, vocab in (("users", users), ("items", items)):
            if not isinstance(vocab, Vocabulary):
                raise TypeError(f"{name} must be a Vocabulary, not {type(vocab).__name__}")
        un = _as_nums("user_nums", user_nums, len(users))
        inn = _as_nums("item_nums", item_nums, len(items))
        columns: list[tuple[str, NDArray[Any]]] = [("user_nums", un), ("item_nums", inn)]
        r = None
        if ratings is not None:
            r = as_float_array(ratings, "ratings")
            columns.append(("ratings", r))
        ts = None
        if timestamps is not None:
            ts = np.asarray(timestamps)
            if ts.ndim != 1:
                raise ValueError(f"timestamps must be one-dimensional, got shape {ts.shape}")
            columns.append(("timestamps", ts))
        _check_lengths(columns)
        if len(un) == 0:
            raise ValueError("no interactions")
        if r is not None:
            bad = ~np.isfinite(r)
            if bad.any():
                i = first_index(bad)
                raise ValueError(f"rating at {row_label(i)} is {r[i]}; ratings must be finite")

        sel, r, ts = _canonical_order(users, items, un, inn, r, ts, duplicates, row_label)
        if sel is not None:
            un, inn = un[sel], inn[sel]
        else:
            # Already in order: copy anyway so the caller's arrays stay theirs to change.
            un, inn = un.copy(), inn.copy()
            r = None if r is None else r.copy()
            ts = None if ts is None else ts.copy()
        self._setup(users, items, un, inn, r, ts)

    def _setup(
        self,
        users: Vocabulary,
        items: Vocabulary,
        un: NDArray[np.int32],
        inn: NDArray[np.int32],
        ratings: NDArray[np.float64] | None,
        timestamps: NDArray[Any] | None,
    ) -> None:
        self._users = users
        self._items = items
        self._user_nums = readonly(un.astype(np.int32, copy=False))
        self._item_nums = readonly(inn.astype(np.int32, copy=False))
        self._ratings = None if ratings is None else readonly(ratings)
        self._timestamps = None if timestamps is None else readonly(timestamps)
        self._indptr = readonly(indptr_of(un, len(users)))
        self._values: dict[np.dtype[Any], NDArray[np.floating[Any]]] = {}
        self._class = DEFAULT_CLASS

    # ---- constructors -------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        user_ids: IdsLike,
        item_ids: IdsLike,
        ratings: ArrayLike | None = None,
        timestamps: ArrayLike | None = None,
        *,
        users: VocabLike | None = None,
        items: VocabLike | None = None,
        duplicates: Duplicates = "error",
    ) -> Dataset:
        """From parallel arrays of user ids, item ids and optional ratings/timestamps.

        ``users``/``items`` (a Vocabulary or ids) fix the vocabularies, which may contain
        ids without interactions; otherwise they are the sorted distinct ids.
        """
        return cls._from_ids(user_ids, item_ids, ratings, timestamps, users, items, duplicates)

    @classmethod
    def _from_ids(
        cls,
        user_ids: IdsLike,
        item_ids: IdsLike,
        ratings: ArrayLike | None,
        timestamps: ArrayLike | None,
        users: VocabLike | None,
        items: VocabLike | None,
        duplicates: Duplicates,
        row_label: RowLabel = _input_row,
    ) -> Dataset:
        # Distinct ids first: rows are never copied into a fixed-width string array.
        uniq_users, user_rows = factorize_ids(user_ids, "user ids")
        uniq_items, item_rows = factorize_ids(item_ids, "item ids")
        _check_lengths([("user_ids", user_rows), ("item_ids", item_rows)])
        uvocab, un = _number(uniq_users, user_rows, users, "user", row_label)
        ivocab, inn = _number(uniq_items, item_rows, items, "item", row_label)
        ds = cls.__new__(cls)
        ds._build(uvocab, ivocab, un, inn, ratings, timestamps, duplicates, row_label)
        return ds

    @classmethod
    def from_interactions_df(
        cls,
        df: Any,
        *,
        user_col: str = "user_id",
        item_col: str = "item_id",
        rating_col: str | None = "rating",
        timestamp_col: str | None = "timestamp",
        users: VocabLike | None = None,
        items: VocabLike | None = None,
        duplicates: Duplicates = "error",
    ) -> Dataset:
        """From a pandas DataFrame of interactions.

        ``user_col``/``item_col`` are required; for the default names the spellings
        LensKit recognises are accepted too (``user``, ``USER``, ``userId``, ``UserId``; the
        same for items), also as index levels. The rating and timestamp columns are used if
        present (``rating``/``RATING``, ``timestamp``/``TIMESTAMP``); a non-default name that
        is absent is an error. None disables them. Unlike the module-level
        :func:`alskit.data.from_interactions_df`, ids outside given ``users``/``items`` are
        an error, not dropped.
        """
        df, columns = frame_columns(df, user_col, item_col, rating_col, timestamp_col)
        return cls._from_ids(
            df[columns.user].to_numpy(),
            df[columns.item].to_numpy(),
            None if columns.rating is None else df[columns.rating].to_numpy(),
            None if columns.timestamp is None else df[columns.timestamp].to_numpy(),
            users,
            items,
            duplicates,
        )

    @classmethod
    def from_scipy(
        cls, matrix: Any, *, users: VocabLike | None = None, items: VocabLike | None = None
    ) -> Dataset:
        """From a scipy sparse user×item matrix: each stored entry (explicit zeros too) is
        an interaction whose value is the rating. Duplicate entries are summed.

        ``users``/``items`` give the ids of the rows/columns in order (default 0..n-1).
        """
        csr = CSRMatrix.from_scipy(matrix)
        uvocab = _positional_vocab(users, csr.nrows, "user")
        ivocab = _positional_vocab(items, csr.ncols, "item")
        rows = np.repeat(np.arange(csr.nrows, dtype=np.int32), csr.row_lengths())
        assert csr.values is not None
        vals = csr.values.astype(np.float64)

        def label(i: int) -> str:
            return f"entry ({rows[i]}, {csr.indices[i]})"

        ds = cls.__new__(cls)
        ds._build(uvocab, ivocab, rows, csr.indices, vals, None, "error", label)
        return ds

    # ---- accessors --------------------------------------------------------------------

    @property
    def users(self) -> Vocabulary:
        """The user vocabulary."""
        return self._users

    @property
    def items(self) -> Vocabulary:
        """The item vocabulary."""
        return self._items

    @property
    def user_count(self) -> int:
        """Number of users in the vocabulary (with or without interactions)."""
        return len(self._users)

    @property
    def item_count(self) -> int:
        """Number of items in the vocabulary (with or without interactions)."""
        return len(self._items)

    @property
    def interaction_count(self) -> int:
        """Number of distinct (user, item) interactions."""
        return len(self._user_nums)

    @property
    def user_nums(self) -> NDArray[np.int32]:
        """User number of each interaction (sorted ascending)."""
        return self._user_nums

    @property
    def item_nums(self) -> NDArray[np.int32]:
        """Item number of each interaction (ascending within each user)."""
        return self._item_nums

    @property
    def ratings(self) -> NDArray[np.float64] | None:
        """Rating of each interaction (float64), or None."""
        return self._ratings

    @property
    def timestamps(self) -> NDArray[Any] | None:
        """Timestamp of each interaction (dtype as given), or None."""
        return self._timestamps

    def interaction_matrix(
        self,
        _field: Literal["rating"] | None = None,
        /,
        *,
        format: MatrixFormat = "csr",
        layout: Literal["csr", "coo"] = "csr",
        field: str | None = None,
        original_ids: bool = False,
        legacy: bool = False,
        dtype: DTypeLike = np.float32,
    ) -> Any:
        """The user×item interactions as a matrix, one entry per (user, item) pair.

        ``format`` (LensKit's ``Dataset.interaction_matrix``, plus alskit's own):

        - ``"csr"`` (the default): alskit's :class:`CSRMatrix` of the ``field`` (``None``:
          values None, meaning all ones; ``"rating"``: the ratings in ``dtype``). The
          structure is shared (``indices`` is ``item_nums``); values are cached per dtype.
          The field may also be given positionally (``interaction_matrix("rating")``).
        - ``"structure"``: the CSRMatrix without values (LensKit's ``CSRStructure``).
        - ``"scipy"``: a ``scipy.sparse`` ``csr_array`` (``layout="coo"``: ``coo_array``;
          ``legacy=True``: ``csr_matrix``/``coo_matrix``) of the ``field``: ``None`` gives
          float32 ones, ``"rating"`` float64 ratings, ``"timestamp"`` the timestamps.
        - ``"pandas"``: a DataFrame with ``user_num`` and ``item_num`` (``original_ids``:
          ``user_id`` and ``item_id`` instead) and the ``field`` column, or every field
          (``rating``, ``timestamp``) when ``field`` is None.
        - ``"torch"`` is not available: alskit is numpy-only (use ``"scipy"``).
        """
        if _field is not None:
            if field is not None:
                raise TypeError("give the field once: positionally or as field=")
            field = _field
        if format in ("csr", "structure"):
            if format == "structure" and field is not None:
                raise ValueError("the 'structure' format has no field")
            return self._csr(field, dtype)
        if format == "pandas":
            return self.interaction_table(format="pandas", fields=field, original_ids=original_ids)
        if format == "scipy":
            if layout not in ("csr", "coo"):
                raise ValueError(f"layout must be 'csr' or 'coo', not {layout!r}")
            sp = require_module("scipy.sparse", "interaction_matrix(format='scipy')")
            values = (
                np.ones(self.interaction_count, dtype=np.float32)
                if field is None
                else self._field(field)
            )
            shape = (self.user_count, self.item_count)
            if layout == "csr":
                kind = sp.csr_matrix if legacy else sp.csr_array
                return kind((values, self._item_nums, self._indptr), shape=shape)
            kind = sp.coo_matrix if legacy else sp.coo_array
            return kind((values, (self._user_nums, self._item_nums)), shape=shape)
        if format == "torch":
            raise ValueError(
                "interaction_matrix(format='torch') needs torch; alskit is numpy-only: "
                "use format='scipy' or 'csr'"
            )
        raise ValueError(
            f"unknown matrix format {format!r}; expected 'csr', 'structure', 'scipy' or 'pandas'"
        )

    def _csr(self, field: str | None, dtype: DTypeLike) -> CSRMatrix:
        values: NDArray[np.floating[Any]] | None = None
        if field == "rating":
            if self._ratings is None:
                raise ValueError("the dataset has no ratings")
            dt = np.dtype(dtype)
            if dt.kind != "f":
                raise ValueError(f"dtype must be a float type, not {dt}")
            values = self._values.get(dt)
            if values is None:
                values = readonly(self._ratings.astype(dt, copy=False))
                self._values[dt] = values
        elif field is not None:
            raise ValueError(f"unknown field {field!r}; expected 'rating' or None")
        return CSRMatrix(self._indptr, self._item_nums, values, (self.user_count, self.item_count))

    @property
    def _fields(self) -> dict[str, NDArray[Any]]:
        fields: dict[str, NDArray[Any]] = {}
        if self._ratings is not None:
            fields["rating"] = self._ratings
        if self._timestamps is not None:
            fields["timestamp"] = self._timestamps
        return fields

    def _field(self, name: str) -> NDArray[Any]:
        fields = self._fields
        if name not in fields:
            raise KeyError(
                f"the dataset has no field {name!r}; its fields: {sorted(fields) or 'none'}"
            )
        return fields[name]

    def interaction_table(
        self,
        *,
        format: Literal["pandas", "numpy", "arrow"] = "pandas",
        fields: str | list[str] | None = None,
        original_ids: bool = False,
    ) -> Any:
        """The interactions as a table (LensKit's ``Dataset.interaction_table``): columns
        ``user_num`` and ``item_num`` (``original_ids``: ``user_id`` and ``item_id``), then
        the ``fields`` (a name, a list, or None for all of ``rating`` and ``timestamp``).

        ``format``: ``"pandas"`` (a DataFrame), ``"numpy"`` (a dict of arrays) or
        ``"arrow"`` (a pyarrow Table). Rows are sorted by user, then item; each (user, item)
        pair appears once.
        """
        if format not in ("pandas", "numpy", "arrow"):
            raise ValueError(
                f"unknown table format {format!r}; expected 'pandas', 'numpy' or 'arrow'"
            )
        if fields is None:
            names = list(self._fields)
        else:
            names = [fields] if isinstance(fields, str) else list(fields)
        cols: dict[str, NDArray[Any]] = {}
        if original_ids:
            cols["user_id"] = self._users.ids(self._user_nums)
            cols["item_id"] = self._items.ids(self._item_nums)
        else:
            cols["user_num"] = self._user_nums
            cols["item_num"] = self._item_nums
        cols.update((name, self._field(name)) for name in names)
        if format == "numpy":
            return cols
        if format == "arrow":
            pa = require_module("pyarrow", "interaction_table(format='arrow')")
            return pa.table(cols)
        import pandas as pd

        return pd.DataFrame(cols)

    def entities(self, name: str) -> Entities:
        """The ``"user"`` or ``"item"`` entities (LensKit's ``Dataset.entities``)."""
        if name == "user":
            return Entities(name, self._users)
        if name == "item":
            return Entities(name, self._items)
        raise KeyError(f"no entity class {name!r}; an alskit Dataset has 'user' and 'item'")

    def interactions(self, name: str | None = None) -> Interactions:
        """The interaction records (LensKit's ``Dataset.interactions()``); an alskit Dataset
        has one interaction class, :meth:`default_interaction_class`."""
        if name is not None and name != self._class:
            raise KeyError(f"no interaction class {name!r}; this dataset has {self._class!r} only")
        return Interactions(self)

    def default_interaction_class(self) -> str:
        """The name of the dataset's interaction class (``"rating"`` unless a
        :class:`DatasetBuilder` named it otherwise, as in LensKit)."""
        return self._class

    def user_stats(self) -> Any:
        """Per-user interaction statistics, as LensKit's ``Dataset.user_stats()``: a
        DataFrame indexed by user id (the vocabulary's index, so ``iloc`` takes user
        numbers) with ``record_count``, ``item_count`` and ``count`` (equal: pairs are
        unique), ``rating_count`` and ``mean_rating`` (NaN without ratings) with ratings,
        ``first_time`` and ``last_time`` with timestamps."""
        return self._stats(self._user_nums, self._users, "item")

    def item_stats(self) -> Any:
        """Per-item interaction statistics, as :meth:`user_stats` (``user_count`` for the
        distinct users); indexed by item id."""
        return self._stats(self._item_nums, self._items, "user")

    def _stats(self, nums: NDArray[np.int32], vocab: Vocabulary, other: str) -> Any:
        import pandas as pd

        n = len(vocab)
        counts = np.bincount(nums, minlength=n).astype(np.int64)
        cols: dict[str, Any] = {"record_count": counts, f"{other}_count": counts}
        if self._ratings is not None:
            cols["rating_count"] = counts
            with np.errstate(invalid="ignore", divide="ignore"):
                cols["mean_rating"] = np.bincount(nums, self._ratings, minlength=n) / counts
        cols["count"] = counts
        if self._timestamps is not None:
            first, last = _extremes(nums, self._timestamps, n)
            cols["first_time"] = first
            cols["last_time"] = last
        return pd.DataFrame(cols, index=vocab.index)

    def user_row(self, user_id: Any = None, *, user_num: int | None = None) -> ItemList | None:
        """The user's items (ascending item number) with ``rating`` and ``timestamp``
        fields when present; None for an unknown user."""
        if user_num is None:
            user_num = self._users.number(user_id, missing="none")
            if user_num is None:
                return None
        elif not 0 <= user_num < self.user_count:
            raise IndexError(f"user number {user_num} out of range for {self.user_count} users")
        lo, hi = int(self._indptr[user_num]), int(self._indptr[user_num + 1])
        fields: dict[str, NDArray[Any]] = {}
        if self._ratings is not None:
            fields["rating"] = self._ratings[lo:hi]
        if self._timestamps is not None:
            fields["timestamp"] = self._timestamps[lo:hi]
        return ItemList(item_nums=self._item_nums[lo:hi], vocabulary=self._items, **fields)

    def interactions_df(self) -> Any:
        """A pandas DataFrame with user_id, item_id and rating/timestamp if present."""
        import pandas as pd

        cols: dict[str, NDArray[Any]] = {
            "user_id": self._users.ids(self._user_nums),
            "item_id": self._items.ids(self._item_nums),
        }
        if self._ratings is not None:
            cols["rating"] = self._ratings
        if self._timestamps is not None:
            cols["timestamp"] = self._timestamps
        return pd.DataFrame(cols)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "users": self._users,
            "items": self._items,
            "user_nums": np.asarray(self._user_nums),
            "item_nums": np.asarray(self._item_nums),
            "ratings": None if self._ratings is None else np.asarray(self._ratings),
            "timestamps": None if self._timestamps is None else np.asarray(self._timestamps),
            "interaction_class": self._class,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup(
            state["users"],
            state["items"],
            state["user_nums"],
            state["item_nums"],
            state["ratings"],
            state["timestamps"],
        )
        self._class = state.get("interaction_class", DEFAULT_CLASS)

    def __repr__(self) -> str:
        extra = "".join(
            f", {name}"
            for name, arr in (("ratings", self._ratings), ("timestamps", self._timestamps))
            if arr is not None
        )
        return (
            f"Dataset({self.user_count} users, {self.item_count} items, "
            f"{self.interaction_count} interactions{extra})"
        )


def _check_lengths(columns: list[tuple[str, NDArray[Any]]]) -> None:
    name0, arr0 = columns[0]
    for name, arr in columns[1:]:
        if len(arr) != len(arr0):
            raise ValueError(f"{name0} has {len(arr0)} entries but {name} has {len(arr)}")


def _as_nums(name: str, values: ArrayLike, limit: int) -> NDArray[np.int32]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        return np.empty(0, dtype=np.int32)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, not {arr.dtype}")
    bad = (arr < 0) | (arr >= limit)
    if bad.any():
        i = first_index(bad)
        raise ValueError(f"{name}[{i}] = {arr[i]} outside [0, {limit})")
    return arr.astype(np.int32, copy=False)


def _as_vocabulary(vocab: VocabLike, label: str, *, reorder: bool) -> Vocabulary:
    if isinstance(vocab, Vocabulary):
        return vocab
    # Normalized here so that errors name the argument ('users'/'items'), not just 'ids'.
    return Vocabulary(as_id_array(vocab, f"{label}s"), name=label, reorder=reorder)


def _number(
    uniq: IdArray,
    rows: NDArray[np.int32],
    vocab: VocabLike | None,
    label: str,
    row_label: RowLabel,
) -> tuple[Vocabulary, NDArray[np.int32]]:
    """Vocabulary and per-row numbers from the distinct ids and each row's position."""
    if vocab is None:
        return Vocabulary._from_unique(uniq, label, is_sorted=True), rows
    vocab = _as_vocabulary(vocab, label, reorder=True)
    nums = vocab.numbers(uniq, missing="negative")[rows]  # look up each distinct id once
    unknown = nums < 0
    if unknown.any():
        i = first_index(unknown)
        raise ValueError(
            f"{label} id {uniq[rows[i]].item()!r} at {row_label(i)} is not in the given {label}s"
        )
    return vocab, nums


def _positional_vocab(vocab: VocabLike | None, n: int, label: str) -> Vocabulary:
    if vocab is None:
        return Vocabulary._from_unique(np.arange(n, dtype=np.int64), label, is_sorted=True)
    vocab = _as_vocabulary(vocab, label, reorder=False)
    if len(vocab) != n:
        raise ValueError(f"{label}s has {len(vocab)} ids but the matrix has {n} {label}s")
    return vocab


def _take(arr: NDArray[Any] | None, sel: NDArray[np.intp]) -> NDArray[Any] | None:
    return None if arr is None else arr[sel]


def _canonical_order(
    users: Vocabulary,
    items: Vocabulary,
    un: NDArray[np.int32],
    inn: NDArray[np.int32],
    ratings: NDArray[np.float64] | None,
    timestamps: NDArray[Any] | None,
    duplicates: Duplicates,
    row_label: RowLabel,
) -> tuple[NDArray[np.intp] | None, NDArray[np.float64] | None, NDArray[Any] | None]:
    """Input rows to keep in (user, item) order (None: all, already in order), and the
    ratings and timestamps after applying the duplicates policy (the order of
    :func:`~alskit.data.matrix.coo_order`, the CSR builder's)."""
    try:
        order = coo_order(un, inn, len(users), len(items), duplicates)
    except DuplicateEntries as e:
        uid, iid = users.id(e.row), items.id(e.col)
        raise ValueError(
            f"{e.count} duplicate (user, item) pairs; the first is (user {uid!r}, item {iid!r})"
            f" at {row_label(e.first)} and {row_label(e.second)}; pass duplicates='last' or 'sum'"
        ) from None
    if order.keep is None:
        return None, ratings, timestamps
    if duplicates == "sum" and ratings is not None:
        summed = order.reduce(np.add, ratings)
        if timestamps is not None and timestamps.dtype.kind in "iufM":
            # The merged interaction happened last at the latest of its timestamps.
            return order.keep, summed, order.reduce(np.maximum, timestamps)
        return order.keep, summed, _take(timestamps, order.keep)
    return order.keep, _take(ratings, order.keep), _take(timestamps, order.keep)


def frame_columns(
    df: Any, user: Request, item: Request, rating: Request, timestamp: Request
) -> tuple[Any, Columns]:
    """The interaction columns of a DataFrame, by the shared resolver (index levels count as
    columns: the frame is returned with them reset into columns when needed)."""
    if not hasattr(df, "columns"):
        raise TypeError(f"df must be a pandas DataFrame, not {type(df).__name__}")
    names = [str(c) for c in df.columns]
    levels = [str(n) for n in getattr(df.index, "names", []) if n is not None]
    columns = resolve_columns(
        names + [n for n in levels if n not in names], user, item, rating, timestamp
    )
    if any(c is not None and c not in names for c in columns):
        df = df.reset_index()
    return df, columns


def _extremes(nums: NDArray[np.int32], values: NDArray[Any], n: int) -> tuple[Any, Any]:
    """Each group's smallest and largest value (NaN or NaT for an empty group)."""
    import pandas as pd

    grouped = pd.Series(values).groupby(nums).agg(["min", "max"]).reindex(range(n))
    return grouped["min"].to_numpy(), grouped["max"].to_numpy()


class Interactions:
    """A Dataset's interaction records, as LensKit's ``RelationshipSet`` (and, being one
    entry per (user, item) pair already, its ``MatrixRelationshipSet``): rows are users,
    columns items."""

    row_type = "user"
    col_type = "item"
    is_interaction = True

    def __init__(self, data: Dataset) -> None:
        self._data = data

    @property
    def name(self) -> str:
        return self._data.default_interaction_class()

    @property
    def attribute_names(self) -> list[str]:
        """The fields of the interactions (``rating``, ``timestamp`` when present)."""
        return list(self._data._fields)

    @property
    def n_rows(self) -> int:
        return self._data.user_count

    @property
    def n_cols(self) -> int:
        return self._data.item_count

    @property
    def row_vocabulary(self) -> Vocabulary:
        return self._data.users

    @property
    def col_vocabulary(self) -> Vocabulary:
        return self._data.items

    def count(self) -> int:
        return self._data.interaction_count

    def pandas(self, *, attributes: str | list[str] | None = None, ids: bool = False) -> Any:
        return self._data.interaction_table(format="pandas", fields=attributes, original_ids=ids)

    def arrow(self, *, attributes: str | list[str] | None = None, ids: bool = False) -> Any:
        return self._data.interaction_table(format="arrow", fields=attributes, original_ids=ids)

    def matrix(self, *, combine: Any = None) -> Interactions:
        """These interactions as a matrix: the same object (pairs are already unique)."""
        return self

    def scipy(
        self,
        attribute: str | None = None,
        *,
        layout: Literal["csr", "coo"] = "csr",
        legacy: bool = False,
    ) -> Any:
        return self._data.interaction_matrix(
            format="scipy", field=attribute, layout=layout, legacy=legacy
        )

    def csr_structure(self) -> CSRMatrix:
        return self._data.interaction_matrix(format="structure")  # type: ignore[no-any-return]

    def row_items(self, id: Any = None, *, number: int | None = None) -> ItemList | None:
        return self._data.user_row(id, user_num=number)

    def row_stats(self) -> Any:
        return self._data.user_stats()

    def col_stats(self) -> Any:
        return self._data.item_stats()


class Entities:
    """One entity class of a Dataset (LensKit's ``EntitySet``), optionally a selection of
    it; numbers stay those of the dataset's vocabulary. alskit entities have no
    attributes."""

    attributes: list[str] = []

    def __init__(
        self, name: str, vocabulary: Vocabulary, selected: NDArray[np.int32] | None = None
    ) -> None:
        self.name = name
        self.vocabulary = vocabulary
        self._selected = selected

    def count(self) -> int:
        return len(self.vocabulary) if self._selected is None else len(self._selected)

    def __len__(self) -> int:
        return self.count()

    def numbers(self) -> NDArray[np.int32]:
        if self._selected is None:
            return np.arange(len(self.vocabulary), dtype=np.int32)
        return self._selected

    def ids(self) -> IdArray:
        return self.vocabulary.ids(self._selected)

    def pandas(self) -> Any:
        import pandas as pd

        return pd.DataFrame({f"{self.name}_id": self.ids()})

    def arrow(self) -> Any:
        return require_module("pyarrow", "Entities.arrow").table(self.pandas())

    def select(self, *, ids: IdsLike | None = None, numbers: ArrayLike | None = None) -> Entities:
        """The entities with the given ids (unknown ids raise KeyError) or numbers."""
        if ids is not None and numbers is None:
            picked = self.vocabulary.numbers(ids)
        elif numbers is not None and ids is None:
            picked = _as_nums("numbers", numbers, len(self.vocabulary))
        else:
            raise ValueError("give exactly one of ids= and numbers=")
        return Entities(self.name, self.vocabulary, readonly(picked))
