"""The command line reads every supported data format (subprocess runs, kept few and tiny).

User errors must give exit status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

import alskit
from alskit.synthetic import generate
from cli_runner import assert_user_error, train


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    """Tiny synthetic ratings as (user, item, rating, timestamp) rows."""
    data = generate("tiny", kind="explicit", seed=1)
    assert data.ratings is not None
    return np.column_stack(
        [
            data.users.ids(data.user_nums),
            data.items.ids(data.item_nums),
            data.ratings.astype(np.int64),
            np.arange(data.interaction_count) + 874_000_000,
        ]
    )


def assert_trained(result: subprocess.CompletedProcess[str], out: Path, rows: np.ndarray) -> None:
    assert result.returncode == 0, result.stderr
    assert f"on {len(rows)} interactions" in result.stdout
    model = alskit.load(out)
    assert len(model.users_) == 200 and len(model.items_) == 100


def test_train_on_u_data(tmp_path: Path, rows: np.ndarray) -> None:
    path = tmp_path / "u.data"
    np.savetxt(path, rows, fmt="%d", delimiter="\t")
    assert_trained(*train(path), rows)


def test_train_on_ratings_dat(tmp_path: Path, rows: np.ndarray) -> None:
    path = tmp_path / "ratings.dat"
    np.savetxt(path, rows, fmt="%d", delimiter="::")
    assert_trained(*train(path), rows)


def test_train_on_parquet(tmp_path: Path, rows: np.ndarray) -> None:
    pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    path = tmp_path / "ratings.parquet"
    pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"]).to_parquet(path)
    assert_trained(*train(path), rows)


def test_parquet_missing_column(tmp_path: Path, rows: np.ndarray) -> None:
    pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    path = tmp_path / "bad.parquet"
    pd.DataFrame(rows[:, :3], columns=["user", "movie", "rating"]).to_parquet(path)
    result, out = train(path)
    assert_user_error(result, "bad.parquet", "'item_id' not found", "available columns")
    assert not out.exists()


def test_not_really_u_data(tmp_path: Path) -> None:
    path = tmp_path / "u.data"
    path.write_text("1,2,3,4\n")
    result, _ = train(path)
    assert_user_error(result, "u.data", "not a MovieLens u.data file")


def test_fake_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "fake.parquet"
    path.write_text("user_id,item_id\n1,2\n")
    result, _ = train(path)
    assert_user_error(result, "fake.parquet", "Parquet")
