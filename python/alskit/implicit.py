"""A drop-in for the CPU ``AlternatingLeastSquares`` of the `implicit` package (0.7.3).

Switch with one import::

    from alskit.implicit import AlternatingLeastSquares   # was: from implicit.als import ...

The constructor, attributes, methods, return shapes, ``.npz`` model files and warnings are
implicit's; the per-row work (the ALS half-epochs, fold-in, top-N, the training loss) runs in
alskit's native core with the GIL released, on ``num_threads`` threads.

The model is implicit's (Hu, Koren & Volinsky 2008, not LensKit's ``ImplicitMFScorer``): a
stored value r gives confidence c = α·r, with no +1; r > 0 means "liked" (preference 1) and
r ≤ 0 "disliked" (preference 0, confidence |c|); unobserved cells have preference 0 and
confidence 1; λ is not scaled by the row's count. Row u of a half-epoch solves

    (YᵀY + λI + Σ_i (|c_ui| − 1) y_i y_iᵀ) x_u = Σ_{i: c_ui > 0} c_ui y_i,

which is alskit's implicit kernel with weights v = |c| − 1 and targets b = max(c, 0).

Where alskit differs from implicit 0.7.3 (all at its edges):

* result slots with nothing left to rank (N larger than the candidates) hold id -1 and score
  -max of the dtype; implicit puts the filtered items there, then id 0 with score 0;
* out-of-range ids raise :class:`InvalidIdError` (an IndexError, as in implicit, and a
  ValueError) naming the argument; N < 1 is a ValueError (implicit fails inside topk);
* ``items=``/``users=`` subsets rank duplicate ids once;
* ``use_native`` is stored but alskit is always native; a ``RandomState`` random_state works
  (implicit 0.7.3 fails on it); a singular system without regularization gets the
  least-squares fallback of alskit's Cholesky instead of implicit's ValueError;
* the warnings are implicit's (ParameterWarning on non-CSR input, RuntimeWarning once per
  process when BLAS runs several threads), with alskit's own :class:`ParameterWarning` class.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import time
import warnings
from collections.abc import Callable
from typing import IO, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from tqdm.auto import tqdm

try:
    import scipy.linalg
    import scipy.sparse
except ImportError as error:  # pragma: no cover - scipy is installed wherever implicit is
    raise ImportError(
        "alskit.implicit works on scipy.sparse matrices: pip install 'alskit[scipy]'"
    ) from error

from ._atomic import atomic_output
from ._native import core
from .als._serving import select_top_n
from .data.matrix import CSRMatrix

__all__ = ["AlternatingLeastSquares", "ModelFitError", "ParameterWarning"]

log = logging.getLogger("alskit.implicit")

Factors = NDArray[np.floating[Any]]
Callback = Callable[[int, float, float | None], Any]


class ModelFitError(Exception):
    """Training produced non-finite factors."""


class ParameterWarning(Warning):
    """An argument was converted (implicit's warning category of the same name)."""


class InvalidIdError(IndexError, ValueError):
    """A user or item id outside the model (an IndexError, as in implicit, and a ValueError)."""


_blas_checked = False


def _check_blas_config() -> None:
    """Warn once per process, as implicit does, when BLAS runs more than one thread."""
    global _blas_checked
    if _blas_checked:
        return
    from threadpoolctl import threadpool_info

    for api in threadpool_info():
        threads = api.get("num_threads", 1)
        if api.get("user_api") != "blas" or threads == 1:
            continue
        library = api.get("internal_api", "BLAS")
        variable = {"openblas": "OPENBLAS_NUM_THREADS", "mkl": "MKL_NUM_THREADS"}.get(library)
        how = f"set the environment variable {variable}=1 or call " if variable else "call "
        warnings.warn(
            f"{library} BLAS is configured to use {threads} threads. Limiting it to one is "
            f'recommended: {how}threadpoolctl.threadpool_limits(1, "blas").',
            RuntimeWarning,
            stacklevel=3,
        )
    _blas_checked = True


def _check_csr(matrix: Any, name: str) -> scipy.sparse.csr_matrix:
    """A scipy CSR matrix; other sparse formats are converted with a ParameterWarning."""
    if isinstance(matrix, scipy.sparse.csr_matrix):
        return matrix
    if not scipy.sparse.issparse(matrix):
        raise TypeError(f"{name} must be a scipy.sparse matrix, got {type(matrix).__name__}")
    start = time.time()
    converted = scipy.sparse.csr_matrix(matrix)
    warnings.warn(
        f"{name}: expected a CSR matrix, got {type(matrix).__name__}; converting it to CSR "
        f"took {time.time() - start:.3f} seconds",
        ParameterWarning,
        stacklevel=3,
    )
    return converted


def _random_generator(random_state: Any) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31))
    return np.random.default_rng(random_state)


