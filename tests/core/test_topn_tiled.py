"""The tiled top-N kernel (scoring.hpp): score tiles visited in decreasing item norm, tiles
skipped by an upper bound, exclusion checked at the candidate.

Every case has more items than several tiles (256–512 items per tile at k = 128) and more
users than one block (64), so that tiles really are skipped; results are held to the dense
float64 reference (``reference.top_n``) and must be bit-identical for 1, 2 and 3 threads.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest

import reference as ref

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-11, atol=1e-11)}


def trained_like(
    rng: np.random.Generator, users: int, items: int, k: int, dtype: type
) -> tuple[np.ndarray, np.ndarray]:
    """Factors shaped as ALS leaves them: a shared direction, item norms spread over two
    orders of magnitude (popular items large), so that most tiles fall below the threshold."""
    common = rng.standard_normal(k)
    q = rng.standard_normal((items, k)) * 0.3 + common
    q *= np.exp(rng.normal(0.0, 1.0, size=(items, 1)))
    p = rng.standard_normal((users, k)) * 0.5 + common * 0.2
    return p.astype(dtype), q.astype(dtype)


def reference_top_n(
    p: np.ndarray, q: np.ndarray, n: int, **kwargs: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Items and float64 scores of every user's top n (all lists full in these cases)."""
    scores = p.astype(np.float64) @ q.astype(np.float64).T
    if kwargs.get("user_offsets") is not None:
        scores += kwargs["user_offsets"][:, None]
    if kwargs.get("item_offsets") is not None:
        scores += kwargs["item_offsets"][None, :]
    exclude = kwargs.get("exclude")
    blocked = kwargs.get("blocked")
    items = np.stack(
        [
            ref.top_n(
                scores[u],
                n,
                exclude=None if exclude is None else np.asarray(exclude[u], dtype=np.int64),
                candidates=kwargs.get("candidates"),
                blocked=None if blocked is None else np.flatnonzero(blocked),
            )
            for u in range(len(p))
        ]
    )
    return items, np.take_along_axis(scores, items, axis=1)


def native(core: ModuleType, p: np.ndarray, q: np.ndarray, n: int, **kwargs: Any) -> Any:
    """top_n for 1, 2 and 3 threads; asserts they are bit-identical; returns one."""
    args = dict(kwargs)
    exclude = args.pop("exclude", None)
    if exclude is not None:
        args["exclude_indptr"] = np.concatenate([[0], np.cumsum([len(r) for r in exclude])])
        args["exclude_indices"] = np.array([i for r in exclude for i in r], dtype=np.int32)
    results = [core.top_n(p, q, n, threads=t, **args) for t in (1, 2, 3)]
    for items, scores in results[1:]:
        np.testing.assert_array_equal(items, results[0][0])
        np.testing.assert_array_equal(scores, results[0][1])
    return results[0]


