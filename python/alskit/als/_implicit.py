"""Implicit-feedback matrix factorization (Hu, Koren & Volinsky 2008)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from .._native import core
from ..data import CSRMatrix, Dataset, ItemList, Vocabulary
from ..training import TrainContext, TrainingData
from ._base import ALSBase, check_finite, frobenius
from ._config import ImplicitMFConfig


class ImplicitMFScorer(ALSBase):
    """Implicit matrix factorization trained with alternating least squares (HKV 2008).

    Observed cells have preference 1 and confidence 1 + v with v = w (or w·rating with
    ``use_ratings``); all others preference 0, confidence 1. With weight w this decomposes
    1* + R·w. Negative ratings are an error unless ``negative_feedback`` is set; then a rating
    r has preference [r > 0] and confidence 1 + w·|r| (implicit's and Spark MLlib's reading).
    Scores are not on a rating scale. Learned state beyond :class:`ALSBase`'s: ``OtOr_`` =
    QᵀQ + λ_user·I, used to fold in new users.
    """

    kind: ClassVar[str] = "implicit"
    label: ClassVar[str] = "ImplicitMF"
    config: ImplicitMFConfig
    OtOr_: NDArray[np.floating[Any]]

    @property
    def _row_solver(self) -> dict[str, Any]:
        options = self._solver_options
        return {"solver": options["solver"], "block_size": options["block_size"]}

    @property
    def _solver_options(self) -> dict[str, Any]:
        """The solver arguments of ``core.implicit_half_epoch`` from the config."""
        c = self.config
        return {
            "solver": c.solver,
            "cg_steps": c.cg_steps,
            "sweeps": c.sweeps,
            "block_size": c.block_size if c.solver == "subspace" else None,
        }

    def _confidence(self, ratings: NDArray[Any] | None, count: int) -> NDArray[np.floating[Any]]:
        """The stored weights, in the factor dtype: v = w (or w·rating); with
        ``negative_feedback``, the ratings themselves (mapped by :meth:`_solve_inputs`)."""
        if not self.config.use_ratings:
            return np.full(count, self.config.weight, dtype=self.dtype)
        if ratings is None:
            raise ValueError("use_ratings=True but the data has no 'rating' field")
        if self.config.negative_feedback:
            return np.asarray(ratings, dtype=self.dtype)
        if np.any(np.less(ratings, 0)):
            raise ValueError(
                "use_ratings=True with negative ratings: their confidence 1 + weight·rating "
                "would be below 1 and rank a user's most disliked items first; set "
                "negative_feedback=True to read them as dislikes (preference 0, confidence "
                "1 + weight·|rating|)"
            )
        weighted: NDArray[np.floating[Any]] = np.multiply(
            ratings, self.config.weight, dtype=self.dtype
        )
        return weighted

    def _solve_inputs(
        self, stored: NDArray[np.floating[Any]]
    ) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]] | None]:
        """Kernel weights v and targets b (implicit_solver.hpp) from the stored weights.

        Stored v go in as they are (b = 1 + v, the kernel's default). With
        ``negative_feedback`` the stored ratings r become v = w·|r| and b = (1 + w·r)·[r > 0]:
        confidence 1 + w·|r|, preference [r > 0]."""
        if not (self.config.use_ratings and self.config.negative_feedback):
            return stored, None
        w = stored.dtype.type(self.config.weight)
        weights = np.abs(stored) * w
        targets = np.where(stored > 0, stored * w + 1, 0).astype(stored.dtype)
        return weights, targets

    def prepare_data(self, data: Dataset) -> TrainingData:
        """The matrix of confidence weights v = w (or w·rating)."""
        structure = data.interaction_matrix(None)
        values = self._confidence(data.ratings, structure.nnz)
        matrix = CSRMatrix(structure.indptr, structure.indices, values, structure.shape)
        return TrainingData.create(data.users, data.items, matrix, threads=self._thread_count)

    def initial_params(self, nrows: int, ncols: int, rng: np.random.Generator) -> NDArray[Any]:
        """Small non-negative entries: (0.01·N(0, 1))², drawn in float32 whatever the dtype
        (see :meth:`ALSBase.initial_params`)."""
        draw = rng.standard_normal((nrows, ncols), dtype=np.float32).astype(self.dtype, copy=False)
        draw *= 0.01
        np.square(draw, out=draw)
        return draw

    def als_half_epoch(self, epoch: int, context: TrainContext) -> float:
        m = context.matrix
        assert m.values is not None  # prepare_data always sets the values
        gram = core.gram(context.right, context.reg, threads=context.threads, trusted=True)
        weights, targets = self._solve_inputs(m.values)
        delta = core.implicit_half_epoch(
            m.indptr,
            m.indices,
            weights,
            context.left,
            context.right,
            gram,
            targets=targets,
            threads=context.threads,
            **self._solver_options,
            # Validated once when training started (ALSBase._epochs); the weights and targets
            # derived from negative feedback are new arrays each time, so they are checked.
            trusted=targets is None,
        )
        return frobenius(delta)

    def finalize_training(self) -> None:
        self.OtOr_ = core.gram(
            self.item_features_, self.config.user_reg, threads=self._thread_count
        )

    def _fold_in_values(
        self, histories: Sequence[ItemList], rows: NDArray[np.intp], nums: NDArray[np.int32]
    ) -> tuple[NDArray[np.floating[Any]], None]:
        """Confidence weights of each history entry (as stored for training)."""
        ratings = None
        if self.config.use_ratings:
            fields = [h.field("rating") for h in histories]
            if any(f is None for f in fields):
                raise ValueError("use_ratings=True but a history has no 'rating' field")
            ratings = np.concatenate([np.asarray(f, np.float64) for f in fields] or [np.empty(0)])
        return self._confidence(ratings, len(rows)), None

    def _fold_in_solve(self, histories: CSRMatrix, threads: int) -> NDArray[np.floating[Any]]:
        """Exact solves against the stored OtOr_ (computed now if training stopped early)."""
        assert histories.values is not None
        if getattr(self, "OtOr_", None) is None:
            self.finalize_training()
        weights, targets = self._solve_inputs(histories.values)
        return core.fold_in_implicit(
            histories.indptr,
            histories.indices,
            weights,
            self.item_features_,
            self.OtOr_,
            targets=targets,
            threads=threads,
            trusted=True,  # the model's factors (checked when they entered it), a built batch
        )

    # ---- persistent state --------------------------------------------------------------

    @classmethod
    def _archive_arrays(cls) -> dict[str, tuple[str, ...]]:
        return {**super()._archive_arrays(), "OtOr": ("factor",)}

    def _state(self) -> tuple[dict[str, NDArray[Any]], dict[str, Any]]:
        arrays, state = super()._state()
        if getattr(self, "OtOr_", None) is not None:
            arrays["OtOr"] = self.OtOr_
        return arrays, state

    def _restore_learned(
        self,
        state: dict[str, Any],
        arrays: Mapping[str, NDArray[Any]],
        users: Vocabulary,
        items: Vocabulary,
    ) -> dict[str, Any]:
        return {"OtOr": arrays.get("OtOr")}

    def _set_learned(  # type: ignore[override]
        self,
        *,
        OtOr: NDArray[np.floating[Any]] | None = None,  # noqa: N803 (the attribute's name)
    ) -> None:
        """QᵀQ + λ_user·I (``OtOr``: k × k in the factor dtype) if known, else computed when
        first needed."""
        if OtOr is None:
            self.__dict__.pop("OtOr_", None)
            return
        k = self.config.embedding_size
        if OtOr.shape != (k, k) or OtOr.dtype != self.dtype:
            raise ValueError("OtOr must be k × k")
        check_finite("OtOr", OtOr)
        self.OtOr_ = np.ascontiguousarray(OtOr)
