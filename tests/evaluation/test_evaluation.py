"""alskit.evaluation: LensKit-compatible metrics, seeded holdout splits, and measure().

Metric values are computed by hand from the LensKit definitions: binary gains, discount
1 / max(log2 rank, 1), ideal DCG over min(|relevant|, k) items (all relevant items when
k is None), Recall over min(|relevant|, k), Precision over the (truncated) list length,
RBP = (1 − γ) Σ γ^(rank − 1) over hits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from alskit import BiasedMFScorer, Dataset, ImplicitMFScorer
from alskit.evaluation import (
    TrainTestSplit,
    hit,
    holdout_users,
    mae,
    measure,
    ndcg,
    precision,
    rbp,
    recall,
    reciprocal_rank,
    recommend_unrated,
    rmse,
    sample_users,
)
from alskit.synthetic import generate

RECS = [10, 20, 30, 40, 50]
RELEVANT = [20, 40, 99]  # hits at ranks 2 and 4; 99 never recommended


# ---- ranking metrics -----------------------------------------------------------------------


def test_ndcg_by_hand() -> None:
    dcg = 1 / 1 + 1 / math.log2(4)  # rank 2 is undiscounted: max(log2 2, 1) = 1
    ideal_all = 1 + 1 + 1 / math.log2(3)  # three relevant items
    assert ndcg(RECS, RELEVANT) == pytest.approx(dcg / ideal_all)
    assert ndcg(RECS, RELEVANT, k=2) == pytest.approx(1 / 2)  # one hit; ideal 2 items
    assert ndcg(RECS, RELEVANT, k=10) == pytest.approx(dcg / ideal_all)
    # Ideal over all relevant items even when the list is shorter than that.
    assert ndcg([20], RELEVANT) == pytest.approx(1 / ideal_all)
    assert ndcg([20, 40], [20, 40]) == pytest.approx(1.0)
    assert ndcg([1, 2, 3, 20], [20]) == pytest.approx(1 / 2)  # rank 4: 1 / log2 4
    assert ndcg([1, 2, 3], [20]) == 0.0
    assert math.isnan(ndcg(RECS, []))


def test_ndcg_discount_ranks_one_and_two_equal() -> None:
    assert ndcg([5, 1], [5]) == ndcg([1, 5], [5]) == 1.0
    assert ndcg([1, 2, 5], [5]) == pytest.approx(1 / math.log2(3))


def test_recall_by_hand() -> None:
    assert recall(RECS, RELEVANT) == pytest.approx(2 / 3)
    assert recall(RECS, RELEVANT, k=2) == pytest.approx(1 / 2)  # over min(3, 2)
    assert recall(RECS, RELEVANT, k=3) == pytest.approx(1 / 3)
    assert recall(RECS, RELEVANT, k=10) == pytest.approx(2 / 3)
    assert recall([], RELEVANT) == 0.0


def test_precision_by_hand() -> None:
    assert precision(RECS, RELEVANT) == pytest.approx(2 / 5)
    assert precision(RECS, RELEVANT, k=2) == pytest.approx(1 / 2)
    assert precision(RECS, RELEVANT, k=4) == pytest.approx(2 / 4)
    # A list shorter than k: over its own length (as LensKit).
    assert precision(RECS, RELEVANT, k=10) == pytest.approx(2 / 5)
    assert math.isnan(precision([], RELEVANT))


def test_rbp_by_hand() -> None:
    assert rbp(RECS, RELEVANT) == pytest.approx(0.15 * (0.85**1 + 0.85**3))
    assert rbp(RECS, RELEVANT, k=3) == pytest.approx(0.15 * 0.85)
    assert rbp(RECS, RELEVANT, patience=0.5) == pytest.approx(0.5 * (0.5 + 0.5**3))
    assert rbp([20], [20]) == pytest.approx(0.15)
    assert rbp([1, 2], [20]) == 0.0


def test_hit_and_reciprocal_rank_by_hand() -> None:
    assert hit(RECS, RELEVANT) == 1.0
    assert hit(RECS, RELEVANT, k=1) == 0.0
    assert hit(RECS, RELEVANT, k=2) == 1.0
    assert hit([1, 2], RELEVANT) == 0.0
    assert reciprocal_rank(RECS, RELEVANT) == pytest.approx(1 / 2)
    assert reciprocal_rank(RECS, RELEVANT, k=1) == 0.0
    assert reciprocal_rank([40, 20], RELEVANT) == 1.0
    assert reciprocal_rank([1, 2, 3], RELEVANT) == 0.0


def test_metrics_accept_string_ids_and_arrays() -> None:
    recs = np.array(["a", "b", "c"])
    assert recall(recs, ["c", "z"]) == pytest.approx(1 / 2)
    assert ndcg(recs, np.array(["c"])) == pytest.approx(1 / math.log2(3))


# ---- prediction metrics --------------------------------------------------------------------


def test_rmse_mae_by_hand() -> None:
    predictions, truth = [1.0, 2.0, 3.0], [2.0, 2.0, 5.0]
    assert rmse(predictions, truth) == pytest.approx(math.sqrt(5 / 3))
    assert mae(predictions, truth) == pytest.approx(1.0)
    assert rmse(truth, truth) == 0.0 and mae(truth, truth) == 0.0


@pytest.mark.parametrize("metric", [rmse, mae])
def test_prediction_metrics_of_nothing_are_nan(metric: Any) -> None:
    # A test user with no held-out ratings: NaN (skipped by the summary), no numpy warning.
    assert math.isnan(metric([], []))


@pytest.mark.parametrize("metric", [rmse, mae])
def test_prediction_metrics_reject_nan_and_shape_mismatch(metric: Any) -> None:
    with pytest.raises(ValueError, match="NaN"):
        metric([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="shape"):
        metric([1.0, 2.0], [1.0, 2.0, 3.0])


# ---- splits --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data() -> Dataset:
    return generate("tiny", kind="explicit", seed=2)


def triples(ds: Dataset) -> set[tuple[Any, Any, float]]:
    assert ds.ratings is not None
    users = ds.users.ids(ds.user_nums).tolist()
    items = ds.items.ids(ds.item_nums).tolist()
    return set(zip(users, items, ds.ratings.tolist(), strict=True))


def held_out_triples(split: TrainTestSplit) -> set[tuple[Any, Any, float]]:
    out = set()
    for user_id, held in split.test.items():
        rating = held.field("rating")
        assert rating is not None
        out |= set(zip([user_id] * len(held), held.ids().tolist(), rating.tolist(), strict=True))
    return out


def user_lengths(ds: Dataset) -> dict[Any, int]:
    counts = np.bincount(ds.user_nums, minlength=ds.user_count)
    return dict(zip(ds.users.ids().tolist(), counts.tolist(), strict=True))


def check_partition(data: Dataset, split: TrainTestSplit) -> None:
    """train ∪ test = data, train ∩ test = ∅, vocabularies kept."""
    train, test = triples(split.train), held_out_triples(split)
    assert train.isdisjoint(test)
    assert train | test == triples(data)
    assert len(train) + len(test) == data.interaction_count
    assert split.train.users == data.users and split.train.items == data.items


@pytest.mark.parametrize("holdout", [0.2, 0.5, 3, 10])
def test_sample_users_counts_and_partition(data: Dataset, holdout: float | int) -> None:
    split = sample_users(data, 40, holdout, rng=7)
    assert len(split.test) == 40
    lengths = user_lengths(data)
    for user_id, held in split.test.items():
        n = lengths[user_id]
        want = round(holdout * n) if isinstance(holdout, float) else min(holdout, n)
        assert len(held) == want, (user_id, n)
        assert len(np.unique(held.ids())) == len(held)
    check_partition(data, split)
    # Users not sampled keep all their interactions.
    train_lengths = user_lengths(split.train)
    for user_id, n in lengths.items():
        if user_id not in split.test:
            assert train_lengths[user_id] == n


def test_fraction_rounds_like_python_round() -> None:
    """round() sends halves to even: 0.1·5 → 0, 0.1·15 → 2, 0.1·25 → 2, 0.1·35 → 4."""
    lengths = {1: 5, 2: 15, 3: 25, 4: 35}
    users = np.repeat(list(lengths), list(lengths.values()))
    items = np.concatenate([np.arange(n) for n in lengths.values()])
    ds = Dataset.from_arrays(users, items, np.ones(len(users)))
    split = holdout_users(ds, 0.1, rng=0)
    assert {u: len(held) for u, held in split.test.items()} == {1: 0, 2: 2, 3: 2, 4: 4}
    check_partition(ds, split)


def test_holdout_users_covers_everyone(data: Dataset) -> None:
    split = holdout_users(data, 2, rng=1)
    assert set(split.test) == set(data.users.ids().tolist())
    assert all(len(held) == 2 for held in split.test.values())
    check_partition(data, split)


def test_splits_reproducible_per_seed(data: Dataset) -> None:
    a, b = sample_users(data, 30, 0.2, rng=11), sample_users(data, 30, 0.2, rng=11)
    assert held_out_triples(a) == held_out_triples(b)
    assert list(a.test) == list(b.test)
    c = sample_users(data, 30, 0.2, rng=12)
    assert held_out_triples(a) != held_out_triples(c)
    gen_a = holdout_users(data, 0.2, rng=np.random.default_rng(3))
    gen_b = holdout_users(data, 0.2, rng=3)
    assert held_out_triples(gen_a) == held_out_triples(gen_b)


@pytest.mark.parametrize(
    ("n_users", "holdout"),
    [(0, 0.2), (201, 0.2), (10, 0.0), (10, 1.0), (10, 1.5), (10, 0), (10, True), (10, -2)],
)
def test_split_bad_arguments(data: Dataset, n_users: int, holdout: Any) -> None:
    with pytest.raises(ValueError):
        sample_users(data, n_users, holdout, rng=0)


# ---- measure -------------------------------------------------------------------------------

RANKING = {"NDCG", "Recall", "Precision", "RBP", "Hit", "RecipRank"}


def test_measure_explicit_summary(data: Dataset) -> None:
    model = BiasedMFScorer(features=8, epochs=4)
    result = measure(model, data, rng=3, threads=2, n=10)
    summary = result.summary()
    assert set(summary) == RANKING | {"RMSE", "MAE", "global_RMSE", "global_MAE"}
    for name in RANKING:
        assert 0.0 <= summary[name] <= 1.0, name
        assert len(result.per_user[name]) == data.user_count // 5
    assert summary["Hit"] > 0 and summary["NDCG"] > 0
    assert summary["Precision"] <= summary["Hit"]
    assert summary["RecipRank"] <= summary["Hit"]
    for name in ("RMSE", "MAE", "global_RMSE", "global_MAE"):
        assert 0.3 < summary[name] < 2.0, (name, summary[name])
    assert summary["MAE"] <= summary["RMSE"] + 1e-12
    assert set(result.seconds) == {"train", "recommend", "predict"}
    assert all(v >= 0 for v in result.seconds.values())
    # Same seed, same numbers.
    again = measure(BiasedMFScorer(features=8, epochs=4), data, rng=3, threads=1, n=10)
    assert again.summary() == summary


def test_measure_implicit_summary_and_split() -> None:
    data = generate("tiny", kind="implicit", seed=2)
    split = sample_users(data, 25, 3, rng=4)
    result = measure(ImplicitMFScorer(features=8, epochs=4), data, split=split, n=10, rng=1)
    summary = result.summary()
    assert set(summary) == RANKING
    assert all(len(v) == 25 for v in result.per_user.values())
    assert 0 < summary["NDCG"] <= 1 and 0 < summary["Recall"] <= 1
    assert set(result.seconds) == {"train", "recommend"}


def test_measure_needs_held_out_interactions() -> None:
    # One rating per user: a 20% holdout rounds to nothing, so every metric would be NaN.
    data = Dataset.from_arrays([1, 2, 3], [1, 2, 3], [3.0, 4.0, 5.0])
    with pytest.raises(ValueError, match="holds out none of the 3 interactions"):
        measure(BiasedMFScorer(features=2, epochs=1), data, n_users=3)


def test_measure_with_a_test_user_without_held_out_items() -> None:
    data = Dataset.from_arrays([1] + [2] * 10, [1, *range(10)], [3.0] * 11)
    split = sample_users(data, 2, 0.2, rng=0)
    assert sorted(len(t) for t in split.test.values()) == [0, 2]
    result = measure(BiasedMFScorer(features=2, epochs=1), data, split=split)
    # Only the user with held-out items is measured: the other would score 0 (Hit) or NaN.
    assert all(len(v) == 1 for v in result.per_user.values())
    assert all(np.isfinite(v).all() for v in result.per_user.values())


def test_recommend_unrated_excludes_training_items(data: Dataset) -> None:
    split = sample_users(data, 10, 0.2, rng=5)
    model = BiasedMFScorer(features=4, epochs=2)
    model.train(split.train)
    for user_id in split.test:
        recs = recommend_unrated(model, split.train, user_id, 15)
        history = split.train.user_row(user_id)
        assert history is not None
        assert len(recs) == 15
        assert not np.isin(recs.ids(), history.ids()).any()
        scores = recs.scores()
        assert scores is not None and np.all(np.diff(scores) <= 0)
