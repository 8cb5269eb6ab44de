"""Biased matrix factorization for explicit ratings (ALS-WR with a damped bias model)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from .._native import core
from ..bias import BiasModel
from ..data import CSRMatrix, Dataset, ItemList, Vocabulary
from ..persistence import ModelFileError, require_array, state_float
from ..training import TrainContext, TrainingData
from ._base import ALSBase, check_finite, frobenius
from ._config import BiasedMFConfig


class BiasedMFScorer(ALSBase):
    """Biased matrix factorization trained with alternating least squares (Zhou et al. 2008).

    Predicts r̂_ui = b_g + b_i + b_u + p_u·q_i. The biases come from a damped
    :class:`~alskit.bias.BiasModel`; P and Q minimize the squared error of the residuals
    with regularization λ·n_u‖p_u‖² + λ·n_i‖q_i‖² (ALS-WR). Learned state beyond
    :class:`ALSBase`'s: ``bias_``.
    """

    kind: ClassVar[str] = "biased"
    label: ClassVar[str] = "BiasedMF"
    predicts_ratings: ClassVar[bool] = True
    config: BiasedMFConfig
    bias_: BiasModel

    @property
    def _row_solver(self) -> dict[str, Any]:
        return {"solver": "explicit"}

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
        self._use_bias(bias)
        structure = data.interaction_matrix(None)
        matrix = CSRMatrix(structure.indptr, structure.indices, residuals, structure.shape)
        return TrainingData.create(data.users, data.items, matrix, threads=self._thread_count)

    def initial_params(self, nrows: int, ncols: int, rng: np.random.Generator) -> NDArray[Any]:
        """Rows drawn from N(0, I) in float32 (see :meth:`ALSBase.initial_params`) and scaled
        to unit length."""
        params = rng.standard_normal((nrows, ncols), dtype=np.float32).astype(
            self.dtype, copy=False
        )
        norms = np.linalg.norm(params, axis=1, keepdims=True)
        params /= np.where(norms > 0, norms, 1)
        return params

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
            trusted=True,  # validated once when training started (ALSBase._epochs)
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

    def _fold_in_solve(self, histories: CSRMatrix, threads: int) -> NDArray[np.floating[Any]]:
        assert histories.values is not None
        return core.fold_in_explicit(
            histories.indptr,
            histories.indices,
            histories.values,
            self.item_features_,
            self.config.user_reg,
            threads=threads,
            trusted=True,  # the model's factors (checked when they entered it), a built batch
        )

    def _user_offsets(self, user_nums: NDArray[np.int32]) -> NDArray[np.float64]:
        """b_u of each user."""
        return self.bias_.user_biases[user_nums]

    def _item_offsets(self) -> NDArray[np.floating[Any]]:
        """b_g + b_i of each item, in the factor dtype (computed once per bias model)."""
        offsets: NDArray[np.floating[Any]] | None = self.__dict__.get("_item_offset_array")
        if offsets is None or offsets.dtype != self.dtype:
            offsets = (self.bias_.global_bias + self.bias_.item_biases).astype(self.dtype)
            self._item_offset_array = offsets
        return offsets

    # ---- persistent state --------------------------------------------------------------

    @classmethod
    def _archive_arrays(cls) -> dict[str, tuple[str, ...]]:
        return {**super()._archive_arrays(), "user_biases": ("<f8",), "item_biases": ("<f8",)}

    def _state(self) -> tuple[dict[str, NDArray[Any]], dict[str, Any]]:
        arrays, state = super()._state()
        arrays["user_biases"] = self.bias_.user_biases
        arrays["item_biases"] = self.bias_.item_biases
        state["global_bias"] = self.bias_.global_bias
        state["damping"] = list(self.bias_.damping)
        return arrays, state

    def _restore_learned(
        self,
        state: dict[str, Any],
        arrays: Mapping[str, NDArray[Any]],
        users: Vocabulary,
        items: Vocabulary,
    ) -> dict[str, Any]:
        ub, ib = require_array(arrays, "user_biases"), require_array(arrays, "item_biases")
        for name, array in (("user_biases", ub), ("item_biases", ib)):
            check_finite(name, array)
        if ub.shape != (len(users),) or ib.shape != (len(items),):
            raise ModelFileError("bias arrays do not match the vocabularies")
        damping = state.get("damping")
        if not (
            isinstance(damping, list)
            and len(damping) == 2
            and all(
                isinstance(d, int | float) and not isinstance(d, bool) and np.isfinite(d) and d >= 0
                for d in damping
            )
        ):
            raise ModelFileError(f"state.damping must be a pair of numbers, got {damping!r}")
        bias = BiasModel(
            (float(damping[0]), float(damping[1])),
            state_float(state, "global_bias"),
            ub.astype(np.float64),
            ib.astype(np.float64),
            items,
        )
        return {"bias": bias}

    def _set_learned(self, *, bias: BiasModel) -> None:  # type: ignore[override]
        """The bias model (``bias``), checked against the vocabularies."""
        if not isinstance(bias, BiasModel):
            raise TypeError(f"bias must be a BiasModel, got {type(bias).__name__}")
        if bias.user_biases.shape != (len(self.users_),) or bias.item_biases.shape != (
            len(self.items_),
        ):
            raise ValueError("bias arrays do not match the vocabularies")
        check_finite("user_biases", bias.user_biases)
        check_finite("item_biases", bias.item_biases)
        self._use_bias(bias)

    def _use_bias(self, bias: BiasModel) -> None:
        self.bias_ = bias
        self.__dict__.pop("_item_offset_array", None)  # offsets of the previous bias model
