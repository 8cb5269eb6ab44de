"""Row blocks of the interaction matrix, in both orientations, built on the workers.

A side (users or items) is cut into blocks of rows, at any row: the reductions over a side
(its Gram, Σ‖Δ‖², Σ ratings) are added from each block's reduction parts in the local
kernels' order, whichever blocks share a 4096-row reduction block (alskit._reduction). Each
block is a CSR of its rows (global column numbers) with the raw ratings (float64, or None).

Inputs: a local :class:`~alskit.data.Dataset` (sliced on the client, each block shipped as
the argument of the task that holds it, so a lost block is rebuilt from its task), or a Dask
DataFrame of (user, item[, rating]) rows: vocabularies from per-partition distinct ids, then
each partition numbered and split by block on the workers, and each block assembled there
from its pieces (the client never holds the interactions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._native import core
from ..data import Dataset, Vocabulary
from ..data._arrays import as_float_array, factorize_ids, first_index
from ..data._columns import Columns, resolve_columns


@dataclass(frozen=True)
class Layout:
    """``n`` rows in ``count`` blocks of consecutive rows, as even as can be: block ``b``
    starts at row ``n·b // count`` (at most one block per row, and one block if ``n`` is 0),
    so a count that is a multiple of the worker count can balance the workers exactly."""

    n: int
    starts: tuple[int, ...]

    @classmethod
    def of(cls, n: int, blocks: int) -> Layout:
        count = max(1, min(blocks, n))
        return cls(n, tuple(n * b // count for b in range(count)))

    @property
    def count(self) -> int:
        return len(self.starts)

    def bounds(self, b: int) -> tuple[int, int]:
        hi = self.starts[b + 1] if b + 1 < len(self.starts) else self.n
        return self.starts[b], hi

    def shared(self) -> dict[int, list[int]]:
        """The reduction blocks whose rows are in more than one block, each with those
        blocks (in row order)."""
        step = core.reduction_block_rows()
        holders: dict[int, list[int]] = {}
        for b in range(self.count):
            lo, hi = self.bounds(b)
            for r in range(lo // step, -(-hi // step) if hi > lo else 0):
                holders.setdefault(r, []).append(b)
        return {r: blocks for r, blocks in holders.items() if len(blocks) > 1}

    def block_of(self, rows: NDArray[Any]) -> NDArray[np.int64]:
        found = np.searchsorted(np.asarray(self.starts, np.int64), rows, side="right") - 1
        return found.astype(np.int64, copy=False)


@dataclass(frozen=True)
class RowBlock:
    """Rows [lo, hi) of one orientation: CSR with global column numbers, and values (the raw
    float64 ratings or None as built; the stored training values, in the factor dtype, in a
    training block)."""

    lo: int
    hi: int
    indptr: NDArray[np.int64]
    indices: NDArray[np.int32]
    values: NDArray[Any] | None

    @property
    def nnz(self) -> int:
        return len(self.indices)


def slice_rows(
    indptr: NDArray[Any],
    indices: NDArray[np.int32],
    ratings: NDArray[np.float64] | None,
    lo: int,
    hi: int,
) -> RowBlock:
    a, b = int(indptr[lo]), int(indptr[hi])
    return RowBlock(
        lo,
        hi,
        np.asarray(indptr[lo : hi + 1], np.int64) - a,
        np.ascontiguousarray(indices[a:b], np.int32),
        None if ratings is None else np.ascontiguousarray(ratings[a:b], np.float64),
    )


def dataset_blocks(
    data: Dataset, users: Layout, items: Layout
) -> tuple[list[RowBlock], list[RowBlock]]:
    """A local dataset's user-major and item-major row blocks (item rows ordered by user,
    as the local transpose orders them)."""
    ui = data.interaction_matrix(None)
    ratings = data.ratings
    iu_indptr, iu_indices, iu_ratings = core.transpose_csr(
        ui.indptr,
        ui.indices,
        None if ratings is None else np.ascontiguousarray(ratings, np.float64),
        data.item_count,
    )
    ub = [slice_rows(ui.indptr, ui.indices, ratings, *users.bounds(b)) for b in range(users.count)]
    ib = [
        slice_rows(iu_indptr, iu_indices, iu_ratings, *items.bounds(b)) for b in range(items.count)
    ]
    return ub, ib


# ---- Dask DataFrame input (these run on the workers) --------------------------------------


def distinct_ids(part: Any, column: str, what: str) -> NDArray[Any]:
    """The distinct ids of one partition's column (validated as the local loader does)."""
    uniq, _ = factorize_ids(part[column].to_numpy(), what)
    return uniq


