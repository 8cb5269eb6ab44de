"""alskit.lenskit against LensKit itself: LensKit's own contract suites (lenskit.testing),
its pipelines, batch inference and evaluation, and equality with alskit's own API.

Runs only where LensKit is installed (the .ci/lenskit job, or ``pip install 'alskit[lenskit]'``);
a plain run skips the whole module with the reason.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ml100k import ML100K, ML100K_MISSING

pytest.importorskip(
    "lenskit",
    reason="LensKit is not installed: the adapter tests run in .ci/lenskit "
    "(pip install 'alskit[lenskit]' torch lenskit)",
)
if ML100K_MISSING:
    pytest.skip(ML100K_MISSING, allow_module_level=True)

import lenskit.als  # noqa: E402
from lenskit.batch import BatchPipelineRunner, predict, recommend  # noqa: E402
from lenskit.data import Dataset, ItemList, RecQuery, from_interactions_df  # noqa: E402
from lenskit.metrics import NDCG, RMSE, RunAnalysis  # noqa: E402
from lenskit.pipeline import Component, predict_pipeline, topn_pipeline  # noqa: E402
from lenskit.splitting import SampleFrac, sample_users  # noqa: E402
from lenskit.testing import BasicComponentTests, ScorerTests  # noqa: E402
from lenskit.training import Trainable, TrainingOptions  # noqa: E402

import alskit  # noqa: E402
from alskit.lenskit import (  # noqa: E402
    FACTOR_DTYPE,
    BiasedMFConfig,
    BiasedMFScorer,
    ImplicitMFConfig,
    ImplicitMFScorer,
    as_alskit_dataset,
    to_alskit_dataset,
)

SMALL = {"embedding_size": 16, "epochs": 4}

# lenskit.testing's class-scoped fixtures are instance methods, which pytest 9 deprecates:
# LensKit's code, not ours, so that one warning is not an error here.
# Its ScorerTests also build RecQuery(user_items=...), deprecated since LensKit 2025.6.
pytestmark = [
    pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning"),
    pytest.mark.filterwarnings("ignore:user_items is deprecated:DeprecationWarning"),
]


# ---- LensKit's fixtures, on the MovieLens 100K that alskit's tests use ------------------


@pytest.fixture(scope="module")
def ml_frame() -> pd.DataFrame:
    return pd.read_csv(ML100K)


@pytest.fixture
def ml_ratings(ml_frame: pd.DataFrame) -> pd.DataFrame:
    return ml_frame.copy()


@pytest.fixture
def ml_100k(ml_frame: pd.DataFrame) -> pd.DataFrame:
    return ml_frame.copy()


@pytest.fixture(scope="module")
def ml_ds(ml_frame: pd.DataFrame) -> Dataset:
    return from_interactions_df(ml_frame)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20260201)


# ---- LensKit's contract suites, as LensKit's own ALS tests use them ---------------------


class TestBiasedMFComponent(BasicComponentTests):
    component = BiasedMFScorer
    configs = [
        {"embedding_size": 8, "epochs": 2},
        {"features": 12, "regularization": {"user": 0.2, "item": 0.05}, "damping": 2.0},
        {"embedding_size": 8, "damping": {"user": 3.0, "item": 1.0}, "user_embeddings": "prefer"},
    ]


class TestImplicitMFComponent(BasicComponentTests):
    component = ImplicitMFScorer
    configs = [
        {"embedding_size": 8, "epochs": 2},
        {"embedding_size": 8, "weight": 10.0, "use_ratings": True, "user_embeddings": False},
        {"features": 12, "regularization": {"user": 0.2, "item": 0.05}},
    ]


class TestBiasedMFScorer(ScorerTests):
    component = BiasedMFScorer
    config = BiasedMFConfig(**SMALL)
    expected_rmse = (0.86, 0.99)
    expected_ndcg = (0.02, 0.15)


class TestImplicitMFScorer(ScorerTests):
    component = ImplicitMFScorer
    config = ImplicitMFConfig(**SMALL)
    expected_ndcg = (0.15, 0.40)


class TestImplicitMFNoUserEmbeddings(ScorerTests):
    component = ImplicitMFScorer
    config = ImplicitMFConfig(**SMALL, user_embeddings=False)
    can_score = "some"
    expected_ndcg = (0.15, 0.40)


# ---- they are LensKit's types --------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (BiasedMFScorer, lenskit.als.BiasedMFScorer),
        (ImplicitMFScorer, lenskit.als.ImplicitMFScorer),
    ],
)
def test_components_are_lenskit_components(ours: Any, theirs: Any) -> None:
    assert issubclass(ours, Component)
    assert issubclass(ours, Trainable)
    ours_cfg, theirs_cfg = ours.config_class(), theirs.config_class()
    assert issubclass(ours_cfg, theirs_cfg)
    assert ours_cfg.model_fields.keys() == theirs_cfg.model_fields.keys()
    assert ours().dump_config() == theirs().dump_config()
    # LensKit's own config object is accepted (the one-import switch keeps the configs).
    model = ours(theirs_cfg(embedding_size=7))
    assert isinstance(model.config, ours_cfg) and model.config.embedding_size == 7


def test_learned_attributes_have_lenskit_names(ml_ds: Dataset) -> None:
    ours = BiasedMFScorer(**SMALL)
    ours.train(ml_ds, TrainingOptions(rng=1))
    theirs = lenskit.als.BiasedMFScorer(**SMALL)
    theirs.train(ml_ds, TrainingOptions(rng=1))
    for name in ("users", "items", "user_embeddings", "item_embeddings", "bias"):
        assert type(getattr(ours, name)) is type(getattr(theirs, name)), name
    assert ours.item_embeddings.dtype == theirs.item_embeddings.dtype == np.dtype(FACTOR_DTYPE)
    assert ours.item_embeddings.shape == theirs.item_embeddings.shape
    assert ours.items == ml_ds.items and ours.users == ml_ds.users
    np.testing.assert_allclose(ours.bias.item_biases, theirs.bias.item_biases, atol=1e-5)
    np.testing.assert_allclose(ours.bias.user_biases, theirs.bias.user_biases, atol=1e-5)
    assert ours.bias.global_bias == pytest.approx(theirs.bias.global_bias)
    # LensKit 2025.1's names read the same state
    assert ours.item_features_ is ours.item_embeddings and ours.users_ is ours.users

    implicit = ImplicitMFScorer(**SMALL, user_embeddings=False)
    implicit.train(ml_ds, TrainingOptions(rng=1))
    assert implicit.users is None and implicit.user_embeddings is None
    k = SMALL["embedding_size"]
    assert implicit._OtOr.shape == (k, k)


def test_untrained_component_refuses_to_score(ml_ds: Dataset) -> None:
    with pytest.raises(RuntimeError, match="ImplicitMFScorer is not trained"):
        ImplicitMFScorer()(1, ItemList([1, 2]))
    assert not hasattr(ImplicitMFScorer(), "item_embeddings")


def test_bad_options_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="embedding_size"):
        ImplicitMFScorer(embedding_size=0)
    with pytest.raises(ValueError, match="weight"):
        ImplicitMFScorer(weight=-1.0)  # LensKit accepts it; alskit's weight must be ≥ 0


def test_training_needs_ratings_for_the_explicit_model(ml_frame: pd.DataFrame) -> None:
    implicit_only = from_interactions_df(ml_frame[["user_id", "item_id"]])
    with pytest.raises(ValueError, match="rating"):
        BiasedMFScorer(**SMALL).train(implicit_only, TrainingOptions(rng=1))
    model = ImplicitMFScorer(**SMALL)
    model.train(implicit_only, TrainingOptions(rng=1))
    assert np.isfinite(model(int(ml_frame.user_id[0]), ItemList([50])).scores()).all()


def test_alskit_scorers_refuse_a_lenskit_options_object(ml_ds: Dataset) -> None:
    model = ImplicitMFScorer(**SMALL)
    with pytest.raises(TypeError, match="LensKit's TrainingOptions"):
        model.train(ml_ds, alskit.TrainingOptions(rng=1))  # type: ignore[arg-type]


# ---- the conversion --------------------------------------------------------------------


def test_dataset_conversion_shares_the_item_numbers(ml_ds: Dataset) -> None:
    converted = to_alskit_dataset(ml_ds, ratings=True)
    structure = ml_ds.interaction_matrix(format="structure")
    matrix = converted.interaction_matrix(None)
    assert np.shares_memory(matrix.indices, np.asarray(structure.colinds))
    np.testing.assert_array_equal(matrix.indptr, structure.rowptrs)
    assert list(converted.users.ids()) == list(ml_ds.users.ids())
    assert list(converted.items.ids()) == list(ml_ds.items.ids())
    lk = ml_ds.interaction_matrix(format="scipy", field="rating", layout="csr")
    np.testing.assert_array_equal(converted.ratings, lk.data)
    reference = alskit.Dataset.from_interactions_df(
        ml_ds.interaction_matrix(format="pandas", field="rating", original_ids=True)
    )
    np.testing.assert_array_equal(converted.user_nums, reference.user_nums)
    np.testing.assert_array_equal(converted.item_nums, reference.item_nums)


def test_dataset_conversion_refuses_other_types() -> None:
    with pytest.raises(TypeError, match="LensKit Dataset, got DataFrame"):
        to_alskit_dataset(pd.DataFrame(), ratings=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="alskit Dataset or a LensKit Dataset, got DataFrame"):
        as_alskit_dataset(pd.DataFrame())


def test_alskit_scorers_train_on_a_converted_lenskit_dataset(
    ml_frame: pd.DataFrame, ml_ds: Dataset
) -> None:
    """The hook for alskit's own train(): as_alskit_dataset gives the same model as
    alskit's own loader, ratings included when the LensKit data has them."""
    converted = as_alskit_dataset(ml_ds)
    assert converted.ratings is not None
    assert as_alskit_dataset(converted) is converted
    no_ratings = as_alskit_dataset(from_interactions_df(ml_frame[["user_id", "item_id"]]))
    assert no_ratings.ratings is None
    twin, _ = _alskit_twin("biased", ml_frame, 8, **SMALL)
    model = alskit.BiasedMFScorer(**SMALL, dtype=FACTOR_DTYPE)
    model.train(converted, alskit.TrainingOptions(rng=8, progress=False))
    assert np.array_equal(model.item_features_, twin.item_features_)
    # alskit's own train() takes the LensKit Dataset itself (converted through the hook).
    direct = alskit.BiasedMFScorer(**SMALL, dtype=FACTOR_DTYPE)
    direct.train(ml_ds, alskit.TrainingOptions(rng=8, progress=False))
    assert np.array_equal(direct.item_features_, twin.item_features_)


