"""alskit.implicit against the real `implicit` package (0.7.3): same inputs, same results."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

implicit_als = pytest.importorskip("implicit.cpu.als")
from threadpoolctl import threadpool_limits  # noqa: E402

from alskit.implicit import AlternatingLeastSquares  # noqa: E402

Theirs = implicit_als.AlternatingLeastSquares
N_USERS, N_ITEMS, K = 70, 45, 8
DTYPES = [np.float32, np.float64]
dtype_param = pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
solver_param = pytest.mark.parametrize("use_cg", [True, False], ids=["cg", "cholesky"])


@pytest.fixture(autouse=True)
def one_blas_thread() -> Iterator[None]:
    """As both libraries recommend (and so neither warns)."""
    with threadpool_limits(1, "blas"):
        yield


def tol(dtype: Any) -> float:
    return 2e-4 if dtype == np.float32 else 1e-8


def interactions(seed: int = 1) -> sp.csr_matrix:
    """Counts 1..5, a tenth of them negative (dislikes); users 0 and 9 and item 3 empty."""
    rng = np.random.default_rng(seed)
    m = sp.random(N_USERS, N_ITEMS, density=0.15, format="csr", random_state=seed)
    m.data = rng.integers(1, 6, m.nnz).astype(np.float32)
    m.data[rng.random(m.nnz) < 0.1] *= -1
    m = m.tolil()
    m[0, :] = 0
    m[9, :] = 0
    m[:, 3] = 0
    out = m.tocsr()
    out.eliminate_zeros()
    return sp.csr_matrix(out, dtype=np.float32)


def pair(dtype: Any = np.float32, **kwargs: Any) -> tuple[Any, AlternatingLeastSquares]:
    args = {"factors": K, "regularization": 0.05, "alpha": 2.0, "random_state": 3, **kwargs}
    return Theirs(dtype=dtype, **args), AlternatingLeastSquares(dtype=dtype, **args)


def fitted(dtype: Any = np.float32) -> tuple[Any, AlternatingLeastSquares, sp.csr_matrix]:
    """implicit fitted for 3 iterations; alskit holding exactly the same factors."""
    ui = interactions()
    theirs, ours = pair(dtype, iterations=3)
    theirs.fit(ui, show_progress=False)
    ours.user_factors = theirs.user_factors.copy()
    ours.item_factors = theirs.item_factors.copy()
    return theirs, ours, ui


def close(got: Any, want: Any, dtype: Any) -> None:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    scale = max(float(np.abs(want).max()), 1e-30)
    assert np.abs(got - want).max() <= tol(dtype) * scale


def same_ranking(got: tuple[Any, Any], want: tuple[Any, Any], dtype: Any) -> None:
    """Same ids except where scores tie (within tolerance); same scores."""
    gi, gs = (np.atleast_2d(a) for a in got)
    wi, ws = (np.atleast_2d(a) for a in want)
    assert gi.shape == wi.shape and gs.shape == ws.shape
    close(gs, ws, dtype)
    scale = float(np.abs(ws).max())
    for row in range(gi.shape[0]):
        for col in range(gi.shape[1]):
            if gi[row, col] != wi[row, col]:
                # a swap of tied entries: the scores are equal within tolerance
                neighbours = ws[row, max(col - 1, 0) : col + 2]
                assert np.ptp(neighbours) <= tol(dtype) * scale, (row, col, gi[row], wi[row])


@dtype_param
def test_initialisation_is_implicits(dtype: Any) -> None:
    ui = interactions()
    theirs, ours = pair(dtype, iterations=0)
    theirs.fit(ui, show_progress=False)
    ours.fit(ui, show_progress=False)
    assert ours.user_factors is not None and ours.item_factors is not None
    assert ours.user_factors.dtype == dtype
    assert np.array_equal(ours.user_factors, theirs.user_factors)
    assert np.array_equal(ours.item_factors, theirs.item_factors)


@solver_param
@dtype_param
def test_one_epoch_equals_implicits(use_cg: bool, dtype: Any) -> None:
    """Same starting factors (larger than the default draw, so CG's steps matter)."""
    ui = interactions()
    rng = np.random.default_rng(5)
    x0 = rng.random((N_USERS, K)).astype(dtype)
    y0 = rng.random((N_ITEMS, K)).astype(dtype)
    theirs, ours = pair(dtype, iterations=1, use_cg=use_cg)
    for model in (theirs, ours):
        model.user_factors, model.item_factors = x0.copy(), y0.copy()
        model.fit(ui, show_progress=False)
    close(ours.user_factors, theirs.user_factors, dtype)
    close(ours.item_factors, theirs.item_factors, dtype)
    assert ours.user_factors is not None
    assert np.all(ours.user_factors[[0, 9]] == 0)  # empty rows → zero vectors
    assert ours.item_factors is not None and np.all(ours.item_factors[3] == 0)


@solver_param
def test_several_epochs_and_loss_follow_implicit(use_cg: bool) -> None:
    ui = interactions()
    theirs, ours = pair(np.float64, iterations=4, use_cg=use_cg, calculate_training_loss=True)
    losses: dict[str, list[float]] = {"theirs": [], "ours": []}
    theirs.fit(ui, show_progress=False, callback=lambda i, t, loss: losses["theirs"].append(loss))
    ours.fit(ui, show_progress=False, callback=lambda i, t, loss: losses["ours"].append(loss))
    # implicit's CG takes λ as a C float (0.05 rounded to float32), hence 1e-6, not 1e-8.
    for got, want in (
        (ours.user_factors, theirs.user_factors),
        (ours.item_factors, theirs.item_factors),
    ):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6 * np.abs(want).max())
    assert len(losses["ours"]) == 4
    np.testing.assert_allclose(losses["ours"], losses["theirs"], rtol=1e-6)


