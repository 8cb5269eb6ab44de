"""Blocked reductions, added as the native kernels add them.

The kernels sum over rows within blocks of ``core.reduction_block_rows()`` rows, in row
order, then add the block sums in block order (``ordered_sum`` and the Gram in the C++
core): the result never depends on the thread count. Here the same order for Python: whole
matrices (:func:`block_partials`, :func:`ordered_total`), and matrices held as row blocks cut
at any row (alskit.distributed): each row block gives its :func:`reduction_parts`, and
:func:`parts_total` adds them up to the whole matrix's sum, bit for bit (the Gram's parts:
alskit.distributed._tasks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._native import core


def block_partials(per_row: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sequential sums of ``per_row`` within blocks of ``reduction_block_rows`` rows: summed
    in order with :func:`ordered_total`, they give the kernels' blocked total bit for bit."""
    blocks = np.arange(len(per_row)) // core.reduction_block_rows()
    sums = np.bincount(blocks, weights=per_row, minlength=int(blocks[-1]) + 1 if len(blocks) else 0)
    return sums.astype(np.float64, copy=False)


def ordered_total(partials: NDArray[np.float64]) -> float:
    """Σ partials, added in order."""
    return float(np.bincount(np.zeros(len(partials), np.intp), weights=partials, minlength=1)[0])


#: A row block's share of one reduction block: (the reduction block's index, whether the row
#: block covers it whole, then its reduced value if so, else the rows it covers).
ReductionPart = tuple[int, bool, NDArray[Any]]
#: Reduces the rows of one whole reduction block (at most ``reduction_block_rows`` of them).
Reduce = Callable[[NDArray[Any]], NDArray[Any]]


def reduction_parts(
    lo: int, n: int, rows: NDArray[Any], reduce: Reduce = block_partials
) -> list[ReductionPart]:
    """Rows [lo, lo + len(rows)) of an ``n``-row matrix (per-row terms, or factor rows), by
    the reduction blocks they overlap: ``reduce``\\ d where they cover a block whole, kept as
    rows where they cover a part of one (its other rows are in a neighbouring row block)."""
    step = core.reduction_block_rows()
    hi = lo + len(rows)
    parts: list[ReductionPart] = []
    for r in range(lo // step, -(-hi // step) if hi > lo else 0):
        a, b = max(lo, r * step), min(hi, (r + 1) * step)
        piece = rows[a - lo : b - lo]
        whole = a == r * step and b == min(n, (r + 1) * step)
        parts.append((r, whole, reduce(piece) if whole else piece))
    return parts


def parts_total(blocks: list[list[ReductionPart]], n: int) -> float:
    """Σ of per-row terms of ``n`` rows held in row blocks, from the blocks'
    :func:`reduction_parts` (in row order, each row once), as the kernels' blocked sum adds
    them: a reduction block shared by row blocks is summed from their terms joined in row
    order."""
    step = core.reduction_block_rows()
    sums: dict[int, NDArray[Any]] = {}
    pieces: dict[int, list[NDArray[Any]]] = {}
    for parts in blocks:
        for r, whole, value in parts:
            if whole:
                sums[r] = value
            else:
                pieces.setdefault(r, []).append(value)
    for r, terms in pieces.items():
        if r in sums or sum(len(t) for t in terms) != min(n, (r + 1) * step) - r * step:
            raise AssertionError(f"reduction block {r}: its rows are not covered exactly once")
        sums[r] = block_partials(np.concatenate(terms))
    ordered = in_block_order(sums, n)
    return ordered_total(np.concatenate(ordered)) if ordered else 0.0


def in_block_order(values: dict[int, NDArray[Any]], n: int) -> list[NDArray[Any]]:
    """The values of the reduction blocks of ``n`` rows, in block order; raises unless there
    is exactly one for each."""
    count = -(-n // core.reduction_block_rows())
    if sorted(values) != list(range(count)):
        raise AssertionError(f"the parts are not those of the {count} reduction blocks of {n} rows")
    return [values[r] for r in range(count)]
