"""Loads the best native core this CPU can run.

The core is built once per instruction-set variant (``_core`` for any x86-64/ARM CPU,
``_core_avx2`` with AVX2+FMA); each is a separate shared object so their Eigen code never
mixes. ``ALSKIT_ISA=baseline`` forces the portable build (for comparison or debugging).
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import TYPE_CHECKING

from . import _core as _baseline


def _select() -> ModuleType:
    wanted = os.environ.get("ALSKIT_ISA", "auto").lower()
    if wanted not in ("auto", "baseline", "avx2"):
        raise ValueError(f"ALSKIT_ISA must be 'auto', 'baseline' or 'avx2', got {wanted!r}")
    if wanted == "baseline" or not _baseline.cpu_supports_avx2():
        if wanted == "avx2":
            raise RuntimeError("ALSKIT_ISA=avx2 but this CPU lacks AVX2/FMA")
        return _baseline
    try:
        from . import _core_avx2
    except ImportError:  # built without the variant (non-x86 or ALSKIT_ISA_VARIANTS=OFF)
        if wanted == "avx2":
            raise
        return _baseline
    return _core_avx2


__all__ = ["core"]

if TYPE_CHECKING:  # both variants have the same interface, described by _core.pyi
    from . import _core as core
else:
    core = _select()


def _after_fork_in_child() -> None:
    """libgomp's thread pool does not survive fork(): a child forked (e.g. by
    ``multiprocessing`` with the fork start method) after a multi-threaded alskit call would
    hang in its next parallel region. Such a child runs the kernels on one thread instead
    (identical results: they never depend on the thread count). A child forked before any
    multi-threaded call, and spawned processes, keep every thread."""
    core.enter_fork_child_mode()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
