"""Tests for alskit.data.ItemList, RecQuery and UIPair."""

from __future__ import annotations

from typing import Any

import numpy as np
import pydantic
import pytest

from alskit.data import ItemList, RecQuery, UIPair, Vocabulary


@pytest.fixture
def vocab() -> Vocabulary:
    return Vocabulary([10, 20, 30, 40], name="item")


def test_ids_only() -> None:
    items = ItemList([3, 1, 2])
    assert len(items) == 3
    assert items.ids().tolist() == [3, 1, 2]
    assert items.ids().dtype == np.int64
    assert items.vocabulary is None
    assert items.scores() is None
    assert items.field("rating") is None
    with pytest.raises(ValueError, match="no vocabulary"):
        items.numbers()


def test_empty() -> None:
    items = ItemList()
    assert len(items) == 0
    assert items.ids().shape == (0,)
    empty_with_vocab = ItemList(vocabulary=Vocabulary(["a"]))
    assert empty_with_vocab.numbers().shape == (0,)


def test_numbers_give_lazy_ids(vocab: Vocabulary) -> None:
    items = ItemList(item_nums=[3, 0], vocabulary=vocab)
    assert items.numbers().tolist() == [3, 0]
    assert items.numbers().dtype == np.int32
    assert items.ids().tolist() == [40, 10]


def test_ids_give_lazy_numbers(vocab: Vocabulary) -> None:
    items = ItemList([30, 99, 10], vocabulary=vocab)
    assert items.numbers(missing="negative").tolist() == [2, -1, 0]
    with pytest.raises(KeyError, match="99"):
        items.numbers()
    assert items[np.array([0, 2])].numbers().tolist() == [2, 0]


def test_numbers_in_other_vocabulary(vocab: Vocabulary) -> None:
    other = Vocabulary([40, 30, 77], reorder=False)
    items = ItemList(item_nums=[0, 2, 3], vocabulary=vocab)
    assert items.numbers(other, missing="negative").tolist() == [-1, 1, 0]
    assert items.numbers(vocabulary=vocab).tolist() == [0, 2, 3]
    with pytest.raises(KeyError, match="10"):
        items.numbers(vocabulary=other)
    # an equal but distinct vocabulary works through the ids
    assert items.numbers(vocabulary=Vocabulary([10, 20, 30, 40])).tolist() == [0, 2, 3]


def test_ids_and_numbers_must_agree(vocab: Vocabulary) -> None:
    ok = ItemList([20, 40], item_nums=[1, 3], vocabulary=vocab)
    assert ok.ids().tolist() == [20, 40]
    with pytest.raises(ValueError, match="disagree"):
        ItemList([20, 40], item_nums=[1, 2], vocabulary=vocab)
    with pytest.raises(ValueError, match="item_nums"):
        ItemList([20], item_nums=[1, 2], vocabulary=vocab)
    with pytest.raises(ValueError, match="outside"):
        ItemList(item_nums=[4], vocabulary=vocab)
    with pytest.raises(TypeError, match="integers"):
        ItemList(item_nums=[1.5], vocabulary=vocab)


def test_scores_and_fields() -> None:
    items = ItemList(
        ["a", "b"], scores=[1, 2], rating=np.array([4, 5], dtype=np.int8), tag=["x", "y"]
    )
    scores = items.scores()
    assert scores is not None and scores.dtype == np.float64
    assert items.field("score") is scores
    rating = items.field("rating")
    assert rating is not None and rating.dtype == np.float64
    assert rating.tolist() == [4.0, 5.0]
    tag = items.field("tag")
    assert tag is not None and tag.tolist() == ["x", "y"]
    assert items.field_names == ("rating", "tag")
    assert scores is not None
    with pytest.raises(ValueError):
        scores[0] = 3.0  # read-only
    filled = ItemList([1, 2, 3], scores=np.nan)
    filled_scores = filled.scores()
    assert filled_scores is not None and np.isnan(filled_scores).all() and len(filled_scores) == 3


def test_length_mismatch_names_field() -> None:
    with pytest.raises(ValueError, match="'rating' has 1 entries"):
        ItemList([1, 2], rating=[4.0])
    with pytest.raises(ValueError, match="'scores'"):
        ItemList([1, 2], scores=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="reserved"):
        ItemList([1], score=[1.0])
    with pytest.raises(TypeError, match="numeric"):
        ItemList([1], rating=["good"])


