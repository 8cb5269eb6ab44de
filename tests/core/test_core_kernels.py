"""The native kernels against the dense numpy references of tests/reference.py."""

from __future__ import annotations

import ast
import functools
import importlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pytest

import alskit
import reference as ref

# Up to 512 the k × k systems are solved a SIMD vector of rows at a time (interleaved, in
# tiles of 4 columns × 3 rows: 130 and 257 leave remainders of both); 520 goes one by one.
KS = (1, 2, 7, 16, 64, 128, 130, 257, 520)
DTYPES = (np.float32, np.float64)
PTR_DTYPES = (np.int32, np.int64)
REG = 0.1


def tolerance(dtype: type[np.floating]) -> float:
    return 1e-4 if dtype == np.float32 else 1e-9


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


def frozen(p: Problem) -> Problem:
    """Cached problems are shared by many tests: make every array read-only."""
    for a in (p.csr.indptr, p.csr.indices, p.csr.values, p.right, p.left, p.gram, p.want):
        a.setflags(write=False)
    return p


def _long_row(k: int) -> int:
    # Longer than two chunks, so every k goes through the chunked gather (and CG re-gathers).
    return max(1100, 2 * ref.chunk_rows(k) + 37)


def explicit_problem(k: int, dtype: type[np.floating]) -> Problem:
    return _explicit_problem(k, np.dtype(dtype).name)


@functools.cache
def _explicit_problem(k: int, dtype_name: str) -> Problem:
    dtype = np.dtype(dtype_name).type
    rng = np.random.default_rng(1000 + k)
    long = _long_row(k)
    ncols = long + 50
    csr = ref.make_csr(rng, 31, ncols, long_row=long, value_dtype=dtype)
    right = ref.make_factors(rng, ncols, k, dtype)
    left = ref.make_factors(rng, csr.nrows, k, dtype)
    want = ref.explicit_half_epoch(csr, right, REG)
    return frozen(Problem(csr, right, left, np.zeros((k, k), dtype), want))


def implicit_problem(k: int, dtype: type[np.floating]) -> Problem:
    return _implicit_problem(k, np.dtype(dtype).name)


@functools.cache
def _implicit_problem(k: int, dtype_name: str) -> Problem:
    dtype = np.dtype(dtype_name).type
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
    return frozen(Problem(csr, right, left, gram, want))


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


def _cpu_runs_avx2() -> bool:
    if "_core" in ref.VARIANTS:
        return bool(importlib.import_module("alskit._core").cpu_supports_avx2())
    return True  # an AVX2-only build imported here: the CPU runs it


@pytest.mark.parametrize("wanted", ["auto", "baseline", "avx2", "sse9"])
def test_isa_selection(wanted: str) -> None:
    """ALSKIT_ISA picks among the variants this build has; a variant it lacks, or that the CPU
    cannot run, is a clear error, never another variant."""
    result = subprocess.run(
        [sys.executable, "-c", "import alskit; print(alskit.native_isa())"],
        env={**os.environ, "ALSKIT_ISA": wanted},
        capture_output=True,
        text=True,
    )
    avx2 = "_core_avx2" in ref.VARIANTS and _cpu_runs_avx2()
    baseline = "_core" in ref.VARIANTS
    expected = {
        "auto": "avx2" if avx2 else "baseline",
        "baseline": "baseline" if baseline else None,
        "avx2": "avx2" if avx2 else None,
        "sse9": None,
    }[wanted]
    if expected is None:
        assert result.returncode != 0
        assert "ALSKIT_ISA" in result.stderr, result.stderr
        if wanted == "baseline":  # the AVX2-only build of ALSKIT_ISA_VARIANTS=host
            assert "ALSKIT_ISA_VARIANTS=all" in result.stderr, result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected


@pytest.mark.parametrize("name", ref.VARIANTS)
def test_variant_submodule_is_not_shadowed(name: str) -> None:
    """alskit/__init__.py once did `from ._native import core as _core`, rebinding the package
    attribute so that `import alskit._core as m` gave the AVX2 build."""
    module = importlib.import_module(f"alskit.{name}")
    assert getattr(alskit, name) is module
    if ref.load_variant(name) is not None:
        assert module.isa() == ("avx2" if name == "_core_avx2" else "baseline")


