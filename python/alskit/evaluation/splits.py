"""Train/test splits that hold out part of each test user's interactions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..data import Dataset, ItemList


@dataclass
class TrainTestSplit:
    """``train``: a Dataset with the full vocabularies; ``test``: held-out items per user id."""

    train: Dataset
    test: dict[Any, ItemList]


def _holdout_counts(lengths: NDArray[np.int64], holdout: float | int) -> NDArray[np.int64]:
    if isinstance(holdout, float):
        if not 0.0 < holdout < 1.0:
            raise ValueError(f"holdout as a fraction must be in (0, 1), got {holdout}")
        # Python's round(): halves go to even, as LensKit's SampleFrac does.
        return np.array([round(holdout * n) for n in lengths.tolist()], dtype=np.int64)
    if isinstance(holdout, bool) or holdout < 1:
        raise ValueError(f"holdout as a count must be a positive int, got {holdout!r}")
    return np.minimum(lengths, holdout)


def _split(
    data: Dataset, test_users: NDArray[np.int64], holdout: float | int, rng: np.random.Generator
) -> TrainTestSplit:
    users, items = data.user_nums, data.item_nums
    starts = np.searchsorted(users, np.arange(data.user_count + 1))  # interactions sort by user
    lengths = (starts[test_users + 1] - starts[test_users]).astype(np.int64)
    counts = _holdout_counts(lengths, holdout)
    test_mask = np.zeros(data.interaction_count, dtype=bool)
    for user, start, length, count in zip(
        test_users.tolist(),
        starts[test_users].tolist(),
        lengths.tolist(),
        counts.tolist(),
        strict=True,
    ):
        del user
        picked = rng.choice(length, size=count, replace=False)
        test_mask[start + picked] = True

    keep = ~test_mask
    train = Dataset(
        data.users,
        data.items,
        users[keep],
        items[keep],
        None if data.ratings is None else data.ratings[keep],
        None if data.timestamps is None else data.timestamps[keep],
    )
    test: dict[Any, ItemList] = {}
    test_idx = np.flatnonzero(test_mask)
    owner = users[test_idx]
    bounds = np.searchsorted(owner, np.arange(data.user_count + 1))
    for user in test_users.tolist():
        sel = test_idx[bounds[user] : bounds[user + 1]]
        fields = {} if data.ratings is None else {"rating": data.ratings[sel]}
        test[data.users.id(user)] = ItemList(item_nums=items[sel], vocabulary=data.items, **fields)
    return TrainTestSplit(train, test)


def sample_users(
    data: Dataset, n_users: int, holdout: float | int = 0.2, rng: Any = None
) -> TrainTestSplit:
    """LensKit's sample-users protocol: pick ``n_users`` users at random; hold out
    ``holdout`` (a fraction, rounded, or a count) of each one's interactions for testing;
    everything else is training data."""
    gen = np.random.default_rng(rng)
    if not 0 < n_users <= data.user_count:
        raise ValueError(f"n_users must be in [1, {data.user_count}], got {n_users}")
    chosen = np.sort(gen.choice(data.user_count, size=n_users, replace=False)).astype(np.int64)
    return _split(data, chosen, holdout, gen)


def holdout_users(data: Dataset, holdout: float | int = 0.2, rng: Any = None) -> TrainTestSplit:
    """Hold out part of every user's interactions."""
    gen = np.random.default_rng(rng)
    return _split(data, np.arange(data.user_count, dtype=np.int64), holdout, gen)