def test_getitem(vocab: Vocabulary) -> None:
    items = ItemList(
        item_nums=[0, 1, 2, 3], vocabulary=vocab, scores=[0.1, 0.2, 0.3, 0.4], rating=4
    )
    sub = items[1:3]
    assert sub.ids().tolist() == [20, 30]
    assert sub.vocabulary is vocab
    picked = items[np.array([3, 0])]
    assert picked.numbers().tolist() == [3, 0]
    picked_scores = picked.scores()
    assert picked_scores is not None and picked_scores.tolist() == [0.4, 0.1]
    masked = items[np.array([True, False, False, True])]
    assert masked.ids().tolist() == [10, 40]
    masked_rating = masked.field("rating")
    assert masked_rating is not None and masked_rating.tolist() == [4.0, 4.0]
    assert len(items[[]]) == 0
    with pytest.raises(ValueError, match="mask"):
        items[np.array([True, False])]
    with pytest.raises(TypeError):
        items[0]


def test_from_ratings() -> None:
    items = ItemList.from_ratings({1: 4.0, 2: 5.0})
    assert items.ids().tolist() == [1, 2]
    rating = items.field("rating")
    assert rating is not None and rating.tolist() == [4.0, 5.0]


def test_df_round_trip(vocab: Vocabulary) -> None:
    pytest.importorskip("pandas")
    items = ItemList(item_nums=[2, 0], vocabulary=vocab, scores=[0.5, 0.25], rating=[3.0, 1.0])
    df = items.to_df()
    assert list(df.columns) == ["item_id", "score", "rating"]
    assert df["item_id"].tolist() == [30, 10]
    assert list(items.to_df(numbers=True).columns) == ["item_id", "item_num", "score", "rating"]
    back = ItemList.from_df(df.assign(user_id=5), vocabulary=vocab)
    assert back.numbers().tolist() == [2, 0]
    back_scores = back.scores()
    assert back_scores is not None and back_scores.tolist() == [0.5, 0.25]
    assert back.field_names == ("rating",)
    with pytest.raises(ValueError, match="available columns"):
        ItemList.from_df(df.rename(columns={"item_id": "item"}))


def test_repr() -> None:
    text = repr(ItemList([1], scores=[1.0], rating=[2.0]))
    assert "1 items" in text and "rating" in text


def test_repr_shows_the_first_rows() -> None:
    """As LensKit's and pandas' do: ids, scores and fields of the first rows, then a count."""
    items = ItemList(np.arange(100, 125), scores=np.linspace(1, 0, 25), rank=np.arange(1, 26))
    lines = repr(items).splitlines()
    assert lines[0] == "ItemList(25 items, scores, fields=['rank'])"
    assert lines[1].split() == ["item_id", "score", "rank"]
    assert lines[2].split() == ["100", "1.0000", "1"]
    assert lines[11].split() == ["109", f"{1 - 9 / 24:.4f}", "10"]
    assert lines[12] == "... 15 more rows"
    assert len(lines) == 13
    assert repr(ItemList([])) == "ItemList(0 items)"


def test_rec_query_create() -> None:
    assert RecQuery.create(None) == RecQuery()
    query = RecQuery(5)
    assert RecQuery.create(query) is query
    assert RecQuery.create(7).user_id == 7
    from_numpy = RecQuery.create(np.int64(8))
    assert from_numpy.user_id == 8 and type(from_numpy.user_id) is int
    assert RecQuery.create("u1").user_id == "u1"
    history = ItemList([1, 2])
    q = RecQuery.create(history)
    assert q.user_id is None and q.user_items is history
    with pytest.raises(TypeError):
        RecQuery.create(True)
    with pytest.raises(TypeError):
        RecQuery.create(1.5)  # type: ignore[arg-type]


def test_uipair_is_frozen() -> None:
    pair = UIPair(user=1.0, item=2.0)
    assert (pair.user, pair.item) == (1.0, 2.0)
    assert pair == UIPair(1.0, 2.0)
    with pytest.raises(AttributeError):
        pair.user = 3.0  # type: ignore[misc]


def test_uipair_pydantic_field() -> None:
    class Config(pydantic.BaseModel):
        reg: float | UIPair[float] = 0.1

    assert Config().reg == 0.1
    assert Config(reg=2).reg == 2.0
    from_dict = Config.model_validate({"reg": {"user": 2, "item": 1}})
    assert from_dict.reg == UIPair(2.0, 1.0)
    assert isinstance(from_dict.reg, UIPair)
    assert Config(reg=UIPair(0.5, 0.25)).reg == UIPair(0.5, 0.25)
    dumped: dict[str, Any] = from_dict.model_dump(mode="json")
    assert dumped == {"reg": {"user": 2.0, "item": 1.0}}
    assert Config.model_validate(dumped).model_dump(mode="json") == dumped
    assert Config.model_validate_json('{"reg": {"user": 3, "item": 4}}').reg == UIPair(3.0, 4.0)
    with pytest.raises(pydantic.ValidationError):
        Config.model_validate({"reg": {"user": 2}})
    with pytest.raises(pydantic.ValidationError):
        Config.model_validate({"reg": {"user": "a", "item": 1}})
