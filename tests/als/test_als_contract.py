"""The scorer contract shared by both ALS scorers (LensKit reference §1.8 and §2), on ML-100K,
plus the small explicit/implicit examples LensKit's own tests use.

``ml100k`` is the session fixture of ``conftest.py`` (skips when the shared data is absent).
"""

from __future__ import annotations

import pickle
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

UNKNOWN_USER = -42
UNKNOWN_ITEM = -17


def options(seed: int = 42) -> TrainingOptions:
    return TrainingOptions(rng=seed, threads=2)


def scores_of(result: ItemList) -> np.ndarray:
    scores = result.scores()
    assert scores is not None
    return scores


@pytest.mark.parametrize("cls", [BiasedMFScorer, ImplicitMFScorer], scope="class")
class TestScorerContract:
    """One trained default model per scorer (class-scoped); every test only reads it."""

    # Class-scoped fixtures are classmethods: pytest 9+ deprecates instance-method ones.
    @pytest.fixture(scope="class")
    @classmethod
    def model(cls_, cls: type[ALSBase], ml100k: Dataset) -> ALSBase:  # noqa: N804
        model = cls()
        model.train(ml100k, options())
        return model

    @pytest.fixture(scope="class")
    @classmethod
    def variants(  # noqa: N804
        cls_, cls: type[ALSBase], ml100k: Dataset
    ) -> dict[Any, ALSBase]:
        """Small models (same seed for every mode), one per user_embeddings mode."""
        models = {}
        for mode in (True, False, "prefer"):
            model = cls(features=10, epochs=4, user_embeddings=mode)
            model.train(ml100k, options(seed=3))
            models[mode] = model
        return models

    @pytest.fixture
    def rng(self) -> np.random.Generator:
        return np.random.default_rng(42)

    # ---- basics ----------------------------------------------------------------------------

    def test_default_instance(self, cls: type[ALSBase]) -> None:
        scorer = cls()
        assert scorer.config == cls.config_class()()
        dumped = scorer.dump_config()
        assert cls.validate_config(dumped).model_dump(mode="json") == dumped

    def test_trained_state(self, model: ALSBase, ml100k: Dataset) -> None:
        assert model.trained_epochs == 10
        assert len(model.users_) == ml100k.user_count == 943
        assert len(model.items_) == ml100k.item_count == 1682
        assert model.user_features_ is not None
        assert model.user_features_.shape == (943, 50)
        assert model.item_features_.shape == (1682, 50)
        assert np.all(np.isfinite(model.user_features_))
        assert np.all(np.isfinite(model.item_features_))

    def test_skip_retrain(self, model: ALSBase, ml100k: Dataset) -> None:
        before = pickle.dumps(model)
        model.train(ml100k, TrainingOptions(retrain=False))
        assert pickle.dumps(model) == before

    # ---- scoring ---------------------------------------------------------------------------

    def test_score_known(self, model: ALSBase, ml100k: Dataset, rng: np.random.Generator) -> None:
        users = rng.choice(ml100k.users.ids(), 100, replace=False)
        for user in users:
            items = rng.choice(ml100k.items.ids(), 100, replace=False)
            result = model(user, items)
            assert len(result) == 100
            np.testing.assert_array_equal(result.ids(), items)
            assert np.all(np.isfinite(scores_of(result)))

    def test_score_known_with_numpy_and_recquery(self, model: ALSBase, ml100k: Dataset) -> None:
        user = ml100k.users.ids()[5]
        items = ml100k.items.ids()[[9, 3, 500]]
        plain = scores_of(model(int(user), items))
        np.testing.assert_array_equal(scores_of(model(np.int64(user), items)), plain)
        np.testing.assert_array_equal(scores_of(model(RecQuery(int(user)), items)), plain)
        np.testing.assert_array_equal(scores_of(model(int(user), list(items))), plain)
        np.testing.assert_array_equal(scores_of(model(int(user), ItemList(items))), plain)
        # an empty history falls back to the stored row
        empty = RecQuery(int(user), ItemList([], rating=[]))
        np.testing.assert_array_equal(scores_of(model(empty, items)), plain)

    def test_score_unknown_user(self, model: ALSBase, ml100k: Dataset) -> None:
        items = ml100k.items.ids()[:50]
        result = model(UNKNOWN_USER, items)
        assert len(result) == 50
        np.testing.assert_array_equal(result.ids(), items)
        assert np.all(np.isnan(scores_of(result)))

    def test_score_unknown_item(
        self, model: ALSBase, ml100k: Dataset, rng: np.random.Generator
    ) -> None:
        known = rng.choice(ml100k.items.ids(), 20, replace=False)
        items = np.concatenate([known[:10], [UNKNOWN_ITEM, 99999], known[10:]])
        user = ml100k.users.ids()[0]
        result = model(user, items)
        np.testing.assert_array_equal(result.ids(), items)
        expected_nums = model.items_.numbers(items, missing="negative")
        np.testing.assert_array_equal(result.numbers(missing="negative"), expected_nums)
        scores = scores_of(result)
        assert np.all(np.isnan(scores[10:12]))
        assert np.all(np.isfinite(np.delete(scores, [10, 11])))

    def test_score_empty_query(self, model: ALSBase, ml100k: Dataset) -> None:
        items = ml100k.items.ids()[[7, 1, 30]]
        for query in (None, RecQuery()):
            result = model(query, items)
            assert len(result) == 3
            np.testing.assert_array_equal(result.ids(), items)
            assert np.all(np.isnan(scores_of(result)))

    def test_score_query_history(
        self, model: ALSBase, ml100k: Dataset, rng: np.random.Generator
    ) -> None:
        user = ml100k.users.ids()[17]
        history = ml100k.user_row(user)
        assert history is not None
        items = rng.choice(ml100k.items.ids(), 100, replace=False)
        result = model(RecQuery(user, history), items)
        np.testing.assert_array_equal(result.ids(), items)
        assert np.all(np.isfinite(scores_of(result)))

    def test_score_query_history_only(
        self, model: ALSBase, ml100k: Dataset, rng: np.random.Generator
    ) -> None:
        history = ml100k.user_row(ml100k.users.ids()[40])
        assert history is not None
        known = rng.choice(ml100k.items.ids(), 30, replace=False)
        items = np.append(known, UNKNOWN_ITEM)
        for query in (RecQuery(None, history), history, RecQuery(UNKNOWN_USER, history)):
            result = model(query, items)
            np.testing.assert_array_equal(result.ids(), items)
            scores = scores_of(result)
            assert np.all(np.isfinite(scores[:-1]))
            assert np.isnan(scores[-1])

    def test_history_with_unknown_items(self, model: ALSBase, ml100k: Dataset) -> None:
        history = ml100k.user_row(ml100k.users.ids()[3])
        assert history is not None
        ids = np.append(history.ids(), [UNKNOWN_ITEM])
        ratings = np.append(history.field("rating"), [5.0])
        extended = ItemList(ids, rating=ratings)
        items = ml100k.items.ids()[:20]
        scores = scores_of(model(RecQuery(None, extended), items))
        assert np.all(np.isfinite(scores))

    def test_score_empty_items(self, model: ALSBase, ml100k: Dataset) -> None:
        user = ml100k.users.ids()[0]
        history = ml100k.user_row(user)
        for query in (user, RecQuery(user, history), UNKNOWN_USER, None):
            for items in (ItemList(np.array([], dtype=np.int64)), np.array([], dtype=np.int64)):
                result = model(query, items)
                assert len(result) == 0
                assert len(scores_of(result)) == 0

    def test_score_default_items_empty(self, model: ALSBase, ml100k: Dataset) -> None:
        result = model(ml100k.users.ids()[0])
        assert len(result) == 0

    def test_pickle_roundtrip(
        self, model: ALSBase, ml100k: Dataset, rng: np.random.Generator
    ) -> None:
        copy = pickle.loads(pickle.dumps(model))
        items = np.append(rng.choice(ml100k.items.ids(), 50, replace=False), UNKNOWN_ITEM)
        users = list(rng.choice(ml100k.users.ids(), 5, replace=False)) + [UNKNOWN_USER]
        for user in users:
            np.testing.assert_allclose(
                scores_of(copy(user, items)), scores_of(model(user, items)), equal_nan=True
            )
        history = ml100k.user_row(users[0])
        np.testing.assert_allclose(
            scores_of(copy(RecQuery(None, history), items)),
            scores_of(model(RecQuery(None, history), items)),
            equal_nan=True,
        )

    # ---- user_embeddings modes ---------------------------------------------------------------

    def test_user_embeddings_true(self, variants: dict[Any, ALSBase], ml100k: Dataset) -> None:
        model = variants[True]
        assert model.user_features_ is not None
        user = ml100k.users.ids()[10]
        history = ml100k.user_row(user)
        items = ml100k.items.ids()[:40]
        stored = scores_of(model(user, items))
        folded = scores_of(model(RecQuery(user, history), items))
        anonymous = scores_of(model(RecQuery(None, history), items))
        assert np.all(np.isfinite(stored)) and np.all(np.isfinite(folded))
        # a history is folded in (solved against the final Q, unlike the stored row)
        assert not np.array_equal(stored, folded)
        np.testing.assert_allclose(folded, anonymous, rtol=1e-12)
        # unknown user with a history is folded in too
        unknown = scores_of(model(RecQuery(UNKNOWN_USER, history), items))
        np.testing.assert_allclose(unknown, anonymous, rtol=1e-12)

    def test_user_embeddings_false(self, variants: dict[Any, ALSBase], ml100k: Dataset) -> None:
        model, keeper = variants[False], variants[True]
        assert model.user_features_ is None
        user = ml100k.users.ids()[10]
        history = ml100k.user_row(user)
        items = ml100k.items.ids()[:40]
        # id only: nothing to score with
        assert np.all(np.isnan(scores_of(model(user, items))))
        assert np.all(np.isnan(scores_of(model(RecQuery(user), items))))
        # with a history: folded in, exactly as the model that kept P does it
        folded = scores_of(model(RecQuery(user, history), items))
        assert np.all(np.isfinite(folded))
        np.testing.assert_allclose(
            folded, scores_of(keeper(RecQuery(user, history), items)), rtol=1e-12
        )
        assert np.all(np.isfinite(scores_of(model(RecQuery(None, history), items))))

    def test_user_embeddings_prefer(self, variants: dict[Any, ALSBase], ml100k: Dataset) -> None:
        model, keeper = variants["prefer"], variants[True]
        assert model.user_features_ is not None
        user = ml100k.users.ids()[10]
        history = ml100k.user_row(user)
        items = ml100k.items.ids()[:40]
        stored = scores_of(model(user, items))
        assert np.all(np.isfinite(stored))
        # the history is ignored for a known user: the stored row is used
        np.testing.assert_array_equal(scores_of(model(RecQuery(user, history), items)), stored)
        np.testing.assert_array_equal(scores_of(keeper(user, items)), stored)
        # unknown user with a history: no fold-in, so NaN
        assert np.all(np.isnan(scores_of(model(RecQuery(UNKNOWN_USER, history), items))))
        assert np.all(np.isnan(scores_of(model(RecQuery(None, history), items))))

    def test_thread_count_does_not_change_the_model(
        self, cls: type[ALSBase], ml100k: Dataset
    ) -> None:
        models = []
        for threads in (1, 2):
            model = cls(features=8, epochs=2)
            model.train(ml100k, TrainingOptions(rng=5, threads=threads))
            models.append(model)
        one, two = models
        assert one.user_features_ is not None and two.user_features_ is not None
        assert np.array_equal(one.user_features_, two.user_features_)
        assert np.array_equal(one.item_features_, two.item_features_)

    # ---- other training data ---------------------------------------------------------------

    def test_run_with_doubles(self, cls: type[ALSBase], ml100k: Dataset) -> None:
        pd = pytest.importorskip("pandas")
        df = ml100k.interactions_df()
        df["rating"] = df["rating"].astype("f8")
        ds = Dataset.from_interactions_df(df)
        assert ds.ratings is not None and ds.ratings.dtype == np.float64
        model = cls(features=10, epochs=2)
        model.train(ds, options())
        user = ds.users.ids()[0]
        items = ds.items.ids()[:10]
        assert np.all(np.isfinite(scores_of(model(user, items))))
        # integer ratings train the same model as their float64 copies
        df_int = df.assign(rating=df["rating"].astype("i8"))
        assert isinstance(df_int, pd.DataFrame)
        other = cls(features=10, epochs=2)
        other.train(Dataset.from_interactions_df(df_int), options())
        np.testing.assert_array_equal(other.item_features_, model.item_features_)

    def test_train_score_items_missing_data(
        self, cls: type[ALSBase], ml100k: Dataset, rng: np.random.Generator
    ) -> None:
        dropped_items = rng.choice(ml100k.items.ids(), 20, replace=False)
        dropped_users = rng.choice(ml100k.users.ids(), 5, replace=False)
        user_ids = ml100k.users.ids(ml100k.user_nums)
        item_ids = ml100k.items.ids(ml100k.item_nums)
        keep = ~np.isin(item_ids, dropped_items) & ~np.isin(user_ids, dropped_users)
        assert ml100k.ratings is not None
        ds = Dataset.from_arrays(
            user_ids[keep],
            item_ids[keep],
            ml100k.ratings[keep],
            users=ml100k.users,
            items=ml100k.items,
        )
        assert ds.user_count == ml100k.user_count and ds.item_count == ml100k.item_count
        model = cls(features=10, epochs=3)
        model.train(ds, options())
        assert model.user_features_ is not None
        dropped_unums = ds.users.numbers(dropped_users)
        dropped_inums = ds.items.numbers(dropped_items)
        assert np.all(model.user_features_[dropped_unums] == 0)
        assert np.all(model.item_features_[dropped_inums] == 0)

        items = rng.permutation(
            np.concatenate([dropped_items, rng.choice(ml100k.items.ids(), 30, replace=False)])
        )
        for user in list(rng.choice(ml100k.users.ids(), 5, replace=False)) + list(dropped_users):
            result = model(user, items)
            assert len(result) == len(items)
            np.testing.assert_array_equal(result.ids(), items)
            # every user and item is in the vocabulary: everything gets a finite score
            assert np.all(np.isfinite(scores_of(result)))
        # a dropped user with zero embedding: only the biases are left
        scores = scores_of(model(dropped_users[0], items))
        if cls is ImplicitMFScorer:
            assert np.all(scores == 0)
        else:
            bias = model.bias_  # type: ignore[attr-defined]
            nums = ds.items.numbers(items)
            expected = bias.global_bias + bias.item_biases[nums]
            rtol = 1e-12 if model.dtype == np.float64 else 1e-6  # scored in the dtype
            np.testing.assert_allclose(scores, expected, rtol=rtol)


