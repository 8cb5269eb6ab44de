"""CSRMatrix: a minimal compressed-sparse-row matrix handed to the native core."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from .._native import core
from ._arrays import first_index, readonly
from ._compat import require_module

_INT32_MAX = int(np.iinfo(np.int32).max)


def indptr_dtype(nnz: int) -> type[np.int32] | type[np.int64]:
    """int32 row pointers while they fit, int64 beyond."""
    return np.int32 if nnz <= _INT32_MAX else np.int64


@dataclass(frozen=True, eq=False)
class CSRMatrix:
    """A CSR matrix: ``indptr`` (int32/int64, nrows+1), ``indices`` (int32), ``values``.

    ``values`` of None means every stored entry is 1. Construction checks dtypes and
    lengths; :meth:`validate` also checks the contents (O(nnz)).
    """

    indptr: NDArray[np.int32] | NDArray[np.int64]
    indices: NDArray[np.int32]
    values: NDArray[np.floating[Any]] | None
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        for name in ("indptr", "indices", "values"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, np.ndarray):
                raise TypeError(f"{name} must be a numpy array, not {type(value).__name__}")
        shape = tuple(int(s) for s in self.shape)
        if len(shape) != 2 or shape[0] < 0 or shape[1] < 0:
            raise ValueError(f"shape must be two non-negative ints, got {self.shape}")
        object.__setattr__(self, "shape", shape)
        if self.indptr.ndim != 1 or self.indptr.dtype not in (np.int32, np.int64):
            raise TypeError(f"indptr must be a 1-D int32 or int64 array, got {self.indptr.dtype}")
        if len(self.indptr) != shape[0] + 1:
            raise ValueError(
                f"indptr has length {len(self.indptr)}, expected nrows+1 = {shape[0] + 1}"
            )
        if self.indices.ndim != 1 or self.indices.dtype != np.int32:
            raise TypeError(f"indices must be a 1-D int32 array, got {self.indices.dtype}")
        if self.values is not None:
            if self.values.ndim != 1 or self.values.dtype.kind != "f":
                raise TypeError(f"values must be a 1-D float array, got {self.values.dtype}")
            if len(self.values) != len(self.indices):
                raise ValueError(
                    f"values has length {len(self.values)} but indices has {len(self.indices)}"
                )

    @property
    def nrows(self) -> int:
        """Number of rows."""
        return self.shape[0]

    @property
    def ncols(self) -> int:
        """Number of columns."""
        return self.shape[1]

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return len(self.indices)

    def row_lengths(self) -> NDArray[np.int32] | NDArray[np.int64]:
        """Stored entries per row (the indptr dtype)."""
        return np.diff(self.indptr)

    def row(self, i: int) -> tuple[NDArray[np.int32], NDArray[np.floating[Any]] | None]:
        """Column indices and values (or None) of row ``i``."""
        if not 0 <= i < self.nrows:
            raise IndexError(f"row {i} out of range for {self.nrows} rows")
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.indices[lo:hi], None if self.values is None else self.values[lo:hi]

    def take_rows(self, rows: NDArray[np.integer[Any]]) -> CSRMatrix:
        """The matrix of rows ``rows`` (valid row numbers, in that order, repeats allowed)."""
        starts = self.indptr[rows].astype(np.int64)
        lengths = self.indptr[rows + 1].astype(np.int64) - starts
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        total = int(indptr[-1])
        # Position of every output entry in the source: its row's start plus its offset.
        source = np.repeat(starts - indptr[:-1], lengths) + np.arange(total)
        values = None if self.values is None else self.values[source]
        return CSRMatrix(indptr, self.indices[source], values, (len(rows), self.ncols))

    def with_values(self, values: NDArray[np.floating[Any]] | None) -> CSRMatrix:
        """The same structure with other values (None: all ones)."""
        if values is not None:
            values = np.asarray(values)
        return CSRMatrix(self.indptr, self.indices, values, self.shape)

    def validate(self, *, sorted_indices: bool = True) -> None:
        """Check the contents with the native core's ``validate_csr`` (monotone row pointers,
        column indices in range, finite values), that the row pointers span exactly the
        entries (start at 0, end at nnz), and with ``sorted_indices`` strictly increasing
        columns within each row (the layout this package produces)."""
        ip = self.indptr
        if ip[0] != 0:
            raise ValueError(f"indptr must start at 0, starts at {ip[0]}")
        if ip[-1] != self.nnz:
            raise ValueError(f"indptr must end at nnz = {self.nnz}, ends at {ip[-1]}")
        core.validate_csr(ip, self.indices, self.values, self.ncols)
        if sorted_indices and self.nnz > 1:
            step_ok = np.diff(self.indices) > 0
            # A row boundary may go down; only steps inside a row must increase.
            starts = ip[1:-1]
            starts = starts[(starts > 0) & (starts < self.nnz)]
            step_ok[starts - 1] = True
            if not step_ok.all():
                raise ValueError(
                    "indices must be strictly increasing within each row "
                    f"(entry {first_index(~step_ok) + 1})"
                )

    def to_scipy(self, dtype: DTypeLike | None = None) -> Any:
        """A ``scipy.sparse.csr_array`` (values of None become ones)."""
        sparse = require_module("scipy.sparse", "CSRMatrix.to_scipy")
        if self.values is None:
            data: NDArray[Any] = np.ones(self.nnz, dtype=dtype or np.float32)
        else:
            data = self.values if dtype is None else self.values.astype(dtype)
        return sparse.csr_array((data, self.indices, self.indptr), shape=self.shape)

    @classmethod
    def from_scipy(cls, matrix: Any) -> CSRMatrix:
        """From any scipy sparse matrix; duplicates are summed, explicit zeros kept."""
        sparse = require_module("scipy.sparse", "CSRMatrix.from_scipy")
        if not sparse.issparse(matrix):
            raise TypeError(f"expected a scipy sparse matrix, got {type(matrix).__name__}")
        dtype = np.dtype(matrix.dtype)
        if dtype.kind not in "biuf":
            raise TypeError(f"matrix values must be numeric, not {dtype}")
        # Widen before duplicates are summed: in int8, 100 + 100 would wrap to -56.
        widen = dtype.kind != "f"
        # The widened matrix is already a private copy, which sum_duplicates may change.
        csr = sparse.csr_array(matrix.astype(np.float64) if widen else matrix, copy=not widen)
        csr.sum_duplicates()  # also sorts indices within rows
        values = np.asarray(csr.data)
        indptr = cast(NDArray[np.int64], np.asarray(csr.indptr).astype(indptr_dtype(csr.nnz)))
        return cls(indptr, np.asarray(csr.indices).astype(np.int32), values, csr.shape)


Duplicates = Literal["error", "last", "sum", "keep"]


class DuplicateEntries(ValueError):
    """Repeated (row, col) pairs under ``duplicates="error"``: ``count`` pairs occur more
    than once; the first repetition in input order is at position ``second``, repeating the
    entry at position ``first``."""

    def __init__(self, count: int, first: int, second: int, row: int, col: int) -> None:
        super().__init__(f"duplicate entry ({row}, {col}) at position {second}")
        self.count, self.first, self.second, self.row, self.col = count, first, second, row, col


@dataclass(frozen=True)
class CooOrder:
    """Where each CSR entry comes from in a COO input (see :func:`coo_order`).

    ``keep``: input positions of the entries kept, in (row, col) order (None: the input is
    already in that order with no duplicates, kept as it is); ``order``/``starts``: when
    duplicates were merged, every input position in (row, col) order (stable) and where each
    group of equal pairs starts in it.
    """

    keep: NDArray[np.intp] | None
    order: NDArray[np.intp] | None = None
    starts: NDArray[np.intp] | None = None

    def take(self, values: NDArray[Any]) -> NDArray[Any]:
        """``values`` of the kept entries, in CSR order (a copy)."""
        return values.copy() if self.keep is None else values[self.keep]

    def reduce(self, ufunc: np.ufunc, values: NDArray[Any]) -> NDArray[Any]:
        """``ufunc`` over each group of equal pairs (np.add: their sum), in CSR order."""
        if self.order is None or self.starts is None:
            return self.take(values)
        reduced: NDArray[Any] = ufunc.reduceat(values[self.order], self.starts)
        return reduced


def coo_order(
    rows: NDArray[np.integer[Any]],
    cols: NDArray[np.integer[Any]],
    n_rows: int,
    n_cols: int,
    duplicates: Duplicates,
) -> CooOrder:
    """The (row, col) order of COO entries (in range, equal lengths) and which to keep:
    ``"error"`` raises :class:`DuplicateEntries`; ``"last"`` keeps the last occurrence of
    each pair in input order; ``"sum"`` keeps it too and records the groups to merge
    (:meth:`CooOrder.reduce`); ``"keep"`` keeps them all (stable)."""
    n = max(int(n_cols), 1)
    if int(n_rows) * n < 2**63:
        key = rows.astype(np.int64) * n + cols
        if bool(np.all(key[1:] > key[:-1])):
            return CooOrder(None)  # already sorted and unique: no copy
        order = np.argsort(key, kind="stable")  # stable keeps input order among duplicates
        skey = key[order]
        dup = skey[1:] == skey[:-1]
    else:
        order = np.lexsort((cols, rows))
        sr, sc = rows[order], cols[order]
        dup = (sr[1:] == sr[:-1]) & (sc[1:] == sc[:-1])
    if duplicates == "keep" or not dup.any():
        return CooOrder(order)
    first_of_group = np.insert(~dup, 0, True)
    if duplicates == "error":
        group = np.cumsum(first_of_group) - 1
        count = int(np.count_nonzero(np.bincount(group) > 1))
        repeat_pos = np.flatnonzero(dup) + 1  # sorted positions of repeated occurrences
        j = int(repeat_pos[np.argmin(order[repeat_pos])])
        start = int(np.flatnonzero(first_of_group)[group[j]])
        second = int(order[j])
        raise DuplicateEntries(
            count, int(order[start]), second, int(rows[second]), int(cols[second])
        )
    keep = order[np.append(~dup, True)]  # the last occurrence of each pair in input order
    if duplicates == "sum":
        return CooOrder(keep, order, np.flatnonzero(first_of_group))
    return CooOrder(keep)


def indptr_of(rows: NDArray[np.integer[Any]], n_rows: int) -> NDArray[np.int32] | NDArray[np.int64]:
    """Row pointers of CSR entries whose (sorted) rows are ``rows``."""
    indptr: NDArray[Any] = np.zeros(int(n_rows) + 1, dtype=indptr_dtype(len(rows)))
    np.cumsum(np.bincount(rows, minlength=int(n_rows)), out=indptr[1:])
    return indptr


def coo_to_csr(
    rows: ArrayLike,
    cols: ArrayLike,
    values: ArrayLike | None,
    n_rows: int,
    n_cols: int,
    *,
    duplicates: Duplicates = "error",
) -> CSRMatrix:
    """The one CSR builder: coordinates (and values, or None for all ones) to a CSR sorted by
    row, then column. ``duplicates``: ``"error"`` (default), ``"last"`` (the last value in
    input order), ``"sum"``, or ``"keep"`` (every entry, equal pairs in input order)."""
    r = np.asarray(rows)
    c = np.asarray(cols)
    nrows, ncols = int(n_rows), int(n_cols)
    for name, arr, limit in (("rows", r, nrows), ("cols", c, ncols)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
        if arr.size and arr.dtype.kind not in "iu":
            raise TypeError(f"{name} must be integers, not {arr.dtype}")
        bad = (arr < 0) | (arr >= limit)
        if bad.any():
            i = first_index(bad)
            raise ValueError(f"{name}[{i}] = {arr[i]} outside [0, {limit})")
    if len(r) != len(c):
        raise ValueError(f"rows has {len(r)} entries but cols has {len(c)}")
    v: NDArray[np.floating[Any]] | None = None
    if values is not None:
        v = np.asarray(values)
        if v.ndim != 1 or len(v) != len(r):
            raise ValueError(f"values has shape {v.shape}, expected ({len(r)},)")
        if v.dtype.kind != "f":
            if v.size and v.dtype.kind not in "biu":
                raise TypeError(f"values must be numeric, not {v.dtype}")
            v = v.astype(np.float64)
    r64, c64 = r.astype(np.int64), c.astype(np.int64)
    order = coo_order(r64, c64, nrows, ncols, duplicates)
    kept_rows = order.take(r64)
    indices = readonly(order.take(c64).astype(np.int32))
    vals = None if v is None else readonly(order.reduce(np.add, v))
    return CSRMatrix(readonly(indptr_of(kept_rows, nrows)), indices, vals, (nrows, ncols))


def csr_from_coo(
    rows: ArrayLike,
    cols: ArrayLike,
    values: ArrayLike | None,
    shape: tuple[int, int],
) -> CSRMatrix:
    """Build CSR from coordinates, sorted by row then column; duplicates are an error
    (:func:`coo_to_csr` with ``shape`` given as one pair)."""
    return coo_to_csr(rows, cols, values, *shape)
