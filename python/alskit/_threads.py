"""Thread counts for the native kernels, and keeping BLAS out of their way."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_controller: Any = None
MAX_THREADS = 4096  # far beyond any machine; keeps absurd values out of the native int


def available_cpus() -> int:
    """CPUs this process may run on (affinity- and container-aware where the OS says so)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_threads(threads: int | None) -> int:
    """``None`` or 0 → every available CPU; otherwise the number asked for (validated)."""
    if threads is None or threads == 0:
        return available_cpus()
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads must be an int or None, got {type(threads).__name__}")
    if threads < 0 or threads > MAX_THREADS:
        raise ValueError(
            f"threads must be >= 0 and <= {MAX_THREADS} (0 or None means all CPUs), got {threads}"
        )
    return threads


@contextmanager
def blas_limited() -> Iterator[None]:
    """One BLAS thread while our OpenMP kernels run: nested BLAS parallelism inside a parallel
    region oversubscribes the cores (LensKit #257 saw a 150× slowdown)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