# ---------------------------------------------------------------------------------------------
# LensKit's small examples
# ---------------------------------------------------------------------------------------------

SIMPLE_ITEMS = [1, 1, 2, 3]
SIMPLE_USERS = [10, 12, 10, 13]
SIMPLE_RATINGS = [4.0, 3.0, 5.0, 2.0]


@pytest.fixture(scope="module")
def simple() -> Dataset:
    return Dataset.from_arrays(SIMPLE_USERS, SIMPLE_ITEMS, SIMPLE_RATINGS)


@pytest.fixture(scope="module")
def simple_unrated() -> Dataset:
    return Dataset.from_arrays(SIMPLE_USERS, SIMPLE_ITEMS)


@pytest.fixture(scope="module")
def explicit_simple(simple: Dataset) -> BiasedMFScorer:
    model = BiasedMFScorer(features=20, epochs=10)
    model.train(simple, options())
    return model


def new_ratings() -> ItemList:
    return ItemList.from_ratings({1: 4.0, 2: 5.0})


def test_explicit_basic_build(explicit_simple: BiasedMFScorer) -> None:
    model = explicit_simple
    assert model.bias_.global_bias == pytest.approx(np.mean(SIMPLE_RATINGS))
    assert set(model.users_.ids().tolist()) == {10, 12, 13}
    assert set(model.items_.ids().tolist()) == {1, 2, 3}
    assert model.user_features_ is not None
    assert model.user_features_.shape == (3, 20)
    assert model.item_features_.shape == (3, 20)


