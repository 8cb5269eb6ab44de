"""Right-hand-side targets b of the implicit kernels (implicit_solver.hpp):

    (G + Σ_j v_j q_j q_jᵀ) p = Σ_j b_j q_j,   b_j = 1 + v_j when no targets are given,

held to the dense numpy reference (tests/reference.py) for Cholesky, conjugate gradient and
fold-in, in both dtypes, bit-identical for 1, 2 and 3 threads.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import reference as ref

KS = (1, 7, 64, 130)
DTYPES = (np.float32, np.float64)
THREADS = (1, 2, 3)
REG = 0.1

dtype_param = pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
k_param = pytest.mark.parametrize("k", KS)


def tolerance(dtype: type[np.floating]) -> float:
    return 2e-4 if dtype == np.float32 else 1e-9


@functools.cache
def _problem(k: int, dtype_name: str) -> tuple[Any, ...]:
    """Weights v of implicit's mapping (|c| − 1, some negative) and targets b = max(c, 0)."""
    dtype = np.dtype(dtype_name).type
    rng = np.random.default_rng(7000 + k)
    long = max(1100, 2 * ref.chunk_rows(k) + 37)  # crosses the chunked gather
    ncols = long + 50
    base = ref.make_csr(rng, 31, ncols, long_row=long, value_dtype=dtype, values="weights")
    # Signed confidences c ∈ ±[0.5, 5]: a quarter are dislikes.
    sign = np.where(rng.random(len(base.values)) < 0.25, -1.0, 1.0)
    c = (base.values * sign).astype(dtype)
    v = (np.abs(c) - 1).astype(dtype)
    b = np.where(c > 0, c, 0).astype(dtype)
    csr = ref.Csr(base.indptr, base.indices, v, ncols)
    right = ref.make_factors(rng, ncols, k, dtype)
    left = ref.make_factors(rng, csr.nrows, k, dtype)
    g = ref.gram(right, REG)  # the whole Gram: the systems stay positive definite
    gram = ((g + g.T) / 2).astype(dtype)
    for a in (csr.indptr, csr.indices, v, b, right, left, gram):
        a.setflags(write=False)
    return csr, b, right, left, gram


def problem(k: int, dtype: type[np.floating]) -> tuple[Any, ...]:
    return _problem(k, np.dtype(dtype).name)


@k_param
@dtype_param
def test_cholesky_with_targets(core: ModuleType, k: int, dtype: type[np.floating]) -> None:
    csr, b, right, left0, gram = problem(k, dtype)
    want = ref.implicit_half_epoch(csr, right, gram, b)
    # The targets matter: the default (1 + v) is a different system.
    assert ref.relative_error(ref.implicit_half_epoch(csr, right, gram), want) > 1e-2
    left = left0.copy()
    delta = core.implicit_half_epoch(
        csr.indptr, csr.indices, csr.values, left, right, gram, targets=b, solver="cholesky"
    )
    assert ref.relative_error(left, want) <= tolerance(dtype)
    assert delta == pytest.approx(ref.delta(left, left0), rel=1e-5)
    assert np.all(left[csr.row_lengths() == 0] == 0)


@k_param
@dtype_param
def test_cg_with_targets(core: ModuleType, k: int, dtype: type[np.floating]) -> None:
    csr, b, right, left0, gram = problem(k, dtype)
    for steps in (1, 3):
        want = ref.implicit_cg_half_epoch(csr, right, gram, left0, steps, b)
        left = left0.copy()
        core.implicit_half_epoch(
            csr.indptr,
            csr.indices,
            csr.values,
            left,
            right,
            gram,
            targets=b,
            solver="cg",
            cg_steps=steps,
        )
        assert ref.relative_error(left, want) <= 10 * tolerance(dtype)
    # Enough steps reach the exact solution of the same system.
    left = left0.copy()
    core.implicit_half_epoch(
        csr.indptr,
        csr.indices,
        csr.values,
        left,
        right,
        gram,
        targets=b,
        solver="cg",
        cg_steps=3 * k + 10,
    )
    exact = ref.implicit_half_epoch(csr, right, gram, b)
    assert ref.relative_error(left, exact) <= (5e-3 if dtype == np.float32 else 1e-7)


@k_param
@dtype_param
def test_fold_in_with_targets(core: ModuleType, k: int, dtype: type[np.floating]) -> None:
    csr, b, right, _, gram = problem(k, dtype)
    out = core.fold_in_implicit(csr.indptr, csr.indices, csr.values, right, gram, targets=b)
    assert out.dtype == dtype
    assert ref.relative_error(out, ref.implicit_half_epoch(csr, right, gram, b)) <= tolerance(dtype)


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
@dtype_param
def test_default_targets_are_one_plus_v_bit_for_bit(
    core: ModuleType, solver: str, dtype: type[np.floating]
) -> None:
    """targets=None is exactly b = 1 + v (today's results, unchanged)."""
    csr, _, right, left0, gram = problem(64, dtype)
    ones = (1 + csr.values).astype(dtype)
    runs = []
    for targets in (None, ones):
        left = left0.copy()
        d = core.implicit_half_epoch(
            csr.indptr,
            csr.indices,
            csr.values,
            left,
            right,
            gram,
            targets=targets,
            solver=solver,
        )
        runs.append((left, d))
    assert np.array_equal(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]
    a = core.fold_in_implicit(csr.indptr, csr.indices, csr.values, right, gram)
    b = core.fold_in_implicit(csr.indptr, csr.indices, csr.values, right, gram, targets=ones)
    assert np.array_equal(a, b)


