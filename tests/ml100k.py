"""MovieLens 100K for the tests, found without ever copying it into the repository.

Where it comes from, first match wins:
1. ``ALSKIT_ML100K``: a path to GroupLens' ``ml-100k/u.data`` (tab-separated, no header) or to
   a ratings CSV with the header ``user_id,item_id,rating,timestamp``; a path that does not
   exist is an error, not a skip.
2. ``../shared/data/ml-100k/ratings.csv`` beside the checkout (as in CI).

``ML100K`` is then always a ratings CSV (u.data is converted once into the temporary
directory); tests that need it skip with ``ML100K_MISSING`` as the reason when neither exists.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

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
