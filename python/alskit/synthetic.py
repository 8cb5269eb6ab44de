"""Seeded synthetic interaction data with the structure of real recommender data.

User activity and item popularity follow power laws (a few users rate thousands of items,
most rate a few dozen; a few items are in every other history); which items a user picks and
how they rate them come from planted low-rank preferences, so a factorization model has real
signal to find. Sizes range from tiny to the MovieLens-20M shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from .data import Dataset


@dataclass(frozen=True)
class Shape:
    users: int
    items: int
    interactions: int


SHAPES: dict[str, Shape] = {
    "tiny": Shape(200, 100, 3_000),
    "small": Shape(943, 1_682, 100_000),  # MovieLens 100K
    "medium": Shape(6_040, 3_706, 1_000_209),  # MovieLens 1M
    "large": Shape(69_878, 10_677, 10_000_054),  # MovieLens 10M
    "ml20m": Shape(138_493, 26_744, 20_000_263),  # MovieLens 20M
}

_CHUNK = 1 << 21  # interactions generated per step: bounds temporary memory


def _user_lengths(shape: Shape, rng: np.random.Generator) -> NDArray[np.int64]:
    """Pareto-tailed activity with a floor (as MovieLens' 20 ratings) and a cap (a third of
    the items), scaled so the lengths add up to the requested number of interactions."""
    floor = min(20, max(1, shape.interactions // shape.users // 2), shape.items)
    cap = max(floor, shape.items // 3)
    weight = (1.0 - rng.random(shape.users)) ** (-1.0 / 1.2)
    lengths = np.full(shape.users, floor, dtype=np.int64)
    for _ in range(20):  # hand what the cap removes to the uncapped users
        missing = shape.interactions - int(lengths.sum())
        free = lengths < cap
        if missing <= 0 or not free.any():
            break
        extra = missing * weight[free] / weight[free].sum()
        lengths[free] = np.minimum(cap, lengths[free] + np.floor(extra + rng.random(free.sum())))
    return lengths


def _distinct_sorted(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """Sorted distinct values (a sort and a neighbour comparison: faster than np.unique's
    hashing on tens of millions of integers)."""
    values = np.sort(values)
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _choose_items(
    owners: NDArray[np.int64],
    cdf: NDArray[np.float64],
    user_taste: NDArray[np.float32],
    item_traits: NDArray[np.float32],
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """One item per slot: three popularity-drawn candidates, of which the user takes the one
    they like best (Gumbel-max: a softmax choice on affinity), so choices carry preference."""
    picks = np.empty(len(owners), dtype=np.int64)
    for lo in range(0, len(owners), _CHUNK):
        u = owners[lo : lo + _CHUNK]
        cand = np.searchsorted(cdf, rng.random((len(u), 3)))
        affinity = np.einsum("nk,nck->nc", user_taste[u], item_traits[cand])
        choice = np.argmax(affinity + rng.gumbel(size=affinity.shape), axis=1)
        picks[lo : lo + _CHUNK] = cand[np.arange(len(u)), choice]
    return picks


def generate(
    shape: str | Shape = "small",
    *,
    kind: Literal["explicit", "implicit"] = "explicit",
    seed: int = 0,
    rank: int = 8,
) -> Dataset:
    """A synthetic Dataset: ``kind="explicit"`` has 1–5 star ratings, ``"implicit"`` has none.

    ``shape`` is one of :data:`SHAPES` (``tiny``, ``small``, ``medium``, ``large``,
    ``ml20m``) or a :class:`Shape`. The same arguments always give the same data.
    """
    if isinstance(shape, str):
        if shape not in SHAPES:
            raise ValueError(f"shape must be one of {sorted(SHAPES)}, got {shape!r}")
        shape = SHAPES[shape]
    if kind not in ("explicit", "implicit"):
        raise ValueError(f"kind must be 'explicit' or 'implicit', got {kind!r}")
    if min(shape.users, shape.items, shape.interactions) < 1:
        raise ValueError(f"shape sizes must be positive, got {shape}")
    if shape.interactions > shape.users * shape.items:
        raise ValueError(
            f"{shape.interactions} interactions do not fit {shape.users} × {shape.items}"
        )
    rng = np.random.default_rng(seed)
    lengths = _user_lengths(shape, rng)
    popularity = 1.0 / np.power(np.arange(shape.items) + 10.0, 1.1)
    cdf = np.cumsum(popularity[rng.permutation(shape.items)])
    cdf /= cdf[-1]
    user_taste = rng.standard_normal((shape.users, rank)).astype(np.float32)
    item_traits = rng.standard_normal((shape.items, rank)).astype(np.float32) / np.sqrt(rank)

    # Draw each user's items; repeats of a (user, item) pair are dropped and redrawn (a few
    # rounds) so the data comes close to the requested number of interactions.
    keys = np.empty(0, dtype=np.int64)  # sorted, distinct user * items + item
    wanted = lengths
    for _ in range(6):
        owners = np.repeat(np.arange(shape.users, dtype=np.int64), wanted)
        if len(owners) < max(1, shape.interactions // 200):  # within 0.5%: close enough
            break
        drawn = _distinct_sorted(
            owners * shape.items + _choose_items(owners, cdf, user_taste, item_traits, rng)
        )
        if len(keys):
            pos = np.minimum(np.searchsorted(keys, drawn), len(keys) - 1)
            drawn = drawn[keys[pos] != drawn]
        # Appending a short sorted run to a long sorted one: the stable (merge) sort is ~linear.
        keys = np.sort(np.concatenate([keys, drawn]), kind="stable")
        wanted = np.maximum(lengths - np.bincount(keys // shape.items, minlength=shape.users), 0)
    users = (keys // shape.items).astype(np.int64)
    items = (keys % shape.items).astype(np.int64)

    ratings = None
    if kind == "explicit":
        ratings = np.empty(len(keys))
        for lo in range(0, len(keys), _CHUNK):
            u, i = users[lo : lo + _CHUNK], items[lo : lo + _CHUNK]
            signal = np.einsum("nk,nk->n", user_taste[u], item_traits[i])
            noisy = 3.6 + 1.1 * signal + 0.6 * rng.standard_normal(len(u))
            ratings[lo : lo + _CHUNK] = np.clip(np.rint(noisy), 1, 5)
    # Ids are 1-based, as in MovieLens; every user and item is in the vocabulary.
    return Dataset.from_arrays(
        users + 1,
        items + 1,
        ratings,
        users=np.arange(1, shape.users + 1),
        items=np.arange(1, shape.items + 1),
    )
