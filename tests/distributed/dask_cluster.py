"""Shared clusters, data and checks of the alskit.distributed tests (imported by each test
module: a second ``conftest.py`` would shadow tests/conftest.py's helpers).

Real ``distributed.LocalCluster``s (worker processes, one thread each), started once per
module: the whole suite runs on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import distributed
from alskit import synthetic
from alskit.data import Dataset
from alskit.training import TrainingOptions

# More rows than three reduction blocks (4096 rows) on each side, few interactions: every
# layout below has several blocks per side and the kernels stay fast.
SHAPE = synthetic.Shape(13_000, 9_000, 40_000)


def start_cluster(n_workers: int) -> Any:
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=50,
    )


def _client(n_workers: int) -> Iterator[Any]:
    with start_cluster(n_workers) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def client2() -> Iterator[Any]:
    yield from _client(2)


@pytest.fixture(scope="module")
def client3() -> Iterator[Any]:
    yield from _client(3)


@pytest.fixture(scope="session")
def ratings() -> Dataset:
    return synthetic.generate(SHAPE, kind="explicit", seed=7)


def local_run(model: Any, data: Any, seed: int = 42) -> list[dict[str, float]]:
    """Train ``model`` locally (two threads); returns each epoch's metrics."""
    return list(model.training_loop(data, TrainingOptions(rng=seed, threads=2)))


def assert_same_model(a: Any, b: Any) -> None:
    """Two trained scorers with the same learned state, bit for bit."""
    assert a.users_ == b.users_ and a.items_ == b.items_
    np.testing.assert_array_equal(a.item_features_, b.item_features_, strict=True)
    if a.user_features_ is None:
        assert b.user_features_ is None
    else:
        np.testing.assert_array_equal(a.user_features_, b.user_features_, strict=True)
    np.testing.assert_array_equal(a.user_items_.indptr, b.user_items_.indptr)
    np.testing.assert_array_equal(a.user_items_.indices, b.user_items_.indices)
    assert a.user_items_.shape == b.user_items_.shape
    assert a.trained_epochs == b.trained_epochs
    if hasattr(a, "bias_"):
        assert a.bias_.global_bias == b.bias_.global_bias
        np.testing.assert_array_equal(a.bias_.user_biases, b.bias_.user_biases, strict=True)
        np.testing.assert_array_equal(a.bias_.item_biases, b.bias_.item_biases, strict=True)
    if hasattr(a, "OtOr_"):
        np.testing.assert_array_equal(a.OtOr_, b.OtOr_, strict=True)


# Closing a LocalCluster can leave a socket of its event loop to the garbage collector
# (distributed's own teardown, not alskit's): not an error in these tests.
CLUSTER_WARNINGS = [
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]
