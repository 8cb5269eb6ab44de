"""Helpers of the alskit.distributed tests (a module of its own: tests import it by name,
which would be ambiguous for a conftest)."""

from __future__ import annotations

from typing import Any

import numpy as np

import distributed
from alskit import synthetic
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
