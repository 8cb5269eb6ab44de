"""Tests for load_movielens, load_parquet and the load_interactions dispatcher."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import alskit
from alskit.data import Dataset, load_csv, load_interactions, load_movielens, load_parquet
from alskit.data import io as loaders_module
from alskit.data.io import parquet as parquet_module
from ml100k import ML100K, needs_ml100k

# (user, item, rating, timestamp), in file order.
ROWS = [(1, 10, 4.0, 100), (1, 20, 3.5, 200), (2, 10, 5.0, 150), (3, 30, 1.0, 50)]


def _lines(fmt: Callable[[int, int, float, int], str]) -> str:
    return "".join(fmt(u, i, r, t) + "\n" for u, i, r, t in ROWS)


def _udata(u: int, i: int, r: float, t: int) -> str:
    return f"{u}\t{i}\t{r:g}\t{t}"


def _dat(u: int, i: int, r: float, t: int) -> str:
    return f"{u}::{i}::{r:g}::{t}"


def _csv(u: int, i: int, r: float, t: int) -> str:
    return f"{u},{i},{r:g},{t}"


ML20M_HEADER = "userId,movieId,rating,timestamp\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _check(ds: Dataset, *, ratings: bool = True, timestamps: bool = True) -> None:
    assert ds.users.ids().tolist() == [1, 2, 3]
    assert ds.items.ids().tolist() == [10, 20, 30]
    assert ds.interaction_count == 4
    row = ds.user_row(1)
    assert row is not None and row.ids().tolist() == [10, 20]
    if ratings:
        assert ds.ratings is not None and ds.ratings.tolist() == [4.0, 3.5, 5.0, 1.0]
    else:
        assert ds.ratings is None
    if timestamps:
        assert ds.timestamps is not None and ds.timestamps.tolist() == [100, 200, 150, 50]
    else:
        assert ds.timestamps is None


@pytest.fixture(params=["pandas"])
def reader(request: pytest.FixtureRequest) -> str:
    # One reader since data/io: pandas (the numpy fallback is gone).
    return str(request.param)


# ---- MovieLens formats ---------------------------------------------------------------------


def test_u_data(tmp_path: Path, reader: str) -> None:
    path = _write(tmp_path, "ml-100k/u.data", _lines(_udata))
    _check(load_movielens(path))
    _check(load_interactions(path))


def test_ratings_dat(tmp_path: Path, reader: str) -> None:
    path = _write(tmp_path, "ml-1m/ratings.dat", _lines(_dat))
    _check(load_movielens(path))
    _check(load_interactions(path))


def test_ratings_dat_gzip(tmp_path: Path) -> None:
    path = tmp_path / "ratings.dat.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(_lines(_dat))
    _check(load_movielens(path))
    _check(load_interactions(path))


def test_ratings_dat_crlf_and_string_ids(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "ratings.dat"
    path.write_bytes(b"u1::m1::4::10\r\nu2::m1::3::20\r\n")
    ds = load_movielens(path)
    assert ds.users.ids().tolist() == ["u1", "u2"]
    assert ds.timestamps is not None and ds.timestamps.tolist() == [10, 20]


def test_ratings_csv_ml20m_header(tmp_path: Path, reader: str) -> None:
    path = _write(tmp_path, "ml-20m/ratings.csv", ML20M_HEADER + _lines(_csv))
    _check(load_movielens(path))
    _check(load_interactions(path))
    with pytest.raises(ValueError, match="column 'user_id' not found"):
        load_csv(path)  # the plain CSV reader needs the column names


def test_ratings_csv_shared_header(tmp_path: Path) -> None:
    path = _write(tmp_path, "ratings.csv", "user_id,item_id,rating,timestamp\n" + _lines(_csv))
    _check(load_movielens(path))
    _check(load_interactions(path))


def test_movielens_header_recognised_under_any_csv_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "ml-latest-small.csv", ML20M_HEADER + _lines(_csv))
    _check(load_interactions(path))


def test_dat_file_with_double_colons_under_other_name(tmp_path: Path) -> None:
    _check(load_interactions(_write(tmp_path, "ml10m-ratings.dat", _lines(_dat))))


def test_movielens_drop_rating_and_timestamp(tmp_path: Path) -> None:
    path = _write(tmp_path, "u.data", _lines(_udata))
    _check(load_interactions(path, rating_col=None), ratings=False)
    _check(load_interactions(path, timestamp_col=None), timestamps=False)
    csv20 = _write(tmp_path, "ratings.csv", ML20M_HEADER + _lines(_csv))
    both = load_interactions(csv20, rating_col=None, timestamp_col=None)
    _check(both, ratings=False, timestamps=False)


def test_explicit_options_mean_a_custom_file(tmp_path: Path) -> None:
    # A file named like MovieLens but read with the caller's options.
    path = _write(tmp_path, "u.data", "user,item,score\n1,10,4\n2,10,5\n")
    with pytest.raises(ValueError, match="not a MovieLens u.data file"):
        load_interactions(path)
    ds = load_interactions(path, sep=",", user_col="user", item_col="item", rating_col="score")
    assert ds.ratings is not None and ds.ratings.tolist() == [4.0, 5.0]
    csv20 = _write(tmp_path, "ratings.csv", "userId,movieId,stars\n1,10,4.5\n")
    ds = load_interactions(csv20, user_col="userId", item_col="movieId", rating_col="stars")
    assert ds.ratings is not None and ds.ratings.tolist() == [4.5]


def test_movielens_unknown_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "my_ratings.txt", _lines(_udata))
    with pytest.raises(ValueError, match="my_ratings.txt"):
        load_movielens(path)


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("u.data", _lines(_csv), "not a MovieLens u.data file"),
        ("ratings.dat", _lines(_udata), "not a MovieLens ratings.dat file"),
        ("ratings.csv", "user,movie,stars\n1,2,3\n", "not a MovieLens ratings.csv file"),
        ("ratings.dat", _lines(_dat) + "4::40::good::60\n", "line 5: column 'rating'"),
        ("u.data", _lines(_udata) + "4\t40\t3\t60\t9\n", "u.data"),
        ("ratings.dat", "", "not a MovieLens ratings.dat file"),
        ("ratings.dat", "1::2::3::4\n5::6::7\n", "line 2: column 'timestamp' is empty"),
    ],
)
def test_movielens_malformed(tmp_path: Path, name: str, text: str, match: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(ValueError, match=match):
        load_movielens(path)


def test_movielens_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="u.data"):
        load_movielens(tmp_path / "u.data")
    with pytest.raises(FileNotFoundError, match="nope.parquet"):
        load_interactions(tmp_path / "nope.parquet")


def test_corrupt_compressed_dat(tmp_path: Path) -> None:
    path = tmp_path / "ratings.dat.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises((ValueError, OSError), match="ratings.dat.gz"):
        load_movielens(path)


# ---- delimited files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["data.tsv", "data.tab", "data.tsv.gz"])
@pytest.mark.parametrize("header", [True, False])
def test_tab_separated(tmp_path: Path, name: str, header: bool) -> None:
    text = ("user_id\titem_id\trating\ttimestamp\n" if header else "") + _lines(_udata)
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text)
    _check(load_interactions(path))


def test_csv_and_explicit_separator(tmp_path: Path) -> None:
    _check(load_interactions(_write(tmp_path, "plain.csv", _lines(_csv))))
    semi = _write(tmp_path, "semi.txt", _lines(_csv).replace(",", ";"))
    _check(load_interactions(semi, sep=";"))


def test_csv_missing_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "plain.csv", "user_id,item_id\n1,2\n")
    with pytest.raises(ValueError, match=r"column 'stars' not found; available columns"):
        load_interactions(path, rating_col="stars")


# ---- Parquet ------------------------------------------------------------------------------


def _frame() -> object:
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(
        {
            "user_id": [u for u, _, _, _ in ROWS],
            "item_id": [i for _, i, _, _ in ROWS],
            "rating": [r for _, _, r, _ in ROWS],
            "timestamp": [t for _, _, _, t in ROWS],
        }
    )


@pytest.fixture
def parquet_file(tmp_path: Path) -> Path:
    pytest.importorskip("pyarrow")
    path = tmp_path / "ratings.parquet"
    _frame().to_parquet(path, index=False)  # type: ignore[attr-defined]
    return path


def test_parquet(parquet_file: Path) -> None:
    _check(load_parquet(parquet_file))
    _check(load_interactions(parquet_file))
    _check(alskit.load_interactions(parquet_file, rating_col=None), ratings=False)


def test_parquet_custom_columns_and_types(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "who": ["007", "7", "007"],
            "what": pd.Categorical(["a", "b", "b"]),
            "stars": [1, 2, 3],
            "when": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"]),
        }
    )
    path = tmp_path / "custom.parquet"
    frame.to_parquet(path)  # with a pandas index column, which is ignored
    ds = load_parquet(
        path, user_col="who", item_col="what", rating_col="stars", timestamp_col="when"
    )
    assert ds.users.ids().tolist() == ["007", "7"]  # string ids stay strings
    assert ds.items.ids().tolist() == ["a", "b"]
    assert ds.ratings is not None and ds.ratings.tolist() == [1.0, 3.0, 2.0]
    assert ds.timestamps is not None and ds.timestamps.dtype.kind == "M"


def test_parquet_missing_column(parquet_file: Path) -> None:
    with pytest.raises(ValueError, match=r"column 'stars' not found; available columns: \[") as e:
        load_parquet(parquet_file, rating_col="stars")
    assert "'user_id', 'item_id', 'rating', 'timestamp'" in str(e.value)
    with pytest.raises(ValueError, match="column 'who' not found"):
        load_interactions(parquet_file, user_col="who")


def test_parquet_null_cell(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    path = tmp_path / "nulls.parquet"
    pd.DataFrame({"user_id": [1, 2], "item_id": [1, 1], "rating": [3.0, None]}).to_parquet(path)
    with pytest.raises(ValueError, match="row 1: column 'rating' is empty"):
        load_parquet(path)


def test_parquet_not_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = _write(tmp_path, "fake.parquet", _lines(_csv))
    with pytest.raises(ValueError, match="fake.parquet: not a readable Parquet file"):
        load_interactions(path)


def test_parquet_without_pyarrow(parquet_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_module, "_pyarrow", lambda: None)
    with pytest.raises(ImportError, match=r"pip install 'alskit\[parquet\]'"):
        load_interactions(parquet_file)


# ---- exports and real data ----------------------------------------------------------------


def test_exports() -> None:
    for name in ("load_interactions", "load_movielens", "load_parquet"):
        assert name in alskit.__all__ and name in alskit.data.__all__
        assert getattr(alskit, name) is getattr(loaders_module, name)


@needs_ml100k
def test_shared_ml100k() -> None:
    ds = load_interactions(ML100K)
    assert (ds.user_count, ds.item_count, ds.interaction_count) == (943, 1682, 100000)
    assert ds.ratings is not None and ds.timestamps is not None
    assert set(np.unique(ds.ratings).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    same = load_movielens(ML100K)
    assert np.array_equal(same.item_nums, ds.item_nums)
