"""Batch scoring (issue: native recommend / predict / similar_items) against brute-force numpy.

Both scorers, float32 and float64, trained on the tiny synthetic data set. The reference
scores every user against every item in float64 (P·Qᵀ, plus b_u + b_g + b_i for BiasedMF),
leaves out the training items, and sorts by (−score, item number). float64 results must
match it exactly in order; float32 results may swap only items whose reference scores are
within the float32 tolerance.

The native ``top_n`` / ``score_pairs`` kernels are tested directly too: deterministic ties
(lower item number first), padding with -1 / NaN, NaN scores never returned, and argument
validation naming the argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from alskit import (
    ALSBase,
    BiasedMFScorer,
    Dataset,
    ImplicitMFScorer,
    ItemList,
    Recommendations,
    RecQuery,
    TrainingOptions,
)
from alskit._native import core
from alskit.synthetic import generate
from reference import top_n as brute_top_n

FEATURES = 8
TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-10)}


# ---- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def explicit_data() -> Dataset:
    return generate("tiny", kind="explicit", seed=3)


@pytest.fixture(scope="module")
def implicit_data() -> Dataset:
    return generate("tiny", kind="implicit", seed=3)


def _train(cls: type[ALSBase], data: Dataset, dtype: str, **kwargs: Any) -> ALSBase:
    model = cls(features=FEATURES, epochs=3, dtype=dtype, **kwargs)
    model.train(data, TrainingOptions(rng=11, threads=2))
    return model


MODEL_PARAMS = [
    pytest.param((cls, dtype), id=f"{cls.__name__}-{dtype}")
    for cls in (BiasedMFScorer, ImplicitMFScorer)
    for dtype in ("float32", "float64")
]


@pytest.fixture(scope="module", params=MODEL_PARAMS)
def trained(request: pytest.FixtureRequest, explicit_data: Dataset, implicit_data: Dataset):  # type: ignore[no-untyped-def]
    cls, dtype = request.param
    data = explicit_data if cls is BiasedMFScorer else implicit_data
    return _train(cls, data, dtype), data, dtype


# ---- the brute-force reference -------------------------------------------------------------


def reference_scores(model: ALSBase) -> np.ndarray:
    """users × items scores in float64 from the stored state."""
    assert model.user_features_ is not None
    p = model.user_features_.astype(np.float64)
    q = model.item_features_.astype(np.float64)
    scores = p @ q.T
    if isinstance(model, BiasedMFScorer):
        bias = model.bias_
        scores += bias.user_biases[:, None] + bias.global_bias + bias.item_biases[None, :]
    return scores


def seen_numbers(model: ALSBase, data: Dataset, user_id: Any) -> np.ndarray:
    """The user's training items as numbers in the model's item vocabulary."""
    row = data.user_row(user_id)
    assert row is not None
    return model.items_.numbers(row.ids())


def assert_ranking(
    got_items: np.ndarray,
    got_scores: np.ndarray,
    want_items: np.ndarray,
    ref_row: np.ndarray,
    dtype: str,
) -> None:
    """Same items in the same order (float32: up to swaps of near-tied items); returned
    scores equal the reference scores of the returned items."""
    assert len(got_items) == len(want_items), (got_items, want_items)
    assert len(np.unique(got_items)) == len(got_items), "an item is listed twice"
    np.testing.assert_allclose(got_scores, ref_row[got_items], **TOL[dtype])
    if dtype == "float64":
        np.testing.assert_array_equal(got_items, want_items)
    elif not np.array_equal(got_items, want_items):
        # Only near-ties may trade places: position by position the reference scores agree.
        np.testing.assert_allclose(ref_row[got_items], ref_row[want_items], **TOL[dtype])


def per_user(recs: Recommendations, user_id: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mask = recs.query_ids == user_id
    return recs.item_ids[mask], recs.scores[mask], recs.ranks[mask]


# ---- recommend -----------------------------------------------------------------------------


def test_recommend_all_users_matches_brute_force(trained) -> None:  # type: ignore[no-untyped-def]
    model, data, dtype = trained
    ref = reference_scores(model)
    recs = model.recommend(None, n=10)
    assert isinstance(recs, Recommendations)
    np.testing.assert_array_equal(np.unique(recs.query_ids), np.sort(model.users_.ids()))
    assert recs.scores.dtype == np.dtype(dtype)
    for u, user_id in enumerate(model.users_.ids()):
        ids, scores, ranks = per_user(recs, user_id)
        want = brute_top_n(ref[u], 10, exclude=seen_numbers(model, data, user_id))
        assert_ranking(model.items_.numbers(ids), scores, want, ref[u], dtype)
        np.testing.assert_array_equal(ranks, np.arange(1, len(ids) + 1))
        assert np.all(np.diff(scores) <= 0)


def test_recommend_without_exclusion_matches_brute_force(trained) -> None:  # type: ignore[no-untyped-def]
    model, data, dtype = trained
    ref = reference_scores(model)
    users = model.users_.ids()[:50]
    recs = model.recommend(users, n=15, exclude_seen=False)
    any_seen = False
    for user_id in users:
        u = model.users_.number(user_id)
        ids, scores, _ = per_user(recs, user_id)
        nums = model.items_.numbers(ids)
        assert_ranking(nums, scores, brute_top_n(ref[u], 15), ref[u], dtype)
        any_seen |= bool(np.isin(nums, seen_numbers(model, data, user_id)).any())
    assert any_seen, "with exclude_seen=False some training item should rank in a top 15"


def test_recommend_never_returns_seen_items_and_handles_large_n(trained) -> None:  # type: ignore[no-untyped-def]
    model, data, dtype = trained
    n_items = len(model.items_)
    recs = model.recommend(None, n=n_items + 50)
    assert np.all(model.items_.numbers(recs.item_ids, missing="negative") >= 0)
    assert np.all(np.isfinite(recs.scores))
    for user_id in model.users_.ids():
        ids, _, ranks = per_user(recs, user_id)
        seen = seen_numbers(model, data, user_id)
        nums = model.items_.numbers(ids)
        assert not np.isin(nums, seen).any()
        # Every unseen item, each once: the list is shorter than n, with no padding.
        assert len(ids) == n_items - len(seen)
        assert len(np.unique(nums)) == len(nums)
        np.testing.assert_array_equal(ranks, np.arange(1, len(ids) + 1))


def test_recommend_candidates_subset(trained) -> None:  # type: ignore[no-untyped-def]
    model, data, dtype = trained
    ref = reference_scores(model)
    rng = np.random.default_rng(5)
    cand_nums = rng.choice(len(model.items_), size=30, replace=False)
    cand_ids = model.items_.ids(cand_nums)
    users = model.users_.ids()[::7]
    recs = model.recommend(users, n=10, candidates=cand_ids)
    for user_id in users:
        u = model.users_.number(user_id)
        ids, scores, _ = per_user(recs, user_id)
        want = brute_top_n(
            ref[u], 10, exclude=seen_numbers(model, data, user_id), candidates=cand_nums
        )
        assert_ranking(model.items_.numbers(ids), scores, want, ref[u], dtype)
        assert np.isin(ids, cand_ids).all()

    # Repeated candidate ids and a different order change nothing.
    again = model.recommend(users, n=10, candidates=np.concatenate([cand_ids[::-1], cand_ids]))
    np.testing.assert_array_equal(again.item_ids, recs.item_ids)
    np.testing.assert_array_equal(again.scores, recs.scores)


def test_recommend_fewer_candidates_than_n(trained) -> None:  # type: ignore[no-untyped-def]
    model, data, dtype = trained
    user_id = model.users_.ids()[0]
    seen = seen_numbers(model, data, user_id)
    unseen = np.setdiff1d(np.arange(len(model.items_)), seen)
    cand = np.concatenate([seen[:2], unseen[:3]])  # two of them are excluded as seen
    recs = model.recommend([user_id], n=10, candidates=model.items_.ids(cand))
    assert len(recs) == 3
    np.testing.assert_array_equal(np.sort(model.items_.numbers(recs.item_ids)), unseen[:3])
    np.testing.assert_array_equal(recs.ranks, [1, 2, 3])
    assert np.all(np.isfinite(recs.scores))

    # Only seen candidates: an empty list, not padding.
    empty = model.recommend([user_id], n=5, candidates=model.items_.ids(seen[:4]))
    assert len(empty) == 0


def test_recommend_blocklist(trained) -> None:  # type: ignore[no-untyped-def]
    model, data, dtype = trained
    ref = reference_scores(model)
    users = model.users_.ids()[:40]
    plain = model.recommend(users, n=5)
    blocked_ids = np.unique(plain.item_ids)[:6]
    blocked_nums = model.items_.numbers(blocked_ids)
    # An unknown id in the blocklist is ignored (it could never be recommended anyway).
    unknown = "nope" if model.items_.ids().dtype.kind == "U" else -999
    recs = model.recommend(users, n=5, blocklist=np.append(blocked_ids, unknown))
    assert not np.isin(recs.item_ids, blocked_ids).any()
    for user_id in users:
        u = model.users_.number(user_id)
        ids, scores, _ = per_user(recs, user_id)
        want = brute_top_n(
            ref[u], 5, exclude=seen_numbers(model, data, user_id), blocked=blocked_nums
        )
        assert_ranking(model.items_.numbers(ids), scores, want, ref[u], dtype)


def test_recommend_subset_equals_rows_of_all(trained) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = trained
    everyone = model.recommend(None, n=8)
    subset = model.users_.ids()[[17, 3, 150, 42]]  # not in vocabulary order
    recs = model.recommend(subset, n=8)
    # Users come back in the order asked for.
    _, first = np.unique(recs.query_ids, return_index=True)
    order = recs.query_ids[np.sort(first)]
    np.testing.assert_array_equal(order, subset)
    for user_id in subset:
        a, b = per_user(recs, user_id), per_user(everyone, user_id)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    # A scalar user id is one user.
    single = model.recommend(subset[0], n=8)
    np.testing.assert_array_equal(single.item_ids, per_user(everyone, subset[0])[0])


def test_recommend_threads_identical(trained) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = trained
    one = model.recommend(None, n=20, threads=1)
    two = model.recommend(None, n=20, threads=2)
    np.testing.assert_array_equal(one.query_ids, two.query_ids)
    np.testing.assert_array_equal(one.item_ids, two.item_ids)
    np.testing.assert_array_equal(one.scores, two.scores)
    np.testing.assert_array_equal(one.ranks, two.ranks)


def test_recommend_unknown_user_is_keyerror_naming_it(trained) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = trained
    known = model.users_.ids()[0]
    with pytest.raises(KeyError, match="424242"):
        model.recommend([known, 424242], n=5)
    with pytest.raises(KeyError, match="9999"):
        model.recommend([known], n=5, candidates=[model.items_.ids()[0], 9999])


@pytest.mark.parametrize("n", [0, -3, 2.5, True, "10"])
def test_recommend_rejects_bad_n(trained, n: Any) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = trained
    with pytest.raises(ValueError, match="n must be"):
        model.recommend(None, n=n)


def test_recommend_empty_user_list(trained) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = trained
    recs = model.recommend(np.array([], dtype=np.int64), n=5)
    assert len(recs) == 0
    assert list(recs.to_df().columns) == ["user_id", "item_id", "score", "rank"]


def test_to_df_and_for_query(trained) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = trained
    users = model.users_.ids()[:3]
    recs = model.recommend(users, n=4)
    df = recs.to_df()
    assert list(df.columns) == ["user_id", "item_id", "score", "rank"]
    assert len(df) == len(recs) == 12
    np.testing.assert_array_equal(df["user_id"].to_numpy(), np.repeat(users, 4))
    np.testing.assert_array_equal(df["rank"].to_numpy(), np.tile([1, 2, 3, 4], 3))
    np.testing.assert_array_equal(df["item_id"].to_numpy(), recs.item_ids)
    np.testing.assert_array_equal(df["score"].to_numpy(), recs.scores)

    one = recs.for_query(users[1])
    assert isinstance(one, ItemList)
    np.testing.assert_array_equal(one.ids(), recs.item_ids[4:8])
    scores = one.scores()
    assert scores is not None
    np.testing.assert_array_equal(scores, recs.scores[4:8].astype(np.float64))
    rank = one.field("rank")
    assert rank is not None
    np.testing.assert_array_equal(rank, [1, 2, 3, 4])
    assert len(recs.for_query(-12345)) == 0


def test_recommend_ties_by_lower_item_number() -> None:
    """Integer-valued factors make exact ties; the lower item number must rank first."""
    data = generate("tiny", kind="implicit", seed=1)
    model = _train(ImplicitMFScorer, data, "float64")
    rng = np.random.default_rng(0)
    n_users, n_items = len(model.users_), len(model.items_)
    model.user_features_ = rng.integers(0, 2, size=(n_users, FEATURES)).astype(np.float64)
    model.item_features_ = rng.integers(0, 2, size=(n_items, FEATURES)).astype(np.float64)
    ref = reference_scores(model)
    recs = model.recommend(None, n=25)
    for u, user_id in enumerate(model.users_.ids()):
        ids, scores, _ = per_user(recs, user_id)
        want = brute_top_n(ref[u], 25, exclude=seen_numbers(model, data, user_id))
        np.testing.assert_array_equal(model.items_.numbers(ids), want)
        np.testing.assert_array_equal(scores, ref[u][want])


# ---- predict -------------------------------------------------------------------------------


def test_predict_matches_numpy_and_nan_for_unknown(trained) -> None:  # type: ignore[no-untyped-def]
    model, _, dtype = trained
    ref = reference_scores(model)
    rng = np.random.default_rng(9)
    unums = rng.integers(0, len(model.users_), 300)
    inums = rng.integers(0, len(model.items_), 300)
    users = model.users_.ids(unums).astype(object)
    items = model.items_.ids(inums).astype(object)
    users[5], items[6] = 777777, 888888  # unknown user; unknown item
    users[7], items[7] = 777777, 888888
    got = model.predict(users.tolist(), items.tolist())
    assert got.shape == (300,)
    assert got.dtype == np.float64
    want = ref[unums, inums]
    want[[5, 6, 7]] = np.nan
    np.testing.assert_allclose(got, want, **TOL[dtype])
    assert np.isnan(got).sum() == 3

    # Same numbers as scoring one stored user through __call__.
    user_id = model.users_.ids()[4]
    some = model.items_.ids()[:20]
    called = model(user_id, some).scores()
    assert called is not None
    np.testing.assert_allclose(model.predict([user_id] * 20, some), called, **TOL[dtype])


def test_predict_threads_and_shapes(trained) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = trained
    users = np.repeat(model.users_.ids()[:50], 20)
    items = np.tile(model.items_.ids()[:20], 50)
    np.testing.assert_array_equal(
        model.predict(users, items, threads=1), model.predict(users, items, threads=2)
    )
    assert model.predict([], []).shape == (0,)
    with pytest.raises(ValueError, match="equal length"):
        model.predict(users[:3], items[:2])


# ---- similar_items -------------------------------------------------------------------------


def test_similar_items_cosine(trained) -> None:  # type: ignore[no-untyped-def]
    model, _, dtype = trained
    q = model.item_features_.astype(np.float64)
    unit = q / np.linalg.norm(q, axis=1, keepdims=True)
    cosine = unit @ unit.T
    query = model.items_.ids()[[0, 9, 33, 99]]
    sims = model.similar_items(query, n=7)
    df = sims.to_df()
    assert list(df.columns) == ["query_item_id", "item_id", "score", "rank"]
    for item_id in query:
        i = model.items_.number(item_id)
        ids, scores, _ = per_user(sims, item_id)
        want = brute_top_n(cosine[i], 7, exclude=np.array([i]))
        assert item_id not in ids
        assert_ranking(model.items_.numbers(ids), scores, want, cosine[i], dtype)
        assert np.all(scores <= 1 + 1e-5)

    # n beyond the item count: every other item once, never the item itself.
    everything = model.similar_items(query[:1], n=10_000)
    assert len(everything) == len(model.items_) - 1
    assert query[0] not in everything.item_ids

    with pytest.raises(KeyError, match="31337"):
        model.similar_items([31337])


# ---- models that cannot recommend ----------------------------------------------------------


def test_without_user_embeddings(explicit_data: Dataset) -> None:
    model = _train(BiasedMFScorer, explicit_data, "float64", user_embeddings=False)
    with pytest.raises(ValueError, match="user_embeddings"):
        model.recommend(None, n=5)
    assert np.isnan(model.predict([1, 2], [1, 2])).all()
    # Fold-in through __call__ still works, and similar items need no user embeddings.
    history = explicit_data.user_row(1)
    scores = model(RecQuery(1, history), [1, 2, 3]).scores()
    assert scores is not None and np.all(np.isfinite(scores))
    assert len(model.similar_items([1], n=3)) == 3


def test_error_message_points_to_an_existing_method(explicit_data: Dataset) -> None:
    model = _train(BiasedMFScorer, explicit_data, "float64", user_embeddings=False)
    with pytest.raises(ValueError) as info:
        model.recommend(None, n=5)
    if "fold_in_users" in str(info.value):
        assert hasattr(model, "fold_in_users")


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.recommend(None, n=3),
        lambda m: m.predict([1], [1]),
        lambda m: m.similar_items([1], n=3),
    ],
    ids=["recommend", "predict", "similar_items"],
)
def test_untrained_model_raises(call: Any) -> None:
    with pytest.raises(RuntimeError, match="not trained"):
        call(BiasedMFScorer(features=4))


# ---- the native kernels directly -----------------------------------------------------------


def native_reference(
    p: np.ndarray,
    q: np.ndarray,
    n: int,
    excl: list[list[int]] | None = None,
    candidates: np.ndarray | None = None,
    blocked: np.ndarray | None = None,
    user_offsets: np.ndarray | None = None,
    item_offsets: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(rows × min(n, width)) items and scores, padded with -1 / NaN."""
    scores = p.astype(np.float64) @ q.astype(np.float64).T
    if user_offsets is not None:
        scores += user_offsets[:, None]
    if item_offsets is not None:
        scores += item_offsets[None, :]
    width = min(n, len(q) if candidates is None else max(len(candidates), 1))
    items = np.full((len(p), width), -1, dtype=np.int32)
    out = np.full((len(p), width), np.nan)
    for u in range(len(p)):
        top = brute_top_n(
            scores[u],
            width,
            exclude=None if excl is None else np.array(excl[u], dtype=int),
            candidates=candidates,
            blocked=None if blocked is None else np.flatnonzero(blocked),
        )
        items[u, : len(top)] = top
        out[u, : len(top)] = scores[u, top]
    return items, out


