"""DaskTrainer: ALS training, batch recommendation and prediction on a Dask cluster."""

from __future__ import annotations

import hashlib
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .._native import core
from .._reduction import parts_total
from ..bias import BiasModel, damping_pair
from ..data import CSRMatrix, Dataset, Vocabulary
from ..data._compat import require_module
from ..data.matrix import indptr_dtype
from ..progress import EpochProgress, progress_wanted
from ..training import TrainingOptions
from . import _tasks as t
from ._blocks import (
    Layout,
    RowBlock,
    assemble_block,
    dataset_blocks,
    distinct_ids,
    find_columns,
    piece,
    split_partition,
    vocabulary_of,
)
from ._model import (
    Side,
    Spec,
    check_values,
    delta_norm,
    finish_model,
    initial_block,
    needs_gram,
    recommend_blocks,
)
from ._pinned import NAME as PINNED
from ._pinned import PinnedTasks

Mode = Literal["auto", "broadcast", "routed"]
_MANIFEST = "checkpoint.json"


@dataclass
class RunStats:
    """What the last training run did: the exchange mode, the planned bytes of factor rows
    that cross between workers per half-epoch (user half, item half; routed with the implicit
    Gram, its shared reduction blocks' rows too), the blocks per side, and whether the tasks were
    pinned to their blocks' workers (alskit's scheduler plugin registered; otherwise placed
    loosely, and work stealing may move some, with their data)."""

    mode: str = ""
    bytes_per_half_epoch: dict[str, int] = field(default_factory=dict)
    blocks: dict[str, int] = field(default_factory=dict)
    resumed_from: int = 0
    pinned: bool = False


