"""MovieLens 100K for the tests, found without ever copying it into the repository.

Where it comes from, first match wins:
1. ``ALSKIT_ML100K``: a path to GroupLens' ``ml-100k/u.data`` (tab-separated, no header) or to
   a ratings CSV with the header ``user_id,item_id,rating,timestamp``; a path that does not
   exist is an error, not a skip.
2. ``../shared/data/ml-100k/ratings.csv`` beside the checkout (as in CI), or beside the
   repository the checkout was cloned from when that is a local directory (``git clone .
   /tmp/cc`` finds the data of the repository it came from).

``ML100K`` is then always a ratings CSV (u.data is converted once into the temporary
directory); tests that need it skip with ``ML100K_MISSING`` as the reason when neither exists.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

_CHECKOUT = Path(__file__).resolve().parents[1]
_BESIDE = Path("..") / "shared" / "data" / "ml-100k" / "ratings.csv"
_SHARED = (_CHECKOUT / _BESIDE).resolve()
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


def _beside_origin() -> Path | None:
    """The data beside the repository this checkout was cloned from, if that is a directory."""
    try:
        url = subprocess.run(
            ["git", "-C", str(_CHECKOUT), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:  # no git: only the checkout's own neighbourhood counts
        return None
    origin = Path(url.removeprefix("file://")) if url else None
    if origin is None or not origin.is_absolute() or not origin.is_dir():
        return None
    return (origin / _BESIDE).resolve()


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
    for path in (_SHARED, _beside_origin()):
        if path is not None and path.is_file():
            return path, ""
    return _SHARED, reason


ML100K, ML100K_MISSING = _find_ml100k()
needs_ml100k = pytest.mark.skipif(bool(ML100K_MISSING), reason=ML100K_MISSING or "present")
