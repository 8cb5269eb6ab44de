"""The native kernels against the dense numpy references of tests/reference.py."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pytest
import reference as ref

KS = (1, 2, 7, 16, 64)
DTYPES = (np.float32, np.float64)
PTR_DTYPES = (np.int32, np.int64)
REG = 0.1


def tolerance(dtype: type[np.floating]) -> float:
    return 1e-4 if dtype == np.float32 else 1e-9


@pytest.fixture(params=ref.VARIANTS, scope="module")
def core(request: pytest.FixtureRequest) -> ModuleType:
    module = ref.load_variant(request.param)
    if module is None:
        pytest.skip(f"alskit.{request.param} is not built or this CPU cannot run it")
    return module


k_param = pytest.mark.parametrize("k", KS)
dtype_param = pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
ptr_param = pytest.mark.parametrize("ptr", PTR_DTYPES, ids=["i32", "i64"])


@dataclass(frozen=True)
class Problem:
    csr: ref.Csr
    right: npt.NDArray[np.floating]
    left: npt.NDArray[np.floating]  # the starting factors; copy before a kernel call
    gram: npt.NDArray[np.floating]  # only for implicit problems
    want: npt.NDArray[np.float64]  # the reference solution of every row

    def with_ptr(self, ptr: type[np.integer]) -> ref.Csr:
        c = self.csr
        return ref.Csr(c.indptr.astype(ptr), c.indices, c.values, c.ncols)


def _long_row(k: int) -> int:
    # Longer than two chunks, so every k goes through the chunked gather (and CG re-gathers).
    return max(1100, 2 * ref.chunk_rows(k) + 37)


@functools.lru_cache(maxsize=None)
def explicit_problem(k: int, dtype: type[np.floating]) -> Problem:
    rng = np.random.default_rng(1000 + k)
    long = _long_row(k)
    ncols = long + 50
    csr = ref.make_csr(rng, 31, ncols, long_row=long, value_dtype=dtype)
    right = ref.make_factors(rng, ncols, k, dtype)
    left = ref.make_factors(rng, csr.nrows, k, dtype)
    want = ref.explicit_half_epoch(csr, right, REG)
    return Problem(csr, right, left, np.zeros((k, k), dtype), want)


@functools.lru_cache(maxsize=None)
def implicit_problem(k: int, dtype: type[np.floating]) -> Problem:
    rng = np.random.default_rng(2000 + k)
    long = _long_row(k)
    ncols = long + 50
    csr = ref.make_csr(rng, 31, ncols, long_row=long, value_dtype=dtype, values="weights")
    right = ref.make_factors(rng, ncols, k, dtype)
    left = ref.make_factors(rng, csr.nrows, k, dtype)
    # Any symmetric positive definite G is a valid input; one built from a subset of the items
    # keeps the per-row rank updates significant next to it.
    g = ref.gram(right[:200], REG)
    gram = ((g + g.T) / 2).astype(dtype)
    want = ref.implicit_half_epoch(csr, right, gram)
    return Problem(csr, right, left, gram, want)


def check_delta(got: float, new: np.ndarray, old: np.ndarray, want_new: np.ndarray) -> None:
    """The returned delta is Σ‖new − old‖² of what was written, and of the reference."""
    assert isinstance(got, float)
    single = new.dtype == np.float32
    assert got == pytest.approx(ref.delta(new, old), rel=1e-5 if single else 1e-12)
    assert got == pytest.approx(ref.delta(want_new, old), rel=1e-3 if single else 1e-8)


# --------------------------------------------------------------------------------------------
# Module facts
# --------------------------------------------------------------------------------------------


def test_module_facts(core: ModuleType) -> None:
    expected_isa = "avx2" if core.__name__.endswith("_avx2") else "baseline"
    assert core.isa() == expected_isa
    assert isinstance(core.openmp_enabled(), bool)
    assert isinstance(core.cpu_supports_avx2(), bool)
    threads = core.max_threads()
    assert isinstance(threads, int) and threads >= 1
    if not core.openmp_enabled():
        assert threads == 1
    assert issubclass(core.NumericalError, FloatingPointError)


def test_native_selects_a_variant() -> None:
    from alskit._native import core as best

    assert best.__name__ in ("alskit._core", "alskit._core_avx2")
    if best.isa() == "avx2":
        assert best.cpu_supports_avx2()


# --------------------------------------------------------------------------------------------
# Explicit
# --------------------------------------------------------------------------------------------


@k_param
@dtype_param
@ptr_param
def test_explicit_half_epoch(
    core: ModuleType, k: int, dtype: type[np.floating], ptr: type[np.integer]
) -> None:
    p = explicit_problem(k, dtype)
    csr = p.with_ptr(ptr)
    left = p.left.copy()
    got = core.explicit_half_epoch(csr.indptr, csr.indices, csr.values, left, p.right, REG)
    assert left.dtype == dtype
    assert ref.relative_error(left, p.want) <= tolerance(dtype)
    empty = csr.row_lengths() == 0
    assert empty.any() and np.all(left[empty] == 0)
    assert np.all(left[~empty] != 0)
    check_delta(got, left, p.left, p.want)


@k_param
@dtype_param
@ptr_param
def test_explicit_is_a_fixed_point(
    core: ModuleType, k: int, dtype: type[np.floating], ptr: type[np.integer]
) -> None:
    """A second half-epoch from the solution changes nothing (the left side is not an input)."""
    p = explicit_problem(k, dtype)
    csr = p.with_ptr(ptr)
    left = p.left.copy()
    core.explicit_half_epoch(csr.indptr, csr.indices, csr.values, left, p.right, REG)
    first = left.copy()
    again = core.explicit_half_epoch(csr.indptr, csr.indices, csr.values, left, p.right, REG)
    assert np.array_equal(left, first)
    assert again == 0.0


@k_param
@dtype_param
@ptr_param
def test_fold_in_explicit(
    core: ModuleType, k: int, dtype: type[np.floating], ptr: type[np.integer]
) -> None:
    p = explicit_problem(k, dtype)
    csr = p.with_ptr(ptr)
    out = core.fold_in_explicit(csr.indptr, csr.indices, csr.values, p.right, REG)
    assert out.dtype == dtype and out.shape == (csr.nrows, k)
    assert out.flags.c_contiguous and out.flags.writeable
    assert ref.relative_error(out, p.want) <= tolerance(dtype)
    assert np.all(out[csr.row_lengths() == 0] == 0)
    # Exactly a half-epoch from a zero start.
    zero = np.zeros_like(p.left)
    core.explicit_half_epoch(csr.indptr, csr.indices, csr.values, zero, p.right, REG)
    assert np.array_equal(out, zero)


# --------------------------------------------------------------------------------------------
# Implicit
# --------------------------------------------------------------------------------------------


@k_param
@dtype_param
@ptr_param
def test_implicit_cholesky(
    core: ModuleType, k: int, dtype: type[np.floating], ptr: type[np.integer]
) -> None:
    p = implicit_problem(k, dtype)
    csr = p.with_ptr(ptr)
    left = p.left.copy()
    got = core.implicit_half_epoch(
        csr.indptr, csr.indices, csr.values, left, p.right, p.gram, solver="cholesky"
    )
    assert ref.relative_error(left, p.want) <= tolerance(dtype)
    empty = csr.row_lengths() == 0
    assert empty.any() and np.all(left[empty] == 0)
    check_delta(got, left, p.left, p.want)
    # Cholesky is the default solver.
    default = p.left.copy()
    core.implicit_half_epoch(csr.indptr, csr.indices, csr.values, default, p.right, p.gram)
    assert np.array_equal(default, left)


@k_param
@dtype_param
@ptr_param
def test_fold_in_implicit(
    core: ModuleType, k: int, dtype: type[np.floating], ptr: type[np.integer]
) -> None:
    p = implicit_problem(k, dtype)
    csr = p.with_ptr(ptr)
    out = core.fold_in_implicit(csr.indptr, csr.indices, csr.values, p.right, p.gram)
    assert out.dtype == dtype and out.shape == (csr.nrows, k)
    assert ref.relative_error(out, p.want) <= tolerance(dtype)
    assert np.all(out[csr.row_lengths() == 0] == 0)
    zero = np.zeros_like(p.left)
    core.implicit_half_epoch(csr.indptr, csr.indices, csr.values, zero, p.right, p.gram)
    assert np.array_equal(out, zero)


@k_param
@dtype_param
@ptr_param
def test_cg_approaches_cholesky(
    core: ModuleType, k: int, dtype: type[np.floating], ptr: type[np.integer]
) -> None:
    p = implicit_problem(k, dtype)
    csr = p.with_ptr(ptr)
    nonempty = csr.row_lengths() > 0
    start_error = ref.relative_error(p.left[nonempty], p.want[nonempty])
    steps = sorted({1, 2, 3, 5, k})
    errors = []
    for s in steps:
        left = p.left.copy()
        got = core.implicit_half_epoch(
            csr.indptr, csr.indices, csr.values, left, p.right, p.gram, solver="cg", cg_steps=s
        )
        check_delta(got, left, p.left, left)
        assert np.all(left[~nonempty] == 0)
        errors.append(ref.relative_error(left[nonempty], p.want[nonempty]))
    # CG's error decreases monotonically (in exact arithmetic, in the 2-norm too).
    slack = 1e-6 if dtype == np.float32 else 1e-12
    assert errors[0] < start_error
    for before, after in zip(errors, errors[1:], strict=False):
        assert after <= before + slack, errors
    # k steps solve a k-dimensional system (up to rounding).
    assert errors[-1] <= 1e-3, errors
    if k >= 7:
        assert errors[0] > 10 * errors[-1], errors  # the steps do matter
    # Warm start: from the exact solution, CG stays there.
    exact = p.want.astype(dtype)
    moved = core.implicit_half_epoch(
        csr.indptr, csr.indices, csr.values, exact.copy(), p.right, p.gram, solver="cg"
    )
    assert moved <= (1e-6 if dtype == np.float32 else 1e-18) * ref.delta(exact, 0 * exact)


@k_param
@dtype_param
@ptr_param
def test_implicit_negative_weights(
    core: ModuleType, k: int, dtype: type[np.floating], ptr: type[np.integer]
) -> None:
    """Negative weights subtract their rank-one update (the system stays positive definite)."""
    rng = np.random.default_rng(3000 + k)
    ncols = 300
    csr = ref.make_csr(rng, 30, ncols, indptr_dtype=ptr, value_dtype=dtype, values="weights")
    flip = rng.random(len(csr.values)) < 0.4
    flip[csr.indptr[:-1][csr.row_lengths() > 0]] = False  # keep a positive weight in each row
    csr.values[flip] = -rng.uniform(0.05, 0.3, size=int(flip.sum())).astype(dtype)
    right = ref.make_factors(rng, ncols, k, dtype)
    g = ref.gram(right, REG)
    gram = ((g + g.T) / 2).astype(dtype)
    for r in range(csr.nrows):  # the test needs SPD systems, and mixed signs somewhere
        cols, vals = csr.row(r)
        if len(cols):
            assert np.linalg.eigvalsh(ref.implicit_system(right, cols, vals, gram)[0])[0] > 0
    assert np.any(csr.values < 0)
    want = ref.implicit_half_epoch(csr, right, gram)
    # Reference sanity: dropping the negative weights changes the answer.
    dropped = ref.Csr(csr.indptr, csr.indices, np.maximum(csr.values, 0), ncols)
    assert ref.relative_error(ref.implicit_half_epoch(dropped, right, gram), want) > 1e-3

    left = np.zeros((csr.nrows, k), dtype)
    core.implicit_half_epoch(csr.indptr, csr.indices, csr.values, left, right, gram)
    assert ref.relative_error(left, want) <= tolerance(dtype)
    cg = np.zeros((csr.nrows, k), dtype)
    core.implicit_half_epoch(
        csr.indptr, csr.indices, csr.values, cg, right, gram, solver="cg", cg_steps=k + 5
    )
    assert ref.relative_error(cg, want) <= 1e-3


@pytest.mark.parametrize("k", [2, 7, 16])
@dtype_param
def test_implicit_indefinite_system_is_still_solved(
    core: ModuleType, k: int, dtype: type[np.floating]
) -> None:
    """A large negative weight makes the row system indefinite: Cholesky fails, the robust
    fallback must still return the exact solution of the (non-singular) system."""
    rng = np.random.default_rng(3500 + k)
    ncols = 50
    right = ref.make_factors(rng, ncols, k, dtype)
    gram = np.eye(k, dtype=dtype) * dtype(0.5)
    cols = np.array([3, 10, 20], dtype=np.int32)
    weights = np.array([2.0, -3.0, 1.0], dtype=dtype)
    system, _ = ref.implicit_system(right, cols, weights, gram)
    eig = np.linalg.eigvalsh(system)
    assert eig[0] < -0.1 and np.min(np.abs(eig)) > 0.1  # indefinite, well away from singular
    want = ref.implicit_row(right, cols, weights, gram)
    indptr = np.array([0, 3], dtype=np.int64)
    out = core.fold_in_implicit(indptr, cols, weights, right, gram)
    assert ref.relative_error(out[0], want) <= tolerance(dtype)


# --------------------------------------------------------------------------------------------
# Gram
# --------------------------------------------------------------------------------------------


@k_param
@dtype_param
def test_gram(core: ModuleType, k: int, dtype: type[np.floating]) -> None:
    rng = np.random.default_rng(4000 + k)
    factors = ref.make_factors(rng, 9000, k, dtype)  # three 4096-row blocks
    g = core.gram(factors, 0.25)
    assert g.dtype == dtype and g.shape == (k, k) and g.flags.c_contiguous
    assert ref.relative_error(g, ref.gram(factors, 0.25)) <= tolerance(dtype)
    assert np.array_equal(g, g.T)
    assert np.array_equal(core.gram(factors, 0.0) + dtype(0.25) * np.eye(k, dtype=dtype), g)
    # Few rows, and none: the Gram of nothing is reg·I.
    small = factors[:3].copy()
    assert ref.relative_error(core.gram(small, 1.5), ref.gram(small, 1.5)) <= tolerance(dtype)
    empty = np.zeros((0, k), dtype)
    assert np.array_equal(core.gram(empty, 2.0), 2.0 * np.eye(k, dtype=dtype))


# --------------------------------------------------------------------------------------------
# Row-block views
# --------------------------------------------------------------------------------------------


@k_param
@dtype_param
@ptr_param
@pytest.mark.parametrize("kind", ["explicit", "cholesky", "cg"])
def test_row_block_view(
    core: ModuleType, k: int, dtype: type[np.floating], ptr: type[np.integer], kind: str
) -> None:
    """indptr[a:b+1] over the unchanged indices/values updates exactly rows a..b-1."""
    p = explicit_problem(k, dtype) if kind == "explicit" else implicit_problem(k, dtype)
    csr = p.with_ptr(ptr)

    def run(indptr: np.ndarray, left: np.ndarray) -> float:
        if kind == "explicit":
            return float(
                core.explicit_half_epoch(indptr, csr.indices, csr.values, left, p.right, REG)
            )
        return float(
            core.implicit_half_epoch(
                indptr, csr.indices, csr.values, left, p.right, p.gram, solver=kind
            )
        )

    full = p.left.copy()
    run(csr.indptr, full)
    for a, b in [(4, 17), (0, 1), (csr.nrows - 3, csr.nrows), (10, 10)]:
        left = p.left.copy()
        view = csr.indptr[a : b + 1]
        assert view.flags.c_contiguous
        got = run(view, left[a:b])
        assert np.array_equal(left[a:b], full[a:b])
        assert np.array_equal(left[:a], p.left[:a])
        assert np.array_equal(left[b:], p.left[b:])
        assert got == pytest.approx(ref.delta(full[a:b], p.left[a:b]), rel=1e-12, abs=0)


# --------------------------------------------------------------------------------------------
# reg = 0: the minimum-norm fallback
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [k for k in KS if k > 1])
@dtype_param
@ptr_param
def test_reg_zero_underdetermined_is_min_norm(
    core: ModuleType, k: int, dtype: type[np.floating], ptr: type[np.integer]
) -> None:
    """reg = 0 and fewer observations than factors: a singular system; the answer is the
    minimum-norm least-squares solution, pinv(Q_I)·r."""
    rng = np.random.default_rng(5000 + k)
    ncols = 200
    lengths = rng.integers(1, k, size=12)  # 1 ≤ n < k
    lengths[0] = 0
    csr = ref.make_csr(
        rng, 12, ncols, lengths=lengths, indptr_dtype=ptr, value_dtype=dtype
    )
    right = ref.make_factors(rng, ncols, k, dtype)
    want = np.zeros((csr.nrows, k))
    for u in range(csr.nrows):
        cols, vals = csr.row(u)
        if len(cols):
            want[u] = ref.explicit_row_min_norm(right, cols, vals)
            # A minimum-norm solution lies in the row space of Q_I and fits r exactly.
            q = right[cols].astype(np.float64)
            assert np.allclose(q @ want[u], vals, atol=1e-9 * max(1.0, float(np.abs(vals).max())))
    tol = 1e-3 if dtype == np.float32 else 1e-9
    out = core.fold_in_explicit(csr.indptr, csr.indices, csr.values, right, 0.0)
    assert np.all(np.isfinite(out))
    assert ref.relative_error(out, want) <= tol
    left = ref.make_factors(rng, csr.nrows, k, dtype)
    core.explicit_half_epoch(csr.indptr, csr.indices, csr.values, left, right, 0.0)
    assert np.array_equal(left, out)


@dtype_param
def test_reg_zero_overdetermined_is_least_squares(core: ModuleType, dtype: type[np.floating]) -> None:
    """reg = 0 with more observations than factors: the ordinary least-squares fit."""
    rng = np.random.default_rng(5500)
    k, n = 7, 40
    right = ref.make_factors(rng, n, k, dtype)
    cols = np.arange(n, dtype=np.int32)
    vals = rng.normal(size=n).astype(dtype)
    out = core.fold_in_explicit(np.array([0, n], np.int32), cols, vals, right, 0.0)
    want = np.linalg.lstsq(right.astype(np.float64), vals.astype(np.float64), rcond=None)[0]
    assert ref.relative_error(out[0], want) <= tolerance(dtype) * 10


# --------------------------------------------------------------------------------------------
# Transpose and validation
# --------------------------------------------------------------------------------------------


@dtype_param
@ptr_param
@pytest.mark.parametrize("offset", [0, 5])
@pytest.mark.parametrize("with_values", [True, False], ids=["values", "structure"])
def test_transpose(
    core: ModuleType,
    dtype: type[np.floating],
    ptr: type[np.integer],
    offset: int,
    with_values: bool,
) -> None:
    rng = np.random.default_rng(6000 + offset)
    csr = ref.make_csr(
        rng, 9000, 60, offset=offset, indptr_dtype=ptr, value_dtype=dtype
    )  # > 8192 rows: several row blocks
    # Trailing entries past indptr[-1] must be ignored too.
    indices = np.concatenate([csr.indices, np.array([7, 7], np.int32)])
    values = np.concatenate([csr.values, np.array([1, 2], dtype)])
    want_ptr, want_idx, want_val = ref.transpose(csr)
    tp, ti, tv = core.transpose_csr(
        csr.indptr, indices, values if with_values else None, csr.ncols, threads=2
    )
    assert tp.dtype == ptr and ti.dtype == np.int32
    assert np.array_equal(tp, want_ptr)
    assert np.array_equal(ti, want_idx)
    if with_values:
        assert tv.dtype == dtype
        assert np.array_equal(tv, want_val)
    else:
        assert tv is None
    if not with_values:
        return
    # Round trip: rows have sorted distinct columns, so the transpose of the transpose is the
    # original (re-based at 0).
    bp, bi, bv = core.transpose_csr(tp, ti, tv, csr.nrows)
    lo, hi = int(csr.indptr[0]), int(csr.indptr[-1])
    assert np.array_equal(bp, csr.indptr - csr.indptr[0])
    assert np.array_equal(bi, csr.indices[lo:hi])
    assert np.array_equal(bv, csr.values[lo:hi])


@ptr_param
def test_transpose_unsorted_and_duplicates(core: ModuleType, ptr: type[np.integer]) -> None:
    indptr = np.array([0, 3, 3, 6], dtype=ptr)
    indices = np.array([2, 0, 2, 1, 1, 0], dtype=np.int32)
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    tp, ti, tv = core.transpose_csr(indptr, indices, values, 4)
    assert tp.tolist() == [0, 2, 4, 6, 6]
    assert ti.tolist() == [0, 2, 2, 2, 0, 0]
    assert tv.tolist() == [2.0, 6.0, 4.0, 5.0, 1.0, 3.0]
    want = ref.transpose(ref.Csr(indptr, indices, values, 4))
    assert all(np.array_equal(g, w) for g, w in zip((tp, ti, tv), want, strict=True))


def test_transpose_empty(core: ModuleType) -> None:
    tp, ti, tv = core.transpose_csr(
        np.array([3], np.int64), np.array([1, 2, 0], np.int32), np.ones(3), 4
    )
    assert tp.tolist() == [0, 0, 0, 0, 0] and ti.size == 0 and tv.size == 0
    tp, ti, tv = core.transpose_csr(np.array([0, 0], np.int32), np.zeros(0, np.int32), None, 0)
    assert tp.tolist() == [0] and ti.size == 0 and tv is None


@dtype_param
@ptr_param
def test_validate_accepts_good_csr(
    core: ModuleType, dtype: type[np.floating], ptr: type[np.integer]
) -> None:
    rng = np.random.default_rng(7000)
    csr = ref.make_csr(rng, 50, 30, offset=3, indptr_dtype=ptr, value_dtype=dtype)
    assert core.validate_csr(csr.indptr, csr.indices, csr.values, csr.ncols) is None
    assert core.validate_csr(csr.indptr, csr.indices, None, csr.ncols) is None
    # Entries outside [indptr[0], indptr[-1]) are not part of the matrix and are not checked.
    indices = csr.indices.copy()
    indices[0] = -1
    values = csr.values.copy()
    values[0] = np.nan
    core.validate_csr(csr.indptr, indices, values, csr.ncols)