@dtype_param
def test_recommend_matches(dtype: Any) -> None:
    theirs, ours, ui = fitted(dtype)
    for user in (1, 5):
        same_ranking(ours.recommend(user, ui[user]), theirs.recommend(user, ui[user]), dtype)
    users = np.arange(1, 30)
    for kwargs in (
        {},
        {"N": 7, "filter_already_liked_items": False},
        {"N": 5, "filter_items": [0, 1, 2, 10]},
        {"N": 4, "items": [30, 2, 5, 7, 11, 19, 40]},
        {"N": 6, "recalculate_user": True},
    ):
        got = ours.recommend(users, ui[users], **kwargs)
        want = theirs.recommend(users, ui[users], **kwargs)
        assert got[0].dtype == np.int32 and got[1].dtype == dtype
        same_ranking(got, want, dtype)


@dtype_param
def test_similar_items_and_users_match(dtype: Any) -> None:
    theirs, ours, ui = fitted(dtype)
    same_ranking(ours.similar_items(2), theirs.similar_items(2), dtype)
    items = np.array([1, 2, 4, 8])
    for kwargs in ({"N": 5}, {"N": 5, "filter_items": [2, 6]}, {"N": 3, "items": [5, 9, 11, 30]}):
        same_ranking(
            ours.similar_items(items, **kwargs), theirs.similar_items(items, **kwargs), dtype
        )
    iu = ui.T.tocsr()
    same_ranking(
        ours.similar_items(items, N=4, recalculate_item=True, item_users=iu[items]),
        theirs.similar_items(items, N=4, recalculate_item=True, item_users=iu[items]),
        dtype,
    )
    same_ranking(ours.similar_users(4), theirs.similar_users(4), dtype)
    users = np.array([1, 4, 20])
    for kwargs in ({"N": 6, "filter_users": [1, 2]}, {"N": 3, "users": [3, 4, 8, 50, 60]}):
        same_ranking(
            ours.similar_users(users, **kwargs), theirs.similar_users(users, **kwargs), dtype
        )


