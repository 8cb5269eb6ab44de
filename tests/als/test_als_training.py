"""The ALS training driver: eager set-up, epochs, retraining, seeding, empty rows, dtypes."""

from __future__ import annotations

import inspect
import logging
import math
import pickle
from typing import Any

import numpy as np
import pytest

from alskit import (
    ALSBase,
    BiasedMFScorer,
    Dataset,
    ImplicitMFScorer,
    TrainingOptions,
    Vocabulary,
)

SCORERS = [BiasedMFScorer, ImplicitMFScorer]
N_USERS, N_ITEMS = 60, 40
# the last users and items of the vocabularies have no interactions
ACTIVE_USERS, ACTIVE_ITEMS = 54, 35
K = 4


def random_dataset(seed: int = 11, n: int = 700) -> Dataset:
    """~60 × 40 ratings; users 54.. and items 35.. are in the vocabulary without interactions.

    Ids are offset from numbers so that a test mixing them up would notice.
    """
    rng = np.random.default_rng(seed)
    users = rng.integers(0, ACTIVE_USERS, n) + 100
    items = rng.integers(0, ACTIVE_ITEMS, n) + 1000
    ratings = rng.integers(1, 11, n) / 2.0
    return Dataset.from_arrays(
        users,
        items,
        ratings,
        users=np.arange(N_USERS) + 100,
        items=np.arange(N_ITEMS) + 1000,
        duplicates="last",
    )


@pytest.fixture(scope="module")
def data() -> Dataset:
    ds = random_dataset()
    # sanity of the fixture itself: every active user/item has interactions
    assert np.all(np.bincount(ds.user_nums, minlength=N_USERS)[:ACTIVE_USERS] > 0)
    assert np.all(np.bincount(ds.item_nums, minlength=N_ITEMS)[:ACTIVE_ITEMS] > 0)
    assert np.all(np.bincount(ds.user_nums, minlength=N_USERS)[ACTIVE_USERS:] == 0)
    assert np.all(np.bincount(ds.item_nums, minlength=N_ITEMS)[ACTIVE_ITEMS:] == 0)
    return ds


def opts(seed: int = 7, threads: int = 1, **kwargs: Any) -> TrainingOptions:
    return TrainingOptions(rng=seed, threads=threads, **kwargs)


def trained(cls: type[ALSBase], data: Dataset, seed: int = 7, **config: Any) -> ALSBase:
    config = {"features": K, "epochs": 3, **config}
    model = cls(**config)
    model.train(data, opts(seed))
    return model


# ---------------------------------------------------------------------------------------------
# training_loop
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SCORERS)
def test_training_loop_is_eager(cls: type[ALSBase], data: Dataset) -> None:
    model = cls(features=K, epochs=3)
    loop = model.training_loop(data, opts())
    assert inspect.isgenerator(loop)
    # set up before the first epoch runs
    assert isinstance(model.users_, Vocabulary) and isinstance(model.items_, Vocabulary)
    np.testing.assert_array_equal(model.users_.ids(), data.users.ids())
    np.testing.assert_array_equal(model.items_.ids(), data.items.ids())
    assert model.user_features_ is not None
    assert model.user_features_.shape == (N_USERS, K)
    assert model.item_features_.shape == (N_ITEMS, K)
    assert model.user_features_.dtype == np.float32  # the default dtype
    if cls is BiasedMFScorer:
        assert model.bias_.item_biases.shape == (N_ITEMS,)
    before = model.item_features_.copy()
    loop.close()
    # no epoch ran
    np.testing.assert_array_equal(model.item_features_, before)


