"""Dense numpy references for the native ALS kernels (DESIGN.md §3), and test problems.

Everything here is deliberately plain float64 numpy — one row at a time, one formula per
function — so that a reader can check it against the design document by eye. The native
kernels are held to these functions by the tests in ``test_core_*.py``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
AnyFloat = npt.NDArray[np.floating]
AnyInt = npt.NDArray[np.integer]

# The native variants this build has (a wheel: both; a build from source: the best its
# machine runs, ALSKIT_ISA_VARIANTS=host); a variant the CPU cannot run is skipped.
VARIANTS = tuple(
    name for name in ("_core", "_core_avx2") if importlib.util.find_spec(f"alskit.{name}")
)
assert VARIANTS, "alskit has no native core"


def load_variant(name: str) -> ModuleType | None:
    """Imports the built variant ``alskit.<name>``; None when this CPU cannot run it. Any
    other import error (of the package itself, say) propagates rather than silently skipping
    every test."""
    try:
        return importlib.import_module(f"alskit.{name}")
    except ImportError:
        # the AVX2 core refuses to load on a CPU without AVX2+FMA (its module entry point)
        if name == "_core_avx2" and not importlib.import_module("alskit._core").cpu_supports_avx2():
            return None
        raise


def chunk_rows(k: int) -> int:
    """Entries the core gathers at once for embedding size k (gather.hpp)."""
    return max(64, 32768 // max(k, 1))


# --------------------------------------------------------------------------------------------
# The formulas
# --------------------------------------------------------------------------------------------


def gram(factors: AnyFloat, reg: float) -> F64:
    """G = YᵀY + reg·I."""
    y = np.asarray(factors, dtype=np.float64)
    return y.T @ y + reg * np.eye(y.shape[1])


def min_norm_solve(system: F64, rhs: F64) -> F64:
    """The minimum-norm least-squares solution of system·x = rhs (the core's fallback)."""
    return np.asarray(np.linalg.lstsq(system, rhs, rcond=None)[0], dtype=np.float64)


def solve_spd(system: F64, rhs: F64) -> F64:
    """Exact solve when the system is comfortably non-singular, else the min-norm solution."""
    if np.linalg.cond(system) < 1e10:
        return np.asarray(np.linalg.solve(system, rhs), dtype=np.float64)
    return min_norm_solve(system, rhs)


def explicit_row(right: AnyFloat, cols: AnyInt, ratings: AnyFloat, reg: float) -> F64:
    """(Q_Iᵀ Q_I + reg·n·I) p = Q_Iᵀ r for one row; an empty row gives 0."""
    k = right.shape[1]
    n = len(cols)
    if n == 0:
        return np.zeros(k)
    q = np.asarray(right, dtype=np.float64)[cols]
    r = np.asarray(ratings, dtype=np.float64)
    system = q.T @ q + reg * n * np.eye(k)
    return solve_spd(system, q.T @ r)


def explicit_row_min_norm(right: AnyFloat, cols: AnyInt, ratings: AnyFloat) -> F64:
    """reg = 0 with fewer observations than factors: the min-norm least-squares solution."""
    q = np.asarray(right, dtype=np.float64)[cols]
    return np.asarray(np.linalg.pinv(q) @ np.asarray(ratings, dtype=np.float64), dtype=np.float64)


def implicit_system(
    right: AnyFloat,
    cols: AnyInt,
    weights: AnyFloat,
    gram_matrix: AnyFloat,
    targets: AnyFloat | None = None,
) -> tuple[F64, F64]:
    """A = G + Σ v_i q_i q_iᵀ and b = Σ t_i q_i for one row (targets t default to 1 + v)."""
    q = np.asarray(right, dtype=np.float64)[cols]
    v = np.asarray(weights, dtype=np.float64)
    t = 1.0 + v if targets is None else np.asarray(targets, dtype=np.float64)
    system = np.asarray(gram_matrix, dtype=np.float64) + (q.T * v) @ q  # G + Σ v_i q_i q_iᵀ
    rhs = t @ q  # Σ t_i q_i
    return system, rhs


def implicit_row(
    right: AnyFloat,
    cols: AnyInt,
    weights: AnyFloat,
    gram_matrix: AnyFloat,
    targets: AnyFloat | None = None,
) -> F64:
    """The implicit (HKV) row solve; an empty row gives 0."""
    if len(cols) == 0:
        return np.zeros(right.shape[1])
    system, rhs = implicit_system(right, cols, weights, gram_matrix, targets)
    return solve_spd(system, rhs)


# --------------------------------------------------------------------------------------------
# Whole CSR matrices
# --------------------------------------------------------------------------------------------


@dataclass
class Csr:
    """A CSR matrix in the core's layout (indptr may start past 0 for a row-block view)."""

    indptr: AnyInt
    indices: npt.NDArray[np.int32]
    values: AnyFloat
    ncols: int

    @property
    def nrows(self) -> int:
        return len(self.indptr) - 1

    def row(self, r: int) -> tuple[npt.NDArray[np.int32], AnyFloat]:
        lo, hi = int(self.indptr[r]), int(self.indptr[r + 1])
        return self.indices[lo:hi], self.values[lo:hi]

    def row_lengths(self) -> AnyInt:
        return np.diff(self.indptr)


def explicit_half_epoch(csr: Csr, right: AnyFloat, reg: float) -> F64:
    """The new left factors (float64) of an explicit half-epoch."""
    out = np.zeros((csr.nrows, right.shape[1]))
    for u in range(csr.nrows):
        cols, vals = csr.row(u)
        out[u] = explicit_row(right, cols, vals, reg)
    return out


def implicit_half_epoch(
    csr: Csr, right: AnyFloat, gram_matrix: AnyFloat, targets: AnyFloat | None = None
) -> F64:
    """The new left factors (float64) of an implicit half-epoch solved exactly; ``targets``
    (aligned with ``csr.values``) are the right-hand-side weights, 1 + v by default."""
    out = np.zeros((csr.nrows, right.shape[1]))
    for u in range(csr.nrows):
        cols, vals = csr.row(u)
        lo, hi = int(csr.indptr[u]), int(csr.indptr[u + 1])
        t = None if targets is None else targets[lo:hi]
        out[u] = implicit_row(right, cols, vals, gram_matrix, t)
    return out


def _iterate_implicit_rows(
    csr: Csr,
    right: AnyFloat,
    gram_matrix: AnyFloat,
    start: AnyFloat,
    targets: AnyFloat | None,
    solve: Callable[[F64, F64, F64], None],
) -> F64:
    """Each non-empty row's dense implicit system (A, b) and its start x (float64), improved
    in place by ``solve(a, rhs, x)``; empty rows give 0."""
    out = np.zeros(start.shape)
    for u in range(csr.nrows):
        cols, vals = csr.row(u)
        if len(cols) == 0:
            continue
        lo, hi = int(csr.indptr[u]), int(csr.indptr[u + 1])
        t = None if targets is None else targets[lo:hi]
        a, rhs = implicit_system(right, cols, vals, gram_matrix, t)
        x = start[u].astype(np.float64)
        solve(a, rhs, x)
        out[u] = x
    return out


def implicit_cg_half_epoch(
    csr: Csr,
    right: AnyFloat,
    gram_matrix: AnyFloat,
    start: AnyFloat,
    steps: int,
    targets: AnyFloat | None = None,
) -> F64:
    """`steps` conjugate-gradient iterations per row on the dense implicit system, from
    `start` (float64; empty rows give 0), stopping early as the core does."""

    def solve(a: F64, rhs: F64, x: F64) -> None:
        r = rhs - a @ x
        d = r.copy()
        rs = r @ r
        for _ in range(steps):
            if rs <= 1e-20:
                break
            ad = a @ d
            step = rs / (d @ ad)
            x += step * d
            r -= step * ad
            rs_new = r @ r
            d = r + (rs_new / rs) * d
            rs = rs_new

    return _iterate_implicit_rows(csr, right, gram_matrix, start, targets, solve)


def implicit_subspace_half_epoch(
    csr: Csr,
    right: AnyFloat,
    gram_matrix: AnyFloat,
    start: AnyFloat,
    sweeps: int,
    block: int,
    targets: AnyFloat | None = None,
) -> F64:
    """`sweeps` passes of block coordinate descent (iALS++) per row on the dense implicit
    system A p = b, from `start` (float64; empty rows give 0): for each block S of `block`
    consecutive coordinates (the last one shorter), p_S += A_SS⁻¹ (b − A p)_S."""
    k = right.shape[1]

    def solve(a: F64, rhs: F64, x: F64) -> None:
        for _ in range(sweeps):
            for s0 in range(0, k, block):
                s = slice(s0, min(s0 + block, k))
                x[s] += np.linalg.solve(a[s, s], (rhs - a @ x)[s])

    return _iterate_implicit_rows(csr, right, gram_matrix, start, targets, solve)


def cg_resident_rows(k: int) -> int:
    """Entries of one row the iterative solvers (conjugate gradient, subspace) keep gathered
    (half_epoch.hpp: 64 chunks); the rest of a longer row is re-gathered at every step."""
    return 64 * chunk_rows(k)


def delta(new: AnyFloat, old: AnyFloat) -> float:
    """Σ_u ‖new_u − old_u‖², in float64."""
    d = np.asarray(new, dtype=np.float64) - np.asarray(old, dtype=np.float64)
    return float(np.sum(d * d))


def transpose(csr: Csr) -> tuple[AnyInt, npt.NDArray[np.int32], AnyFloat]:
    """The transpose with rows in increasing order inside each column (a stable sort)."""
    lo, hi = int(csr.indptr[0]), int(csr.indptr[-1])
    cols = csr.indices[lo:hi]
    rows = np.repeat(np.arange(csr.nrows, dtype=np.int32), np.diff(csr.indptr))
    order = np.argsort(cols, kind="stable")
    counts = np.bincount(cols, minlength=csr.ncols)
    indptr = np.zeros(csr.ncols + 1, dtype=csr.indptr.dtype)
    indptr[1:] = np.cumsum(counts)
    return indptr, rows[order].astype(np.int32), csr.values[lo:hi][order]


def relative_error(got: AnyFloat, want: AnyFloat) -> float:
    """max|got − want| / max|want| over the whole array (0 when both are all zero)."""
    g = np.asarray(got, dtype=np.float64)
    w = np.asarray(want, dtype=np.float64)
    scale = float(np.max(np.abs(w))) if w.size else 0.0
    err = float(np.max(np.abs(g - w))) if w.size else 0.0
    if scale == 0.0:
        return err
    return err / scale


# --------------------------------------------------------------------------------------------
# Random problems
# --------------------------------------------------------------------------------------------


def make_csr(
    rng: np.random.Generator,
    nrows: int,
    ncols: int,
    *,
    lengths: AnyInt | None = None,
    long_row: int = 0,
    indptr_dtype: npt.DTypeLike = np.int64,
    value_dtype: npt.DTypeLike = np.float64,
    values: str = "normal",
    offset: int = 0,
) -> Csr:
    """A random CSR with sorted, distinct column indices in every row.

    Unless ``lengths`` is given, rows 0, 3, 6, … are empty, rows 1, 4, … have a single entry and
    the rest have 2..min(ncols, 40) entries; ``long_row`` > 0 makes the last row that long
    (it must not exceed ncols). ``values`` is "normal" (ratings-like residuals) or "weights"
    (positive confidence weights in [0.5, 5]). ``offset`` padding entries are put before the
    first row, so ``indptr[0] == offset``, as for a row-block view of a larger matrix.
    """
    if lengths is None:
        lengths = np.empty(nrows, dtype=np.int64)
        for r in range(nrows):
            kind = r % 3
            if kind == 0:
                lengths[r] = 0
            elif kind == 1:
                lengths[r] = 1
            else:
                lengths[r] = rng.integers(2, min(ncols, 40) + 1)
        if long_row and nrows:
            lengths[-1] = long_row
    lengths = np.asarray(lengths, dtype=np.int64)
    if np.any(lengths > ncols):
        raise ValueError("a row is longer than the number of columns")
    indptr = np.zeros(nrows + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(lengths)
    indptr += offset
    parts: list[npt.NDArray[np.int64]] = [rng.integers(0, max(ncols, 1), size=offset)]
    for n in lengths:
        parts.append(np.sort(rng.choice(ncols, size=int(n), replace=False)))
    indices = np.concatenate(parts).astype(np.int32)
    if values == "normal":
        vals = rng.normal(0.0, 1.0, size=len(indices))
    elif values == "weights":
        vals = rng.uniform(0.5, 5.0, size=len(indices))
    else:
        raise ValueError(f"unknown values kind {values!r}")
    return Csr(
        indptr.astype(indptr_dtype),
        indices,
        vals.astype(value_dtype),
        ncols,
    )


def power_law_lengths(rng: np.random.Generator, nrows: int, ncols: int) -> AnyInt:
    """Skewed row lengths (Zipf-like), as in real rating data; some rows are empty."""
    raw = rng.pareto(1.2, size=nrows) * 3.0
    return np.minimum(raw.astype(np.int64), ncols)


def make_factors(
    rng: np.random.Generator, n: int, k: int, dtype: npt.DTypeLike = np.float64
) -> AnyFloat:
    """Factors of modest scale: rows of norm ≈ 1."""
    return rng.normal(0.0, 1.0 / np.sqrt(k), size=(n, k)).astype(dtype)


def top_n(
    scores: AnyFloat,
    n: int,
    exclude: AnyInt | None = None,
    candidates: AnyInt | None = None,
    blocked: AnyInt | None = None,
) -> AnyInt:
    """Item numbers of the top n of one user's scores (NaN never ranked), ties by lower item
    number; `exclude`, `blocked`: item numbers left out; `candidates`: the only ones ranked."""
    allowed = np.zeros(len(scores), dtype=bool)
    allowed[np.arange(len(scores)) if candidates is None else candidates] = True
    if exclude is not None:
        allowed[exclude] = False
    if blocked is not None:
        allowed[blocked] = False
    allowed &= ~np.isnan(scores)
    items = np.flatnonzero(allowed)
    order = np.lexsort((items, -scores[items]))
    return items[order][:n]


def run_isolated(code: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Runs `code` in a fresh interpreter: for inputs that may crash the process (a test that
    crashed pytest itself would hide every other result)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def dense_ratings(data: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ratings, observed mask) of a Dataset with ratings, dense users × items."""
    assert data.ratings is not None
    r = np.zeros((data.user_count, data.item_count))
    mask = np.zeros(r.shape, dtype=bool)
    r[data.user_nums, data.item_nums] = data.ratings
    mask[data.user_nums, data.item_nums] = True
    return r, mask
