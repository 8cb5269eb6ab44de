"""``trusted=True``: the scorers validate a CSR and their factors once, when they enter the
model, and then tell the kernels not to scan them again. Skipping the scans never changes a
result: every kernel gives the same bits with and without it."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

import reference as ref

REG = 0.1


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("solver", ["explicit", "cholesky", "cg"])
def test_trusted_gives_the_same_bits(core: ModuleType, dtype: type, solver: str) -> None:
    rng = np.random.default_rng(5)
    csr = ref.make_csr(rng, 40, 60, value_dtype=dtype, values="weights")
    right = ref.make_factors(rng, 60, 8, dtype)
    left = ref.make_factors(rng, 40, 8, dtype)
    results = []
    for trusted in (False, True):
        out = left.copy()
        if solver == "explicit":
            delta = core.explicit_half_epoch(
                csr.indptr, csr.indices, csr.values, out, right, REG, trusted=trusted
            )
            folded = core.fold_in_explicit(
                csr.indptr, csr.indices, csr.values, right, REG, trusted=trusted
            )
        else:
            gram = core.gram(right, REG, trusted=trusted)
            delta = core.implicit_half_epoch(
                csr.indptr,
                csr.indices,
                csr.values,
                out,
                right,
                gram,
                solver=solver,
                trusted=trusted,
            )
            folded = core.fold_in_implicit(
                csr.indptr, csr.indices, csr.values, right, gram, trusted=trusted
            )
        results.append((delta, out, folded))
    (d0, out0, f0), (d1, out1, f1) = results
    assert d0 == d1
    assert np.array_equal(out0, out1) and np.array_equal(f0, f1)


def test_untrusted_inputs_are_still_checked(core: ModuleType) -> None:
    rng = np.random.default_rng(6)
    csr = ref.make_csr(rng, 10, 12)
    right = ref.make_factors(rng, 12, 4)
    left = ref.make_factors(rng, 10, 4)
    right[3, 1] = np.nan
    with pytest.raises(ValueError, match="right"):
        core.explicit_half_epoch(csr.indptr, csr.indices, csr.values, left, right, REG)
    with pytest.raises(ValueError, match="factors"):
        core.gram(right, REG)
