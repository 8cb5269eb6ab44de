"""ALSBase: the training loop and scoring shared by the explicit and implicit scorers."""

from __future__ import annotations

import functools
import math
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from os import PathLike
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._concurrency import TrainingToken, guard_of
from .._native import core
from .._threads import blas_limited, memory_limit, resolve_threads
from ..component import Component
from ..data import CSRMatrix, Dataset, ItemList, RecQuery, Vocabulary
from ..data._arrays import as_id_array
from ..interrupts import deferred_interrupt
from ..recommendations import Recommendations
from ..training import IterativeTraining, TrainContext, TrainingData, TrainingOptions
from ._config import ALSConfig

QueryLike = RecQuery | ItemList | int | str | np.integer[Any] | None
_M = TypeVar("_M", bound="ALSBase")
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _reads(method: Callable[Concatenate[_M, _P], _R]) -> Callable[Concatenate[_M, _P], _R]:
    """A read of the learned state: runs on the model, or, while another thread trains it,
    on the model as it was before that training (see :mod:`alskit._concurrency`)."""

    @functools.wraps(method)
    def read(self: _M, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        guard = guard_of(self)  # (the body of _reading, inlined: this runs on every call)
        guard.lock.acquire_shared()
        try:
            return method(cast(_M, guard.reader(self)), *args, **kwargs)
        finally:
            guard.lock.release_shared()

    return read


class ALSBase(IterativeTraining, Component[ALSConfig], ABC):
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
    users_: Vocabulary
    items_: Vocabulary
    user_features_: NDArray[np.floating[Any]] | None
    item_features_: NDArray[np.floating[Any]]
    user_items_: CSRMatrix

    @property
    def expected_training_epochs(self) -> int:
        return self.config.epochs

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self.config.dtype)

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

    @abstractmethod
    def prepare_data(self, data: Dataset) -> TrainingData:
        """Transform the interactions for training (and learn any normalization)."""

    def _check_memory(self, data: TrainingData, threads: int) -> None:
        """Refuse, before allocating, a model that cannot fit in the memory this process may
        still use (the smallest of physical memory, ulimit -v / -d and the container's cgroup
        limit): an absurd embedding_size or vocabulary would otherwise fail deep in numpy or
        the core, or get the process killed."""
        k = self.config.embedding_size
        itemsize = self.dtype.itemsize
        factors = (data.n_users + data.n_items) * k * itemsize
        workspaces = threads * (k * k + 2048 * k) * itemsize  # per-thread k×k system + chunk
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
        self._check_memory(data, self._thread_count or 1)
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

    def finalize_scores(
        self, user_num: int | None, items: ItemList, user_bias: float | None
    ) -> ItemList:
        """Last transformation of the raw scores p·q (e.g. adding biases)."""
        return items

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

    @_reads
    def __call__(self, query: QueryLike = None, items: ItemList | ArrayLike = ()) -> ItemList:
        """Score ``items`` for the user in ``query``; NaN where no score can be computed.

        A query with a non-empty history is folded in (unless ``user_embeddings="prefer"``);
        otherwise the user's stored embedding is used; an unknown user with nothing to fold
        in, and items the model does not know, get NaN. The output keeps ``items``' order.
        """
        self._check_trained()
        query = RecQuery.create(query)
        if not isinstance(items, ItemList):
            items = ItemList(items, vocabulary=self.items_)  # validates the ids (item_ids)
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
        scored = items.with_scores(scores)
        if embedding is None:
            return scored
        return self.finalize_scores(user_num, scored, user_bias)

    @_reads
    def fold_in_users(
        self, histories: Sequence[ItemList], *, threads: int | None = None
    ) -> tuple[NDArray[np.floating[Any]], NDArray[np.float64] | None]:
        """Embeddings of new users from their histories, all solved in one native batch.

        Returns one embedding row per history (in order) and, for models with biases, each
        user's bias (else None). Items the model does not know and non-finite ratings are
        left out; a history with nothing usable gets the zero embedding.
        """
        self._check_trained()
        if isinstance(histories, ItemList) or not all(isinstance(h, ItemList) for h in histories):
            raise TypeError("histories must be a sequence of ItemList (one per new user)")
        n = len(histories)
        rows = np.repeat(np.arange(n, dtype=np.intp), [len(h) for h in histories])
        nums = np.concatenate(
            [h.numbers(vocabulary=self.items_, missing="negative") for h in histories]
            or [np.empty(0, np.int32)]
        )
        values, biases = self._fold_in_values(histories, rows, nums)
        keep = (nums >= 0) & np.isfinite(values)
        order = np.lexsort((nums[keep], rows[keep]))  # CSR order: by row, then by item
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows[keep], minlength=n), out=indptr[1:])
        indices = np.ascontiguousarray(nums[keep][order], dtype=np.int32)
        values = np.ascontiguousarray(values[keep][order], dtype=self.dtype)
        embeddings = self._fold_in_solve(indptr, indices, values, resolve_threads(threads))
        return embeddings, biases

    @abstractmethod
    def _fold_in_values(
        self, histories: Sequence[ItemList], rows: NDArray[np.intp], nums: NDArray[np.int32]
    ) -> tuple[NDArray[np.floating[Any]], NDArray[np.float64] | None]:
        """Per-entry solve values (NaN: leave out) and per-history biases (or None)."""

    @abstractmethod
    def _fold_in_solve(
        self,
        indptr: NDArray[np.int64],
        indices: NDArray[np.int32],
        values: NDArray[np.floating[Any]],
        threads: int,
    ) -> NDArray[np.floating[Any]]:
        """Native solve of a fold-in CSR batch."""

    def new_user_embedding(
        self, user_num: int | None, items: ItemList
    ) -> tuple[NDArray[np.floating[Any]], float | None]:
        """Embedding (and bias, if the model has one) of a user from their history."""
        embeddings, biases = self.fold_in_users([items], threads=1)
        return embeddings[0], None if biases is None else float(biases[0])

    @property
    def _thread_count(self) -> int:
        """Threads of the current training run (all CPUs outside one)."""
        return int(getattr(self, "_threads", 0))

    # ---- batch operations (native, multi-threaded) -------------------------------------

    def _offsets(
        self, user_nums: NDArray[np.int32] | None
    ) -> tuple[NDArray[Any] | None, NDArray[Any] | None]:
        """Per-user and per-item score offsets added to p·q (biases); none by default."""
        return None, None

    def _user_numbers(self, users: ArrayLike | None) -> tuple[NDArray[Any], NDArray[np.int32]]:
        if users is None:
            return self.users_.ids(), np.arange(len(self.users_), dtype=np.int32)
        ids = _ids(users, "users")
        return ids, self.users_.numbers(ids, missing="error")

    def _require_user_embeddings(self) -> NDArray[np.floating[Any]]:
        self._check_trained()
        if self.user_features_ is None:
            raise ValueError(
                "this model keeps no user embeddings (user_embeddings=False); fold in the users' "
                "histories (model.fold_in_users, or a RecQuery with user_items)"
            )
        return self.user_features_

    @_reads
    def recommend(
        self,
        users: ArrayLike | None = None,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        candidates: ArrayLike | None = None,
        blocklist: ArrayLike | None = None,
        threads: int | None = None,
    ) -> Recommendations:
        """Top-``n`` items for each of ``users`` (ids; all users if None) from the stored
        embeddings, computed natively in blocks of users (no users × items matrix).

        ``exclude_seen`` leaves out each user's training items; ``candidates`` (item ids)
        restricts the ranking to those items; ``blocklist`` (item ids) is never returned.
        Ties are broken by item number. Lists are shorter than n when fewer items remain.
        """
        factors = self._require_user_embeddings()
        ids, nums = self._user_numbers(users)
        n = _list_length(n, len(self.items_))
        exclude_indptr = exclude_indices = None
        if exclude_seen:
            seen = self.user_items_
            if users is None:  # every user, in order: the stored matrix as it is (no copy)
                exclude_indptr, exclude_indices = seen.indptr, seen.indices
            else:
                starts, ends = seen.indptr[nums], seen.indptr[nums + 1]
                exclude_indptr = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
                exclude_indices = _gather_rows(seen.indices, starts, ends)
        cand = None
        if candidates is not None:
            cand = np.unique(self.items_.numbers(_ids(candidates, "candidates"), missing="error"))
        blocked = None
        if blocklist is not None:
            blocked = np.zeros(len(self.items_), dtype=np.bool_)
            listed = self.items_.numbers(_ids(blocklist, "blocklist"), missing="negative")
            blocked[listed[listed >= 0]] = True  # unknown ids cannot be recommended anyway
        user_offsets, item_offsets = self._offsets(nums)
        with blas_limited():
            items, scores = core.top_n(
                factors if users is None else np.ascontiguousarray(factors[nums]),
                self.item_features_,
                int(n),
                exclude_indptr=exclude_indptr,
                exclude_indices=exclude_indices,
                candidates=cand,
                blocked=blocked,
                user_offsets=user_offsets,
                item_offsets=item_offsets,
                threads=resolve_threads(threads),
            )
        return Recommendations.from_matrix(ids, items, scores, self.items_)

    @_reads
    def predict(
        self, users: ArrayLike, items: ArrayLike, *, threads: int | None = None
    ) -> NDArray[np.float64]:
        """Scores of (user, item) pairs from stored embeddings; NaN for an unknown user or
        item (and, without stored embeddings, for every pair)."""
        self._check_trained()
        user_ids, item_ids = _ids(users, "users"), _ids(items, "items")
        if user_ids.shape != item_ids.shape:
            raise ValueError(
                f"users and items must be 1-D and of equal length, got {user_ids.shape} and "
                f"{item_ids.shape}"
            )
        out = np.full(len(user_ids), np.nan)
        if self.user_features_ is None or len(user_ids) == 0:
            return out
        unums = self.users_.numbers(user_ids, missing="negative")
        inums = self.items_.numbers(item_ids, missing="negative")
        ok = (unums >= 0) & (inums >= 0)
        user_offsets, item_offsets = self._offsets(None)
        out[ok] = core.score_pairs(
            self.user_features_,
            self.item_features_,
            unums[ok].astype(np.int32),
            inums[ok].astype(np.int32),
            user_offsets=user_offsets,
            item_offsets=item_offsets,
            threads=resolve_threads(threads),
        )
        return out

    @_reads
    def similar_items(
        self, items: ArrayLike, n: int = 10, *, threads: int | None = None
    ) -> Recommendations:
        """The ``n`` items most similar to each of ``items`` by cosine of item factors
        (the item itself excluded)."""
        self._check_trained()
        ids = _ids(items, "items")
        nums = self.items_.numbers(ids, missing="error")
        n = _list_length(n, len(self.items_))
        norms = np.linalg.norm(self.item_features_, axis=1, keepdims=True)
        unit = np.ascontiguousarray(
            self.item_features_ / np.where(norms > 0, norms, 1), dtype=self.dtype
        )
        exclude_indptr = np.arange(len(nums) + 1, dtype=np.int64)
        result, scores = core.top_n(
            np.ascontiguousarray(unit[nums]),
            unit,
            int(n),
            exclude_indptr=exclude_indptr,
            exclude_indices=nums.astype(np.int32),
            threads=resolve_threads(threads),
        )
        return Recommendations.from_matrix(ids, result, scores, self.items_, "query_item_id")

    def save(self, path: str | PathLike[str]) -> None:
        """Write the trained model to ``path`` (safe format; read it with ``alskit.load``)."""
        from ..persistence import save

        save(self, path)

    def __getstate__(self) -> dict[str, Any]:
        with self._reading() as model:
            state = dict(model.__dict__)
        state.pop("_threads", None)  # a property of the machine that trained it
        state.pop("_state_guard", None)  # locks of this process
        return state


