"""ItemList and Vocabulary against LensKit 2025.1's documented data API (no LensKit needed).

Each test states the LensKit behaviour it holds alskit to; where alskit differs on purpose
(float64 scores, numpy for LensKit's torch format, ValueError for LensKit's RuntimeError)
the test says so.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from alskit.data import ItemList, Vocabulary

pa = pytest.importorskip("pyarrow")


@pytest.fixture
def vocab() -> Vocabulary:
    return Vocabulary([10, 20, 30, 40, 50], name="item")


@pytest.fixture
def scored(vocab: Vocabulary) -> ItemList:
    return ItemList(
        item_nums=[3, 0, 4, 1], vocabulary=vocab, scores=[0.5, 2.0, np.nan, 1.0], rating=4.0
    )


# ---- ids and numbers -----------------------------------------------------------------------


def test_ids_from_numbers_and_numbers_from_ids(vocab: Vocabulary) -> None:
    by_num = ItemList(item_nums=[2, 0], vocabulary=vocab)
    assert by_num.ids().tolist() == [30, 10]
    by_id = ItemList([40, 10], vocabulary=vocab)
    nums = by_id.numbers()
    assert nums.dtype == np.int32 and nums.tolist() == [3, 0]


def test_ids_need_ids_or_a_vocabulary() -> None:
    # LensKit raises RuntimeError; alskit a ValueError naming what is missing.
    with pytest.raises(ValueError, match="no vocabulary"):
        ItemList(item_nums=[1, 2]).ids()
    with pytest.raises(ValueError, match="no vocabulary"):
        ItemList([1, 2]).numbers()


def test_ids_arrow_format(vocab: Vocabulary) -> None:
    arr = ItemList(item_nums=[1, 3], vocabulary=vocab).ids(format="arrow")
    assert isinstance(arr, pa.Array) and arr.to_pylist() == [20, 40]
    with pytest.raises(ValueError, match="unknown format"):
        ItemList([1]).ids(format="excel")  # type: ignore[arg-type]


def test_numbers_missing_policies(vocab: Vocabulary) -> None:
    items = ItemList([20, 99, 10], vocabulary=vocab)
    with pytest.raises(KeyError, match="99"):
        items.numbers()
    assert items.numbers(missing="negative").tolist() == [1, -1, 0]


def test_numbers_in_another_vocabulary(vocab: Vocabulary) -> None:
    other = Vocabulary([30, 10], name="item")
    items = ItemList(item_nums=[0, 2, 1], vocabulary=vocab)
    assert items.numbers(vocabulary=other, missing="negative").tolist() == [0, 1, -1]
    # alskit's earlier positional signature still works.
    assert items.numbers(other, missing="negative").tolist() == [0, 1, -1]


def test_numbers_formats(vocab: Vocabulary) -> None:
    items = ItemList(item_nums=[4, 1], vocabulary=vocab)
    assert isinstance(items.numbers("arrow"), pa.Array)
    assert items.numbers("arrow").type == pa.int32()
    # LensKit's "torch" format gives a tensor; alskit (no torch) gives the numpy array.
    torchless = items.numbers("torch")
    assert isinstance(torchless, np.ndarray) and torchless.tolist() == [4, 1]
    series = items.numbers("pandas")
    assert isinstance(series, pd.Series) and series.tolist() == [4, 1]


# ---- scores and fields ---------------------------------------------------------------------


def test_scores_numpy_and_none() -> None:
    assert ItemList([1, 2]).scores() is None
    assert ItemList([1, 2]).scores("pandas", index="ids") is None
    scores = ItemList([1, 2], scores=[1, 2]).scores()
    # LensKit stores float32 scores; alskit keeps float64 (the scorers' precision).
    assert scores.dtype == np.float64 and scores.tolist() == [1.0, 2.0]
    assert not scores.flags.writeable


def test_scores_pandas_indexed_by_ids_or_numbers(scored: ItemList) -> None:
    by_id = scored.scores("pandas", index="ids")
    assert by_id.index.name == "item_id"
    assert by_id.index.tolist() == [40, 10, 50, 20]
    np.testing.assert_array_equal(by_id.to_numpy(), [0.5, 2.0, np.nan, 1.0])
    assert by_id.loc[10] == 2.0
    by_num = scored.scores("pandas", index="numbers")
    assert by_num.index.name == "item_num" and by_num.index.tolist() == [3, 0, 4, 1]
    plain = scored.scores("pandas")
    assert plain.index.tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="index must be"):
        scored.scores("pandas", index="names")
    with pytest.raises(ValueError, match="pandas"):
        scored.scores("numpy", index="ids")


def test_scores_arrow(scored: ItemList) -> None:
    arr = scored.scores("arrow")
    assert isinstance(arr, pa.Array) and len(arr) == 4


def test_field_formats(scored: ItemList) -> None:
    assert scored.field("rating").tolist() == [4.0] * 4
    rating = scored.field("rating", "pandas", index="ids")
    assert rating.index.name == "item_id" and rating.loc[40] == 4.0
    assert scored.field("nothing") is None
    assert scored.field("nothing", "pandas") is None
    np.testing.assert_array_equal(scored.field("score"), scored.scores())
    with pytest.raises(ValueError, match="unknown format"):
        scored.field("rating", "excel")


# ---- empty lists ---------------------------------------------------------------------------


def test_empty_list() -> None:
    empty = ItemList()
    assert len(empty) == 0
    assert empty.ids().tolist() == [] and empty.scores() is None
    assert empty.ranks() is None
    frame = empty.to_df()
    assert len(frame) == 0 and list(frame.columns) == ["item_id"]
    assert empty.isin(ItemList([1])).tolist() == []
    top = ItemList([], scores=[]).top_n(5)
    assert len(top) == 0 and top.ordered


# ---- ordering, ranks and top-N -------------------------------------------------------------


def test_unordered_lists_have_no_ranks(scored: ItemList) -> None:
    assert not scored.ordered and scored.ranks() is None
    assert "rank" not in scored.to_df().columns


def test_top_n_orders_by_score_and_drops_nan(scored: ItemList) -> None:
    top = scored.top_n(2)
    assert top.ordered
    assert top.ids().tolist() == [10, 20]
    assert top.scores().tolist() == [2.0, 1.0]
    ranks = top.ranks()
    assert ranks.dtype == np.int32 and ranks.tolist() == [1, 2]
    assert top.field("rating").tolist() == [4.0, 4.0]  # fields follow their items
    assert top.vocabulary is scored.vocabulary
    everything = scored.top_n()
    assert everything.ids().tolist() == [10, 20, 40]  # NaN-scored item 50 left out
    assert scored.top_n(-1).ids().tolist() == [10, 20, 40]
    assert scored.top_n(100).ids().tolist() == [10, 20, 40]
    assert scored.top_n(0).ids().tolist() == []


def test_top_n_by_field_or_array_and_ties() -> None:
    items = ItemList([1, 2, 3, 4], scores=[1, 1, 3, 1], pop=[5, 9, 1, 7])
    assert items.top_n(3).ids().tolist() == [3, 1, 2]  # ties keep list order
    assert items.top_n(2, scores="pop").ids().tolist() == [2, 4]
    assert items.top_n(1, scores=np.array([0.0, 0.0, 0.0, 9.0])).ids().tolist() == [4]
    with pytest.raises(KeyError):
        items.top_n(2, scores="nothing")
    with pytest.raises(ValueError, match="has 2 entries"):
        items.top_n(2, scores=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="no scores"):
        ItemList([1]).top_n(1)


def test_rank_field_marks_a_list_ordered() -> None:
    ranked = ItemList([7, 8, 9], rank=[1, 2, 3])
    assert ranked.ordered and ranked.ranks().tolist() == [1, 2, 3]
    assert "rank" not in ranked.field_names
    assert list(ranked.to_df().columns) == ["item_id", "rank"]
    assert ItemList([7, 8], ordered=True).ranks().tolist() == [1, 2]


def test_slices_and_masks_keep_order_and_renumber_ranks(scored: ItemList) -> None:
    top = scored.top_n()
    tail = top[1:]
    assert tail.ordered and tail.ranks().tolist() == [1, 2]
    assert tail.ids().tolist() == [20, 40]
    assert top[np.array([True, False, True])].ids().tolist() == [10, 40]
    assert top[np.array([2, 0])].ids().tolist() == [40, 10]
    assert top[::-1].ids().tolist() == [40, 20, 10]
    assert len(top[np.array([], dtype=np.int64)]) == 0


# ---- membership, removal, copies -----------------------------------------------------------


def test_isin_with_and_without_vocabulary(vocab: Vocabulary) -> None:
    items = ItemList([10, 30, 50], vocabulary=vocab)
    assert items.isin(ItemList([50, 10, 99])).tolist() == [True, False, True]
    plain = ItemList(["a", "b", "c"])
    assert plain.isin(ItemList(["c", "z"])).tolist() == [False, False, True]
    # ids of another type never match (LensKit: the Arrow type error becomes all False)
    assert plain.isin(ItemList([1, 2])).tolist() == [False, False, False]
    with pytest.raises(TypeError, match="ItemList"):
        plain.isin(["a"])  # type: ignore[arg-type]


def test_remove_by_ids_or_numbers(scored: ItemList) -> None:
    assert scored.remove(ids=[10, 99]).ids().tolist() == [40, 50, 20]
    assert scored.remove(numbers=[3, 4]).ids().tolist() == [10, 20]
    kept = scored.remove(ids=[40])
    np.testing.assert_array_equal(kept.scores(), [2.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="exactly one"):
        scored.remove()
    with pytest.raises(ValueError, match="exactly one"):
        scored.remove(ids=[1], numbers=[1])


def test_copy_from_a_source_list(scored: ItemList) -> None:
    same = ItemList(scored)
    assert same.ids().tolist() == scored.ids().tolist()
    np.testing.assert_array_equal(same.scores(), scored.scores())
    rescored = ItemList(scored, scores=[1, 2, 3, 4])
    assert rescored.scores().tolist() == [1.0, 2.0, 3.0, 4.0]
    assert rescored.field("rating").tolist() == [4.0] * 4
    bare = ItemList(scored, scores=False, rating=False)
    assert bare.scores() is None and bare.field("rating") is None
    assert ItemList(scored.top_n(2)).ordered
    with pytest.raises(ValueError, match="once"):
        ItemList([1], item_ids=[1])


def test_clone_and_from_vocabulary(vocab: Vocabulary, scored: ItemList) -> None:
    clone = scored.clone()
    assert clone is not scored and clone.ids().tolist() == scored.ids().tolist()
    every = ItemList.from_vocabulary(vocab)
    assert every.ids().tolist() == [10, 20, 30, 40, 50]
    assert every.numbers().tolist() == [0, 1, 2, 3, 4] and every.vocabulary is vocab


def test_pickle_keeps_order_and_fields(scored: ItemList) -> None:
    back = pickle.loads(pickle.dumps(scored.top_n(2)))
    assert back.ordered and back.ranks().tolist() == [1, 2]
    assert back.ids().tolist() == [10, 20]


# ---- data frames and Arrow -----------------------------------------------------------------


def test_to_df_columns(scored: ItemList) -> None:
    frame = scored.top_n(2).to_df(numbers=True)
    assert list(frame.columns) == ["item_id", "item_num", "score", "rank", "rating"]
    assert frame["rank"].tolist() == [1, 2]
    only_numbers = scored.to_df(ids=False, numbers=True)
    assert list(only_numbers.columns) == ["item_num", "score", "rating"]


def test_from_df_drops_or_keeps_user_columns(vocab: Vocabulary) -> None:
    frame = pd.DataFrame({"item_id": [20, 10], "score": [1.0, 0.5], "user_id": [7, 7]})
    items = ItemList.from_df(frame, vocabulary=vocab)
    assert items.field_names == () and items.numbers().tolist() == [1, 0]
    kept = ItemList.from_df(frame, keep_user=True)
    assert kept.field("user_id").tolist() == [7, 7]
    ranked = ItemList.from_df(frame.assign(rank=[1, 2]))
    assert ranked.ordered


def test_to_arrow_table_array_and_columns(scored: ItemList) -> None:
    table = scored.to_arrow()
    assert isinstance(table, pa.Table)
    assert table.column_names == ["item_id", "score", "rating"]
    assert table.column("item_id").to_pylist() == [40, 10, 50, 20]
    with_nums = scored.top_n(2).to_arrow(numbers=True)
    assert with_nums.column_names == ["item_id", "item_num", "score", "rank", "rating"]
    struct = scored.to_arrow(type="array")
    assert isinstance(struct, pa.StructArray) and len(struct) == 4
    typed = scored.to_arrow(columns={"item_id": pa.int32(), "score": pa.float32()})
    assert table.num_rows == typed.num_rows
    assert typed.schema.field("item_id").type == pa.int32()
    assert typed.schema.field("score").type == pa.float32()
    with pytest.raises(KeyError, match="nothing"):
        scored.to_arrow(columns={"nothing": pa.int32()})
    back = ItemList.from_arrow(table)
    assert back.ids().tolist() == [40, 10, 50, 20]
    np.testing.assert_array_equal(back.scores(), scored.scores())
    assert len(ItemList.from_arrow(struct)) == 4


# ---- Vocabulary ----------------------------------------------------------------------------


def test_vocabulary_index_is_a_named_pandas_index(vocab: Vocabulary) -> None:
    index = vocab.index
    assert isinstance(index, pd.Index) and index.name == "item_id"
    assert index.tolist() == [10, 20, 30, 40, 50]
    assert index.get_indexer([30, 99]).tolist() == [2, -1]
    assert vocab.index is index  # built once
    assert Vocabulary(["b", "a"]).index.name is None
    assert Vocabulary(["b", "a"], name="user").index.tolist() == ["a", "b"]
    unordered = Vocabulary([3, 1, 2], name="user", reorder=False)
    assert unordered.index.tolist() == [3, 1, 2]


def test_vocabulary_terms_and_array(vocab: Vocabulary) -> None:
    assert vocab.term(1) == 20 and vocab.terms([0, 4]).tolist() == [10, 50]
    assert vocab.terms().tolist() == vocab.ids().tolist()
    assert np.asarray(vocab).tolist() == [10, 20, 30, 40, 50]
    assert vocab.number(99, missing="none") is None
    with pytest.raises(KeyError):
        vocab.number(99)
    assert vocab.numbers([50, 99], missing="negative").tolist() == [4, -1]
    assert vocab.size == len(vocab) == 5 and 30 in vocab and 31 not in vocab
