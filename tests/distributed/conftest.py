"""Shared clusters and data of the alskit.distributed tests.

Real ``distributed.LocalCluster``s (worker processes, one thread each), started once per
module: the whole suite runs on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dask_helpers import SHAPE, start_cluster

import distributed
from alskit import synthetic
from alskit.data import Dataset


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Closing a LocalCluster can leave a socket of its event loop for the garbage
    collector (distributed's own teardown, not alskit's): not an error here."""
    for item in items:
        if "distributed" in item.path.parts:
            item.add_marker(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )
            item.add_marker(pytest.mark.filterwarnings("ignore::ResourceWarning"))
