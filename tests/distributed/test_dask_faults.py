"""A worker killed during training, and checkpoints resumed on a new client."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from dask_cluster import (
    CLUSTER_WARNINGS,
    assert_same_model,
    client2,
    local_run,
    ratings,
    start_cluster,
)

import distributed
from alskit.als import BiasedMFScorer, ImplicitMFScorer
from alskit.data import Dataset
from alskit.distributed import DaskTrainer
from alskit.training import TrainingOptions

pytestmark = CLUSTER_WARNINGS


class Stop(Exception):
    pass


def test_killed_worker_gives_the_same_model(ratings: Dataset) -> None:
    local = ImplicitMFScorer(embedding_size=5, epochs=4)
    local_run(local, ratings)
    with start_cluster(2) as cluster, distributed.Client(cluster) as client:
        killed: list[int] = []

        def kill(epoch: int, metrics: dict[str, float]) -> None:
            if epoch == 2:
                pids = client.run(os.getpid)
                victim = pids[sorted(pids)[0]]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        model = DaskTrainer(client, blocks=2, on_epoch=kill).train(
            ImplicitMFScorer(embedding_size=5, epochs=4), ratings, TrainingOptions(rng=42)
        )
        assert killed
    assert_same_model(model, local)


@pytest.mark.parametrize("mode", ["broadcast", "routed"])
def test_checkpoint_resumes_on_a_new_client(
    client2: Any, ratings: Dataset, tmp_path: Path, mode: str
) -> None:
    local = BiasedMFScorer(embedding_size=5, epochs=4)
    local_run(local, ratings)

    def stop(epoch: int, metrics: dict[str, float]) -> None:
        if epoch == 2:
            raise Stop

    first = BiasedMFScorer(embedding_size=5, epochs=4)
    with pytest.raises(Stop):
        DaskTrainer(client2, mode=mode, checkpoint_dir=tmp_path, on_epoch=stop).train(  # type: ignore[arg-type]
            first, ratings, TrainingOptions(rng=42)
        )
    assert first.trained_epochs == 0  # nothing half-written into the model
    manifest = json.loads((tmp_path / "checkpoint.json").read_text())
    assert manifest["epoch"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    files = {p.name for p in tmp_path.iterdir()} - {"checkpoint.json"}
    assert files == {Path(p).name for p in manifest["user"] + manifest["item"]}  # older removed

    with distributed.Client(client2.cluster) as other:
        trainer = DaskTrainer(other, mode=mode, checkpoint_dir=tmp_path)  # type: ignore[arg-type]
        model = trainer.train(
            BiasedMFScorer(embedding_size=5, epochs=4), ratings, TrainingOptions(rng=0)
        )
        assert trainer.stats.resumed_from == 2
    assert_same_model(model, local)
    assert json.loads((tmp_path / "checkpoint.json").read_text())["epoch"] == 4


def test_checkpoint_of_other_data_is_not_resumed(
    client2: Any, ratings: Dataset, tmp_path: Path
) -> None:
    trainer = DaskTrainer(client2, checkpoint_dir=tmp_path)
    trainer.train(ImplicitMFScorer(embedding_size=4, epochs=1), ratings, TrainingOptions(rng=1))
    other = ImplicitMFScorer(embedding_size=4, epochs=2)
    trainer.train(other, ratings, TrainingOptions(rng=1))
    assert trainer.stats.resumed_from == 0  # another config: started over
    local = ImplicitMFScorer(embedding_size=4, epochs=2)
    local_run(local, ratings, seed=1)
    assert_same_model(other, local)


def test_corrupt_checkpoint_is_refused(client2: Any, ratings: Dataset, tmp_path: Path) -> None:
    """Resumed factors are checked once (training trusts them afterwards): a checkpoint
    block holding NaN is refused with an error naming its file, not trained from."""
    import numpy as np

    def stop(epoch: int, metrics: dict[str, float]) -> None:
        raise Stop

    with pytest.raises(Stop):
        DaskTrainer(client2, checkpoint_dir=tmp_path, on_epoch=stop).train(
            BiasedMFScorer(embedding_size=4, epochs=3), ratings, TrainingOptions(rng=3)
        )
    manifest = json.loads((tmp_path / "checkpoint.json").read_text())
    victim = Path(manifest["item"][0])
    block = np.load(victim)
    block[0, 0] = np.nan
    np.save(victim, block)
    model = BiasedMFScorer(embedding_size=4, epochs=3)
    with pytest.raises(ValueError, match=f"{victim.name}.*non-finite"):
        DaskTrainer(client2, checkpoint_dir=tmp_path).train(model, ratings, TrainingOptions(rng=3))
    assert model.trained_epochs == 0


def _double(x: int) -> int:
    return 2 * x


def test_pinned_tasks_move_only_when_their_worker_is_gone(client2: Any) -> None:
    """alskit's tasks are pinned to their workers (never stolen); the scheduler plugin lets
    one pinned to a worker that is gone run elsewhere, and leaves other tasks alone."""
    from alskit.distributed._pinned import NAME, PinnedTasks

    client2.register_plugin(PinnedTasks(), name=NAME)
    gone = "tcp://127.0.0.1:9"  # no worker there
    ours = client2.submit(_double, 21, key="alskit-test-gone", workers=[gone])
    assert ours.result(timeout=30) == 42
    theirs = client2.submit(_double, 1, key="other-test-gone", workers=[gone])
    with pytest.raises(distributed.TimeoutError):
        theirs.result(timeout=2)  # strict placement elsewhere is not alskit's to change
    theirs.cancel()
    live = sorted(client2.scheduler_info()["workers"])
    pinned = client2.submit(_double, 5, key="alskit-test-live", workers=[live[1]])
    assert pinned.result(timeout=30) == 10
    assert set(client2.who_has(pinned)[pinned.key]) == {live[1]}


def test_training_pins_its_tasks(client2: Any, ratings: Dataset) -> None:
    trainer = DaskTrainer(client2, blocks=2)
    trainer.train(ImplicitMFScorer(embedding_size=4, epochs=1), ratings, TrainingOptions(rng=1))
    assert trainer.stats.pinned
    plugins = client2.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.plugins))
    assert "alskit-pinned-tasks" in plugins
