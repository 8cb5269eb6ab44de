"""alskit.implicit on its own: edge cases, errors, warnings, threads, pickling, files."""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

import alskit.implicit as ai
from alskit.implicit import AlternatingLeastSquares, ModelFitError, ParameterWarning

N_USERS, N_ITEMS, K = 40, 25, 6


@pytest.fixture(autouse=True)
def one_blas_thread() -> Iterator[None]:
    with threadpool_limits(1, "blas"):
        yield


def interactions(seed: int = 2) -> sp.csr_matrix:
    """Positive counts; user 0 and item 0 have no interactions."""
    rng = np.random.default_rng(seed)
    m = sp.random(N_USERS, N_ITEMS, density=0.2, format="lil", random_state=seed)
    m[0, :] = 0
    m[:, 0] = 0
    out = sp.csr_matrix(m.tocsr(), dtype=np.float32)
    out.eliminate_zeros()
    out.data = rng.integers(1, 4, out.nnz).astype(np.float32)
    return out


def model(**kwargs: Any) -> AlternatingLeastSquares:
    args = {"factors": K, "iterations": 3, "random_state": 0, "num_threads": 1, **kwargs}
    return AlternatingLeastSquares(**args)


@pytest.fixture(scope="module")
def trained() -> tuple[AlternatingLeastSquares, sp.csr_matrix]:
    with threadpool_limits(1, "blas"):
        m = model()
        ui = interactions()
        m.fit(ui, show_progress=False)
    return m, ui


# ---- construction and fit -----------------------------------------------------------------


def test_defaults_are_implicits() -> None:
    m = AlternatingLeastSquares()
    assert (m.factors, m.regularization, m.alpha, m.dtype) == (100, 0.01, 1.0, np.float32)
    assert (m.use_native, m.use_cg, m.iterations, m.calculate_training_loss) == (
        True, True, 15, False,
    )  # fmt: skip
    assert (m.num_threads, m.random_state, m.cg_steps, m.fit_callback) == (0, None, 3, None)
    assert m.user_factors is None and m.item_factors is None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"factors": 0}, ValueError, "factors"),
        ({"factors": 2.5}, TypeError, "factors"),
        ({"factors": True}, TypeError, "factors"),
        ({"iterations": -1}, ValueError, "iterations"),
        ({"num_threads": -2}, ValueError, "num_threads"),
        ({"regularization": -0.1}, ValueError, "regularization"),
        ({"regularization": float("nan")}, ValueError, "regularization"),
        ({"alpha": float("inf")}, ValueError, "alpha"),
        ({"alpha": "1"}, TypeError, "alpha"),
        ({"dtype": np.float16}, TypeError, "dtype"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        model(**kwargs)


def test_parameters_changed_after_construction_are_checked_by_fit() -> None:
    m = model()
    m.cg_steps = 0
    with pytest.raises(ValueError, match="cg_steps"):
        m.fit(interactions(), show_progress=False)


def test_fit_input_conversion_and_warnings() -> None:
    ui = interactions()
    reference = model()
    reference.fit(ui, show_progress=False)
    # float64 values are converted without a warning (as in implicit)
    m = model()
    m.fit(ui.astype(np.float64), show_progress=False)
    assert np.array_equal(m.user_factors, reference.user_factors)
    # another sparse format: converted, with implicit's ParameterWarning
    m = model()
    with pytest.warns(ParameterWarning, match="CSR"):
        m.fit(ui.tocoo(), show_progress=False)
    assert np.array_equal(m.item_factors, reference.item_factors)
    with pytest.raises(TypeError, match="user_items must be a scipy.sparse matrix"):
        model().fit(ui.toarray(), show_progress=False)
    bad = ui.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="user_items has non-finite values"):
        model().fit(bad, show_progress=False)