@pytest.mark.parametrize("cls", SCORERS)
def test_initial_params_drawn_items_then_users(cls: type[ALSBase], data: Dataset) -> None:
    model = cls(features=K, epochs=3)
    loop = model.training_loop(data, opts(seed=5))
    rng = np.random.default_rng(5)
    items = model.initial_params(N_ITEMS, K, rng)
    users = model.initial_params(N_USERS, K, rng)
    # stored in the model's dtype (float32 by default)
    np.testing.assert_array_equal(model.item_features_, items.astype(model.dtype))
    assert model.user_features_ is not None
    np.testing.assert_array_equal(model.user_features_, users.astype(model.dtype))
    loop.close()


@pytest.mark.parametrize("cls", SCORERS)
@pytest.mark.parametrize("epochs", [1, 4])
def test_training_loop_yields_one_dict_per_epoch(
    cls: type[ALSBase], epochs: int, data: Dataset
) -> None:
    model = cls(features=K, epochs=epochs)
    results = list(model.training_loop(data, opts()))
    assert len(results) == epochs
    for metrics in results:
        assert set(metrics) == {"deltaP", "deltaQ"}
        for value in metrics.values():
            assert isinstance(value, float)
            assert math.isfinite(value)
            assert value >= 0
    # the generator itself counts completed epochs, however it is driven (so an interrupted
    # or hand-driven run can be saved and resumed from the right epoch)
    assert model.trained_epochs == epochs


@pytest.mark.parametrize("cls", SCORERS)
def test_training_loop_updates_factors_in_place(cls: type[ALSBase], data: Dataset) -> None:
    model = cls(features=K, epochs=2)
    loop = model.training_loop(data, opts())
    users, items = model.user_features_, model.item_features_
    assert users is not None
    u0, i0 = users.copy(), items.copy()
    # the kernels sum each row's ‖Δ‖² in the factors' dtype (float32 by default)
    rel = 1e-5

    def moved(now: np.ndarray, then: np.ndarray) -> float:
        return float(np.linalg.norm(now.astype(np.float64) - then))

    first = next(loop)
    assert moved(users, u0) == pytest.approx(first["deltaP"], rel=rel)
    assert moved(items, i0) == pytest.approx(first["deltaQ"], rel=rel)
    u1, i1 = users.copy(), items.copy()
    second = next(loop)
    assert moved(users, u1) == pytest.approx(second["deltaP"], rel=rel)
    assert moved(items, i1) == pytest.approx(second["deltaQ"], rel=rel)
    with pytest.raises(StopIteration):
        next(loop)
    assert model.user_features_ is users
    assert model.item_features_ is items


@pytest.mark.parametrize("cls", SCORERS)
def test_deltas_shrink(cls: type[ALSBase], data: Dataset) -> None:
    model = cls(features=K, epochs=8)
    results = list(model.training_loop(data, opts()))
    assert results[-1]["deltaQ"] < results[0]["deltaQ"]
    assert results[-1]["deltaP"] < results[0]["deltaP"]


# ---------------------------------------------------------------------------------------------
# train()
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SCORERS)
def test_train_runs_every_epoch(cls: type[ALSBase], data: Dataset) -> None:
    model = cls(features=K, epochs=5)
    assert model.trained_epochs == 0
    model.train(data, opts())
    assert model.trained_epochs == 5
    assert model.user_features_ is not None
    assert np.all(np.isfinite(model.user_features_))
    assert np.all(np.isfinite(model.item_features_))
    if cls is ImplicitMFScorer:
        assert model.OtOr_.shape == (K, K)  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", SCORERS)
def test_train_without_options(cls: type[ALSBase], data: Dataset) -> None:
    model = cls(features=K, epochs=2)
    model.train(data)
    assert model.trained_epochs == 2


@pytest.mark.parametrize("cls", SCORERS)
def test_train_matches_training_loop(cls: type[ALSBase], data: Dataset) -> None:
    driven = trained(cls, data, seed=3)
    manual = cls(features=K, epochs=3)
    for _ in manual.training_loop(data, opts(seed=3)):
        pass
    assert manual.user_features_ is not None and driven.user_features_ is not None
    np.testing.assert_array_equal(manual.user_features_, driven.user_features_)
    np.testing.assert_array_equal(manual.item_features_, driven.item_features_)


