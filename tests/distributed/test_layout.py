"""The row-block layout of a side: whole reduction blocks, as even as that allows."""

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