@dtype_param
def test_explain_matches(dtype: Any) -> None:
    theirs, ours, ui = fitted(dtype)
    for user, item in ((4, 3), (12, 20), (33, 0)):
        total, top, weights = ours.explain(user, ui, item, N=4)
        want_total, want_top, want_weights = theirs.explain(user, ui, item, N=4)
        assert total == pytest.approx(want_total, rel=1e-4, abs=1e-6)
        assert [i for i, _ in top] == [int(i) for i, _ in want_top]
        # A term's rounding is relative to the largest term (the solve that produced them all),
        # not to itself: a term 1000× smaller than the largest keeps only that much precision.
        got, want = [s for _, s in top], [s for _, s in want_top]
        scale = 8 * np.finfo(dtype).eps * max(abs(s) for s in want)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=scale)
        # the returned factorisation is reusable (and interchangeable with implicit's)
        again = ours.explain(user, ui, item, user_weights=want_weights, N=4)
        assert again[0] == pytest.approx(total, rel=1e-5, abs=1e-7)
        assert again[2] is want_weights
        # total = x_u·y_i of the user recalculated from the same row
        x = ours.recalculate_user(user, ui[user])
        assert total == pytest.approx(float(x @ ours.item_factors[item]), rel=1e-3, abs=1e-5)


@dtype_param
def test_recalculate_and_partial_fit_match(dtype: Any) -> None:
    theirs, ours, ui = fitted(dtype)
    users = np.array([2, 5, 8])
    close(ours.recalculate_user(users, ui[users]), theirs.recalculate_user(users, ui[users]), dtype)
    close(ours.recalculate_user(5, ui[5]), theirs.recalculate_user(5, ui[5]), dtype)
    iu = ui.T.tocsr()
    close(
        ours.recalculate_item([1, 7], iu[[1, 7]]),
        theirs.recalculate_item([1, 7], iu[[1, 7]]),
        dtype,
    )
    new_users = np.array([3, N_USERS + 4])  # one existing, one new: the model grows
    theirs.partial_fit_users(new_users, ui[[10, 11]])
    ours.partial_fit_users(new_users, ui[[10, 11]])
    assert ours.user_factors is not None and ours.user_factors.shape == (N_USERS + 5, K)
    close(ours.user_factors, theirs.user_factors, dtype)
    theirs.partial_fit_items([N_ITEMS + 1], iu[[6]])
    ours.partial_fit_items([N_ITEMS + 1], iu[[6]])
    close(ours.item_factors, theirs.item_factors, dtype)
    same_ranking(ours.similar_users(3, N=5), theirs.similar_users(3, N=5), dtype)


@dtype_param
def test_model_files_round_trip_both_ways(dtype: Any, tmp_path: Any) -> None:
    theirs, ours, ui = fitted(dtype)
    theirs.cg_steps = 5
    theirs.save(tmp_path / "theirs.npz")
    loaded = AlternatingLeastSquares.load(str(tmp_path / "theirs"))  # ".npz" added, as implicit
    assert loaded.dtype == dtype and loaded.cg_steps == 5 and loaded.alpha == 2.0
    assert (loaded.factors, loaded.regularization, loaded.random_state) == (K, 0.05, 3)
    assert np.array_equal(loaded.user_factors, theirs.user_factors)
    assert np.array_equal(loaded.item_factors, theirs.item_factors)
    same_ranking(loaded.recommend(1, ui[1]), theirs.recommend(1, ui[1]), dtype)

    buffer = io.BytesIO()
    ours.iterations = 7
    ours.save(buffer)
    buffer.seek(0)
    back = Theirs.load(buffer)
    assert back.iterations == 7 and back.dtype == dtype and back.use_cg is True
    assert np.array_equal(back.user_factors, ours.user_factors)
    assert np.array_equal(back.item_factors, ours.item_factors)
    # implicit keeps training from the loaded factors as it would its own
    back.iterations = 1
    ours.iterations = 1
    back.fit(ui, show_progress=False)
    ours.fit(ui, show_progress=False)
    close(ours.user_factors, back.user_factors, dtype)
