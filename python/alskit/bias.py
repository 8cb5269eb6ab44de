"""The damped bias model: global mean plus item and user offsets (LensKit's ``BiasModel``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ._native import core
from ._reduction import block_partials, ordered_total
from .data import Dataset, ItemList, Vocabulary

Damping: TypeAlias = float | dict[Literal["user", "item"], float]
"""Bias damping: one value for both, or ``{"user": βu, "item": βi}`` (a missing key is 0)."""


def damping_pair(damping: Damping | tuple[float, float]) -> tuple[float, float]:
    """(β_user, β_item) from any accepted damping form, rejecting negatives."""
    if isinstance(damping, dict):
        unknown = set(damping) - {"user", "item"}
        if unknown:
            raise ValueError(f"damping keys must be 'user' and/or 'item', got {sorted(unknown)}")
        pair = (float(damping.get("user", 0.0)), float(damping.get("item", 0.0)))
    elif isinstance(damping, tuple):
        pair = (float(damping[0]), float(damping[1]))
    else:
        pair = (float(damping), float(damping))
    if not all(np.isfinite(pair)) or min(pair) < 0:
        raise ValueError(f"damping must be finite and non-negative, got {damping!r}")
    return pair


def row_sums(
    indptr: NDArray[np.integer[Any]], values: Callable[[slice], NDArray[np.float64]]
) -> NDArray[np.float64]:
    """Σ of each CSR row's values, added in entry order (``values(s)`` gives the entries of
    the slice ``s``). Rows go block by block of ``reduction_block_rows`` (bounded temporary
    memory); a row's sum depends only on its own entries, so any split of the rows into
    blocks gives the same bits."""
    n = len(indptr) - 1
    out = np.empty(n)
    step = core.reduction_block_rows()
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        rows = np.repeat(np.arange(hi - lo), np.diff(indptr[lo : hi + 1]))
        # bincount adds each row's weights in order: a sequential, reproducible sum.
        out[lo:hi] = np.bincount(
            rows, weights=values(slice(int(indptr[lo]), int(indptr[hi]))), minlength=hi - lo
        )
    return out


def item_biases_of(
    indptr: NDArray[np.integer[Any]],
    ratings: NDArray[np.float64],
    global_bias: float,
    damping: float,
) -> NDArray[np.float64]:
    """b_i = Σ(r − b_g)/(|R_i| + β_i) for the rows of an item-major CSR (entries by user)."""
    sums = row_sums(indptr, lambda s: ratings[s] - global_bias)
    return _damped_mean(sums, np.diff(indptr).astype(np.float64), damping)


def user_biases_of(
    indptr: NDArray[np.integer[Any]],
    item_nums: NDArray[np.integer[Any]],
    ratings: NDArray[np.float64],
    global_bias: float,
    item_biases: NDArray[np.float64],
    damping: float,
) -> NDArray[np.float64]:
    """b_u = Σ(r − b_g − b_i)/(|R_u| + β_u) for the rows of a user-major CSR."""
    sums = row_sums(indptr, lambda s: ratings[s] - global_bias - item_biases[item_nums[s]])
    return _damped_mean(sums, np.diff(indptr).astype(np.float64), damping)


_CHUNK = 1 << 20  # interactions per step of the residuals: bounds temporary memory


def _damped_mean(
    sums: NDArray[np.float64], counts: NDArray[np.float64], damping: float
) -> NDArray[np.float64]:
    denominator = counts + damping
    # Entities without ratings (and β = 0) have a zero denominator: their bias is 0.
    out = np.zeros_like(sums)
    np.divide(sums, denominator, out=out, where=denominator > 0)
    return out


@dataclass
class BiasModel:
    """b_g = mean rating; b_i = Σ(r − b_g)/(|R_i| + β_i); b_u = Σ(r − b_g − b_i)/(|R_u| + β_u).

    Biases are indexed by the dataset's vocabulary numbers; entities without ratings get 0.
    """

    damping: tuple[float, float]
    global_bias: float
    user_biases: NDArray[np.float64]
    item_biases: NDArray[np.float64]
    items: Vocabulary

    @classmethod
    def learn(cls, data: Dataset, damping: Damping | tuple[float, float] = 0.0) -> BiasModel:
        ratings = data.ratings
        if ratings is None:
            raise ValueError("the bias model needs ratings, but the dataset has no rating column")
        beta_user, beta_item = damping_pair(damping)
        # Every sum runs over CSR rows in a fixed order (row_sums, block_partials), so row
        # blocks on Dask workers (alskit.distributed) reproduce these biases bit for bit.
        ui = data.interaction_matrix(None)
        iu_indptr, _, iu_ratings = core.transpose_csr(
            ui.indptr, ui.indices, np.ascontiguousarray(ratings, np.float64), data.item_count
        )
        rating_sums = row_sums(ui.indptr, lambda s: ratings[s])
        global_bias = ordered_total(block_partials(rating_sums)) / len(ratings)
        item_biases = item_biases_of(iu_indptr, iu_ratings, global_bias, beta_item)
        user_biases = user_biases_of(
            ui.indptr, ui.indices, ratings, global_bias, item_biases, beta_user
        )
        return cls((beta_user, beta_item), global_bias, user_biases, item_biases, data.items)

    def residuals(
        self,
        user_nums: NDArray[np.integer[Any]],
        item_nums: NDArray[np.integer[Any]],
        ratings: NDArray[np.floating[Any]],
        dtype: DTypeLike = np.float64,
    ) -> NDArray[np.floating[Any]]:
        """r − b_g − b_i − b_u for the given interactions (the training residual matrix),
        computed in chunks straight into ``dtype`` so no full-size temporaries are made."""
        out = np.empty(len(ratings), dtype=dtype)
        for lo in range(0, len(ratings), _CHUNK):
            s = slice(lo, lo + _CHUNK)
            out[s] = (
                ratings[s]
                - self.global_bias
                - self.item_biases[item_nums[s]]
                - self.user_biases[user_nums[s]]
            )
        return out

    def item_offsets(self, item_nums: NDArray[np.integer[Any]]) -> NDArray[np.float64]:
        """b_g + b_i per item number; unknown items (negative numbers) get b_i = 0."""
        known = item_nums >= 0
        out = np.full(len(item_nums), self.global_bias)
        out[known] += self.item_biases[item_nums[known]]
        return out

    def fold_in_user_biases(
        self,
        rows: NDArray[np.integer[Any]],
        item_nums: NDArray[np.integer[Any]],
        ratings: NDArray[np.floating[Any]],
        n_rows: int,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """New users' biases from rated histories given as parallel arrays (history row,
        item number or -1, rating): b_u = Σ(r − b_g − b_i)/(#finite + β_u).

        Items the model does not know count with b_i = 0; non-finite ratings are ignored.
        Returns (bias per row, centered rating r − b_g − b_i per entry).
        """
        centered = np.asarray(ratings, dtype=np.float64) - self.item_offsets(item_nums)
        finite = np.isfinite(centered)
        sums = np.bincount(rows[finite], weights=centered[finite], minlength=n_rows).astype(
            np.float64
        )
        counts = np.bincount(rows[finite], minlength=n_rows).astype(np.float64)
        return _damped_mean(sums, counts, self.damping[0]), centered

    def fold_in_user_bias(self, history: ItemList) -> float:
        """A new user's bias from their rated history (see :meth:`fold_in_user_biases`)."""
        ratings = history.field("rating")
        if ratings is None:
            return 0.0
        nums = history.numbers(vocabulary=self.items, missing="negative")
        biases, _ = self.fold_in_user_biases(np.zeros(len(nums), np.intp), nums, ratings, 1)
        return float(biases[0])

    def compute_for_items(
        self,
        items: ItemList,
        user_id: Any = None,
        user_items: ItemList | None = None,
        *,
        bias: float | None = None,
        users: Vocabulary | None = None,
    ) -> tuple[NDArray[np.float64], float | None]:
        """Bias scores b_g + b_i + b_u for ``items`` and the user bias used.

        ``bias`` given: used as b_u. Else a rated ``user_items`` history: b_u folded in from it.
        Else a ``user_id`` known to ``users``: its learned bias. Else b_u = 0.
        """
        scores = self.item_offsets(items.numbers(vocabulary=self.items, missing="negative"))
        if bias is None and user_items is not None and user_items.field("rating") is not None:
            bias = self.fold_in_user_bias(user_items)
        if bias is None and user_id is not None and users is not None:
            num = users.number(user_id, missing="none")
            if num is not None:
                bias = float(self.user_biases[num])
        if bias is None:
            return scores, None
        return scores + bias, bias
