"""Hostile inputs at the Dataset builders: one table, each row a call and what it must do
(``bad``, ``ok`` or ``either``: the table machinery in tests/hostile.py). Whatever the row,
the process never crashes and no other exception escapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from alskit import (
    Dataset,
    Vocabulary,
)
from hostile import (
    I64_MAX,
    I64_MIN,
    bad,
    either,
    ok,
    verify,
)

# ---- 1. Dataset builders -------------------------------------------------------------------

FA = Dataset.from_arrays


def _int8_duplicates() -> Any:
    rows, cols = np.array([0, 0]), np.array([1, 1])
    return sp.coo_array((np.array([100, 100], dtype=np.int8), (rows, cols)), shape=(2, 2))


def _noncontiguous() -> Dataset:
    ids = np.arange(20)[::2]
    return FA(ids, ids[::-1], np.linspace(1, 5, 20)[::2])


def _readonly() -> Dataset:
    ids = np.arange(5)
    ratings = np.ones(5)
    ids.flags.writeable = False
    ratings.flags.writeable = False
    return FA(ids, ids, ratings)


DATASET_TABLE = [
    # non-finite and non-numeric ratings
    bad(
        lambda: FA([1, 2], [1, 2], [1.0, np.nan]),
        ValueError,
        r"rating at input row 1 is nan",
        id="nan-rating",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], [np.inf, 1.0]),
        ValueError,
        r"rating at input row 0 is inf",
        id="inf-rating",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], [1.0, -np.inf]),
        ValueError,
        r"input row 1 is -inf",
        id="neg-inf-rating",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], [1.0, None]), ValueError, r"input row 1 is nan", id="none-rating"
    ),
    bad(
        lambda: FA([1, 2], [1, 2], ["a", "b"]),
        TypeError,
        r"ratings must be numeric",
        id="str-ratings",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], np.array([1j, 2j])),
        TypeError,
        r"ratings must be numeric",
        id="complex-ratings",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], [[1.0], [2.0]]),
        ValueError,
        r"ratings must be one-dimensional",
        id="2d-ratings",
    ),
    ok(
        lambda: FA([1, 2], [1, 2], [-1.0, -2.0]),
        lambda d: d.ratings.tolist() == [-1.0, -2.0],
        id="negative-ratings-allowed",
    ),
    # lengths, shapes, emptiness
    bad(
        lambda: FA([1, 2, 3], [1, 2]),
        ValueError,
        r"user_ids has 3 entries but item_ids has 2",
        id="len-ids",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], [1.0]),
        ValueError,
        r"has 2 entries but ratings has 1",
        id="len-ratings",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], timestamps=[1]),
        ValueError,
        r"timestamps has 1",
        id="len-timestamps",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], timestamps=[[1], [2]]),
        ValueError,
        r"timestamps must be one-dimensional",
        id="2d-timestamps",
    ),
    bad(lambda: FA([], []), ValueError, r"no interactions", id="empty-lists"),
    bad(
        lambda: FA(np.array([], np.int64), np.array([], np.int64), np.array([])),
        ValueError,
        r"no interactions",
        id="empty-arrays",
    ),
    bad(
        lambda: FA(np.zeros((2, 2), int), [1, 2]),
        ValueError,
        r"user ids must be one-dimensional, got shape \(2, 2\)",
        id="2d-ids",
    ),
    bad(lambda: FA(5, [1]), TypeError, r"user ids must be array-like", id="scalar-ids"),
    bad(lambda: FA(None, [1]), TypeError, r"user ids must be array-like", id="none-ids"),
    bad(
        lambda: FA("abc", [1]),
        TypeError,
        r"user ids must be an array of ids, not a single str",
        id="str-as-ids",
    ),
    # id types
    bad(
        lambda: FA([1, "a"], [1, 2]),
        TypeError,
        r"user ids mix integer and string",
        id="mixed-user-ids",
    ),
    bad(
        lambda: FA([1, 2], ["x", 3]),
        TypeError,
        r"item ids mix integer and string",
        id="mixed-item-ids",
    ),
    bad(
        lambda: FA([[1], [2]], [1, 2]),
        TypeError,
        r"user ids must be hashable scalars, found list",
        id="list-ids",
    ),
    bad(
        lambda: FA([[1], [2, 3]], [1, 2]),
        TypeError,
        r"user ids must be hashable.*list",
        id="ragged-list-ids",
    ),
    bad(
        lambda: FA([{1: 2}, {3: 4}], [1, 2]),
        TypeError,
        r"user ids must be hashable.*dict",
        id="dict-ids",
    ),
    bad(
        lambda: FA([1.5, 2.0], [1, 2]),
        TypeError,
        r"user ids must be integers or strings; got non-integral float.*1\.5.*position 0",
        id="fractional-float-ids",
    ),
    bad(
        lambda: FA([1.0, np.nan], [1, 2]),
        ValueError,
        r"user ids contain a missing or non-finite value \(nan\) at position 1",
        id="nan-float-id",
    ),
    bad(
        lambda: FA([1, None], [1, 2]),
        ValueError,
        r"user ids contain a missing value \(None\) at position 1",
        id="none-id",
    ),
    bad(
        lambda: FA(["a", np.nan], [1, 2]),
        ValueError,
        r"user ids contain a missing value",
        id="nan-among-str-ids",
    ),
    bad(
        lambda: FA([True, False], [1, 2]),
        TypeError,
        r"user ids must be integers or strings, not booleans",
        id="bool-ids",
    ),
    bad(
        lambda: FA([b"a", b"b"], [1, 2]),
        TypeError,
        r"user ids must be integers or strings, not bytes",
        id="bytes-ids",
    ),
    bad(
        lambda: FA(np.array([1j, 2j]), [1, 2]),
        TypeError,
        r"user ids must be integers or strings, not complex",
        id="complex-ids",
    ),
    bad(
        lambda: FA(np.array(["2020-01-01"], dtype="datetime64[D]"), [1]),
        TypeError,
        r"user ids must be integers or strings, not datetime64",
        id="datetime-ids",
    ),
    bad(
        lambda: FA(np.array([2**64 - 1, 1], dtype=np.uint64), [1, 2]),
        ValueError,
        r"user ids contain 18446744073709551615, beyond the int64 range",
        id="uint64-beyond-int64",
    ),
    bad(
        lambda: FA([-(2**63) - 1, 1], [1, 2]),
        ValueError,
        r"user ids contain integers beyond the int64 range",
        id="python-int-below-int64",
    ),
    bad(
        lambda: FA([2**63, 1], [1, 2]),
        ValueError,
        r"user ids .*9223372036854775808.*int64",
        id="python-int-above-int64",
    ),
    bad(
        lambda: FA({1, 2}, [1, 2]),
        TypeError,
        r"user ids.*(set|order)",
        id="set-ids",
    ),
    either(
        lambda: FA(["a", "a\x00"], [1, 1], [1.0, 2.0]),
        ValueError,
        r"\\x00|NUL|null character",
        lambda d: d.user_count == 2,
        id="ids-differing-by-trailing-nul",
    ),
    # duplicates
    bad(
        lambda: FA([1, 1], [2, 2], [1.0, 2.0]),
        ValueError,
        r"1 duplicate \(user, item\) pairs.*\(user 1, item 2\) at input row 0 and input row 1",
        id="duplicates-default-error",
    ),
    bad(
        lambda: FA([1, 1], [2, 2], duplicates="first"),
        ValueError,
        r"duplicates must be 'error', 'last' or 'sum', not 'first'",
        id="duplicates-bad-policy",
    ),
    ok(
        lambda: FA([1, 1], [2, 2], [1.0, 2.0], duplicates="last"),
        lambda d: d.ratings.tolist() == [2.0],
        id="duplicates-last",
    ),
    ok(
        lambda: FA([1, 1], [2, 2], [1.0, 2.0], duplicates="sum"),
        lambda d: d.ratings.tolist() == [3.0],
        id="duplicates-sum",
    ),
    # given vocabularies
    bad(
        lambda: FA([1, 2], [1, 2], users=[1]),
        ValueError,
        r"user id 2 at input row 1 is not in the given users",
        id="user-not-in-vocab",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], items=["a", "b"]),
        ValueError,
        r"item id 1 at input row 0 is not in the given items",
        id="item-not-in-vocab",
    ),
    bad(
        lambda: FA([1, 2], [1, 2], users=5),
        TypeError,
        r"users",
        id="vocab-not-array",
    ),
    bad(
        lambda: FA([1], [1], users=Vocabulary([1, 1], reorder=False)),
        ValueError,
        r"duplicate id 1",
        id="vocab-with-duplicates",
    ),
    # odd but valid array layouts and dtypes
    ok(
        lambda: FA([I64_MAX, I64_MIN, I64_MAX], [I64_MIN, I64_MAX, 0], [1.0, 2.0, 3.0]),
        lambda d: (
            d.users.ids().tolist() == [I64_MIN, I64_MAX]
            and d.user_row(I64_MAX).ids().tolist() == [I64_MIN, 0]
            and d.interactions_df()["user_id"].tolist() == [I64_MIN, I64_MAX, I64_MAX]
        ),
        id="int64-extreme-ids-round-trip",
    ),
    ok(
        lambda: FA(np.array([I64_MAX], np.uint64), np.array([I64_MIN])),
        lambda d: d.users.ids().tolist() == [I64_MAX],
        id="uint64-at-int64-max",
    ),
    ok(_noncontiguous, lambda d: d.interaction_count == 10, id="non-contiguous-arrays"),
    ok(_readonly, lambda d: d.interaction_count == 5, id="read-only-arrays"),
    ok(
        lambda: FA(np.arange(5, dtype=">i8"), np.arange(5, dtype=">i4"), np.ones(5, dtype=">f8")),
        lambda d: d.users.ids().tolist() == [0, 1, 2, 3, 4] and d.ratings.dtype == np.float64,
        id="big-endian-arrays",
    ),
    ok(
        lambda: FA(
            np.arange(5, dtype=np.int8), np.arange(5, dtype=np.uint8), np.ones(5, dtype=np.float16)
        ),
        lambda d: d.users.ids().dtype == np.int64,
        id="small-int-and-float16-arrays",
    ),
    ok(
        lambda: FA([1.0, 2.0], [3.0, 4.0]),
        lambda d: d.users.ids().tolist() == [1, 2],
        id="integral-float-ids",
    ),
    ok(
        lambda: FA((u for u in [3, 1]), range(2)),
        lambda d: d.users.ids().tolist() == [1, 3],
        id="generator-ids",
    ),
    ok(
        lambda: FA(["", " "], ["x", "x"]),
        lambda d: d.users.ids().tolist() == ["", " "],
        id="empty-and-blank-string-ids",
    ),
    ok(
        lambda: FA([7], [9], [3.0]),
        lambda d: (d.user_count, d.item_count) == (1, 1),
        id="single-interaction",
    ),
    # the low-level constructor
    bad(
        lambda: Dataset(Vocabulary([1]), Vocabulary([1]), [0.5], [0]),
        TypeError,
        r"user_nums must be integers",
        id="ctor-float-nums",
    ),
    bad(
        lambda: Dataset(Vocabulary([1]), Vocabulary([1]), [0], [1]),
        ValueError,
        r"item_nums\[0\] = 1 outside \[0, 1\)",
        id="ctor-num-out-of-range",
    ),
    bad(
        lambda: Dataset(Vocabulary([1]), Vocabulary([1]), [-1], [0]),
        ValueError,
        r"user_nums\[0\] = -1",
        id="ctor-negative-num",
    ),
    # from_interactions_df
    bad(
        lambda: Dataset.from_interactions_df(pd.DataFrame({"u": [1], "item_id": [1]})),
        ValueError,
        r"column 'user_id' not found; available columns: \['u', 'item_id'\]",
        id="df-missing-user-col",
    ),
    bad(
        lambda: Dataset.from_interactions_df(
            pd.DataFrame({"user_id": [1], "item_id": [1]}), rating_col="score"
        ),
        ValueError,
        r"column 'score' not found",
        id="df-missing-rating-col",
    ),
    bad(
        lambda: Dataset.from_interactions_df(
            pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2], "rating": [1.0, np.nan]})
        ),
        ValueError,
        r"rating at input row 1 is nan",
        id="df-nan-rating",
    ),
    bad(
        lambda: Dataset.from_interactions_df(
            pd.DataFrame({"user_id": pd.array([1, None], dtype="Int64"), "item_id": [1, 2]})
        ),
        ValueError,
        r"user ids contain a missing.*position 1",
        id="df-na-user-id",
    ),
    bad(
        lambda: Dataset.from_interactions_df(pd.DataFrame({"user_id": [], "item_id": []})),
        ValueError,
        r"no interactions",
        id="df-empty",
    ),
    bad(
        lambda: Dataset.from_interactions_df([[1, 2, 3.0]]),
        TypeError,
        r"DataFrame",
        id="df-not-a-dataframe",
    ),
    # from_scipy
    bad(
        lambda: Dataset.from_scipy(np.eye(2)),
        TypeError,
        r"expected a scipy sparse matrix, got ndarray",
        id="scipy-dense",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array((2, 2))),
        ValueError,
        r"no interactions",
        id="scipy-empty",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array((0, 0))),
        ValueError,
        r"no interactions",
        id="scipy-0x0",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array(np.array([[np.nan, 1.0], [0.0, 2.0]]))),
        ValueError,
        r"rating at entry \(0, 0\) is nan",
        id="scipy-nan",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array(np.array([[1j, 0], [0, 1]]))),
        TypeError,
        r"matrix values must be numeric",
        id="scipy-complex",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array(np.eye(2)), users=[1, 2, 3]),
        ValueError,
        r"users has 3 ids but the matrix has 2 users",
        id="scipy-users-length",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array(np.eye(2)), items=["a", "a"]),
        ValueError,
        r"duplicate id 'a'",
        id="scipy-duplicate-item-ids",
    ),
    ok(
        lambda: Dataset.from_scipy(_int8_duplicates()),
        lambda d: d.ratings.tolist() == [200.0],
        id="scipy-int8-duplicates-summed",
    ),
    ok(
        lambda: Dataset.from_scipy(
            sp.coo_array((np.ones(2, dtype=bool), (np.zeros(2, int), np.ones(2, int))), (2, 2))
        ),
        lambda d: d.ratings.tolist() == [2.0],
        id="scipy-bool-duplicates-summed",
    ),
    bad(
        lambda: Dataset.from_scipy(sp.csr_array(np.eye(2)), users=5),
        TypeError,
        r"users must be array-like, not int",
        id="scipy-vocab-not-array",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), DATASET_TABLE)
def test_dataset_builders(call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(None, lambda _: call(), errors, pattern, check)