def test_explicit_predict_basic(explicit_simple: BiasedMFScorer) -> None:
    result = explicit_simple(10, [3])
    assert len(result) == 1
    assert result.ids().tolist() == [3]
    score = scores_of(result)[0]
    assert -0.1 <= score <= 5.1


def test_explicit_predict_new_user_new_ratings(explicit_simple: BiasedMFScorer) -> None:
    result = explicit_simple(RecQuery(15, new_ratings()), [3])
    assert result.ids().tolist() == [3]
    score = scores_of(result)[0]
    assert -0.1 <= score <= 5.1


def test_explicit_fold_in_close_to_stored(explicit_simple: BiasedMFScorer) -> None:
    stored = scores_of(explicit_simple(10, [3]))[0]
    folded = scores_of(explicit_simple(RecQuery(-1, new_ratings()), [3]))[0]
    assert folded == pytest.approx(stored, rel=9e-2)


def test_explicit_predict_bad_item(explicit_simple: BiasedMFScorer) -> None:
    result = explicit_simple(10, [4])
    assert result.ids().tolist() == [4]
    assert np.isnan(scores_of(result)[0])


def test_explicit_predict_bad_user(explicit_simple: BiasedMFScorer) -> None:
    result = explicit_simple(50, [3])
    assert result.ids().tolist() == [3]
    assert np.isnan(scores_of(result)[0])


