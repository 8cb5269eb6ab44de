"""``core.workspace_bytes``: the per-thread solver workspace a half-epoch allocates, as the
training memory check sees it. Checked against a dense count of the buffers each solver
allocates (half_epoch.hpp's RowWorkspace; kernel_check compares the C++ count with the
buffers themselves)."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

KS = [1, 7, 50, 128, 129, 300, 384, 512, 513]


def dense_workspace(k: int, itemsize: int, solver: str, block: int = 0) -> int:
    """Bytes of one thread's RowWorkspace, buffer by buffer."""
    chunk = max(64, 32768 // k)
    iterative = solver in ("cg", "subspace")
    # gathered rows (the iterative solvers keep up to 64 chunks of a row for all its steps;
    # without a longest row given, the memory check counts all 64) + per-entry scratch
    gathered = 64 * chunk if iterative else chunk
    total = (gathered * k + chunk) * itemsize
    if not iterative:  # the queue of k × k systems for the (batched) Cholesky
        slots = 32 // itemsize if k <= 512 else 1
        total += slots * ((k * k + k) * itemsize + 8) + k * itemsize
        total += ((k + 1) * (k + 2) // 2 + k) * 32 if slots > 1 else k * k * itemsize
    if solver in ("explicit", "cholesky"):  # a short row's dual system, x, residual
        batched = k <= 512
        dual = min((k - 1) // 2 if batched else k - 1, chunk)
        total += dual**2 * itemsize + 2 * k * itemsize
    if solver == "cg":
        total += 5 * k * itemsize  # x, residual, direction, product, a chunk's partial
    if solver == "subspace":
        b = min(block, k)
        for size in (b, k % b):  # the full blocks' and the remainder's: system, rhs, step, LLT
            total += (2 * size * size + 2 * size) * itemsize
        # the gathered rows' predictions; one chunk's square-root weights and weighted rows; x
        total += (gathered + chunk + chunk * b + k) * itemsize
    return total


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("block", [1, 7, 32, 1000])
def test_subspace_workspace_bytes(core: ModuleType, dtype: type, block: int) -> None:
    itemsize = np.dtype(dtype).itemsize
    for k in KS:
        got = core.workspace_bytes(k, dtype, solver="subspace", block_size=block, threads=2)
        assert got == 2 * dense_workspace(k, itemsize, "subspace", block), (k, block)
    with pytest.raises(ValueError, match="needs a block_size"):
        core.workspace_bytes(8, dtype, solver="subspace")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("solver", ["explicit", "cholesky", "cg"])
@pytest.mark.parametrize("threads", [1, 3])
def test_workspace_bytes_counts_every_buffer(
    core: ModuleType, dtype: type, solver: str, threads: int
) -> None:
    itemsize = np.dtype(dtype).itemsize
    for k in KS:
        got = core.workspace_bytes(k, dtype, solver=solver, threads=threads)
        assert got == threads * dense_workspace(k, itemsize, solver), (k, solver)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("solver", ["explicit", "cholesky", "cg"])
def test_shared_buffers_of_the_fixed_side(core: ModuleType, dtype: type, solver: str) -> None:
    """Implicit Cholesky whitens the fixed side for the short rows' duals: fixed_rows × k
    plus G's k × k factor, once per half-epoch (not per thread); the others share nothing."""
    itemsize = np.dtype(dtype).itemsize
    for k in KS:
        alone = core.workspace_bytes(k, dtype, solver=solver, threads=2)
        got = core.workspace_bytes(k, dtype, solver=solver, threads=2, fixed_rows=1000)
        shared = (1000 + k) * k * itemsize if solver == "cholesky" else 0
        assert got == alone + shared, (k, solver)
    with pytest.raises(ValueError, match="fixed_rows must be between"):
        core.workspace_bytes(8, dtype, solver="cholesky", fixed_rows=-1)


def test_all_threads_by_default(core: ModuleType) -> None:
    one = core.workspace_bytes(64, np.float32, solver="cholesky", threads=1)
    assert core.workspace_bytes(64, "float32", solver="cholesky") == core.max_threads() * one


def test_workspace_bytes_names_bad_arguments(core: ModuleType) -> None:
    for k in (0, -1):
        with pytest.raises(ValueError, match="k must be at least 1"):
            core.workspace_bytes(k, np.float32, solver="cg")
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        core.workspace_bytes(8, np.int32, solver="cg")
    with pytest.raises(ValueError, match="solver must be"):
        core.workspace_bytes(8, np.float32, solver="lu")
    with pytest.raises(ValueError, match="threads must be >= 0"):
        core.workspace_bytes(8, np.float32, solver="cg", threads=-1)


@pytest.mark.parametrize("solver", ["explicit", "cholesky", "cg"])
def test_absurd_k_gets_a_lower_bound_no_machine_has(core: ModuleType, solver: str) -> None:
    """Beyond 2^29 the size at 2^29 (hundreds of GiB for CG, exabytes with k × k systems):
    nothing overflows, and the factors of such a k never fit anyway."""
    at_bound = core.workspace_bytes(2**29, np.float64, solver=solver, threads=1)
    assert at_bound == dense_workspace(2**29, 8, solver) > (2**38 if solver == "cg" else 2**60)
    for k in (2**29 + 1, 2**31, 10**12, 10**30):
        assert core.workspace_bytes(k, np.float64, solver=solver, threads=1) == at_bound
    assert core.workspace_bytes(10**30, np.float64, solver=solver, threads=4) == 4 * at_bound
