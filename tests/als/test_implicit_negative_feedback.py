"""Negative ratings in ImplicitMFScorer(use_ratings=True) (issue 14).

By default they are refused: confidence 1 + w·r < 1 would rank a user's most disliked items
first. With ``negative_feedback=True`` a rating r has preference [r > 0] and confidence
1 + w·|r| (the reading of implicit and Spark MLlib), checked here against a dense reference.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref
from alskit import Dataset, ImplicitMFScorer, ItemList, TrainingOptions

SEED = 11
K = 4
W = 2.0
N_USERS, N_ITEMS = 30, 20


def make_data() -> Dataset:
    """Ratings in {-3, …, 3} (0 included); the last user and item have no interactions."""
    rng = np.random.default_rng(3)
    n = 260
    users = rng.integers(0, N_USERS - 1, n)
    items = rng.integers(0, N_ITEMS - 1, n)
    ratings = rng.integers(-3, 4, n).astype(np.float64)
    return Dataset.from_arrays(
        users, items, ratings, users=np.arange(N_USERS), items=np.arange(N_ITEMS),
        duplicates="last",
    )  # fmt: skip


def ref_half(r: np.ndarray, mask: np.ndarray, fixed: np.ndarray, reg: float) -> np.ndarray:
    """Σ_i c (π − p·q)² + λ‖p‖² over all items, c = 1 + w|r|, π = [r > 0] on observed cells and
    c = 1, π = 0 elsewhere; solved densely per row (empty rows → 0)."""
    k = fixed.shape[1]
    out = np.zeros((r.shape[0], k))
    for u in range(r.shape[0]):
        if not mask[u].any():
            continue
        c = np.where(mask[u], 1 + W * np.abs(r[u]), 1.0)
        pref = np.where(mask[u] & (r[u] > 0), 1.0, 0.0)
        a = (fixed.T * c) @ fixed + reg * np.eye(k)
        out[u] = np.linalg.solve(a, (c * pref) @ fixed)
    return out


def options() -> TrainingOptions:
    return TrainingOptions(rng=SEED, threads=1, progress=False)


def test_negative_ratings_are_refused_by_default() -> None:
    """Regression: these used to train silently, ranking disliked items first."""
    data = make_data()
    model = ImplicitMFScorer(features=K, epochs=2, use_ratings=True, weight=W)
    with pytest.raises(
        ValueError, match=r"use_ratings=True with negative ratings.*negative_feedback"
    ):
        model.train(data, options())


def test_negative_rating_in_a_fold_in_history_is_refused() -> None:
    data = make_data()
    r = np.abs(data.ratings)
    positive = Dataset.from_arrays(
        data.users.ids()[data.user_nums], data.items.ids()[data.item_nums], r
    )
    model = ImplicitMFScorer(features=K, epochs=2, use_ratings=True, weight=W)
    model.train(positive, options())
    with pytest.raises(ValueError, match="negative_feedback"):
        model.fold_in_users([ItemList([1, 2], rating=[2.0, -1.0])])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_negative_feedback_matches_dense_reference(dtype: str) -> None:
    data = make_data()
    epochs = 3
    model = ImplicitMFScorer(
        features=K, epochs=epochs, use_ratings=True, negative_feedback=True, weight=W,
        dtype=dtype, regularization=0.1,
    )  # fmt: skip
    model.train(data, options())
    # The initial factors, as ALSBase draws them (items first, then users).
    rng = np.random.default_rng(SEED)
    q = model.initial_params(data.item_count, K, rng).astype(dtype).astype(np.float64)
    p = model.initial_params(data.user_count, K, rng).astype(dtype).astype(np.float64)
    r, mask = ref.dense_ratings(data)
    for _ in range(epochs):
        p = ref_half(r, mask, q, 0.1)
        q = ref_half(r.T, mask.T, p, 0.1)
    rtol = 1e-3 if dtype == "float32" else 1e-8
    assert model.user_features_ is not None
    np.testing.assert_allclose(model.user_features_, p, rtol=rtol, atol=rtol * np.abs(p).max())
    np.testing.assert_allclose(model.item_features_, q, rtol=rtol, atol=rtol * np.abs(q).max())

    # Fold-in: one dense row solve against the final item factors, with λ_user.
    history = ItemList([1, 4, 9, 12], rating=[3.0, -2.0, 0.0, 1.0])
    emb, _ = model.new_user_embedding(None, history)
    row_r = np.zeros(N_ITEMS)
    row_m = np.zeros(N_ITEMS, dtype=bool)
    row_r[[1, 4, 9, 12]] = [3.0, -2.0, 0.0, 1.0]
    row_m[[1, 4, 9, 12]] = True
    want = ref_half(row_r[None], row_m[None], model.item_features_.astype(np.float64), 0.1)[0]
    np.testing.assert_allclose(emb, want, rtol=rtol, atol=rtol * np.abs(want).max())


def test_a_dislike_pulls_the_score_towards_zero() -> None:
    """Adding a dislike of item j to a history shrinks s = p·q_j towards 0 (Sherman-Morrison:
    s' = s / (1 + Δc·q_jᵀA⁻¹q_j)); a like of the same item scores higher. The bug's symptom
    was the opposite: confidence below 1 with preference 1 put disliked items on top."""
    data = make_data()
    model = ImplicitMFScorer(
        features=K, epochs=5, use_ratings=True, negative_feedback=True, weight=W
    )
    model.train(data, options())
    base = ([1, 2, 3], [3.0, 3.0, 3.0])
    without = model(ItemList(*base[:1], rating=base[1]), [4]).scores()
    disliked = model(ItemList([*base[0], 4], rating=[*base[1], -3.0]), [4]).scores()
    liked = model(ItemList([*base[0], 4], rating=[*base[1], 3.0]), [4]).scores()
    assert without is not None and disliked is not None and liked is not None
    assert abs(disliked[0]) < abs(without[0])
    assert liked[0] > disliked[0]


def test_without_negatives_negative_feedback_changes_only_zero_ratings() -> None:
    """Positive ratings train identically in both modes (bit for bit)."""
    data = make_data()
    r = np.abs(data.ratings) + 1  # ≥ 1: no zero or negative ratings
    ids = data.users.ids()[data.user_nums], data.items.ids()[data.item_nums]
    positive = Dataset.from_arrays(*ids, r)
    a = ImplicitMFScorer(features=K, epochs=2, use_ratings=True, weight=W)
    b = ImplicitMFScorer(features=K, epochs=2, use_ratings=True, weight=W, negative_feedback=True)
    a.train(positive, options())
    b.train(positive, options())
    assert np.array_equal(a.item_features_, b.item_features_)
