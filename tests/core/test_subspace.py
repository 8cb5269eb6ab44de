"""The subspace solver (iALS++, implicit_solver.hpp): block coordinate descent on the
implicit normal equations, held to the dense numpy reference (tests/reference.py) step for
step, for block sizes that divide k and that do not, rows below and past the resident gather
buffer, with and without explicit targets; converging to the exact (Cholesky) solution as
sweeps grow; bit-identical for 1, 2 and 3 threads."""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import reference as ref

REG = 0.1
DTYPES = (np.float32, np.float64)
dtype_param = pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])


def tolerance(dtype: type[np.floating]) -> float:
    return 2e-3 if dtype == np.float32 else 1e-9


@functools.cache
def _problem(k: int, long: int, dtype_name: str) -> tuple[Any, ...]:
    dtype = np.dtype(dtype_name).type
    rng = np.random.default_rng(9000 + k + long)
    lengths = np.array([0, 1, 3, 17, 0, 40, long])
    ncols = int(lengths.max()) + 30
    csr = ref.make_csr(
        rng, len(lengths), ncols, lengths=lengths, value_dtype=dtype, values="weights"
    )
    right = ref.make_factors(rng, ncols, k, dtype)
    left = ref.make_factors(rng, csr.nrows, k, dtype)
    g = ref.gram(right[:150], REG)
    gram = ((g + g.T) / 2).astype(dtype)
    targets = (rng.random(len(csr.values)) * 3).astype(dtype)
    for a in (csr.indptr, csr.indices, csr.values, right, left, gram, targets):
        a.setflags(write=False)
    return csr, right, left, gram, targets


def problem(k: int, dtype: type[np.floating], long: int = 300) -> tuple[Any, ...]:
    return _problem(k, long, np.dtype(dtype).name)


def run(
    core: ModuleType,
    csr: ref.Csr,
    right: np.ndarray,
    left: np.ndarray,
    gram: np.ndarray,
    *,
    block: int,
    sweeps: int = 1,
    targets: np.ndarray | None = None,
    threads: int = 2,
) -> tuple[np.ndarray, float]:
    out = left.copy()
    delta = core.implicit_half_epoch(
        csr.indptr,
        csr.indices,
        csr.values,
        out,
        right,
        gram,
        targets=targets,
        solver="subspace",
        sweeps=sweeps,
        block_size=block,
        threads=threads,
    )
    return out, delta


def row_errors(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    nonzero = np.linalg.norm(want, axis=1) > 0
    diff = np.linalg.norm(got.astype(np.float64) - want, axis=1)
    return diff[nonzero] / np.linalg.norm(want[nonzero], axis=1)


@pytest.mark.parametrize(
    ("k", "block"), [(1, 1), (5, 2), (7, 3), (16, 16), (64, 32), (64, 24), (70, 100), (130, 32)]
)
@dtype_param
@pytest.mark.parametrize("with_targets", [False, True], ids=["b=1+v", "targets"])
def test_subspace_equals_the_reference(
    core: ModuleType, k: int, block: int, dtype: type[np.floating], with_targets: bool
) -> None:
    csr, right, left0, gram, targets = problem(k, dtype)
    b = targets if with_targets else None
    for sweeps in (1, 2):
        want = ref.implicit_subspace_half_epoch(csr, right, gram, left0, sweeps, block, b)
        got, delta = run(core, csr, right, left0, gram, block=block, sweeps=sweeps, targets=b)
        assert np.all(got[csr.row_lengths() == 0] == 0)
        assert np.max(row_errors(got, want)) <= tolerance(dtype), (k, block, sweeps)
        single = dtype == np.float32
        assert delta == pytest.approx(ref.delta(got, left0), rel=1e-5 if single else 1e-12)


@pytest.mark.parametrize("k", [5, 64])
@dtype_param
def test_subspace_rows_past_the_resident_buffer(
    core: ModuleType, k: int, dtype: type[np.floating]
) -> None:
    """A row longer than the gathered buffer keeps its first part and re-gathers the rest
    for every block: the same steps as a short row."""
    long = ref.cg_resident_rows(k) + ref.chunk_rows(k) + 11
    csr, right, left0, gram, _ = problem(k, dtype, long)
    want = ref.implicit_subspace_half_epoch(csr, right, gram, left0, 1, 3)
    got, _ = run(core, csr, right, left0, gram, block=3)
    assert np.max(row_errors(got, want)) <= tolerance(dtype)


@pytest.mark.parametrize("k", [7, 64])
@dtype_param
def test_subspace_converges_to_the_exact_solution(
    core: ModuleType, k: int, dtype: type[np.floating]
) -> None:
    """Block coordinate descent on an SPD system converges to its solution: the Cholesky
    solver's. One block of at least k coordinates is that solve."""
    csr, right, left0, gram, _ = problem(k, dtype)
    exact = ref.implicit_half_epoch(csr, right, gram)
    errors = []
    for sweeps in (1, 3, 10, 40):
        got, _ = run(core, csr, right, left0, gram, block=max(1, k // 4), sweeps=sweeps)
        errors.append(float(np.max(row_errors(got, exact))))
    # decreasing until it reaches the dtype's rounding, where it may wobble by that much
    slack = 1e-6 if dtype == np.float32 else 1e-12
    for before, after in zip(errors, errors[1:], strict=False):
        assert after <= before + slack, errors
    assert errors[0] > 10 * errors[-1], errors
    assert errors[-1] <= (5e-3 if dtype == np.float32 else 1e-6), errors
    whole, _ = run(core, csr, right, left0, gram, block=k)
    assert np.max(row_errors(whole, exact)) <= tolerance(dtype)


@pytest.mark.parametrize("block", [3, 32])
@dtype_param
def test_subspace_thread_count_bit_identical(
    core: ModuleType, block: int, dtype: type[np.floating]
) -> None:
    csr, right, left0, gram, targets = problem(64, dtype, 2000)
    results = [
        run(core, csr, right, left0, gram, block=block, targets=targets, threads=t)
        for t in (1, 2, 3)
    ]
    for got, delta in results[1:]:
        assert np.array_equal(got, results[0][0])
        assert delta == results[0][1]


def test_subspace_arguments_are_named(core: ModuleType) -> None:
    csr, right, left0, gram, _ = problem(5, np.float64)
    args = (csr.indptr, csr.indices, csr.values, left0.copy(), right, gram)
    with pytest.raises(ValueError, match="needs a block_size"):
        core.implicit_half_epoch(*args, solver="subspace")
    with pytest.raises(ValueError, match="block_size must be at least 1"):
        core.implicit_half_epoch(*args, solver="subspace", block_size=0)
    with pytest.raises(ValueError, match="sweeps must be at least 1"):
        core.implicit_half_epoch(*args, solver="subspace", block_size=2, sweeps=0)
    with pytest.raises(TypeError, match="block_size must be an integer"):
        core.implicit_half_epoch(*args, solver="subspace", block_size=2.5)
    # the other solvers take no block size (and need none)
    core.implicit_half_epoch(*args, solver="cg", block_size=None)


def test_subspace_non_finite_input_is_an_error(core: ModuleType) -> None:
    csr, right, left0, gram, _ = problem(5, np.float64)
    bad = right.copy()
    bad[csr.indices[-1]] = np.inf
    with pytest.raises(ValueError):
        core.implicit_half_epoch(
            csr.indptr,
            csr.indices,
            csr.values,
            left0.copy(),
            bad,
            gram,
            solver="subspace",
            block_size=2,
        )
