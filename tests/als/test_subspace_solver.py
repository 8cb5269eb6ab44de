"""ImplicitMFScorer(solver="subspace"): iALS++ (Rendle et al. 2021) through the scorer: the
config's block_size and sweeps, the same loss as Cholesky (quality on MovieLens 100K, the
exact solution as sweeps grow), exact fold-in, determinism."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

import alskit
from alskit import ImplicitMFConfig, ImplicitMFScorer, TrainingOptions
from alskit.evaluation import measure


def small_data(seed: int = 3) -> alskit.Dataset:
    rng = np.random.default_rng(seed)
    n = 600
    return alskit.Dataset.from_arrays(
        rng.integers(0, 60, n), rng.integers(0, 40, n), duplicates="last"
    )


def trained(**options: Any) -> ImplicitMFScorer:
    model = ImplicitMFScorer(features=10, epochs=3, **options)
    model.train(small_data(), TrainingOptions(rng=5, threads=2, progress=False))
    return model


@pytest.mark.parametrize("k", [50, 100])
def test_quality_matches_cholesky_on_ml100k(ml100k: Any, k: int) -> None:
    """After the same epochs, NDCG@10 over every user no more than 0.005 below the Cholesky
    solver's (the default block size, one sweep). One-sided: at k = 100 one sweep scores
    higher than the exact solve (by 0.004 to 0.012 over five seeds, 0.008 on average; at
    k = 50 by −0.001 to 0.005), plausibly because an inexact solve regularizes; not studied."""
    ndcg = {}
    for solver in ("cholesky", "subspace"):
        model = ImplicitMFScorer(features=k, epochs=20, solver=solver)
        result = measure(model, ml100k, n=10, rng=42, n_users=ml100k.user_count, progress=False)
        ndcg[solver] = result.summary()["NDCG"]
    print(f"\nk={k}: NDCG@10 cholesky {ndcg['cholesky']:.4f}, subspace {ndcg['subspace']:.4f}")
    assert ndcg["subspace"] >= ndcg["cholesky"] - 0.005, ndcg


def test_more_sweeps_reach_the_cholesky_model() -> None:
    """Each half-epoch solves the same normal equations: with enough sweeps every half-epoch
    is the exact solve, so training gives the Cholesky model. (Block coordinate descent
    converges at a rate set by the systems' conditioning: a small confidence weight keeps
    the number of sweeps this needs small.)"""
    exact = trained(dtype="float64", weight=2.0)
    errors = []
    for sweeps in (1, 10, 400):
        model = trained(solver="subspace", block_size=3, sweeps=sweeps, dtype="float64", weight=2.0)
        diff = np.linalg.norm(model.item_features_ - exact.item_features_)
        errors.append(diff / np.linalg.norm(exact.item_features_))
    assert errors[0] > errors[1] > errors[2], errors
    assert errors[-1] < 1e-10, errors


def test_a_block_of_every_coordinate_is_cholesky() -> None:
    exact = trained(dtype="float64")
    whole = trained(solver="subspace", block_size=10, dtype="float64")
    np.testing.assert_allclose(whole.item_features_, exact.item_features_, rtol=1e-8, atol=1e-12)


def test_fold_in_is_exact() -> None:
    """A new user is folded in by the exact solve against the trained items, whatever the
    training solver."""
    model = trained(solver="subspace", block_size=4, dtype="float64")
    q = model.item_features_
    history = alskit.ItemList([1, 4, 9])
    cols = model.items_.numbers([1, 4, 9])
    gram = q.T @ q + 0.1 * np.eye(10)
    qi = q[cols]
    want = np.linalg.solve(gram + 40.0 * qi.T @ qi, 41.0 * qi.sum(axis=0))
    emb, _ = model.new_user_embedding(None, history)
    np.testing.assert_allclose(emb, want, rtol=1e-9)


def test_thread_count_does_not_change_the_model() -> None:
    models = []
    for threads in (1, 2, 3):
        model = ImplicitMFScorer(features=10, epochs=2, solver="subspace", block_size=4)
        model.train(small_data(), TrainingOptions(rng=5, threads=threads, progress=False))
        models.append(model)
    for other in models[1:]:
        assert np.array_equal(other.item_features_, models[0].item_features_)
        assert np.array_equal(other.user_features_, models[0].user_features_)


def test_save_and_load_keep_the_solver(tmp_path: Any) -> None:
    model = trained(solver="subspace", block_size=4, sweeps=2)
    model.save(tmp_path / "m.alskit")
    back = alskit.load(tmp_path / "m.alskit")
    assert (back.config.solver, back.config.block_size, back.config.sweeps) == ("subspace", 4, 2)
    np.testing.assert_array_equal(back.item_features_, model.item_features_)


@pytest.mark.parametrize(
    ("field", "value"),
    [("block_size", 0), ("block_size", True), ("block_size", 2.5), ("sweeps", 0),
     ("sweeps", False), ("block_size", 100_001), ("sweeps", 10_001)],
)  # fmt: skip
def test_bad_subspace_options_are_named(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=field):
        ImplicitMFConfig(solver="subspace", **{field: value})