def vocabulary_of(uniques: list[NDArray[Any]], name: str) -> Vocabulary:
    """The sorted vocabulary of the union of the partitions' distinct ids (the local
    loader's vocabulary of the same rows)."""
    return Vocabulary(np.concatenate(uniques) if uniques else np.empty(0, np.int64), name=name)


def split_partition(
    part: Any,
    index: int,
    columns: Columns,
    users: Vocabulary,
    items: Vocabulary,
    user_layout: Layout,
    item_layout: Layout,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """One partition's rows numbered and cut into (user block, item block) pieces of
    (user numbers, item numbers, ratings, partition row)."""
    uniq_u, rows_u = factorize_ids(part[columns.user].to_numpy(), "user ids")
    uniq_i, rows_i = factorize_ids(part[columns.item].to_numpy(), "item ids")
    un = users.numbers(uniq_u, missing="error")[rows_u].astype(np.int32)
    inn = items.numbers(uniq_i, missing="error")[rows_i].astype(np.int32)
    ratings = None
    if columns.rating is not None:
        ratings = as_float_array(part[columns.rating].to_numpy(), "ratings")
        bad = ~np.isfinite(ratings)
        if bad.any():
            i = first_index(bad)
            raise ValueError(
                f"rating at partition {index} row {i} is {ratings[i]}; ratings must be finite"
            )
    rows = np.arange(len(un), dtype=np.int64)

    def pieces(keys: NDArray[np.int32], layout: Layout) -> list[tuple[Any, ...]]:
        block = layout.block_of(keys)
        order = np.argsort(block, kind="stable")
        bounds = np.searchsorted(block[order], np.arange(layout.count + 1))
        out = []
        for b in range(layout.count):
            sel = order[bounds[b] : bounds[b + 1]]
            out.append(
                (un[sel], inn[sel], None if ratings is None else ratings[sel], index, rows[sel])
            )
        return out

    return pieces(un, user_layout), pieces(inn, item_layout)


def piece(pieces: tuple[list[Any], list[Any]], side: int, block: int) -> Any:
    return pieces[side][block]


def assemble_block(
    side: str,
    lo: int,
    hi: int,
    users: Vocabulary,
    items: Vocabulary,
    *parts: tuple[Any, ...],
) -> RowBlock:
    """A row block from the pieces of every partition: sorted by (row, column), with
    duplicate (user, item) pairs refused as the local loader refuses them."""
    un = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int32)
    inn = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int32)
    has_ratings = bool(parts) and parts[0][2] is not None
    ratings = np.concatenate([p[2] for p in parts]) if has_ratings else None
    rows, cols = (un, inn) if side == "user" else (inn, un)
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    dup = (rows[1:] == rows[:-1]) & (cols[1:] == cols[:-1])
    if dup.any():
        j = first_index(dup)
        where = np.concatenate([np.full(len(p[0]), p[3]) for p in parts])[order]
        prow = np.concatenate([p[4] for p in parts])[order]
        u, i = (rows[j], cols[j]) if side == "user" else (cols[j], rows[j])
        raise ValueError(
            f"{int(np.count_nonzero(dup))} duplicate (user, item) pairs; the first is "
            f"(user {users.id(int(u))!r}, item {items.id(int(i))!r}) at partition "
            f"{where[j]} row {prow[j]} and partition {where[j + 1]} row {prow[j + 1]}; "
            "aggregate them before training"
        )
    indptr = np.zeros(hi - lo + 1, np.int64)
    np.cumsum(np.bincount(rows - lo, minlength=hi - lo), out=indptr[1:])
    return RowBlock(
        lo,
        hi,
        indptr,
        np.ascontiguousarray(cols, np.int32),
        None if ratings is None else np.ascontiguousarray(ratings[order]),
    )


def find_columns(columns: list[str], user: str, item: str, rating: str | None) -> Columns:
    """The interaction columns, found as the local loader finds them."""
    return resolve_columns(columns, user, item, rating, None)