def test_blas_warning_once_when_blas_is_threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from threadpoolctl import threadpool_info

    with threadpool_limits(2, "blas"):
        if not any(a["user_api"] == "blas" and a["num_threads"] > 1 for a in threadpool_info()):
            pytest.skip("this BLAS cannot run two threads here")
    monkeypatch.setattr(ai, "_blas_checked", False)
    with threadpool_limits(2, "blas"), pytest.warns(RuntimeWarning, match="BLAS is configured"):
        AlternatingLeastSquares()
    with threadpool_limits(2, "blas"), warnings.catch_warnings():
        warnings.simplefilter("error")
        AlternatingLeastSquares()  # once per process, as implicit
    monkeypatch.setattr(ai, "_blas_checked", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AlternatingLeastSquares()  # one BLAS thread: nothing to say


def test_empty_rows_and_columns_get_zero_factors(trained: Any) -> None:
    m, _ = trained
    assert np.all(m.user_factors[0] == 0) and np.all(m.item_factors[0] == 0)
    assert np.all(np.any(m.user_factors[1:] != 0, axis=1))


def test_warm_start_continues_training() -> None:
    ui = interactions()
    once = model(iterations=4)
    once.fit(ui, show_progress=False)
    twice = model(iterations=2)
    twice.fit(ui, show_progress=False)
    twice.fit(ui, show_progress=False)
    assert np.array_equal(once.user_factors, twice.user_factors)
    assert np.array_equal(once.item_factors, twice.item_factors)
    with pytest.raises(ValueError, match="cannot warm-start"):
        twice.fit(ui[:10], show_progress=False)


@pytest.mark.parametrize("use_cg", [True, False])
def test_threads_bit_identical(use_cg: bool) -> None:
    ui = interactions()
    results = []
    for threads in (1, 2, 3):
        m = model(num_threads=threads, use_cg=use_cg, calculate_training_loss=True)
        losses: list[float] = []
        m.fit(ui, show_progress=False, callback=lambda i, t, loss, out=losses: out.append(loss))
        ids, scores = m.recommend(np.arange(N_USERS), ui, N=5)
        results.append((m.user_factors, m.item_factors, losses, ids, scores))
    for got in results[1:]:
        for a, b in zip(got, results[0], strict=True):
            assert np.array_equal(a, b)


def test_callback_progress_and_loss(capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[tuple[int, float, Any]] = []
    m = model(iterations=2)
    m.fit(interactions(), callback=lambda *args: calls.append(args))
    assert [c[0] for c in calls] == [0, 1] and all(c[1] >= 0 and c[2] is None for c in calls)
    assert "2/2" in capsys.readouterr().err  # the progress bar
    m = model(iterations=2, calculate_training_loss=True)
    m.fit_callback = lambda *args: calls.append(args)  # implicit's older attribute
    m.fit(interactions(), show_progress=False)
    losses = [c[2] for c in calls[2:]]
    assert len(losses) == 2 and losses[1] < losses[0]


def test_non_finite_factors_raise_model_fit_error() -> None:
    m = model(iterations=1, regularization=0.0)
    m.user_factors = np.full((N_USERS, K), 1e30, np.float32)
    m.item_factors = np.full((N_ITEMS, K), 1e30, np.float32)
    with pytest.raises((ModelFitError, FloatingPointError, ValueError)):
        m.fit(interactions(), show_progress=False)


# ---- recommend --------------------------------------------------------------------------


def brute_force(m: AlternatingLeastSquares, user: int, exclude: Any, n: int) -> list[int]:
    scores = m.item_factors @ m.user_factors[user]
    order = [i for i in np.argsort(-scores, kind="stable") if i not in set(exclude)]
    return order[:n]


def test_recommend_one_and_batch(trained: Any) -> None:
    m, ui = trained
    ids, scores = m.recommend(3, ui[3], N=5)
    assert ids.shape == (5,) and scores.shape == (5,) and ids.dtype == np.int32
    assert ids.tolist() == brute_force(m, 3, ui[3].indices, 5)
    np.testing.assert_allclose(scores, m.item_factors[ids] @ m.user_factors[3], rtol=1e-5)
    users = np.array([3, 7, 1])
    batch_ids, batch_scores = m.recommend(users, ui[users], N=5)
    assert batch_ids.shape == (3, 5)
    assert np.array_equal(batch_ids[0], ids)
    np.testing.assert_allclose(batch_scores[0], scores, rtol=1e-6)
    for row, user in enumerate(users):
        assert batch_ids[row].tolist() == brute_force(m, user, ui[user].indices, 5)


def test_recommend_filters_and_subsets(trained: Any) -> None:
    m, ui = trained
    ids, _ = m.recommend(3, ui[3], N=8, filter_items=[1, 2, 3])
    assert ids.tolist() == brute_force(m, 3, [*ui[3].indices, 1, 2, 3], 8)
    ids, _ = m.recommend(3, ui[3], N=8, filter_already_liked_items=False)
    assert ids.tolist() == brute_force(m, 3, [], 8)
    subset = [20, 4, 9, 13, 4]
    ids, scores = m.recommend(3, ui[3], N=10, items=subset)
    keep = sorted(set(subset) - set(ui[3].indices.tolist()))
    assert sorted(ids[ids >= 0].tolist()) == keep
    assert len(ids) == min(10, len(subset))  # N is at most the number of items given
    assert ids[len(keep) :].tolist() == [-1] * (len(ids) - len(keep))
    with pytest.raises(ValueError, match="items and filter_items"):
        m.recommend(3, ui[3], items=[1, 2], filter_items=[3])


def test_recommend_n_larger_than_candidates_is_padded(trained: Any) -> None:
    m, ui = trained
    ids, scores = m.recommend(3, ui[3], N=N_ITEMS + 5)
    rankable = N_ITEMS - ui[3].nnz
    assert ids.shape == (N_ITEMS + 5,)
    assert np.all(ids[:rankable] >= 0) and np.all(ids[rankable:] == -1)
    assert np.all(scores[rankable:] == -np.finfo(np.float32).max)
    assert not set(ids.tolist()) & set(ui[3].indices.tolist())


def test_recommend_empty_user_and_empty_history(trained: Any) -> None:
    m, ui = trained
    ids, scores = m.recommend(0, ui[0], N=4)  # no interactions: zero factors, all scores 0
    assert len(set(ids.tolist())) == 4 and np.all(scores == 0)
    ids, _ = m.recommend(5, sp.csr_matrix((1, N_ITEMS), dtype=np.float32), N=4)
    assert ids.tolist() == brute_force(m, 5, [], 4)
    ids, scores = m.recommend(np.array([], dtype=np.int64), ui[:0], N=3)
    assert ids.shape == (0, 3) and scores.shape == (0, 3)


def test_recommend_recalculate_user(trained: Any) -> None:
    m, ui = trained
    ids, scores = m.recommend(4, ui[4], N=5, recalculate_user=True)
    x = m.recalculate_user(4, ui[4])
    np.testing.assert_allclose(scores, m.item_factors[ids] @ x, rtol=1e-5)
    # an unknown user id is fine when its factors come from the history
    ids2, _ = m.recommend(N_USERS + 10, ui[4], N=5, recalculate_user=True)
    assert np.array_equal(ids, ids2)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m, ui: m.recommend(N_USERS, ui[0]), IndexError, "userid 40 is out of range"),
        (lambda m, ui: m.recommend(-1, ui[0]), IndexError, "userid -1"),
        (lambda m, ui: m.recommend([1, 2], ui[1]), ValueError, "one row per user"),
        (lambda m, ui: m.recommend(1, ui[1].toarray()), ValueError, "CSR"),
        (lambda m, ui: m.recommend(1, ui[1], N=0), ValueError, "N must be a positive"),
        (lambda m, ui: m.recommend(1, ui[1], items=[0, 99]), IndexError, "items 99"),
        (lambda m, ui: m.recommend(1, ui[1], filter_items=[99]), IndexError, "filter_items 99"),
        (lambda m, ui: m.recommend(1.5, ui[1]), TypeError, "userid must be integer"),
        (lambda m, ui: m.similar_items(N_ITEMS), IndexError, "itemid 25 is out of range"),
        (lambda m, ui: m.similar_items(1, items=[-3]), IndexError, "items -3"),
        (lambda m, ui: m.similar_users(N_USERS), IndexError, "userid 40"),
        (lambda m, ui: m.similar_users(1, users=[1], filter_users=[2]), ValueError, "users and"),
        (lambda m, ui: m.explain(1, ui, N_ITEMS), IndexError, "itemid 25"),
        (lambda m, ui: m.explain(N_USERS, ui, 1), IndexError, "userid 40"),
        (lambda m, ui: m.recalculate_user([1, 2], ui[1]), ValueError, "one row per id"),
        (
            lambda m, ui: m.recalculate_user(1, sp.csr_matrix((1, N_ITEMS + 1))),
            ValueError,
            "user_items has 26 columns",
        ),
        (lambda m, ui: m.partial_fit_users([1, 2], ui[1]), ValueError, "one row per id"),
        (lambda m, ui: m.partial_fit_items([-1], ui.T.tocsr()[1]), IndexError, "itemids -1"),
    ],
)
def test_bad_ids_and_arguments_are_clear_errors(
    trained: Any, call: Any, error: type, match: str
) -> None:
    m, ui = trained
    with pytest.raises(error, match=match):
        call(m, ui)


