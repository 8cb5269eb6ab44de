"""Holding Ctrl-C until an epoch is complete, so an interrupted model stays consistent."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Delay a SIGINT (Ctrl-C) that arrives inside the block until the block has finished,
    then raise ``KeyboardInterrupt``.

    An epoch interrupted between its user half and its item half would leave P and Q from
    different epochs; holding the interrupt for the rest of the epoch (seconds at most) keeps
    the model at a complete epoch, from which training can be resumed exactly. Outside the
    main thread, or when someone else has replaced the default SIGINT handler, the block runs
    unchanged.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if received:
        raise KeyboardInterrupt
