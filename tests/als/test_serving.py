"""One scoring path (als/_serving.py): the same (user embedding, item) pair gets the same bits
from ``model(query, items)``, ``predict``, ``recommend`` and the evaluation protocol, for both
scorers and both dtypes (compared with ``==``, not a tolerance)."""

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
    RecQuery,
    TrainingOptions,
)
from alskit.evaluation import measure, recommend_unrated, sample_users
from alskit.evaluation.protocol import recommend_unrated_batch
from alskit.synthetic import generate

MODELS = [
    pytest.param((cls, dtype), id=f"{cls.__name__}-{dtype}")
    for cls in (BiasedMFScorer, ImplicitMFScorer)
    for dtype in ("float32", "float64")
]


@pytest.fixture(scope="module")
def data() -> Dataset:
    return generate("tiny", kind="explicit", seed=5)


@pytest.fixture(scope="module", params=MODELS)
def model(request: pytest.FixtureRequest, data: Dataset) -> ALSBase:
    cls, dtype = request.param
    scorer: ALSBase = cls(features=6, epochs=3, dtype=dtype)
    scorer.train(data, TrainingOptions(rng=4, threads=2, progress=False))
    return scorer


def _scores(result: ItemList) -> np.ndarray[Any, Any]:
    scores = result.scores()
    assert scores is not None
    return scores


def test_recommend_predict_and_call_agree_bit_for_bit(model: ALSBase) -> None:
    users = model.users_.ids()[:25]
    recs = model.recommend(users, n=7).to_df()
    predicted = model.predict(recs["user_id"].to_numpy(), recs["item_id"].to_numpy())
    assert np.array_equal(recs["score"].to_numpy(np.float64), predicted)
    for user, group in recs.groupby("user_id", sort=False):
        called = _scores(model(RecQuery(user), ItemList(group["item_id"].to_numpy())))
        assert np.array_equal(called, group["score"].to_numpy(np.float64)), user


def test_recommend_ranks_by_the_returned_scores(model: ALSBase) -> None:
    recs = model.recommend(n=10).to_df()
    for _, group in recs.groupby("user_id", sort=False):
        scores = group["score"].to_numpy()
        assert np.all(scores[:-1] >= scores[1:])


def test_folded_in_scores_are_the_same_on_every_path(model: ALSBase, data: Dataset) -> None:
    users = list(model.users_.ids()[:20])
    lists = recommend_unrated_batch(model, data, users, 9, threads=2)
    for user, recs in zip(users, lists, strict=True):
        history = data.user_row(user)
        called = _scores(model(RecQuery(user, history), ItemList(recs.ids())))
        assert np.array_equal(called, _scores(recs).astype(np.float64)), user
        assert not np.isin(recs.ids(), history.ids()).any()
        single = recommend_unrated(model, data, user, 9)
        assert np.array_equal(single.ids(), recs.ids())
        assert np.array_equal(_scores(single), _scores(recs))


def test_fold_in_batch_equals_one_at_a_time(model: ALSBase, data: Dataset) -> None:
    histories = [data.user_row(u) for u in model.users_.ids()[:15]]
    assert all(h is not None for h in histories)
    batch, biases = model.fold_in_users(histories, threads=3)  # type: ignore[arg-type]
    for i, history in enumerate(histories):
        assert history is not None
        one, bias = model.new_user_embedding(None, history)
        assert np.array_equal(one, batch[i])
        assert (bias is None) == (biases is None)
        if biases is not None:
            assert bias == biases[i]


def test_measure_uses_the_scores_of_the_scoring_path(data: Dataset) -> None:
    """The measured per-user NDCG equals the one computed from ``model(query, items)``."""
    from alskit.evaluation import metrics

    model = BiasedMFScorer(features=5, epochs=2)
    split = sample_users(data, 12, 0.25, rng=np.random.default_rng(8))
    result = measure(model, data, split=split, n=6, rng=3)
    expected = []
    for user, truth in split.test.items():
        if not len(truth):
            continue
        history = split.train.user_row(user)
        assert history is not None
        candidates = split.train.items.ids()
        candidates = candidates[~np.isin(candidates, history.ids())]
        scores = _scores(model(RecQuery(user, history), ItemList(candidates)))
        order = np.lexsort((np.arange(len(scores)), -scores))[:6]
        expected.append(metrics.ndcg(candidates[order], truth.ids()))
    assert np.array_equal(result.per_user["NDCG"], np.asarray(expected))
