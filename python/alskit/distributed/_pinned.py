"""Tasks that stay where they were placed, and move only when their worker is gone.

DaskTrainer places every block's tasks on the worker that holds the block (the placement is
planned by solve cost, and routed mode plans which factor rows cross between workers). With
Dask's loose placement (``allow_other_workers=True``) work stealing moves some of these tasks
to another worker, which must then fetch the block and the fixed side: more bytes than
planned and slower, more variable epochs (measured in bench/README.md, Dask).

Strict placement (``allow_other_workers=False``) is never stolen, but a task pinned to a worker
that dies would wait for it for ever, and a lost result could not be recomputed elsewhere.
This scheduler plugin keeps strict placement recoverable: when a worker leaves, every alskit
task pinned to it (and any submitted later to a worker that has gone) becomes loose, so the
scheduler runs or recomputes it on a live worker. Only tasks whose keys alskit made
(``alskit-…``) are touched.
"""

from __future__ import annotations

from typing import Any

from ..data._compat import require_module

try:
    from distributed.diagnostics.plugin import SchedulerPlugin
except ImportError:  # the extras' one message (data/_compat.py), as alskit.distributed gives
    require_module("distributed", "alskit.distributed")
    raise

KEY_PREFIX = "alskit-"
NAME = "alskit-pinned-tasks"


def _ours(key: object) -> bool:
    return isinstance(key, str) and key.startswith(KEY_PREFIX)


def _release(ts: Any, live: Any) -> bool:
    """Makes ``ts`` loose when it is pinned to workers none of which is alive."""
    pinned = ts.worker_restrictions
    if not pinned or ts.loose_restrictions or any(w in live for w in pinned):
        return False
    ts.loose_restrictions = True
    return True


class PinnedTasks(SchedulerPlugin):
    """Runs in the scheduler (registered by :class:`~alskit.distributed.DaskTrainer`)."""

    name = NAME
    idempotent = True  # registered once per scheduler, however many trainers ask

    def update_graph(self, scheduler: Any, *, tasks: Any = (), **kwargs: Any) -> None:
        # Before the new tasks are scheduled: one pinned to a worker that has already left
        # (the client placed it before it heard) may run anywhere.
        live = scheduler.workers
        for key in tasks:
            ts = scheduler.tasks.get(key)
            if ts is not None and _ours(key):
                _release(ts, live)

    def remove_worker(
        self, scheduler: Any, worker: str, *, stimulus_id: str = "", **kwargs: Any
    ) -> None:
        live = set(scheduler.workers) - {worker}
        waiting = {}
        for key, ts in scheduler.tasks.items():
            if _ours(key) and ts.worker_restrictions and worker in ts.worker_restrictions:
                if _release(ts, live) and ts.state == "no-worker":
                    waiting[key] = "processing"
        if waiting:  # tasks the loss left with nowhere to run
            scheduler.transitions(waiting, stimulus_id or f"alskit-worker-lost-{worker}")
