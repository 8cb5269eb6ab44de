"""Biased matrix factorization for explicit ratings (ALS-WR with a damped bias model)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._native import core
from ..bias import BiasModel
from ..data import CSRMatrix, Dataset, ItemList
from ..training import TrainContext, TrainingData
from ._base import ALSBase, frobenius
from ._config import BiasedMFConfig


class BiasedMFScorer(ALSBase):
    """Biased matrix factorization trained with alternating least squares (Zhou et al. 2008).

    Predicts r̂_ui = b_g + b_i + b_u + p_u·q_i. The biases come from a damped
    :class:`~alskit.bias.BiasModel`; P and Q minimize the squared error of the residuals
    with regularization λ·n_u‖p_u‖² + λ·n_i‖q_i‖² (ALS-WR). Learned state beyond
    :class:`ALSBase`'s: ``bias_``.
    """

    config: BiasedMFConfig
    bias_: BiasModel

    def prepare_data(self, data: Dataset) -> TrainingData:
        """Learn the bias model and return the residual matrix r − b_g − b_i − b_u."""
        # Finite ratings can still overflow the means or the factor dtype (1e39 in float32):
        # checked on the residuals below, which any overflow turns into inf or NaN.
        with np.errstate(over="ignore", invalid="ignore"):
            bias = BiasModel.learn(data, self.config.damping)
            assert data.ratings is not None  # BiasModel.learn has checked
            # The interaction arrays and the CSR share the (user, item) sorted order.
            residuals = bias.residuals(data.user_nums, data.item_nums, data.ratings, self.dtype)
        if not np.isfinite(residuals).all():
            raise ValueError(
                f"ratings too large to train in {self.dtype} (largest magnitude "
                f"{np.abs(data.ratings).max():g}): the bias model or the residuals overflow"
            )
        self.bias_ = bias
        structure = data.interaction_matrix(None)
        matrix = CSRMatrix(structure.indptr, structure.indices, residuals, structure.shape)
        return TrainingData.create(data.users, data.items, matrix, threads=self._thread_count)

    def initial_params(self, nrows: int, ncols: int, rng: np.random.Generator) -> NDArray[Any]:
        """Rows drawn from N(0, I) and scaled to unit length."""
        params = rng.standard_normal((nrows, ncols))
        norms = np.linalg.norm(params, axis=1, keepdims=True)
        return params / np.where(norms > 0, norms, 1.0)

    def als_half_epoch(self, epoch: int, context: TrainContext) -> float:
        m = context.matrix
        assert m.values is not None  # prepare_data always sets the values
        delta = core.explicit_half_epoch(
            m.indptr,
            m.indices,
            m.values,
            context.left,
            context.right,
            context.reg,
            threads=context.threads,
        )
        return frobenius(delta)

    def _fold_in_values(
        self, histories: Sequence[ItemList], rows: NDArray[np.intp], nums: NDArray[np.int32]
    ) -> tuple[NDArray[np.floating[Any]], NDArray[np.float64] | None]:
        """Residuals r − b_g − b_i − b_u′ with b_u′ folded in from each history's ratings."""
        fields = [h.field("rating") for h in histories]
        if any(f is None for f in fields):
            raise ValueError("BiasedMFScorer fold-in needs a 'rating' field on the history items")
        ratings = np.concatenate([np.asarray(f, np.float64) for f in fields] or [np.empty(0)])
        biases, centered = self.bias_.fold_in_user_biases(rows, nums, ratings, len(histories))
        return centered - biases[rows], biases

    def _fold_in_solve(
        self,
        indptr: NDArray[np.int64],
        indices: NDArray[np.int32],
        values: NDArray[np.floating[Any]],
        threads: int,
    ) -> NDArray[np.floating[Any]]:
        return core.fold_in_explicit(
            indptr, indices, values, self.item_features_, self.config.user_reg, threads=threads
        )

    def _offsets(
        self, user_nums: NDArray[np.int32] | None
    ) -> tuple[NDArray[Any] | None, NDArray[Any] | None]:
        """b_u per user (rows of ``user_nums``, or all users) and b_g + b_i per item."""
        users = self.bias_.user_biases if user_nums is None else self.bias_.user_biases[user_nums]
        items = self.bias_.global_bias + self.bias_.item_biases
        return users.astype(self.dtype), items.astype(self.dtype)

    def finalize_scores(
        self, user_num: int | None, items: ItemList, user_bias: float | None
    ) -> ItemList:
        """Add b_g + b_i + b_u (the folded-in bias, else the stored one, else 0)."""
        if user_bias is None:
            user_bias = float(self.bias_.user_biases[user_num]) if user_num is not None else 0.0
        scores = items.scores()
        assert scores is not None
        offsets = self.bias_.item_offsets(items.numbers(vocabulary=self.items_, missing="negative"))
        return items.with_scores(scores + offsets + user_bias)