def test_explicit_fold_in_needs_ratings(explicit_simple: BiasedMFScorer) -> None:
    with pytest.raises(ValueError, match="rating"):
        explicit_simple(RecQuery(15, ItemList([1, 2])), [3])


def test_explicit_no_user_features(simple: Dataset, explicit_simple: BiasedMFScorer) -> None:
    model = BiasedMFScorer(features=20, epochs=10, user_embeddings=False)
    model.train(simple, options())
    assert model.user_features_ is None
    query = RecQuery(10, ItemList.from_ratings({1: 4.0, 2: 5.0}))
    folded = scores_of(model(query, [3]))[0]
    stored = scores_of(explicit_simple(10, [3]))[0]
    assert folded == pytest.approx(stored, rel=9e-1)


@pytest.mark.parametrize("rated", [False, True])
def test_implicit_basic_build_and_predict(
    rated: bool, simple: Dataset, simple_unrated: Dataset
) -> None:
    model = ImplicitMFScorer(features=20, epochs=10, use_ratings=rated)
    model.train(simple if rated else simple_unrated, options())
    assert model.user_features_ is not None
    assert model.user_features_.shape == (3, 20)
    assert model.item_features_.shape == (3, 20)
    score = scores_of(model(10, [3]))[0]
    assert -0.1 <= score <= 5
    history = new_ratings()
    new = scores_of(model(RecQuery(15, history), [3]))[0]
    assert -0.1 <= new <= 5
    assert np.isnan(scores_of(model(10, [4]))[0])
    assert np.isnan(scores_of(model(50, [3]))[0])


