"""Functions that run on the Dask workers (module level, so they pickle by reference).

Every function is pure: it never modifies its inputs (a lost result is recomputed from the
same inputs and must come out the same), and its reductions run in the local training's
order (each block's share returned as reduction parts: :func:`alskit._reduction.reduction_parts`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._atomic import atomic_output
from .._native import core
from .._reduction import ReductionPart, in_block_order, reduction_parts
from ..als._serving import select_top_n
from ..bias import BiasModel, item_biases_of, row_sums, user_biases_of
from ..data import CSRMatrix, Vocabulary
from ..recommendations import Recommendations
from ._blocks import Layout, RowBlock
from ._model import Side, Spec, solve_rows, training_values


def hold(value: Any) -> Any:
    """A task whose result is its argument (so the argument lives in the task graph and a
    lost copy is rebuilt from it)."""
    return value


def item(pair: Any, index: int) -> Any:
    return pair[index]


# ---- data preparation --------------------------------------------------------------------


def rating_partials(block: RowBlock, n: int) -> list[ReductionPart]:
    """The block's share of Σ ratings over the ``n`` user rows (for the global mean)."""
    values = block.values
    if values is None:
        raise ValueError("the bias model needs ratings, but the dataset has no rating column")
    return reduction_parts(block.lo, n, row_sums(block.indptr, lambda s: values[s]))


def item_biases(block: RowBlock, global_bias: float, damping: float) -> NDArray[np.float64]:
    assert block.values is not None
    return item_biases_of(block.indptr, block.values, global_bias, damping)


def user_biases(
    block: RowBlock, global_bias: float, items: NDArray[np.float64], damping: float
) -> NDArray[np.float64]:
    assert block.values is not None
    return user_biases_of(block.indptr, block.indices, block.values, global_bias, items, damping)


def train_block(spec: Spec, side: Side, block: RowBlock, bias: BiasModel | None) -> RowBlock:
    values = training_values(spec, side, block.indptr, block.indices, block.values, block.lo, bias)
    return RowBlock(block.lo, block.hi, block.indptr, block.indices, values)


def train_stats(block: RowBlock, ncols: int) -> tuple[int, int, float]:
    """(nnz, longest row, largest |value|) of a training block, after validating it once
    (its CSR structure against the ``ncols`` fixed-side rows, its values finite): every
    half-epoch after this trusts the block, as local training trusts its validated matrix."""
    core.validate_csr(block.indptr, block.indices, block.values, ncols)
    values = block.values
    if values is None or len(values) == 0:
        return 0, 0, 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        largest = float(np.max(np.abs(values)))
    return len(values), int(np.diff(block.indptr).max()), largest


def seen_structure(block: RowBlock) -> tuple[int, int, NDArray[np.int64], NDArray[np.int32]]:
    return block.lo, block.hi, block.indptr, block.indices


# ---- routing (planned once) ----------------------------------------------------------------


@dataclass(frozen=True)
class RoutedGroup:
    """The row blocks one worker solves, with column numbers indexing the fixed-side rows
    that worker receives: the distinct columns its blocks reference, in order, gathered
    from each fixed block (``wanted[c]``: that block's local rows, its out-block)."""

    blocks: list[RowBlock]
    wanted: list[NDArray[np.int64]]


def route_plan(fixed: Layout, *blocks: RowBlock) -> RoutedGroup:
    """Spark MLlib's in/out-block plan for one worker's blocks, made once before the first
    epoch: each fixed-side row a worker needs crosses the network once per half-epoch."""
    columns = np.unique(np.concatenate([b.indices for b in blocks]))
    routed = [
        RowBlock(
            b.lo, b.hi, b.indptr, np.searchsorted(columns, b.indices).astype(np.int32), b.values
        )
        for b in blocks
    ]
    cuts = np.searchsorted(fixed.block_of(columns), np.arange(fixed.count + 1))
    wanted = [
        (columns[cuts[c] : cuts[c + 1]] - fixed.bounds(c)[0]).astype(np.int64)
        for c in range(fixed.count)
    ]
    return RoutedGroup(routed, wanted)


def wanted_rows(plan: RoutedGroup, c: int) -> NDArray[np.int64]:
    return plan.wanted[c]


def wanted_sizes(plan: RoutedGroup) -> list[int]:
    return [len(w) for w in plan.wanted]


def routed_block(plan: RoutedGroup, j: int) -> RowBlock:
    return plan.blocks[j]


def take_rows(factors: NDArray[Any], rows: NDArray[np.int64]) -> NDArray[Any]:
    return np.ascontiguousarray(factors[rows])


# ---- one half-epoch ------------------------------------------------------------------------


def _gram_of(rows: NDArray[Any]) -> NDArray[Any]:
    """One reduction block's Gram partial (the rows are the kernels' own output, or checked
    when read: trusted)."""
    return core.gram(np.ascontiguousarray(rows), 0.0, threads=1, trusted=True)


GramParts = dict[int, NDArray[Any]]  # reduction block -> its Gram partial, or its rows here


