"""DaskTrainer: ALS training, batch recommendation and prediction on a Dask cluster."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..bias import BiasModel, damping_pair, ordered_total
from ..data import CSRMatrix, Dataset, Vocabulary
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
    needs_gram,
    recommend_blocks,
)

Mode = Literal["auto", "broadcast", "routed"]
_MANIFEST = "checkpoint.json"


@dataclass
class RunStats:
    """What the last training run did: the exchange mode, the planned bytes that cross
    between workers per half-epoch (user half, item half), and the blocks per side."""

    mode: str = ""
    bytes_per_half_epoch: dict[str, int] = field(default_factory=dict)
    blocks: dict[str, int] = field(default_factory=dict)
    resumed_from: int = 0


@dataclass
class _Side:
    name: Side
    layout: Layout
    rows: list[Any]  # futures of RowBlock
    train: list[Any] = field(default_factory=list)  # futures of TrainBlock
    factors: list[Any] = field(default_factory=list)  # futures of factor blocks
    routed: list[Any] = field(default_factory=list)  # futures of RoutedBlock's TrainBlock
    wanted: dict[tuple[int, int], Any] = field(default_factory=dict)  # (b, c) -> rows future


class DaskTrainer:
    """Trains alskit's ALS scorers on a ``distributed.Client`` and serves them in batch.

    ``trainer.train(model, data, options)`` trains ``model`` (a
    :class:`~alskit.als.BiasedMFScorer` or :class:`~alskit.als.ImplicitMFScorer`) as
    ``model.train(data, options)`` would — the same factors, bit for bit, for any number of
    workers and blocks — and leaves it an ordinary trained scorer. ``data`` is a local
    :class:`~alskit.data.Dataset` or a Dask DataFrame of (user, item[, rating]) rows.

    ``blocks``: row blocks per side (default two per worker; each a multiple of 4096 rows).
    ``mode``: ``"broadcast"`` ships the whole fixed side to every worker each half-epoch,
    ``"routed"`` ships each block only the fixed rows it references (planned once);
    ``"auto"`` broadcasts when the larger factor matrix fits ``memory_budget`` bytes per
    worker (default a quarter of the smallest worker's memory limit). ``checkpoint_dir``
    (a directory every worker and the client can write): each epoch's factors are written
    there atomically, and a later run with the same model, data and layout resumes from the
    last complete epoch. ``on_epoch(epoch, metrics)`` is called after each epoch.
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

    # ---- helpers -----------------------------------------------------------------------

    def _workers(self) -> list[str]:
        workers = sorted(self.client.scheduler_info()["workers"])
        if not workers:
            raise RuntimeError("the Dask cluster has no workers")
        self._current = workers
        return workers

    def _owner(self, b: int, count: int) -> str:
        """The worker that holds block ``b`` of ``count`` (contiguous ranges per worker); a
        task placed there may still run elsewhere (after a worker is lost)."""
        workers: list[str] = self._current
        return workers[b * len(workers) // count]

    def _submit(self, fn: Callable[..., Any], *args: Any, at: str | None = None) -> Any:
        kwargs: dict[str, Any] = {"key": f"alskit-{fn.__name__}-{self._run}-{self._seq}"}
        self._seq += 1
        if at is not None:
            kwargs.update(workers=[at], allow_other_workers=True)
        return self.client.submit(fn, *args, **kwargs)

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
        rng = options.random_generator()
        self._run = uuid.uuid4().hex[:8]
        self._seq = 0
        self.stats = RunStats()

        users, items, user_side, item_side = self._blocks_of(data)
        for s in (user_side, item_side):
            self.stats.blocks[s.name] = s.layout.count
        bias = self._bias(spec, user_side, item_side, items) if spec.explicit else None
        bias_f = None if bias is None else self.client.scatter(bias, broadcast=True)
        for s in (user_side, item_side):
            s.train = [
                self._submit(t.train_block, spec, s.name, r, bias_f, at=self._owner(b, len(s.rows)))
                for b, r in enumerate(s.rows)
            ]
        stats = self.client.gather(
            [self._submit(t.train_stats, f) for s in (user_side, item_side) for f in s.train]
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
            for epoch in range(start, spec.epochs):
                user_side.factors, dp = self._half(spec, mode, user_side, item_side)
                item_side.factors, dq = self._half(spec, mode, item_side, user_side)
                parts = self.client.gather(dp + dq)
                metrics = {
                    "deltaP": delta_norm(ordered_total(np.concatenate(parts[: len(dp)]))),
                    "deltaQ": delta_norm(ordered_total(np.concatenate(parts[len(dp) :]))),
                }
                if self.checkpoint_dir is not None:
                    self._checkpoint(epoch + 1, fingerprint, user_side, item_side)
                bar.epoch_done(epoch + 1, metrics)
                if self.on_epoch is not None:
                    self.on_epoch(epoch + 1, metrics)

        user_f = self._collect(user_side, spec)
        item_f = self._collect(item_side, spec)
        seen = self._seen(user_side, items.size, nnz)
        finish_model(model, users, items, user_f, item_f, seen, bias, spec.epochs)
        return model

    def _blocks_of(self, data: Any) -> tuple[Vocabulary, Vocabulary, _Side, _Side]:
        workers = self._workers()
        count = self.blocks if self.blocks is not None else 2 * len(workers)
        if hasattr(data, "to_delayed") and hasattr(data, "npartitions"):
            return self._frame_blocks(data, count)
        from ..als._base import _as_dataset

        ds: Dataset = _as_dataset(data)
        ul, il = Layout.of(ds.user_count, count), Layout.of(ds.item_count, count)
        ub, ib = dataset_blocks(ds, ul, il)
        user_side = _Side("user", ul, [self._hold(b, ul.count, r) for b, r in enumerate(ub)])
        item_side = _Side("item", il, [self._hold(b, il.count, r) for b, r in enumerate(ib)])
        return ds.users, ds.items, user_side, item_side

    def _hold(self, b: int, count: int, block: RowBlock) -> Any:
        return self._submit(t.hold, block, at=self._owner(b, count))

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
            rows = []
            for b in range(layout.count):
                at = self._owner(b, layout.count)
                pieces = [self._submit(piece, s, side_index, b, at=at) for s in split]
                rows.append(
                    self._submit(assemble_block, name, *layout.bounds(b), uv, iv, *pieces, at=at)
                )
            sides.append(_Side(name, layout, rows))  # type: ignore[arg-type]
        return users, items, sides[0], sides[1]

    def _bias(self, spec: Spec, user_side: _Side, item_side: _Side, items: Vocabulary) -> BiasModel:
        """The damped bias model, from per-block sums added in the local order."""
        beta_user, beta_item = damping_pair(spec.config.damping)
        partials = self.client.gather([self._submit(t.rating_partials, r) for r in user_side.rows])
        nnz = sum(
            int(n) for n in self.client.gather([self._submit(_nnz, r) for r in user_side.rows])
        )
        global_bias = ordered_total(np.concatenate(partials)) / nnz
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
                    self._submit(t.read_array, path, at=self._owner(b, s.layout.count))
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
                pair = self._submit(
                    _initial, spec, hi - lo, state, at=self._owner(b, s.layout.count)
                )
                s.factors.append(self._submit(t.item, pair, 0))
                state = self._submit(t.item, pair, 1)
        rng.bit_generator.state = state.result()  # the caller's generator advances as locally
        return 0

    def _plan_routes(self, side: _Side, fixed: _Side) -> None:
        plans = [
            self._submit(t.route_plan, tb, fixed.layout, at=self._owner(b, side.layout.count))
            for b, tb in enumerate(side.train)
        ]
        side.routed = [self._submit(t.routed_train, p) for p in plans]
        side.wanted = {}
        sizes = self.client.gather([self._submit(_sizes, p) for p in plans])
        for b, p in enumerate(plans):
            for c in range(fixed.layout.count):
                if sizes[b][c] > 0:
                    side.wanted[(b, c)] = self._submit(t.wanted_rows, p, c)
        self._route_sizes = getattr(self, "_route_sizes", {})
        self._route_sizes[side.name] = sizes

    def _record_bytes(self, spec: Spec, mode: str, user_side: _Side, item_side: _Side) -> None:
        row = spec.k * spec.dtype.itemsize
        for side, fixed in ((user_side, item_side), (item_side, user_side)):
            owners_s = {self._owner(b, side.layout.count) for b in range(side.layout.count)}
            moved = 0
            if mode == "broadcast":
                for w in owners_s:
                    for c in range(fixed.layout.count):
                        if self._owner(c, fixed.layout.count) != w:
                            lo, hi = fixed.layout.bounds(c)
                            moved += (hi - lo) * row
            else:
                sizes = self._route_sizes[side.name]
                for b in range(side.layout.count):
                    for c in range(fixed.layout.count):
                        if self._owner(b, side.layout.count) != self._owner(c, fixed.layout.count):
                            moved += int(sizes[b][c]) * row
            self.stats.bytes_per_half_epoch[side.name] = moved

    def _half(
        self, spec: Spec, mode: str, side: _Side, fixed: _Side
    ) -> tuple[list[Any], list[Any]]:
        """Solve every block of ``side`` given ``fixed``: new factor futures and the futures
        of their Σ‖Δ‖² partials."""
        self._workers()
        gram = None
        if needs_gram(spec):
            total = None
            for c, f in enumerate(fixed.factors):
                at = self._owner(c, fixed.layout.count)
                total = self._submit(
                    t.add_partials, total, self._submit(t.gram_partials, f, at=at), at=at
                )
            gram = self._submit(t.finish_gram, total, spec.reg(side.name))
        results = []
        if mode == "broadcast":
            full: dict[str, Any] = {}
            for b in range(side.layout.count):
                at = self._owner(b, side.layout.count)
                if at not in full:
                    full[at] = self._submit(t.concat_rows, *fixed.factors, at=at)
            for b in range(side.layout.count):
                at = self._owner(b, side.layout.count)
                results.append(
                    self._submit(
                        t.solve_block,
                        spec,
                        side.name,
                        side.train[b],
                        side.factors[b],
                        full[at],
                        gram,
                        at=at,
                    )
                )
        else:
            for b in range(side.layout.count):
                at = self._owner(b, side.layout.count)
                received = [
                    self._submit(
                        t.take_rows,
                        fixed.factors[c],
                        side.wanted[(b, c)],
                        at=self._owner(c, fixed.layout.count),
                    )
                    for c in range(fixed.layout.count)
                    if (b, c) in side.wanted
                ]
                results.append(
                    self._submit(
                        t.solve_routed,
                        spec,
                        side.name,
                        side.routed[b],
                        side.factors[b],
                        gram,
                        spec.k,
                        *received,
                        at=at,
                    )
                )
        factors = [self._submit(t.item, r, 0) for r in results]
        deltas = [self._submit(t.item, r, 1) for r in results]
        return factors, deltas

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
        import dask.dataframe as dd

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
        from dask.delayed import delayed

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

    def _checkpoint(self, epoch: int, fp: str, user_side: _Side, item_side: _Side) -> None:
        assert self.checkpoint_dir is not None
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        old = self._manifest()
        written: dict[str, list[str]] = {}
        for s in (user_side, item_side):
            paths = [
                str(self.checkpoint_dir / f"{s.name}-{epoch:05d}-{b:05d}-{self._run}.npy")
                for b in range(s.layout.count)
            ]
            written[s.name] = self.client.gather(
                [
                    self._submit(t.write_array, p, f, at=self._owner(b, s.layout.count))
                    for b, (p, f) in enumerate(zip(paths, s.factors, strict=True))
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


def _sizes(plan: t.RoutedBlock) -> list[int]:
    return [len(w) for w in plan.wanted]


def _initial(spec: Spec, nrows: int, state: Any) -> tuple[NDArray[Any], Any]:
    from ._model import initial_block

    return initial_block(spec, nrows, state)
