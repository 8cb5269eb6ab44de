"""Hostile inputs at the scorer configs: one table, each row a call and what it must do
(``bad``, ``ok`` or ``either``: the table machinery in tests/hostile.py). Whatever the row,
the process never crashes and no other exception escapes.
"""

from __future__ import annotations

from typing import Any

import pytest

from alskit import (
    BiasedMFScorer,
    ImplicitMFConfig,
    ImplicitMFScorer,
)
from hostile import (
    bad,
    verify,
)

# ---- 3. configs ----------------------------------------------------------------------------

CONFIG_TABLE = [
    bad(
        lambda: BiasedMFScorer(embedding_size=0),
        ValueError,
        r"embedding_size",
        id="embedding-size-0",
    ),
    bad(
        lambda: BiasedMFScorer(features=-1),
        ValueError,
        r"features|embedding_size",
        id="features-negative",
    ),
    bad(
        lambda: BiasedMFScorer(features=1.5),
        ValueError,
        r"features|embedding_size",
        id="features-fractional",
    ),
    bad(
        lambda: BiasedMFScorer(features="a"),
        ValueError,
        r"features|embedding_size",
        id="features-str",
    ),
    bad(
        lambda: BiasedMFScorer(features=True),
        ValueError,
        r"embedding_size must be an integer, not a boolean",
        id="features-bool",
    ),
    bad(
        lambda: BiasedMFScorer(features=None),
        ValueError,
        r"features|embedding_size",
        id="features-none",
    ),
    bad(lambda: BiasedMFScorer(epochs=0), ValueError, r"epochs", id="epochs-0"),
    bad(lambda: BiasedMFScorer(epochs=-3), ValueError, r"epochs", id="epochs-negative"),
    bad(
        lambda: BiasedMFScorer(regularization=-0.1),
        ValueError,
        r"regularization must be finite and non-negative",
        id="reg-negative",
    ),
    bad(
        lambda: BiasedMFScorer(regularization=float("nan")),
        ValueError,
        r"regularization must be finite",
        id="reg-nan",
    ),
    bad(
        lambda: BiasedMFScorer(regularization=float("inf")),
        ValueError,
        r"regularization must be finite",
        id="reg-inf",
    ),
    bad(
        lambda: BiasedMFScorer(regularization={"user": 1.0, "item": -1.0}),
        ValueError,
        r"regularization must be finite and non-negative, got -1",
        id="reg-pair-negative",
    ),
    bad(
        lambda: BiasedMFScorer(regularization={"user": 1.0}),
        ValueError,
        r"regularization",
        id="reg-pair-incomplete",
    ),
    bad(
        lambda: BiasedMFScorer(damping=-1),
        ValueError,
        r"damping must be finite and non-negative",
        id="damping-negative",
    ),
    bad(
        lambda: BiasedMFScorer(damping=float("nan")),
        ValueError,
        r"damping must be finite",
        id="damping-nan",
    ),
    bad(
        lambda: BiasedMFScorer(damping={"users": 1.0}), ValueError, r"damping", id="damping-bad-key"
    ),
    bad(lambda: BiasedMFScorer(dtype="float16"), ValueError, r"dtype", id="dtype-float16"),
    bad(
        lambda: BiasedMFScorer(user_embeddings="sometimes"),
        ValueError,
        r"user_embeddings",
        id="user-embeddings-bad",
    ),
    bad(lambda: BiasedMFScorer(featurs=3), ValueError, r"featurs", id="misspelt-option"),
    bad(lambda: ImplicitMFScorer(weight=-1), ValueError, r"weight", id="weight-negative"),
    bad(lambda: ImplicitMFScorer(weight=float("nan")), ValueError, r"weight", id="weight-nan"),
    bad(lambda: ImplicitMFScorer(weight=float("inf")), ValueError, r"weight", id="weight-inf"),
    bad(lambda: ImplicitMFScorer(solver="lu"), ValueError, r"solver", id="solver-unknown"),
    bad(lambda: ImplicitMFScorer(cg_steps=0), ValueError, r"cg_steps", id="cg-steps-0"),
    bad(
        lambda: ImplicitMFScorer(cg_steps=True),
        ValueError,
        r"cg_steps must be an integer",
        id="cg-steps-bool",
    ),
    bad(
        lambda: ImplicitMFScorer(damping=1.0), ValueError, r"damping", id="implicit-has-no-damping"
    ),
    bad(
        lambda: BiasedMFScorer(config={}, features=3),
        TypeError,
        r"either config= or keyword options",
        id="config-and-kwargs",
    ),
    bad(
        lambda: BiasedMFScorer(config=ImplicitMFConfig()),
        TypeError,
        r"config must be a BiasedMFConfig or a dict, got ImplicitMFConfig",
        id="config-wrong-class",
    ),
    bad(lambda: BiasedMFScorer(config=5), TypeError, r"config must be", id="config-int"),
    bad(
        lambda: BiasedMFScorer(config={"features": 0}),
        ValueError,
        r"features|embedding_size",
        id="config-dict-invalid",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), CONFIG_TABLE)
def test_configs(call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(None, lambda _: call(), errors, pattern, check)
