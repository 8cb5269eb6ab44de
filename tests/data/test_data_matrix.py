"""Tests for alskit.data.CSRMatrix and csr_from_coo."""

from __future__ import annotations

import numpy as np
import pytest

from alskit._native import core
from alskit.data import CSRMatrix, csr_from_coo
from alskit.data.matrix import indptr_dtype


def _random_coo(
    seed: int, nrows: int = 50, ncols: int = 40, nnz: int = 300
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    flat = rng.choice(nrows * ncols, size=nnz, replace=False)
    rows, cols = np.divmod(flat, ncols)
    return rows, cols, rng.normal(size=nnz)


def test_from_coo_matches_scipy() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    rows, cols, vals = _random_coo(1)
    csr = csr_from_coo(rows, cols, vals, (50, 40))
    csr.validate()
    assert csr.indptr.dtype == np.int32
    assert csr.indices.dtype == np.int32
    assert csr.values is not None and csr.values.dtype == np.float64
    ref = sparse.coo_array((vals, (rows, cols)), shape=(50, 40)).tocsr()
    ref.sort_indices()
    np.testing.assert_array_equal(csr.indptr, ref.indptr)
    np.testing.assert_array_equal(csr.indices, ref.indices)
    np.testing.assert_array_equal(csr.values, ref.data)
    np.testing.assert_array_equal(csr.to_scipy().toarray(), ref.toarray())
    assert (csr.nrows, csr.ncols, csr.nnz) == (50, 40, 300)
    np.testing.assert_array_equal(csr.row_lengths(), np.diff(ref.indptr))


def test_from_coo_sorted_with_empty_rows() -> None:
    rows = np.array([3, 0, 3, 0, 3])
    cols = np.array([2, 5, 0, 1, 4])
    csr = csr_from_coo(rows, cols, np.arange(5, dtype=np.float32), (5, 6))
    assert csr.indptr.tolist() == [0, 2, 2, 2, 5, 5]
    assert csr.indices.tolist() == [1, 5, 0, 2, 4]
    assert csr.values is not None and csr.values.tolist() == [3.0, 1.0, 2.0, 0.0, 4.0]
    assert csr.values.dtype == np.float32  # float dtypes are kept
    idx, vals = csr.row(3)
    assert idx.tolist() == [0, 2, 4] and vals is not None and vals.tolist() == [2.0, 0.0, 4.0]
    assert csr.row(1)[0].shape == (0,)
    with pytest.raises(IndexError):
        csr.row(5)


def test_from_coo_errors() -> None:
    with pytest.raises(ValueError, match=r"duplicate entry \(1, 2\)"):
        csr_from_coo([1, 0, 1], [2, 0, 2], None, (2, 3))
    with pytest.raises(ValueError, match="rows"):
        csr_from_coo([0, 2], [0, 0], None, (2, 3))
    with pytest.raises(ValueError, match="cols"):
        csr_from_coo([0, 1], [0, -1], None, (2, 3))
    with pytest.raises(ValueError, match="rows has 2 entries but cols has 1"):
        csr_from_coo([0, 1], [0], None, (2, 3))
    with pytest.raises(ValueError, match="values"):
        csr_from_coo([0, 1], [0, 1], [1.0], (2, 3))
    with pytest.raises(TypeError, match="values"):
        csr_from_coo([0, 1], [0, 1], ["a", "b"], (2, 3))


def test_values_none_means_ones() -> None:
    csr = csr_from_coo([0, 1], [1, 0], None, (2, 2))
    assert csr.values is None
    np.testing.assert_array_equal(csr.to_scipy().toarray(), [[0, 1], [1, 0]])
    with_vals = csr.with_values(np.array([2.0, 3.0]))
    assert with_vals.indices is csr.indices
    with pytest.raises(ValueError, match="values has length 1"):
        csr.with_values(np.array([2.0]))


def test_transpose_matches_swapped_coo() -> None:
    rows, cols, vals = _random_coo(2, 30, 20, 200)
    csr = csr_from_coo(rows, cols, vals, (30, 20))
    t = CSRMatrix(*core.transpose_csr(csr.indptr, csr.indices, csr.values, 20), (20, 30))
    ref = csr_from_coo(cols, rows, vals, (20, 30))
    t.validate()
    np.testing.assert_array_equal(t.indptr, ref.indptr)
    np.testing.assert_array_equal(t.indices, ref.indices)
    np.testing.assert_array_equal(t.values, ref.values)


def test_construction_checks() -> None:
    indptr = np.array([0, 1, 2], dtype=np.int32)
    indices = np.array([0, 1], dtype=np.int32)
    with pytest.raises(TypeError, match="indptr"):
        CSRMatrix(indptr.astype(np.float64), indices, None, (2, 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="indptr has length"):
        CSRMatrix(indptr, indices, None, (3, 2))
    with pytest.raises(TypeError, match="indices"):
        CSRMatrix(indptr, indices.astype(np.int64), None, (2, 2))
    with pytest.raises(ValueError, match="values has length"):
        CSRMatrix(indptr, indices, np.ones(3), (2, 2))
    with pytest.raises(TypeError, match="values"):
        CSRMatrix(indptr, indices, np.ones(2, dtype=np.int64), (2, 2))
    ok = CSRMatrix(indptr.astype(np.int64), indices, np.ones(2), (2, 2))
    ok.validate()


@pytest.mark.parametrize(
    ("indptr", "indices", "message"),
    [
        ([1, 1, 2], [0, 1], "start at 0"),
        ([0, 1, 3], [0, 1], "end at nnz"),
        ([0, 2, 1, 3], [0, 1, 1], "non-decreasing"),
        ([0, 1, 2], [0, 5], r"indices\[1\] = 5"),
        ([0, 1, 2], [0, -1], r"indices\[1\] = -1"),
        ([0, 2, 2], [1, 0], "strictly increasing"),
        ([0, 2, 2], [1, 1], "strictly increasing"),
    ],
)
def test_validate_rejects(indptr: list[int], indices: list[int], message: str) -> None:
    ip = np.array(indptr, dtype=np.int32)
    csr = CSRMatrix(ip, np.array(indices, dtype=np.int32), None, (len(indptr) - 1, 3))
    with pytest.raises(ValueError, match=message):
        csr.validate()


def test_validate_allows_row_boundary_decrease() -> None:
    ip = np.array([0, 2, 2, 4], dtype=np.int32)
    csr = CSRMatrix(ip, np.array([1, 2, 0, 1], dtype=np.int32), None, (3, 3))
    csr.validate()
    unsorted = CSRMatrix(ip, np.array([2, 1, 0, 1], dtype=np.int32), None, (3, 3))
    unsorted.validate(sorted_indices=False)


def test_indptr_dtype_threshold() -> None:
    assert indptr_dtype(0) is np.int32
    assert indptr_dtype(2**31 - 1) is np.int32
    assert indptr_dtype(2**31) is np.int64


def test_from_scipy_sums_duplicates_and_keeps_zeros() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    coo = sparse.coo_array(
        (np.array([1.0, 0.0, 2.0, 3.0]), (np.array([1, 0, 1, 1]), np.array([2, 0, 0, 2]))),
        shape=(2, 3),
    )
    csr = CSRMatrix.from_scipy(coo)
    csr.validate()
    assert csr.indptr.tolist() == [0, 1, 3]
    assert csr.indices.tolist() == [0, 0, 2]
    assert csr.values is not None and csr.values.tolist() == [0.0, 2.0, 4.0]
    with pytest.raises(TypeError, match="scipy sparse"):
        CSRMatrix.from_scipy(np.eye(2))
