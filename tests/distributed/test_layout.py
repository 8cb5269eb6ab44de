"""The row-block layout of a side: whole units (reduction blocks by default), as even as that
allows."""

from __future__ import annotations

import numpy as np
import pytest

from alskit._native import core
from alskit.distributed._blocks import Layout

UNIT = core.reduction_block_rows()


@pytest.mark.parametrize(
    ("n", "blocks"),
    [(0, 3), (1, 1), (UNIT, 4), (UNIT + 1, 2), (13_000, 3), (26_744, 8), (138_493, 8)]
    + [(138_493, 5)],
)
def test_blocks_are_whole_reduction_blocks_of_even_size(n: int, blocks: int) -> None:
    layout = Layout.of(n, blocks)
    units = max(1, -(-n // UNIT))
    assert layout.count == min(blocks, units)
    bounds = [layout.bounds(b) for b in range(layout.count)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(hi == lo for (_, hi), (lo, _) in zip(bounds, bounds[1:], strict=False))
    assert all(lo % UNIT == 0 for lo, _ in bounds)
    whole = [-(-(hi - lo) // UNIT) for lo, hi in bounds]  # reduction blocks per block
    assert max(whole) - min(whole) <= 1
    rows = np.arange(n)
    expected = np.concatenate([np.full(hi - lo, b) for b, (lo, hi) in enumerate(bounds)])
    np.testing.assert_array_equal(layout.block_of(rows), expected.astype(np.int64))


def test_ml20m_user_side_splits_evenly_over_two_workers() -> None:
    # 138,493 users are 34 reduction blocks of 4096: 8 blocks of 4 or 5 of them (a block
    # size rounded up to 20,480 rows made 7 blocks, and one of two workers got a block more).
    layout = Layout.of(138_493, 8)
    sizes = [hi - lo for lo, hi in map(layout.bounds, range(layout.count))]
    assert layout.count == 8
    assert sorted({-(-s // UNIT) for s in sizes}) == [4, 5]


@pytest.mark.parametrize(("n", "blocks"), [(1, 3), (7, 7), (26_744, 8), (9_000, 7)])
def test_blocks_of_any_rows_are_even(n: int, blocks: int) -> None:
    layout = Layout.of(n, blocks, unit=1)
    sizes = [hi - lo for lo, hi in map(layout.bounds, range(layout.count))]
    assert layout.count == min(blocks, n) and sum(sizes) == n
    assert max(sizes) - min(sizes) <= 1


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
    from alskit.bias import parts_total, reduction_parts

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5 * UNIT))
    terms = rng.random(n) * 10.0 ** rng.integers(-8, 8, n)  # magnitudes where order matters
    cuts = np.unique(np.concatenate([[0, n], rng.integers(0, n, int(rng.integers(0, 12)))]))
    parts = [reduction_parts(lo, n, terms[lo:hi]) for lo, hi in zip(cuts, cuts[1:], strict=False)]
    assert parts_total(parts) == _ordered_sum(terms)
