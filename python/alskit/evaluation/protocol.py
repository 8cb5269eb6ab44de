"""One call that trains a scorer on a split, recommends, predicts and measures."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..als import ALSBase, BiasedMFScorer
from ..bias import BiasModel
from ..data import Dataset, ItemList, RecQuery
from ..progress import steps
from ..training import TrainingOptions
from . import metrics
from .splits import TrainTestSplit, sample_users

RANKING_METRICS = {
    "NDCG": metrics.ndcg,
    "Recall": metrics.recall,
    "Precision": metrics.precision,
    "RBP": metrics.rbp,
    "Hit": metrics.hit,
    "RecipRank": metrics.reciprocal_rank,
}


class GlobalMetrics(dict[str, float]):
    """Global metric values by name; also callable, as LensKit's
    ``RunAnalysisResult.global_metrics()``, for them as a pandas Series."""

    def __call__(self) -> Any:
        import pandas as pd

        return pd.Series(dict(self), dtype=np.float64)


@dataclass
class Measurement:
    """Per-user metric values, global prediction errors and timings of one run, and what
    they were measured on: the list length ``n``, the number of users measured
    (``test_users``, those with something held out), of held-out interactions
    (``test_interactions``) and of training interactions (``train_interactions``).

    It also reads as LensKit's ``RunAnalysisResult``: :meth:`list_metrics`,
    :meth:`list_summary` and ``global_metrics()``. ``users`` holds the user id of each
    per-user entry (None: positions)."""

    per_user: dict[str, np.ndarray[Any, Any]] = field(default_factory=dict)
    global_metrics: GlobalMetrics = field(default_factory=GlobalMetrics)
    seconds: dict[str, float] = field(default_factory=dict)
    n: int = 0
    test_users: int = 0
    test_interactions: int = 0
    train_interactions: int = 0
    users: np.ndarray[Any, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.global_metrics, GlobalMetrics):
            self.global_metrics = GlobalMetrics(self.global_metrics)

    def list_metrics(self, fill_missing: bool = True) -> Any:
        """Per-user metrics as a DataFrame, one row per test user (indexed by ``user_id``),
        one column per metric. ``fill_missing`` fills a ranking metric LensKit would not
        leave undefined with its default, 0 (rating errors stay NaN)."""
        import pandas as pd

        index = pd.Index(self.users, name="user_id") if self.users is not None else None
        frame = pd.DataFrame(self.per_user, index=index)
        if fill_missing:
            frame = frame.fillna({name: 0.0 for name in frame.columns if name in RANKING_METRICS})
        return frame

    def list_summary(self, *keys: str) -> Any:
        """Mean, median and (sample) standard deviation of each per-user metric: one row
        per metric (index ``metric``), as LensKit's ``list_summary()``."""
        if keys:
            raise ValueError("a Measurement holds one run: it has no grouping keys")
        summary = self.list_metrics(fill_missing=True).agg(["mean", "median", "std"]).T
        summary.index.name = "metric"
        return summary

    def summary(self) -> dict[str, float]:
        """Per-user means (e.g. ``NDCG``, ``RMSE``) plus global ones (``global_MAE``)."""
        out = {name: float(np.nanmean(v)) for name, v in self.per_user.items()}
        out.update({f"global_{k}": v for k, v in self.global_metrics.items()})
        return out


def recommend_unrated(scorer: ALSBase, train: Dataset, user_id: Any, n: int) -> ItemList:
    """Top-n over the items the user has not rated in training, with the history folded in
    as LensKit's pipeline does (history lookup → candidates → scorer → top-n)."""
    history = train.user_row(user_id)
    all_items = train.items.ids()
    if history is not None and len(history):
        candidates = all_items[~np.isin(all_items, history.ids())]
    else:
        candidates = all_items
    scored = scorer(RecQuery(user_id, history), ItemList(candidates))
    scores = scored.scores()
    assert scores is not None
    valid = np.flatnonzero(~np.isnan(scores))
    # Best first; ties broken by candidate order (stable), so results are deterministic.
    top = valid[np.argsort(-scores[valid], kind="stable")[:n]]
    return ItemList(candidates[top], scores=scores[top])


def measure(
    scorer: ALSBase,
    data: Dataset,
    *,
    split: TrainTestSplit | None = None,
    n_users: int | None = None,
    holdout: float | int = 0.2,
    n: int = 20,
    predicts_ratings: bool | None = None,
    rng: Any = 42,
    threads: int | None = None,
    progress: bool | None = None,
) -> Measurement:
    """Train ``scorer`` and measure top-``n`` accuracy (and rating error for rating data).

    The default split is LensKit's: a fifth of the users, 20% of each one's ratings held
    out. Rating predictions fall back to a bias model (damping 0) where the scorer gives NaN.
    ``progress``: progress bars for training and measuring (``None``: only on a terminal).
    """
    result = Measurement(n=n)
    gen = np.random.default_rng(rng)
    if split is None:
        count = n_users if n_users is not None else max(1, data.user_count // 5)
        split = sample_users(data, count, holdout, gen)
    # A test user with nothing held out has nothing to measure: counted, it would score 0 for
    # Hit/RecipRank/RBP and NaN for the rest, biasing the means.
    tested = {user: truth for user, truth in split.test.items() if len(truth)}
    if not tested:
        raise ValueError(
            f"nothing to evaluate: the split holds out none of the {data.interaction_count} "
            "interactions (too few per test user)"
        )
    result.test_users = len(tested)
    result.test_interactions = sum(len(truth) for truth in tested.values())
    result.train_interactions = split.train.interaction_count
    if predicts_ratings is None:
        predicts_ratings = isinstance(scorer, BiasedMFScorer) and split.train.ratings is not None

    start = time.perf_counter()
    scorer.train(split.train, TrainingOptions(rng=gen, threads=threads, progress=progress))
    result.seconds["train"] = time.perf_counter() - start

    start = time.perf_counter()
    values: dict[str, list[float]] = {name: [] for name in RANKING_METRICS}
    for user_id, truth in steps(tested.items(), len(tested), "recommending", "user", progress):
        recs = recommend_unrated(scorer, split.train, user_id, n).ids()
        for name, metric in RANKING_METRICS.items():
            values[name].append(metric(recs, truth.ids()))
    result.seconds["recommend"] = time.perf_counter() - start

    if predicts_ratings:
        start = time.perf_counter()
        fallback = BiasModel.learn(split.train, 0.0)
        errors: list[np.ndarray[Any, Any]] = []
        values["RMSE"], values["MAE"] = [], []
        for user_id, truth in tested.items():
            ratings = truth.field("rating")
            assert ratings is not None
            history = split.train.user_row(user_id)
            predicted = scorer(RecQuery(user_id, history), ItemList(truth.ids())).scores()
            assert predicted is not None
            missing = np.isnan(predicted)
            if missing.any():
                base, _ = fallback.compute_for_items(
                    ItemList(truth.ids()), user_id, history, users=split.train.users
                )
                predicted = np.where(missing, base, predicted)
            values["RMSE"].append(metrics.rmse(predicted, ratings))
            values["MAE"].append(metrics.mae(predicted, ratings))
            errors.append(predicted - ratings)
        all_errors = np.concatenate(errors)
        result.global_metrics["RMSE"] = float(np.sqrt(np.mean(all_errors**2)))
        result.global_metrics["MAE"] = float(np.mean(np.abs(all_errors)))
        result.seconds["predict"] = time.perf_counter() - start

    result.per_user = {name: np.asarray(v, dtype=np.float64) for name, v in values.items()}
    result.users = np.asarray(list(tested))
    return result
