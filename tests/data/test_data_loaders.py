"""Tests for alskit.data.load_csv (the pandas reader)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from alskit.data import Dataset, load_csv
from ml100k import ML100K, needs_ml100k

SIMPLE = "user_id,item_id,rating,timestamp\n10,3,4,100\n12,1,3.5,200\n10,1,5,300\n13,2,2,400\n"


@pytest.fixture(params=["pandas"])
def reader(request: pytest.FixtureRequest) -> Iterator[str]:
    # One reader since data/io: pandas (the numpy fallback is gone).
    yield request.param


def _write(tmp_path: Path, text: str, name: str = "ratings.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _check_simple(ds: Dataset) -> None:
    assert ds.users.ids().tolist() == [10, 12, 13]
    assert ds.items.ids().tolist() == [1, 2, 3]
    assert ds.interaction_count == 4
    row = ds.user_row(10)
    assert row is not None and row.ids().tolist() == [1, 3]
    rating = row.field("rating")
    assert rating is not None and rating.tolist() == [5.0, 4.0]
    assert ds.ratings is not None and ds.ratings.dtype == np.float64
    assert ds.timestamps is not None and ds.timestamps.tolist() == [300, 100, 200, 400]


def test_header_file(tmp_path: Path, reader: str) -> None:
    _check_simple(load_csv(_write(tmp_path, SIMPLE)))
    _check_simple(load_csv(_write(tmp_path, SIMPLE), header=True))


def test_headerless_tsv(tmp_path: Path, reader: str) -> None:
    body = SIMPLE.split("\n", 1)[1].replace(",", "\t")
    path = _write(tmp_path, body, "u.data")
    _check_simple(load_csv(path, sep="\t"))
    _check_simple(load_csv(path, sep="\t", header=False))


def test_two_columns_and_string_ids(tmp_path: Path, reader: str) -> None:
    path = _write(tmp_path, "u1,apple\nu2,pear\nu1,pear\n")
    ds = load_csv(path)
    assert ds.ratings is None and ds.timestamps is None
    assert ds.users.ids().tolist() == ["u1", "u2"]
    row = ds.user_row("u1")
    assert row is not None and row.ids().tolist() == ["apple", "pear"]


def test_custom_columns(tmp_path: Path, reader: str) -> None:
    path = _write(tmp_path, "userId,movieId,stars\n1,10,4.5\n2,10,3\n")
    ds = load_csv(path, user_col="userId", item_col="movieId", rating_col="stars")
    assert ds.ratings is not None and ds.ratings.tolist() == [4.5, 3.0]
    with pytest.raises(ValueError, match=r"column 'user_id' not found; available columns: \["):
        load_csv(path)


def test_gzip(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "ratings.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(SIMPLE)
    _check_simple(load_csv(path))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_csv(path)


def test_non_numeric_rating(tmp_path: Path, reader: str) -> None:
    path = _write(tmp_path, SIMPLE.replace("3.5", "good"))
    with pytest.raises(ValueError, match="line 3: column 'rating' has non-numeric value 'good'"):
        load_csv(path)


def test_empty_cell(tmp_path: Path, reader: str) -> None:
    path = _write(tmp_path, SIMPLE.replace("13,2,2", "13,2,"))
    with pytest.raises(ValueError, match="line 5: column 'rating' is empty"):
        load_csv(path)
    path = _write(tmp_path, SIMPLE.replace("12,1,3.5", ",1,3.5"))
    with pytest.raises(ValueError, match="line 3: column 'user_id' is empty"):
        load_csv(path)


def test_non_finite_rating(tmp_path: Path, reader: str) -> None:
    path = _write(tmp_path, SIMPLE.replace("3.5", "inf"))
    with pytest.raises(ValueError, match="rating at line 3 is inf"):
        load_csv(path)


def test_wrong_field_count(tmp_path: Path, reader: str) -> None:
    path = _write(tmp_path, SIMPLE + "14,5,1,500,extra\n")
    with pytest.raises(ValueError, match="ratings.csv"):
        load_csv(path)


def test_duplicates(tmp_path: Path, reader: str) -> None:
    path = _write(tmp_path, SIMPLE + "10,3,1,600\n")
    with pytest.raises(ValueError, match=r"\(user 10, item 3\) at line 2 and line 6"):
        load_csv(path)
    ds = load_csv(path, duplicates="last")
    row = ds.user_row(10)
    assert row is not None
    rating = row.field("rating")
    assert rating is not None and rating.tolist() == [5.0, 1.0]
    summed = load_csv(path, duplicates="sum")
    assert summed.ratings is not None and summed.ratings.tolist() == [5.0, 5.0, 3.5, 2.0]


@pytest.mark.parametrize(
    ("header", "missing"), [("user,movie", "item_id"), ("userId,itemId", "user_id")]
)
def test_two_column_header_of_other_names_is_not_data(
    tmp_path: Path, reader: str, header: str, missing: str
) -> None:
    # A header above numeric ids is a header, even when it names no known column: it was
    # read as one more interaction (and turned every id into a string).
    path = _write(tmp_path, f"{header}\n1,2\n3,4\n")
    with pytest.raises(ValueError, match=f"column '{missing}' not found; available columns: "):
        load_csv(path)
    user, item = header.split(",")
    ds = load_csv(path, user_col=user, item_col=item)
    assert ds.users.ids().tolist() == [1, 3] and ds.items.ids().tolist() == [2, 4]
    # Numbers in the first line as below it: no header, as before.
    ds = load_csv(_write(tmp_path, "1,2\n3,4\n", "plain.csv"))
    assert ds.interaction_count == 2 and ds.users.ids().tolist() == [1, 3]


def test_one_field_per_line_names_the_separator(tmp_path: Path, reader: str) -> None:
    path = _write(tmp_path, "alpha,beta,gamma\n1,2,3\n")
    with pytest.raises(ValueError, match="line 1 is one field when split by sep=';'"):
        load_csv(path, sep=";")


def test_header_only(tmp_path: Path, reader: str) -> None:
    path = _write(tmp_path, "user_id,item_id,rating\n")
    with pytest.raises(ValueError, match="no interactions"):
        load_csv(path)
    with pytest.raises(ValueError, match="no interactions"):
        load_csv(_write(tmp_path, "", "empty.csv"))


@needs_ml100k
def test_movielens_100k() -> None:
    ds = load_csv(ML100K)
    assert ds.user_count == 943
    assert ds.item_count == 1682
    assert ds.interaction_count == 100_000
    assert ds.users.ids().dtype == np.int64
    raw = np.loadtxt(ML100K, delimiter=",", skiprows=1, dtype=np.int64)
    assert ds.ratings is not None and ds.ratings.sum() == raw[:, 2].sum()
    for user in (1, 196, 943):
        mine = raw[raw[:, 0] == user]
        mine = mine[np.argsort(mine[:, 1])]
        row = ds.user_row(user)
        assert row is not None
        np.testing.assert_array_equal(row.ids(), mine[:, 1])
        np.testing.assert_array_equal(row.field("rating"), mine[:, 2].astype(np.float64))
        np.testing.assert_array_equal(row.field("timestamp"), mine[:, 3])
    matrix = ds.interaction_matrix("rating")
    matrix.validate()
    assert matrix.shape == (943, 1682)