def assert_same_ranking(
    got: tuple[np.ndarray, np.ndarray], want: tuple[np.ndarray, np.ndarray], dtype: type
) -> None:
    """Same items in the same order, except that near-tied items (float32) may trade places;
    returned scores equal the reference scores."""
    got_items, got_scores = got
    want_items, want_scores = want
    assert got_items.shape == want_items.shape
    np.testing.assert_allclose(got_scores, want_scores, **TOL[dtype])
    if dtype is np.float64:
        np.testing.assert_array_equal(got_items, want_items)
    else:
        # Positions may hold different items only where the scores tie within rounding (the
        # score check above); that is rare.
        assert (got_items != want_items).mean() < 0.01


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [128, 37])
def test_tiled_top_n_matches_reference(core: ModuleType, dtype: type, k: int) -> None:
    rng = np.random.default_rng(k)
    p, q = trained_like(rng, 200, 3000, k, dtype)
    got = native(core, p, q, 10)
    assert_same_ranking(got, reference_top_n(p, q, 10), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_top_n_with_everything(core: ModuleType, dtype: type) -> None:
    """Exclusion rows unsorted and with repeats, candidates in shuffled order, blocked items,
    user and item offsets."""
    rng = np.random.default_rng(7)
    p, q = trained_like(rng, 150, 2500, 128, dtype)
    exclude = []
    for _ in range(len(p)):
        row = list(rng.choice(2500, size=int(rng.integers(0, 300)), replace=False))
        exclude.append(row + row[: len(row) // 3])  # unsorted, some twice
    candidates = rng.permutation(2500)[:2000].astype(np.int32)
    blocked = np.zeros(2500, dtype=bool)
    blocked[rng.choice(2500, size=200, replace=False)] = True
    kwargs: dict[str, Any] = dict(
        exclude=exclude,
        candidates=candidates,
        blocked=blocked,
        user_offsets=rng.standard_normal(len(p)).astype(dtype),
        item_offsets=(rng.standard_normal(2500) * 3).astype(dtype),
    )
    got = native(core, p, q, 15, **kwargs)
    assert_same_ranking(got, reference_top_n(p, q, 15, **kwargs), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_top_n_bound_is_tight(core: ModuleType, dtype: type) -> None:
    """Every item parallel to the user's vector: Cauchy–Schwarz (and the centroid bound) hold
    with equality, and the scores are exact powers of two, many tied: a tile whose bound
    equals the threshold must still be scored, one below it may be skipped."""
    rng = np.random.default_rng(3)
    k, items = 128, 2048
    scale = 2.0 ** rng.integers(-3, 4, size=items)
    q = np.zeros((items, k), dtype=dtype)
    q[:, 0] = scale
    p = np.zeros((70, k), dtype=dtype)
    p[:, 0] = 1.0
    got_items, got_scores = native(core, p, q, 40)
    order = np.lexsort((np.arange(items), -scale))[:40]
    np.testing.assert_array_equal(got_items, np.tile(order, (70, 1)))
    np.testing.assert_array_equal(got_scores, np.tile(scale[order], (70, 1)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_top_n_ties_in_a_later_tile(core: ModuleType, dtype: type) -> None:
    """Every score is exactly 1. Items 1024… have an extra orthogonal component (larger norms,
    visited first); items 0…1023 are e_0 and fill whole tiles of their own (2048 items come
    before them), whose bound is then exactly the threshold 1: they must still be scored, and
    the lowest item numbers win the tie."""
    k, items = 128, 3072
    rng = np.random.default_rng(5)
    q = np.zeros((items, k), dtype=dtype)
    q[:, 0] = 1.0
    q[1024:, 1:] = rng.standard_normal((items - 1024, k - 1))
    p = np.zeros((80, k), dtype=dtype)
    p[:, 0] = 1.0
    got_items, got_scores = native(core, p, q, 12)
    np.testing.assert_array_equal(got_items, np.tile(np.arange(12), (80, 1)))
    np.testing.assert_array_equal(got_scores, np.ones((80, 12)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_top_n_non_finite_factors(core: ModuleType, dtype: type) -> None:
    """Items with NaN or infinite factors are never returned with a NaN score and never stop
    the others from being ranked; a user with a NaN factor gets an empty list."""
    rng = np.random.default_rng(11)
    p, q = trained_like(rng, 100, 2600, 128, dtype)
    bad = rng.choice(2600, size=30, replace=False)
    q[bad[:15], 3] = np.nan
    q[bad[15:], 5] = np.inf
    p[7, 0] = np.nan
    items, scores = native(core, p, q, 10)
    assert not np.isnan(scores[items >= 0]).any()
    assert (items[7] == -1).all() and np.isnan(scores[7]).all()
    # The others as the reference ranks them: NaN scores never, +inf scores first.
    fine = np.delete(np.arange(100), 7)
    assert_same_ranking((items[fine], scores[fine]), reference_top_n(p[fine], q, 10), dtype)


def test_tiled_top_n_more_items_wanted_than_rankable(core: ModuleType) -> None:
    """n above what remains after exclusion: lists are padded, nothing is skipped wrongly."""
    rng = np.random.default_rng(2)
    p, q = trained_like(rng, 90, 1200, 128, np.float64)
    exclude = [list(range(u, 1200, 2)) for u in range(90)]  # about half of the items
    items, scores = native(core, p, q, 700, exclude=exclude)
    assert items.shape == (90, 700)
    for u in range(90):
        kept = 1200 - len(exclude[u])
        assert (items[u, kept:] == -1).all() and np.isnan(scores[u, kept:]).all()
        assert (items[u, :kept] >= 0).all()
    full = p @ q.T
    for u in range(90):
        kept = 1200 - len(exclude[u])
        want = ref.top_n(full[u], 700, exclude=np.array(exclude[u]))
        np.testing.assert_array_equal(items[u, :kept], want)