def gram_parts(factors: NDArray[Any], lo: int, n: int) -> tuple[GramParts, GramParts]:
    """A fixed-side factor block's share of the Gram: the partials of the reduction blocks
    it holds whole, and its rows of those it shares with neighbouring blocks."""
    whole: GramParts = {}
    shared: GramParts = {}
    for r, is_whole, value in reduction_parts(lo, n, factors, _gram_of):
        (whole if is_whole else shared)[r] = value
    return whole, shared


def shared_gram(r: int, *pieces: GramParts) -> GramParts:
    """The Gram partial of reduction block ``r``, whose rows are in ``pieces`` (the shared
    parts of its blocks, in row order)."""
    return {r: _gram_of(np.concatenate([p[r] for p in pieces]))}


def gram_total(reg: float, n: int, *partials: GramParts) -> NDArray[Any]:
    """Σ of the Gram partials of the reduction blocks of ``n`` rows, added in block order
    (the local reduction's order), plus ``reg`` on the diagonal: one task, so the reduction
    waits for no chain."""
    ordered = in_block_order({r: g for part in partials for r, g in part.items()}, n)
    total = np.zeros_like(ordered[0])
    for g in ordered:
        total += g
    total[np.diag_indices(len(total))] += total.dtype.type(reg)
    return total


Fixed = tuple[NDArray[Any], NDArray[Any] | None]  # a half-epoch's fixed rows, and their Gram


def whole_fixed_side(reg: float | None, *blocks: NDArray[Any]) -> Fixed:
    """The whole fixed side from its blocks (broadcast), with its Gram (plus ``reg`` on the
    diagonal) when ``reg`` is given: computed here, from all the rows, by the local
    training's own call (the same bits at any thread count), where routed mode reduces the
    blocks' partials (:func:`gram_total`)."""
    rows = np.ascontiguousarray(np.concatenate(blocks))
    gram = None if reg is None else core.gram(rows, reg, threads=1, trusted=True)
    return rows, gram


def solve_block(
    spec: Spec,
    side: Side,
    n: int,
    block: RowBlock,
    left: NDArray[Any],
    fixed: Fixed,
    gram: NDArray[Any] | None = None,
) -> tuple[NDArray[Any], list[ReductionPart]]:
    """The block's new factors (one native call) and its share of Σ‖Δrow‖² over the side's
    ``n`` rows (:func:`~alskit._reduction.reduction_parts` of the kernel's per-row terms),
    given the ``fixed`` rows and the Gram that came with them or, routed, ``gram``."""
    assert block.values is not None  # a training block always has its values
    right, with_rows = fixed
    gram = with_rows if gram is None else gram
    new = left.copy()
    terms = np.empty(block.hi - block.lo)
    solve_rows(spec, side, block.indptr, block.indices, block.values, new, right, gram, terms)
    return new, reduction_parts(block.lo, n, terms)


def received_rows(k: int, dtype: str, *received: NDArray[Any]) -> Fixed:
    """The fixed-side rows a worker received, in column order (see :class:`RoutedGroup`);
    their Gram comes separately (:func:`gram_total`)."""
    if not received:
        return np.zeros((0, k), dtype=dtype), None
    return np.ascontiguousarray(np.concatenate(received)), None


# ---- batch recommendation and prediction ---------------------------------------------------


def top_n_frame(
    shared: tuple[Any, ...],
    ids: NDArray[Any],
    factors: NDArray[Any],
    indptr: NDArray[np.int64] | None,
    indices: NDArray[np.int32] | None,
    user_offsets: NDArray[Any] | None,
) -> Any:
    """One block of users' top-N lists as a (user_id, item_id, score, rank) frame."""
    item_factors, n, item_offsets, items = shared
    exclude = None
    if indptr is not None and indices is not None:
        exclude = CSRMatrix(indptr, indices, None, (len(ids), len(items)))
    nums, scores = select_top_n(
        factors, user_offsets, item_factors, item_offsets, n, 1, exclude=exclude
    )
    return Recommendations.from_matrix(ids, nums, scores, items).to_df()


def top_n_meta(users: Vocabulary, items: Vocabulary, dtype: np.dtype[Any]) -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "user_id": users.ids()[:0],
            "item_id": items.ids()[:0],
            "score": np.empty(0, dtype),
            "rank": np.empty(0, np.int32),
        }
    )


def predict_frame(part: Any, model: Any, user_col: str, item_col: str) -> Any:
    scores = model.predict(part[user_col].to_numpy(), part[item_col].to_numpy(), threads=1)
    return part.assign(score=scores)


# ---- checkpoints ---------------------------------------------------------------------------


def write_array(path: str, array: NDArray[Any]) -> str:
    with atomic_output(path) as stream:
        np.save(stream, array, allow_pickle=False)
    return path


def read_array(path: str) -> NDArray[Any]:
    """A checkpointed factor block, checked finite (training trusts it from here on)."""
    array: NDArray[Any] = np.load(path, allow_pickle=False)
    if not np.isfinite(array).all():
        raise ValueError(f"checkpoint file {path} holds non-finite factors")
    return array


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    with atomic_output(path) as stream:
        stream.write(json.dumps(manifest, sort_keys=True).encode())


def read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    manifest: dict[str, Any] = json.loads(text)
    return manifest


def remove_files(paths: list[str]) -> None:
    for p in paths:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
