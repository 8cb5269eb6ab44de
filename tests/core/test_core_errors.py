"""Bad arguments: every native function raises TypeError/ValueError naming the argument, and
nothing is written to `left` when the call is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import reference as ref

Kwargs = dict[str, Any]

NROWS, NCOLS, K = 4, 5, 3


def good_arguments(function: str) -> Kwargs:
    """A valid call of `function` (float64, int64 indptr, k = 3)."""
    rng = np.random.default_rng(0)
    csr: Kwargs = {
        "indptr": np.array([0, 2, 2, 5, 6], dtype=np.int64),
        "indices": np.array([0, 3, 1, 2, 4, 0], dtype=np.int32),
        "values": rng.uniform(0.5, 2.0, size=6),
    }
    right = ref.make_factors(rng, NCOLS, K)
    left = ref.make_factors(rng, NROWS, K)
    gram = ref.gram(right, 0.1)
    if function == "validate_csr":
        return {**csr, "ncols": NCOLS}
    if function == "transpose_csr":
        return {**csr, "ncols": NCOLS, "threads": 1}
    if function == "gram":
        return {"factors": right, "reg": 0.1, "threads": 1}
    if function == "explicit_half_epoch":
        return {**csr, "left": left, "right": right, "reg": 0.1, "threads": 1}
    if function == "implicit_half_epoch":
        return {
            **csr,
            "left": left,
            "right": right,
            "gram": gram,
            "solver": "cholesky",
            "cg_steps": 3,
            "threads": 1,
        }
    if function == "fold_in_explicit":
        return {**csr, "right": right, "reg": 0.1, "threads": 1}
    if function == "fold_in_implicit":
        return {**csr, "right": right, "gram": gram, "threads": 1}
    raise AssertionError(function)


FUNCTIONS = (
    "validate_csr",
    "transpose_csr",
    "gram",
    "explicit_half_epoch",
    "implicit_half_epoch",
    "fold_in_explicit",
    "fold_in_implicit",
)
CSR_FUNCTIONS = tuple(f for f in FUNCTIONS if f != "gram")
FLOAT_ARRAYS = ("values", "left", "right", "gram", "factors")
ARRAYS = ("indptr", "indices", *FLOAT_ARRAYS)


@dataclass(frozen=True)
class Case:
    """One bad argument: `mutate` spoils a valid call in place."""

    name: str
    mutate: Callable[[Kwargs], None]
    error: type[Exception]
    match: str
    applies: Callable[[Kwargs], bool]


def setter(key: str, make: Callable[[Any], Any]) -> Callable[[Kwargs], None]:
    def mutate(kwargs: Kwargs) -> None:
        kwargs[key] = make(kwargs[key])

    return mutate


def options(**values: Any) -> Callable[[Kwargs], None]:
    def mutate(kwargs: Kwargs) -> None:
        kwargs.update(values)

    return mutate


def has(*keys: str) -> Callable[[Kwargs], bool]:
    return lambda kwargs: all(key in kwargs for key in keys)


def read_only(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.setflags(write=False)
    return a


def strided(a: np.ndarray) -> np.ndarray:
    """The same values, not contiguous (every other element/row of a larger array)."""
    big = np.repeat(a, 2, axis=0)
    return big[::2]


def swapped(a: np.ndarray) -> np.ndarray:
    return a.astype(a.dtype.newbyteorder())


def with_entry(index: int, value: Any) -> Callable[[np.ndarray], np.ndarray]:
    def make(a: np.ndarray) -> np.ndarray:
        a = a.copy()
        a[index] = value
        return a

    return make


def other_ndim(a: np.ndarray) -> np.ndarray:
    return a.reshape(1, -1) if a.ndim == 1 else a.ravel()


def array_cases() -> list[Case]:
    cases = []
    for name in ARRAYS:
        dims = 1 if name in ("indptr", "indices", "values") else 2
        cases += [
            Case(
                f"{name}-list",
                setter(name, lambda a: a.tolist()),
                TypeError,
                rf"^{name} must be a numpy\.ndarray, got list",
                has(name),
            ),
            Case(
                f"{name}-ndim",
                setter(name, other_ndim),
                ValueError,
                rf"^{name} must be {dims}-dimensional",
                has(name),
            ),
            Case(
                f"{name}-strided",
                setter(name, strided),
                ValueError,
                rf"^{name} must be C-contiguous",
                has(name),
            ),
            Case(
                f"{name}-byteswapped",
                setter(name, swapped),
                TypeError,
                rf"^{name} must be in native byte order",
                has(name),
            ),
        ]
    for name in ("indptr", "indices"):
        cases.append(
            Case(
                f"{name}-float",
                setter(name, lambda a: a.astype(np.float64)),
                TypeError,
                rf"^{name} must have dtype int32",
                has(name),
            )
        )
    for name in FLOAT_ARRAYS:
        cases.append(
            Case(
                f"{name}-int",
                setter(name, lambda a: a.astype(np.int32)),
                TypeError,
                rf"^{name} must have dtype float(32 or float)?64",
                has(name),
            )
        )
    return cases


CASES: list[Case] = [
    *array_cases(),
    # dtypes
    Case(
        "indices-int64",
        setter("indices", lambda a: a.astype(np.int64)),
        TypeError,
        r"^indices must have dtype int32, got int64",
        has("indices"),
    ),
    Case(
        "indptr-uint64",
        setter("indptr", lambda a: a.astype(np.uint64)),
        TypeError,
        r"^indptr must have dtype int32 or int64",
        has("indptr"),
    ),
    Case(
        "values-float16",
        setter("values", lambda a: a.astype(np.float16)),
        TypeError,
        r"^values must have dtype float32 or float64",
        has("values"),
    ),
    *[
        Case(
            f"{name}-float32-mixed",
            setter(name, lambda a: a.astype(np.float32)),
            TypeError,
            rf"^{name} must have dtype float64 \(the same as",
            has("values", name),
        )
        for name in ("left", "right", "gram")
    ],
    Case(  # values decide the type; the first other array is named
        "values-float32-mixed",
        setter("values", lambda a: a.astype(np.float32)),
        TypeError,
        r"^(left|right) must have dtype float32 \(the same as",
        has("values", "right"),
    ),
    # shapes and layouts
    Case(
        "left-fortran",
        setter("left", np.asfortranarray),
        ValueError,
        r"^left must be C-contiguous",
        has("left"),
    ),
    Case(
        "left-column-slice",
        setter("left", lambda a: np.hstack([a, a])[:, :K]),
        ValueError,
        r"^left must be C-contiguous",
        has("left"),
    ),
    Case(
        "left-read-only",
        setter("left", read_only),
        ValueError,
        r"^left is read-only",
        has("left"),
    ),
    Case(
        "left-rows",
        setter("left", lambda a: a[:-1].copy()),
        ValueError,
        rf"^left must have shape \({NROWS}, {K}\), got \({NROWS - 1}, {K}\)",
        has("left"),
    ),
    Case(
        "left-cols",
        setter("left", lambda a: a[:, :-1].copy()),
        ValueError,
        rf"^left must have shape \({NROWS}, {K}\), got \({NROWS}, {K - 1}\)",
        has("left"),
    ),
    Case(
        "gram-shape",
        setter("gram", lambda a: a[:-1, :-1].copy()),
        ValueError,
        rf"^gram must have shape \({K}, {K}\)",
        has("gram"),
    ),
    Case(
        "values-length",
        setter("values", lambda a: a[:-1].copy()),
        ValueError,
        r"^values has 5 entries but indices has 6",
        has("values"),
    ),
    Case(
        "indptr-empty",
        setter("indptr", lambda a: a[:0].copy()),
        ValueError,
        r"^indptr must have at least one entry",
        has("indptr"),
    ),
    Case(
        "no-factors",
        lambda kw: kw.update(
            {key: kw[key][:, :0].copy() for key in ("left", "right") if key in kw}
            | ({"gram": np.zeros((0, 0))} if "gram" in kw else {})
        ),
        ValueError,
        r"embedding size must be at least 1",
        has("left", "right"),
    ),
    # scalars
    Case(
        "threads-negative",
        setter("threads", lambda _: -1),
        ValueError,
        r"^threads must be >= 0",
        has("threads"),
    ),
    Case(
        "reg-negative",
        setter("reg", lambda _: -0.1),
        ValueError,
        r"^reg must be finite and non-negative",
        lambda kw: "reg" in kw and "factors" not in kw,
    ),
    Case(
        "reg-nan",
        setter("reg", lambda _: float("nan")),
        ValueError,
        r"^reg must be finite and non-negative",
        lambda kw: "reg" in kw and "factors" not in kw,
    ),
    Case(
        "solver-unknown",
        setter("solver", lambda _: "lu"),
        ValueError,
        r"^solver must be 'cholesky', 'cg' or 'subspace', got 'lu'",
        has("solver"),
    ),
    *[
        Case(
            f"cg-steps-{steps}-{solver}",
            options(cg_steps=steps, solver=solver),
            ValueError,
            r"^cg_steps must be at least 1",
            has("cg_steps"),
        )
        for steps in (0, -2)
        for solver in ("cg", "cholesky")
    ],
    Case(
        "ncols-negative",
        setter("ncols", lambda _: -1),
        ValueError,
        r"^ncols must be non-negative",
        has("ncols"),
    ),
    # malformed CSR
    Case(
        "indptr-not-monotone",
        setter("indptr", with_entry(2, 1)),  # [0, 2, 1, 5, 6]
        ValueError,
        r"^indptr is not monotone at row 1",
        has("indptr"),
    ),
    Case(
        "indptr-first-negative",
        setter("indptr", with_entry(0, -1)),
        ValueError,
        r"^indptr\[0\] is negative",
        has("indptr"),
    ),
    Case(
        "indptr-past-end",
        setter("indptr", with_entry(4, 7)),
        ValueError,
        r"^indptr points past the end of indices \(7 > 6\)",
        has("indptr"),
    ),
    Case(
        "indptr-int32-past-end",
        setter("indptr", lambda a: with_entry(4, 7)(a).astype(np.int32)),
        ValueError,
        r"^indptr points past the end of indices",
        has("indptr"),
    ),
    Case(
        "index-too-large",
        setter("indices", with_entry(3, NCOLS)),
        ValueError,
        rf"^indices\[3\] = {NCOLS} is outside \[0, {NCOLS}\)",
        has("indices"),
    ),
    Case(
        "index-negative",
        setter("indices", with_entry(5, -1)),
        ValueError,
        rf"^indices\[5\] = -1 is outside \[0, {NCOLS}\)",
        has("indices"),
    ),
    Case(
        "value-nan",
        setter("values", with_entry(1, np.nan)),
        ValueError,
        r"^values\[1\] is not finite",
        has("values"),
    ),
    Case(
        "value-inf",
        setter("values", with_entry(4, -np.inf)),
        ValueError,
        r"^values\[4\] is not finite",
        has("values"),
    ),
]

TABLE = [
    pytest.param(function, case, id=f"{function}-{case.name}")
    for function in FUNCTIONS
    for case in CASES
    if case.applies(good_arguments(function))
]


def call(core: ModuleType, function: str, kwargs: Kwargs) -> Any:
    return getattr(core, function)(**kwargs)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_good_arguments_are_accepted(core: ModuleType, function: str) -> None:
    """The table's baseline call works: each case fails only because of its one change."""
    kwargs = good_arguments(function)
    call(core, function, kwargs)
    if "solver" in kwargs:
        call(core, function, {**kwargs, "solver": "cg", "cg_steps": 1})