class _Rows:
    """A CSR's index arrays in the core's layout and its mapped values (v, b)."""

    def __init__(
        self, matrix: scipy.sparse.csr_matrix, alpha: float, dtype: np.dtype[Any], ncols: int
    ) -> None:
        if matrix.shape[1] > ncols:
            raise ValueError(f"has {matrix.shape[1]} columns but the model has only {ncols}")
        self.indptr: NDArray[np.int64] = np.ascontiguousarray(matrix.indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(matrix.indices, dtype=np.int32)
        # implicit's float32 confidences c = α·r, then the factor dtype.
        data = np.asarray(matrix.data, dtype=np.float32)
        if not np.all(np.isfinite(data)):
            raise ValueError("has non-finite values")
        self.confidence = (data * np.float32(alpha) if alpha != 1.0 else data).astype(dtype)
        self.ncols = ncols
        self.nrows = matrix.shape[0]

    @property
    def weights(self) -> Factors:
        """v = |c| − 1."""
        out: Factors = np.abs(self.confidence) - self.confidence.dtype.type(1)
        return out

    @property
    def targets(self) -> Factors:
        """b = c·[c > 0]."""
        c = self.confidence
        out: Factors = np.where(c > 0, c, c.dtype.type(0)).astype(c.dtype)
        return out

    def transposed(self, threads: int) -> _Rows:
        indptr, indices, values = core.transpose_csr(
            self.indptr, self.indices, self.confidence, self.ncols, threads=threads
        )
        out = object.__new__(_Rows)
        out.indptr, out.indices, out.confidence = indptr, indices, values
        out.ncols, out.nrows = self.nrows, self.ncols
        return out


class AlternatingLeastSquares:
    """Implicit-feedback ALS with the interface of implicit 0.7.3's CPU model.

    Parameters are implicit's: ``factors``, ``regularization`` (λ), ``alpha`` (confidence
    c = α·value), ``dtype`` (of the factors, float32 or float64), ``use_native`` (accepted and
    stored; alskit is always native), ``use_cg`` (conjugate gradient, ``cg_steps`` iterations
    per row warm-started from the previous epoch, or exact Cholesky), ``iterations``,
    ``calculate_training_loss``, ``num_threads`` (0: all cores) and ``random_state``.

    Attributes: ``user_factors`` (users × factors), ``item_factors`` (items × factors),
    ``cg_steps`` (3) and ``fit_callback``.
    """

    def __init__(
        self,
        factors: int = 100,
        regularization: float = 0.01,
        alpha: float = 1.0,
        dtype: Any = np.float32,
        use_native: bool = True,
        use_cg: bool = True,
        iterations: int = 15,
        calculate_training_loss: bool = False,
        num_threads: int = 0,
        random_state: Any = None,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.dtype = np.dtype(dtype)
        self.use_native = use_native
        self.use_cg = use_cg
        self.iterations = iterations
        self.calculate_training_loss = calculate_training_loss
        self.num_threads = num_threads
        self.random_state = random_state
        self.cg_steps = 3
        self.fit_callback: Callback | None = None
        self.user_factors: Factors | None = None
        self.item_factors: Factors | None = None
        self._invalidate()
        self._check_params()
        _check_blas_config()

    # ---- parameters and state ----------------------------------------------------------------

    def _check_params(self) -> None:
        """Every parameter is checked before any work (they are public attributes)."""
        for name in ("factors", "iterations", "cg_steps", "num_threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise TypeError(f"{name} must be an integer, got {value!r}")
        if self.factors < 1:
            raise ValueError(f"factors must be at least 1, got {self.factors}")
        if self.iterations < 0:
            raise ValueError(f"iterations must be >= 0, got {self.iterations}")
        if self.cg_steps < 1:
            raise ValueError(f"cg_steps must be at least 1, got {self.cg_steps}")
        if self.num_threads < 0:
            raise ValueError(f"num_threads must be >= 0 (0: all cores), got {self.num_threads}")
        for name in ("regularization", "alpha"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise TypeError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value}")
        if self.regularization < 0:
            raise ValueError(f"regularization must be >= 0, got {self.regularization}")
        self.dtype = np.dtype(self.dtype)
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype}")

    def _invalidate(self) -> None:
        self._user_norms: NDArray[Any] | None = None
        self._item_norms: NDArray[Any] | None = None
        self._YtY: Factors | None = None
        self._XtX: Factors | None = None

    def _fitted(self) -> tuple[Factors, Factors]:
        if self.user_factors is None or self.item_factors is None:
            raise RuntimeError("the model is not fitted: call fit() (or load()) first")
        users = np.asarray(self.user_factors)
        items = np.asarray(self.item_factors)
        if users.ndim != 2 or items.ndim != 2 or users.shape[1] != items.shape[1]:
            raise ValueError(
                f"user_factors {users.shape} and item_factors {items.shape} must be 2-D with "
                "the same number of columns"
            )
        if users.dtype != items.dtype or users.dtype not in (np.float32, np.float64):
            raise TypeError(
                f"user_factors ({users.dtype}) and item_factors ({items.dtype}) must share a "
                "float32 or float64 dtype"
            )
        # The core reads C-contiguous arrays in place; fix the layout once, not per call.
        if not users.flags.c_contiguous or users is not self.user_factors:
            self.user_factors = users = np.ascontiguousarray(users)
        if not items.flags.c_contiguous or items is not self.item_factors:
            self.item_factors = items = np.ascontiguousarray(items)
        return users, items

    @property
    def YtY(self) -> Factors:  # noqa: N802 (implicit's name)
        """item_factorsᵀ·item_factors (cached)."""
        if self._YtY is None:
            self._YtY = core.gram(self._fitted()[1], 0.0, threads=self.num_threads)
        return self._YtY

    @property
    def XtX(self) -> Factors:  # noqa: N802 (implicit's name)
        """user_factorsᵀ·user_factors (cached)."""
        if self._XtX is None:
            self._XtX = core.gram(self._fitted()[0], 0.0, threads=self.num_threads)
        return self._XtX

    @property
    def user_norms(self) -> NDArray[Any]:
        """‖x_u‖ per user (0 replaced by 1e-10, as in implicit)."""
        if self._user_norms is None:
            self._user_norms = _norms(self._fitted()[0])
        return self._user_norms

    @property
    def item_norms(self) -> NDArray[Any]:
        """‖y_i‖ per item (0 replaced by 1e-10, as in implicit)."""
        if self._item_norms is None:
            self._item_norms = _norms(self._fitted()[1])
        return self._item_norms

    # ---- training ------------------------------------------------------------------------

    def fit(
        self, user_items: Any, show_progress: bool = True, callback: Callback | None = None
    ) -> None:
        """Factorize ``user_items`` (users × items CSR of confidences; negative: disliked).

        Factors already present (a previous fit, or assigned) are the starting point (warm
        start); otherwise they are drawn as implicit does: uniform [0, 0.01), users first.
        ``callback(iteration, seconds, loss)`` runs after every iteration (``loss`` is None
        unless ``calculate_training_loss``).
        """
        self._check_params()
        rng = _random_generator(self.random_state)
        cui_matrix = _check_csr(user_items, "user_items")
        users, items = cui_matrix.shape
        try:
            cui = _Rows(cui_matrix, float(self.alpha), self.dtype, items)
        except ValueError as error:
            raise ValueError(f"user_items {error}") from None
        threads = int(self.num_threads)
        ciu = cui.transposed(threads)

        if self.user_factors is None:
            self.user_factors = rng.random((users, self.factors), dtype=self.dtype) * 0.01
        if self.item_factors is None:
            self.item_factors = rng.random((items, self.factors), dtype=self.dtype) * 0.01
        x, y = (np.asarray(f) for f in (self.user_factors, self.item_factors))
        if x.shape != (users, self.factors) or y.shape != (items, self.factors):
            raise ValueError(
                f"cannot warm-start: user_factors {x.shape} and item_factors {y.shape} do not "
                f"match user_items {cui_matrix.shape} with factors={self.factors}"
            )
        self.user_factors = x = np.ascontiguousarray(x, dtype=self.dtype)
        self.item_factors = y = np.ascontiguousarray(y, dtype=self.dtype)
        self._invalidate()

        solver: Literal["cholesky", "cg"] = "cg" if self.use_cg else "cholesky"
        halves = [(cui, cui.weights, cui.targets, x, y), (ciu, ciu.weights, ciu.targets, y, x)]
        callback = callback or self.fit_callback
        loss: float | None = None
        with tqdm(total=self.iterations, disable=not show_progress) as progress:
            for iteration in range(self.iterations):
                start = time.time()
                for rows, v, b, left, right in halves:
                    gram = core.gram(right, float(self.regularization), threads=threads)
                    core.implicit_half_epoch(
                        rows.indptr,
                        rows.indices,
                        v,
                        left,
                        right,
                        gram,
                        targets=b,
                        solver=solver,
                        cg_steps=int(self.cg_steps),
                        threads=threads,
                    )
                progress.update(1)
                if self.calculate_training_loss:
                    loss = self._loss(cui, x, y)
                    progress.set_postfix({"loss": loss})
                    if not show_progress:
                        log.info("loss %.4f", loss)
                if callback:
                    callback(iteration, time.time() - start, loss)
        if self.calculate_training_loss and loss is not None:
            log.info("Final training loss %.4f", loss)
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ModelFitError("NaN encountered in factors")

    def _loss(self, cui: _Rows, x: Factors, y: Factors) -> float:
        """implicit's training loss: Σ_ui c_ui (p_ui − x_u·y_i)² + λ(‖X‖² + ‖Y‖²), divided by
        Σ|c| plus the number of unobserved cells."""
        threads = int(self.num_threads)
        rows = np.repeat(np.arange(cui.nrows, dtype=np.int32), np.diff(cui.indptr))
        start, end = int(cui.indptr[0]), int(cui.indptr[-1])
        cols = cui.indices[start:end]
        c = cui.confidence[start:end].astype(np.float64)
        s = core.score_pairs(x, y, rows, cols, threads=threads).astype(np.float64)
        magnitude = np.abs(c)
        observed = float(np.sum((magnitude - 1) * s * s - 2 * np.where(c > 0, c, 0) * s))
        xtx = core.gram(x, 0.0, threads=threads).astype(np.float64)
        yty = core.gram(y, 0.0, threads=threads).astype(np.float64)
        total = observed + float(np.sum(magnitude)) + float(np.sum(xtx * yty))
        total += float(self.regularization) * float(np.trace(xtx) + np.trace(yty))
        nnz = len(c)
        return float(total / (float(np.sum(magnitude)) + cui.nrows * cui.ncols - nnz))

    # ---- fold-in -------------------------------------------------------------------------

    def _solve_rows(self, ids: Any, matrix: Any, name: str, fixed: Factors) -> Factors:
        """Exact (Cholesky) solves of new rows against the fixed side; one row per id."""
        m = _check_csr(matrix, name)
        count = 1 if np.isscalar(ids) else len(ids)
        if m.shape[0] != count:
            raise ValueError(f"{name} must have one row per id ({count}), got {m.shape[0]} rows")
        try:
            rows = _Rows(m, float(self.alpha), fixed.dtype, fixed.shape[0])
        except ValueError as error:
            raise ValueError(f"{name} {error}") from None
        gram = core.gram(fixed, float(self.regularization), threads=int(self.num_threads))
        return core.fold_in_implicit(
            rows.indptr,
            rows.indices,
            rows.weights,
            fixed,
            gram,
            targets=rows.targets,
            threads=int(self.num_threads),
        )

    def recalculate_user(self, userid: Any, user_items: Any) -> Factors:
        """Factors of users from their rows of ``user_items`` (one row per id; not stored)."""
        _, items = self._fitted()
        out = self._solve_rows(userid, user_items, "user_items", items)
        return out[0] if np.isscalar(userid) else out

    def recalculate_item(self, itemid: Any, item_users: Any) -> Factors:
        """Factors of items from their rows of ``item_users`` (one row per id; not stored)."""
        users, _ = self._fitted()
        out = self._solve_rows(itemid, item_users, "item_users", users)
        return out[0] if np.isscalar(itemid) else out

    def partial_fit_users(self, userids: ArrayLike, user_items: Any) -> None:
        """Recompute (and store) the factors of ``userids``, growing the model for new ids."""
        ids = _ids(userids, "userids")
        _check_new_ids(ids, "userids")
        self.user_factors = self._partial_fit(
            ids, self.recalculate_user(ids, user_items), self._fitted()[0]
        )
        self._user_norms = None
        self._XtX = None

    def partial_fit_items(self, itemids: ArrayLike, item_users: Any) -> None:
        """Recompute (and store) the factors of ``itemids``, growing the model for new ids."""
        ids = _ids(itemids, "itemids")
        _check_new_ids(ids, "itemids")
        self.item_factors = self._partial_fit(
            ids, self.recalculate_item(ids, item_users), self._fitted()[1]
        )
        self._item_norms = None
        self._YtY = None

    @staticmethod
    def _partial_fit(ids: NDArray[np.int64], new: Factors, current: Factors) -> Factors:
        if len(ids) == 0:
            return current
        size = int(ids.max()) + 1
        if size > current.shape[0]:
            grown = np.zeros((size, current.shape[1]), dtype=current.dtype)
            grown[: current.shape[0]] = current
            current = grown
        current[ids] = new
        return current

    # ---- recommending --------------------------------------------------------------------

    def recommend(
        self,
        userid: Any,
        user_items: Any,
        N: int = 10,  # noqa: N803 (implicit's name)
        filter_already_liked_items: bool = True,
        filter_items: ArrayLike | None = None,
        recalculate_user: bool = False,
        items: ArrayLike | None = None,
    ) -> tuple[NDArray[np.int32], NDArray[np.floating[Any]]]:
        """The top ``N`` (ids, scores) for one user id (1-D results) or an array (2-D).

        ``user_items`` has one row per requested user (CSR): their liked items, excluded with
        ``filter_already_liked_items`` and the history used with ``recalculate_user``.
        ``filter_items`` are never returned; ``items`` restricts the ranking to those ids
        (not both; with ``items`` N is at most their number). Rows with fewer than N rankable
        items are padded with id -1 and score -max of the dtype (implicit instead returns the
        filtered items there, with that score, then id 0 with score 0).
        """
        users, item_factors = self._fitted()
        scalar = np.isscalar(userid)
        ids = _ids(userid, "userid")
        if filter_already_liked_items or recalculate_user:
            if not isinstance(user_items, scipy.sparse.csr_matrix):
                raise ValueError("user_items needs to be a CSR sparse matrix")
            if user_items.shape[0] != len(ids):
                raise ValueError(
                    f"user_items must have one row per user in userid ({len(ids)}), got "
                    f"{user_items.shape[0]}"
                )
            if user_items.shape[1] > item_factors.shape[0]:
                raise ValueError(
                    f"user_items has {user_items.shape[1]} columns but the model has only "
                    f"{item_factors.shape[0]} items"
                )
        if recalculate_user:
            query = np.atleast_2d(self.recalculate_user(ids, user_items))
        else:
            _check_range(ids, users.shape[0], "userid", "users in the model")
            query = np.ascontiguousarray(users[ids])
        n = _count(N)
        candidates = None
        if items is not None:
            if filter_items is not None and len(np.atleast_1d(filter_items)) > 0:
                raise ValueError("items and filter_items cannot both be given")
            given = _ids(items, "items")
            candidates = np.unique(given)
            _check_range(candidates, item_factors.shape[0], "items", "items in the model")
            n = min(n, len(given))  # implicit's shape (duplicates are ranked once)
        exclude = None
        if filter_already_liked_items:
            exclude = CSRMatrix(
                np.ascontiguousarray(user_items.indptr, dtype=np.int64),
                np.ascontiguousarray(user_items.indices, dtype=np.int32),
                None,
                (user_items.shape[0], item_factors.shape[0]),
            )
        blocked = _blocked(filter_items, item_factors.shape[0], "filter_items")
        result_ids, scores = self._top_n(query, item_factors, n, exclude, candidates, blocked)
        return (result_ids[0], scores[0]) if scalar else (result_ids, scores)

    def _top_n(
        self,
        query: Factors,
        targets: Factors,
        n: int,
        exclude: CSRMatrix | None,
        candidates: NDArray[np.int64] | None,
        blocked: NDArray[np.bool_] | None,
    ) -> tuple[NDArray[np.int32], NDArray[np.floating[Any]]]:
        if len(query) == 0:
            return np.zeros((0, n), np.int32), np.zeros((0, n), targets.dtype)
        result_ids, scores = select_top_n(
            np.ascontiguousarray(query, dtype=targets.dtype), None, targets, None, n,
            int(self.num_threads), exclude=exclude,
            candidates=None if candidates is None else candidates.astype(np.int32),
            blocked=blocked,
        )  # fmt: skip
        return _pad(result_ids, scores, n)

    def similar_items(
        self,
        itemid: Any,
        N: int = 10,  # noqa: N803
        recalculate_item: bool = False,
        item_users: Any = None,
        filter_items: ArrayLike | None = None,
        items: ArrayLike | None = None,
    ) -> tuple[NDArray[np.int32], NDArray[np.floating[Any]]]:
        """The ``N`` items most similar to ``itemid`` (one id or an array) by the cosine of
        their factors, the item itself included. ``recalculate_item`` computes the query
        factors from ``item_users`` (one row per id)."""
        _, item_factors = self._fitted()
        ids = _ids(itemid, "itemid")
        if recalculate_item:
            factor = np.atleast_2d(self.recalculate_item(ids, item_users))
        else:
            _check_range(ids, item_factors.shape[0], "itemid", "items in the model")
            factor = item_factors[ids]
        return self._similar(
            np.isscalar(itemid), factor, item_factors, self.item_norms, N,
            filter_items, "filter_items", items, "items",
        )  # fmt: skip

    def similar_users(
        self,
        userid: Any,
        N: int = 10,  # noqa: N803
        filter_users: ArrayLike | None = None,
        users: ArrayLike | None = None,
    ) -> tuple[NDArray[np.int32], NDArray[np.floating[Any]]]:
        """The ``N`` users most similar to ``userid`` (one id or an array) by cosine."""
        user_factors, _ = self._fitted()
        ids = _ids(userid, "userid")
        _check_range(ids, user_factors.shape[0], "userid", "users in the model")
        return self._similar(
            np.isscalar(userid), user_factors[ids], user_factors, self.user_norms, N,
            filter_users, "filter_users", users, "users",
        )  # fmt: skip

    def _similar(
        self,
        scalar: bool,
        query: Factors,
        factors: Factors,
        norms: NDArray[Any],
        N: int,  # noqa: N803
        filter_ids: ArrayLike | None,
        filter_name: str,
        subset: ArrayLike | None,
        subset_name: str,
    ) -> tuple[NDArray[np.int32], NDArray[np.floating[Any]]]:
        n = _count(N)
        candidates = None
        if subset is not None:
            if filter_ids is not None and len(np.atleast_1d(filter_ids)) > 0:
                raise ValueError(f"{subset_name} and {filter_name} cannot both be given")
            candidates = np.unique(_ids(subset, subset_name))
            _check_range(candidates, factors.shape[0], subset_name, f"{subset_name} in the model")
        unit = np.ascontiguousarray(factors / norms[:, None].astype(factors.dtype))
        blocked = _blocked(filter_ids, factors.shape[0], filter_name)
        result_ids, scores = self._top_n(query, unit, n, None, candidates, blocked)
        query_norms = np.linalg.norm(query, axis=1)
        query_norms[query_norms == 0] = 1e-10
        np.divide(scores, query_norms[:, None].astype(scores.dtype), out=scores,
                  where=result_ids >= 0)  # fmt: skip
        return (result_ids[0], scores[0]) if scalar else (result_ids, scores)

    def explain(
        self,
        userid: Any,
        user_items: Any,
        itemid: Any,
        user_weights: Any = None,
        N: int = 10,  # noqa: N803
    ) -> tuple[float, list[tuple[int, float]], Any]:
        """Why ``itemid`` scores as it does for ``userid`` (HKV 2008 §5).

        The score x_uᵀy_i = Σ_j c_uj·(y_iᵀ W_u y_j) over the user's liked items j, with
        W_u = (YᵀC_uY + λI)⁻¹ from row ``userid`` of ``user_items``. Returns the total, the
        ``N`` largest contributions as (itemid, score) and the Cholesky factorisation of
        W_u⁻¹ (pass it back as ``user_weights`` to explain other items for the same user).
        """
        _, item_factors = self._fitted()
        m = _check_csr(user_items, "user_items")
        uid = _scalar_id(userid, "userid", m.shape[0], "rows in user_items")
        iid = _scalar_id(itemid, "itemid", item_factors.shape[0], "items in the model")
        if m.shape[1] > item_factors.shape[0]:
            raise ValueError(
                f"user_items has {m.shape[1]} columns but the model has only "
                f"{item_factors.shape[0]} items"
            )
        n = _count(N)
        lo, hi = int(m.indptr[uid]), int(m.indptr[uid + 1])
        cols = np.asarray(m.indices[lo:hi], dtype=np.int64)
        c = np.asarray(m.data[lo:hi], dtype=np.float32) * np.float32(self.alpha)
        c = c.astype(self.dtype)
        if user_weights is None:
            q = item_factors[cols].astype(np.float64)
            v = np.abs(c).astype(np.float64) - 1
            system = (
                self.YtY.astype(np.float64)
                + float(self.regularization) * np.eye(item_factors.shape[1])
                + (q.T * v) @ q
            )
            user_weights = scipy.linalg.cho_factor(system)
        weighted = scipy.linalg.cho_solve(user_weights, item_factors[iid])
        total = 0.0
        top: list[tuple[float, int]] = []
        for col, confidence in zip(cols.tolist(), c.tolist(), strict=True):
            if confidence < 0:
                continue
            score = float(weighted @ item_factors[col]) * confidence
            total += score
            if len(top) < n:
                heapq.heappush(top, (score, col))
            else:
                heapq.heappushpop(top, (score, col))
        ranked = sorted(top, reverse=True)
        return total, [(col, score) for score, col in ranked], user_weights

    # ---- persistence ---------------------------------------------------------------------

    _SAVED = (
        "user_factors",
        "item_factors",
        "regularization",
        "factors",
        "num_threads",
        "iterations",
        "use_native",
        "use_cg",
        "cg_steps",
        "calculate_training_loss",
        "dtype",
        "random_state",
        "alpha",
    )

    def save(self, fileobj_or_path: str | os.PathLike[str] | IO[bytes]) -> None:
        """Write implicit's ``.npz`` model file (readable by ``implicit``'s ``load``)."""
        args: dict[str, Any] = {}
        for key in self._SAVED:
            value = getattr(self, key)
            if key == "dtype":
                value = self.dtype.name
            if key == "random_state" and not isinstance(value, int | np.integer):
                continue  # None or a generator: not storable without pickle (as in implicit)
            if value is not None:
                args[key] = value
        if not isinstance(fileobj_or_path, str | os.PathLike):
            np.savez(fileobj_or_path, **args)
            return
        path = os.fspath(fileobj_or_path)
        # As numpy names it, but written atomically (never a truncated file over a good one).
        with atomic_output(path if path.endswith(".npz") else path + ".npz") as out:
            np.savez(out, **args)

    @classmethod
    def load(cls, fileobj_or_path: str | os.PathLike[str] | IO[bytes]) -> AlternatingLeastSquares:
        """Read a model written by :meth:`save` or by implicit's ``save``."""
        if isinstance(fileobj_or_path, str | os.PathLike):
            path = os.fspath(fileobj_or_path)
            fileobj_or_path = path if path.endswith(".npz") else path + ".npz"
        model = cls.__new__(cls)
        cls.__init__(model)
        with np.load(fileobj_or_path, allow_pickle=False) as data:
            for key in data.files:
                if key not in cls._SAVED:
                    continue  # keys of other implicit models: not ours to set
                value = data[key]
                if key == "dtype":
                    value = np.dtype(str(value))
                elif key in ("user_factors", "item_factors"):
                    value = np.ascontiguousarray(value)
                elif value.shape == ():
                    value = value.item()
                setattr(model, key, value)
        model._check_params()
        if model.user_factors is not None and model.item_factors is not None:
            model._fitted()
        return model

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for key in ("_user_norms", "_item_norms", "_YtY", "_XtX"):
            state[key] = None  # caches: recomputed on demand
        return state


# ---- helpers -------------------------------------------------------------------------------


def _norms(factors: Factors) -> NDArray[Any]:
    norms: NDArray[Any] = np.linalg.norm(factors, axis=-1)
    norms[norms == 0] = 1e-10
    return norms


def _ids(values: Any, name: str) -> NDArray[np.int64]:
    """Integer ids as a 1-D int64 array (one id → one entry)."""
    array = np.atleast_1d(np.asarray(values))
    if array.ndim != 1:
        raise ValueError(f"{name} must be one id or a 1-D array of ids, got shape {array.shape}")
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer ids, got dtype {array.dtype}")
    return array.astype(np.int64)


def _check_range(ids: NDArray[np.int64], size: int, name: str, what: str) -> None:
    bad = (ids < 0) | (ids >= size)
    if bad.any():
        raise InvalidIdError(f"{name} {int(ids[bad][0])} is out of range: there are {size} {what}")


def _check_new_ids(ids: NDArray[np.int64], name: str) -> None:
    """Ids that may grow the model: non-negative and distinct."""
    if len(ids) and ids.min() < 0:
        raise InvalidIdError(f"{name} {int(ids.min())} is negative")
    if len(np.unique(ids)) != len(ids):
        raise ValueError(f"{name} must be distinct")


def _scalar_id(value: Any, name: str, size: int, what: str) -> int:
    if not np.isscalar(value) or isinstance(value, bool | str | float):
        raise TypeError(f"{name} must be one integer id, got {value!r}")
    ids = _ids(value, name)
    _check_range(ids, size, name, what)
    return int(ids[0])


def _count(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"N must be a positive integer, got {n!r}")
    return int(n)


def _blocked(ids: ArrayLike | None, size: int, name: str) -> NDArray[np.bool_] | None:
    if ids is None:
        return None
    array = _ids(ids, name)
    if len(array) == 0:
        return None
    _check_range(array, size, name, "ids in the model")
    mask = np.zeros(size, dtype=np.bool_)
    mask[array] = True
    return mask


def _pad(
    ids: NDArray[np.int32], scores: NDArray[np.floating[Any]], n: int
) -> tuple[NDArray[np.int32], NDArray[np.floating[Any]]]:
    """Fit the core's result to implicit's shape: exactly n columns; a slot with nothing left
    to rank holds id -1 and score -max (implicit's padding, utils._batch_call)."""
    rows = ids.shape[0]
    if ids.shape[1] < n:
        ids = np.concatenate([ids, np.full((rows, n - ids.shape[1]), -1, np.int32)], axis=1)
        scores = np.concatenate(
            [scores, np.zeros((rows, n - scores.shape[1]), scores.dtype)], axis=1
        )
    scores[ids < 0] = -np.finfo(scores.dtype).max
    return ids, scores