def test_out_of_range_ids_are_index_and_value_errors(trained: Any) -> None:
    m, ui = trained
    with pytest.raises(ValueError):
        m.recommend(N_USERS, ui[0])
    with pytest.raises(IndexError):
        m.recommend(N_USERS, ui[0])


def test_unfitted_model_says_so() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        model().recommend(0, sp.csr_matrix((1, 3)))


# ---- similarity, explain, fold-in --------------------------------------------------------


def test_similar_items_is_cosine(trained: Any) -> None:
    m, _ = trained
    ids, scores = m.similar_items(5, N=N_ITEMS)
    unit = m.item_factors / np.maximum(np.linalg.norm(m.item_factors, axis=1), 1e-10)[:, None]
    want = unit @ unit[5]
    assert ids[0] == 5 and scores[0] == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(scores, want[ids], rtol=1e-5, atol=1e-6)
    assert np.all(np.diff(scores) <= 1e-7)
    ids, _ = m.similar_items(5, N=4, filter_items=[5])
    assert 5 not in ids
    ids, scores = m.similar_items([5, 6], N=6, items=[1, 2, 3])
    assert ids.shape == (2, 6) and np.all(ids[:, 3:] == -1) and set(ids[0, :3]) == {1, 2, 3}


def test_similar_users_batch_equals_single(trained: Any) -> None:
    m, _ = trained
    ids, scores = m.similar_users(np.array([2, 8]), N=5)
    one = m.similar_users(8, N=5)
    assert np.array_equal(ids[1], one[0]) and np.array_equal(scores[1], one[1])
    assert ids[0, 0] == 2


