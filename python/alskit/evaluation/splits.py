"""Train/test splits: per-user holdouts (sample-users, all users) and a global temporal split."""

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
    users = data.user_nums
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

    return _masked_split(data, test_mask, test_users)


def _masked_split(
    data: Dataset, test_mask: NDArray[np.bool_], test_users: NDArray[np.int64]
) -> TrainTestSplit:
    """Interactions where ``test_mask`` is set form the test lists of ``test_users`` (in
    that order); the rest is training data with the full vocabularies."""
    users, items = data.user_nums, data.item_nums
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


def temporal_split(
    data: Dataset, fraction: float | None = None, *, cutoff: Any = None
) -> TrainTestSplit:
    """Global temporal split: the newest interactions are the test data.

    With ``fraction`` (default 0.2 when ``cutoff`` is not given) the latest
    ``round(fraction * n)`` of all ``n`` interactions by timestamp are held out; among
    equal timestamps the later ones in the dataset's (user, item) order are held out
    first, so the split is deterministic. With ``cutoff`` every interaction whose
    timestamp is at or after it is held out. The training Dataset keeps the full
    vocabularies; ``test`` maps each user with held-out interactions to an ItemList
    (with ``rating`` if the data has ratings).
    """
    ts = data.timestamps
    if ts is None:
        raise ValueError("temporal_split needs timestamps; the dataset has none")
    if fraction is not None and cutoff is not None:
        raise ValueError("give either fraction or cutoff, not both")
    if ts.dtype.kind in "fcmM":
        invalid = np.isnan(ts) if ts.dtype.kind in "fc" else np.isnat(ts)
        if invalid.any():
            raise ValueError(f"{int(invalid.sum())} timestamps are missing (NaN/NaT)")
    n = data.interaction_count
    test_mask = np.zeros(n, dtype=bool)
    if cutoff is None:
        frac = 0.2 if fraction is None else fraction
        if isinstance(frac, bool) or not isinstance(frac, (float, int)) or not 0 < frac < 1:
            raise ValueError(f"fraction must be a number in (0, 1), got {frac!r}")
        count = round(frac * n)
        if not 0 < count < n:
            raise ValueError(
                f"fraction {frac} of {n} interactions holds out {count}; "
                "both training and test data need interactions"
            )
        # Stable sort: equal timestamps keep dataset order, so the later ones go to test.
        order = np.argsort(ts, kind="stable")
        test_mask[order[n - count :]] = True
    else:
        try:
            test_mask[:] = np.asarray(ts >= cutoff, dtype=bool)
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"cutoff {cutoff!r} cannot be compared with timestamps of dtype {ts.dtype}"
            ) from e
        if test_mask.all():
            raise ValueError(
                f"every interaction is at or after cutoff {cutoff!r}: no training data"
            )
    test_users = np.unique(data.user_nums[test_mask]).astype(np.int64)
    return _masked_split(data, test_mask, test_users)
