"""Hostile inputs at scorer calls: one table, each row a call and what it must do
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
    ItemList,
    RecQuery,
)
from hostile import (
    I64_MAX,
    I64_MIN,
    Ctx,
    bad,
    message_of,
    ok,
    verify,
)

# ---- 5. scorer calls -----------------------------------------------------------------------


def _scores(result: ItemList) -> list[float]:
    scores = result.scores()
    assert scores is not None
    return scores.tolist()


def _all_nan(result: ItemList) -> bool:
    return bool(np.isnan(_scores(result)).all())


def _finite_count(n: int) -> Callable[[ItemList], bool]:
    return lambda r: int(np.isfinite(_scores(r)).sum()) == n


SCORER_TABLE = [
    # unknown ids: NaN, never an error
    ok(lambda c: c.biased(999, [10, 11]), _all_nan, id="unknown-user"),
    ok(lambda c: c.implicit(999, [10, 11]), _all_nan, id="implicit-unknown-user"),
    ok(
        lambda c: c.biased(1, [10, 999]),
        lambda r: np.isfinite(_scores(r)[0]) and np.isnan(_scores(r)[1]),
        id="unknown-item",
    ),
    ok(lambda c: c.biased("1", [10]), _all_nan, id="str-user-in-int-model"),
    ok(lambda c: c.biased(2**70, [10]), _all_nan, id="user-beyond-int64"),
    ok(lambda c: c.biased(np.uint64(2**64 - 1), [10]), _all_nan, id="uint64-max-user"),
    ok(
        lambda c: c.biased(I64_MIN, np.array([I64_MAX, I64_MIN])),
        _all_nan,
        id="int64-extreme-ids-unknown",
    ),
    ok(lambda c: c.biased(1, ["x", "y"]), _all_nan, id="str-items-in-int-model"),
    ok(lambda c: c.strmodel("u", [1]), _all_nan, id="int-item-in-str-model"),
    ok(lambda c: c.biased(1, []), lambda r: len(r) == 0, id="no-items"),
    ok(lambda c: c.biased(None, [10, 11]), _all_nan, id="no-user"),
    # array layouts and dtypes of the items
    ok(lambda c: c.biased(1, np.arange(10, 16)[::2]), _finite_count(3), id="non-contiguous-items"),
    ok(
        lambda c: c.biased(1, np.array([10, 11], dtype=">i8")),
        _finite_count(2),
        id="big-endian-items",
    ),
    ok(
        lambda c: c.biased(1, np.array([10, 11], dtype=np.uint8)),
        _finite_count(2),
        id="uint8-items",
    ),
    ok(lambda c: c.biased(1, np.array([10.0, 11.0])), _finite_count(2), id="integral-float-items"),
    ok(
        lambda c: c.biased(1, np.array([10, 11], dtype=object)),
        _finite_count(2),
        id="object-int-items",
    ),
    bad(
        lambda c: c.biased(1, np.array([10.0, 11.5])),
        TypeError,
        r"item_ids must be integers or strings; got non-integral float.*11\.5\)? at position 1",
        id="fractional-float-items",
    ),
    bad(
        lambda c: c.biased(1, np.array([True, False])),
        TypeError,
        r"item_ids must be integers or strings, not booleans",
        id="bool-items",
    ),
    bad(
        lambda c: c.biased(1, np.array([1j])),
        TypeError,
        r"item_ids must be integers or strings, not complex",
        id="complex-items",
    ),
    bad(
        lambda c: c.biased(1, np.array(["2020-01-01"], dtype="datetime64[D]")),
        TypeError,
        r"item_ids .*datetime64",
        id="datetime-items",
    ),
    bad(
        lambda c: c.biased(1, np.array([2**64 - 1], dtype=np.uint64)),
        ValueError,
        r"item_ids contain 18446744073709551615, beyond the int64 range",
        id="uint64-items-beyond-int64",
    ),
    bad(
        lambda c: c.biased(1, np.array([10, None], dtype=object)),
        ValueError,
        r"item_ids contain a missing value \(None\) at position 1",
        id="none-among-items",
    ),
    bad(
        lambda c: c.biased(1, np.array([10, "a"], dtype=object)),
        TypeError,
        r"item_ids mix integer and string",
        id="mixed-object-items",
    ),
    bad(
        lambda c: c.biased(1, np.array([[10, 11]])),
        ValueError,
        r"item_ids must be one-dimensional, got shape \(1, 2\)",
        id="2d-items",
    ),
    bad(
        lambda c: c.biased(1, [[10], [11]]),
        TypeError,
        r"item_ids must be hashable",
        id="nested-list-items",
    ),
    bad(lambda c: c.biased(1, {10: 1.0}), (TypeError, ValueError), r"item", id="dict-items"),
    ok(lambda c: c.biased(1, None), lambda r: len(r) == 0, id="none-items"),
    bad(lambda c: c.biased(1, "10"), (TypeError, ValueError), r"item", id="str-items"),
    bad(lambda c: c.biased(1, 10), (TypeError, ValueError), r"item", id="int-items"),
    bad(
        lambda c: c.biased(1, ItemList([10, "a"])),
        TypeError,
        r"item_ids mix integer and string",
        id="mixed-itemlist",
    ),
    # the query
    bad(
        lambda c: c.biased(1.0, [10]),
        TypeError,
        r"cannot interpret a float as a recommendation query",
        id="float-query",
    ),
    bad(lambda c: c.biased([1], [10]), TypeError, r"cannot interpret a list", id="list-query"),
    bad(
        lambda c: c.biased({"user_id": 1}, [10]),
        TypeError,
        r"cannot interpret a dict",
        id="dict-query",
    ),
    bad(lambda c: c.biased(True, [10]), TypeError, r"a boolean is not a user id", id="bool-query"),
    bad(
        lambda c: c.biased(RecQuery(user_id=[1]), [10]),
        TypeError,
        r"single id",
        id="unhashable-user-id",
    ),
    bad(
        lambda c: c.biased(RecQuery(user_id=1, user_items=[10, 11]), [10]),
        TypeError,
        r"user_items|ItemList",
        id="history-not-an-itemlist",
    ),
    # histories
    bad(
        lambda c: c.biased(ItemList([10, 11]), [10]),
        ValueError,
        r"needs a 'rating' field",
        id="biased-history-without-ratings",
    ),
    ok(
        lambda c: c.implicit(ItemList([10, 11]), [10, 12]),
        _finite_count(2),
        id="implicit-history-without-ratings",
    ),
    ok(
        lambda c: c.biased(ItemList([10, 11], rating=[np.nan, np.inf]), [10, 12]),
        _finite_count(2),
        id="history-non-finite-ratings-ignored",
    ),
    ok(
        lambda c: c.biased(ItemList([98, 99], rating=[1.0, 2.0]), [10, 12]),
        _finite_count(2),
        id="history-unknown-items",
    ),
    ok(
        lambda c: c.biased(ItemList([10, 10, 10], rating=[1.0, 2.0, 3.0]), [10]),
        _finite_count(1),
        id="history-duplicate-items",
    ),
    bad(
        lambda c: ItemList([10, 11], rating=["a", "b"]),
        TypeError,
        r"rating must be numeric",
        id="history-str-ratings",
    ),
    bad(
        lambda c: ItemList([10, 11], scores=[1.0]),
        ValueError,
        r"field 'scores' has 1 entries but the list has 2 items",
        id="itemlist-scores-length",
    ),
    bad(
        lambda c: ItemList([10, 11], score=[1.0, 2.0]),
        ValueError,
        r"field name 'score' is reserved",
        id="itemlist-reserved-field",
    ),
    bad(
        lambda c: ItemList(item_nums=[7], vocabulary=c.biased.items_),
        ValueError,
        r"item_nums contain 7, outside \[0, 5\)",
        id="itemlist-num-out-of-range",
    ),
    bad(
        lambda c: ItemList([10], vocabulary=[10]),
        TypeError,
        r"vocabulary must be a Vocabulary, not list",
        id="itemlist-vocabulary-list",
    ),
    bad(
        lambda c: BiasedMFScorer()(1, [10]),
        RuntimeError,
        r"BiasedMFScorer is not trained",
        id="untrained",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), SCORER_TABLE)
def test_scorer_call(ctx: Ctx, call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(ctx, call, errors, pattern, check)


@pytest.mark.parametrize(
    ("call", "check"),
    [
        pytest.param(
            lambda c: c.biased(1, [10, "a"]),
            lambda r: np.isfinite(_scores(r)[0]),
            id="call-items",
        ),
        pytest.param(
            lambda c: c.strmodel("u", [1, "a"]),
            lambda r: np.isnan(_scores(r)[0]),
            id="call-items-str-model",
        ),
        pytest.param(
            lambda c: c.biased.predict([1, "a"], [10, 10]),
            lambda r: np.isfinite(r[0]) and np.isnan(r[1]),
            id="predict",
        ),
        pytest.param(
            lambda c: c.biased.recommend([1, "a"]),
            None,
            id="recommend-users",
        ),
        pytest.param(
            lambda c: c.biased.recommend([1], candidates=[10, "a"]),
            None,
            id="recommend-candidates",
        ),
    ],
)
def test_mixed_id_lists_are_never_stringified(ctx: Ctx, call: Any, check: Any) -> None:
    """A list mixing int and string ids: either a TypeError saying so, or each id looked up
    as what it is (the known int found, the string unknown, an error naming the string)."""
    try:
        result = call(ctx)
    except TypeError as e:
        assert "mix" in str(e), str(e)
        return
    except KeyError as e:
        assert "'a'" in message_of(e), message_of(e)
        return
    assert check is not None and check(result), result
