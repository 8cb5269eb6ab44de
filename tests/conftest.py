"""Shared fixtures: MovieLens 100K (found by tests/ml100k.py), the native core variants, and
the hostile-input tests' shared models and files."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest

import hostile
import reference as ref
from ml100k import ML100K, ML100K_MISSING


class _NoTestFolderPackages(importlib.abc.MetaPathFinder):
    """The test folders mirror the package (tests/lenskit, tests/implicit, tests/distributed,
    ...), and pytest puts tests/ on sys.path for the shared helpers: without this finder a
    folder would pass for a namespace package of its name (``import lenskit`` succeeding
    without LensKit). A top-level import of such a name finds only the real package."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if path is not None or not (self.folder / name).is_dir():
            return None
        elsewhere = [p for p in sys.path if Path(p or ".").resolve() != self.folder]
        spec = importlib.machinery.PathFinder.find_spec(name, elsewhere)
        if spec is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return spec


sys.meta_path.insert(0, _NoTestFolderPackages(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def ml100k():  # type: ignore[no-untyped-def]
    """The MovieLens 100K ratings as an alskit Dataset (skips if it cannot be found)."""
    if ML100K_MISSING:
        pytest.skip(ML100K_MISSING)
    import alskit

    return alskit.load_csv(ML100K)


@pytest.fixture(params=ref.VARIANTS, scope="module")
def core(request: pytest.FixtureRequest) -> ModuleType:
    """Each built variant of the native core this CPU can run (the kernel tests run on all)."""
    module = ref.load_variant(request.param)
    if module is None:
        pytest.skip(f"alskit.{request.param} is not built or this CPU cannot run it")
    return module


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> hostile.Ctx:
    """The hostile-input tests' shared models and files (tests/hostile.py), once per module."""
    return hostile.make_ctx(tmp_path_factory)
