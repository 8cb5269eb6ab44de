"""The one place ``alskit.distributed`` reaches into the scorers: their configs' solver
parameters, their value transforms and initial draws, the native call of one half-epoch
block, and the assembly of an ordinary trained scorer from factors and vocabularies.

Everything here runs the scorers' own code (no second copy of a formula), so training on a
cluster keeps every semantic of local training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .._native import core
from .._threads import blas_limited
from ..als import BiasedMFScorer, ImplicitMFScorer
from ..als._base import ALSBase, check_value_limits, frobenius
from ..bias import BiasModel
from ..data import CSRMatrix, Vocabulary

Side = Literal["user", "item"]


@dataclass(frozen=True)
class Spec:
    """What a worker needs to know of the scorer being trained (picklable, small)."""

    scorer_class: type[ALSBase]
    config: Any

    @classmethod
    def of(cls, model: Any) -> Spec:
        if not isinstance(model, BiasedMFScorer | ImplicitMFScorer):
            raise TypeError(
                "alskit.distributed trains BiasedMFScorer or ImplicitMFScorer, got "
                f"{type(model).__name__}"
            )
        return cls(type(model), model.config)

    @property
    def explicit(self) -> bool:
        return issubclass(self.scorer_class, BiasedMFScorer)

    @property
    def dtype(self) -> np.dtype[Any]:
        dtype: np.dtype[Any] = np.dtype(self.config.dtype)
        return dtype

    @property
    def k(self) -> int:
        return int(self.config.embedding_size)

    @property
    def epochs(self) -> int:
        return int(self.config.epochs)

    def reg(self, side: Side) -> float:
        return float(self.config.user_reg if side == "user" else self.config.item_reg)

    def scorer(self) -> Any:
        return self.scorer_class(self.config)


def initial_block(spec: Spec, nrows: int, state: dict[str, Any]) -> tuple[NDArray[Any], Any]:
    """The next ``nrows`` rows of the scorer's initial draw from the generator in ``state``
    (drawing in consecutive blocks gives the same numbers as one draw), and the generator's
    state after them."""
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    scorer = spec.scorer()
    block = scorer._as_factors(scorer.initial_params(nrows, spec.k, rng))
    return block, rng.bit_generator.state


def training_values(
    spec: Spec,
    side: Side,
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    ratings: NDArray[np.float64] | None,
    row_lo: int,
    bias: BiasModel | None,
) -> NDArray[Any]:
    """The stored training values of one row block, as local training stores them: the
    residuals r − b_g − b_i − b_u (explicit) or the confidence weights (implicit)."""
    scorer = spec.scorer()
    if spec.explicit:
        assert bias is not None and ratings is not None
        rows = np.repeat(np.arange(row_lo, row_lo + len(indptr) - 1), np.diff(indptr))
        users, items = (rows, indices) if side == "user" else (indices, rows)
        values: NDArray[Any] = bias.residuals(users, items, ratings, spec.dtype)
        if not np.isfinite(values).all():
            raise ValueError(
                f"ratings too large to train in {spec.dtype} (largest magnitude "
                f"{np.abs(ratings).max():g}): the bias model or the residuals overflow"
            )
        return values
    return scorer._confidence(ratings, len(indices))  # type: ignore[no-any-return]


def check_values(spec: Spec, largest: float, longest: int) -> None:
    """Local training's overflow check, from the blocks' largest |value| and longest row."""
    check_value_limits(largest, longest, spec.dtype)


def solve_rows(
    spec: Spec,
    side: Side,
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    values: NDArray[Any],
    left: NDArray[Any],
    right: NDArray[Any],
    gram: NDArray[Any] | None,
    row_deltas: NDArray[np.float64],
) -> None:
    """One native half-epoch call on a block of rows (``left`` updated in place, each row's
    ‖Δ‖² into ``row_deltas``). Trusted: the block was validated once (``train_stats``) and
    the factors are initial draws, the kernels' output or checked checkpoint reads."""
    with blas_limited():
        if spec.explicit:
            core.explicit_half_epoch(
                indptr,
                indices,
                values,
                left,
                right,
                spec.reg(side),
                threads=1,
                trusted=True,
                row_deltas=row_deltas,
            )
            return
        assert gram is not None
        scorer = spec.scorer()
        weights, targets = scorer._solve_inputs(values)
        core.implicit_half_epoch(
            indptr,
            indices,
            weights,
            left,
            right,
            gram,
            targets=targets,
            threads=1,
            **scorer._solver_options,
            trusted=targets is None,
            row_deltas=row_deltas,
        )


def needs_gram(spec: Spec) -> bool:
    return not spec.explicit


def delta_norm(delta_squared: float) -> float:
    return frobenius(delta_squared)


def finish_model(
    model: Any,
    users: Vocabulary,
    items: Vocabulary,
    user_features: NDArray[Any],
    item_features: NDArray[Any],
    seen: CSRMatrix,
    bias: BiasModel | None,
    epochs: int,
) -> None:
    """Make ``model`` an ordinary trained scorer with the given learned state."""
    model._set_state(
        users=users,
        items=items,
        item_features=item_features,
        user_features=user_features,
        user_items=seen,
        trained_epochs=epochs,
        **({} if bias is None else {"bias": bias}),
    )
    if not model.config.user_embeddings:
        model.user_features_ = None
    model.finalize_training()


def recommend_blocks(
    model: Any, users: Any, n: int, exclude_seen: bool, block_rows: int
) -> tuple[list[tuple[Any, ...]], tuple[Any, ...]]:
    """The inputs of ``model.recommend(users, n, exclude_seen=...)``'s native top-N call,
    cut into blocks of users: per block (ids, user factors, seen indptr and indices, user
    offsets); shared by all (item factors, n, item offsets, item vocabulary)."""
    from ..als._serving import _list_length

    factors = model._require_user_embeddings()
    ids, nums = model._user_numbers(users)
    n = _list_length(n, len(model.items_))
    user_offsets = model._user_offsets(nums)
    if user_offsets is not None:
        user_offsets = user_offsets.astype(model.dtype)
    item_offsets = model._item_offsets()
    seen = model.user_items_
    blocks = []
    for lo in range(0, len(nums), block_rows):
        sel = nums[lo : lo + block_rows]
        indptr = indices = None
        if exclude_seen:
            rows = seen.take_rows(sel)
            indptr, indices = rows.indptr, rows.indices
        blocks.append(
            (
                ids[lo : lo + block_rows],
                np.ascontiguousarray(factors[sel]),
                indptr,
                indices,
                None
                if user_offsets is None
                else np.ascontiguousarray(user_offsets[lo : lo + block_rows]),
            )
        )
    return blocks, (model.item_features_, int(n), item_offsets, model.items_)
