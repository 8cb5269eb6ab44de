# Type stub of the native core (cpp/bindings/module.cpp). Hand-written: keep it in step with
# the bindings; `python -m mypy.stubtest alskit._core alskit._core_avx2` checks it.
#
# Every array must be a C-contiguous numpy.ndarray in native byte order (nothing is converted
# or copied). Within one call all floating-point arrays share one dtype, float32 or float64
# (`_Float`); CSR indices are int32 and indptr int32 or int64 (`_Ptr`). `threads=0` means all
# available threads; results are bit-identical for any thread count.

from typing import Literal, TypeAlias, TypeVar, overload

import numpy as np
from numpy.typing import DTypeLike, NDArray

_Float = TypeVar("_Float", np.float32, np.float64)
_Ptr = TypeVar("_Ptr", np.int32, np.int64)
_IndPtr: TypeAlias = NDArray[np.int32] | NDArray[np.int64]
_Indices: TypeAlias = NDArray[np.int32]
_Values: TypeAlias = NDArray[np.float32] | NDArray[np.float64]

class NumericalError(FloatingPointError):
    """A row's least-squares system has no finite solution, even after the robust fallback."""

def openmp_enabled() -> bool: ...
def max_threads() -> int: ...
def enter_fork_child_mode() -> bool: ...
def reduction_block_rows() -> int: ...
def isa() -> Literal["baseline", "avx2"]: ...
def cpu_supports_avx2() -> bool: ...

# Per-thread solver workspace × threads + the buffers shared for a fixed side of fixed_rows
# rows; for k > 2**29 the (lower-bound) size at 2**29.
def workspace_bytes(
    k: int,
    dtype: DTypeLike,
    *,
    solver: Literal["explicit", "cholesky", "cg", "subspace"],
    threads: int = 0,
    block_size: int | None = None,
    fixed_rows: int = 0,
) -> int: ...
def validate_csr(
    indptr: _IndPtr, indices: _Indices, values: _Values | None, ncols: int
) -> None: ...
@overload
def transpose_csr(
    indptr: NDArray[_Ptr],
    indices: _Indices,
    values: NDArray[_Float],
    ncols: int,
    *,
    threads: int = 0,
) -> tuple[NDArray[_Ptr], NDArray[np.int32], NDArray[_Float]]: ...
@overload
def transpose_csr(
    indptr: NDArray[_Ptr],
    indices: _Indices,
    values: None,
    ncols: int,
    *,
    threads: int = 0,
) -> tuple[NDArray[_Ptr], NDArray[np.int32], None]: ...
def gram(
    factors: NDArray[_Float], reg: float, *, threads: int = 0, trusted: bool = False
) -> NDArray[_Float]: ...
def explicit_half_epoch(
    indptr: _IndPtr,
    indices: _Indices,
    values: NDArray[_Float],
    left: NDArray[_Float],
    right: NDArray[_Float],
    reg: float,
    *,
    threads: int = 0,
    trusted: bool = False,
    row_deltas: NDArray[np.float64] | None = None,
) -> float: ...
def implicit_half_epoch(
    indptr: _IndPtr,
    indices: _Indices,
    values: NDArray[_Float],
    left: NDArray[_Float],
    right: NDArray[_Float],
    gram: NDArray[_Float],
    *,
    targets: NDArray[_Float] | None = None,
    solver: Literal["cholesky", "cg", "subspace"] = "cholesky",
    cg_steps: int = 3,
    sweeps: int = 1,
    block_size: int | None = None,
    threads: int = 0,
    trusted: bool = False,
    row_deltas: NDArray[np.float64] | None = None,
) -> float: ...
def fold_in_explicit(
    indptr: _IndPtr,
    indices: _Indices,
    values: NDArray[_Float],
    right: NDArray[_Float],
    reg: float,
    *,
    threads: int = 0,
    trusted: bool = False,
) -> NDArray[_Float]: ...
def fold_in_implicit(
    indptr: _IndPtr,
    indices: _Indices,
    values: NDArray[_Float],
    right: NDArray[_Float],
    gram: NDArray[_Float],
    *,
    targets: NDArray[_Float] | None = None,
    threads: int = 0,
    trusted: bool = False,
) -> NDArray[_Float]: ...
def top_n(
    user_factors: NDArray[_Float],
    item_factors: NDArray[_Float],
    n: int,
    *,
    exclude_indptr: _IndPtr | None = None,
    exclude_indices: _Indices | None = None,
    candidates: NDArray[np.int32] | None = None,
    blocked: NDArray[np.bool_] | None = None,
    user_offsets: NDArray[_Float] | None = None,
    item_offsets: NDArray[_Float] | None = None,
    threads: int = 0,
) -> tuple[NDArray[np.int32], NDArray[_Float]]: ...
def score_pairs(
    user_factors: NDArray[_Float],
    item_factors: NDArray[_Float],
    user_nums: NDArray[np.int32],
    item_nums: NDArray[np.int32],
    *,
    user_offsets: NDArray[_Float] | None = None,
    item_offsets: NDArray[_Float] | None = None,
    threads: int = 0,
) -> NDArray[_Float]: ...
