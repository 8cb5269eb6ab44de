"""One call that trains a scorer on a split, recommends, predicts and measures."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._threads import resolve_threads
from ..als import ALSBase
from ..bias import BiasModel
from ..data import Dataset, ItemList
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
    return recommend_unrated_batch(scorer, train, [user_id], n)[0]


def recommend_unrated_batch(
    scorer: ALSBase,
    train: Dataset,
    user_ids: Sequence[Any],
    n: int,
    threads: int = 1,
    histories: Sequence[ItemList | None] | None = None,
) -> list[ItemList]:
    """:func:`recommend_unrated` for many users in one native batch (fold-in, top-N): best
    first, ties broken by item number, items without a score left out. ``histories``: the
    users' rows of ``train``, if already at hand."""
    if histories is None:
        histories = [train.user_row(user_id) for user_id in user_ids]
    user_nums = scorer.users_.numbers(np.asarray(user_ids), missing="negative")
    candidates = None
    if train.items != scorer.items_:  # candidates: the training items the scorer knows
        known = scorer.items_.numbers(train.items.ids(), missing="negative")
        candidates = np.unique(known[known >= 0]).astype(np.int32)
    with scorer._reading() as model:  # (the model as it was, should another thread train it)
        items, scores = model._recommend_queries(
            user_nums, histories, n, threads, candidates=candidates
        )
    ids = scorer.items_.ids()
    out = []
    for row_items, row_scores in zip(items, scores, strict=True):
        filled = row_items >= 0
        out.append(ItemList(ids[row_items[filled]], scores=row_scores[filled]))
    return out


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
        predicts_ratings = type(scorer).predicts_ratings and split.train.ratings is not None

    start = time.perf_counter()
    scorer.train(split.train, TrainingOptions(rng=gen, threads=threads, progress=progress))
    result.seconds["train"] = time.perf_counter() - start
    _measure_trained(scorer, split.train, tested, result, predicts_ratings, threads, progress)
    return result


def _measure_trained(
    scorer: ALSBase,
    train: Dataset,
    tested: dict[Any, ItemList],
    result: Measurement,
    predicts_ratings: bool,
    threads: int | None,
    progress: bool | None,
) -> None:
    """The measuring half of :func:`measure`, for a scorer trained on ``train``: top-n lists
    and (``predicts_ratings``) rating predictions for the ``tested`` users in one batch each
    (one fold-in and native top-N; one batch of pair scores); the metrics into ``result``."""
    n = result.n
    start = time.perf_counter()
    nthreads = resolve_threads(threads)
    user_ids = list(tested)
    histories = [train.user_row(user_id) for user_id in user_ids]
    lists = recommend_unrated_batch(scorer, train, user_ids, n, nthreads, histories)
    values: dict[str, list[float]] = {name: [] for name in RANKING_METRICS}
    measured = zip(lists, tested.values(), strict=True)
    for recs, truth in steps(measured, len(tested), "measuring", "user", progress):
        for name, value in metrics.ranking_metrics(recs.ids(), truth.ids()).items():
            values[name].append(value)
    result.seconds["recommend"] = time.perf_counter() - start

    if predicts_ratings:
        start = time.perf_counter()
        fallback = BiasModel.learn(train, 0.0)
        errors: list[np.ndarray[Any, Any]] = []
        values["RMSE"], values["MAE"] = [], []
        all_predicted = scorer._score_queries(  # (trained just now in this thread)
            scorer.users_.numbers(np.asarray(user_ids), missing="negative"),
            histories,
            [truth.numbers(scorer.items_, missing="negative") for truth in tested.values()],
            nthreads,
        )
        for user_id, truth, history, predicted in zip(
            user_ids, tested.values(), histories, all_predicted, strict=True
        ):
            ratings = truth.field("rating")
            assert ratings is not None
            missing = np.isnan(predicted)
            if missing.any():
                base, _ = fallback.compute_for_items(
                    ItemList(truth.ids()), user_id, history, users=train.users
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
    result.users = np.asarray(user_ids)