# ---- same scores as alskit's own API, through LensKit's pipelines and batch code -------


def _alskit_twin(kind: str, ml_frame: pd.DataFrame, seed: int, **config: Any) -> Any:
    """alskit's own scorer, trained on the same data with the same seed and dtype."""
    cls = alskit.BiasedMFScorer if kind == "biased" else alskit.ImplicitMFScorer
    model = cls(**config, dtype=FACTOR_DTYPE)
    data = alskit.Dataset.from_interactions_df(ml_frame, timestamp_col=None)
    model.train(data, alskit.TrainingOptions(rng=seed, progress=False))
    return model, data


@pytest.mark.parametrize("kind", ["biased", "implicit"])
def test_pipelines_give_alskit_scores(kind: str, ml_frame: pd.DataFrame, ml_ds: Dataset) -> None:
    config = dict(SMALL, user_embeddings="prefer")
    ours_cls = BiasedMFScorer if kind == "biased" else ImplicitMFScorer
    twin, twin_data = _alskit_twin(kind, ml_frame, 42, **config)

    # A Generator is handed to the components as it is (a seed would be spawned per component).
    pipe = topn_pipeline(ours_cls(**config), predicts_ratings=kind == "biased", n=10)
    pipe.train(ml_ds, TrainingOptions(rng=np.random.default_rng(42)))
    scorer = pipe.component("scorer")
    assert isinstance(scorer, ours_cls)
    assert np.array_equal(scorer.item_embeddings, twin.item_features_)  # bit-identical
    assert np.array_equal(scorer.user_embeddings, twin.user_features_)

    users = ml_ds.users.ids()[:40]
    recs = recommend(pipe, users, n=10, n_jobs=1)
    expected = twin.recommend(users, n=10)
    for user in users:
        got = recs.lookup(user_id=user)
        want = expected.for_query(user)
        want_ids, want_scores = want.ids(), want.scores()
        assert list(got.ids()) == list(want_ids), user
        np.testing.assert_allclose(got.scores(), want_scores, rtol=1e-5, atol=1e-6)

    # predict_pipeline + batch.predict: the stored embeddings' scores
    rated = twin_data.interactions_df().iloc[:500]
    preds_pipe = predict_pipeline(ours_cls(**config), fallback=False)
    preds_pipe.train(ml_ds, TrainingOptions(rng=np.random.default_rng(42)))
    queries = {u: ItemList(g["item_id"].to_numpy()) for u, g in rated.groupby("user_id", sort=True)}
    preds = predict(preds_pipe, [(RecQuery(user_id=u), il) for u, il in queries.items()], n_jobs=1)
    for user, items in queries.items():
        got = preds.lookup(user_id=user)
        want = twin.predict(np.full(len(items), user), items.ids()).astype(FACTOR_DTYPE)
        np.testing.assert_allclose(got.scores(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["biased", "implicit"])
def test_fold_in_gives_alskit_scores(kind: str, ml_frame: pd.DataFrame, ml_ds: Dataset) -> None:
    ours_cls = BiasedMFScorer if kind == "biased" else ImplicitMFScorer
    twin, twin_data = _alskit_twin(kind, ml_frame, 3, **SMALL)
    ours = ours_cls(**SMALL)
    ours.train(ml_ds, TrainingOptions(rng=3))
    items = ItemList(ml_ds.items.ids()[:200])
    for user in ml_ds.users.ids()[:15]:
        history = ml_ds.user_row(user)
        got = ours(RecQuery(user_id=user, history_items=history), items).scores()
        want = twin(
            alskit.RecQuery(user_id=user, user_items=twin_data.user_row(user)),
            alskit.ItemList(items.ids()),
        ).scores()
        np.testing.assert_array_equal(got, np.asarray(want, dtype=FACTOR_DTYPE))
    # an unknown item scores NaN, an unknown user with no history NaN everywhere
    mixed = ours(ml_ds.users.ids()[0], ItemList([-5, int(ml_ds.items.ids()[0])])).scores()
    assert np.isnan(mixed[0]) and np.isfinite(mixed[1])
    assert np.isnan(ours(-99, items).scores()).all()


def test_pickled_component_scores_the_same(ml_ds: Dataset) -> None:
    ours = ImplicitMFScorer(**SMALL)
    ours.train(ml_ds, TrainingOptions(rng=5))
    again = pickle.loads(pickle.dumps(ours, pickle.HIGHEST_PROTOCOL))
    items = ItemList(ml_ds.items.ids()[:100])
    user = ml_ds.users.ids()[3]
    np.testing.assert_array_equal(ours(user, items).scores(), again(user, items).scores())
    assert again.config == ours.config


# ---- accuracy under LensKit's own evaluation code, against lenskit.als ----------------


def _evaluate(make: Any, data: Dataset, predicts: bool, seeds: range) -> dict[str, float]:
    """Mean NDCG@10 (and RMSE) over ``seeds``, each its own user sample and initial
    factors, with LensKit's pipeline, batch runner and RunAnalysis."""
    totals: dict[str, list[float]] = {"NDCG": [], "RMSE": []}
    for seed in seeds:
        split = sample_users(data, 300, SampleFrac(0.2, rng=seed), rng=seed)
        pipe = topn_pipeline(make(), predicts_ratings=predicts, n=10)
        pipe.train(split.train, TrainingOptions(rng=np.random.default_rng(seed)))
        runner = BatchPipelineRunner(n_jobs=1)
        runner.recommend(n=10)
        if predicts:
            runner.predict()
        outs = runner.run(pipe, split.test)
        top = RunAnalysis()
        top.add_metric(NDCG(n=10), "NDCG")
        summary = top.measure(outs.output("recommendations"), split.test).list_summary()
        totals["NDCG"].append(float(summary.loc["NDCG", "mean"]))
        if predicts:
            pa = RunAnalysis()
            pa.add_metric(RMSE(), "RMSE")
            summary = pa.measure(outs.output("predictions"), split.test).list_summary()
            totals["RMSE"].append(float(summary.loc["RMSE", "mean"]))
    return {name: float(np.mean(values)) for name, values in totals.items() if values}


@pytest.mark.parametrize("kind", ["biased", "implicit"])
def test_accuracy_matches_lenskit_als(kind: str, ml_ds: Dataset) -> None:
    """Same config, same float32, same splits; the initial factors differ (LensKit draws
    float32 normals, alskit float64 ones), hence the mean over several seeds."""
    config = {"embedding_size": 20, "epochs": 6}
    ours_cls = BiasedMFScorer if kind == "biased" else ImplicitMFScorer
    theirs_cls = lenskit.als.BiasedMFScorer if kind == "biased" else lenskit.als.ImplicitMFScorer
    seeds = range(4)
    got = _evaluate(lambda: ours_cls(**config), ml_ds, kind == "biased", seeds)
    want = _evaluate(lambda: theirs_cls(**config), ml_ds, kind == "biased", seeds)
    print(f"{kind}: alskit.lenskit {got}, lenskit.als {want}")
    for metric, value in want.items():
        assert abs(got[metric] - value) <= 0.005, (metric, got[metric], value)
