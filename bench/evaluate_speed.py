"""evaluation.measure's measuring half: the batch path (one fold-in batch and the native top-N
for all test users, one batch of pair scores for RMSE) against the per-user Python loop it
replaced (kept here, only for this comparison), side by side in one run, on the same trained
model and split. MovieLens-1M shape by default (LensKit's protocol: a fifth of the users, 20%
of each one's ratings held out, top-20).

Reported per scorer: median seconds of --repeats runs of each path, the ratio (> 1: the batch
path is faster) and the largest difference between the two paths' per-user metrics.

    python bench/evaluate_speed.py --shape medium --k 50 --threads 2
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import alskit
from alskit.bias import BiasModel
from alskit.data import Dataset, ItemList, RecQuery
from alskit.evaluation import metrics, sample_users
from alskit.evaluation.protocol import RANKING_METRICS, Measurement, _measure_trained
from alskit.synthetic import generate


def per_user_loop(
    scorer: alskit.ALSBase, train: Dataset, tested: dict[Any, ItemList], n: int, ratings: bool
) -> dict[str, list[float]]:
    """The measuring loop before the batch path (one user at a time: __call__ then argsort)."""
    values: dict[str, list[float]] = {name: [] for name in RANKING_METRICS}
    all_items = train.items.ids()
    for user_id, truth in tested.items():
        history = train.user_row(user_id)
        candidates = all_items
        if history is not None and len(history):
            candidates = all_items[~np.isin(all_items, history.ids())]
        scored = scorer(RecQuery(user_id, history), ItemList(candidates))
        scores = scored.scores()
        assert scores is not None
        valid = np.flatnonzero(~np.isnan(scores))
        recs = candidates[valid[np.argsort(-scores[valid], kind="stable")[:n]]]
        for name, metric in RANKING_METRICS.items():
            values[name].append(metric(recs, truth.ids()))
    if ratings:
        fallback = BiasModel.learn(train, 0.0)
        values["RMSE"], values["MAE"] = [], []
        for user_id, truth in tested.items():
            rated = truth.field("rating")
            assert rated is not None
            history = train.user_row(user_id)
            predicted = scorer(RecQuery(user_id, history), ItemList(truth.ids())).scores()
            assert predicted is not None
            missing = np.isnan(predicted)
            if missing.any():
                base, _ = fallback.compute_for_items(
                    ItemList(truth.ids()), user_id, history, users=train.users
                )
                predicted = np.where(missing, base, predicted)
            values["RMSE"].append(metrics.rmse(predicted, rated))
            values["MAE"].append(metrics.mae(predicted, rated))
    return values


def batch_path(
    scorer: alskit.ALSBase,
    train: Dataset,
    tested: dict[Any, ItemList],
    n: int,
    ratings: bool,
    threads: int,
) -> dict[str, Any]:
    """What measure() now does after training (alskit.evaluation.protocol)."""
    result = Measurement(n=n)
    _measure_trained(scorer, train, tested, result, ratings, threads, False)
    return result.per_user


def median_seconds(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="medium", choices=sorted(alskit.synthetic.SHAPES))
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    data = generate(args.shape, kind="explicit", seed=1)
    split = sample_users(data, max(1, data.user_count // 5), 0.2, np.random.default_rng(7))
    tested = {user: truth for user, truth in split.test.items() if len(truth)}
    print(
        f"{args.shape}: {data.user_count} users x {data.item_count} items, "
        f"{data.interaction_count} ratings; {len(tested)} test users, top-{args.n}, "
        f"k={args.k}, {args.threads} threads, median of {args.repeats}"
    )
    header = ("scorer", "per-user loop", "batch path", "ratio", "max |Δ metric|")
    print(f"{header[0]:<22} {header[1]:>14} {header[2]:>11} {header[3]:>7} {header[4]:>15}")
    for label, scorer in (
        (
            "BiasedMF float64",
            alskit.BiasedMFScorer(features=args.k, epochs=args.epochs, dtype="float64"),
        ),
        (
            "BiasedMF float32",
            alskit.BiasedMFScorer(features=args.k, epochs=args.epochs, dtype="float32"),
        ),
        (
            "ImplicitMF float32",
            alskit.ImplicitMFScorer(features=args.k, epochs=args.epochs, dtype="float32"),
        ),
    ):
        scorer.train(
            split.train, alskit.TrainingOptions(rng=3, threads=args.threads, progress=False)
        )
        ratings = type(scorer).predicts_ratings
        old_s, old = median_seconds(
            functools.partial(per_user_loop, scorer, split.train, tested, args.n, ratings),
            args.repeats,
        )
        new_s, new = median_seconds(
            functools.partial(
                batch_path, scorer, split.train, tested, args.n, ratings, args.threads
            ),
            args.repeats,
        )
        delta = max(float(np.max(np.abs(np.asarray(old[m]) - new[m]))) for m in new)
        print(f"{label:<22} {old_s:>12.3f} s {new_s:>9.3f} s {old_s / new_s:>6.1f}x {delta:>15.2g}")


if __name__ == "__main__":
    main()