STUBS = Path(alskit.__file__).parent  # the stubs ship with the package (source or wheel)


def _parameters(fn: ast.FunctionDef) -> tuple[list[str], list[str], dict[str, object]]:
    a = fn.args
    params = a.posonlyargs + a.args
    positional = [p.arg for p in params]
    with_default = params[len(params) - len(a.defaults) :]
    defaults = {p.arg: ast.literal_eval(d) for p, d in zip(with_default, a.defaults, strict=True)}
    defaults |= {
        p.arg: ast.literal_eval(d)
        for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
        if d is not None
    }
    return positional, [p.arg for p in a.kwonlyargs], defaults


def test_stub_matches_runtime_signatures(core: ModuleType) -> None:
    """stubtest cannot see pybind11 signatures; compare the stub with the docstring ones."""
    # Every variant shares the one stub of the portable module (the AVX2 stub re-exports it).
    stub = STUBS / "_core.pyi"
    assert "from ._core import *" in (STUBS / "_core_avx2.pyi").read_text()
    tree = ast.parse(stub.read_text())
    stub_functions: dict[str, list[ast.FunctionDef]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            stub_functions.setdefault(node.name, []).append(node)
    stub_classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    runtime = {n for n in dir(core) if not n.startswith("_")}
    assert runtime == set(stub_functions) | stub_classes
    for fname, overloads in stub_functions.items():
        signature = getattr(core, fname).__doc__.splitlines()[0]
        (want,) = ast.parse(f"def {signature}: ...").body
        assert isinstance(want, ast.FunctionDef)
        for got in overloads:
            assert _parameters(got) == _parameters(want), fname
        returns = ast.unparse(want.returns) if want.returns else ""
        if returns in ("None", "bool", "int", "float"):
            assert all(ast.unparse(g.returns or ast.Constant(None)) == returns for g in overloads)


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
    core.explicit_half_epoch(csr.indptr, csr.indices, csr.values, left, p.right, REG, threads=1)
    first = left.copy()
    again = core.explicit_half_epoch(
        csr.indptr, csr.indices, csr.values, left, p.right, REG, threads=1
    )
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
    out = core.fold_in_explicit(csr.indptr, csr.indices, csr.values, p.right, REG, threads=1)
    assert out.dtype == dtype and out.shape == (csr.nrows, k)
    assert out.flags.c_contiguous and out.flags.writeable
    assert ref.relative_error(out, p.want) <= tolerance(dtype)
    assert np.all(out[csr.row_lengths() == 0] == 0)
    # Exactly a half-epoch from a zero start.
    zero = np.zeros_like(p.left)
    core.explicit_half_epoch(csr.indptr, csr.indices, csr.values, zero, p.right, REG, threads=1)
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
    core.implicit_half_epoch(
        csr.indptr, csr.indices, csr.values, default, p.right, p.gram, threads=1
    )
    assert np.array_equal(default, left)


@pytest.mark.parametrize("k", [64, 256, 384])
@dtype_param
def test_explicit_every_length_across_the_dual_limit(
    core: ModuleType, k: int, dtype: type[np.floating]
) -> None:
    """Every row length from 0 to past k/2 and past a gather chunk (the dual's limits; at
    k = 384 the chunk, 85 rows, is the lower), so rows on both sides of each go through the
    dual and the batched primal; all equal to the dense solve, for 1 and 2 threads bit for
    bit."""
    rng = np.random.default_rng(6100 + k)
    lengths = np.arange(0, max(k // 2, ref.chunk_rows(k)) + 3)
    ncols = int(lengths.max()) + 40
    csr = ref.make_csr(rng, len(lengths), ncols, lengths=lengths, value_dtype=dtype)
    right = ref.make_factors(rng, ncols, k, dtype)
    want = ref.explicit_half_epoch(csr, right, REG)
    outs = []
    for threads in (1, 2):
        left = ref.make_factors(rng, csr.nrows, k, dtype)
        core.explicit_half_epoch(
            csr.indptr, csr.indices, csr.values, left, right, REG, threads=threads
        )
        outs.append(left)
    assert ref.relative_error(outs[0], want) <= tolerance(dtype)
    assert np.array_equal(outs[0], outs[1])


@pytest.mark.parametrize("k", [8, 64, 129, 256, 384])
@dtype_param
@pytest.mark.parametrize("with_targets", [False, True], ids=["b=1+v", "targets"])
def test_implicit_short_rows_solved_by_their_dual(
    core: ModuleType, k: int, dtype: type[np.floating], with_targets: bool
) -> None:
    """Short rows go through the n × n dual (Woodbury on the whitened fixed rows): every length
    up to past the longest dual row (k/2 up to k = 512, then k, and never more than a gather
    chunk: 85 rows at k = 384), zero weights, and a row with a negative weight (solved as
    primal), all equal to the dense solve;
    a row's bits depend neither on the thread count nor on which other rows and fixed rows are
    in the call (Dask's routed blocks)."""
    rng = np.random.default_rng(4100 + k)
    ncols = 3 * k + 40
    lengths = np.arange(0, min(k, 131) + 3)
    csr = ref.make_csr(
        rng, len(lengths), ncols, lengths=lengths, value_dtype=dtype, values="weights"
    )
    csr.values[rng.random(len(csr.values)) < 0.2] = 0  # zero weights: √v = 0 in the dual
    negative = int(np.flatnonzero(lengths == 3)[0])
    csr.values[csr.indptr[negative]] = dtype(-0.2)
    right = ref.make_factors(rng, ncols, k, dtype)
    g = ref.gram(right[: 2 * k], REG)
    gram = ((g + g.T) / 2).astype(dtype)
    targets = rng.uniform(0.5, 3, len(csr.values)).astype(dtype) if with_targets else None
    want = ref.implicit_half_epoch(csr, right, gram, targets)

    def solve(c: ref.Csr, fixed: np.ndarray, t: np.ndarray | None, threads: int) -> np.ndarray:
        out = np.zeros((c.nrows, k), dtype)
        core.implicit_half_epoch(
            c.indptr, c.indices, c.values, out, fixed, gram, targets=t, threads=threads
        )
        return out

    got = solve(csr, right, targets, 1)
    for r in range(1, csr.nrows):
        err = np.linalg.norm(got[r] - want[r]) / np.linalg.norm(want[r])
        assert err <= 10 * tolerance(dtype), (r, lengths[r], err)
    for threads in (2, 3):
        assert np.array_equal(solve(csr, right, targets, threads), got), threads
    # One short row alone, with only the fixed rows it references (renumbered): same bits.
    r = int(lengths[-1] // 3)
    lo, hi = int(csr.indptr[r]), int(csr.indptr[r + 1])
    alone = ref.Csr(
        np.array([0, hi - lo], np.int64),
        np.arange(hi - lo, dtype=np.int32),
        csr.values[lo:hi],
        hi - lo,
    )
    t = None if targets is None else targets[lo:hi]
    fixed = np.ascontiguousarray(right[csr.indices[lo:hi]])
    assert np.array_equal(solve(alone, fixed, t, 1)[0], got[r])


@k_param
@dtype_param
@ptr_param
def test_fold_in_implicit(
    core: ModuleType, k: int, dtype: type[np.floating], ptr: type[np.integer]
) -> None:
    p = implicit_problem(k, dtype)
    csr = p.with_ptr(ptr)
    out = core.fold_in_implicit(csr.indptr, csr.indices, csr.values, p.right, p.gram, threads=1)
    assert out.dtype == dtype and out.shape == (csr.nrows, k)
    assert ref.relative_error(out, p.want) <= tolerance(dtype)
    assert np.all(out[csr.row_lengths() == 0] == 0)
    zero = np.zeros_like(p.left)
    core.implicit_half_epoch(csr.indptr, csr.indices, csr.values, zero, p.right, p.gram, threads=1)
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
    scale = float(np.max(np.linalg.norm(p.want, axis=1)))

    def error(x: np.ndarray) -> float:
        """max_u ‖x_u − p_u‖₂ / max_u ‖p_u‖₂ over the non-empty rows: each row's 2-norm error
        decreases monotonically in CG (Hestenes & Stiefel), so this maximum does too."""
        diff = x[nonempty].astype(np.float64) - p.want[nonempty]
        return float(np.max(np.linalg.norm(diff, axis=1))) / scale

    start_error = error(p.left)
    steps = sorted({1, 2, 3, 5, k})
    errors = []
    for s in steps:
        left = p.left.copy()
        got = core.implicit_half_epoch(
            csr.indptr,
            csr.indices,
            csr.values,
            left,
            p.right,
            p.gram,
            solver="cg",
            cg_steps=s,
            threads=1,
        )
        check_delta(got, left, p.left, left)
        assert np.all(left[~nonempty] == 0)
        errors.append(error(left))
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
        csr.indptr, csr.indices, csr.values, exact.copy(), p.right, p.gram, solver="cg", threads=1
    )
    assert moved <= (1e-6 if dtype == np.float32 else 1e-18) * ref.delta(exact, 0 * exact)


@pytest.mark.parametrize("k", [5, 64, 129])
@dtype_param
@pytest.mark.parametrize("targets", [False, True], ids=["b=1+v", "targets"])
def test_cg_equals_the_reference_cg_beyond_the_resident_buffer(
    core: ModuleType, k: int, dtype: type[np.floating], targets: bool
) -> None:
    """Conjugate gradient keeps each row's gathered factors for all its steps, up to
    ref.cg_resident_rows(k) entries; a longer row keeps that many and re-gathers the rest at
    every step. Every step equals the dense CG on the same system, for rows below, at and
    past the buffer (the residual b − A·x computed in one pass changes only rounding)."""
    rng = np.random.default_rng(3000 + k)
    resident, chunk = ref.cg_resident_rows(k), ref.chunk_rows(k)
    lengths = np.array([0, 3, chunk + 1, resident, resident + 1, resident + chunk + 5])
    ncols = int(lengths.max()) + 20
    csr = ref.make_csr(
        rng, len(lengths), ncols, lengths=lengths, value_dtype=dtype, values="weights"
    )
    right = ref.make_factors(rng, ncols, k, dtype)
    left0 = ref.make_factors(rng, csr.nrows, k, dtype)
    gram = ref.gram(right[:100], REG).astype(dtype)
    b = (rng.random(len(csr.values)) * 3).astype(dtype) if targets else None
    for steps in (1, 3):
        want = ref.implicit_cg_half_epoch(csr, right, gram, left0, steps, b)
        left = left0.copy()
        kwargs = {"targets": b} if targets else {}
        got = core.implicit_half_epoch(
            csr.indptr,
            csr.indices,
            csr.values,
            left,
            right,
            gram,
            solver="cg",
            cg_steps=steps,
            threads=2,
            **kwargs,
        )
        check_delta(got, left, left0, want)
        assert np.all(left[0] == 0)
        for u in range(1, csr.nrows):
            err = np.linalg.norm(left[u] - want[u]) / np.linalg.norm(want[u])
            assert err <= (1e-3 if dtype == np.float32 else 1e-9), (u, lengths[u], steps, err)


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
    core.implicit_half_epoch(csr.indptr, csr.indices, csr.values, left, right, gram, threads=1)
    assert ref.relative_error(left, want) <= tolerance(dtype)
    cg = np.zeros((csr.nrows, k), dtype)
    core.implicit_half_epoch(
        csr.indptr, csr.indices, csr.values, cg, right, gram, solver="cg", cg_steps=k + 5, threads=1
    )
    assert ref.relative_error(cg, want) <= 1e-3


@pytest.mark.parametrize("k", [2, 7, 16])
@dtype_param
def test_implicit_indefinite_system_is_still_solved(
    core: ModuleType, k: int, dtype: type[np.floating]
) -> None:
    """A large negative weight makes the row system indefinite: Cholesky fails, the robust
    fallback must still return the exact solution of the (non-singular) system."""
    gram = np.eye(k, dtype=dtype) * dtype(0.5)
    cols = np.array([3, 10, 20], dtype=np.int32)
    weights = np.array([2.0, -3.0, 1.0], dtype=dtype)
    for seed in range(100):  # the first seed whose system is indefinite, far from singular
        right = ref.make_factors(np.random.default_rng(seed), 50, k, dtype)
        eig = np.linalg.eigvalsh(ref.implicit_system(right, cols, weights, gram)[0])
        if eig[0] < -0.1 and np.min(np.abs(eig)) > 0.1:
            break
    else:
        raise AssertionError("no suitable test system")
    want = ref.implicit_row(right, cols, weights, gram)
    indptr = np.array([0, 3], dtype=np.int64)
    out = core.fold_in_implicit(indptr, cols, weights, right, gram, threads=1)
    assert ref.relative_error(out[0], want) <= tolerance(dtype)


# Regression: implicit Cholesky used to call rankUpdate with zero rows when a row (or a chunk
# of a long row) had no strictly positive weight; for k >= 48 Eigen's blocked product divides
# by that depth and the process died with SIGFPE. Checked in a child process for that reason.


@pytest.mark.parametrize("k", [16, 47])
@pytest.mark.parametrize("weight", [0.0, -0.1])
def test_implicit_row_without_positive_weight(core: ModuleType, k: int, weight: float) -> None:
    """Rows whose weights are all zero or negative (only the Gram and the subtracted updates)."""
    rng = np.random.default_rng(3700 + k)
    right = ref.make_factors(rng, 10, k, np.float64)
    gram = ref.gram(right, 1.0)
    indptr = np.array([0, 1, 3], np.int64)
    cols = np.array([3, 4, 5], np.int32)
    w = np.full(3, weight)
    out = core.fold_in_implicit(indptr, cols, w, right, gram, threads=1)
    want = ref.implicit_half_epoch(ref.Csr(indptr, cols, w, 10), right, gram)
    assert ref.relative_error(out, want) <= 1e-9


@pytest.mark.parametrize("variant", ref.VARIANTS)
def test_implicit_row_without_positive_weight_large_k(variant: str) -> None:
    if ref.load_variant(variant) is None:
        pytest.skip(f"alskit.{variant} is not available")
    result = ref.run_isolated(  # a separate process: the bug kills it
        f"""
        import numpy as np
        import importlib
        core = importlib.import_module("alskit.{variant}")
        rng = np.random.default_rng(0)
        k = 64
        right = rng.normal(0, 1 / np.sqrt(k), (10, k))
        gram = right.T @ right + np.eye(k)
        gram = (gram + gram.T) / 2
        indptr = np.array([0, 1, 2, 4], np.int64)
        cols = np.array([3, 4, 5, 6], np.int32)
        w = np.array([0.0, -0.1, -0.1, 0.0])
        out = core.fold_in_implicit(indptr, cols, w, right, gram)
        for u in range(3):
            lo, hi = indptr[u], indptr[u + 1]
            q = right[cols[lo:hi]]
            a = gram + (q.T * w[lo:hi]) @ q
            want = np.linalg.solve(a, (1 + w[lo:hi]) @ q)
            assert np.abs(out[u] - want).max() <= 1e-9 * np.abs(want).max(), u
        print("ok")
        """
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.strip() == "ok"


# --------------------------------------------------------------------------------------------
# Gram
# --------------------------------------------------------------------------------------------


@k_param
@dtype_param
def test_gram(core: ModuleType, k: int, dtype: type[np.floating]) -> None:
    rng = np.random.default_rng(4000 + k)
    factors = ref.make_factors(rng, 9000, k, dtype)  # three 4096-row blocks
    g = core.gram(factors, 0.25, threads=1)
    assert g.dtype == dtype and g.shape == (k, k) and g.flags.c_contiguous
    assert ref.relative_error(g, ref.gram(factors, 0.25)) <= tolerance(dtype)
    assert np.array_equal(g, g.T)
    assert np.array_equal(
        core.gram(factors, 0.0, threads=1) + dtype(0.25) * np.eye(k, dtype=dtype), g
    )
    # Few rows, and none: the Gram of nothing is reg·I.
    small = factors[:3].copy()
    assert ref.relative_error(core.gram(small, 1.5, threads=1), ref.gram(small, 1.5)) <= tolerance(
        dtype
    )
    empty = np.zeros((0, k), dtype)
    assert np.array_equal(core.gram(empty, 2.0, threads=1), 2.0 * np.eye(k, dtype=dtype))


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
                core.explicit_half_epoch(
                    indptr, csr.indices, csr.values, left, p.right, REG, threads=1
                )
            )
        return float(
            core.implicit_half_epoch(
                indptr, csr.indices, csr.values, left, p.right, p.gram, solver=kind, threads=1
            )
        )

    full = p.left.copy()
    total = run(csr.indptr, full)
    rel = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in [(4, 17), (0, 1), (csr.nrows - 3, csr.nrows), (10, 10)]:
        left = p.left.copy()
        view = csr.indptr[a : b + 1]
        assert view.flags.c_contiguous
        got = run(view, left[a:b])
        assert np.array_equal(left[a:b], full[a:b])
        assert np.array_equal(left[:a], p.left[:a])
        assert np.array_equal(left[b:], p.left[b:])
        assert got == pytest.approx(ref.delta(full[a:b], p.left[a:b]), rel=rel, abs=0)
    # Blocks that partition the rows: the per-row terms are identical, so their deltas add up
    # to the whole half-epoch's (up to the order of the float64 additions).
    left = p.left.copy()
    cuts = [0, 5, 6, 20, csr.nrows]
    parts = [run(csr.indptr[a : b + 1], left[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)]
    assert np.array_equal(left, full)
    assert sum(parts) == pytest.approx(total, rel=1e-13, abs=0)


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
    ncols = max(200, k + 8)  # room for every row length below k
    lengths = rng.integers(1, k, size=12)  # 1 ≤ n < k
    lengths[0] = 0
    csr = ref.make_csr(rng, 12, ncols, lengths=lengths, indptr_dtype=ptr, value_dtype=dtype)
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
    out = core.fold_in_explicit(csr.indptr, csr.indices, csr.values, right, 0.0, threads=1)
    assert np.all(np.isfinite(out))
    assert ref.relative_error(out, want) <= tol
    left = ref.make_factors(rng, csr.nrows, k, dtype)
    core.explicit_half_epoch(csr.indptr, csr.indices, csr.values, left, right, 0.0, threads=1)
    assert np.array_equal(left, out)


@dtype_param
def test_reg_zero_singular_and_regular_rows_share_a_batch(
    core: ModuleType, dtype: type[np.floating]
) -> None:
    """reg = 0 with short (singular) and long (regular) rows interleaved, so the batched
    Cholesky meets both in one batch: the singular ones take the fallback, and every row is
    pinv(Q_I)·r, each the same as when solved alone."""
    rng = np.random.default_rng(5200)
    k, ncols = 16, 300
    lengths = np.where(np.arange(21) % 3 == 0, 5, 40)  # n < k, then two rows with n > k
    csr = ref.make_csr(rng, 21, ncols, lengths=lengths, value_dtype=dtype)
    right = ref.make_factors(rng, ncols, k, dtype)
    out = core.fold_in_explicit(csr.indptr, csr.indices, csr.values, right, 0.0, threads=1)
    want = np.array([ref.explicit_row_min_norm(right, *csr.row(u)) for u in range(csr.nrows)])
    assert ref.relative_error(out, want) <= (1e-3 if dtype == np.float32 else 1e-9)
    for u in (0, 1):
        one = ref.Csr(np.array([0, lengths[u]], np.int64), *csr.row(u), ncols)
        alone = core.fold_in_explicit(one.indptr, one.indices, one.values, right, 0.0, threads=1)
        assert np.array_equal(alone[0], out[u])


@dtype_param
def test_reg_zero_overdetermined_is_least_squares(
    core: ModuleType, dtype: type[np.floating]
) -> None:
    """reg = 0 with more observations than factors: the ordinary least-squares fit."""
    rng = np.random.default_rng(5500)
    k, n = 7, 40
    right = ref.make_factors(rng, n, k, dtype)
    cols = np.arange(n, dtype=np.int32)
    vals = rng.normal(size=n).astype(dtype)
    out = core.fold_in_explicit(np.array([0, n], np.int32), cols, vals, right, 0.0, threads=1)
    want = np.linalg.lstsq(right.astype(np.float64), vals.astype(np.float64), rcond=None)[0]
    assert ref.relative_error(out[0], want) <= tolerance(dtype) * 10


# --------------------------------------------------------------------------------------------
# Transpose and validation
# --------------------------------------------------------------------------------------------


@functools.cache
def transpose_problem(offset: int) -> ref.Csr:
    csr = ref.make_csr(np.random.default_rng(6000 + offset), 9000, 60, offset=offset)
    for a in (csr.indptr, csr.indices, csr.values):
        a.setflags(write=False)
    return csr


@dtype_param
@ptr_param
@pytest.mark.parametrize("offset", [0, 5])
def test_transpose(
    core: ModuleType, dtype: type[np.floating], ptr: type[np.integer], offset: int
) -> None:
    base = transpose_problem(offset)  # > 8192 rows: several row blocks
    csr = ref.Csr(base.indptr.astype(ptr), base.indices, base.values.astype(dtype), base.ncols)
    # Trailing entries past indptr[-1] must be ignored too.
    indices = np.concatenate([csr.indices, np.array([7, 7], np.int32)])
    values = np.concatenate([csr.values, np.array([1, 2], dtype)])
    want_ptr, want_idx, want_val = ref.transpose(csr)
    tp, ti, tv = core.transpose_csr(csr.indptr, indices, values, csr.ncols, threads=2)
    assert tp.dtype == ptr and ti.dtype == np.int32 and tv.dtype == dtype
    assert np.array_equal(tp, want_ptr)
    assert np.array_equal(ti, want_idx)
    assert np.array_equal(tv, want_val)
    # Round trip: rows have sorted distinct columns, so the transpose of the transpose is the
    # original (re-based at 0).
    bp, bi, bv = core.transpose_csr(tp, ti, tv, csr.nrows, threads=1)
    lo, hi = int(csr.indptr[0]), int(csr.indptr[-1])
    assert np.array_equal(bp, csr.indptr - csr.indptr[0])
    assert np.array_equal(bi, csr.indices[lo:hi])
    assert np.array_equal(bv, csr.values[lo:hi])


# Regression: values=None used to reach the kernels as a pointer to an empty array (a
# default-constructed py::array is not null), so validate_csr and transpose_csr read past its
# end. Checked in a child process because an out-of-bounds read may crash.


@pytest.mark.parametrize("variant", ref.VARIANTS)
def test_structure_only_csr(variant: str) -> None:
    """values=None: validate and transpose the structure alone."""
    if ref.load_variant(variant) is None:
        pytest.skip(f"alskit.{variant} is not available")
    result = ref.run_isolated(  # a separate process: the bug reads out of bounds
        f"""
        import numpy as np
        import importlib
        core = importlib.import_module("alskit.{variant}")
        for ptr in (np.int32, np.int64):
            for offset in (0, 2):
                indptr = np.array([0, 2, 2, 3], ptr) + offset
                indices = np.array([1] * offset + [1, 0, 1], np.int32)
                tp, ti, tv = core.transpose_csr(indptr, indices, None, 2)
                assert tp.tolist() == [0, 1, 3] and tp.dtype == ptr, tp
                assert ti.tolist() == [0, 0, 2], ti
                assert tv is None, tv
        n = 100_000
        core.validate_csr(np.array([0, n], np.int64), np.zeros(n, np.int32), None, 1)
        print("ok")
        """
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.strip() == "ok"


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
    tp, ti, tv = core.transpose_csr(
        np.array([0, 0], np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32), 0
    )
    assert tp.tolist() == [0] and ti.size == 0 and tv.size == 0 and tv.dtype == np.float32


@dtype_param
@ptr_param
def test_validate_accepts_good_csr(
    core: ModuleType, dtype: type[np.floating], ptr: type[np.integer]
) -> None:
    rng = np.random.default_rng(7000)
    csr = ref.make_csr(rng, 50, 30, offset=3, indptr_dtype=ptr, value_dtype=dtype)
    assert core.validate_csr(csr.indptr, csr.indices, csr.values, csr.ncols) is None
    # Entries outside [indptr[0], indptr[-1]) are not part of the matrix and are not checked.
    indices = csr.indices.copy()
    indices[0] = -1
    values = csr.values.copy()
    values[0] = np.nan
    core.validate_csr(csr.indptr, indices, values, csr.ncols)
