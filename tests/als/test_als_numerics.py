"""Whole training runs held to a dense numpy transcription of DESIGN.md §3.

The reference below works on dense float64 matrices with an observation mask and solves one
row at a time with ``np.linalg.solve``, so it can be checked against the formulas by eye.
Each run starts from the scorer's own initial factors, reproduced by calling its
``initial_params`` with an identically seeded generator (items first, then users).
``ml100k`` is the session fixture of ``conftest.py`` (skips when the shared data is absent).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import reference as ref
from alskit import (
    BiasedMFScorer,
    Dataset,
    ImplicitMFScorer,
    ItemList,
    RecQuery,
    TrainingOptions,
)
from alskit.als import ALSBase

SEED = 2024
K = 5
EPOCHS = 3
N_USERS, N_ITEMS = 50, 30
RTOL = {"float32": 1e-4, "float64": 1e-9}


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def make_data(seed: int = 5) -> Dataset:
    """Ratings in {0.5, …, 5}; users 46.. and items 27.. have no interactions."""
    rng = np.random.default_rng(seed)
    n = 500
    users = rng.integers(0, N_USERS - 4, n)
    items = rng.integers(0, N_ITEMS - 3, n)
    ratings = rng.integers(1, 11, n) / 2.0
    return Dataset.from_arrays(
        users,
        items,
        ratings,
        users=np.arange(N_USERS),
        items=np.arange(N_ITEMS),
        duplicates="last",
    )


@pytest.fixture(scope="module")
def data() -> Dataset:
    return make_data()


# ---------------------------------------------------------------------------------------------
# The reference (DESIGN §3)
# ---------------------------------------------------------------------------------------------


def ref_bias(
    r: np.ndarray, mask: np.ndarray, beta_user: float, beta_item: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """b_g = mean; b_i = Σ(r − b_g)/(|R_i| + β_i); b_u = Σ(r − b_g − b_i)/(|R_u| + β_u)."""
    g = float(r[mask].mean())
    bi = np.zeros(r.shape[1])
    for i in range(r.shape[1]):
        rated = mask[:, i]
        if rated.any():
            bi[i] = np.sum(r[rated, i] - g) / (rated.sum() + beta_item)
    bu = np.zeros(r.shape[0])
    for u in range(r.shape[0]):
        rated = mask[u]
        if rated.any():
            bu[u] = np.sum(r[u, rated] - g - bi[rated]) / (rated.sum() + beta_user)
    return g, bi, bu


def ref_explicit_half(
    resid: np.ndarray, mask: np.ndarray, fixed: np.ndarray, reg: float
) -> np.ndarray:
    """ALS-WR: (Q_Iᵀ Q_I + λ·n_u·I) p_u = Q_Iᵀ r̃_u; empty rows → 0."""
    k = fixed.shape[1]
    out = np.zeros((resid.shape[0], k))
    for u in range(resid.shape[0]):
        cols = np.flatnonzero(mask[u])
        if len(cols) == 0:
            continue
        q = fixed[cols]
        out[u] = np.linalg.solve(q.T @ q + reg * len(cols) * np.eye(k), q.T @ resid[u, cols])
    return out


def ref_implicit_half(
    weights: np.ndarray, mask: np.ndarray, fixed: np.ndarray, reg: float
) -> np.ndarray:
    """HKV: (G + Σ v q qᵀ) p_u = Σ (1 + v) q with G = QᵀQ + λI; empty rows → 0."""
    k = fixed.shape[1]
    gram = fixed.T @ fixed + reg * np.eye(k)
    out = np.zeros((weights.shape[0], k))
    for u in range(weights.shape[0]):
        cols = np.flatnonzero(mask[u])
        if len(cols) == 0:
            continue
        q = fixed[cols]
        v = weights[u, cols]
        a = gram + (q * v[:, None]).T @ q
        b = ((1.0 + v)[:, None] * q).sum(axis=0)
        out[u] = np.linalg.solve(a, b)
    return out


def initial_factors(model: ALSBase, data: Dataset, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(P0, Q0) as the model stores them (in its dtype), returned as float64."""
    rng = np.random.default_rng(seed)
    k = model.config.embedding_size
    q0 = model.initial_params(data.item_count, k, rng)
    p0 = model.initial_params(data.user_count, k, rng)
    dt = model.dtype
    return p0.astype(dt).astype(np.float64), q0.astype(dt).astype(np.float64)


