"""Tests for alskit.data.Dataset."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from alskit.data import Dataset, ItemList, Vocabulary
from alskit.data._arrays import unique_inverse

USERS = [10, 12, 10, 13, 12]
ITEMS = [3, 1, 1, 2, 2]
RATINGS = [4.0, 3.0, 5.0, 2.0, 1.0]
STAMPS = [100, 200, 300, 400, 500]


@pytest.fixture
def simple() -> Dataset:
    return Dataset.from_arrays(USERS, ITEMS, RATINGS, STAMPS)


def test_basic_layout(simple: Dataset) -> None:
    assert (simple.user_count, simple.item_count, simple.interaction_count) == (3, 3, 5)
    assert simple.users.ids().tolist() == [10, 12, 13]
    assert simple.items.ids().tolist() == [1, 2, 3]
    # sorted by user number, then item number
    assert simple.user_nums.tolist() == [0, 0, 1, 1, 2]
    assert simple.item_nums.tolist() == [0, 2, 0, 1, 1]
    assert simple.user_nums.dtype == np.int32 and simple.item_nums.dtype == np.int32
    ratings = simple.ratings
    assert ratings is not None and ratings.dtype == np.float64
    assert ratings.tolist() == [5.0, 4.0, 3.0, 1.0, 2.0]
    stamps = simple.timestamps
    assert stamps is not None and stamps.tolist() == [300, 100, 200, 500, 400]
    with pytest.raises(ValueError):
        simple.user_nums[0] = 1
    assert "5 interactions" in repr(simple)


def test_interaction_matrix(simple: Dataset) -> None:
    ones = simple.interaction_matrix()
    assert ones.values is None
    assert ones.shape == (3, 3)
    assert ones.indptr.tolist() == [0, 2, 4, 5]
    assert ones.indices is simple.item_nums
    ones.validate()
    rated = simple.interaction_matrix("rating")
    assert rated.values is not None and rated.values.dtype == np.float32
    assert simple.interaction_matrix("rating").values is rated.values  # cached
    doubles = simple.interaction_matrix("rating", dtype=np.float64)
    assert doubles.values is not None and doubles.values.dtype == np.float64
    dense = np.zeros((3, 3))
    u = simple.users.numbers(USERS)
    i = simple.items.numbers(ITEMS)
    dense[u, i] = RATINGS
    sparse = pytest.importorskip("scipy.sparse")
    assert isinstance(doubles.to_scipy(), sparse.csr_array)
    np.testing.assert_array_equal(doubles.to_scipy().toarray(), dense)
    with pytest.raises(ValueError, match="float"):
        simple.interaction_matrix("rating", dtype=np.int32)
    with pytest.raises(ValueError, match="unknown field"):
        simple.interaction_matrix("count")  # type: ignore[arg-type]
    implicit = Dataset.from_arrays(USERS, ITEMS)
    with pytest.raises(ValueError, match="no ratings"):
        implicit.interaction_matrix("rating")


def test_user_row(simple: Dataset) -> None:
    row = simple.user_row(12)
    assert isinstance(row, ItemList)
    assert row.vocabulary is simple.items
    assert row.ids().tolist() == [1, 2]
    rating = row.field("rating")
    assert rating is not None and rating.tolist() == [3.0, 1.0]
    stamp = row.field("timestamp")
    assert stamp is not None and stamp.tolist() == [200, 500]
    assert simple.user_row(99) is None
    assert simple.user_row("10") is None
    by_num = simple.user_row(user_num=2)
    assert by_num is not None and by_num.ids().tolist() == [2]
    with pytest.raises(IndexError):
        simple.user_row(user_num=3)


def test_vocabulary_only_users_get_empty_rows() -> None:
    users = Vocabulary([10, 11, 12, 13, 14], name="user")
    ds = Dataset.from_arrays(USERS, ITEMS, RATINGS, users=users, items=[0, 1, 2, 3, 4])
    assert ds.users is users
    assert ds.user_count == 5 and ds.item_count == 5
    assert ds.interaction_matrix().row_lengths().tolist() == [2, 0, 2, 1, 0]
    empty = ds.user_row(11)
    assert empty is not None and len(empty) == 0
    rating = empty.field("rating")
    assert rating is not None and rating.shape == (0,)
    with pytest.raises(ValueError, match="user id 13 at input row 3 is not in the given users"):
        Dataset.from_arrays(USERS, ITEMS, users=[10, 12])
    with pytest.raises(ValueError, match="item id 3 at input row 0"):
        Dataset.from_arrays(USERS, ITEMS, items=Vocabulary([1, 2]))


def test_given_unsorted_vocabulary_defines_numbers() -> None:
    users = Vocabulary([13, 12, 10], reorder=False)
    ds = Dataset.from_arrays(USERS, ITEMS, RATINGS, users=users)
    assert ds.user_nums.tolist() == [0, 1, 1, 2, 2]
    row = ds.user_row(13)
    assert row is not None and row.ids().tolist() == [2]


def test_duplicates_error() -> None:
    users = [1, 2, 1, 2, 1, 3]
    items = [5, 6, 7, 6, 5, 8]
    with pytest.raises(ValueError, match=r"2 duplicate \(user, item\) pairs") as info:
        Dataset.from_arrays(users, items, [1, 2, 3, 4, 5, 6])
    message = str(info.value)
    assert "(user 2, item 6)" in message
    assert "input row 1 and input row 3" in message


def test_duplicates_last_and_sum() -> None:
    users = [1, 2, 1, 2, 1]
    items = [5, 6, 7, 6, 5]
    ratings = [1.0, 2.0, 3.0, 4.0, 5.0]
    stamps = [50, 10, 20, 30, 40]
    last = Dataset.from_arrays(users, items, ratings, stamps, duplicates="last")
    assert last.interaction_count == 3
    assert last.ratings is not None and last.ratings.tolist() == [5.0, 3.0, 4.0]
    assert last.timestamps is not None and last.timestamps.tolist() == [40, 20, 30]
    summed = Dataset.from_arrays(users, items, ratings, stamps, duplicates="sum")
    assert summed.interaction_count == 3
    assert summed.ratings is not None and summed.ratings.tolist() == [6.0, 3.0, 6.0]
    # the merged interaction keeps its latest timestamp
    assert summed.timestamps is not None and summed.timestamps.tolist() == [50, 20, 30]
    implicit = Dataset.from_arrays(users, items, duplicates="sum")
    assert implicit.interaction_count == 3 and implicit.ratings is None
    with pytest.raises(ValueError, match="duplicates must be"):
        Dataset.from_arrays(users, items, duplicates="first")  # type: ignore[arg-type]


def test_duplicates_last_matches_dict_reference() -> None:
    rng = np.random.default_rng(3)
    n = 5000
    users = rng.integers(0, 60, n)
    items = rng.integers(0, 80, n)
    ratings = rng.normal(size=n)
    ds = Dataset.from_arrays(users, items, ratings, duplicates="last")
    expected: dict[tuple[int, int], float] = {}
    for u, i, r in zip(users.tolist(), items.tolist(), ratings.tolist(), strict=True):
        expected[(u, i)] = r
    got_u = ds.users.ids(ds.user_nums).tolist()
    got_i = ds.items.ids(ds.item_nums).tolist()
    assert ds.ratings is not None
    assert dict(zip(zip(got_u, got_i, strict=True), ds.ratings.tolist(), strict=True)) == expected
    assert list(zip(got_u, got_i, strict=True)) == sorted(expected)
    ds.interaction_matrix().validate()


def test_rejects_non_finite_ratings() -> None:
    with pytest.raises(ValueError, match="rating at input row 2 is nan"):
        Dataset.from_arrays([1, 2, 3], [1, 2, 3], [1.0, 2.0, float("nan")])
    with pytest.raises(ValueError, match="rating at input row 0 is inf"):
        Dataset.from_arrays([1, 2], [1, 2], [np.inf, 2.0])
    with pytest.raises(ValueError, match="rating at input row 1 is -inf"):
        Dataset.from_arrays([1, 2], [1, 2], [1.0, -np.inf])
    with pytest.raises(ValueError, match="input row 1 is nan"):
        Dataset.from_arrays([1, 2], [1, 2], np.array([1.0, None], dtype=object))
    with pytest.raises(TypeError, match="numeric"):
        Dataset.from_arrays([1, 2], [1, 2], ["a", "b"])
    with pytest.raises(TypeError, match="numeric"):
        Dataset.from_arrays([1, 2], [1, 2], np.array(["1", 2.0], dtype=object))


def test_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="no interactions"):
        Dataset.from_arrays([], [])
    with pytest.raises(ValueError, match="user_ids has 3 entries but item_ids has 2"):
        Dataset.from_arrays([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="user_nums has 2 entries but ratings has 3"):
        Dataset.from_arrays([1, 2], [1, 2], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="timestamps"):
        Dataset.from_arrays([1, 2], [1, 2], timestamps=[1])
    with pytest.raises(TypeError, match="mix"):
        Dataset.from_arrays([1, "a"], [1, 2])


def test_low_level_constructor() -> None:
    users = Vocabulary(["a", "b"])
    items = Vocabulary(["x", "y", "z"])
    ds = Dataset(users, items, [1, 0, 1], [2, 1, 0], [1.0, 2.0, 3.0])
    assert ds.user_nums.tolist() == [0, 1, 1]
    assert ds.item_nums.tolist() == [1, 0, 2]
    with pytest.raises(ValueError, match=r"item_nums\[0\] = 3"):
        Dataset(users, items, [0], [3])
    with pytest.raises(TypeError, match="Vocabulary"):
        Dataset(["a"], items, [0], [0])  # type: ignore[arg-type]


def test_string_ids() -> None:
    ds = Dataset.from_arrays(["u2", "u1", "u2"], ["b", "a", "a"], [1.0, 2.0, 3.0])
    assert ds.users.ids().tolist() == ["u1", "u2"]
    row = ds.user_row("u2")
    assert row is not None and row.ids().tolist() == ["a", "b"]
    rating = row.field("rating")
    assert rating is not None and rating.tolist() == [3.0, 1.0]


def test_from_interactions_df() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"who": USERS, "what": ITEMS, "stars": RATINGS, "when": STAMPS})
    ds = Dataset.from_interactions_df(
        df, user_col="who", item_col="what", rating_col="stars", timestamp_col="when"
    )
    ref = Dataset.from_arrays(USERS, ITEMS, RATINGS, STAMPS)
    assert ds.users == ref.users and ds.items == ref.items
    np.testing.assert_array_equal(ds.item_nums, ref.item_nums)
    np.testing.assert_array_equal(ds.ratings, ref.ratings)
    np.testing.assert_array_equal(ds.timestamps, ref.timestamps)

    plain = pd.DataFrame({"user_id": USERS, "item_id": ITEMS})
    implicit = Dataset.from_interactions_df(plain)
    assert implicit.ratings is None and implicit.timestamps is None
    legacy = Dataset.from_interactions_df(pd.DataFrame({"user": USERS, "item": ITEMS, "rating": 1}))
    assert legacy.interaction_count == 5
    assert legacy.ratings is not None

    with pytest.raises(ValueError, match=r"column 'uid' not found; available columns: \["):
        Dataset.from_interactions_df(df, user_col="uid", item_col="what")
    with pytest.raises(ValueError, match="'user_id' not found.*'who'"):
        Dataset.from_interactions_df(df)
    with pytest.raises(ValueError, match="column 'score' not found"):
        Dataset.from_interactions_df(plain, rating_col="score")
    no_ratings = Dataset.from_interactions_df(
        df, user_col="who", item_col="what", rating_col=None, timestamp_col=None
    )
    assert no_ratings.ratings is None
    with pytest.raises(ValueError, match="rating at input row 1 is nan"):
        Dataset.from_interactions_df(plain.assign(rating=[1.0, np.nan, 1, 1, 1]))


def test_from_scipy() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    dense = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 3.0]])
    # the stored 0.0 at (1, 1) is an explicit zero: still an interaction
    matrix = sparse.csr_matrix(
        (np.array([2.0, 0.0, 1.0, 3.0]), np.array([1, 1, 0, 2]), np.array([0, 1, 2, 4])),
        shape=(3, 3),
    )
    ds = Dataset.from_scipy(matrix)
    assert ds.interaction_count == 4
    assert ds.users.ids().tolist() == [0, 1, 2]
    assert ds.ratings is not None and ds.ratings.tolist() == [2.0, 0.0, 1.0, 3.0]
    named = Dataset.from_scipy(sparse.coo_array(dense), users=["c", "a", "b"], items=[7, 8, 9])
    assert named.users.ids().tolist() == ["c", "a", "b"]
    row = named.user_row("b")
    assert row is not None and row.ids().tolist() == [7, 9]
    with pytest.raises(ValueError, match="users has 2 ids"):
        Dataset.from_scipy(matrix, users=[1, 2])
    bad = sparse.csr_array(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match=r"entry \(0, 1\) is nan"):
        Dataset.from_scipy(bad)
    with pytest.raises(ValueError, match="no interactions"):
        Dataset.from_scipy(sparse.csr_array((2, 2)))


def test_pickle_round_trip(simple: Dataset) -> None:
    simple.interaction_matrix("rating")  # fill the cache; it must not break pickling
    clone = pickle.loads(pickle.dumps(simple))
    assert clone.users == simple.users and clone.items == simple.items
    np.testing.assert_array_equal(clone.user_nums, simple.user_nums)
    np.testing.assert_array_equal(clone.item_nums, simple.item_nums)
    np.testing.assert_array_equal(clone.ratings, simple.ratings)
    np.testing.assert_array_equal(clone.timestamps, simple.timestamps)
    np.testing.assert_array_equal(
        clone.interaction_matrix().indptr, simple.interaction_matrix().indptr
    )
    with pytest.raises(ValueError):
        clone.item_nums[0] = 2


def test_interactions_df(simple: Dataset) -> None:
    pytest.importorskip("pandas")
    df = simple.interactions_df()
    assert list(df.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert df["user_id"].tolist() == [10, 10, 12, 12, 13]
    back = Dataset.from_interactions_df(df)
    np.testing.assert_array_equal(back.ratings, simple.ratings)


@pytest.mark.parametrize(
    "ids",
    [
        np.array([5, 3, 5, 9, 3, 4]),  # dense: counting path
        np.array([-(2**63), 2**63 - 1, 0, 2**63 - 1]),  # sparse: sorting path
        np.array([-7, -7, -3]),
    ],
)
def test_unique_inverse_matches_numpy(ids: np.ndarray) -> None:
    uniq, inverse = unique_inverse(ids)
    ref_uniq, ref_inverse = np.unique(ids, return_inverse=True)
    np.testing.assert_array_equal(uniq, ref_uniq)
    np.testing.assert_array_equal(inverse, ref_inverse)
    assert uniq.dtype == np.int64 and inverse.dtype == np.int32


def test_int64_extreme_ids() -> None:
    lo, hi = -(2**63), 2**63 - 1
    ds = Dataset.from_arrays([hi, lo, hi], [lo, hi, 0], [1.0, 2.0, 3.0])
    assert ds.users.ids().tolist() == [lo, hi]
    row = ds.user_row(hi)
    assert row is not None and row.ids().tolist() == [lo, 0]


def test_owns_its_arrays() -> None:
    users = np.array([0, 1], dtype=np.int32)
    items = np.array([0, 1], dtype=np.int32)
    ratings = np.array([1.0, 2.0])
    ds = Dataset(Vocabulary([5, 6]), Vocabulary([7, 8]), users, items, ratings)
    users[0], items[0], ratings[0] = 1, 1, 9.0
    assert ds.user_nums.tolist() == [0, 1]
    assert ds.item_nums.tolist() == [0, 1]
    assert ds.ratings is not None and ds.ratings.tolist() == [1.0, 2.0]
