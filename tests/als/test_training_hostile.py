"""Hostile inputs at training: one table, each row a call and what it must do
(``bad``, ``ok`` or ``either``: the table machinery in tests/hostile.py). Whatever the row,
the process never crashes and no other exception escapes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import alskit
from alskit import (
    BiasedMFScorer,
    Dataset,
    ImplicitMFScorer,
    ItemList,
)
from hostile import (
    I64_MAX,
    I64_MIN,
    ITEMS,
    RATINGS,
    USERS,
    bad,
    either,
    ok,
    train_with,
    verify,
)

# ---- 4. training ---------------------------------------------------------------------------


def _small() -> BiasedMFScorer:
    return BiasedMFScorer(features=2, epochs=1)


TRAINING_TABLE = [
    bad(
        lambda: train_with(_small(), threads=-1),
        ValueError,
        r"threads must be >= 0",
        id="threads-negative",
    ),
    bad(
        lambda: train_with(_small(), threads="x"),
        TypeError,
        r"threads must be an int or None, got str",
        id="threads-str",
    ),
    bad(
        lambda: train_with(_small(), threads=1.5),
        TypeError,
        r"threads must be an int",
        id="threads-float",
    ),
    bad(
        lambda: train_with(_small(), threads=True),
        TypeError,
        r"threads must be an int",
        id="threads-bool",
    ),
    either(
        lambda: train_with(_small(), threads=10**9),
        ValueError,
        r"threads",
        lambda m: m.trained_epochs == 1,
        id="threads-a-billion",
    ),
    bad(
        lambda: train_with(_small(), threads=2**31),
        (ValueError, TypeError),
        r"threads",
        id="threads-beyond-int32",
    ),
    bad(
        lambda: train_with(_small(), rng="x"),
        TypeError,
        r"rng must be an int seed, SeedSequence, Generator or None, got str",
        id="rng-str",
    ),
    bad(lambda: train_with(_small(), rng=1.5), TypeError, r"rng must be", id="rng-float"),
    bad(lambda: train_with(_small(), rng=True), TypeError, r"rng must be", id="rng-bool"),
    bad(lambda: train_with(_small(), rng=[1, 2]), TypeError, r"rng must be", id="rng-list"),
    bad(
        lambda: train_with(_small(), rng=-1),
        ValueError,
        r"rng|seed",
        id="rng-negative",
    ),
    bad(
        lambda: _small().train([(1, 2, 3.0)]),
        TypeError,
        r"Dataset",
        id="data-not-a-dataset",
    ),
    bad(
        lambda: _small().train(Dataset.from_arrays(USERS, ITEMS, RATINGS), {"rng": 1}),
        TypeError,
        r"TrainingOptions",
        id="options-dict",
    ),
    bad(
        lambda: train_with(_small(), Dataset.from_arrays([1, 2], [1, 2])),
        ValueError,
        r"needs ratings",
        id="biased-without-ratings",
    ),
    bad(
        lambda: train_with(
            ImplicitMFScorer(features=2, epochs=1, use_ratings=True),
            Dataset.from_arrays([1, 2], [1, 2]),
        ),
        ValueError,
        r"use_ratings=True but the data has no 'rating' field",
        id="implicit-use-ratings-without-ratings",
    ),
    bad(
        lambda: train_with(
            BiasedMFScorer(features=2, epochs=1, dtype="float32"),
            Dataset.from_arrays([1, 2, 1, 3], [1, 2, 2, 1], [1e39, 1.0, 2.0, 3.0]),
        ),
        ValueError,
        r"rating",
        id="ratings-beyond-float32",
    ),
    ok(
        lambda: train_with(
            BiasedMFScorer(features=2, epochs=1, regularization=0),
            Dataset.from_arrays([1, 2, 1], [1, 1, 2], [1.0, 2.0, 3.0]),
        ),
        lambda m: np.isfinite(m.predict([1], [1])).all(),
        id="zero-regularization",
    ),
    ok(
        lambda: train_with(
            BiasedMFScorer(features=8, epochs=2), Dataset.from_arrays([1, 2], [1, 2], [1.0, 2.0])
        ),
        lambda m: np.isfinite(m.predict([1, 2], [1, 2])).all(),
        id="more-features-than-users-and-items",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), TRAINING_TABLE)
def test_training(call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(None, lambda _: call(), errors, pattern, check)


@pytest.mark.parametrize("size", [10**12, 2**31 - 1, 2**31, 10**30])
@pytest.mark.parametrize("cls", [BiasedMFScorer, ImplicitMFScorer])
def test_absurd_embedding_size_refused_before_allocating(cls: Any, size: int) -> None:
    """Accepted by the config, refused at train time at once with a message naming it (the
    factors alone would need terabytes: nothing may try to allocate them)."""
    model = cls(features=size, epochs=1)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=rf"embedding_size={size}\b") as info:
        train_with(model)
    assert time.perf_counter() - start < 2.0
    assert "GiB" in str(info.value)
    assert getattr(model, "item_features_", None) is None


@pytest.mark.parametrize("cls", [BiasedMFScorer, ImplicitMFScorer])
@pytest.mark.parametrize(
    ("users", "items"),
    [
        pytest.param([7, 7, 7], [1, 2, 3], id="single-user"),
        pytest.param([1, 2, 3], [9, 9, 9], id="single-item"),
        pytest.param([1], [9], id="single-interaction"),
        pytest.param(["u"], ["i"], id="single-string-interaction"),
        pytest.param([I64_MIN, I64_MAX], [I64_MAX, I64_MIN], id="int64-extremes"),
    ],
)
def test_degenerate_datasets_train_and_score(
    cls: Any, users: list[Any], items: list[Any], tmp_path: Path
) -> None:
    ratings = [1.0, 2.0, 5.0][: len(users)]
    data = Dataset.from_arrays(users, items, ratings)
    model = train_with(cls(features=3, epochs=2), data)
    unknown = "zz-unknown" if isinstance(items[0], str) else 12345
    scores = model(users[0], [items[0], unknown]).scores()
    assert np.isfinite(scores[0]) and np.isnan(scores[1])
    assert np.isnan(model(unknown, [items[0]]).scores()).all()
    recs = model.recommend(n=5)
    assert len(recs) <= data.item_count * data.user_count
    everything = model.recommend(n=5, exclude_seen=False)
    assert len(everything) == data.user_count * min(5, data.item_count)
    assert np.isfinite(everything.scores).all()
    assert np.isfinite(model.predict([users[0]], [items[0]])).all()
    similar = model.similar_items([items[0]], n=3)
    assert len(similar) == min(3, data.item_count - 1)
    embeddings, _ = model.fold_in_users([ItemList([items[0]], rating=[ratings[0]])])
    assert embeddings.shape == (1, 3) and np.isfinite(embeddings).all()
    model.save(tmp_path / "m.alskit")
    again = alskit.load(tmp_path / "m.alskit")
    assert np.array_equal(again(users[0], [items[0]]).scores(), scores[:1])