def ref_run(
    half: Any,
    values: np.ndarray,
    mask: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    user_reg: float,
    item_reg: float,
    epochs: int,
) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]:
    """Epochs of (user half, item half); returns P, Q and the (ΔP, ΔQ) norms."""
    deltas = []
    for _ in range(epochs):
        new_p = half(values, mask, q, user_reg)
        new_q = half(values.T, mask.T, new_p, item_reg)
        deltas.append((float(np.linalg.norm(new_p - p)), float(np.linalg.norm(new_q - q))))
        p, q = new_p, new_q
    return p, q, deltas


def rel_err(got: np.ndarray, want: np.ndarray) -> float:
    """‖got − want‖_F / ‖want‖_F."""
    return float(np.linalg.norm(np.asarray(got, dtype=np.float64) - want) / np.linalg.norm(want))


def train(model: ALSBase, data: Dataset, seed: int = SEED) -> list[dict[str, float]]:
    return list(model.training_loop(data, TrainingOptions(rng=seed, threads=1)))


def check_run(
    model: ALSBase,
    results: list[dict[str, float]],
    p: np.ndarray,
    q: np.ndarray,
    deltas: list[tuple[float, float]],
    rtol: float,
) -> None:
    assert model.user_features_ is not None
    assert rel_err(model.user_features_, p) <= rtol
    assert rel_err(model.item_features_, q) <= rtol
    assert len(results) == len(deltas)
    for got, (dp, dq) in zip(results, deltas, strict=True):
        assert got["deltaP"] == pytest.approx(dp, rel=rtol)
        assert got["deltaQ"] == pytest.approx(dq, rel=rtol)


# ---------------------------------------------------------------------------------------------
# Sanity of the reference itself
# ---------------------------------------------------------------------------------------------


def test_reference_explicit_row_is_a_minimizer() -> None:
    """The explicit row solve zeroes the gradient of Σ(r − p·q)² + λ·n‖p‖²."""
    rng = np.random.default_rng(0)
    q = rng.normal(size=(8, 3))
    mask = np.zeros((1, 8), dtype=bool)
    mask[0, [1, 4, 6]] = True
    resid = rng.normal(size=(1, 8))
    p = ref_explicit_half(resid, mask, q, 0.3)[0]
    qi = q[[1, 4, 6]]
    grad = -2 * qi.T @ (resid[0, [1, 4, 6]] - qi @ p) + 2 * 0.3 * 3 * p
    np.testing.assert_allclose(grad, 0, atol=1e-12)


