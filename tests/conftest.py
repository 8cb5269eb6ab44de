"""Shared fixtures: MovieLens 100K, found without ever copying it into the repository.

Where it comes from, first match wins:
1. ``ALSKIT_ML100K``: a path to GroupLens' ``ml-100k/u.data`` (tab-separated, no header) or to
   a ratings CSV with the header ``user_id,item_id,rating,timestamp``; a path that does not
   exist is an error, not a skip.
2. ``../shared/data/ml-100k/ratings.csv`` beside the checkout (as in CI).

``ML100K`` is then always a ratings CSV (u.data is converted once into the temporary
directory); tests that need it skip with ``ML100K_MISSING`` as the reason when neither exists.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest

import hostile
import reference as ref


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

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k" / "ratings.csv"
_HEADER = "user_id,item_id,rating,timestamp"


def _as_ratings_csv(path: Path) -> Path:
    """``path`` itself if it is a ratings CSV, else a CSV converted from GroupLens' u.data."""
    with open(path, encoding="utf-8") as f:
        first = f.readline().strip()
    if first == _HEADER:
        return path
    import pandas as pd

    frame = pd.read_csv(path, sep="\t", header=None, names=_HEADER.split(","))
    stat = path.stat()
    out = Path(tempfile.gettempdir()) / f"alskit-ml100k-{stat.st_size}-{stat.st_mtime_ns}.csv"
    if not out.exists():
        partial = out.with_suffix(f".{os.getpid()}.partial")
        frame.to_csv(partial, index=False)
        partial.replace(out)
    return out


def _find_ml100k() -> tuple[Path, str]:
    given = os.environ.get("ALSKIT_ML100K")
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise pytest.UsageError(f"ALSKIT_ML100K={given!r} is not a file")
        return _as_ratings_csv(path), ""
    reason = (
        f"MovieLens 100K not found at {_SHARED}: set ALSKIT_ML100K to GroupLens' "
        "ml-100k/u.data or a ratings CSV (see README, 'Running the tests')"
    )
    return _SHARED, "" if _SHARED.is_file() else reason


ML100K, ML100K_MISSING = _find_ml100k()
needs_ml100k = pytest.mark.skipif(bool(ML100K_MISSING), reason=ML100K_MISSING or "present")


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
