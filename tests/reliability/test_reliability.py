"""Determinism, interruption and resumption: the same seed gives the same bits whatever the
thread count; an interrupted model stays at a complete epoch and can be continued (in memory
or after save/load) to exactly the model an uninterrupted run gives."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import alskit
from alskit import BiasedMFScorer, ImplicitMFScorer, TrainingOptions
from alskit.synthetic import generate

MODELS = {
    "explicit": lambda **kw: BiasedMFScorer(features=8, dtype="float32", **kw),
    "implicit": lambda **kw: ImplicitMFScorer(features=8, dtype="float32", **kw),
    "implicit-cg": lambda **kw: ImplicitMFScorer(features=8, dtype="float32", solver="cg", **kw),
}


@pytest.fixture(scope="module")
def data() -> alskit.Dataset:
    return generate("small", kind="explicit", seed=3)


def factors(model: alskit.ALSBase) -> tuple[Any, Any]:
    return model.user_features_, model.item_features_


def assert_same_model(a: alskit.ALSBase, b: alskit.ALSBase) -> None:
    assert a.trained_epochs == b.trained_epochs
    for x, y in zip(factors(a), factors(b), strict=True):
        assert x is not None and y is not None
        assert np.array_equal(x, y), "factors differ"


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_bit_identical_across_runs_and_thread_counts(data: alskit.Dataset, kind: str) -> None:
    runs = []
    for threads in (1, 2, 4, 2):
        model = MODELS[kind](epochs=3)
        model.train(data, TrainingOptions(rng=11, threads=threads))
        runs.append(model)
    for other in runs[1:]:
        assert_same_model(runs[0], other)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_save_load_continue_equals_straight_through(
    data: alskit.Dataset, kind: str, tmp_path: Path
) -> None:
    straight = MODELS[kind](epochs=6)
    straight.train(data, TrainingOptions(rng=5, threads=2))

    partial = MODELS[kind](epochs=6)
    loop = partial.training_loop(data, TrainingOptions(rng=5, threads=2))
    for _ in range(3):
        next(loop)
    del loop  # abandoned mid-run, as after a crash or Ctrl-C between epochs
    assert partial.trained_epochs == 3
    partial.save(tmp_path / "partial.alskit")

    resumed = alskit.load(tmp_path / "partial.alskit")
    assert resumed.trained_epochs == 3
    resumed.train(data, TrainingOptions(threads=2, resume=True))
    assert_same_model(straight, resumed)

    # ... and the same in memory, without the file.
    partial.train(data, TrainingOptions(threads=1, resume=True))
    assert_same_model(straight, partial)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_ctrl_c_inside_a_half_epoch_stops_at_a_complete_epoch(
    data: alskit.Dataset, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    straight = MODELS[kind](epochs=4)
    straight.train(data, TrainingOptions(rng=9, threads=2))

    model = MODELS[kind](epochs=4)
    original = type(model).als_half_epoch
    calls = {"n": 0}

    def interrupting(self: alskit.ALSBase, epoch: int, context: Any) -> float:
        calls["n"] += 1
        if calls["n"] == 3:  # the user half of the second epoch
            signal.raise_signal(signal.SIGINT)  # a real Ctrl-C, delivered mid-epoch
        return original(self, epoch, context)

    monkeypatch.setattr(type(model), "als_half_epoch", interrupting)
    with pytest.raises(KeyboardInterrupt):
        model.train(data, TrainingOptions(rng=9, threads=2))
    monkeypatch.undo()

    # The interrupted epoch was finished first: two complete epochs, P and Q consistent.
    assert model.trained_epochs == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    scores = model(data.users.ids()[0], data.items.ids()[:20]).scores()
    assert scores is not None and np.isfinite(scores).all()
    recs = model.recommend(n=5)
    assert len(recs) > 0

    model.train(data, TrainingOptions(threads=2, resume=True))
    assert_same_model(straight, model)


def test_resume_refuses_other_data(data: alskit.Dataset) -> None:
    model = MODELS["explicit"](epochs=2)
    model.train(data, TrainingOptions(rng=1, threads=1))
    other = generate("tiny", kind="explicit", seed=1)
    with pytest.raises(ValueError, match="cannot resume: the data differs"):
        model.train(other, TrainingOptions(resume=True))


def test_resume_of_a_finished_model_changes_nothing(data: alskit.Dataset) -> None:
    model = MODELS["implicit"](epochs=2)
    model.train(data, TrainingOptions(rng=1, threads=1))
    before = [f.copy() for f in factors(model)]
    model.train(data, TrainingOptions(resume=True))
    assert model.trained_epochs == 2
    for x, y in zip(before, factors(model), strict=True):
        assert np.array_equal(x, y)
