"""ALSBase: the training loop and scoring shared by the explicit and implicit scorers."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._threads import blas_limited
from ..component import Component
from ..data import CSRMatrix, Dataset, ItemList, RecQuery, Vocabulary
from ..training import IterativeTraining, TrainContext, TrainingData, TrainingOptions
from ._config import ALSConfig

QueryLike = RecQuery | ItemList | int | str | np.integer[Any] | None


class ALSBase(IterativeTraining, Component[ALSConfig], ABC):
    """Base class of the ALS scorers.

    Learned state (after training): ``users_`` and ``items_`` (vocabularies),
    ``user_features_`` (users × k, or ``None`` with ``user_embeddings=False``) and
    ``item_features_`` (items × k).
    """

    config_class: ClassVar[type[ALSConfig]] = ALSConfig
    users_: Vocabulary
    items_: Vocabulary
    user_features_: NDArray[np.floating[Any]] | None
    item_features_: NDArray[np.floating[Any]]

    @property
    def expected_training_epochs(self) -> int:
        return self.config.epochs

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self.config.dtype)

    def training_loop(self, data: Dataset, options: TrainingOptions) -> Iterator[dict[str, float]]:
        """Prepare the data and initial parameters now; return the generator of epochs."""
        threads = options.thread_count()
        rng = options.random_generator()
        self._threads = threads
        train = self.prepare_data(data)
        self.users_ = train.users
        self.items_ = train.items
        self.initialize_params(train, rng)
        return self._run_epochs(train, threads)

    def _run_epochs(self, train: TrainingData, threads: int) -> Iterator[dict[str, float]]:
        assert self.user_features_ is not None
        user_ctx = TrainContext.create(
            "user", train.ui_rates, self.user_features_, self.item_features_,
            self.config.user_reg, threads=threads,
        )
        item_ctx = TrainContext.create(
            "item", train.iu_rates, self.item_features_, self.user_features_,
            self.config.item_reg, threads=threads,
        )
        for epoch in range(self.config.epochs):
            with blas_limited():
                delta_p = self.als_half_epoch(epoch, user_ctx)
                delta_q = self.als_half_epoch(epoch, item_ctx)
            yield {"deltaP": delta_p, "deltaQ": delta_q}
        if not self.config.user_embeddings:
            self.user_features_ = None
        self.finalize_training()

    @abstractmethod
    def prepare_data(self, data: Dataset) -> TrainingData:
        """Transform the interactions for training (and learn any normalization)."""

    def initialize_params(self, data: TrainingData, rng: np.random.Generator) -> None:
        """Initial factors: items first, then users, from the same generator (the draw order
        is part of the reproducibility contract)."""
        k = self.config.embedding_size
        self.item_features_ = self._as_factors(self.initial_params(data.n_items, k, rng))
        self.user_features_ = self._as_factors(self.initial_params(data.n_users, k, rng))

    def _as_factors(self, values: NDArray[Any]) -> NDArray[np.floating[Any]]:
        return np.ascontiguousarray(values, dtype=self.dtype)

    @abstractmethod
    def initial_params(self, nrows: int, ncols: int, rng: np.random.Generator) -> NDArray[Any]:
        """Initial values of an nrows × ncols factor matrix."""

    @abstractmethod
    def als_half_epoch(self, epoch: int, context: TrainContext) -> float:
        """Solve every row of ``context.left`` in place; return ‖new − old‖_F."""

    def finalize_training(self) -> None:
        """Runs once the last epoch has finished (precomputations for scoring)."""

    @abstractmethod
    def new_user_embedding(
        self, user_num: int | None, items: ItemList
    ) -> tuple[NDArray[np.floating[Any]], float | None]:
        """Embedding (and bias, if the model has one) of a user from their history."""

    def finalize_scores(
        self, user_num: int | None, items: ItemList, user_bias: float | None
    ) -> ItemList:
        """Last transformation of the raw scores p·q (e.g. adding biases)."""
        return items

    def _check_trained(self) -> None:
        if getattr(self, "item_features_", None) is None:
            raise RuntimeError(f"{type(self).__name__} is not trained: call train() first")

    def __call__(self, query: QueryLike = None, items: ItemList | ArrayLike = ()) -> ItemList:
        """Score ``items`` for the user in ``query``; NaN where no score can be computed.

        A query with a non-empty history is folded in (unless ``user_embeddings="prefer"``);
        otherwise the user's stored embedding is used; an unknown user with nothing to fold
        in, and items the model does not know, get NaN. The output keeps ``items``' order.
        """
        self._check_trained()
        query = RecQuery.create(query)
        if not isinstance(items, ItemList):
            items = ItemList(np.asarray(items))
        user_num = None
        if query.user_id is not None:
            user_num = self.users_.number(query.user_id, missing="none")

        embedding: NDArray[np.floating[Any]] | None = None
        user_bias: float | None = None
        history = query.user_items
        if history is not None and len(history) > 0 and self.config.user_embeddings != "prefer":
            embedding, user_bias = self.new_user_embedding(user_num, history)
        elif user_num is not None and self.user_features_ is not None:
            embedding = self.user_features_[user_num]

        scores = np.full(len(items), np.nan)
        if embedding is not None and len(items) > 0:
            nums = items.numbers(vocabulary=self.items_, missing="negative")
            known = nums >= 0
            scores[known] = self.item_features_[nums[known]] @ embedding
        scored = ItemList(items.ids(), vocabulary=self.items_, scores=scores)
        if embedding is None:
            return scored
        return self.finalize_scores(user_num, scored, user_bias)

    def _history_csr(self, items: ItemList, values: NDArray[np.floating[Any]]) -> CSRMatrix:
        """One-row CSR of a history's per-item ``values`` over the model's items, leaving out
        items the model does not know and non-finite values."""
        nums = items.numbers(vocabulary=self.items_, missing="negative")
        keep = (nums >= 0) & np.isfinite(values)
        cols = nums[keep].astype(np.int32)
        order = np.argsort(cols, kind="stable")
        return CSRMatrix(
            np.array([0, len(cols)], dtype=np.int32),
            np.ascontiguousarray(cols[order]),
            np.ascontiguousarray(np.asarray(values)[keep][order], dtype=self.dtype),
            (1, len(self.items_)),
        )

    @property
    def _thread_count(self) -> int:
        """Threads of the current training run (all CPUs outside one)."""
        return int(getattr(self, "_threads", 0))

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_threads", None)  # a property of the machine that trained it
        return state


def frobenius(delta_squared: float) -> float:
    """‖Δ‖_F from the kernels' Σ‖Δrow‖²."""
    return math.sqrt(delta_squared)