def test_reference_implicit_row_is_a_minimizer() -> None:
    """The implicit row solve zeroes the gradient of Σ_i c_i(pref_i − p·q_i)² + λ‖p‖²."""
    rng = np.random.default_rng(1)
    q = rng.normal(size=(6, 3))
    mask = np.zeros((1, 6), dtype=bool)
    mask[0, [0, 5]] = True
    weights = np.where(mask, 4.0, 0.0)
    p = ref_implicit_half(weights, mask, q, 0.2)[0]
    conf = 1 + weights[0]
    pref = mask[0].astype(float)
    grad = -2 * q.T @ (conf * (pref - q @ p)) + 2 * 0.2 * p
    np.testing.assert_allclose(grad, 0, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# The bias model
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damping", "beta_user", "beta_item"),
    [
        (5.0, 5.0, 5.0),
        (0.0, 0.0, 0.0),
        ({"user": 2, "item": 0}, 2.0, 0.0),
        ({"item": 3}, 0.0, 3.0),
    ],
)
def test_bias_model_closed_forms(
    data: Dataset, damping: Any, beta_user: float, beta_item: float
) -> None:
    model = BiasedMFScorer(features=K, epochs=1, damping=damping)
    loop = model.training_loop(data, TrainingOptions(rng=SEED, threads=1))
    loop.close()
    r, mask = ref.dense_ratings(data)
    g, bi, bu = ref_bias(r, mask, beta_user, beta_item)
    bias = model.bias_
    assert bias.global_bias == pytest.approx(g, rel=1e-12)
    assert bias.global_bias == pytest.approx(float(np.mean(data.ratings)), rel=1e-12)
    np.testing.assert_allclose(bias.item_biases, bi, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bias.user_biases, bu, rtol=1e-10, atol=1e-12)
    # entities without ratings get exactly 0, even with zero damping
    assert np.all(bias.item_biases[N_ITEMS - 3 :] == 0.0)
    assert np.all(bias.user_biases[N_USERS - 4 :] == 0.0)