def csr(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    indices = np.array([i for r in rows for i in sorted(r)], dtype=np.int32)
    return indptr, indices


def test_native_top_n_ties_lower_item_first() -> None:
    p = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    items, scores = core.top_n(p, q, 4)
    np.testing.assert_array_equal(items, [[0, 2, 3, 5], [1, 3, 4, 0], [3, 0, 1, 2]])
    np.testing.assert_array_equal(scores, [[1, 1, 1, 1], [1, 1, 1, 0], [2, 1, 1, 1]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_native_top_n_all_tied_ignores_candidate_order(dtype: type) -> None:
    """Equal scores everywhere: lower item number first, whatever the candidate order, and
    across the heap boundary (more tied items than n)."""
    p = np.ones((3, 2), dtype=dtype)
    q = np.ones((40, 2), dtype=dtype)
    items, _ = core.top_n(p, q, 5)
    np.testing.assert_array_equal(items, np.tile(np.arange(5), (3, 1)))
    cand = np.arange(39, 9, -1, dtype=np.int32)  # 39, 38, ..., 10
    items, scores = core.top_n(p, q, 5, candidates=cand)
    np.testing.assert_array_equal(items, np.tile(np.arange(10, 15), (3, 1)))
    assert scores.dtype == dtype
    np.testing.assert_array_equal(scores, np.full((3, 5), 2, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_native_top_n_matches_reference_with_everything(dtype: type) -> None:
    rng = np.random.default_rng(4)
    p = rng.standard_normal((600, 6)).astype(dtype)  # more than one block of users
    q = rng.standard_normal((300, 6)).astype(dtype)
    excl = [sorted(rng.choice(300, size=rng.integers(0, 40), replace=False)) for _ in range(600)]
    indptr, indices = csr(excl)
    cand = rng.choice(300, size=120, replace=False).astype(np.int32)
    blocked = np.zeros(300, dtype=bool)
    blocked[rng.choice(300, size=25, replace=False)] = True
    uo = rng.standard_normal(600).astype(dtype)
    io = rng.standard_normal(300).astype(dtype)
    kwargs: dict[str, Any] = dict(
        exclude_indptr=indptr,
        exclude_indices=indices,
        candidates=cand,
        blocked=blocked,
        user_offsets=uo,
        item_offsets=io,
    )
    items, scores = core.top_n(p, q, 12, threads=2, **kwargs)
    items1, scores1 = core.top_n(p, q, 12, threads=1, **kwargs)
    np.testing.assert_array_equal(items, items1)
    np.testing.assert_array_equal(scores, scores1)
    want_items, want_scores = native_reference(p, q, 12, excl, cand, blocked, uo, io)
    ref = p.astype(np.float64) @ q.astype(np.float64).T + uo[:, None] + io[None, :]
    tol = TOL["float32" if dtype is np.float32 else "float64"]
    assert items.shape == (600, 12)
    for u in range(600):
        assert_ranking(items[u], scores[u], want_items[u], ref[u], np.dtype(dtype).name)
    np.testing.assert_allclose(scores, want_scores, **tol)


def test_native_top_n_pads_when_fewer_than_n() -> None:
    p = np.array([[1.0, 0.0], [0.0, 1.0]])
    q = np.array([[3.0, 0.0], [2.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    indptr, indices = csr([[0, 1, 3], []])
    items, scores = core.top_n(p, q, 10, exclude_indptr=indptr, exclude_indices=indices)
    assert items.shape == (2, 4)  # no list can be longer than the item count
    np.testing.assert_array_equal(items[0], [2, -1, -1, -1])
    assert scores[0, 0] == 1.0 and np.isnan(scores[0, 1:]).all()
    np.testing.assert_array_equal(items[1], [3, 2, 0, 1])
    np.testing.assert_array_equal(scores[1], [2.0, 1.0, 0.0, 0.0])

    # Candidates all excluded: one padded column per user.
    items, scores = core.top_n(
        p,
        q,
        3,
        exclude_indptr=indptr,
        exclude_indices=indices,
        candidates=np.array([1, 0], dtype=np.int32),
        blocked=np.array([0, 0, 0, 1], bool),
    )
    np.testing.assert_array_equal(items, [[-1, -1], [0, 1]])
    assert np.isnan(scores[0]).all()


def test_native_top_n_never_returns_nan() -> None:
    p = np.array([[1.0, 1.0], [np.nan, 0.0]])
    q = np.array([[1.0, 0.0], [np.nan, 1.0], [0.5, 0.5], [np.inf, -np.inf]])
    items, scores = core.top_n(p, q, 4)
    np.testing.assert_array_equal(items[0], [0, 2, -1, -1])
    np.testing.assert_array_equal(scores[0, :2], [1.0, 1.0])
    np.testing.assert_array_equal(items[1], [-1, -1, -1, -1])
    assert np.isnan(scores[:, 2:]).all()
    # Wherever an item is returned, its score is a number.
    assert np.isfinite(scores[items >= 0]).all()


P2 = np.ones((2, 3))
Q4 = np.ones((4, 3))


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        (dict(n=0), ValueError, "n"),
        (dict(n=-2), ValueError, "n"),
        (dict(item_factors=np.ones((4, 2))), ValueError, "item_factors"),
        (dict(item_factors=np.ones((4, 3), np.float32)), TypeError, "item_factors"),
        (dict(user_factors=np.ones((2, 3), np.int64)), TypeError, "user_factors"),
        (dict(user_factors=np.asfortranarray(np.ones((3, 2)).T)), ValueError, "user_factors"),
        (dict(candidates=np.array([1, 2, 1], np.int32)), ValueError, "candidates"),
        (dict(candidates=np.array([0, 4], np.int32)), ValueError, "candidates"),
        (dict(candidates=np.array([-1], np.int32)), ValueError, "candidates"),
        (dict(candidates=np.array([0, 1], np.int64)), TypeError, "candidates"),
        (dict(blocked=np.zeros(4, np.uint8)), TypeError, "blocked"),
        (dict(blocked=np.zeros(4, np.int32)), TypeError, "blocked"),
        (dict(blocked=np.zeros(3, bool)), ValueError, "blocked"),
        (dict(user_offsets=np.zeros(3)), ValueError, "user_offsets"),
        (dict(item_offsets=np.zeros(4, np.float32)), TypeError, "item_offsets"),
        (dict(exclude_indptr=np.array([0, 0, 0])), ValueError, "exclude_indices"),
        (
            dict(exclude_indptr=np.array([0, 1]), exclude_indices=np.array([0], np.int32)),
            ValueError,
            "exclude_indptr",
        ),
        (dict(threads=-1), ValueError, "threads"),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, dict) else None,
)
def test_native_top_n_bad_arguments(kwargs: dict[str, Any], error: type, name: str) -> None:
    args: dict[str, Any] = dict(user_factors=P2, item_factors=Q4, n=2)
    args.update(kwargs)
    with pytest.raises(error, match=rf"\b{name}\b"):
        core.top_n(args.pop("user_factors"), args.pop("item_factors"), args.pop("n"), **args)


def test_native_top_n_bad_exclude_index_names_argument() -> None:
    with pytest.raises(ValueError, match="exclude_indices"):
        core.top_n(
            P2,
            Q4,
            2,
            exclude_indptr=np.array([0, 1, 1]),
            exclude_indices=np.array([9], np.int32),
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_native_score_pairs(dtype: type) -> None:
    rng = np.random.default_rng(2)
    p = rng.standard_normal((30, 5)).astype(dtype)
    q = rng.standard_normal((20, 5)).astype(dtype)
    uo = rng.standard_normal(30).astype(dtype)
    io = rng.standard_normal(20).astype(dtype)
    un = rng.integers(0, 30, 500).astype(np.int32)
    inn = rng.integers(0, 20, 500).astype(np.int32)
    got = core.score_pairs(p, q, un, inn, user_offsets=uo, item_offsets=io, threads=2)
    assert got.dtype == dtype
    want = np.einsum("nk,nk->n", p[un].astype(np.float64), q[inn].astype(np.float64))
    want += uo[un] + io[inn]
    tol = TOL["float32" if dtype is np.float32 else "float64"]
    np.testing.assert_allclose(got, want, **tol)
    np.testing.assert_array_equal(
        got, core.score_pairs(p, q, un, inn, user_offsets=uo, item_offsets=io, threads=1)
    )
    with pytest.raises(ValueError, match="item_nums"):
        core.score_pairs(p, q, un[:1], np.array([20], np.int32))
    with pytest.raises(ValueError, match="user_nums"):
        core.score_pairs(p, q, np.array([-1], np.int32), inn[:1])
    with pytest.raises(TypeError, match="user_nums"):
        core.score_pairs(p, q, un.astype(np.int64), inn)
    with pytest.raises(ValueError, match="differ in length"):
        core.score_pairs(p, q, un[:2], inn[:3])


def test_recommendations_repr_shows_the_first_rows(trained) -> None:  # type: ignore[no-untyped-def]
    model = trained[0]
    recs = model.recommend(n=3)
    lines = repr(recs).splitlines()
    users = len(np.unique(recs.query_ids))
    assert lines[0] == f"Recommendations({len(recs)} rows for {users} users)"
    assert lines[1].split() == ["user_id", "item_id", "score", "rank"]
    first = [str(recs.query_ids[0]), str(recs.item_ids[0]), f"{recs.scores[0]:.4f}", "1"]
    assert lines[2].split() == first
    assert lines[-1] == f"... {len(recs) - 10} more rows"
    one = model.recommend(users=recs.query_ids[:1], n=2)
    assert repr(one).splitlines()[0] == "Recommendations(2 rows for 1 user)"
