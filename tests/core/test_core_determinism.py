"""Bit-identical results for any thread count (DESIGN §4: no atomics, ordered sums)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import reference as ref

THREADS = (1, 2, 3)
K = 32
DTYPES = (np.float32, np.float64)


@functools.cache
def problem(values: str) -> tuple[ref.Csr, ref.AnyFloat, ref.AnyFloat]:
    """9000 rows (more than two 4096-row blocks) with power-law lengths, some very long."""
    rng = np.random.default_rng(42)
    nrows, ncols = 9000, 1500
    lengths = ref.power_law_lengths(rng, nrows, ncols)
    lengths[rng.choice(nrows, 3, replace=False)] = ncols  # a few rows longer than a chunk
    assert (lengths == 0).any() and lengths.max() > ref.chunk_rows(K)
    csr = ref.make_csr(rng, nrows, ncols, lengths=lengths, values=values)
    right = ref.make_factors(rng, ncols, K)
    left = ref.make_factors(rng, nrows, K)
    return csr, right, left


def as_dtype(
    csr: ref.Csr, dtype: type[np.floating], *arrays: ref.AnyFloat
) -> tuple[ref.Csr, list[npt.NDArray[np.floating]]]:
    cast = ref.Csr(csr.indptr, csr.indices, csr.values.astype(dtype), csr.ncols)
    return cast, [a.astype(dtype) for a in arrays]


def assert_same_across_threads(
    left0: npt.NDArray[np.floating],
    solve: Callable[[npt.NDArray[np.floating], int], float],
) -> None:
    """solve(left, threads) updates a copy of left0 in place and returns its Σ‖Δ‖²: for every
    thread count the factors change, and to the same bits, with the same Σ‖Δ‖²."""
    results = []
    for threads in THREADS:
        left = left0.copy()
        results.append((left, solve(left, threads)))
    first_left, first_delta = results[0]
    assert not np.array_equal(first_left, left0)
    for left, delta in results[1:]:
        assert np.array_equal(left, first_left)
        assert delta == first_delta


def same_output_across_threads(compute: Callable[[int], Any]) -> Any:
    """compute(threads) for every thread count gives the same bits (an array or a tuple of
    arrays); returns the first output."""
    outs = [compute(threads) for threads in THREADS]
    first = outs[0] if isinstance(outs[0], tuple) else (outs[0],)
    for out in outs[1:]:
        parts = out if isinstance(out, tuple) else (out,)
        assert len(parts) == len(first)
        assert all(np.array_equal(p, f) for p, f in zip(parts, first, strict=True))
    return outs[0]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_explicit_threads(core: ModuleType, dtype: type[np.floating]) -> None:
    base, right64, left64 = problem("normal")
    csr, (right, left0) = as_dtype(base, dtype, right64, left64)
    assert_same_across_threads(
        left0,
        lambda left, t: core.explicit_half_epoch(
            csr.indptr, csr.indices, csr.values, left, right, 0.1, threads=t
        ),
    )
    same_output_across_threads(
        lambda t: core.fold_in_explicit(csr.indptr, csr.indices, csr.values, right, 0.1, threads=t)
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_implicit_threads(core: ModuleType, dtype: type[np.floating], solver: str) -> None:
    base, right64, left64 = problem("weights")
    csr, (right, left0) = as_dtype(base, dtype, right64, left64)
    gram = core.gram(right, 0.1, threads=1)
    assert_same_across_threads(
        left0,
        lambda left, t: core.implicit_half_epoch(
            csr.indptr,
            csr.indices,
            csr.values,
            left,
            right,
            gram,
            solver=solver,
            cg_steps=3,
            threads=t,
        ),
    )
    if solver == "cholesky":
        same_output_across_threads(
            lambda t: core.fold_in_implicit(
                csr.indptr, csr.indices, csr.values, right, gram, threads=t
            )
        )


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_gram_threads(core: ModuleType, dtype: type[np.floating]) -> None:
    rng = np.random.default_rng(7)
    factors = ref.make_factors(rng, 20_000, K, dtype)  # five 4096-row blocks
    same_output_across_threads(lambda t: core.gram(factors, 0.5, threads=t))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_transpose_threads(core: ModuleType, dtype: type[np.floating]) -> None:
    base = problem("normal")[0]
    csr, _ = as_dtype(base, dtype)
    got = same_output_across_threads(
        lambda t: core.transpose_csr(csr.indptr, csr.indices, csr.values, csr.ncols, threads=t)
    )
    # ...and equal to the serial reference.
    want = ref.transpose(csr)
    assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_large_k_batched_solves_threads(core: ModuleType, dtype: type[np.floating]) -> None:
    """k = 257: rows long enough for the primal systems, which are solved a SIMD vector at a
    time (interleaved Cholesky, batched up to k = 512); a thread's batches hold different rows
    for each thread count, and every row's bits stay the same."""
    k = 257
    rng = np.random.default_rng(257)
    nrows, ncols = 240, 700
    lengths = rng.integers(k // 2, 2 * k, size=nrows)
    lengths[:3] = 0
    csr = ref.make_csr(rng, nrows, ncols, lengths=lengths, value_dtype=dtype, values="weights")
    right = ref.make_factors(rng, ncols, k, dtype)
    left0 = ref.make_factors(rng, nrows, k, dtype)
    gram = core.gram(right, 0.1, threads=1)
    assert_same_across_threads(
        left0,
        lambda left, t: core.explicit_half_epoch(
            csr.indptr, csr.indices, csr.values, left, right, 0.1, threads=t
        ),
    )
    assert_same_across_threads(
        left0,
        lambda left, t: core.implicit_half_epoch(
            csr.indptr, csr.indices, csr.values, left, right, gram, threads=t
        ),
    )