def test_implicit_fold_in_close_to_stored_with_ratings(simple: Dataset) -> None:
    model = ImplicitMFScorer(features=20, epochs=10, use_ratings=True)
    model.train(simple, options())
    stored = scores_of(model(10, [3]))[0]
    folded = scores_of(model(RecQuery(-1, new_ratings()), [3]))[0]
    assert abs(folded - stored) <= 0.1


def test_implicit_use_ratings_needs_ratings_in_history(simple: Dataset) -> None:
    model = ImplicitMFScorer(features=5, epochs=2, use_ratings=True)
    model.train(simple, options())
    with pytest.raises(ValueError, match="rating"):
        model(RecQuery(15, ItemList([1, 2])), [3])


# Regression: the output used to drop the input list's fields; LensKit keeps them.
@pytest.mark.parametrize("query", ["stored", "unknown", "fold-in"])
def test_output_keeps_input_fields(explicit_simple: BiasedMFScorer, query: str) -> None:
    items = ItemList([3, 1, 4], rating=[2.0, 4.0, 1.0])
    q: Any = {"stored": 10, "unknown": 50, "fold-in": RecQuery(15, new_ratings())}[query]
    result = explicit_simple(q, items)
    assert result.ids().tolist() == [3, 1, 4]
    rating = result.field("rating")
    assert rating is not None
    np.testing.assert_array_equal(rating, [2.0, 4.0, 1.0])
