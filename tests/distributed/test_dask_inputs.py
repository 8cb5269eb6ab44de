"""Dask DataFrame input (Parquet and CSV partitions, integer and string ids), batch
recommendation and prediction on the cluster, and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from dask_cluster import (
    CLUSTER_WARNINGS,
    assert_same_model,
    client2,
    client3,
    local_run,
    ratings,
)

from alskit.als import BiasedMFScorer, ImplicitMFScorer
from alskit.data import Dataset
from alskit.distributed import DaskTrainer
from alskit.training import TrainingOptions

pytestmark = CLUSTER_WARNINGS


def _frame(ratings: Dataset, *, strings: bool) -> pd.DataFrame:
    frame = ratings.interactions_df()[["user_id", "item_id", "rating"]]
    frame = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)  # rows in any order
    if strings:
        frame["user_id"] = "u" + frame["user_id"].astype(str)
        frame["item_id"] = "i" + frame["item_id"].astype(str)
    return frame


def _write_parts(frame: pd.DataFrame, directory: Path, parts: int, kind: str) -> Any:
    directory.mkdir()
    for p, chunk in enumerate(np.array_split(np.arange(len(frame)), parts)):
        piece = frame.iloc[chunk]
        if kind == "parquet":
            piece.to_parquet(directory / f"part-{p:02d}.parquet", index=False)
        else:
            piece.to_csv(directory / f"part-{p:02d}.csv", index=False)
    if kind == "parquet":
        return dd.read_parquet(str(directory))
    return dd.read_csv(str(directory / "*.csv"), dtype={"user_id": object, "item_id": object})


@pytest.mark.parametrize(
    ("kind", "strings", "scorer"),
    [
        ("parquet", False, "explicit"),
        ("csv", True, "explicit"),
        ("parquet", True, "implicit"),
    ],
)
def test_dataframe_input_equals_local(
    client2: Any, ratings: Dataset, tmp_path: Path, kind: str, strings: bool, scorer: str
) -> None:
    frame = _frame(ratings, strings=strings)
    data = _write_parts(frame, tmp_path / "parts", 5, kind)
    make = {
        "explicit": lambda: BiasedMFScorer(embedding_size=5, epochs=2, damping=1.0),
        "implicit": lambda: ImplicitMFScorer(embedding_size=5, epochs=2),
    }[scorer]
    local = make()
    local_run(local, Dataset.from_interactions_df(frame))
    model = DaskTrainer(client2, blocks=3).train(make(), data, TrainingOptions(rng=42))
    assert_same_model(model, local)


def test_recommend_on_cluster_equals_local(client3: Any, ratings: Dataset, tmp_path: Path) -> None:
    model = BiasedMFScorer(embedding_size=5, epochs=2)
    local_run(model, ratings)
    trainer = DaskTrainer(client3)
    recs = trainer.recommend(model, n=7, block_rows=3000)
    got = recs.compute().reset_index(drop=True)
    want = model.recommend(n=7).to_df()
    pd.testing.assert_frame_equal(got, want)
    some = ratings.users.ids()[[5, 1, 9000]]
    got = trainer.recommend(model, some, n=3, exclude_seen=False).compute()
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), model.recommend(some, 3, exclude_seen=False).to_df()
    )
    recs.to_parquet(str(tmp_path / "recs"))
    assert len(pd.read_parquet(tmp_path / "recs")) == len(want)


def test_predict_on_cluster_equals_local(client2: Any, ratings: Dataset) -> None:
    model = ImplicitMFScorer(embedding_size=5, epochs=2)
    local_run(model, ratings)
    pairs = pd.DataFrame({"user_id": [1, 2, 3, 99_999, 5], "item_id": [1, 2, 99_999, 4, 8_000]})
    got = DaskTrainer(client2).predict(model, dd.from_pandas(pairs, npartitions=2)).compute()
    np.testing.assert_array_equal(
        got["score"].to_numpy(), model.predict(pairs["user_id"], pairs["item_id"])
    )


def test_bad_ratings_raise_the_local_error(client2: Any, tmp_path: Path) -> None:
    frame = pd.DataFrame({"user_id": [1, 2, 3], "item_id": [1, 1, 2], "rating": [1.0, np.nan, 2.0]})
    with pytest.raises(ValueError, match=r"rating at input row 1 is nan; ratings must be finite"):
        Dataset.from_interactions_df(frame)
    data = dd.from_pandas(frame, npartitions=1)
    with pytest.raises(
        ValueError, match=r"rating at partition 0 row 1 is nan; ratings must be finite"
    ):
        DaskTrainer(client2).train(BiasedMFScorer(epochs=1), data, TrainingOptions(rng=1))


def test_mixed_ids_and_duplicates_are_refused(client2: Any) -> None:
    for users, error in (([1.0, np.nan], ValueError), ([1.5, 2.0], TypeError)):
        frame = pd.DataFrame({"user_id": users, "item_id": [1, 2], "rating": [1.0, 2.0]})
        with pytest.raises(error) as local:
            Dataset.from_interactions_df(frame)
        with pytest.raises(error) as remote:
            DaskTrainer(client2).train(
                BiasedMFScorer(epochs=1), dd.from_pandas(frame, npartitions=1)
            )
        assert str(remote.value) == str(local.value)
    dup = pd.DataFrame({"user_id": [1, 2, 1], "item_id": [1, 1, 1], "rating": [1.0, 2.0, 3.0]})
    with pytest.raises(
        ValueError, match=r"1 duplicate \(user, item\) pairs; the first is \(user 1, item 1\)"
    ):
        DaskTrainer(client2).train(
            BiasedMFScorer(epochs=1), dd.from_pandas(dup, npartitions=2), TrainingOptions(rng=1)
        )


def test_negative_ratings_raise_the_local_error(client2: Any) -> None:
    frame = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2], "rating": [1.0, -1.0]})
    data = Dataset.from_interactions_df(frame)
    with pytest.raises(ValueError) as local:
        ImplicitMFScorer(use_ratings=True, epochs=1).train(data, TrainingOptions(rng=1))
    with pytest.raises(ValueError) as remote:
        DaskTrainer(client2).train(
            ImplicitMFScorer(use_ratings=True, epochs=1), dd.from_pandas(frame, npartitions=2)
        )
    assert str(remote.value) == str(local.value)


def test_no_ratings_for_the_explicit_scorer(client2: Any) -> None:
    frame = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2]})
    with pytest.raises(ValueError, match="the bias model needs ratings"):
        DaskTrainer(client2).train(BiasedMFScorer(epochs=1), dd.from_pandas(frame, npartitions=1))


def test_missing_column_and_bad_arguments(client2: Any) -> None:
    frame = dd.from_pandas(pd.DataFrame({"u": [1], "item_id": [1]}), npartitions=1)
    with pytest.raises(ValueError, match="column 'user_id' not found"):
        DaskTrainer(client2).train(ImplicitMFScorer(epochs=1), frame)
    with pytest.raises(ValueError, match="mode must be"):
        DaskTrainer(client2, mode="scatter")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="blocks must be"):
        DaskTrainer(client2, blocks=0)
    with pytest.raises(TypeError, match="BiasedMFScorer or ImplicitMFScorer"):
        DaskTrainer(client2).train(object(), frame)
    with pytest.raises(TypeError, match="data must be"):
        DaskTrainer(client2).train(ImplicitMFScorer(epochs=1), [1, 2, 3])
