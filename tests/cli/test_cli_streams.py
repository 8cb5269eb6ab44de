"""Loading from streams that can be read only once (FIFOs, pipes), and the report tables.

A FIFO yields its content once: a loader that opens it again (to sniff the format, then to
detect a header, then to parse) loses rows or fails. Every format must read every row.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import alskit
from alskit.evaluation import Measurement
from alskit.evaluation.report import Column, format_table, metric_values, metrics_table
from alskit.synthetic import generate


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    df = generate("tiny", kind="explicit", seed=6).interactions_df()
    return df[["user_id", "item_id", "rating"]].astype({"rating": np.int64})


def _through_fifo(
    tmp_path: Path, content: bytes, load: Callable[[Path], alskit.Dataset]
) -> alskit.Dataset:
    """``load`` the FIFO while a thread writes ``content`` into it once."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as f:
            f.write(content)

    result: list[alskit.Dataset | BaseException] = []

    def read() -> None:
        try:
            result.append(load(fifo))
        except BaseException as e:  # reported by the test below
            result.append(e)

    writer = threading.Thread(target=write, daemon=True)
    reader = threading.Thread(target=read, daemon=True)
    writer.start()
    reader.start()
    reader.join(timeout=60)
    if reader.is_alive():
        # A loader opening the FIFO a second time waits for a writer that never comes:
        # open (and close) one so that it sees the end of the stream and returns.
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=10)
        pytest.fail("the loader opened the FIFO more than once (and blocked)")
    writer.join(timeout=10)
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def _csv(frame: pd.DataFrame, **options: object) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, **options)
    return buffer.getvalue().encode()


@pytest.mark.parametrize(
    "encode",
    [
        lambda f: _csv(f),
        lambda f: _csv(f, header=False),
        lambda f: gzip.compress(_csv(f)),
        lambda f: bz2.compress(_csv(f)),
        lambda f: _csv(f.rename(columns={"user_id": "userId", "item_id": "movieId"})),
    ],
    ids=["csv", "no-header", "gzip", "bz2", "movielens-csv"],
)
def test_fifo_reads_every_row(
    tmp_path: Path, frame: pd.DataFrame, encode: Callable[[pd.DataFrame], bytes]
) -> None:
    data = _through_fifo(tmp_path, encode(frame), alskit.load_interactions)
    want = alskit.Dataset.from_interactions_df(frame)
    assert data.interaction_count == len(frame) == want.interaction_count
    assert data.ratings is not None
    np.testing.assert_array_equal(np.sort(data.ratings), np.sort(frame["rating"].to_numpy()))


def test_fifo_parquet(tmp_path: Path, frame: pd.DataFrame) -> None:
    pytest.importorskip("pyarrow")
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    data = _through_fifo(tmp_path, buffer.getvalue(), alskit.load_interactions)
    assert data.interaction_count == len(frame)


def test_fifo_load_csv_and_tab_separated(tmp_path: Path, frame: pd.DataFrame) -> None:
    data = _through_fifo(tmp_path, _csv(frame, sep="\t"), lambda p: alskit.load_csv(p, sep="\t"))
    assert data.interaction_count == len(frame)


# ---- report tables -------------------------------------------------------------------------


def test_format_table_aligns_and_fixes_decimals() -> None:
    table = format_table(
        [Column("model"), Column("NDCG@10", 4), Column("train s", 2)],
        [["BiasedMF", 0.12345, 1.5], ["ImplicitMF cg", float("nan"), 12.25], ["x", None, 0]],
    )
    lines = table.splitlines()
    assert lines[0] == "model          NDCG@10  train s"
    assert lines[1] == "-------------  -------  -------"
    assert lines[2] == "BiasedMF        0.1235     1.50"
    assert lines[3] == "ImplicitMF cg        -    12.25"
    assert lines[4] == "x                    -     0.00"
    # Right-aligned numbers end where their title ends.
    assert {len(line) for line in lines} == {len(lines[0])}


def test_metric_labels_carry_the_cutoff_and_one_rmse() -> None:
    result = Measurement(
        per_user={
            "NDCG": np.array([0.5, np.nan, 0.25]),
            "Recall": np.array([1.0, 0.0, 0.5]),
            "RMSE": np.array([9.0, 9.0, 9.0]),  # a per-user RMSE is not what is shown
        },
        global_metrics={"RMSE": 0.875, "MAE": 0.5},
        n=10,
        test_users=3,
        test_interactions=12,
        train_interactions=100,
    )
    values = metric_values(result)
    assert list(values) == ["NDCG@10", "Recall@10", "RMSE", "MAE"]
    assert values["NDCG@10"] == pytest.approx(0.375)  # NaN (no relevant items) left out
    assert values["RMSE"] == 0.875
    table = metrics_table(result)
    assert "RMSE       0.8750  all 12 held-out ratings, pooled" in table
    assert "NDCG@10    0.3750  mean over 3 test users" in table
