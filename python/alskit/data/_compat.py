"""Lazy access to the optional dependencies, each installed by an extra of alskit's.

The mapping from module to extra lives here only; ``tests/test_dependencies.py`` holds it to
the extras that ``pyproject.toml`` declares.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: Top-level module name → the extra that installs it (``pip install 'alskit[EXTRA]'``).
EXTRAS: dict[str, str] = {
    "pyarrow": "parquet",
    "scipy": "scipy",
    "lenskit": "lenskit",
    "dask": "dask",
    "distributed": "dask",
}


def optional_module(name: str) -> ModuleType | None:
    """Import ``name`` if it is installed, else return None."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def require_module(name: str, purpose: str) -> ModuleType:
    """Import ``name`` or raise an ImportError saying what needed it and how to install it."""
    module = optional_module(name)
    if module is None:
        extra = EXTRAS[name.partition(".")[0]]
        raise ImportError(
            f"{purpose} requires the optional dependency {name.partition('.')[0]!r}: "
            f"install it with pip install 'alskit[{extra}]'"
        )
    return module