@pytest.mark.parametrize(("function", "case"), TABLE)
def test_bad_argument(core: ModuleType, function: str, case: Case) -> None:
    kwargs = good_arguments(function)
    case.mutate(kwargs)
    left = kwargs.get("left")
    before = np.array(left, copy=True) if left is not None else None
    with pytest.raises(case.error, match=case.match):
        call(core, function, kwargs)
    if before is not None:  # refused before the kernel ran: nothing written
        assert np.array_equal(np.asarray(kwargs["left"]), before, equal_nan=True)


def test_table_covers_every_function() -> None:
    counts = {f: sum(1 for p in TABLE if p.values[0] == f) for f in FUNCTIONS}
    assert counts["gram"] >= 6 and all(n >= 25 for f, n in counts.items() if f != "gram"), counts


@pytest.mark.parametrize("function", CSR_FUNCTIONS)
def test_threads_and_options_are_keyword_only(core: ModuleType, function: str) -> None:
    kwargs = good_arguments(function)
    positional = [kwargs.pop(k) for k in list(kwargs) if k not in ("threads", "solver", "cg_steps")]
    with pytest.raises(TypeError):
        getattr(core, function)(*positional, 1)


def test_left_must_be_an_ndarray_even_if_convertible(core: ModuleType) -> None:
    kwargs = good_arguments("explicit_half_epoch")
    kwargs["left"] = kwargs["left"].tolist()
    original = [row[:] for row in kwargs["left"]]
    with pytest.raises(TypeError, match=r"^left must be a numpy\.ndarray, got list"):
        call(core, "explicit_half_epoch", kwargs)
    assert kwargs["left"] == original