@pytest.mark.parametrize("cls", SCORERS)
def test_skip_retrain(cls: type[ALSBase], data: Dataset) -> None:
    model = trained(cls, data)
    before = pickle.dumps(model)
    other = random_dataset(seed=99)
    model.train(other, TrainingOptions(retrain=False, rng=123))
    assert pickle.dumps(model) == before
    assert model.trained_epochs == 3


@pytest.mark.parametrize("cls", SCORERS)
def test_retrain_true_trains_again(cls: type[ALSBase], data: Dataset) -> None:
    model = trained(cls, data, seed=7)
    first = model.item_features_.copy()
    model.train(data, opts(seed=8, retrain=True))
    assert model.trained_epochs == 3
    assert not np.array_equal(model.item_features_, first)
    # and retraining with the original seed reproduces the original model
    model.train(data, opts(seed=7))
    np.testing.assert_array_equal(model.item_features_, first)


@pytest.mark.parametrize("cls", SCORERS)
def test_retrain_false_on_untrained_model_trains(cls: type[ALSBase], data: Dataset) -> None:
    model = cls(features=K, epochs=2)
    model.train(data, TrainingOptions(retrain=False, rng=1, threads=1))
    assert model.trained_epochs == 2


# ---------------------------------------------------------------------------------------------
# Reproducibility
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SCORERS)
def test_same_seed_same_model(cls: type[ALSBase], data: Dataset) -> None:
    a = trained(cls, data, seed=7)
    b = trained(cls, data, seed=7)
    assert a.user_features_ is not None and b.user_features_ is not None
    assert np.array_equal(a.user_features_, b.user_features_)
    assert np.array_equal(a.item_features_, b.item_features_)


@pytest.mark.parametrize("cls", SCORERS)
def test_same_seed_any_thread_count(cls: type[ALSBase], data: Dataset) -> None:
    one = cls(features=K, epochs=3)
    one.train(data, TrainingOptions(rng=7, threads=1))
    two = cls(features=K, epochs=3)
    two.train(data, TrainingOptions(rng=7, threads=2))
    assert one.user_features_ is not None and two.user_features_ is not None
    assert np.array_equal(one.user_features_, two.user_features_)
    assert np.array_equal(one.item_features_, two.item_features_)


@pytest.mark.parametrize("cls", SCORERS)
def test_seed_forms_agree(cls: type[ALSBase], data: Dataset) -> None:
    by_int = trained(cls, data, seed=7)
    by_gen = cls(features=K, epochs=3)
    by_gen.train(data, TrainingOptions(rng=np.random.default_rng(7), threads=1))
    by_seq = cls(features=K, epochs=3)
    by_seq.train(data, TrainingOptions(rng=np.random.SeedSequence(7), threads=1))
    for other in (by_gen, by_seq):
        assert np.array_equal(other.item_features_, by_int.item_features_)


@pytest.mark.parametrize("cls", SCORERS)
def test_different_seeds_differ(cls: type[ALSBase], data: Dataset) -> None:
    a = trained(cls, data, seed=7)
    b = trained(cls, data, seed=8)
    assert a.user_features_ is not None and b.user_features_ is not None
    assert not np.array_equal(a.user_features_, b.user_features_)
    assert not np.array_equal(a.item_features_, b.item_features_)


@pytest.mark.parametrize("cls", SCORERS)
def test_bad_rng_rejected(cls: type[ALSBase], data: Dataset) -> None:
    with pytest.raises(TypeError, match="rng"):
        cls(features=K, epochs=1).train(data, TrainingOptions(rng="seven", threads=1))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Empty rows, dropped user embeddings, dtypes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SCORERS)
