"""Accuracy on MovieLens 100K with LensKit's protocol and its 2025.1 thresholds.

A fifth of the users are sampled; 20% of each sampled user's ratings are held out; the
scorer trains on everything else, recommends top-20 over the items each test user has not
rated, and predicts the held-out ratings (bias-model fallback where it gives NaN).
"""

from __future__ import annotations

from typing import Any

import pytest

import alskit
from alskit.evaluation import measure

EXPLICIT_CONFIGS = [{"features": 25, "epochs": 20, "damping": 5}, {}]
IMPLICIT_CONFIGS = [{"features": 25, "epochs": 20}, {}]


@pytest.mark.parametrize("options", EXPLICIT_CONFIGS, ids=["lenskit-test", "default"])
def test_biased_mf_rating_accuracy(ml100k: Any, options: dict[str, Any]) -> None:
    result = measure(alskit.BiasedMFScorer(**options), ml100k, rng=42)
    summary = result.summary()
    print(
        f"\nBiasedMF {options or 'default'}: global MAE {summary['global_MAE']:.4f}, "
        f"per-user RMSE {summary['RMSE']:.4f}, NDCG {summary['NDCG']:.4f}"
    )
    assert len(result.per_user["RMSE"]) == ml100k.user_count // 5
    assert summary["global_MAE"] <= 0.775
    assert summary["RMSE"] <= 0.99


@pytest.mark.parametrize("options", IMPLICIT_CONFIGS, ids=["lenskit-test", "default"])
def test_implicit_mf_ranking_accuracy(ml100k: Any, options: dict[str, Any]) -> None:
    result = measure(alskit.ImplicitMFScorer(**options), ml100k, rng=42)
    summary = result.summary()
    print(
        f"\nImplicitMF {options or 'default'}: per-user NDCG {summary['NDCG']:.4f}, "
        f"Recall {summary['Recall']:.4f}, RecipRank {summary['RecipRank']:.4f}"
    )
    assert summary["NDCG"] >= 0.22


def test_implicit_cg_matches_accuracy(ml100k: Any) -> None:
    """The conjugate-gradient solver reaches the same accuracy band as Cholesky."""
    result = measure(
        alskit.ImplicitMFScorer(features=25, epochs=20, solver="cg", dtype="float32"),
        ml100k,
        rng=42,
    )
    ndcg = result.summary()["NDCG"]
    print(f"\nImplicitMF cg float32: per-user NDCG {ndcg:.4f}")
    assert ndcg >= 0.22