def test_malformed_csr_leaves_left_untouched(core: ModuleType) -> None:
    """Validation runs before any row is solved: an error in the last entry changes no row."""
    for function in ("explicit_half_epoch", "implicit_half_epoch"):
        kwargs = good_arguments(function)
        kwargs["values"][-1] = np.nan
        before = kwargs["left"].copy()
        with pytest.raises(ValueError, match=r"^values\[5\] is not finite"):
            call(core, function, kwargs)
        assert np.array_equal(kwargs["left"], before)


def test_numerical_error_class(core: ModuleType) -> None:
    assert issubclass(core.NumericalError, FloatingPointError)
    assert core.NumericalError.__module__ == core.__name__


# --------------------------------------------------------------------------------------------
# Regressions (found by this suite, fixed in the core)
# --------------------------------------------------------------------------------------------

# Non-finite factors used to pass silently: a NaN in `right` or `gram` made the Cholesky path
# fall back to a rank-0 solve (zero rows) and CG keep its warm start. The binding now refuses
# non-finite left/right/gram arrays with a ValueError naming them, before any row is touched.


@pytest.mark.parametrize(
    ("function", "where"),
    [
        ("explicit_half_epoch", "right"),
        ("fold_in_explicit", "right"),
        *[
            (f, w)
            for f in ("implicit_half_epoch", "implicit_half_epoch-cg", "fold_in_implicit")
            for w in ("right", "gram")
        ],
    ],
)
def test_non_finite_factors_are_refused(core: ModuleType, function: str, where: str) -> None:
    name, _, solver = function.partition("-")
    kwargs = good_arguments(name)
    if solver:
        kwargs["solver"] = solver
    if where == "right":
        kwargs["right"][3, 1] = np.nan  # column 3 is used by row 0
    else:
        kwargs["gram"][1, 1] = np.nan
    left = kwargs.get("left")
    before = None if left is None else left.copy()
    with pytest.raises(ValueError, match=rf"^{where} contains a non-finite value"):
        call(core, name, kwargs)
    if before is not None:
        assert np.array_equal(kwargs["left"], before)


# gram() used to accept a negative or NaN `reg` (returning YᵀY − I) unlike every other kernel.


@pytest.mark.parametrize("reg", [-0.1, float("nan")])
def test_gram_rejects_bad_reg(core: ModuleType, reg: float) -> None:
    kwargs = good_arguments("gram")
    kwargs["reg"] = reg
    with pytest.raises(ValueError, match=r"^reg must be finite and non-negative"):
        call(core, "gram", kwargs)
