"""Training on a Dask cluster gives the local model, bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from dask_cluster import (
    CLUSTER_WARNINGS,
    assert_same_model,
    client2,
    client3,
    local_run,
    ratings,
)

from alskit.als import BiasedMFScorer, ImplicitMFScorer
from alskit.distributed import DaskTrainer
from alskit.training import TrainingOptions

SCORERS = {
    "explicit": lambda: BiasedMFScorer(embedding_size=6, epochs=3, damping=2.0),
    "implicit-cholesky": lambda: ImplicitMFScorer(embedding_size=6, epochs=3),
    "implicit-cg": lambda: ImplicitMFScorer(embedding_size=6, epochs=3, solver="cg"),
    # blocks of 4 and 2 coordinates
    "implicit-subspace": lambda: ImplicitMFScorer(
        embedding_size=6, epochs=3, solver="subspace", block_size=4
    ),
    "implicit-ratings-f32": lambda: ImplicitMFScorer(
        embedding_size=6, epochs=2, use_ratings=True, weight=2.0, dtype="float32"
    ),
}

pytestmark = CLUSTER_WARNINGS


def _check(client: Any, ratings: Any, name: str, mode: str, blocks: int) -> DaskTrainer:
    local = SCORERS[name]()
    expected = local_run(local, ratings)
    seen: list[dict[str, float]] = []
    model = SCORERS[name]()
    trainer = DaskTrainer(client, mode=mode, blocks=blocks, on_epoch=lambda e, m: seen.append(m))  # type: ignore[arg-type]
    assert trainer.train(model, ratings, TrainingOptions(rng=42)) is model
    assert trainer.stats.mode == mode
    assert trainer.stats.blocks["user"] > 1 and trainer.stats.blocks["item"] > 1
    assert_same_model(model, local)
    assert seen == expected  # the per-epoch deltas too, bit for bit
    return trainer


@pytest.mark.parametrize("name", sorted(SCORERS))
@pytest.mark.parametrize(("mode", "blocks"), [("broadcast", 2), ("routed", 3)])
def test_two_workers_equal_local(
    client2: Any, ratings: Any, name: str, mode: str, blocks: int
) -> None:
    _check(client2, ratings, name, mode, blocks)


@pytest.mark.parametrize("name", sorted(SCORERS))
@pytest.mark.parametrize(("mode", "blocks"), [("broadcast", 3), ("routed", 2)])
def test_three_workers_equal_local(
    client3: Any, ratings: Any, name: str, mode: str, blocks: int
) -> None:
    _check(client3, ratings, name, mode, blocks)


@pytest.mark.parametrize(
    ("name", "mode"), [("explicit", "broadcast"), ("implicit-cholesky", "routed")]
)
def test_blocks_within_reduction_blocks_equal_local(
    client2: Any, ratings: Any, name: str, mode: str
) -> None:
    # 7 blocks of 13,000 users and of 9,000 items: every block starts inside a 4096-row
    # reduction block, and some lie within one (whole reduction blocks would give 4 and 3).
    trainer = _check(client2, ratings, name, mode, 7)
    assert trainer.stats.blocks == {"user": 7, "item": 7}


def test_trained_model_is_an_ordinary_scorer(client2: Any, ratings: Any, tmp_path: Any) -> None:
    import alskit

    local = SCORERS["explicit"]()
    local_run(local, ratings)
    model = DaskTrainer(client2).train(SCORERS["explicit"](), ratings, TrainingOptions(rng=42))
    users = ratings.users.ids()[:50]
    mine, theirs = model.recommend(users, 5), local.recommend(users, 5)
    np.testing.assert_array_equal(mine.item_ids, theirs.item_ids)
    np.testing.assert_array_equal(mine.scores, theirs.scores)
    item_ids = ratings.items.ids()[:20]
    np.testing.assert_array_equal(
        model(users[0], item_ids).scores(), local(users[0], item_ids).scores()
    )
    model.save(tmp_path / "m.alskit")
    assert_same_model(alskit.load(tmp_path / "m.alskit"), local)


def test_memory_budget_chooses_the_mode(client2: Any, ratings: Any) -> None:
    k = 6
    fixed = max(ratings.user_count, ratings.item_count) * k * 4  # float32 factors
    small = DaskTrainer(client2, memory_budget=fixed - 1)
    small.train(BiasedMFScorer(embedding_size=k, epochs=1), ratings, TrainingOptions(rng=1))
    assert small.stats.mode == "routed"
    large = DaskTrainer(client2, memory_budget=fixed)
    large.train(BiasedMFScorer(embedding_size=k, epochs=1), ratings, TrainingOptions(rng=1))
    assert large.stats.mode == "broadcast"
    # routing moves fewer rows than broadcasting them all (explicit: no Gram, whose partials
    # routed mode reduces from rows that may travel, test_layout.py)
    for side in ("user", "item"):
        assert 0 < small.stats.bytes_per_half_epoch[side] < large.stats.bytes_per_half_epoch[side]


def test_caller_generator_advances_as_locally(client2: Any, ratings: Any) -> None:
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    ImplicitMFScorer(embedding_size=4, epochs=1).train(ratings, TrainingOptions(rng=a, threads=1))
    DaskTrainer(client2).train(
        ImplicitMFScorer(embedding_size=4, epochs=1), ratings, TrainingOptions(rng=b)
    )
    assert a.random() == b.random()


def test_retrain_false_keeps_a_trained_model(client2: Any, ratings: Any) -> None:
    model = ImplicitMFScorer(embedding_size=4, epochs=1)
    local_run(model, ratings)
    before = model.item_features_.copy()
    DaskTrainer(client2).train(model, ratings, TrainingOptions(rng=9, retrain=False))
    np.testing.assert_array_equal(model.item_features_, before)


def test_resume_option_points_to_checkpoints(client2: Any, ratings: Any) -> None:
    model = ImplicitMFScorer(embedding_size=4, epochs=1)
    with pytest.raises(ValueError, match="checkpoint_dir"):
        DaskTrainer(client2).train(model, ratings, TrainingOptions(rng=1, resume=True))
    assert model.trained_epochs == 0