def test_explain_decomposes_the_score(trained: Any) -> None:
    m, ui = trained
    total, top, weights = m.explain(6, ui, 2, N=100)
    x = m.recalculate_user(6, ui[6])
    assert total == pytest.approx(float(x @ m.item_factors[2]), rel=1e-4)
    assert sum(s for _, s in top) == pytest.approx(total, rel=1e-6)
    assert sorted(i for i, _ in top) == sorted(ui[6].indices.tolist())
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    total2, top2, _ = m.explain(6, ui, 2, user_weights=weights, N=2)
    assert total2 == pytest.approx(total) and top2 == top[:2]


def test_partial_fit_grows_and_invalidates(trained: Any) -> None:
    m, ui = trained
    m = pickle.loads(pickle.dumps(m))
    before = m.similar_users(1, N=3)
    m.partial_fit_users([N_USERS + 2], ui[[1]])
    assert m.user_factors.shape == (N_USERS + 3, K)
    assert np.all(m.user_factors[N_USERS : N_USERS + 2] == 0)
    np.testing.assert_allclose(m.user_factors[N_USERS + 2], m.recalculate_user(1, ui[1]))
    ids, _ = m.similar_users(1, N=3)
    assert N_USERS + 2 in ids.tolist() or not np.array_equal(ids, before[0])
    m.partial_fit_items([N_ITEMS], ui.T.tocsr()[[3]])
    assert m.item_factors.shape == (N_ITEMS + 1, K)
    ids, _ = m.recommend(1, ui[1], N=N_ITEMS + 1)
    assert N_ITEMS in ids.tolist()


# ---- persistence ------------------------------------------------------------------------


def test_pickle_round_trip(trained: Any) -> None:
    m, ui = trained
    m.similar_items(1)  # fills the caches
    back = pickle.loads(pickle.dumps(m))
    assert np.array_equal(back.user_factors, m.user_factors)
    assert [
        np.array_equal(a, b)
        for a, b in zip(back.recommend(2, ui[2]), m.recommend(2, ui[2]), strict=True)
    ] == [True, True]


def test_save_and_load_paths(trained: Any, tmp_path: Any) -> None:
    m, ui = trained
    m.save(str(tmp_path / "model"))  # numpy adds .npz
    assert (tmp_path / "model.npz").exists()
    for source in (str(tmp_path / "model"), tmp_path / "model.npz"):
        back = AlternatingLeastSquares.load(source)
        assert np.array_equal(back.item_factors, m.item_factors)
        assert back.num_threads == 1 and back.random_state == 0
    with np.load(tmp_path / "model.npz") as data:
        assert sorted(data.files) == sorted(AlternatingLeastSquares._SAVED)
    unseeded = model(random_state=None)
    unseeded.user_factors, unseeded.item_factors = m.user_factors, m.item_factors
    unseeded.save(tmp_path / "unseeded.npz")
    with np.load(tmp_path / "unseeded.npz") as data:
        assert "random_state" not in data.files  # None is left out, as in implicit


def test_save_is_atomic(trained: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A save that fails midway leaves the previous model file whole, and no temporary file."""
    m, _ = trained
    m.save(tmp_path / "model.npz")
    good = (tmp_path / "model.npz").read_bytes()

    def broken(file: Any, **arrays: Any) -> None:
        file.write(b"PK partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="No space"):
        m.save(tmp_path / "model.npz")
    assert (tmp_path / "model.npz").read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_random_state_forms() -> None:
    ui = interactions()
    runs = []
    for state in (np.random.RandomState(5), np.random.RandomState(5)):
        m = model(iterations=0, random_state=state)
        m.fit(ui, show_progress=False)
        runs.append(m.user_factors)
    assert np.array_equal(runs[0], runs[1])
    a, b = model(iterations=0, random_state=7), model(iterations=0, random_state=None)
    a.fit(ui, show_progress=False)
    b.random_state = np.random.default_rng(7)
    b.fit(ui, show_progress=False)
    assert np.array_equal(a.user_factors, b.user_factors)  # a seed is default_rng(seed)
