"""Per-epoch training progress a person can follow, silent unless someone is watching."""

from __future__ import annotations

import logging
import os
import sys
import time
from types import TracebackType
from typing import Any

_log = logging.getLogger("alskit.training")


def progress_wanted(requested: bool | None) -> bool:
    """Explicit choice wins; by default only on an interactive terminal outside CI/pytest."""
    if requested is not None:
        return requested
    if os.environ.get("CI") or "PYTEST_CURRENT_TEST" in os.environ:
        return False
    return sys.stderr.isatty()


class EpochProgress:
    """A progress bar over epochs (tqdm) showing the last deltas; every epoch is also logged
    at INFO level on the ``alskit.training`` logger with its elapsed time."""

    def __init__(self, label: str, epochs: int | None, enabled: bool) -> None:
        self.label = label
        self.epochs = epochs
        self._bar: Any = None
        self._start = time.perf_counter()
        self._last = self._start
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=epochs, desc=label, unit="epoch", leave=False)

    def __enter__(self) -> EpochProgress:
        return self

    def epoch_done(self, epoch: int, metrics: dict[str, float]) -> None:
        now = time.perf_counter()
        _log.info(
            "%s: finished epoch %d/%s in %.3fs (%.3fs total): %s",
            self.label,
            epoch,
            self.epochs if self.epochs is not None else "?",
            now - self._last,
            now - self._start,
            ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()),
        )
        self._last = now
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.3g}" for k, v in metrics.items()}, refresh=False)
            self._bar.update(1)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.close()
        _log.info("%s: trained in %.3fs", self.label, time.perf_counter() - self._start)
