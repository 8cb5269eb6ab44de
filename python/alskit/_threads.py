"""The machine resources the native kernels may use: thread counts (and keeping BLAS out of
their way), and the memory this process may allocate."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_controller: Any = None
_threads_started = 1  # the largest team the OpenMP runtime has been asked for so far


def available_cpus() -> int:
    """CPUs this process may run on (affinity- and container-aware where the OS says so)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def max_threads() -> int:
    """The most threads one native call may use: 4 × the available CPUs (at least 8).

    More threads than CPUs never speeds up these compute-bound kernels; the margin allows
    deliberate oversubscription (e.g. testing determinism with 4 threads on a 1-CPU runner),
    while absurd counts, which would spend the address space on thread stacks and can make
    the OpenMP runtime end the process, are refused.
    """
    return max(4 * available_cpus(), 8)


def resolve_threads(threads: int | None) -> int:
    """``None`` or 0 → every available CPU; otherwise the number asked for, validated: at most
    :func:`max_threads`, and refused beforehand if the thread stacks would not fit in the
    address-space limit (libgomp cannot report a failed thread creation: it exits)."""
    global _threads_started
    if threads is None or threads == 0:
        threads = available_cpus()
    elif isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads must be an int or None, got {type(threads).__name__}")
    elif threads < 0 or threads > max_threads():
        raise ValueError(
            f"threads must be >= 0 and <= {max_threads()} (4 × the {available_cpus()} "
            f"available CPUs, at least 8; 0 or None means all CPUs), got {threads}"
        )
    if threads > _threads_started:
        _check_thread_stacks(threads - _threads_started, threads)
        _threads_started = threads
    return threads


def _thread_stack_bytes() -> int:
    """Stack size of each OpenMP worker thread (OMP_STACKSIZE, else glibc's default: the
    stack rlimit, or 8 MiB when that is unlimited)."""
    size = os.environ.get("OMP_STACKSIZE") or os.environ.get("GOMP_STACKSIZE")
    if size:
        text = size.strip().upper()
        units = {"B": 1, "K": 2**10, "M": 2**20, "G": 2**30}
        scale = units.get(text[-1:], 2**10)  # a bare number means KiB (OpenMP spec)
        digits = text[:-1] if text[-1:] in units else text
        if digits.isdigit():
            return int(digits) * scale
    soft, _ = resource.getrlimit(resource.RLIMIT_STACK)
    return 8 * 2**20 if soft == resource.RLIM_INFINITY else int(soft)


def _check_thread_stacks(new_threads: int, threads: int) -> None:
    headroom = _rlimit_headroom(resource.RLIMIT_AS, "VmSize")
    if headroom is None:
        return
    needed = new_threads * (_thread_stack_bytes() + 2**16)  # + guard page and TLS
    if needed > headroom:
        raise ValueError(
            f"threads={threads} needs {needed / 2**20:.0f} MiB of thread stacks, more than the "
            f"{headroom / 2**20:.0f} MiB left under this process's address-space limit "
            "(ulimit -v); ask for fewer threads"
        )


def _status_bytes(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status (VmSize, VmData), in bytes."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _rlimit_headroom(which: int, usage_field: str) -> int | None:
    soft, _ = resource.getrlimit(which)
    if soft == resource.RLIM_INFINITY:
        return None
    used = _status_bytes(usage_field) or 0
    return max(int(soft) - used, 0)


def _cgroup_headroom() -> int | None:
    """Bytes left under this process's cgroup memory limit (v2 memory.max, v1
    memory.limit_in_bytes), or None without one."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    root = Path("/sys/fs/cgroup")
    candidates: list[tuple[Path, str, str]] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        rel = rel.lstrip("/")
        if controllers == "":  # v2 unified hierarchy
            for base in (root / rel, root):
                candidates.append((base, "memory.max", "memory.current"))
        elif "memory" in controllers.split(","):
            for base in (root / "memory" / rel, root / "memory"):
                candidates.append((base, "memory.limit_in_bytes", "memory.usage_in_bytes"))
    for base, limit_name, usage_name in candidates:
        try:
            text = (base / limit_name).read_text().strip()
        except OSError:
            continue
        if text == "max":
            return None
        limit = int(text)
        if limit >= 2**60:  # v1's "unlimited"
            return None
        try:
            used = int((base / usage_name).read_text().strip())
        except (OSError, ValueError):
            used = 0
        return max(limit - used, 0)
    return None


def memory_limit() -> tuple[int, str] | None:
    """The bytes this process can still allocate, and what limits it: the smallest of the
    physical memory, the address-space and data-segment rlimits (minus what is already
    mapped) and the cgroup (container) limit. None if the OS tells nothing."""
    limits: list[tuple[int, str]] = []
    try:
        limits.append((os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "physical memory"))
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        pass
    for which, field, name in (
        (resource.RLIMIT_AS, "VmSize", "address-space limit (ulimit -v)"),
        (resource.RLIMIT_DATA, "VmData", "data-segment limit (ulimit -d)"),
    ):
        headroom = _rlimit_headroom(which, field)
        if headroom is not None:
            limits.append((headroom, name))
    cgroup = _cgroup_headroom()
    if cgroup is not None:
        limits.append((cgroup, "container (cgroup) memory limit"))
    return min(limits) if limits else None


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