@functools.cache
def _big(dtype_name: str) -> tuple[Any, ...]:
    """9000 rows with power-law lengths (several thread blocks), signed confidences."""
    dtype = np.dtype(dtype_name).type
    rng = np.random.default_rng(43)
    nrows, ncols, k = 9000, 1500, 32
    lengths = ref.power_law_lengths(rng, nrows, ncols)
    lengths[rng.choice(nrows, 3, replace=False)] = ncols
    base = ref.make_csr(rng, nrows, ncols, lengths=lengths, values="weights")
    c = base.values * np.where(rng.random(len(base.values)) < 0.2, -1.0, 1.0)
    v = (np.abs(c) - 1).astype(dtype)
    b = np.where(c > 0, c, 0).astype(dtype)
    right = ref.make_factors(rng, ncols, k, dtype)
    left = ref.make_factors(rng, nrows, k, dtype)
    gram = ref.gram(right, REG).astype(dtype)
    return ref.Csr(base.indptr, base.indices, v, ncols), b, right, left, gram


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
@dtype_param
def test_targets_thread_count_bit_identical(
    core: ModuleType, solver: str, dtype: type[np.floating]
) -> None:
    csr, b, right, left0, gram = _big(np.dtype(dtype).name)
    results = []
    for threads in THREADS:
        left = left0.copy()
        d = core.implicit_half_epoch(
            csr.indptr,
            csr.indices,
            csr.values,
            left,
            right,
            gram,
            targets=b,
            solver=solver,
            threads=threads,
        )
        folded = core.fold_in_implicit(
            csr.indptr, csr.indices, csr.values, right, gram, targets=b, threads=threads
        )
        results.append((left, d, folded))
    for left, d, folded in results[1:]:
        assert np.array_equal(left, results[0][0])
        assert d == results[0][1]
        assert np.array_equal(folded, results[0][2])


@pytest.mark.parametrize("which", ["half_epoch", "fold_in"])
def test_bad_targets_are_named(core: ModuleType, which: str) -> None:
    csr, b, right, left0, gram = problem(7, np.float32)

    def call(targets: object) -> None:
        if which == "half_epoch":
            core.implicit_half_epoch(
                csr.indptr, csr.indices, csr.values, left0.copy(), right, gram, targets=targets
            )
        else:
            core.fold_in_implicit(csr.indptr, csr.indices, csr.values, right, gram, targets=targets)

    with pytest.raises(TypeError, match="targets must have dtype float32"):
        call(b.astype(np.float64))
    with pytest.raises(ValueError, match=r"targets must have one entry per entry of values"):
        call(b[:-1].copy())
    with pytest.raises(ValueError, match="targets must be 1-dimensional"):
        call(b.reshape(1, -1))
    with pytest.raises(TypeError, match="targets must be a numpy.ndarray"):
        call(list(b))
    bad = b.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="targets"):
        call(bad)
    with pytest.raises(ValueError, match="targets must be C-contiguous"):
        call(np.repeat(b, 2)[::2])


@dtype_param
def test_cholesky_tiny_weight_with_large_target(core: ModuleType, dtype: type[np.floating]) -> None:
    """A weight near the smallest normal number with a large target: b/√v overflows the dtype
    although b·q and the solution do not (the right-hand side is Xᵀ(b/√v) over the scaled
    rows only where that quotient is finite)."""
    k = 16
    info = np.finfo(dtype)
    rng = np.random.default_rng(7100)
    base = ref.make_csr(rng, 6, 200, long_row=120, value_dtype=dtype, values="weights")
    v = base.values.astype(dtype)
    b = (1 + v).astype(dtype)
    tiny = np.arange(0, len(v), 5)
    v[tiny] = info.tiny
    # b/√v = 10·max overflows; b itself (about max·1e-19 in float32) is far from max
    b[tiny] = info.max * np.sqrt(info.tiny) * 10
    csr = ref.Csr(base.indptr, base.indices, v, 200)
    right = ref.make_factors(rng, 200, k, dtype)
    g = ref.gram(right, REG)
    gram = ((g + g.T) / 2).astype(dtype)
    want = ref.implicit_half_epoch(csr, right, gram, b)
    assert np.all(np.isfinite(want))
    left = ref.make_factors(rng, csr.nrows, k, dtype)
    core.implicit_half_epoch(
        csr.indptr, csr.indices, csr.values, left, right, gram, targets=b, solver="cholesky"
    )
    assert ref.relative_error(left, want) <= tolerance(dtype)
