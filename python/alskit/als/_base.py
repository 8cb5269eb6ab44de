"""ALSBase: the learned state of the ALS scorers and their training loop (the hooks each
scorer implements), and the state a scorer saves and restores. Serving the learned state —
scoring, fold-in, top-N — is :mod:`alskit.als._serving`'s."""

from __future__ import annotations

import math
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from os import PathLike
from typing import Any, ClassVar, TypeVar

import numpy as np
from numpy.typing import NDArray

from .._concurrency import TrainingToken, guard_of
from .._native import core
from .._threads import blas_limited, memory_limit
from ..component import Component
from ..data import CSRMatrix, Dataset, Vocabulary
from ..interrupts import deferred_interrupt
from ..persistence import ModelFileError, require_array, state_count
from ..training import IterativeTraining, TrainContext, TrainingData, TrainingOptions
from . import _registry
from ._config import ALSConfig
from ._serving import Serving

_M = TypeVar("_M", bound="ALSBase")


class ALSBase(IterativeTraining, Component[ALSConfig], Serving, ABC):
    """Base class of the ALS scorers.

    Learned state (after training): ``users_`` and ``items_`` (vocabularies),
    ``user_features_`` (users × k, or ``None`` with ``user_embeddings=False``) and
    ``item_features_`` (items × k), and ``user_items_`` (the training matrix's structure,
    to exclude seen items when recommending).

    Threads: many threads may score, recommend, predict, fold in and save one model at once.
    While it trains, other threads keep seeing the model as it was before the training (never
    a mix of epochs) until the training ends; a second concurrent training raises
    ``RuntimeError`` (details in :mod:`alskit._concurrency`).
    """

    config: ALSConfig
    kind: ClassVar[str]
    """The scorer's registered name (``alskit train --model KIND``, :data:`alskit.als.SCORERS`)."""
    label: ClassVar[str]
    """Its name in reports ("BiasedMF")."""
    predicts_ratings: ClassVar[bool] = False
    """Whether its scores are on the rating scale (evaluation then measures RMSE and MAE)."""
    # The learned attributes (users_, items_, user_features_, item_features_, user_items_)
    # are declared once, on Serving.

    @property
    def expected_training_epochs(self) -> int:
        return self.config.epochs

    def training_loop(self, data: Dataset, options: TrainingOptions) -> Iterator[dict[str, float]]:
        """Prepare the data and initial parameters now; return the generator of epochs.

        With ``options.resume`` the current factors are kept and training continues from
        ``trained_epochs``; otherwise it starts over from fresh initial parameters.
        """
        data = _as_dataset(data)
        if not isinstance(options, TrainingOptions):
            raise TypeError(f"options must be TrainingOptions, got {type(options).__name__}")
        threads = min(options.thread_count(), max(data.user_count, data.item_count, 1))
        rng = options.random_generator()
        resuming = options.resume and self.trained_epochs > 0
        if resuming:
            self._check_resumable(data)
        guard = guard_of(self)
        token = guard.begin(self, lambda: self._snapshot(copy_factors=resuming))
        try:
            self._threads = threads
            train = self.prepare_data(data)
            self.users_ = train.users
            self.items_ = train.items
            if not resuming:
                self.trained_epochs = 0
                self.initialize_params(train, rng)
            _check_value_range(train, self.dtype)
            # Who has seen what, so recommend() can exclude training items without the data.
            ui = train.ui_rates
            self.user_items_ = CSRMatrix(ui.indptr, ui.indices, None, ui.shape)
        except BaseException:
            guard.end(token)
            raise
        epochs = self._run_epochs(train, threads, token)
        # An epoch generator dropped before its first epoch never runs its `finally`.
        weakref.finalize(epochs, guard.end, token)
        return epochs

    def _snapshot(self, *, copy_factors: bool) -> ALSBase:
        """A frozen copy of the learned state, read by other threads while this model trains
        (shares the arrays that training replaces; copies those it updates in place)."""
        frozen = object.__new__(type(self))
        frozen.__dict__.update({k: v for k, v in self.__dict__.items() if k != "_state_guard"})
        if copy_factors:
            for name in ("user_features_", "item_features_"):
                value = frozen.__dict__.get(name)
                if isinstance(value, np.ndarray):
                    frozen.__dict__[name] = value.copy()
        return frozen

    @contextmanager
    def _reading(self) -> Iterator[ALSBase]:
        """The model a read should use (itself, or its pre-training snapshot in a thread
        other than the one training it), with the state lock held for the read."""
        guard = guard_of(self)
        with guard.lock.shared():
            yield guard.reader(self)

    def _check_resumable(self, data: Dataset) -> None:
        if self.user_features_ is None:
            raise ValueError(
                "cannot resume: this model has no user embeddings (user_embeddings=False "
                "drops them when training finishes)"
            )
        seen = getattr(self, "user_items_", None)
        if (
            seen is None
            or data.users != self.users_
            or data.items != self.items_
            or data.interaction_count != seen.nnz
        ):
            raise ValueError(
                "cannot resume: the data differs from the data the model was trained on"
            )

    def _run_epochs(
        self, train: TrainingData, threads: int, token: TrainingToken
    ) -> Iterator[dict[str, float]]:
        try:
            yield from self._epochs(train, threads, token)
        finally:
            guard_of(self).end(token)

    def _epochs(
        self, train: TrainingData, threads: int, token: TrainingToken
    ) -> Iterator[dict[str, float]]:
        assert self.user_features_ is not None
        # Checked once here, the half-epochs trust them: the training matrix (validated when
        # TrainingData.create transposed it natively; its transpose is valid by construction)
        # and the factors (the kernels only ever write finite ones, or raise).
        check_finite("item_features", self.item_features_)
        check_finite("user_features", self.user_features_)
        user_ctx = TrainContext.create(
            "user",
            train.ui_rates,
            self.user_features_,
            self.item_features_,
            self.config.user_reg,
            threads=threads,
        )
        item_ctx = TrainContext.create(
            "item",
            train.iu_rates,
            self.item_features_,
            self.user_features_,
            self.config.item_reg,
            threads=threads,
        )
        for epoch in range(self.trained_epochs, self.config.epochs):
            if not token.active:
                raise RuntimeError("this training loop was replaced by a newer training run")
            # A Ctrl-C is held until both halves are done: the model always stays at a
            # complete epoch (and trained_epochs counts it) when KeyboardInterrupt surfaces.
            with deferred_interrupt(), blas_limited():
                delta_p = self.als_half_epoch(epoch, user_ctx)
                delta_q = self.als_half_epoch(epoch, item_ctx)
                self.trained_epochs = epoch + 1
            yield {"deltaP": delta_p, "deltaQ": delta_q}
        if not self.config.user_embeddings:
            self.user_features_ = None
        self.finalize_training()

    @property
    @abstractmethod
    def _row_solver(self) -> dict[str, Any]:
        """The native row solver training uses, as ``core.workspace_bytes`` takes it
        (``solver`` and, for the subspace solver, ``block_size``): it sizes the workspaces."""

    @abstractmethod
    def prepare_data(self, data: Dataset) -> TrainingData:
        """Transform the interactions for training (and learn any normalization)."""

    def _check_memory(self, data: TrainingData, threads: int) -> None:
        """Refuse, before allocating, a model that cannot fit in the memory this process may
        still use (the smallest of physical memory, ulimit -v / -d and the container's cgroup
        limit): an absurd embedding_size or vocabulary would otherwise fail deep in numpy or
        the core, or get the process killed."""
        k = self.config.embedding_size
        factors = (data.n_users + data.n_items) * k * self.dtype.itemsize
        workspaces = core.workspace_bytes(
            k,
            self.dtype,
            threads=threads,
            fixed_rows=max(data.n_users, data.n_items),
            **self._row_solver,
        )
        needed = factors + workspaces
        limit = memory_limit()
        if limit is not None and needed > limit[0]:
            raise ValueError(
                f"embedding_size={k} needs {needed / 2**30:.2f} GiB for the factors of "
                f"{data.n_users} users and {data.n_items} items and solver workspaces, more "
                f"than the {limit[0] / 2**30:.2f} GiB left under this process's {limit[1]}"
            )

    def initialize_params(self, data: TrainingData, rng: np.random.Generator) -> None:
        """Initial factors: items first, then users, from the same generator (the draw order
        is part of the reproducibility contract)."""
        self._check_memory(data, self._thread_count)
        k = self.config.embedding_size
        self.item_features_ = self._as_factors(self.initial_params(data.n_items, k, rng))
        self.user_features_ = self._as_factors(self.initial_params(data.n_users, k, rng))

    def _as_factors(self, values: NDArray[Any]) -> NDArray[np.floating[Any]]:
        return np.ascontiguousarray(values, dtype=self.dtype)

    @abstractmethod
    def initial_params(self, nrows: int, ncols: int, rng: np.random.Generator) -> NDArray[Any]:
        """Initial values of an nrows × ncols factor matrix, in the model's dtype. Subclasses
        draw the random numbers in float32 whatever the dtype: a float32 draw takes about a
        third of the time of a float64 one (0.28 s saved on the ML-20M shape at k = 64), and float32
        and float64 models from the same seed start from the same draws, so they differ only
        by rounding."""

    @abstractmethod
    def als_half_epoch(self, epoch: int, context: TrainContext) -> float:
        """Solve every row of ``context.left`` in place; return ‖new − old‖_F."""

    def finalize_training(self) -> None:
        """Runs once the last epoch has finished (precomputations for scoring)."""

    def _check_trained(self) -> None:
        """Refuse to serve a model that has not completed an epoch: its factors (if any) are
        random initial values, and its scores would be meaningless. A model interrupted at a
        complete epoch keeps working."""
        if getattr(self, "item_features_", None) is None:
            raise RuntimeError(f"{type(self).__name__} is not trained: call train() first")
        if self.trained_epochs < 1:
            raise RuntimeError(
                f"{type(self).__name__} has not completed a training epoch (training was "
                "interrupted or failed before the first epoch ended): call train() again"
            )

    @property
    def _thread_count(self) -> int:
        """Threads of the current training run (all CPUs outside one)."""
        return int(getattr(self, "_threads", 0))

    def save(self, path: str | PathLike[str]) -> None:
        """Write the trained model to ``path`` (safe format; read it with ``alskit.load``),
        atomically: a failed or concurrent save never leaves a half-written model.

        Safe to call from any thread: while the model trains in another thread, the model as
        it was before that training started is written (never a mix of epochs).
        """
        _registry.save(self, path)

    def __getstate__(self) -> dict[str, Any]:
        with self._reading() as model:
            state = dict(model.__dict__)
        state.pop("_threads", None)  # a property of the machine that trained it
        state.pop("_state_guard", None)  # locks of this process
        return state

    # ---- the persistent state ----------------------------------------------------------

    @classmethod
    def _archive_arrays(cls) -> dict[str, tuple[str, ...]]:
        """The arrays :meth:`_state` may give, each with its allowed dtypes ("ids": int64 or
        unicode ids; "factor": the config's dtype; else a dtype string)."""
        return {
            "users": ("ids",),
            "items": ("ids",),
            "item_features": ("factor",),
            "user_features": ("factor",),
            "seen_indptr": ("<i4", "<i8"),
            "seen_indices": ("<i4",),
        }

    def _state(self) -> tuple[dict[str, NDArray[Any]], dict[str, Any]]:
        """What a model file keeps of this trained model: named arrays (those of
        :meth:`_archive_arrays`) and JSON scalars; :meth:`_restore` reads them back."""
        arrays: dict[str, NDArray[Any]] = {
            "users": self.users_.ids(),
            "items": self.items_.ids(),
            "item_features": self.item_features_,
            "seen_indptr": self.user_items_.indptr,
            "seen_indices": self.user_items_.indices,
        }
        if self.user_features_ is not None:
            arrays["user_features"] = self.user_features_
        return arrays, {"trained_epochs": self.trained_epochs}

    @classmethod
    def _restore(
        cls: type[_M],
        config: Mapping[str, Any],
        state: Mapping[str, Any],
        arrays: Mapping[str, NDArray[Any]],
    ) -> _M:
        """The model :meth:`_state` described (read back from a file; ModelFileError or
        ValueError naming what does not fit)."""
        try:
            model = cls(config=dict(config))
        except (ValueError, TypeError) as e:
            raise ModelFileError(f"invalid model configuration: {e}") from e
        users = Vocabulary(require_array(arrays, "users"), "user", reorder=False)
        items = Vocabulary(require_array(arrays, "items"), "item", reorder=False)
        seen = CSRMatrix(
            require_array(arrays, "seen_indptr"),
            require_array(arrays, "seen_indices"),
            None,
            (len(users), len(items)),
        )
        return model._set_state(
            users=users,
            items=items,
            item_features=require_array(arrays, "item_features"),
            user_features=arrays.get("user_features"),
            user_items=seen,
            trained_epochs=state_count(dict(state), "trained_epochs"),
            **model._restore_learned(dict(state), arrays, users, items),
        )

    def _restore_learned(
        self,
        state: dict[str, Any],
        arrays: Mapping[str, NDArray[Any]],
        users: Vocabulary,
        items: Vocabulary,
    ) -> dict[str, Any]:
        """The scorer's own learned state from a file, as :meth:`_from_state` keywords."""
        return {}

    @classmethod
    def _from_state(
        cls: type[_M],
        config: ALSConfig | Mapping[str, Any] | None = None,
        *,
        users: Vocabulary,
        items: Vocabulary,
        item_features: NDArray[np.floating[Any]],
        user_features: NDArray[np.floating[Any]] | None,
        user_items: CSRMatrix,
        trained_epochs: int,
        **learned: Any,
    ) -> _M:
        """A trained scorer from its learned state — the one constructor of a model that was
        trained elsewhere (a model file; :mod:`alskit.distributed`'s workers).

        ``config``: the scorer's config (or its fields); ``users``/``items``: vocabularies;
        ``item_features`` (items × k) and ``user_features`` (users × k, or None with
        ``user_embeddings=False``) in the config's dtype; ``user_items``: who has seen what
        (users × items, its structure only); ``trained_epochs``: completed epochs. The
        scorer's own state comes as keywords (``BiasedMFScorer``: ``bias``, a
        :class:`~alskit.bias.BiasModel`; ``ImplicitMFScorer``: ``OtOr``, optional).

        The arrays are validated here, once, as they enter the model (shapes, dtypes, finite
        values, a valid seen-items matrix); serving and further training trust them.
        """
        if isinstance(config, ALSConfig):
            model = cls(config=config)
        else:
            model = cls(config=None if config is None else dict(config))
        return model._set_state(
            users=users,
            items=items,
            item_features=item_features,
            user_features=user_features,
            user_items=user_items,
            trained_epochs=trained_epochs,
            **learned,
        )

    def _set_state(
        self: _M,
        *,
        users: Vocabulary,
        items: Vocabulary,
        item_features: NDArray[np.floating[Any]],
        user_features: NDArray[np.floating[Any]] | None,
        user_items: CSRMatrix,
        trained_epochs: int,
        **learned: Any,
    ) -> _M:
        k, dtype = self.config.embedding_size, self.dtype
        expected = (len(items), k)
        if item_features.shape != expected or item_features.dtype != dtype:
            raise ValueError(f"item_features must be {expected} {self.config.dtype}")
        # (user_embeddings=False models keep their user features until training finishes.)
        if user_features is None and self.config.user_embeddings is not False:
            raise ValueError(
                f"user_embeddings={self.config.user_embeddings!r} but there are no user features"
            )
        if user_features is not None and (
            user_features.shape != (len(users), k) or user_features.dtype != dtype
        ):
            raise ValueError(f"user_features must be {(len(users), k)} {self.config.dtype}")
        if user_items.shape != (len(users), len(items)):
            raise ValueError(
                f"the seen-items matrix is {user_items.shape}, expected {(len(users), len(items))}"
            )
        try:
            user_items.validate()
        except (ValueError, TypeError) as e:
            raise ValueError(f"seen-items matrix is invalid: {e}") from e
        for name, array in (("item_features", item_features), ("user_features", user_features)):
            check_finite(name, array)
        if isinstance(trained_epochs, bool) or not isinstance(trained_epochs, int | np.integer):
            raise TypeError(f"trained_epochs must be an int, got {trained_epochs!r}")
        self.users_, self.items_ = users, items
        self.item_features_ = np.ascontiguousarray(item_features)
        self.user_features_ = None if user_features is None else np.ascontiguousarray(user_features)
        self.user_items_ = user_items
        self.trained_epochs = int(trained_epochs)
        self._set_learned(**learned)
        return self

    def _set_learned(self, **learned: Any) -> None:
        """Validate and set the scorer's own learned state (keywords of :meth:`_from_state`)."""
        if learned:
            raise TypeError(f"{type(self).__name__} has no learned state {sorted(learned)}")


