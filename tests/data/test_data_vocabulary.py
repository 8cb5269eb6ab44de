"""Tests for alskit.data.Vocabulary."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from alskit.data import Vocabulary

I64_MIN = int(np.iinfo(np.int64).min)
I64_MAX = int(np.iinfo(np.int64).max)


def test_int_ids_sorted_and_deduplicated() -> None:
    vocab = Vocabulary([30, 10, 20, 10], name="user")
    assert len(vocab) == vocab.size == 3
    assert vocab.ids().dtype == np.int64
    assert vocab.ids().tolist() == [10, 20, 30]
    assert vocab.numbers([30, 10, 20]).tolist() == [2, 0, 1]
    assert vocab.numbers([30]).dtype == np.int32
    assert vocab.number(20) == 1
    assert vocab.id(2) == 30
    assert type(vocab.id(2)) is int
    assert vocab.ids(np.array([2, 0])).tolist() == [30, 10]


def test_string_ids_round_trip() -> None:
    ids = ["b", "apple", "cherry", "a"]
    vocab = Vocabulary(ids)
    assert vocab.ids().dtype.kind == "U"
    assert vocab.ids().tolist() == sorted(ids)
    nums = vocab.numbers(ids)
    assert vocab.ids(nums).tolist() == ids
    assert vocab.id(vocab.number("cherry")) == "cherry"
    assert type(vocab.id(0)) is str
    # numpy string scalars and longer query strings work too
    assert vocab.number(np.str_("apple")) == 1
    assert vocab.numbers(["cherry-longer-than-any-id"], missing="negative").tolist() == [-1]


def test_reorder_false_keeps_order() -> None:
    vocab = Vocabulary(["z", "x", "y"], reorder=False)
    assert vocab.ids().tolist() == ["z", "x", "y"]
    assert vocab.numbers(["x", "z", "y"]).tolist() == [1, 0, 2]
    assert vocab.number("y") == 2
    with pytest.raises(ValueError, match="duplicate id 'x'"):
        Vocabulary(["z", "x", "x"], reorder=False)
    with pytest.raises(ValueError, match="duplicate id 7"):
        Vocabulary([7, 3, 7], reorder=False)


def test_int64_extremes() -> None:
    ids = [I64_MAX, 0, I64_MIN, -1, I64_MAX - 1]
    vocab = Vocabulary(ids)
    assert vocab.ids().tolist() == sorted(ids)
    assert vocab.ids(vocab.numbers(ids)).tolist() == ids
    assert vocab.number(I64_MAX) == 4
    assert vocab.number(I64_MIN) == 0
    # Python ints beyond int64 are simply unknown, never an overflow
    assert vocab.number(I64_MAX + 1, missing="none") is None
    assert vocab.numbers([I64_MAX + 1, I64_MIN - 1, I64_MAX], missing="negative").tolist() == [
        -1,
        -1,
        4,
    ]
    assert vocab.numbers(np.array([I64_MAX], dtype=np.uint64)).tolist() == [4]
    assert vocab.numbers(np.array([2**64 - 1], dtype=np.uint64), missing="negative")[0] == -1


def test_unsigned_beyond_int64_refused() -> None:
    with pytest.raises(ValueError, match="int64"):
        Vocabulary(np.array([2**63], dtype=np.uint64))
    with pytest.raises(ValueError, match="int64"):
        Vocabulary([2**70])


def test_invalid_id_types() -> None:
    with pytest.raises(TypeError, match="ids mix integer and string types"):
        Vocabulary([1, "a"])
    with pytest.raises(TypeError, match="ids mix integer and string types"):
        Vocabulary(np.array([1, "a"], dtype=object))
    with pytest.raises(TypeError, match="hashable"):
        Vocabulary([[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="hashable"):
        Vocabulary([{"a": 1}])
    with pytest.raises(TypeError, match="non-integral"):
        Vocabulary([1.5, 2.0])
    with pytest.raises(ValueError, match="missing"):
        Vocabulary([1.0, float("nan")])
    with pytest.raises(ValueError, match="missing"):
        Vocabulary(["a", None])
    with pytest.raises(TypeError, match="boolean"):
        Vocabulary([True, False])
    with pytest.raises(TypeError, match="single str"):
        Vocabulary("abc")
    with pytest.raises(ValueError, match="one-dimensional"):
        Vocabulary(np.arange(4).reshape(2, 2))


def test_integral_floats_become_int_ids() -> None:
    vocab = Vocabulary(np.array([3.0, 1.0]))
    assert vocab.ids().dtype == np.int64
    assert vocab.ids().tolist() == [1, 3]


def test_missing_modes() -> None:
    vocab = Vocabulary([1, 2, 3], name="item")
    with pytest.raises(KeyError, match="unknown item id 99"):
        vocab.number(99)
    with pytest.raises(KeyError, match="unknown item id 7"):
        vocab.numbers([1, 7, 8])
    assert vocab.number(99, missing="none") is None
    assert vocab.numbers([3, 7, 1], missing="negative").tolist() == [2, -1, 0]
    assert vocab.numbers([3, 7], missing="none").tolist() == [2, None]
    with pytest.raises(ValueError, match="missing"):
        vocab.numbers([1], missing="drop")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="numbers"):
        vocab.number([1, 2])


def test_cross_type_lookup_is_unknown() -> None:
    ints = Vocabulary([1, 2, 3])
    strs = Vocabulary(["1", "2", "a"])
    assert ints.number("1", missing="none") is None
    assert strs.number(1, missing="none") is None
    assert "1" not in ints
    assert 1 not in strs
    assert ints.numbers(["1", "2"], missing="negative").tolist() == [-1, -1]
    assert strs.numbers([1, 2], missing="negative").tolist() == [-1, -1]
    assert strs.numbers(["a", 1, None, 2.5], missing="negative").tolist() == [2, -1, -1, -1]
    assert ints.numbers([3, "x", True, 2.0, None], missing="negative").tolist() == [
        2,
        -1,
        -1,
        1,
        -1,
    ]
    assert ints.number(2.5, missing="none") is None
    with pytest.raises(KeyError, match="'1'"):
        ints.numbers(["1"])
    assert [1, 2] not in ints  # unhashable: not contained, no crash


def test_trailing_nul_is_another_id() -> None:
    # numpy strings drop trailing NULs: 'a\0' must neither match 'a' nor be stored as 'a'.
    strs = Vocabulary(["a", "b"])
    assert "a\0" not in strs
    assert strs.number("a\0", missing="none") is None
    assert strs.numbers(["a\0", "a"], missing="negative").tolist() == [-1, 0]
    with pytest.raises(ValueError, match=r"'a\\x00' at position 1, which ends in a NUL"):
        Vocabulary(["a", "a\0"])


def test_contains_and_equality() -> None:
    vocab = Vocabulary([5, 6])
    assert 5 in vocab
    assert np.int32(6) in vocab
    assert 7 not in vocab
    assert vocab == Vocabulary([6, 5])
    assert vocab != Vocabulary([6, 5], reorder=False)
    assert vocab != Vocabulary(["5", "6"])
    assert vocab != Vocabulary([5, 6, 7])
    assert list(vocab) == [5, 6]
    assert "size=2" in repr(vocab)


def test_empty_vocabulary() -> None:
    vocab = Vocabulary()
    assert len(vocab) == 0
    assert vocab.numbers([1, 2], missing="negative").tolist() == [-1, -1]
    assert vocab.numbers([]).shape == (0,)
    assert vocab.number("x", missing="none") is None
    with pytest.raises(IndexError):
        vocab.id(0)


def test_ids_out_of_range() -> None:
    vocab = Vocabulary([1, 2])
    with pytest.raises(IndexError, match="out of range"):
        vocab.id(2)
    with pytest.raises(IndexError, match="out of range"):
        vocab.id(-1)
    with pytest.raises(IndexError, match="number 5"):
        vocab.ids([0, 5])
    with pytest.raises(TypeError):
        vocab.ids(np.array([0.0]))


def test_ids_are_read_only() -> None:
    vocab = Vocabulary([3, 1, 2])
    with pytest.raises(ValueError):
        vocab.ids()[0] = 10
    source = np.array([3, 1, 2])
    unordered = Vocabulary(source, reorder=False)
    source[0] = 99  # the vocabulary keeps its own copy
    assert unordered.ids().tolist() == [3, 1, 2]


@pytest.mark.parametrize("reorder", [True, False])
def test_pickle_round_trip(reorder: bool) -> None:
    vocab = Vocabulary(["q", "b", "x"], name="item", reorder=reorder)
    clone = pickle.loads(pickle.dumps(vocab))
    assert clone == vocab
    assert clone.name == "item"
    assert clone.numbers(["x", "b", "q"]).tolist() == vocab.numbers(["x", "b", "q"]).tolist()
    with pytest.raises(ValueError):
        clone.ids()[0] = "z"


def test_large_random_matches_dict() -> None:
    rng = np.random.default_rng(7)
    ids = rng.permutation(np.unique(rng.integers(-(10**12), 10**12, size=20_000)))
    vocab = Vocabulary(ids, reorder=False)
    queries = np.concatenate([ids[rng.permutation(len(ids))[:5000]], ids[:100] + 1])
    expected = {v: i for i, v in enumerate(ids.tolist())}
    got = vocab.numbers(queries, missing="negative")
    assert got.tolist() == [expected.get(q, -1) for q in queries.tolist()]


def test_pandas_input() -> None:
    pd = pytest.importorskip("pandas")
    vocab = Vocabulary(pd.Series(["b", "a", "b"]))
    assert vocab.ids().tolist() == ["a", "b"]
    assert vocab.numbers(pd.Series(["b", "a"])).tolist() == [1, 0]
    with pytest.raises(ValueError, match="missing"):
        Vocabulary(pd.Series([1, None], dtype="Int64"))
