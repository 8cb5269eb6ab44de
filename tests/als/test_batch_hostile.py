"""Hostile inputs at the batch APIs (``recommend``, ``predict``,
``similar_items``, ``fold_in_users``): one table, each row a call and what it must do
(``bad``, ``ok`` or ``either``: the table machinery in tests/hostile.py). Whatever the row,
the process never crashes and no other exception escapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from alskit import (
    BiasedMFScorer,
    ImplicitMFScorer,
    ItemList,
)
from hostile import (
    I64_MAX,
    I64_MIN,
    Ctx,
    bad,
    either,
    ok,
    verify,
)

# ---- 6. batch APIs (recommend, predict, similar_items, fold_in_users) -----------------------


def _at_most(n: int) -> Callable[[Any], bool]:
    return lambda recs: len(recs) <= n


def _lists_cover_unseen() -> Callable[[Any], bool]:
    # The 5 items minus each user's seen ones: 3 + 3 + 3 + 2 = 11 rows for the 4 users.
    return lambda recs: len(recs) == 11 and set(recs.ranks.tolist()) <= {1, 2, 3}


BATCH_TABLE = [
    # recommend: n
    bad(
        lambda c: c.biased.recommend([1], n=0),
        ValueError,
        r"n must be a positive integer, got 0",
        id="recommend-n-0",
    ),
    bad(
        lambda c: c.biased.recommend([1], n=-1),
        ValueError,
        r"n must be a positive integer, got -1",
        id="recommend-n-negative",
    ),
    bad(
        lambda c: c.biased.recommend([1], n="a"),
        (ValueError, TypeError),
        r"n must be a positive integer, got 'a'",
        id="recommend-n-str",
    ),
    bad(
        lambda c: c.biased.recommend([1], n=2.0),
        (ValueError, TypeError),
        r"n must be a positive integer, got 2\.0",
        id="recommend-n-float",
    ),
    bad(
        lambda c: c.biased.recommend([1], n=True),
        (ValueError, TypeError),
        r"n must be a positive integer",
        id="recommend-n-bool",
    ),
    bad(
        lambda c: c.biased.recommend([1], n=None),
        (ValueError, TypeError),
        r"n must be a positive integer",
        id="recommend-n-none",
    ),
    ok(lambda c: c.biased.recommend(n=1000), _lists_cover_unseen(), id="recommend-n-beyond-items"),
    ok(
        lambda c: c.biased.recommend(n=2**63 - 1), _lists_cover_unseen(), id="recommend-n-int64-max"
    ),
    ok(
        lambda c: c.biased.recommend(n=np.int64(1000)),
        _lists_cover_unseen(),
        id="recommend-n-numpy-int",
    ),
    either(
        lambda c: c.biased.recommend(n=2**63),
        (ValueError, TypeError),
        r"\bn must be",
        _lists_cover_unseen(),
        id="recommend-n-beyond-int64",
    ),
    either(
        lambda c: c.biased.recommend(n=np.uint64(2**64 - 1)),
        (ValueError, TypeError),
        r"\bn must be",
        _lists_cover_unseen(),
        id="recommend-n-uint64-max",
    ),
    # recommend: users
    bad(
        lambda c: c.biased.recommend([999]),
        KeyError,
        r"unknown user id 999",
        id="recommend-unknown-user",
    ),
    bad(
        lambda c: c.biased.recommend(["x"]),
        KeyError,
        r"unknown user id 'x'",
        id="recommend-str-user-in-int-model",
    ),
    bad(
        lambda c: c.biased.recommend([I64_MAX]),
        KeyError,
        r"unknown user id 9223372036854775807",
        id="recommend-int64-max-user",
    ),
    bad(
        lambda c: c.biased.recommend({1: 2}),
        TypeError,
        r"users must be an ordered sequence",
        id="recommend-users-dict",
    ),
    bad(
        lambda c: c.biased.recommend([[1, 2]]),
        TypeError,
        r"users must be hashable scalars, found list",
        id="recommend-users-2d",
    ),
    ok(
        lambda c: c.biased.recommend(1, n=2),
        lambda r: set(r.query_ids.tolist()) == {1},
        id="recommend-scalar-user",
    ),
    ok(lambda c: c.biased.recommend([], n=2), lambda r: len(r) == 0, id="recommend-no-users"),
    ok(
        lambda c: c.biased.recommend([1, 1], n=2),
        lambda r: r.query_ids.tolist() == [1, 1, 1, 1],
        id="recommend-duplicate-users",
    ),
    ok(
        lambda c: c.biased.recommend(np.array([4, 3, 2, 1])[::2], n=1),
        lambda r: r.query_ids.tolist() == [4, 2],
        id="recommend-non-contiguous-users",
    ),
    # recommend: candidates and blocklist
    bad(
        lambda c: c.biased.recommend([1], candidates=[10, 999]),
        KeyError,
        r"unknown item id 999",
        id="recommend-unknown-candidate",
    ),
    ok(
        lambda c: c.biased.recommend([1], candidates=12),
        lambda r: r.item_ids.tolist() == [12],
        id="recommend-scalar-candidates",
    ),
    bad(
        lambda c: c.biased.recommend([1], candidates=[[10, 11]]),
        TypeError,
        r"candidates must be hashable scalars, found list",
        id="recommend-2d-candidates",
    ),
    bad(
        lambda c: c.biased.recommend([1], blocklist=[[10, 11]]),
        TypeError,
        r"blocklist must be hashable scalars, found list",
        id="recommend-2d-blocklist",
    ),
    ok(
        lambda c: c.biased.recommend([1], candidates=[]),
        lambda r: len(r) == 0,
        id="recommend-no-candidates",
    ),
    ok(
        lambda c: c.biased.recommend([1], candidates=[12, 12, 13]),
        lambda r: sorted(r.item_ids.tolist()) == [12, 13],
        id="recommend-duplicate-candidates",
    ),
    bad(
        lambda c: c.biased.recommend([1], blocklist=[999, "x"]),
        TypeError,
        r"blocklist mix integer and string",
        id="recommend-unknown-blocklist",
    ),
    ok(
        lambda c: c.biased.recommend([1], blocklist=12),
        lambda r: 12 not in r.item_ids.tolist(),
        id="recommend-scalar-blocklist",
    ),
    bad(
        lambda c: c.biased.recommend([1], threads=-1),
        ValueError,
        r"threads must be >= 0",
        id="recommend-threads-negative",
    ),
    bad(
        lambda c: c.biased.recommend([1], threads=1.5),
        TypeError,
        r"threads must be an int",
        id="recommend-threads-float",
    ),
    bad(
        lambda c: BiasedMFScorer().recommend(),
        RuntimeError,
        r"not trained",
        id="recommend-untrained",
    ),
    # a loaded model
    bad(
        lambda c: c.loaded.recommend([999]),
        KeyError,
        r"user id 999",
        id="loaded-recommend-unknown-user",
    ),
    bad(
        lambda c: c.loaded.recommend([1], candidates=[999]),
        KeyError,
        r"item id 999",
        id="loaded-recommend-unknown-candidate",
    ),
    # predict
    bad(
        lambda c: c.biased.predict([1, 2], [10]),
        ValueError,
        r"users and items must be 1-D and of equal length, got \(2,\) and \(1,\)",
        id="predict-length-mismatch",
    ),
    ok(
        lambda c: c.biased.predict(1, 10),
        lambda r: r.shape == (1,) and np.isfinite(r).all(),
        id="predict-scalars",
    ),
    bad(
        lambda c: c.biased.predict([[1]], [[10]]),
        TypeError,
        r"users must be hashable",
        id="predict-2d",
    ),
    ok(
        lambda c: c.biased.predict([1, 999, 1], [10, 10, 999]),
        lambda r: np.isfinite(r[0]) and np.isnan(r[1:]).all(),
        id="predict-unknown-ids",
    ),
    ok(
        lambda c: c.biased.predict(["a"], ["b"]),
        lambda r: np.isnan(r).all(),
        id="predict-str-ids-in-int-model",
    ),
    ok(
        lambda c: c.biased.predict([I64_MIN, I64_MAX], [I64_MAX, I64_MIN]),
        lambda r: np.isnan(r).all(),
        id="predict-int64-extremes",
    ),
    bad(
        lambda c: c.biased.predict(np.array([2**64 - 1], np.uint64), np.array([10], np.uint64)),
        ValueError,
        r"users contain .* beyond the int64 range",
        id="predict-uint64-beyond-int64",
    ),
    bad(
        lambda c: c.biased.predict([1.0, 1.5], [10.0, 10.0]),
        TypeError,
        r"users must be integers or strings; got non-integral float",
        id="predict-float-ids",
    ),
    ok(lambda c: c.biased.predict([], []), lambda r: r.shape == (0,), id="predict-empty"),
    ok(
        lambda c: c.biased.predict(
            np.array([1, 9, 2, 9, 3, 9, 4, 9])[::2], np.array([10, 10, 11, 12], dtype=">i8")
        ),
        lambda r: np.isfinite(r).all(),
        id="predict-odd-layouts",
    ),
    # similar_items
    bad(
        lambda c: c.biased.similar_items([999]),
        KeyError,
        r"unknown item id 999",
        id="similar-unknown-item",
    ),
    bad(lambda c: c.biased.similar_items([10], n=0), ValueError, r"\bn must be", id="similar-n-0"),
    bad(
        lambda c: c.biased.similar_items([10], n=-1),
        ValueError,
        r"\bn must be",
        id="similar-n-negative",
    ),
    bad(
        lambda c: c.biased.similar_items([10], n="a"),
        (ValueError, TypeError),
        r"\bn must be",
        id="similar-n-str",
    ),
    bad(
        lambda c: c.biased.similar_items([10], n=None),
        (ValueError, TypeError),
        r"\bn must be",
        id="similar-n-none",
    ),
    bad(
        lambda c: c.biased.similar_items([10], n=1.5),
        (ValueError, TypeError),
        r"\bn must be",
        id="similar-n-fractional",
    ),
    bad(
        lambda c: c.biased.similar_items([10], n=True),
        (ValueError, TypeError),
        r"\bn must be",
        id="similar-n-bool",
    ),
    ok(
        lambda c: c.biased.similar_items([10, 11], n=100),
        lambda r: len(r) == 8,
        id="similar-n-beyond-items",
    ),
    either(
        lambda c: c.biased.similar_items([10], n=2**63),
        (ValueError, TypeError),
        r"\bn must be",
        lambda r: len(r) == 4,
        id="similar-n-beyond-int64",
    ),
    ok(lambda c: c.biased.similar_items([], n=2), lambda r: len(r) == 0, id="similar-no-items"),
    # fold_in_users
    bad(
        lambda c: c.biased.fold_in_users([ItemList([10, 11])]),
        ValueError,
        r"BiasedMFScorer fold-in needs a 'rating' field",
        id="fold-in-biased-without-ratings",
    ),
    bad(
        lambda c: ImplicitMFScorer(use_ratings=True, features=2, epochs=1).fold_in_users(
            [ItemList([10])]
        ),
        RuntimeError,
        r"not trained",
        id="fold-in-untrained",
    ),
    bad(
        lambda c: c.biased.fold_in_users([ItemList([10], rating=[1.0])], threads=-1),
        ValueError,
        r"threads must be >= 0",
        id="fold-in-threads-negative",
    ),
    bad(
        lambda c: c.biased.fold_in_users([[10, 11]]),
        TypeError,
        r"ItemList|histories",
        id="fold-in-list-of-lists",
    ),
    bad(
        lambda c: c.biased.fold_in_users(ItemList([10, 11], rating=[1.0, 2.0])),
        TypeError,
        r"histories|sequence",
        id="fold-in-single-itemlist",
    ),
    ok(
        lambda c: c.biased.fold_in_users([]),
        lambda r: r[0].shape == (0, 3) and r[1].shape == (0,),
        id="fold-in-no-histories",
    ),
    ok(
        lambda c: c.implicit.fold_in_users([ItemList([10, 11])]),
        lambda r: np.isfinite(r[0]).all() and r[1] is None,
        id="fold-in-implicit-without-ratings",
    ),
    ok(
        lambda c: c.biased.fold_in_users([ItemList([10, 11], rating=[np.nan, np.inf])]),
        lambda r: (r[0] == 0).all() and r[1].tolist() == [0.0],
        id="fold-in-all-ratings-non-finite",
    ),
    ok(
        lambda c: c.biased.fold_in_users([ItemList(np.arange(30)[::3], rating=np.ones(20)[::2])]),
        lambda r: np.isfinite(r[0]).all(),
        id="fold-in-non-contiguous",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), BATCH_TABLE)
def test_batch_apis(ctx: Ctx, call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(ctx, call, errors, pattern, check)