def test_entities_without_interactions_get_zero_rows(cls: type[ALSBase], data: Dataset) -> None:
    model = trained(cls, data)
    assert model.user_features_ is not None
    assert np.all(model.user_features_[ACTIVE_USERS:] == 0.0)
    assert np.all(model.item_features_[ACTIVE_ITEMS:] == 0.0)
    # and every active row is non-zero
    assert np.all(np.any(model.user_features_[:ACTIVE_USERS] != 0.0, axis=1))
    assert np.all(np.any(model.item_features_[:ACTIVE_ITEMS] != 0.0, axis=1))


def test_bias_of_entities_without_interactions_is_zero(data: Dataset) -> None:
    model = trained(BiasedMFScorer, data)
    bias = model.bias_  # type: ignore[attr-defined]
    assert np.all(bias.user_biases[ACTIVE_USERS:] == 0.0)
    assert np.all(bias.item_biases[ACTIVE_ITEMS:] == 0.0)


@pytest.mark.parametrize("cls", SCORERS)
def test_user_embeddings_false_drops_p(cls: type[ALSBase], data: Dataset) -> None:
    model = cls(features=K, epochs=3, user_embeddings=False)
    loop = model.training_loop(data, opts())
    # kept while training: the item half needs it
    assert model.user_features_ is not None
    for _ in loop:
        assert model.user_features_ is not None
    assert model.user_features_ is None
    assert len(model.users_) == N_USERS
    assert model.item_features_.shape == (N_ITEMS, K)
    # the items are the same as a model that keeps P
    keeper = trained(cls, data)
    np.testing.assert_array_equal(model.item_features_, keeper.item_features_)


@pytest.mark.parametrize("cls", SCORERS)
def test_user_embeddings_prefer_keeps_p(cls: type[ALSBase], data: Dataset) -> None:
    model = trained(cls, data, user_embeddings="prefer")
    assert model.user_features_ is not None
    assert model.user_features_.shape == (N_USERS, K)


