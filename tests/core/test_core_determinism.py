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


def _half_epoch(core: ModuleType, kind: str, csr: ref.Csr, right: Any) -> Callable[..., float]:
    """kind's half-epoch on rows [lo, hi) of csr (left: those rows' factors, updated)."""
    gram = core.gram(right, 0.1, threads=1)

    def solve(left: Any, lo: int, hi: int, threads: int, row_deltas: Any = None) -> float:
        a, b = int(csr.indptr[lo]), int(csr.indptr[hi])
        args = (csr.indptr[lo : hi + 1] - a, csr.indices[a:b], csr.values[a:b], left, right)
        if kind == "explicit":
            return float(
                core.explicit_half_epoch(*args, 0.1, threads=threads, row_deltas=row_deltas)
            )
        return float(core.implicit_half_epoch(*args, gram, threads=threads, row_deltas=row_deltas))

    return solve


@pytest.mark.parametrize("kind", ["explicit", "implicit"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_row_deltas_are_the_terms_of_the_total(
    core: ModuleType, kind: str, dtype: type[np.floating]
) -> None:
    """row_deltas receives each row's ‖Δ‖² (the dense formula), the same bits at every
    thread count; rows solved in calls cut at arbitrary rows get the same factors, and their
    terms, added by reduction_parts/parts_total, the whole call's total bit for bit (what
    alskit.distributed's explicit blocks rely on)."""
    from alskit._reduction import parts_total, reduction_parts

    base, right64, left64 = problem("normal" if kind == "explicit" else "weights")
    csr, (right, left0) = as_dtype(base, dtype, right64, left64)
    n = len(left0)
    solve = _half_epoch(core, kind, csr, right)

    def whole(threads: int) -> tuple[Any, Any, Any]:
        left, deltas = left0.copy(), np.full(n, np.nan)
        total = solve(left, 0, n, threads, deltas)
        return left, deltas, np.array(total)

    left, deltas, total = same_output_across_threads(whole)
    diff = left.astype(np.float64) - left0.astype(np.float64)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(deltas, (diff**2).sum(axis=1), rtol=rtol)
    assert parts_total([reduction_parts(0, n, deltas)], n) == float(total)

    cuts = [0, 1, 1000, 4096, 4100, 8191, 8500, n]  # inside, at and across reduction blocks
    pieces, parts = [], []
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        piece, terms = left0[lo:hi].copy(), np.empty(hi - lo)
        solve(piece, lo, hi, 2, terms)
        pieces.append(piece)
        parts.append(reduction_parts(lo, n, terms))
    assert np.array_equal(np.concatenate(pieces), left)
    assert parts_total(parts, n) == float(total)


@pytest.mark.parametrize("kind", ["explicit", "implicit"])
def test_row_deltas_must_fit_the_rows(core: ModuleType, kind: str) -> None:
    base, right, left0 = problem("normal" if kind == "explicit" else "weights")
    solve = _half_epoch(core, kind, base, right)
    n = len(left0)
    with pytest.raises(ValueError, match=f"row_deltas must have {n} entries"):
        solve(left0.copy(), 0, n, 1, np.empty(n - 1))
    for dtype in ("float32", "int64"):
        with pytest.raises(TypeError, match=f"row_deltas must have dtype float64, got {dtype}"):
            solve(left0.copy(), 0, n, 1, np.empty(n, dtype))
    with pytest.raises(ValueError, match="row_deltas must be 1-dimensional"):
        solve(left0.copy(), 0, n, 1, np.empty((n, 1)))
    with pytest.raises(ValueError, match="row_deltas must be C-contiguous"):
        solve(left0.copy(), 0, n, 1, np.empty(2 * n)[::2])
    frozen = np.empty(n)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="row_deltas is read-only"):
        solve(left0.copy(), 0, n, 1, frozen)
