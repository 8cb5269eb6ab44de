"""Dataset, DatasetBuilder, from_interactions_df and the MovieLens loaders against LensKit
2025.1's documented data API (no LensKit needed)."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import alskit
from alskit.data import (
    CSRMatrix,
    Dataset,
    DatasetBuilder,
    ItemList,
    from_interactions_df,
    load_movielens,
    load_movielens_df,
)

sp = pytest.importorskip("scipy.sparse")
pa = pytest.importorskip("pyarrow")


@pytest.fixture
def data() -> Dataset:
    # user 'c' is in the vocabulary but has no interactions; item 40 likewise
    return Dataset.from_arrays(
        ["a", "a", "b", "b", "b"],
        [10, 20, 10, 30, 20],
        ratings=[4.0, 3.0, 5.0, 1.0, 2.0],
        timestamps=[100, 200, 150, 50, 300],
        users=["a", "b", "c"],
        items=[10, 20, 30, 40],
    )


def test_counts_and_vocabularies(data: Dataset) -> None:
    assert (data.user_count, data.item_count, data.interaction_count) == (3, 4, 5)
    assert data.users.ids().tolist() == ["a", "b", "c"]
    assert data.items.index.name == "item_id"
    assert data.interactions().count() == 5


# ---- interaction_matrix -------------------------------------------------------------------


def test_matrix_pandas(data: Dataset) -> None:
    frame = data.interaction_matrix(format="pandas")
    assert list(frame.columns) == ["user_num", "item_num", "rating", "timestamp"]
    assert frame["user_num"].tolist() == [0, 0, 1, 1, 1]
    assert frame["item_num"].tolist() == [0, 1, 0, 1, 2]  # sorted within each user
    assert frame["rating"].tolist() == [4.0, 3.0, 5.0, 2.0, 1.0]
    ids = data.interaction_matrix(format="pandas", original_ids=True, field="rating")
    assert list(ids.columns) == ["user_id", "item_id", "rating"]
    assert ids["user_id"].tolist() == ["a", "a", "b", "b", "b"]
    assert ids["item_id"].tolist() == [10, 20, 10, 20, 30]
    bare = data.interaction_matrix(format="pandas", field=[])  # type: ignore[arg-type]
    assert list(bare.columns) == ["user_num", "item_num"]


def test_matrix_scipy(data: Dataset) -> None:
    ones = data.interaction_matrix(format="scipy")
    assert isinstance(ones, sp.csr_array) and ones.shape == (3, 4)
    assert ones.dtype == np.float32 and ones.sum() == 5
    ratings = data.interaction_matrix(format="scipy", field="rating")
    dense = ratings.toarray()
    assert dense[0, 0] == 4.0 and dense[1, 2] == 1.0 and dense[2].sum() == 0
    assert dense[:, 3].sum() == 0  # item 40: an empty column
    coo = data.interaction_matrix(format="scipy", field="rating", layout="coo")
    assert isinstance(coo, sp.coo_array)
    np.testing.assert_array_equal(coo.toarray(), dense)
    legacy = data.interaction_matrix(format="scipy", legacy=True)
    assert isinstance(legacy, sp.csr_matrix)
    assert isinstance(
        data.interaction_matrix(format="scipy", layout="coo", legacy=True), sp.coo_matrix
    )
    stamps = data.interaction_matrix(format="scipy", field="timestamp")
    assert stamps.toarray()[1, 1] == 300
    with pytest.raises(KeyError, match="no field 'count'"):
        data.interaction_matrix(format="scipy", field="count")
    with pytest.raises(ValueError, match="layout"):
        data.interaction_matrix(format="scipy", layout="csc")  # type: ignore[arg-type]


def test_matrix_csr_structure_and_errors(data: Dataset) -> None:
    csr = data.interaction_matrix()
    assert isinstance(csr, CSRMatrix) and csr.values is None
    rated = data.interaction_matrix("rating")  # alskit's positional field still works
    assert rated.values is not None and rated.values.dtype == np.float32
    same = data.interaction_matrix(format="csr", field="rating", dtype=np.float64)
    assert same.values is not None and same.values.dtype == np.float64
    structure = data.interaction_matrix(format="structure")
    assert structure.values is None and structure.nnz == 5
    with pytest.raises(ValueError, match="no field"):
        data.interaction_matrix(format="structure", field="rating")
    with pytest.raises(ValueError, match="numpy-only"):
        data.interaction_matrix(format="torch")
    with pytest.raises(ValueError, match="unknown matrix format"):
        data.interaction_matrix(format="dense")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="once"):
        data.interaction_matrix("rating", field="rating")


def test_interaction_table_formats(data: Dataset) -> None:
    table = data.interaction_table(format="numpy", fields="rating")
    assert sorted(table) == ["item_num", "rating", "user_num"]
    assert table["user_num"].dtype == np.int32
    arrow = data.interaction_table(format="arrow", original_ids=True)
    assert isinstance(arrow, pa.Table)
    assert arrow.column_names == ["user_id", "item_id", "rating", "timestamp"]
    frame = data.interaction_table(format="pandas", fields=["timestamp"])
    assert list(frame.columns) == ["user_num", "item_num", "timestamp"]
    with pytest.raises(ValueError, match="unknown table format"):
        data.interaction_table(format="torch")  # type: ignore[arg-type]


def test_implicit_dataset_has_no_fields() -> None:
    plain = Dataset.from_arrays([1, 2], [5, 6])
    assert list(plain.interaction_matrix(format="pandas").columns) == ["user_num", "item_num"]
    with pytest.raises(KeyError, match="its fields: none"):
        plain.interaction_matrix(format="scipy", field="rating")
    assert plain.interactions().attribute_names == []


# ---- interactions(), default class, stats, rows --------------------------------------------


def test_interactions_view(data: Dataset) -> None:
    rels = data.interactions()
    assert rels.name == data.default_interaction_class() == "rating"
    assert rels.is_interaction and rels.attribute_names == ["rating", "timestamp"]
    assert rels.matrix() is rels and (rels.n_rows, rels.n_cols) == (3, 4)
    assert rels.row_vocabulary is data.users and rels.col_vocabulary is data.items
    assert rels.pandas(ids=True)["user_id"].tolist()[:2] == ["a", "a"]
    assert rels.arrow().num_rows == 5
    np.testing.assert_array_equal(
        rels.scipy("rating").toarray(),
        data.interaction_matrix(format="scipy", field="rating").toarray(),
    )
    assert rels.csr_structure().nnz == 5
    row = rels.row_items("b")
    assert row is not None and row.ids().tolist() == [10, 20, 30]
    assert rels.row_stats().equals(data.user_stats())
    assert rels.col_stats().equals(data.item_stats())
    assert data.interactions("rating").count() == 5
    with pytest.raises(KeyError, match="no interaction class 'click'"):
        data.interactions("click")


def test_default_class_survives_pickling(data: Dataset) -> None:
    assert pickle.loads(pickle.dumps(data)).default_interaction_class() == "rating"


def test_user_stats(data: Dataset) -> None:
    stats = data.user_stats()
    assert stats.index.name == "user_id" and stats.index.tolist() == ["a", "b", "c"]
    assert list(stats.columns) == [
        "record_count",
        "item_count",
        "rating_count",
        "mean_rating",
        "count",
        "first_time",
        "last_time",
    ]
    assert stats["count"].tolist() == [2, 3, 0]
    assert stats["item_count"].tolist() == [2, 3, 0]
    assert stats.loc["a", "mean_rating"] == 3.5
    assert np.isnan(stats.loc["c", "mean_rating"])  # no ratings: NaN, as LensKit
    assert stats.iloc[1]["first_time"] == 50 and stats.iloc[1]["last_time"] == 300
    assert np.isnan(stats.iloc[2]["first_time"])


def test_item_stats(data: Dataset) -> None:
    stats = data.item_stats()
    assert stats.index.name == "item_id" and stats.index.tolist() == [10, 20, 30, 40]
    assert "user_count" in stats.columns
    assert stats["count"].tolist() == [2, 2, 1, 0]
    assert stats.loc[10, "mean_rating"] == 4.5
    implicit = Dataset.from_arrays([1, 1], [5, 6]).item_stats()
    assert list(implicit.columns) == ["record_count", "user_count", "count"]


def test_user_row(data: Dataset) -> None:
    row = data.user_row("a")
    assert isinstance(row, ItemList) and not row.ordered
    assert row.ids().tolist() == [10, 20] and row.field("rating").tolist() == [4.0, 3.0]
    assert row.scores() is None  # ratings are a field, not scores
    by_num = data.user_row(user_num=1)
    assert by_num is not None and by_num.ids().tolist() == [10, 20, 30]
    empty = data.user_row("c")
    assert empty is not None and len(empty) == 0
    assert data.user_row("nobody") is None


# ---- DatasetBuilder ------------------------------------------------------------------------


def test_builder_entities_then_interactions() -> None:
    builder = DatasetBuilder()
    builder.add_entities("user", [3, 1])
    builder.add_entities("user", [2, 1], duplicates="update")
    builder.add_entities("item", ["x", "y", "z"])
    frame = pd.DataFrame({"user_id": [2, 3, 3], "item_id": ["y", "x", "z"], "rating": [1, 2, 3]})
    builder.add_interactions("rating", frame, entities=["user", "item"])
    ds = builder.build()
    # each call's new ids sorted, appended in the order of the calls (as LensKit)
    assert ds.users.ids().tolist() == [1, 3, 2]
    assert ds.items.ids().tolist() == ["x", "y", "z"]
    assert ds.interaction_count == 3 and ds.ratings is not None
    row = ds.user_row(3)
    assert row is not None and row.ids().tolist() == ["x", "z"]
    assert ds.default_interaction_class() == "rating"


def test_builder_missing_ids() -> None:
    frame = pd.DataFrame({"user_id": [1, 2, 9], "item_id": [5, 5, 6]})
    strict = DatasetBuilder()
    strict.add_entities("user", [1, 2])
    strict.add_entities("item", [5, 6])
    with pytest.raises(ValueError, match="1 unknown ids for entity class user"):
        strict.add_interactions("click", frame)
    strict.add_interactions("click", frame, missing="filter")
    filtered = strict.build()
    assert filtered.interaction_count == 2 and filtered.default_interaction_class() == "click"
    inserted = DatasetBuilder()
    inserted.add_interactions("click", frame, missing="insert")
    assert inserted.build().users.ids().tolist() == [1, 2, 9]
    with pytest.raises(ValueError, match="no user entities"):
        DatasetBuilder().add_interactions("click", frame)


def test_builder_errors() -> None:
    builder = DatasetBuilder()
    with pytest.raises(ValueError, match="'user' or 'item'"):
        builder.add_entities("tag", [1])
    builder.add_entities("user", [1, 2])
    with pytest.raises(ValueError, match="added before"):
        builder.add_entities("user", [2, 3])
    with pytest.raises(ValueError, match="repeated"):
        builder.add_entities("item", [4, 4])
    with pytest.raises(TypeError, match="mix"):
        builder.add_entities("user", ["a"])
    with pytest.raises(ValueError, match="no interactions"):
        builder.build()
    frame = {"user_id": [1, 1], "item_id": [7, 7]}
    builder.add_interactions("rating", frame, missing="insert", allow_repeats=False)
    with pytest.raises(ValueError, match="duplicate"):
        builder.build()
    with pytest.raises(ValueError, match="one interaction class"):
        builder.add_interactions("click", frame, missing="insert")
    with pytest.raises(ValueError, match="must link"):
        builder.add_interactions("rating", frame, entities=["user", "tag"])


def test_builder_repeats_keep_the_last() -> None:
    builder = DatasetBuilder()
    frame = pd.DataFrame({"user_id": [1, 1], "item_id": [7, 7], "rating": [2.0, 5.0]})
    builder.add_interactions("rating", pa.Table.from_pandas(frame), missing="insert")
    ds = builder.build()
    assert ds.interaction_count == 1 and ds.ratings is not None and ds.ratings.tolist() == [5.0]


# ---- module-level from_interactions_df ------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "item", "rating"),
    [
        ("user_id", "item_id", "rating"),
        ("user", "item", "RATING"),
        ("userId", "ItemId", None),
        ("USER", "itemId", "rating"),
        ("UserId", "ITEM", None),
    ],
)
def test_from_interactions_df_detects_lenskit_spellings(
    user: str, item: str, rating: str | None
) -> None:
    frame = pd.DataFrame({user: [1, 1, 2], item: [5, 6, 5]})
    if rating is not None:
        frame[rating] = [1.0, 2.0, 3.0]
    ds = from_interactions_df(frame)
    assert ds.users.ids().tolist() == [1, 2] and ds.items.ids().tolist() == [5, 6]
    assert (ds.ratings is not None) == (rating is not None)
    assert alskit.data.from_interactions_df is from_interactions_df


def test_from_interactions_df_columns_from_the_index() -> None:
    frame = pd.DataFrame(
        {"item_id": [5, 6], "rating": [1.0, 2.0]}, index=pd.Index([1, 2], name="user")
    )
    ds = from_interactions_df(frame)
    assert ds.users.ids().tolist() == [1, 2] and ds.ratings is not None
    same = Dataset.from_interactions_df(frame)
    assert same.users.ids().tolist() == [1, 2]


def test_from_interactions_df_explicit_columns_and_vocabularies() -> None:
    frame = pd.DataFrame({"u": [1, 2, 3], "i": ["a", "b", "c"], "stars": [1, 2, 3]})
    ds = from_interactions_df(frame, user_col="u", item_col="i", rating_col="stars")
    assert ds.ratings is not None and ds.ratings.tolist() == [1.0, 2.0, 3.0]
    # LensKit subsets the frame to given vocabularies (the classmethod refuses instead)
    subset = from_interactions_df(frame, user_col="u", item_col="i", users=[1, 3, 4])
    assert subset.users.ids().tolist() == [1, 3, 4] and subset.interaction_count == 2
    assert subset.items.ids().tolist() == ["a", "b", "c"]
    with pytest.raises(ValueError, match="not in the given users"):
        Dataset.from_interactions_df(frame, user_col="u", item_col="i", users=[1, 3])
    with pytest.raises(ValueError, match="column 'user_id' not found"):
        from_interactions_df(frame)
    with pytest.raises(ValueError, match="duplicate"):
        from_interactions_df(pd.DataFrame({"user": [1, 1], "item": [2, 2]}))


# ---- MovieLens releases --------------------------------------------------------------------

UDATA = "1\t10\t4\t881250949\n1\t20\t3\t881250950\n2\t10\t5\t881250951\n"


def _release(tmp_path: Path) -> Path:
    root = tmp_path / "ml-100k"
    root.mkdir()
    (root / "u.data").write_text(UDATA)
    (root / "u.item").write_text("10|Movie|...\n")
    return root


def test_load_movielens_directory_and_zip(tmp_path: Path) -> None:
    root = _release(tmp_path)
    ds = load_movielens(root)
    assert (ds.user_count, ds.item_count, ds.interaction_count) == (2, 2, 3)
    assert ds.timestamps is not None and ds.timestamps.dtype == np.int64
    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("ml-100k/", "")
        z.writestr("ml-100k/u.data", UDATA)
    zipped = load_movielens(archive)
    np.testing.assert_array_equal(zipped.item_nums, ds.item_nums)
    np.testing.assert_array_equal(zipped.ratings, ds.ratings)
    empty = tmp_path / "nothing"
    empty.mkdir()
    with pytest.raises(ValueError, match="not a MovieLens directory"):
        load_movielens(empty)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable zip"):
        load_movielens(bad)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match="not a MovieLens zip"):
        load_movielens(other)


def test_load_movielens_df_has_lenskit_dtypes(tmp_path: Path) -> None:
    frame = load_movielens_df(_release(tmp_path))
    assert list(frame.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert frame["user_id"].dtype == np.int32 and frame["item_id"].dtype == np.int32
    assert frame["rating"].dtype == np.float32
    assert frame["timestamp"].dtype.kind == "M"
    assert frame["timestamp"].iloc[0] == pd.Timestamp(881250949, unit="s")
    assert frame["user_id"].tolist() == [1, 1, 2]  # file order
    dat = tmp_path / "ratings.dat"
    dat.write_text("u1::m1::4::10\n")
    strings = load_movielens_df(dat)
    assert strings["user_id"].tolist() == ["u1"] and strings["rating"].tolist() == [4.0]
    with pytest.raises(ValueError, match="line 2: column 'rating' has non-numeric value"):
        bad = tmp_path / "ml" / "u.data"
        bad.parent.mkdir()
        bad.write_text(UDATA.splitlines(keepends=True)[0] + "1\t30\tx\t5\n")
        load_movielens_df(bad.parent)


def test_entities(data: Dataset) -> None:
    users = data.entities("user")
    assert users.name == "user" and len(users) == users.count() == 3
    assert users.ids().tolist() == ["a", "b", "c"] and users.numbers().tolist() == [0, 1, 2]
    assert users.vocabulary is data.users and users.attributes == []
    assert users.pandas()["user_id"].tolist() == ["a", "b", "c"]
    assert users.arrow().num_rows == 3
    picked = data.entities("item").select(ids=[30, 10])
    assert picked.numbers().tolist() == [2, 0] and picked.ids().tolist() == [30, 10]
    assert data.entities("item").select(numbers=[3]).ids().tolist() == [40]
    with pytest.raises(KeyError):
        data.entities("item").select(ids=[99])
    with pytest.raises(ValueError, match="exactly one"):
        users.select()
    with pytest.raises(KeyError, match="no entity class 'tag'"):
        data.entities("tag")