def _as_dataset(data: Any) -> Dataset:
    """``data`` as an alskit Dataset: a LensKit ``Dataset`` is converted (``alskit.lenskit``,
    which needs the ``lenskit`` extra); anything else is refused, naming both types."""
    if isinstance(data, Dataset):
        return data
    if type(data).__module__.partition(".")[0] == "lenskit":
        from ..lenskit import as_alskit_dataset

        return as_alskit_dataset(data)
    raise TypeError(
        f"data must be an alskit Dataset or a LensKit Dataset, got {type(data).__name__}"
    )


def _ids(values: Any, what: str, *, single: bool = True) -> NDArray[Any]:
    """Ids as a 1-D int64 or string array (with ``single``, one id becomes a list of one);
    mixed, unhashable or unordered collections are refused rather than silently converted."""
    if single and isinstance(values, str | int | np.integer) and not isinstance(values, bool):
        values = [values]
    return as_id_array(values, what)


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


def _list_length(n: Any, n_items: int) -> int:
    """A validated list length, capped at the number of items (no list can be longer)."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return int(min(n, max(n_items, 1)))


def _gather_rows(
    indices: NDArray[np.int32], starts: NDArray[Any], ends: NDArray[Any]
) -> NDArray[np.int32]:
    """Concatenation of indices[starts[j]:ends[j]] for all j, without a Python loop."""
    lengths = (ends - starts).astype(np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int32)
    row_start = np.repeat(np.asarray(starts, np.int64) - np.cumsum(lengths) + lengths, lengths)
    return indices[row_start + np.arange(total)]


def frobenius(delta_squared: float) -> float:
    """‖Δ‖_F from the kernels' Σ‖Δrow‖²."""
    return math.sqrt(delta_squared)
