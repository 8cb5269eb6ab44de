"""Serving a trained ALS model: scoring, fold-in, top-N, prediction, similar items.

Every score any path returns — ``model(query, items)``, ``predict``, ``recommend`` and
:func:`alskit.evaluation.measure` — comes from one function, :func:`score`, over the native
``score_pairs``: s(u, i) = p_u · q_i + user_offset(u) + item_offset(i), in the factor dtype,
the offsets being the scorer's (biases of the explicit model; none for the implicit one). So
the same (user embedding, item) pair gets the same bits on every path. Top-N lists are
selected by the native ``top_n`` and their scores then computed by :func:`score` (a blocked
matrix product rounds differently from a dot product).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeVar, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._concurrency import guard_of
from .._native import core
from .._threads import blas_limited, resolve_threads
from ..data import CSRMatrix, ItemList, RecQuery, Vocabulary
from ..data._arrays import as_id_array
from ..data.matrix import coo_to_csr
from ..recommendations import Recommendations
from ._config import ALSConfig

QueryLike = RecQuery | ItemList | int | str | np.integer[Any] | None
_M = TypeVar("_M", bound="Serving")
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _reads(method: Callable[Concatenate[_M, _P], _R]) -> Callable[Concatenate[_M, _P], _R]:
    """A read of the learned state: runs on the model, or, while another thread trains it,
    on the model as it was before that training (see :mod:`alskit._concurrency`)."""

    @functools.wraps(method)
    def read(self: _M, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        guard = guard_of(self)  # (the body of ALSBase._reading, inlined: this runs per call)
        guard.lock.acquire_shared()
        try:
            return method(cast(_M, guard.reader(self)), *args, **kwargs)
        finally:
            guard.lock.release_shared()

    return read


class Embeddings(NamedTuple):
    """User rows to score: factors (rows × k, the factor dtype), each row's offset (None:
    the scorer has none), and which rows have an embedding at all (the others score NaN)."""

    factors: NDArray[np.floating[Any]]
    offsets: NDArray[np.floating[Any]] | None
    valid: NDArray[np.bool_]


def score(
    model: Serving,
    users: Embeddings,
    rows: NDArray[np.int32],
    items: NDArray[np.int32],
    threads: int = 1,
) -> NDArray[np.floating[Any]]:
    """THE score of each (``users`` row, item number) pair (valid rows, known items), in the
    factor dtype: p · q_item + row offset + item offset (:func:`pair_scores`)."""
    return pair_scores(
        users.factors,
        users.offsets,
        model.item_features_,
        model._item_offsets(),
        rows,
        items,
        threads,
    )


def pair_scores(
    user_factors: NDArray[np.floating[Any]],
    user_offsets: NDArray[np.floating[Any]] | None,
    item_factors: NDArray[np.floating[Any]],
    item_offsets: NDArray[np.floating[Any]] | None,
    rows: NDArray[np.int32],
    items: NDArray[np.int32],
    threads: int = 1,
) -> NDArray[np.floating[Any]]:
    """The one scoring function, over arrays: p_row · q_item + row offset + item offset in
    the factor dtype, computed by the native ``score_pairs``."""
    if len(rows) == 0:
        return np.empty(0, dtype=item_factors.dtype)
    return core.score_pairs(
        user_factors,
        item_factors,
        rows,
        items,
        user_offsets=user_offsets,
        item_offsets=item_offsets,
        threads=threads,
    )


def select_top_n(
    user_factors: NDArray[np.floating[Any]],
    user_offsets: NDArray[np.floating[Any]] | None,
    item_factors: NDArray[np.floating[Any]],
    item_offsets: NDArray[np.floating[Any]] | None,
    n: int,
    threads: int,
    *,
    exclude: CSRMatrix | None = None,
    candidates: NDArray[np.int32] | None = None,
    blocked: NDArray[np.bool_] | None = None,
    rescore: bool = True,
) -> tuple[NDArray[np.int32], NDArray[np.floating[Any]]]:
    """The ``n`` best items per user row (native selection; -1/NaN padding), best first, ties
    by item number; with ``rescore``, their scores are those of :func:`pair_scores` and the
    lists re-ranked by them. Every top-N path uses it (``recommend``, evaluation,
    :mod:`alskit.distributed`'s blocks)."""
    with blas_limited():
        items, scores = core.top_n(
            user_factors,
            item_factors,
            int(n),
            exclude_indptr=None if exclude is None else exclude.indptr,
            exclude_indices=None if exclude is None else exclude.indices,
            candidates=candidates,
            blocked=blocked,
            user_offsets=user_offsets,
            item_offsets=item_offsets,
            threads=threads,
        )
        if not rescore:
            return items, scores
        filled = items >= 0
        rows = np.nonzero(filled)[0].astype(np.int32)
        scores[filled] = pair_scores(
            user_factors, user_offsets, item_factors, item_offsets, rows, items[filled], threads
        )
    # Re-rank by the final scores (a product rounds differently from a dot product: at most
    # a last-bit change, which may swap near-ties); the padding stays last. Lists whose order
    # the new scores keep (nearly always) are returned as they are.
    ahead, behind = scores[:, :-1], scores[:, 1:]
    in_order = (ahead > behind) | ((ahead == behind) & (items[:, :-1] < items[:, 1:]))
    if bool(np.all(in_order | ~filled[:, 1:])):
        return items, scores
    key = np.where(filled, -scores, np.inf)
    order = np.lexsort((np.where(filled, items, np.iinfo(np.int32).max), key), axis=1)
    return np.take_along_axis(items, order, 1), np.take_along_axis(scores, order, 1)


class Serving:
    """Scoring, fold-in and batch recommendation over the learned state of
    :class:`~alskit.als.ALSBase` (which declares and sets these attributes)."""

    config: ALSConfig
    users_: Vocabulary
    items_: Vocabulary
    user_features_: NDArray[np.floating[Any]] | None
    item_features_: NDArray[np.floating[Any]]
    user_items_: CSRMatrix

    # ---- what each scorer provides -------------------------------------------------------

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self.config.dtype)

    def _check_trained(self) -> None:
        raise NotImplementedError

    def _user_offsets(self, user_nums: NDArray[np.int32]) -> NDArray[np.float64] | None:
        """Stored per-user score offsets (biases) of ``user_nums``; None: the scorer has none."""
        return None

    def _item_offsets(self) -> NDArray[np.floating[Any]] | None:
        """Per-item score offsets in the factor dtype; None: the scorer has none."""
        return None

    def _fold_in_values(
        self, histories: Sequence[ItemList], rows: NDArray[np.intp], nums: NDArray[np.int32]
    ) -> tuple[NDArray[np.floating[Any]], NDArray[np.float64] | None]:
        """Per-entry solve values (NaN: leave out) and per-history biases (or None)."""
        raise NotImplementedError

    def _fold_in_solve(self, histories: CSRMatrix, threads: int) -> NDArray[np.floating[Any]]:
        """Native solve of a fold-in batch (rows: histories, values: solve values)."""
        raise NotImplementedError

    # ---- embeddings of queries -----------------------------------------------------------

    def _as_embeddings(
        self, factors: NDArray[np.floating[Any]], offsets: NDArray[np.float64] | None
    ) -> Embeddings:
        cast_offsets = None if offsets is None else offsets.astype(self.dtype)
        return Embeddings(factors, cast_offsets, np.ones(len(factors), dtype=np.bool_))

    def _query_embeddings(
        self,
        user_nums: NDArray[np.int32],
        histories: Sequence[ItemList | None],
        threads: int,
    ) -> Embeddings:
        """Embeddings of queries (a user number or -1, and a history or None each): a
        non-empty history is folded in (unless ``user_embeddings="prefer"``), else the
        stored embedding is used; no embedding for an unknown user with nothing to fold in."""
        m, k = len(user_nums), self.item_features_.shape[1]
        prefer = self.config.user_embeddings == "prefer"
        fold = np.array([h is not None and len(h) > 0 and not prefer for h in histories], bool)
        stored = ~fold & (user_nums >= 0) & (self.user_features_ is not None)
        factors = np.zeros((m, k), dtype=self.dtype)
        offsets: NDArray[np.float64] | None = None
        stored_offsets = self._user_offsets(user_nums[stored])
        if stored_offsets is not None:
            offsets = np.zeros(m)
            offsets[stored] = stored_offsets
        if stored.any():
            assert self.user_features_ is not None
            factors[stored] = self.user_features_[user_nums[stored]]
        if fold.any():
            to_fold = [cast(ItemList, histories[int(i)]) for i in np.flatnonzero(fold)]
            folded, biases = self.fold_in_users(to_fold, threads=threads)
            factors[fold] = folded
            if biases is not None:
                offsets = np.zeros(m) if offsets is None else offsets
                offsets[fold] = biases
        embeddings = self._as_embeddings(factors, offsets)
        return embeddings._replace(valid=fold | stored)

    def _score_queries(
        self,
        user_nums: NDArray[np.int32],
        histories: Sequence[ItemList | None],
        items: Sequence[NDArray[np.int32]],
        threads: int,
    ) -> list[NDArray[np.float64]]:
        """Scores of item numbers (-1: unknown → NaN) for each query (see
        :meth:`_query_embeddings`), all in one native batch; float64 arrays."""
        users = self._query_embeddings(user_nums, histories, threads)
        lengths = [len(i) for i in items]
        nums = np.concatenate([np.asarray(i, np.int32) for i in items] or [np.empty(0, np.int32)])
        rows = np.repeat(np.arange(len(items), dtype=np.int32), lengths)
        ok = (nums >= 0) & users.valid[rows]
        out = np.full(len(nums), np.nan)
        out[ok] = score(self, users, rows[ok], nums[ok], threads)
        return np.split(out, np.cumsum(lengths)[:-1]) if items else []

    def _recommend_queries(
        self,
        user_nums: NDArray[np.int32],
        histories: Sequence[ItemList | None],
        n: int,
        threads: int,
        *,
        exclude_histories: bool = True,
        candidates: NDArray[np.int32] | None = None,
    ) -> tuple[NDArray[np.int32], NDArray[np.floating[Any]]]:
        """Top-``n`` item numbers and scores (-1/NaN padding) for each query (see
        :meth:`_query_embeddings`), the items of its history left out (``exclude_histories``),
        ranked among ``candidates`` (item numbers; None: all), all in one native batch."""
        users = self._query_embeddings(user_nums, histories, threads)
        exclude = None
        if exclude_histories:
            known = [
                np.empty(0, np.int32) if h is None else h.numbers(self.items_, missing="negative")
                for h in histories
            ]
            rows = np.repeat(np.arange(len(known), dtype=np.int32), [len(k) for k in known])
            cols = np.concatenate(known or [np.empty(0, np.int32)])
            seen = cols >= 0
            exclude = coo_to_csr(
                rows[seen], cols[seen], None, len(known), len(self.items_), duplicates="keep"
            )
        items, scores = self._top_n(
            users,
            _list_length(n, len(self.items_)),
            threads,
            exclude=exclude,
            candidates=candidates,
        )
        items[~users.valid] = -1  # no embedding: nothing to recommend
        scores[~users.valid] = np.nan
        return items, scores

    def _top_n(
        self,
        users: Embeddings,
        n: int,
        threads: int,
        *,
        exclude: CSRMatrix | None = None,
        candidates: NDArray[np.int32] | None = None,
        blocked: NDArray[np.bool_] | None = None,
        item_factors: NDArray[np.floating[Any]] | None = None,
    ) -> tuple[NDArray[np.int32], NDArray[np.floating[Any]]]:
        """The ``n`` best items per row of ``users`` (native selection; -1/NaN padding), with
        their scores from :func:`score` (best first, ties by item number). ``item_factors``
        replaces the item factors and drops the offsets (similar items: unit vectors)."""
        if item_factors is not None:
            return select_top_n(
                users.factors,
                None,
                item_factors,
                None,
                n,
                threads,
                exclude=exclude,
                candidates=candidates,
                blocked=blocked,
                rescore=False,
            )
        return select_top_n(
            users.factors,
            users.offsets,
            self.item_features_,
            self._item_offsets(),
            n,
            threads,
            exclude=exclude,
            candidates=candidates,
            blocked=blocked,
        )

    # ---- the public API ------------------------------------------------------------------

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
        nums = items.numbers(vocabulary=self.items_, missing="negative")
        (scores,) = self._score_queries(
            np.array([-1 if user_num is None else user_num], dtype=np.int32),
            [query.user_items],
            [nums],
            threads=1,
        )
        return items.with_scores(scores)

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
        solve_values = values[keep].astype(self.dtype)
        if not np.isfinite(solve_values).all():  # (the solve trusts the batch it is given)
            j = int(np.flatnonzero(~np.isfinite(solve_values))[0])
            raise ValueError(f"values[{j}] is not finite in {self.dtype} (history value too large)")
        batch = coo_to_csr(
            rows[keep],
            nums[keep],
            solve_values,
            n,
            len(self.items_),
            duplicates="keep",
        )
        return self._fold_in_solve(batch, resolve_threads(threads)), biases

    def new_user_embedding(
        self, user_num: int | None, items: ItemList
    ) -> tuple[NDArray[np.floating[Any]], float | None]:
        """Embedding (and bias, if the model has one) of a user from their history."""
        embeddings, biases = self.fold_in_users([items], threads=1)
        return embeddings[0], None if biases is None else float(biases[0])

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
        exclude = None
        if exclude_seen:  # every user, in order: the stored matrix as it is (no copy)
            exclude = self.user_items_ if users is None else self.user_items_.take_rows(nums)
        cand = None
        if candidates is not None:
            cand = np.unique(self.items_.numbers(_ids(candidates, "candidates"), missing="error"))
        blocked = None
        if blocklist is not None:
            blocked = np.zeros(len(self.items_), dtype=np.bool_)
            listed = self.items_.numbers(_ids(blocklist, "blocklist"), missing="negative")
            blocked[listed[listed >= 0]] = True  # unknown ids cannot be recommended anyway
        embeddings = self._as_embeddings(
            factors if users is None else np.ascontiguousarray(factors[nums]),
            self._user_offsets(nums),
        )
        items, scores = self._top_n(
            embeddings,
            n,
            resolve_threads(threads),
            exclude=exclude,
            candidates=cand,
            blocked=blocked,
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
        every_user = np.arange(len(self.users_), dtype=np.int32)
        embeddings = self._as_embeddings(self.user_features_, self._user_offsets(every_user))
        out[ok] = score(self, embeddings, unums[ok], inums[ok], resolve_threads(threads))
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
        itself = CSRMatrix(
            np.arange(len(nums) + 1, dtype=np.int64),
            nums.astype(np.int32),
            None,
            (len(nums), len(self.items_)),
        )
        result, scores = self._top_n(
            self._as_embeddings(np.ascontiguousarray(unit[nums]), None),
            n,
            resolve_threads(threads),
            exclude=itself,
            item_factors=unit,
        )
        return Recommendations.from_matrix(ids, result, scores, self.items_, "query_item_id")


def _ids(values: Any, what: str, *, single: bool = True) -> NDArray[Any]:
    """Ids as a 1-D int64 or string array (with ``single``, one id becomes a list of one);
    mixed, unhashable or unordered collections are refused rather than silently converted."""
    if single and isinstance(values, str | int | np.integer) and not isinstance(values, bool):
        values = [values]
    return as_id_array(values, what)


def _list_length(n: Any, n_items: int) -> int:
    """A validated list length, capped at the number of items (no list can be longer)."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return int(min(n, max(n_items, 1)))