@dataclass
class _Side:
    name: Side
    layout: Layout
    rows: list[Any]  # futures of RowBlock
    train: list[Any] = field(default_factory=list)  # futures of RowBlock
    factors: list[Any] = field(default_factory=list)  # futures of factor blocks
    owners: list[int] = field(default_factory=list)  # worker (index) holding each block
    routed: list[Any] = field(default_factory=list)  # futures of the routed RowBlocks
    wanted: dict[tuple[int, int], Any] = field(default_factory=dict)  # (worker, c) -> rows
    sizes: dict[tuple[int, int], int] = field(default_factory=dict)  # (worker, c) -> count

    def place(self, workers: int) -> None:
        """Contiguous ranges of blocks per worker (before the blocks' sizes are known)."""
        self.owners = [b * workers // self.layout.count for b in range(self.layout.count)]

    def balance(self, workers: int, cost: list[float]) -> None:
        """Blocks to workers by solve cost, largest first to the least loaded (so the
        slowest worker, which sets the half-epoch's time, has as little as possible)."""
        load = [0.0] * workers
        owners = [0] * len(cost)
        for b in sorted(range(len(cost)), key=lambda b: (-cost[b], b)):
            w = min(range(workers), key=lambda w: (load[w], w))
            owners[b] = w
            load[w] += cost[b]
        self.owners = owners


@dataclass
class _Epoch:
    """An epoch's submitted results: its blocks' shares of Σ‖Δ‖² (reduction parts) and its
    factor blocks (futures)."""

    epoch: int
    deltas_p: list[Any]
    deltas_q: list[Any]
    user: list[Any]
    item: list[Any]


class DaskTrainer:
    """Trains alskit's ALS scorers on a ``distributed.Client`` and serves them in batch.

    ``trainer.train(model, data, options)`` trains ``model`` (a
    :class:`~alskit.als.BiasedMFScorer` or :class:`~alskit.als.ImplicitMFScorer`) as
    ``model.train(data, options)`` would — the same factors, bit for bit, for any number of
    workers and blocks — and leaves it an ordinary trained scorer. ``data`` is a local
    :class:`~alskit.data.Dataset` or a Dask DataFrame of (user, item[, rating]) rows.

    ``blocks``: row blocks per side (default four per worker; at most one per row), of
    rows as even in number as can be, placed to balance the solve cost per worker.
    ``mode``: ``"broadcast"`` ships the whole fixed side to every worker each half-epoch,
    ``"routed"`` ships each block only the fixed rows it references (planned once);
    ``"auto"`` broadcasts when the larger factor matrix fits ``memory_budget`` bytes per
    worker (default a quarter of the smallest worker's memory limit). ``checkpoint_dir``
    (a directory every worker and the client can write): each epoch's factors are written
    there atomically, and a later run with the same model, data and layout resumes from the
    last complete epoch (the default ``blocks`` follows the worker count: pass it explicitly
    to resume on a cluster of another size). ``on_epoch(epoch, metrics)`` is called after
    each epoch.
    """

    def __init__(
        self,
        client: Any,
        *,
        blocks: int | None = None,
        mode: Mode = "auto",
        memory_budget: int | None = None,
        checkpoint_dir: str | Path | None = None,
        on_epoch: Callable[[int, dict[str, float]], None] | None = None,
        user_col: str = "user_id",
        item_col: str = "item_id",
        rating_col: str | None = "rating",
    ) -> None:
        if mode not in ("auto", "broadcast", "routed"):
            raise ValueError(f"mode must be 'auto', 'broadcast' or 'routed', got {mode!r}")
        if blocks is not None and (isinstance(blocks, bool) or int(blocks) < 1):
            raise ValueError(f"blocks must be a positive integer, got {blocks!r}")
        if memory_budget is not None and memory_budget <= 0:
            raise ValueError(f"memory_budget must be positive, got {memory_budget!r}")
        self.client = client
        self.blocks = blocks
        self.mode = mode
        self.memory_budget = memory_budget
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.on_epoch = on_epoch
        self.columns = (user_col, item_col, rating_col)
        self.stats = RunStats()
        self.worker_timeout = 300.0  # seconds to wait for a worker when there is none

    # ---- helpers -----------------------------------------------------------------------

    def _workers(self) -> list[str]:
        workers = sorted(self.client.scheduler_info()["workers"])
        if not workers:  # e.g. the only worker is being restarted: wait for one
            self.client.wait_for_workers(1, timeout=self.worker_timeout)
            workers = sorted(self.client.scheduler_info()["workers"])
        self._current = workers
        return workers

    def _owner(self, side: _Side, b: int) -> str:
        """The worker that holds block ``b`` of ``side``; a task placed there runs there
        unless that worker is lost (then anywhere: _pinned.py)."""
        return self._at(side.owners[b])

    def _at(self, w: int) -> str:
        workers: list[str] = self._current
        return workers[w % len(workers)]

    def _submit(
        self, fn: Callable[..., Any], *args: Any, at: str | None = None, priority: int = 0
    ) -> Any:
        kwargs: dict[str, Any] = {
            "key": f"alskit-{fn.__name__}-{self._run}-{self._seq}",
            "priority": priority,
        }
        self._seq += 1
        if at is not None:
            kwargs.update(workers=[at], allow_other_workers=not self.stats.pinned)
        return self.client.submit(fn, *args, **kwargs)

    def _pin(self) -> bool:
        """Registers the scheduler plugin that lets pinned tasks move once their worker is
        gone (alskit/distributed/_pinned.py); False, with a warning, where the scheduler cannot
        load it (alskit not installed there)."""
        try:
            self.client.register_plugin(PinnedTasks(), name=PINNED)
        except Exception as error:  # the scheduler could not unpickle or start the plugin
            warnings.warn(
                f"alskit's scheduler plugin could not be registered ({error}); tasks are "
                "placed loosely, so work stealing may move some of them with their data",
                RuntimeWarning,
                stacklevel=3,
            )
            return False
        return True

    def _budget(self) -> int:
        if self.memory_budget is not None:
            return int(self.memory_budget)
        limits = [
            w.get("memory_limit") or 0 for w in self.client.scheduler_info()["workers"].values()
        ]
        known = [m for m in limits if m > 0]
        return min(known) // 4 if known else 2**62

    # ---- training ------------------------------------------------------------------------

    def train(self, model: Any, data: Any, options: TrainingOptions | None = None) -> Any:
        """Train ``model`` on the cluster; returns the model (trained, ordinary, local)."""
        spec = Spec.of(model)
        options = options if options is not None else TrainingOptions()
        if not isinstance(options, TrainingOptions):
            raise TypeError(f"options must be TrainingOptions, got {type(options).__name__}")
        if model.trained_epochs > 0 and not options.retrain:
            return model
        if options.resume:
            raise ValueError(
                "DaskTrainer does not continue a model's own factors (options.resume); give it "
                "a checkpoint_dir: a later run resumes from the last epoch written there"
            )
        rng = options.random_generator()
        self._run = uuid.uuid4().hex[:8]
        self._seq = 0
        self.stats = RunStats()
        self.stats.pinned = self._pin()

        users, items, user_side, item_side = self._blocks_of(data)
        block_nnz = {}
        for s in (user_side, item_side):
            self.stats.blocks[s.name] = s.layout.count
            block_nnz[s.name] = self.client.gather([self._submit(_nnz, r) for r in s.rows])
        bias = None
        if spec.explicit:
            bias = self._bias(spec, user_side, item_side, items, sum(block_nnz["user"]))
        bias_f = None if bias is None else self.client.scatter(bias, broadcast=True)
        for s in (user_side, item_side):
            rows_b = [hi - lo for lo, hi in map(s.layout.bounds, range(s.layout.count))]
            s.balance(
                len(self._current),
                [_solve_cost(spec, n, r) for n, r in zip(block_nnz[s.name], rows_b, strict=True)],
            )
        for s in (user_side, item_side):
            s.train = [
                self._submit(t.train_block, spec, s.name, r, bias_f, at=self._owner(s, b))
                for b, r in enumerate(s.rows)
            ]
        stats = self.client.gather(
            [
                self._submit(t.train_stats, f, fixed.layout.n)
                for s, fixed in ((user_side, item_side), (item_side, user_side))
                for f in s.train
            ]
        )
        nnz = sum(st[0] for st in stats[: len(user_side.train)])
        check_values(spec, max(st[2] for st in stats), max(st[1] for st in stats))

        fixed_bytes = max(users.size, items.size) * spec.k * spec.dtype.itemsize
        mode = self.mode
        if mode == "auto":
            mode = "broadcast" if fixed_bytes <= self._budget() else "routed"
        self.stats.mode = mode

        fingerprint = self._fingerprint(spec, users, items, nnz, stats, user_side, item_side)
        start = self._initial_factors(spec, rng, user_side, item_side, fingerprint)
        self.stats.resumed_from = start
        if mode == "routed":
            self._plan_routes(user_side, item_side)
            self._plan_routes(item_side, user_side)
        self._record_bytes(spec, mode, user_side, item_side)

        label = f"{type(model).__name__} (Dask)"
        with EpochProgress(label, spec.epochs, progress_wanted(options.progress)) as bar:
            # Each epoch's tasks are submitted before the previous epoch is waited for (its
            # Σ‖Δ‖², checkpoint and report), so the workers never wait on the client.
            pending: _Epoch | None = None
            for epoch in range(start, spec.epochs):
                user_side.factors, dp = self._half(spec, mode, user_side, item_side)
                item_side.factors, dq = self._half(spec, mode, item_side, user_side)
                if pending is not None:
                    self._finish(pending, bar, fingerprint, user_side, item_side)
                pending = _Epoch(epoch + 1, dp, dq, user_side.factors, item_side.factors)
            if pending is not None:
                self._finish(pending, bar, fingerprint, user_side, item_side)

        user_f = self._collect(user_side, spec)
        item_f = self._collect(item_side, spec)
        seen = self._seen(user_side, items.size, nnz)
        finish_model(model, users, items, user_f, item_f, seen, bias, spec.epochs)
        return model

    def _finish(
        self, done: _Epoch, bar: EpochProgress, fp: str, user_side: _Side, item_side: _Side
    ) -> None:
        """Waits for epoch ``done``: its Σ‖Δ‖² totals, its checkpoint, its report."""
        parts = self.client.gather(done.deltas_p + done.deltas_q)
        split = len(done.deltas_p)
        metrics = {
            "deltaP": delta_norm(parts_total(parts[:split], user_side.layout.n)),
            "deltaQ": delta_norm(parts_total(parts[split:], item_side.layout.n)),
        }
        if self.checkpoint_dir is not None:
            self._checkpoint(done, fp, user_side, item_side)
        bar.epoch_done(done.epoch, metrics)
        if self.on_epoch is not None:
            self.on_epoch(done.epoch, metrics)

    def _blocks_of(self, data: Any) -> tuple[Vocabulary, Vocabulary, _Side, _Side]:
        workers = self._workers()
        count = self.blocks if self.blocks is not None else 4 * len(workers)
        if hasattr(data, "to_delayed") and hasattr(data, "npartitions"):
            return self._frame_blocks(data, count)
        from ..als._base import _as_dataset

        ds: Dataset = _as_dataset(data)
        ul, il = Layout.of(ds.user_count, count), Layout.of(ds.item_count, count)
        ub, ib = dataset_blocks(ds, ul, il)
        sides = []
        for name, layout, blocks in (("user", ul, ub), ("item", il, ib)):
            side = _Side(name, layout, [])  # type: ignore[arg-type]
            side.place(len(self._current))
            with warnings.catch_warnings():
                # Each block travels in its task on purpose: a lost copy is rebuilt from it.
                warnings.filterwarnings("ignore", "(Large object|Sending large graph)", UserWarning)
                side.rows = [
                    self._submit(t.hold, r, at=self._owner(side, b)) for b, r in enumerate(blocks)
                ]
            sides.append(side)
        return ds.users, ds.items, sides[0], sides[1]

    def _frame_blocks(self, frame: Any, count: int) -> tuple[Vocabulary, Vocabulary, _Side, _Side]:
        cols = find_columns([str(c) for c in frame.columns], *self.columns)
        keep = [c for c in (cols.user, cols.item, cols.rating) if c is not None]
        parts = self.client.compute(frame[keep].to_delayed())
        uniques_u = self.client.gather(
            [self._submit(distinct_ids, p, cols.user, "user ids") for p in parts]
        )
        uniques_i = self.client.gather(
            [self._submit(distinct_ids, p, cols.item, "item ids") for p in parts]
        )
        users, items = vocabulary_of(uniques_u, "user"), vocabulary_of(uniques_i, "item")
        del uniques_u, uniques_i
        ul, il = Layout.of(users.size, count), Layout.of(items.size, count)
        uv, iv = self.client.scatter([users, items], broadcast=True)
        split = [
            self._submit(split_partition, p, i, cols, uv, iv, ul, il) for i, p in enumerate(parts)
        ]
        sides = []
        for side_index, (name, layout) in enumerate((("user", ul), ("item", il))):
            side = _Side(name, layout, [])  # type: ignore[arg-type]
            side.place(len(self._current))
            for b in range(layout.count):
                at = self._owner(side, b)
                pieces = [self._submit(piece, s, side_index, b, at=at) for s in split]
                side.rows.append(
                    self._submit(assemble_block, name, *layout.bounds(b), uv, iv, *pieces, at=at)
                )
            sides.append(side)
        return users, items, sides[0], sides[1]

    def _bias(
        self, spec: Spec, user_side: _Side, item_side: _Side, items: Vocabulary, nnz: int
    ) -> BiasModel:
        """The damped bias model (``nnz`` ratings), its sums added in the local order (the
        global mean's from the user blocks' reduction parts)."""
        beta_user, beta_item = damping_pair(spec.config.damping)
        n = user_side.layout.n
        partials = self.client.gather(
            [self._submit(t.rating_partials, r, n) for r in user_side.rows]
        )
        global_bias = parts_total(partials, n) / nnz
        item_b = np.concatenate(
            self.client.gather(
                [self._submit(t.item_biases, r, global_bias, beta_item) for r in item_side.rows]
            )
        )
        item_f = self.client.scatter(item_b, broadcast=True)
        user_b = np.concatenate(
            self.client.gather(
                [
                    self._submit(t.user_biases, r, global_bias, item_f, beta_user)
                    for r in user_side.rows
                ]
            )
        )
        return BiasModel((beta_user, beta_item), global_bias, user_b, item_b, items)

    def _initial_factors(
        self, spec: Spec, rng: np.random.Generator, user_side: _Side, item_side: _Side, fp: str
    ) -> int:
        """Initial factors (items first, then users, from one generator, drawn block by block
        on the workers in a chain), or the last checkpoint's; returns the epochs done."""
        manifest = self._manifest()
        if manifest is not None and manifest.get("fingerprint") == fp:
            for s in (user_side, item_side):
                s.factors = [
                    self._submit(t.read_array, path, at=self._owner(s, b))
                    for b, path in enumerate(manifest[s.name])
                ]
            self._resume_files = list(manifest["user"]) + list(manifest["item"])
            return int(manifest["epoch"])
        self._resume_files = []
        state: Any = rng.bit_generator.state
        for s in (item_side, user_side):
            s.factors = []
            for b in range(s.layout.count):
                lo, hi = s.layout.bounds(b)
                pair = self._submit(initial_block, spec, hi - lo, state, at=self._owner(s, b))
                s.factors.append(self._submit(t.item, pair, 0, at=self._owner(s, b)))
                state = self._submit(t.item, pair, 1, at=self._owner(s, b))
        rng.bit_generator.state = state.result()  # the caller's generator advances as locally
        return 0

    def _groups(self, side: _Side) -> dict[int, list[int]]:
        """Each worker's blocks of ``side``."""
        groups: dict[int, list[int]] = {}
        for b, w in enumerate(side.owners):
            groups.setdefault(w, []).append(b)
        return groups

    def _plan_routes(self, side: _Side, fixed: _Side) -> None:
        """Per worker: its blocks with local column numbers, and which rows of each fixed
        block it needs (planned once; only the non-empty transfers become tasks)."""
        side.routed = [None] * side.layout.count
        side.wanted, side.sizes = {}, {}
        for w, blocks in self._groups(side).items():
            at = self._at(w)
            plan = self._submit(t.route_plan, fixed.layout, *[side.train[b] for b in blocks], at=at)
            for j, b in enumerate(blocks):
                side.routed[b] = self._submit(t.routed_block, plan, j, at=at)
            for c, size in enumerate(self._submit(t.wanted_sizes, plan, at=at).result()):
                if size > 0:
                    side.sizes[(w, c)] = size
                    side.wanted[(w, c)] = self._submit(t.wanted_rows, plan, c, at=at)

    def _record_bytes(self, spec: Spec, mode: str, user_side: _Side, item_side: _Side) -> None:
        """Bytes of fixed-side rows that cross between workers in each half-epoch."""
        row = spec.k * spec.dtype.itemsize
        for side, fixed in ((user_side, item_side), (item_side, user_side)):
            rows = _rows_moved(mode, side, fixed, needs_gram(spec))
            self.stats.bytes_per_half_epoch[side.name] = rows * row

    def _half(
        self, spec: Spec, mode: str, side: _Side, fixed: _Side
    ) -> tuple[list[Any], list[Any]]:
        """Solve every block of ``side`` given ``fixed``: new factor futures and the futures
        of their shares of Σ‖Δ‖² (reduction parts)."""
        self._workers()
        reg = spec.reg(side.name) if needs_gram(spec) else None
        # Broadcast: each worker computes the Gram from the whole fixed side it receives
        # anyway (no partials travel, no chain of tasks between the halves); routed: the
        # blocks' partials are reduced.
        gram = None if reg is None or mode == "broadcast" else self._reduced_gram(reg, fixed)
        results: list[Any] = [None] * side.layout.count
        for w, blocks in self._groups(side).items():
            at = self._at(w)
            if mode == "broadcast":
                # Each remote block is copied to this worker as soon as it is solved (a task
                # placed here that holds it), not all at once when the last one is done. The
                # copy is of a stand-in made at the owner, never of the block itself: a block
                # with a replica elsewhere may lose its owner's copy to Dask's memory manager
                # (which keeps one replica), and the owner would fetch it back (the measured
                # bytes equal the plan only since: bench/README.md).
                pieces = [
                    f
                    if fixed.owners[c] == w
                    else self._submit(
                        t.hold, self._submit(t.hold, f, at=self._owner(fixed, c)), at=at
                    )
                    for c, f in enumerate(fixed.factors)
                ]
                right = self._submit(t.whole_fixed_side, reg, *pieces, at=at)
                train = side.train
            else:
                received = [
                    self._submit(
                        t.take_rows, fixed.factors[c], side.wanted[(w, c)], at=self._owner(fixed, c)
                    )
                    for c in range(fixed.layout.count)
                    if (w, c) in side.wanted
                ]
                right = self._submit(t.received_rows, spec.k, spec.dtype.str, *received, at=at)
                train = side.routed
            for b in blocks:
                results[b] = self._submit(
                    t.solve_block,
                    spec,
                    side.name,
                    side.layout.n,
                    train[b],
                    side.factors[b],
                    right,
                    gram,
                    at=at,
                )
        factors = [
            self._submit(t.item, r, 0, at=self._owner(side, b)) for b, r in enumerate(results)
        ]
        deltas = [
            self._submit(t.item, r, 1, at=self._owner(side, b)) for b, r in enumerate(results)
        ]
        return factors, deltas

    def _reduced_gram(self, reg: float, fixed: _Side) -> Any:
        """The fixed side's Gram (plus ``reg``) reduced from its blocks' partials, each
        computed where its block is; only the rows of a reduction block that blocks share
        travel, to the last of them (at most 4096 rows)."""
        lay = fixed.layout
        whole, edges = [], []
        for c, f in enumerate(fixed.factors):
            at = self._owner(fixed, c)
            pair = self._submit(t.gram_parts, f, lay.bounds(c)[0], lay.n, at=at)
            whole.append(self._submit(t.item, pair, 0, at=at))
            edges.append(self._submit(t.item, pair, 1, at=at))
        shared = [
            self._submit(t.shared_gram, r, *[edges[c] for c in cs], at=self._owner(fixed, cs[-1]))
            for r, cs in lay.shared().items()
        ]
        return self._submit(t.gram_total, reg, lay.n, *whole, *shared)

    def _collect(self, side: _Side, spec: Spec) -> NDArray[Any]:
        """The side's factor matrix, fetched block by block into one array."""
        out = np.empty((side.layout.n, spec.k), dtype=spec.dtype)
        for b, f in enumerate(side.factors):
            lo, hi = side.layout.bounds(b)
            out[lo:hi] = f.result()
        return out

    def _seen(self, user_side: _Side, n_items: int, nnz: int) -> CSRMatrix:
        """The training matrix's structure (recommend() excludes each user's seen items)."""
        n = user_side.layout.n
        indptr: NDArray[Any] = np.zeros(n + 1, dtype=indptr_dtype(nnz))
        indices = np.empty(nnz, dtype=np.int32)
        at = 0
        for r in user_side.rows:
            lo, hi, ptr, idx = self._submit(t.seen_structure, r).result()
            indptr[lo + 1 : hi + 1] = ptr[1:] + at
            indices[at : at + len(idx)] = idx
            at += len(idx)
        return CSRMatrix(indptr, indices, None, (n, n_items))

    # ---- batch recommendation and prediction ------------------------------------------------

    def recommend(
        self,
        model: Any,
        users: Any = None,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        block_rows: int = 16384,
    ) -> Any:
        """Top-``n`` items of each of ``users`` (ids; all users if None) from a trained
        scorer, computed on the cluster: item factors broadcast, users in blocks of
        ``block_rows``, the native top-N kernel per block. Returns a Dask DataFrame of
        (user_id, item_id, score, rank) rows equal to ``model.recommend(...).to_df()``."""
        dd = require_module("dask.dataframe", "DaskTrainer.recommend")
        self._run, self._seq = uuid.uuid4().hex[:8], 0
        if isinstance(block_rows, bool) or int(block_rows) < 1:
            raise ValueError(f"block_rows must be a positive integer, got {block_rows!r}")
        blocks, shared = recommend_blocks(model, users, n, exclude_seen, int(block_rows))
        shared_f = self.client.scatter(shared, broadcast=True)
        frames = [self._submit(t.top_n_frame, shared_f, *block) for block in blocks]
        return dd.from_delayed(frames, meta=t.top_n_meta(model.users_, model.items_, model.dtype))

    def predict(self, model: Any, pairs: Any) -> Any:
        """Scores of the (user, item) rows of a Dask DataFrame (columns named as for
        training) from a trained scorer: the frame with a ``score`` column added (NaN for an
        unknown user or item), computed partition by partition on the workers."""
        cols = find_columns([str(c) for c in pairs.columns], *self.columns[:2], None)
        delayed = require_module("dask.delayed", "DaskTrainer.predict").delayed
        # The model travels in the graph (a scattered copy would be released before the
        # lazy frame is computed).
        held = delayed(model, name=f"alskit-model-{uuid.uuid4().hex}", traverse=False)
        meta = pairs._meta.assign(score=np.float64())
        return pairs.map_partitions(t.predict_frame, held, cols.user, cols.item, meta=meta)

    # ---- checkpoints ---------------------------------------------------------------------

    def _manifest(self) -> dict[str, Any] | None:
        if self.checkpoint_dir is None:
            return None
        return t.read_manifest(self.checkpoint_dir / _MANIFEST)

    def _fingerprint(
        self,
        spec: Spec,
        users: Vocabulary,
        items: Vocabulary,
        nnz: int,
        stats: list[Any],
        user_side: _Side,
        item_side: _Side,
    ) -> str:
        text = "|".join(
            [
                spec.scorer_class.__name__,
                spec.config.model_dump_json(),
                str(users.size),
                str(items.size),
                str(nnz),
                repr(stats),
                str(user_side.layout),
                str(item_side.layout),
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()

    def _checkpoint(self, done: _Epoch, fp: str, user_side: _Side, item_side: _Side) -> None:
        """Writes ``done``'s factor blocks, then the manifest naming them. The writes go
        ahead of the next epoch's queued solves (higher priority), so the wait is short."""
        assert self.checkpoint_dir is not None
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        old = self._manifest()
        written: dict[str, list[str]] = {}
        epoch = done.epoch
        for s, factors in ((user_side, done.user), (item_side, done.item)):
            paths = [
                str(self.checkpoint_dir / f"{s.name}-{epoch:05d}-{b:05d}-{self._run}.npy")
                for b in range(s.layout.count)
            ]
            written[s.name] = self.client.gather(
                [
                    self._submit(t.write_array, p, f, at=self._owner(s, b), priority=1)
                    for b, (p, f) in enumerate(zip(paths, factors, strict=True))
                ]
            )
        t.write_manifest(
            self.checkpoint_dir / _MANIFEST,
            {"epoch": epoch, "fingerprint": fp, "user": written["user"], "item": written["item"]},
        )
        if old is not None:  # the previous epoch's files, unless this run was resumed from them
            t.remove_files([p for p in old["user"] + old["item"] if p not in self._resume_files])


def _nnz(block: RowBlock) -> int:
    return block.nnz


def _solve_cost(spec: Spec, nnz: int, rows: int) -> float:
    """A block's solve time in flops, approximately, for balancing. Cholesky: per
    interaction the rank-one update of the symmetric k × k system (k²), per row its
    factorisation and solves (k³/3 + 2k²). CG with s steps: per interaction two k-vector
    products per step and one for the residual (4k·(s + 1)), per row the Gram products
    (2k²·(s + 1)). Subspace with blocks of b: per block and interaction the b × b update and
    the prediction (b² + 2k), per block and row G_S·p and the b × b factorisation."""
    k = spec.k
    if not spec.explicit and spec.config.solver == "cg":
        steps = int(spec.config.cg_steps) + 1
        return float((nnz * 4 * k + rows * 2 * k * k) * steps)
    if not spec.explicit and spec.config.solver == "subspace":
        b = min(int(spec.config.block_size), k)
        blocks = -(-k // b) * int(spec.config.sweeps)
        return float(blocks * (nnz * (b * b + 2 * k) + rows * (2 * b * k + b**3 / 3)))
    return nnz * k * k + rows * (k**3 / 3 + 2 * k * k)


def _rows_moved(mode: str, side: _Side, fixed: _Side, gram: bool) -> int:
    """Fixed-side rows that cross between workers in a half-epoch solving ``side``: to each
    worker with blocks of ``side``, every row of the fixed blocks it does not hold (broadcast)
    or the rows its blocks reference there (routed: ``side.sizes``); with the Gram reduced
    from partials (routed), also the rows of each shared reduction block held away from its
    last holder (``_reduced_gram``)."""
    moved = 0
    for w in {*side.owners}:
        for c in range(fixed.layout.count):
            if fixed.owners[c] == w:
                continue
            lo, hi = fixed.layout.bounds(c)
            moved += hi - lo if mode == "broadcast" else side.sizes.get((w, c), 0)
    if gram and mode == "routed":
        step = core.reduction_block_rows()
        for r, cs in fixed.layout.shared().items():
            for c in cs[:-1]:
                if fixed.owners[c] != fixed.owners[cs[-1]]:
                    lo, hi = fixed.layout.bounds(c)
                    moved += min(hi, (r + 1) * step) - max(lo, r * step)
    return moved
