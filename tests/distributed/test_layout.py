"""The row-block layout of a side, and the blocked reductions over its blocks."""

from __future__ import annotations

import numpy as np
import pytest

from alskit._native import core
from alskit.distributed._blocks import Layout

UNIT = core.reduction_block_rows()


@pytest.mark.parametrize(
    ("n", "blocks"), [(0, 3), (1, 3), (7, 7), (UNIT + 1, 2), (9_000, 7), (26_744, 8)]
)
def test_blocks_are_consecutive_rows_of_even_count(n: int, blocks: int) -> None:
    layout = Layout.of(n, blocks)
    bounds = [layout.bounds(b) for b in range(layout.count)]
    sizes = [hi - lo for lo, hi in bounds]
    assert layout.count == max(1, min(blocks, n)) and sum(sizes) == n
    assert max(sizes) - min(sizes) <= 1
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(hi == lo for (_, hi), (lo, _) in zip(bounds, bounds[1:], strict=False))
    expected = np.concatenate([np.full(hi - lo, b) for b, (lo, hi) in enumerate(bounds)])
    np.testing.assert_array_equal(layout.block_of(np.arange(n)), expected.astype(np.int64))


@pytest.mark.parametrize(("n", "blocks"), [(9_000, 7), (3 * UNIT, 3), (26_744, 8), (100, 4)])
def test_shared_reduction_blocks_are_those_of_several_blocks(n: int, blocks: int) -> None:
    layout = Layout.of(n, blocks)
    owners = layout.block_of(np.arange(n))
    expected = {
        r: sorted(set(owners[r * UNIT : (r + 1) * UNIT].tolist())) for r in range(-(-n // UNIT))
    }
    assert layout.shared() == {r: bs for r, bs in expected.items() if len(bs) > 1}


def test_ml20m_item_side_splits_evenly_over_two_workers() -> None:
    # 26,744 items are 7 reduction blocks of 4096: blocks of whole reduction blocks gave one
    # of two workers four and the other three; any-row blocks give 8 of 3,343 rows.
    layout = Layout.of(26_744, 8)
    sizes = [hi - lo for lo, hi in map(layout.bounds, range(layout.count))]
    assert layout.count == 8 and set(sizes) == {3343}


def _ordered_sum(terms: np.ndarray) -> float:
    """parallel.hpp's ordered_sum, written out: in order within reduction blocks, then the
    block sums in order."""
    total = 0.0
    for lo in range(0, len(terms), UNIT):
        partial = 0.0
        for t in terms[lo : lo + UNIT].tolist():
            partial += t
        total += partial
    return total


@pytest.mark.parametrize("seed", range(6))
def test_parts_of_blocks_cut_anywhere_add_up_to_the_blocked_sum(seed: int) -> None:
    from alskit._reduction import parts_total, reduction_parts

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5 * UNIT))
    terms = rng.random(n) * 10.0 ** rng.integers(-8, 8, n)  # magnitudes where order matters
    cuts = np.unique(np.concatenate([[0, n], rng.integers(0, n, int(rng.integers(0, 12)))]))
    parts = [reduction_parts(lo, n, terms[lo:hi]) for lo, hi in zip(cuts, cuts[1:], strict=False)]
    assert parts_total(parts, n) == _ordered_sum(terms)


def test_parts_must_cover_the_rows_once() -> None:
    from alskit._reduction import parts_total, reduction_parts

    n = 2 * UNIT + 10
    terms = np.ones(n)
    head, tail = reduction_parts(0, n, terms[:100]), reduction_parts(100, n, terms[100:])
    assert parts_total([head, tail], n) == float(n)
    assert parts_total([], 0) == 0.0 and reduction_parts(5, 5, terms[:0]) == []
    with pytest.raises(AssertionError, match="reduction block 0"):
        parts_total([tail], n)  # rows 0-99 missing
    with pytest.raises(AssertionError, match="reduction block 0"):
        parts_total([head, head, tail], n)  # rows 0-99 twice
    with pytest.raises(AssertionError, match="not those of the 4 reduction blocks"):
        parts_total([head, tail], n + UNIT)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", ["broadcast", "routed"])
def test_planned_rows_count_each_crossing_row(seed: int, mode: str) -> None:
    from alskit.distributed._trainer import _rows_moved, _Side

    rng = np.random.default_rng(seed)
    workers = int(rng.integers(2, 4))
    fixed = _Side("item", Layout.of(int(rng.integers(2, 5 * UNIT)), int(rng.integers(2, 9))), [])
    side = _Side("user", Layout.of(5_000, int(rng.integers(2, 9))), [])
    fixed.owners = rng.integers(0, workers, fixed.layout.count).tolist()
    side.owners = rng.integers(0, workers, side.layout.count).tolist()
    side.sizes = {
        (w, c): int(rng.integers(0, 50)) for w in range(workers) for c in range(fixed.layout.count)
    }
    # row by row: the solving workers without the row's block receive it (broadcast) or what
    # their blocks reference there (routed); for the Gram reduced from partials (routed), a
    # row of a shared reduction block travels when its block's worker is not that of the
    # block's last holder (broadcast computes it from the rows each worker has)
    holder = np.asarray(fixed.owners)[fixed.layout.block_of(np.arange(fixed.layout.n))]
    solvers = set(side.owners)
    if mode == "broadcast":
        expected = sum(int((holder != w).sum()) for w in solvers)
    else:
        expected = sum(
            side.sizes[(w, c)] for w in solvers for c, o in enumerate(fixed.owners) if o != w
        )
    assert _rows_moved(mode, side, fixed, gram=False) == expected
    # (a reduction block is shared when its first and last rows are in different blocks;
    # its last holder is the block of its last row)
    n = fixed.layout.n
    rows = np.arange(n)
    first, last = rows // UNIT * UNIT, np.minimum(n, rows // UNIT * UNIT + UNIT) - 1
    blocks = fixed.layout.block_of(first), fixed.layout.block_of(last)
    crossing = (blocks[0] != blocks[1]) & (holder != np.asarray(fixed.owners)[blocks[1]])
    gram_rows = int(crossing.sum()) if mode == "routed" else 0
    assert _rows_moved(mode, side, fixed, gram=True) == expected + gram_rows
