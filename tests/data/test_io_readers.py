"""alskit.data.io: each file opened once, pandas decompression, the shared column resolver,
line-numbered errors."""

from __future__ import annotations

import builtins
import bz2
import gzip
import lzma
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alskit.data import load_csv, load_interactions, load_movielens
from alskit.data._columns import FILE_SPELLINGS, resolve_columns
from alskit.data.io import _source

CSV = "user_id,item_id,rating\n1,10,4\n1,20,3\n2,10,5\n"


# ---- the column resolver -------------------------------------------------------------------


def test_resolver_detects_spellings() -> None:
    cols = resolve_columns(["UserId", "ITEM", "RATING", "when"])
    assert cols == ("UserId", "ITEM", "RATING", None)
    assert resolve_columns(["user", "item"], "user_id", "item_id").user == "user"
    explicit = resolve_columns(["who", "what", "stars"], "who", "what", "stars", None)
    assert explicit == ("who", "what", "stars", None)


def test_resolver_errors_name_the_column_and_the_choices() -> None:
    with pytest.raises(
        ValueError, match=r"x: column 'user_id' not found; available columns: \['a'"
    ):
        resolve_columns(["a", "item_id"], where="x: ")
    with pytest.raises(ValueError, match="column 'stars' not found"):
        resolve_columns(["user_id", "item_id"], rating="stars")
    with pytest.raises(ValueError, match="cannot be left out"):
        resolve_columns(["user_id", "item_id"], user=None)


def test_file_spellings_are_the_canonical_and_legacy_names_only() -> None:
    with pytest.raises(ValueError, match="column 'user_id' not found"):
        resolve_columns(["userId", "movieId"], spellings=FILE_SPELLINGS)
    cols = resolve_columns(["user", "item", "RATING"], spellings=FILE_SPELLINGS)
    assert cols == ("user", "item", None, None)


# ---- one open per file ---------------------------------------------------------------------


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the loaders open."""
    seen: list[str] = []

    def counting(path: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(_source, "open", counting, raising=False)
    return seen


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("plain.csv", CSV.encode()),
        ("noheader.csv", b"1,10,4\n2,10,5\n"),
        ("ratings.csv.gz", gzip.compress(b"userId,movieId,rating,timestamp\n1,2,3,4\n")),
        ("u.data", b"1\t10\t4\t5\n"),
        ("ratings.dat.bz2", bz2.compress(b"1::10::4::5\n")),
        ("x.tsv", b"user_id\titem_id\n1\t2\n"),
    ],
)
def test_each_file_is_opened_once(
    tmp_path: Path, opens: list[str], name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert load_interactions(path).interaction_count >= 1
    assert opens == [str(path)]


# ---- compression ---------------------------------------------------------------------------


def test_compression_by_suffix_or_content(tmp_path: Path) -> None:
    xz = tmp_path / "r.csv.xz"
    xz.write_bytes(lzma.compress(CSV.encode()))
    assert load_csv(xz).interaction_count == 3
    disguised = tmp_path / "r.csv"  # gzip content under a plain name: recognised by its bytes
    disguised.write_bytes(gzip.compress(CSV.encode()))
    assert load_csv(disguised).interaction_count == 3


def test_corrupt_compressed_files_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "r.csv.bz2"
    bad.write_bytes(b"BZh9garbage-garbage")
    with pytest.raises(ValueError, match=r"r\.csv\.bz2: cannot decompress"):
        load_csv(bad)
    truncated = tmp_path / "t.csv.xz"
    truncated.write_bytes(lzma.compress(CSV.encode())[:-20])
    with pytest.raises(ValueError, match=r"t\.csv\.xz: cannot decompress"):
        load_csv(truncated)


def test_not_text(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"user_id,item_id\n1,caf\xe9\n")
    with pytest.raises(ValueError, match=r"latin\.csv: malformed file"):
        load_csv(path)


# ---- parsing -------------------------------------------------------------------------------


def test_byte_order_mark_and_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfuser_id, item_id, rating\n u1 , a ,4\nu2,b , 5\n")
    ds = load_csv(path)
    assert ds.users.ids().tolist() == ["u1", "u2"]
    assert ds.items.ids().tolist() == ["a", "b"]
    assert ds.ratings is not None and ds.ratings.tolist() == [4.0, 5.0]


@pytest.mark.parametrize("sep", ["||", "..", "; "])
def test_multi_character_separators_are_literal(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "multi.txt"
    path.write_text(f"1{sep}10{sep}4\n2{sep}20{sep}5\n")
    ds = load_csv(path, sep=sep)
    assert ds.items.ids().tolist() == [10, 20]
    assert ds.ratings is not None and ds.ratings.tolist() == [4.0, 5.0]


def test_ratings_dat_errors_are_line_numbered(tmp_path: Path) -> None:
    path = tmp_path / "ratings.dat"
    path.write_text("1::10::4::5\n2::20::5\n")
    with pytest.raises(ValueError, match="line 2: column 'timestamp' is empty"):
        load_movielens(path)
    path.write_text("1::10::4::5\n2::20::x::6\n")
    with pytest.raises(ValueError, match="line 2: column 'rating' has non-numeric value 'x'"):
        load_movielens(path)


def test_rows_with_extra_fields_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("user_id,item_id\n1,2\n3,4,5,6\n")
    with pytest.raises(ValueError, match="malformed file: .*line 3"):
        load_csv(path)


def test_large_integer_ids_stay_exact(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("user_id,item_id\n9223372036854775807,1\n-9223372036854775808,2\n")
    ds = load_csv(path)
    assert ds.users.ids().dtype == np.int64
    assert ds.users.ids().tolist() == [-9223372036854775808, 9223372036854775807]


def test_text_timestamps_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "dates.csv"
    path.write_text("user_id,item_id,timestamp\n1,2,2024-01-02\n1,3,2024-02-03\n")
    ds = load_csv(path)
    assert ds.timestamps is not None and ds.timestamps.tolist() == ["2024-01-02", "2024-02-03"]
