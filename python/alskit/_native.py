"""Loads the best native core this CPU can run.

The core is built per instruction-set variant (``_core`` for any x86-64/ARM CPU,
``_core_avx2`` with AVX2+FMA); each is a separate shared object so their Eigen code never
mixes. A wheel carries both and the best is picked here; a build from source carries only the
best variant its build machine runs (``ALSKIT_ISA_VARIANTS=host``, the default; ``all``
builds both). ``ALSKIT_ISA=baseline`` forces the portable build (for comparison or
debugging) where it was built.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING


def _built(name: str) -> ModuleType | None:
    """``alskit.<name>``, or None when this build has no such variant. An ImportError of a
    variant that exists (the AVX2 core on a CPU without AVX2) propagates."""
    qualified = f"{__package__}.{name}"
    try:
        return importlib.import_module(qualified)
    except ModuleNotFoundError as error:
        if error.name != qualified:
            raise
        return None


def _select() -> ModuleType:
    wanted = os.environ.get("ALSKIT_ISA", "auto").lower()
    if wanted not in ("auto", "baseline", "avx2"):
        raise ValueError(f"ALSKIT_ISA must be 'auto', 'baseline' or 'avx2', got {wanted!r}")
    baseline = _built("_core")
    if wanted == "baseline":
        if baseline is None:
            raise ImportError(
                "ALSKIT_ISA=baseline, but this alskit was built with the AVX2 core only "
                "(ALSKIT_ISA_VARIANTS=host); rebuild with "
                "`pip install . -C cmake.define.ALSKIT_ISA_VARIANTS=all` to have both"
            )
        return baseline
    if baseline is not None and not baseline.cpu_supports_avx2():
        if wanted == "avx2":
            raise RuntimeError("ALSKIT_ISA=avx2 but this CPU lacks AVX2/FMA")
        return baseline
    # Without a baseline to ask, the AVX2 core checks the CPU itself (an ImportError).
    avx2 = _built("_core_avx2")
    if avx2 is not None:
        return avx2
    if wanted == "avx2":
        raise ImportError("ALSKIT_ISA=avx2, but this alskit was built without the AVX2 core")
    if baseline is None:
        raise ImportError("alskit has no native core: the package was installed without it")
    return baseline


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
