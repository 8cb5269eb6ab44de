"""Offline evaluation: holdout splits, LensKit-compatible metrics, and a one-call protocol."""

from .metrics import hit, mae, ndcg, precision, rbp, recall, reciprocal_rank, rmse
from .protocol import Measurement, measure, recommend_unrated
from .splits import TrainTestSplit, holdout_users, sample_users, temporal_split

__all__ = [
    "Measurement",
    "TrainTestSplit",
    "hit",
    "holdout_users",
    "mae",
    "measure",
    "ndcg",
    "precision",
    "rbp",
    "recall",
    "reciprocal_rank",
    "recommend_unrated",
    "rmse",
    "sample_users",
    "temporal_split",
]
