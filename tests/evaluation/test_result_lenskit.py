"""Measurement read as LensKit's RunAnalysisResult: list_metrics(), list_summary(),
global_metrics()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alskit import BiasedMFScorer
from alskit.evaluation import Measurement, measure
from alskit.synthetic import generate


@pytest.fixture
def result() -> Measurement:
    return Measurement(
        per_user={
            "NDCG": np.array([0.5, np.nan, 1.0]),
            "Hit": np.array([1.0, 0.0, 1.0]),
            "RMSE": np.array([0.8, np.nan, 1.2]),
        },
        global_metrics={"RMSE": 0.9, "MAE": 0.7},
        n=10,
        users=np.array([7, 3, 9]),
    )


def test_list_metrics_one_row_per_user(result: Measurement) -> None:
    frame = result.list_metrics()
    assert isinstance(frame, pd.DataFrame)
    assert frame.index.name == "user_id" and frame.index.tolist() == [7, 3, 9]
    assert list(frame.columns) == ["NDCG", "Hit", "RMSE"]
    # ranking metrics default to 0 where undefined (LensKit's metric defaults); errors stay NaN
    assert frame.loc[3, "NDCG"] == 0.0 and np.isnan(frame.loc[3, "RMSE"])
    raw = result.list_metrics(fill_missing=False)
    assert np.isnan(raw.loc[3, "NDCG"])


def test_list_summary_mean_median_std(result: Measurement) -> None:
    summary = result.list_summary()
    assert summary.index.name == "metric" and summary.index.tolist() == ["NDCG", "Hit", "RMSE"]
    assert list(summary.columns) == ["mean", "median", "std"]
    assert summary.loc["NDCG", "mean"] == pytest.approx(0.5)
    assert summary.loc["Hit", "median"] == 1.0
    assert summary.loc["Hit", "std"] == pytest.approx(np.std([1.0, 0.0, 1.0], ddof=1))
    with pytest.raises(ValueError, match="grouping keys"):
        result.list_summary("model")


def test_global_metrics_is_a_series_and_a_dict(result: Measurement) -> None:
    series = result.global_metrics()
    assert isinstance(series, pd.Series) and series.to_dict() == {"RMSE": 0.9, "MAE": 0.7}
    assert result.global_metrics["RMSE"] == 0.9  # alskit's dict access still works
    assert Measurement().global_metrics().empty


def test_measure_fills_the_user_ids() -> None:
    data = generate("tiny", kind="explicit", seed=2)
    out = measure(BiasedMFScorer(features=4, epochs=2), data, rng=1, threads=1, n=5)
    frame = out.list_metrics()
    assert len(frame) == out.test_users
    assert set(frame.index) <= set(data.users.ids().tolist())
    assert {"NDCG", "RMSE"} <= set(frame.columns)
    assert out.global_metrics().index.tolist() == ["RMSE", "MAE"]