@pytest.mark.parametrize("cls", SCORERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_factor_dtype(cls: type[ALSBase], dtype: str, data: Dataset) -> None:
    model = cls(features=K, epochs=3, dtype=dtype)
    loop = model.training_loop(data, opts())
    assert model.user_features_ is not None
    assert model.user_features_.dtype == np.dtype(dtype)
    assert model.item_features_.dtype == np.dtype(dtype)
    results = list(loop)
    assert all(isinstance(v, float) for r in results for v in r.values())
    assert model.user_features_.dtype == np.dtype(dtype)
    assert model.item_features_.dtype == np.dtype(dtype)
    assert model.user_features_.flags.c_contiguous and model.item_features_.flags.c_contiguous
    if cls is ImplicitMFScorer:
        assert model.OtOr_.dtype == np.dtype(dtype)  # type: ignore[attr-defined]
    scores = model(100, [1000, 1001]).scores()
    assert scores is not None and np.all(np.isfinite(scores))


@pytest.mark.parametrize("cls", SCORERS)
def test_float32_close_to_float64(cls: type[ALSBase], data: Dataset) -> None:
    single = trained(cls, data, dtype="float32")
    double = trained(cls, data, dtype="float64")
    scale = np.linalg.norm(double.item_features_)
    assert np.linalg.norm(single.item_features_ - double.item_features_) <= 1e-3 * scale


def test_implicit_trains_without_ratings() -> None:
    rng = np.random.default_rng(3)
    users = rng.integers(0, 30, 300)
    items = rng.integers(0, 20, 300)
    ds = Dataset.from_arrays(users, items, duplicates="last")
    assert ds.ratings is None
    model = ImplicitMFScorer(features=K, epochs=2)
    model.train(ds, opts())
    assert model.item_features_.shape == (ds.item_count, K)
    with pytest.raises(ValueError, match="rating"):
        ImplicitMFScorer(features=K, epochs=2, use_ratings=True).train(ds, opts())
    with pytest.raises(ValueError, match="rating"):
        BiasedMFScorer(features=K, epochs=2).train(ds, opts())


@pytest.mark.parametrize("cls", SCORERS)
def test_pickled_trained_model(cls: type[ALSBase], data: Dataset) -> None:
    model = trained(cls, data)
    copy = pickle.loads(pickle.dumps(model))
    assert copy.trained_epochs == 3
    assert copy.config == model.config
    np.testing.assert_array_equal(copy.item_features_, model.item_features_)
    assert copy.user_features_ is not None and model.user_features_ is not None
    np.testing.assert_array_equal(copy.user_features_, model.user_features_)


@pytest.mark.parametrize("cls", SCORERS)
def test_epochs_are_logged(
    cls: type[ALSBase], data: Dataset, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="alskit.training"):
        trained(cls, data)
    epoch_lines = [r.getMessage() for r in caplog.records if "finished epoch" in r.getMessage()]
    assert len(epoch_lines) == 3
    assert all("deltaP" in line and "deltaQ" in line for line in epoch_lines)


@pytest.mark.parametrize("cls", SCORERS)
def test_progress_bar_option(cls: type[ALSBase], data: Dataset) -> None:
    pytest.importorskip("tqdm")
    model = cls(features=K, epochs=2)
    model.train(data, opts(progress=True))
    assert model.trained_epochs == 2


# ---------------------------------------------------------------------------------------------
# no serving before the first complete epoch
# ---------------------------------------------------------------------------------------------


def _serving_calls(model: ALSBase, data: Dataset, tmp_path: Any) -> dict[str, Any]:
    user, items = data.users.ids()[0], data.items.ids()[:3]
    return {
        "score": lambda: model(user, items),
        "recommend": lambda: model.recommend(n=3),
        "predict": lambda: model.predict([user], [items[0]]),
        "similar_items": lambda: model.similar_items([items[0]]),
        "fold_in": lambda: model.fold_in_users([data.user_row(user)]),
        "save": lambda: model.save(tmp_path / "m.alskit"),
    }


@pytest.mark.parametrize("cls", SCORERS)
def test_initialized_but_untrained_model_refuses_to_serve(
    cls: type[ALSBase], data: Dataset, tmp_path: Any
) -> None:
    model = cls(features=K, epochs=3)
    model.training_loop(data, opts())  # factors initialized, no epoch run
    assert model.trained_epochs == 0 and model.item_features_ is not None
    for name, call in _serving_calls(model, data, tmp_path).items():
        with pytest.raises(RuntimeError, match="not completed a training epoch"):
            call()
        assert not (tmp_path / "m.alskit").exists(), name


@pytest.mark.parametrize("cls", SCORERS)
def test_training_that_fails_before_an_epoch_leaves_a_refusing_model(
    cls: type[ALSBase], data: Dataset, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alskit import training

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ModuleNotFoundError("No module named 'progressbar'")

    monkeypatch.setattr(training, "EpochProgress", broken)
    model = cls(features=K, epochs=3)
    with pytest.raises(ModuleNotFoundError):
        model.train(data, opts())
    for call in _serving_calls(model, data, tmp_path).values():
        with pytest.raises(RuntimeError, match="not completed a training epoch"):
            call()


@pytest.mark.parametrize("cls", SCORERS)
def test_model_stopped_after_a_complete_epoch_still_serves(
    cls: type[ALSBase], data: Dataset, tmp_path: Any
) -> None:
    model = cls(features=K, epochs=3)
    loop = model.training_loop(data, opts())
    next(loop)  # one complete epoch, then stop
    assert model.trained_epochs == 1
    for call in _serving_calls(model, data, tmp_path).values():
        call()


@pytest.mark.parametrize("cls", SCORERS)
def test_train_refuses_other_data_naming_both_types(cls: type[ALSBase]) -> None:
    import pandas as pd

    with pytest.raises(TypeError, match="alskit Dataset or a LensKit Dataset, got DataFrame"):
        cls(features=K).train(pd.DataFrame({"user_id": [1], "item_id": [2]}))  # type: ignore[arg-type]
