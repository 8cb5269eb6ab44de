"""Progress a person can follow on long work (tqdm bars), silent unless someone is watching."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, TypeVar

from tqdm import tqdm

_log = logging.getLogger("alskit.training")
T = TypeVar("T")


def progress_wanted(requested: bool | None) -> bool:
    """Explicit choice wins; by default only on an interactive terminal outside CI/pytest."""
    if requested is not None:
        return requested
    if os.environ.get("CI") or "PYTEST_CURRENT_TEST" in os.environ:
        return False
    return sys.stderr.isatty()


def _bar(total: int | None, desc: str, unit: str, leave: bool) -> Any:
    # The plain (terminal) tqdm on stderr, so stdout stays clean for data. The width follows
    # the terminal when it is resized; a terminal that reports no size (0 columns, as a bare
    # pseudo-terminal does) gets 80 columns and 24 rows rather than an invisible bar
    # (tqdm also hides a bar below the terminal's last row: 0 rows would hide them all.)
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
        sized = size.columns > 0 and size.lines > 0
    except (OSError, ValueError, AttributeError):  # not a terminal, or no file descriptor
        sized = False
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        leave=leave,
        file=sys.stderr,
        dynamic_ncols=sized,
        ncols=None if sized else 80,
        nrows=None if sized else 24,
    )


class EpochProgress:
    """A progress bar over epochs (tqdm) showing the last deltas; every epoch is also logged
    at INFO level on the ``alskit.training`` logger with its elapsed time.

    The bar stays on screen when training ends (it records how long each model took), and is
    closed cleanly when training is interrupted.
    """

    def __init__(self, label: str, epochs: int | None, enabled: bool) -> None:
        self.label = label
        self.epochs = epochs
        self._bar: Any = None
        self._start = time.perf_counter()
        self._last = self._start
        if enabled:
            self._bar = _bar(epochs, label, "epoch", leave=True)

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
            # To the epoch's number, not +1: a resumed run starts at its completed epochs.
            self._bar.update(epoch - self._bar.n)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.close()
        _log.info("%s: trained in %.3fs", self.label, time.perf_counter() - self._start)


def steps(
    items: Iterable[T], total: int | None, desc: str, unit: str, enabled: bool | None = None
) -> Iterator[T]:
    """``items`` unchanged, with a transient progress bar while they are consumed (when
    :func:`progress_wanted` says so for ``enabled``)."""
    if not progress_wanted(enabled):
        yield from items
        return
    with _bar(total, desc, unit, leave=False) as bar:
        for item in items:
            yield item
            bar.update(1)
