"""Issue 14, concurrency: many threads may read one model; while it retrains, other threads
see the old model (never a mix of epochs, never a raw IndexError/KeyError) until the training
ends; ``save`` from another thread during training writes a loadable model; two trainings of
one object at once: a clear RuntimeError."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import alskit
from alskit import BiasedMFScorer, ImplicitMFScorer, TrainingOptions
from alskit.synthetic import generate

MODELS: dict[str, Callable[..., alskit.ALSBase]] = {
    "explicit": lambda **kw: BiasedMFScorer(features=16, dtype="float32", **kw),
    "implicit": lambda **kw: ImplicitMFScorer(features=16, dtype="float32", **kw),
}


@pytest.fixture(scope="module")
def data() -> alskit.Dataset:
    return generate("small", kind="explicit", seed=4)


def trained(kind: str, data: alskit.Dataset, seed: int, epochs: int = 2) -> alskit.ALSBase:
    model = MODELS[kind](epochs=epochs)
    model.train(data, TrainingOptions(rng=seed, threads=2))
    return model


def readings(model: alskit.ALSBase, data: alskit.Dataset) -> tuple[Any, ...]:
    """Results of every read operation, as hashable bytes."""
    users = data.users.ids()[:50]
    items = data.items.ids()[:50]
    recs = model.recommend(users, n=5, threads=1)
    scores = model(users[0], items).scores()
    assert scores is not None
    history = data.user_row(users[1])
    assert history is not None
    folded = model(alskit.RecQuery(user_items=history), items).scores()
    assert folded is not None
    return (
        recs.item_ids.tobytes(),
        recs.scores.tobytes(),
        model.predict(users, items, threads=1).tobytes(),
        scores.tobytes(),
        folded.tobytes(),
    )


def run_threads(targets: list[Callable[[], None]], timeout: float = 120) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrap(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as e:  # noqa: BLE001 (reported to the test)
                errors.append(e)

        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread hung"
    return errors


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_many_threads_scoring_bit_identical(kind: str, data: alskit.Dataset) -> None:
    model = trained(kind, data, seed=1)
    expected = readings(model, data)
    results: list[tuple[Any, ...]] = []

    def reader() -> None:
        for _ in range(5):
            results.append(readings(model, data))

    assert run_threads([reader] * 6) == []
    assert len(results) == 30
    assert all(r == expected for r in results)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_readers_during_retraining_see_the_old_model_or_the_new(
    kind: str, data: alskit.Dataset
) -> None:
    model = trained(kind, data, seed=1)
    old = readings(model, data)
    new_model = trained(kind, data, seed=2, epochs=12)
    new = readings(new_model, data)
    assert old != new
    model.config = new_model.config  # the retrain below runs 12 epochs
    done = threading.Event()
    seen: list[tuple[Any, ...]] = []

    def trainer() -> None:
        try:
            model.train(data, TrainingOptions(rng=2, threads=2))
        finally:
            done.set()

    def reader() -> None:
        while not done.is_set():
            seen.append(readings(model, data))
        seen.append(readings(model, data))

    errors = run_threads([trainer, reader, reader, reader])
    assert errors == []
    assert len(seen) > 3
    # Each read (one call) comes from one model; consecutive calls may straddle the swap.
    for r in seen:
        assert all(part in (o, n) for part, o, n in zip(r, old, new, strict=True)), (
            "a reader saw a mix of epochs"
        )
    assert seen[-1] == new


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_save_from_another_thread_while_training_writes_loadable_models(
    kind: str, data: alskit.Dataset, tmp_path: Path
) -> None:
    model = trained(kind, data, seed=1)
    before = model.item_features_.copy()
    model.config = MODELS[kind](epochs=12).config
    done = threading.Event()
    saved: list[Path] = []

    def trainer() -> None:
        try:
            model.train(data, TrainingOptions(rng=2, threads=2))
        finally:
            done.set()

    def saver() -> None:
        while not done.is_set():
            path = tmp_path / f"checkpoint-{len(saved)}.alskit"
            model.save(path)
            saved.append(path)

    assert run_threads([trainer, saver]) == []
    assert saved
    after = model.item_features_
    for path in saved:
        loaded = alskit.load(path)  # every checkpoint that save() returned from loads
        assert np.array_equal(loaded.item_features_, before) or np.array_equal(
            loaded.item_features_, after
        )


def test_reading_an_untrained_model_while_it_trains_is_a_clear_error(
    data: alskit.Dataset,
) -> None:
    model = MODELS["explicit"](epochs=3)
    loop = model.training_loop(data, TrainingOptions(rng=1, threads=2))
    next(loop)  # the training thread sees its model between epochs
    assert model.recommend(n=3, threads=1) is not None
    failures: list[BaseException] = []

    def other() -> None:
        with pytest.raises(RuntimeError, match="not trained") as info:
            model.recommend(n=3, threads=1)
        failures.append(info.value)

    assert run_threads([other]) == []
    assert len(failures) == 1
    for _ in loop:
        pass
    assert run_threads([lambda: model.recommend(n=3, threads=1) and None]) == []


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_two_threads_training_one_object_is_a_clear_error(kind: str, data: alskit.Dataset) -> None:
    model = MODELS[kind](epochs=8)
    reference = MODELS[kind](epochs=8)
    reference.train(data, TrainingOptions(rng=3, threads=1))
    started = threading.Barrier(2)

    def trainer() -> None:
        started.wait()
        model.train(data, TrainingOptions(rng=3, threads=1))

    errors = run_threads([trainer, trainer])
    # Either the second start found the first running (RuntimeError), or they ran one after
    # the other; never two trainings interleaved on one set of factors.
    assert all(isinstance(e, RuntimeError) and "already being trained" in str(e) for e in errors)
    assert len(errors) <= 1
    assert np.array_equal(model.item_features_, reference.item_features_)


def test_two_threads_training_one_object_deterministic_refusal(data: alskit.Dataset) -> None:
    model = MODELS["explicit"](epochs=3)
    loop = model.training_loop(data, TrainingOptions(rng=1, threads=1))
    next(loop)
    errors = run_threads([lambda: model.train(data, TrainingOptions(rng=2, threads=1))])
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    assert "already being trained" in str(errors[0])
    rest = list(loop)
    assert len(rest) == 2 and model.trained_epochs == 3
    # Once that training is over, another thread may train the model.
    assert run_threads([lambda: model.train(data, TrainingOptions(rng=2, threads=1))]) == []


def test_same_thread_new_training_abandons_the_suspended_loop(data: alskit.Dataset) -> None:
    model = MODELS["explicit"](epochs=3)
    loop = model.training_loop(data, TrainingOptions(rng=1, threads=1))
    next(loop)
    model.train(data, TrainingOptions(rng=2, threads=1))
    with pytest.raises(RuntimeError, match="replaced by a newer training"):
        next(loop)
    assert model.trained_epochs == 3


def test_readers_during_a_resumed_training_see_the_checkpoint_or_the_result(
    data: alskit.Dataset,
) -> None:
    """Resuming updates the factors in place: other threads must still read the model as it
    was at the checkpoint (a copy), never factors mid-update."""
    model = MODELS["explicit"](epochs=12)
    loop = model.training_loop(data, TrainingOptions(rng=1, threads=2))
    for _ in range(2):
        next(loop)
    loop.close()
    checkpoint = readings(model, data)
    done = threading.Event()
    seen: list[tuple[Any, ...]] = []

    def trainer() -> None:
        try:
            model.train(data, TrainingOptions(threads=2, resume=True))
        finally:
            done.set()

    def reader() -> None:
        while not done.is_set():
            seen.append(readings(model, data))

    assert run_threads([trainer, reader, reader]) == []
    final = readings(model, data)
    assert model.trained_epochs == 12 and final != checkpoint
    for r in seen:
        assert all(part in (c, f) for part, c, f in zip(r, checkpoint, final, strict=True))
