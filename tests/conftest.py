"""Shared fixtures: the MovieLens 100K data from ../shared/data (never copied into the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

ML100K = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k" / "ratings.csv"


@pytest.fixture(scope="session")
def ml100k():  # type: ignore[no-untyped-def]
    """The MovieLens 100K ratings as an alskit Dataset (skips if the shared data is absent)."""
    if not ML100K.exists():
        pytest.skip(f"MovieLens 100K not found at {ML100K}")
    import alskit

    return alskit.load_csv(ML100K)