def check_finite(name: str, array: NDArray[Any] | None) -> None:
    """ValueError naming ``name`` if the float ``array`` holds a NaN or an infinity."""
    if array is not None and array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"array {name!r} contains non-finite values")


def _as_dataset(data: Any) -> Dataset:
    """``data`` as an alskit Dataset: a LensKit ``Dataset`` is converted (``alskit.lenskit``,
    which needs the ``lenskit`` extra); anything else is refused, naming both types."""
    if isinstance(data, Dataset):
        return data
    if type(data).__module__.partition(".")[0] == "lenskit":
        from ..lenskit._convert import as_alskit_dataset

        return as_alskit_dataset(data)
    raise TypeError(
        f"data must be an alskit Dataset or a LensKit Dataset, got {type(data).__name__}"
    )


def _check_value_range(train: TrainingData, dtype: np.dtype[Any]) -> None:
    """Refuse, before training, values whose normal equations overflow ``dtype``.

    A row's system sums squares of its values (explicit: residual ratings; implicit: the
    confidence weights v = w·r) over up to n entries, so (max |v| · n)² must stay below the
    dtype's largest value; beyond it the sums become inf and a solve has no meaning (the
    native solver raises NumericalError, but only after epochs of work).
    """
    values = train.ui_rates.values
    if values is None or len(values) == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        largest = float(np.max(np.abs(values)))
    longest = max(int(train.ui_rates.row_lengths().max()), int(train.iu_rates.row_lengths().max()))
    check_value_limits(largest, longest, dtype)


def check_value_limits(largest: float, longest: int, dtype: np.dtype[Any]) -> None:
    """The check of :func:`_check_value_range` from the largest |value| and longest row."""
    limit = math.sqrt(float(np.finfo(dtype).max)) / 4
    if not math.isfinite(largest) or largest * longest > limit:
        raise ValueError(
            f"training values too large for {dtype}: the largest magnitude is {largest:g} "
            f"(ratings, or confidence weight × rating) in rows of up to {longest} entries, so "
            f"the normal equations' sums of squares overflow (|value| × row length must stay "
            f"below {limit:.3g}); rescale the ratings, lower the weight, or use dtype='float64'"
        )


def frobenius(delta_squared: float) -> float:
    """‖Δ‖_F from the kernels' Σ‖Δrow‖²."""
    return math.sqrt(delta_squared)
