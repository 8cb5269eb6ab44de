"""Lazy access to the optional dependencies (pandas, scipy)."""

from __future__ import annotations

import importlib
from types import ModuleType


def optional_module(name: str) -> ModuleType | None:
    """Import ``name`` if it is installed, else return None."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def require_module(name: str, purpose: str) -> ModuleType:
    """Import ``name`` or raise an ImportError saying what needed it."""
    module = optional_module(name)
    if module is None:
        raise ImportError(f"{purpose} requires the optional dependency {name!r}")
    return module
