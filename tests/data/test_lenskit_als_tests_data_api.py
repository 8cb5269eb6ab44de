"""The data-API calls of LensKit 2025.1's own ALS tests (tests/models/test_als_*.py), replayed
against alskit's standalone API: the calls and their results' shapes, not LensKit's numbers
(the math is held to LensKit elsewhere)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from alskit import BiasedMFScorer, ImplicitMFScorer
from alskit.data import Dataset, ItemList, RecQuery, from_interactions_df
from alskit.evaluation import measure
from ml100k import needs_ml100k

# LensKit's simple_df: legacy 'user'/'item' column names
SIMPLE = pd.DataFrame(
    {"item": [1, 1, 2, 3], "user": [10, 12, 10, 13], "rating": [4.0, 3.0, 5.0, 2.0]}
)


@pytest.mark.parametrize("cls", [BiasedMFScorer, ImplicitMFScorer])
def test_simple_predictions_as_lenskit_reads_them(cls: type) -> None:
    ds = from_interactions_df(SIMPLE)
    algo = cls(features=4, epochs=3)
    algo.train(ds)
    assert set(algo.users_.ids()) == {10, 12, 13} and set(algo.items_.ids()) == {1, 2, 3}
    preds = algo(query=10, items=ItemList([3])).scores("pandas", index="ids")
    assert len(preds) == 1 and preds.index[0] == 3 and np.isfinite(preds.iloc[0])
    query = RecQuery(15, ItemList(item_ids=[1, 2], rating=[4.0, 5.0]))
    new = algo(query, items=ItemList([3])).scores("pandas", index="ids")
    assert new.index[0] == 3 and np.isfinite(new.loc[3])


@pytest.fixture(scope="module")
def ml_ds(ml100k: Dataset) -> Dataset:
    return ml100k


@needs_ml100k
def test_item_stats_give_lenskit_damped_item_means(ml_ds: Dataset) -> None:
    algo = BiasedMFScorer(features=5, epochs=2, damping=5)
    algo.train(ml_ds)
    ratings = ml_ds.interaction_matrix(format="pandas")
    gmean = ratings["rating"].mean()
    assert algo.bias_.global_bias == pytest.approx(gmean)
    istats = ml_ds.item_stats()
    icounts = istats["rating_count"]
    imeans = (istats["mean_rating"] * icounts - icounts * gmean) / (icounts + 5)
    ibias = pd.Series(algo.bias_.item_biases, index=algo.items_.index)
    imeans, ibias = imeans.align(ibias, fill_value=0.0)
    assert ibias.to_numpy() == pytest.approx(imeans.to_numpy(), rel=1e-3)
    assert len(algo.items_) == ml_ds.item_count and len(algo.users_) == ml_ds.user_count


@needs_ml100k
def test_pickled_model_keeps_its_vocabulary_indexes(ml_ds: Dataset) -> None:
    original = BiasedMFScorer(features=5, epochs=2)
    original.train(ml_ds)
    algo = pickle.loads(pickle.dumps(original))
    assert np.all(algo.items_.index == original.items_.index)
    assert np.all(algo.users_.index == original.users_.index)
    preds = algo(query=10, items=ItemList(np.arange(0, 50, dtype="i8")))
    assert len(preds) == 50


@needs_ml100k
def test_fold_in_from_a_user_row(ml_ds: Dataset) -> None:
    algo = ImplicitMFScorer(features=5, epochs=2)
    algo.train(ml_ds)
    rng = np.random.default_rng(1)
    items = ItemList(rng.choice(ml_ds.items.ids(), 10))
    for u in rng.choice(ml_ds.users.ids(), 3):
        user_data = ml_ds.user_row(u)
        assert user_data is not None
        assert "rating" in user_data.to_df().columns
        rows = algo.item_features_[user_data.numbers(vocabulary=algo.items_), :]
        assert rows.shape == (len(user_data), 5)
        old = algo(u, items).scores("pandas", index="ids")
        new = algo(RecQuery(-1, user_data), items).scores("pandas", index="ids")
        assert old.index.equals(new.index)
        assert np.isfinite(new.to_numpy()).all() and np.isfinite(old.to_numpy()).all()


@needs_ml100k
def test_measure_reads_as_lenskits_quick_measure(ml_ds: Dataset) -> None:
    frame = ml_ds.interaction_matrix(format="pandas", original_ids=True)
    ds = from_interactions_df(frame)
    results = measure(BiasedMFScorer(features=10, epochs=5, damping=5), ds, predicts_ratings=True)
    assert results.global_metrics()["MAE"] == pytest.approx(0.73, abs=0.06)
    assert results.list_summary().loc["RMSE", "mean"] == pytest.approx(0.94, abs=0.07)
