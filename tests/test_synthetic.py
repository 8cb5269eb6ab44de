"""alskit.synthetic.generate: seeded data with power-law skew and planted preferences."""

from __future__ import annotations

import numpy as np
import pytest

from alskit import BiasedMFScorer, Dataset, TrainingOptions
from alskit.evaluation import holdout_users
from alskit.synthetic import SHAPES, Shape, generate


def pairs(ds: Dataset) -> np.ndarray:
    return ds.user_nums.astype(np.int64) * ds.item_count + ds.item_nums


def top_decile_share(counts: np.ndarray) -> float:
    ordered = np.sort(counts)[::-1]
    return float(ordered[: max(1, len(ordered) // 10)].sum() / ordered.sum())


@pytest.fixture(scope="module")
def small() -> Dataset:
    return generate("small", kind="explicit", seed=0)


@pytest.mark.parametrize("kind", ["explicit", "implicit"])
def test_same_seed_same_data(kind: str) -> None:
    a, b = generate("tiny", kind=kind, seed=4), generate("tiny", kind=kind, seed=4)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a.user_nums, b.user_nums)
    np.testing.assert_array_equal(a.item_nums, b.item_nums)
    assert a.users == b.users and a.items == b.items
    if kind == "explicit":
        assert a.ratings is not None and b.ratings is not None
        np.testing.assert_array_equal(a.ratings, b.ratings)
    c = generate("tiny", kind=kind, seed=5)  # type: ignore[arg-type]
    assert not np.array_equal(pairs(a), pairs(c))


def test_default_seed_is_fixed() -> None:
    np.testing.assert_array_equal(pairs(generate("tiny")), pairs(generate("tiny", seed=0)))


@pytest.mark.parametrize("name", ["tiny", "small"])
def test_shapes(name: str) -> None:
    shape = SHAPES[name]
    ds = generate(name, kind="implicit")
    assert ds.user_count == shape.users and ds.item_count == shape.items
    # Ids are 1-based and every user and item is in the vocabulary.
    np.testing.assert_array_equal(ds.users.ids(), np.arange(1, shape.users + 1))
    np.testing.assert_array_equal(ds.items.ids(), np.arange(1, shape.items + 1))
    assert 0 < ds.interaction_count <= shape.interactions
    # Every user has a history (MovieLens-like: no empty users).
    assert np.bincount(ds.user_nums, minlength=ds.user_count).min() >= 1


@pytest.mark.parametrize("name", ["tiny", "small"])
def test_interaction_count_close_to_shape(name: str) -> None:
    ds = generate(name, kind="implicit")
    assert ds.interaction_count >= 0.9 * SHAPES[name].interactions


def test_custom_shape() -> None:
    ds = generate(Shape(30, 20, 200), seed=1)
    assert (ds.user_count, ds.item_count) == (30, 20)
    assert 0 < ds.interaction_count <= 200


def test_explicit_ratings_are_stars(small: Dataset) -> None:
    ratings = small.ratings
    assert ratings is not None
    assert ratings.dtype == np.float64
    assert np.all(ratings == np.rint(ratings))
    assert set(np.unique(ratings).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert 3.0 < ratings.mean() < 4.5  # MovieLens-like mean rating


def test_implicit_has_no_ratings() -> None:
    ds = generate("tiny", kind="implicit")
    assert ds.ratings is None
    # Same interactions as the explicit data of the same seed; only the ratings differ.
    np.testing.assert_array_equal(pairs(ds), pairs(generate("tiny", kind="explicit")))


def test_no_duplicate_pairs(small: Dataset) -> None:
    p = pairs(small)
    assert len(np.unique(p)) == len(p)


def test_power_law_skew(small: Dataset) -> None:
    items = np.bincount(small.item_nums, minlength=small.item_count)
    users = np.bincount(small.user_nums, minlength=small.user_count)
    # Uniform popularity would put 10% of interactions on the top 10% of items.
    assert top_decile_share(items) > 0.35
    assert items.max() > 20 * np.median(items)
    assert top_decile_share(users) > 0.15
    assert users.max() > 3 * np.median(users)
    tiny = generate("tiny")
    assert top_decile_share(np.bincount(tiny.item_nums, minlength=tiny.item_count)) > 0.2


def test_planted_preferences_carry_signal(small: Dataset) -> None:
    """The ratings have low-rank structure: a factor model beats the bias model on held-out
    ratings by a clear margin."""
    split = holdout_users(small, 0.2, rng=0)
    model = BiasedMFScorer(features=8, epochs=8)
    model.train(split.train, TrainingOptions(rng=0, threads=2))
    users = np.concatenate([[u] * len(held) for u, held in split.test.items()])
    items = np.concatenate([held.ids() for held in split.test.values()])
    truth = np.concatenate([held.field("rating") for held in split.test.values()])
    bias = model.bias_
    baseline = (
        bias.global_bias
        + bias.item_biases[model.items_.numbers(items)]
        + bias.user_biases[model.users_.numbers(users)]
    )
    predicted = model.predict(users, items)
    rmse_model = np.sqrt(np.mean((predicted - truth) ** 2))
    rmse_bias = np.sqrt(np.mean((baseline - truth) ** 2))
    assert rmse_model < 0.92 * rmse_bias, (rmse_model, rmse_bias)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("huge",), {}),
        (("",), {}),
        (("tiny",), {"kind": "ratings"}),
        ((Shape(0, 10, 5),), {}),
        ((Shape(3, 3, 10),), {}),  # more interactions than user × item pairs
    ],
)
def test_bad_arguments(args: tuple, kwargs: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        generate(*args, **kwargs)


def test_bad_shape_name_lists_choices() -> None:
    with pytest.raises(ValueError, match="tiny"):
        generate("Tiny")