# ---------------------------------------------------------------------------------------------
# Full runs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("regularization", "damping"),
    [(0.1, 5.0), ({"user": 0.5, "item": 0.05}, {"user": 2, "item": 0})],
)
def test_explicit_run_matches_reference(
    data: Dataset, dtype: str, regularization: Any, damping: Any
) -> None:
    model = BiasedMFScorer(
        features=K, epochs=EPOCHS, dtype=dtype, regularization=regularization, damping=damping
    )
    results = train(model, data)
    cfg = model.config
    r, mask = ref.dense_ratings(data)
    g, bi, bu = ref_bias(r, mask, cfg.user_damping, cfg.item_damping)
    resid = np.where(mask, r - g - bi[None, :] - bu[:, None], 0.0)
    p0, q0 = initial_factors(model, data, SEED)
    p, q, deltas = ref_run(
        ref_explicit_half, resid, mask, p0, q0, cfg.user_reg, cfg.item_reg, EPOCHS
    )
    assert model.item_features_.dtype == np.dtype(dtype)
    check_run(model, results, p, q, deltas, RTOL[dtype])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("regularization", "weight"), [(0.1, 40.0), ({"user": 2.0, "item": 0.5}, 3.0)]
)
def test_implicit_run_matches_reference(
    data: Dataset, dtype: str, regularization: Any, weight: float
) -> None:
    model = ImplicitMFScorer(
        features=K, epochs=EPOCHS, dtype=dtype, regularization=regularization, weight=weight
    )
    results = train(model, data)
    cfg = model.config
    _, mask = ref.dense_ratings(data)
    weights = np.where(mask, weight, 0.0)
    p0, q0 = initial_factors(model, data, SEED)
    p, q, deltas = ref_run(
        ref_implicit_half, weights, mask, p0, q0, cfg.user_reg, cfg.item_reg, EPOCHS
    )
    check_run(model, results, p, q, deltas, RTOL[dtype])
    # the fold-in Gram: QᵀQ + λ_user·I from the final Q
    np.testing.assert_allclose(
        model.OtOr_, q.T @ q + cfg.user_reg * np.eye(K), rtol=RTOL[dtype] * 10, atol=1e-12
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_implicit_use_ratings_matches_reference(data: Dataset, dtype: str) -> None:
    model = ImplicitMFScorer(features=K, epochs=EPOCHS, dtype=dtype, use_ratings=True, weight=2.0)
    results = train(model, data)
    r, mask = ref.dense_ratings(data)
    weights = np.where(mask, 2.0 * r, 0.0)
    p0, q0 = initial_factors(model, data, SEED)
    p, q, deltas = ref_run(ref_implicit_half, weights, mask, p0, q0, 0.1, 0.1, EPOCHS)
    check_run(model, results, p, q, deltas, RTOL[dtype])


def test_implicit_use_ratings_changes_the_model(data: Dataset) -> None:
    plain = ImplicitMFScorer(features=K, epochs=EPOCHS, weight=2.0)
    rated = ImplicitMFScorer(features=K, epochs=EPOCHS, weight=2.0, use_ratings=True)
    train(plain, data)
    train(rated, data)
    assert rel_err(plain.item_features_, rated.item_features_) > 1e-3


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_explicit_initial_rows_unit_length(data: Dataset, dtype: str) -> None:
    model = BiasedMFScorer(features=K, epochs=1, dtype=dtype)
    model.training_loop(data, TrainingOptions(rng=SEED, threads=1)).close()
    assert model.user_features_ is not None
    tol = 1e-12 if dtype == "float64" else 1e-6  # unit rows, rounded to the dtype
    for f in (model.user_features_, model.item_features_):
        np.testing.assert_allclose(np.linalg.norm(f.astype(np.float64), axis=1), 1.0, rtol=tol)


def test_implicit_initial_entries_small_and_nonnegative(data: Dataset) -> None:
    model = ImplicitMFScorer(features=K, epochs=1)
    model.training_loop(data, TrainingOptions(rng=SEED, threads=1)).close()
    q = model.item_features_
    assert np.all(q >= 0)
    assert 1e-5 < float(q.mean()) < 1e-3  # E[(0.01 z)²] = 1e-4


# ---------------------------------------------------------------------------------------------
# Conjugate gradient
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cg_with_many_steps_approaches_cholesky(data: Dataset, dtype: str) -> None:
    exact = ImplicitMFScorer(features=K, epochs=EPOCHS, dtype=dtype)
    train(exact, data)
    cg = ImplicitMFScorer(features=K, epochs=EPOCHS, solver="cg", cg_steps=4 * K, dtype=dtype)
    results = train(cg, data)
    assert exact.user_features_ is not None and cg.user_features_ is not None
    tol = 1e-6 if dtype == "float64" else 1e-4
    assert rel_err(cg.item_features_, exact.item_features_) < tol
    assert rel_err(cg.user_features_, exact.user_features_) < tol
    assert all(np.isfinite(v) for r in results for v in r.values())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cg_error_shrinks_with_steps(data: Dataset, dtype: str) -> None:
    exact = ImplicitMFScorer(features=K, epochs=EPOCHS, dtype=dtype)
    train(exact, data)
    errors = []
    # K steps solve a K × K system exactly in exact arithmetic; float32 rounding loses the
    # directions' conjugacy, so give it twice as many.
    for steps in (1, 2, 2 * K):
        cg = ImplicitMFScorer(features=K, epochs=EPOCHS, solver="cg", cg_steps=steps, dtype=dtype)
        train(cg, data)
        errors.append(rel_err(cg.item_features_, exact.item_features_))
    assert errors[0] > errors[-1]
    assert errors[-1] < (1e-4 if dtype == "float64" else 1e-3)


def test_cg_leaves_empty_rows_zero(data: Dataset) -> None:
    cg = ImplicitMFScorer(features=K, epochs=EPOCHS, solver="cg", cg_steps=50)
    train(cg, data)
    assert cg.user_features_ is not None
    assert np.all(np.isfinite(cg.user_features_)) and np.all(np.isfinite(cg.item_features_))
    assert np.all(cg.user_features_[N_USERS - 4 :] == 0.0)
    assert np.all(cg.item_features_[N_ITEMS - 3 :] == 0.0)


# ---------------------------------------------------------------------------------------------
# Fold-in: same equations as training, applied to a history
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_explicit_fold_in_matches_reference(data: Dataset, dtype: str) -> None:
    model = BiasedMFScorer(features=K, epochs=EPOCHS, dtype=dtype)
    rtol = RTOL[dtype]
    train(model, data)
    q = model.item_features_.astype(np.float64)
    bias = model.bias_
    history = ItemList([2, 7, 11, 999], rating=[4.0, 1.5, np.nan, 5.0])  # 999 is unknown
    # user bias: unknown items count with b_i = 0, NaN ratings are left out
    known = np.array([2, 7])
    centered = [
        4.0 - bias.global_bias - bias.item_biases[2],
        1.5 - bias.global_bias - bias.item_biases[7],
        5.0 - bias.global_bias,
    ]
    b_u = sum(centered) / (3 + model.config.user_damping)
    resid = np.array([4.0, 1.5]) - bias.global_bias - bias.item_biases[known] - b_u
    qi = q[known]
    p = np.linalg.solve(qi.T @ qi + 0.1 * 2 * np.eye(K), qi.T @ resid)
    emb, got_bias = model.new_user_embedding(None, history)
    assert got_bias == pytest.approx(b_u, rel=1e-12)
    np.testing.assert_allclose(emb, p, rtol=rtol)
    scores = model(RecQuery(None, history), [0, 2, 29, 500]).scores()
    assert scores is not None
    want = q[[0, 2, 29]] @ p + bias.global_bias + bias.item_biases[[0, 2, 29]] + b_u
    np.testing.assert_allclose(scores[:3], want, rtol=rtol)
    assert np.isnan(scores[3])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_implicit_fold_in_matches_reference(data: Dataset, dtype: str) -> None:
    model = ImplicitMFScorer(features=K, epochs=EPOCHS, weight=3.0, dtype=dtype)
    rtol = RTOL[dtype]
    train(model, data)
    q = model.item_features_.astype(np.float64)
    history = ItemList([1, 4, 9, 999])  # 999 is unknown and left out
    cols = [1, 4, 9]
    gram = q.T @ q + 0.1 * np.eye(K)
    qi = q[cols]
    p = np.linalg.solve(gram + 3.0 * qi.T @ qi, 4.0 * qi.sum(axis=0))
    emb, got_bias = model.new_user_embedding(None, history)
    assert got_bias is None
    np.testing.assert_allclose(emb, p, rtol=rtol)
    scores = model(history, [3, 9]).scores()
    assert scores is not None
    np.testing.assert_allclose(scores, q[[3, 9]] @ p, rtol=rtol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fold_in_of_a_training_row_reproduces_the_last_user_half(data: Dataset, dtype: str) -> None:
    """Folding in a user's training row against the final Q is exactly one more user half
    (the stored P was solved against the previous Q)."""
    model = BiasedMFScorer(features=K, epochs=EPOCHS, dtype=dtype)
    train(model, data)
    r, mask = ref.dense_ratings(data)
    bias = model.bias_
    resid = np.where(
        mask, r - bias.global_bias - bias.item_biases[None, :] - bias.user_biases[:, None], 0.0
    )
    extra = ref_explicit_half(resid, mask, model.item_features_.astype(np.float64), 0.1)
    for u in (0, 7, 13):
        row = data.user_row(user_num=u)
        assert row is not None
        emb, b_u = model.new_user_embedding(u, row)
        # the fold-in bias of a training row equals the learned bias
        assert b_u == pytest.approx(bias.user_biases[u], rel=1e-10)
        np.testing.assert_allclose(emb, extra[u], rtol=10 * RTOL[dtype])


@pytest.mark.parametrize("cls", [BiasedMFScorer, ImplicitMFScorer])
def test_fold_in_of_own_history_close_to_stored(cls: type[ALSBase], ml100k: Dataset) -> None:
    model = cls(features=20, epochs=10)
    model.train(ml100k, TrainingOptions(rng=42, threads=2))
    rng = np.random.default_rng(42)
    users = rng.choice(ml100k.users.ids(), 10, replace=False)
    for user in users:
        history = ml100k.user_row(user)
        assert history is not None
        items = rng.choice(ml100k.items.ids(), 5, replace=False)
        stored = model(user, items).scores()
        folded = model(RecQuery(-1, history), items).scores()
        assert stored is not None and folded is not None
        assert np.all(np.isfinite(stored)) and np.all(np.isfinite(folded))
        if cls is BiasedMFScorer:
            assert folded == pytest.approx(stored, rel=9e-2)
        else:
            assert folded == pytest.approx(stored, abs=0.1)


# ---------------------------------------------------------------------------------------------
# The pieces: prepare_data and one half-epoch through a TrainContext
# ---------------------------------------------------------------------------------------------


def csr_dense(matrix: Any) -> np.ndarray:
    out = np.zeros(matrix.shape)
    for row in range(matrix.nrows):
        cols, vals = matrix.row(row)
        out[row, cols] = vals
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_explicit_prepare_data_gives_residuals(data: Dataset, dtype: str) -> None:
    model = BiasedMFScorer(features=K, dtype=dtype)
    train_data = model.prepare_data(data)
    assert train_data.n_users == N_USERS and train_data.n_items == N_ITEMS
    assert train_data.ui_rates.shape == (N_USERS, N_ITEMS)
    assert train_data.iu_rates.shape == (N_ITEMS, N_USERS)
    train_data.ui_rates.validate()
    train_data.iu_rates.validate()
    assert train_data.ui_rates.values is not None
    assert train_data.ui_rates.values.dtype == np.dtype(dtype)
    r, mask = ref.dense_ratings(data)
    g, bi, bu = ref_bias(r, mask, 5.0, 5.0)
    resid = np.where(mask, r - g - bi[None, :] - bu[:, None], 0.0)
    rtol = RTOL[dtype]
    np.testing.assert_allclose(csr_dense(train_data.ui_rates), resid, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(csr_dense(train_data.iu_rates), resid.T, rtol=rtol, atol=rtol)
    assert np.array_equal(csr_dense(train_data.ui_rates) != 0, mask)


@pytest.mark.parametrize("use_ratings", [False, True])
def test_implicit_prepare_data_gives_weights(data: Dataset, use_ratings: bool) -> None:
    model = ImplicitMFScorer(features=K, weight=3.0, use_ratings=use_ratings)
    train_data = model.prepare_data(data)
    r, mask = ref.dense_ratings(data)
    want = np.where(mask, 3.0 * r if use_ratings else 3.0, 0.0)
    np.testing.assert_allclose(csr_dense(train_data.ui_rates), want, rtol=1e-12)
    np.testing.assert_allclose(csr_dense(train_data.iu_rates), want.T, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cls", [BiasedMFScorer, ImplicitMFScorer])
def test_one_half_epoch_through_a_context(cls: type[ALSBase], data: Dataset, dtype: str) -> None:
    from alskit import TrainContext

    model = cls(features=K, regularization={"user": 0.3, "item": 0.2}, dtype=dtype)
    train_data = model.prepare_data(data)
    rng = np.random.default_rng(9)
    left = np.ascontiguousarray(model.initial_params(N_USERS, K, rng), dtype=dtype)
    right = np.ascontiguousarray(model.initial_params(N_ITEMS, K, rng), dtype=dtype)
    ctx = TrainContext.create("user", train_data.ui_rates, left, right, 0.3, threads=1)
    assert (ctx.nrows, ctx.ncols, ctx.embed_size) == (N_USERS, N_ITEMS, K)
    np.testing.assert_array_equal(ctx.regI, (0.3 * np.eye(K)).astype(dtype))
    before = left.astype(np.float64)
    values = csr_dense(train_data.ui_rates)
    _, mask = ref.dense_ratings(data)
    half = ref_explicit_half if cls is BiasedMFScorer else ref_implicit_half
    want = half(values, mask, right.astype(np.float64), 0.3)
    got_delta = model.als_half_epoch(0, ctx)
    # updated in place
    assert ctx.left is left
    assert rel_err(left, want) <= RTOL[dtype]
    delta = float(np.linalg.norm(want - before))
    assert got_delta == pytest.approx(delta, rel=RTOL[dtype])
    with pytest.raises(ValueError, match="user"):
        TrainContext.create("user", train_data.ui_rates, right, left, 0.3)
