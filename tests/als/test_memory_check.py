"""The training memory check counts the factors and exactly the solver workspace the core
reports (``core.workspace_bytes``): one byte less memory than that and training is refused
before anything is allocated; exactly that much and it trains."""

from __future__ import annotations

import numpy as np
import pytest

import alskit
from alskit._native import core
from alskit.als import ALSBase, _base

THREADS = 2


def needed_bytes(model: ALSBase, solver: str, n_users: int, n_items: int) -> int:
    k = model.config.embedding_size
    factors = (n_users + n_items) * k * model.dtype.itemsize
    fixed = max(n_users, n_items)
    return factors + core.workspace_bytes(
        k, model.dtype, solver=solver, threads=THREADS, fixed_rows=fixed
    )


@pytest.mark.parametrize(
    ("make", "solver"),
    [
        (lambda: alskit.BiasedMFScorer(features=12, epochs=1), "explicit"),
        (lambda: alskit.ImplicitMFScorer(features=12, epochs=1), "cholesky"),
        (lambda: alskit.ImplicitMFScorer(features=12, epochs=1, solver="cg"), "cg"),
    ],
    ids=["explicit", "cholesky", "cg"],
)
def test_memory_check_uses_the_core_workspace_size(
    monkeypatch: pytest.MonkeyPatch, make: object, solver: str
) -> None:
    rng = np.random.default_rng(3)
    users, items = rng.integers(0, 40, 300), rng.integers(0, 30, 300)
    data = alskit.Dataset.from_arrays(
        users, items, rng.integers(1, 6, 300).astype(float), duplicates="last"
    )
    model = make()  # type: ignore[operator]
    needed = needed_bytes(model, solver, data.user_count, data.item_count)
    options = alskit.TrainingOptions(rng=1, threads=THREADS)

    monkeypatch.setattr(_base, "memory_limit", lambda: (needed - 1, "test limit"))
    with pytest.raises(ValueError, match=r"solver workspaces, more than .* test limit"):
        model.train(data, options)
    monkeypatch.setattr(_base, "memory_limit", lambda: (needed, "test limit"))
    model.train(data, options)
    assert model.user_features_ is not None
