"""What a model guarantees when several threads use it at once.

- Any number of threads may score, recommend, predict, fold in, pickle and save one trained
  model at the same time (bit-identical to doing it alone).
- While the model trains (from ``training_loop``/``train`` until the epochs are done, the
  training is interrupted or fails, or its generator is closed), other threads see the model
  as it was before that training started: their results come from the old model, never from a
  mix of epochs (an untrained model stays untrained for them: "not trained"). The training
  thread itself sees its model as it trains (e.g. to save a checkpoint between epochs).
- One training at a time: starting a second one from another thread while one runs raises
  ``RuntimeError``. (Starting a new one from the thread that owns a suspended training loop
  abandons that loop: its next epoch raises ``RuntimeError``.)

Mechanism: a model's read operations hold the shared side of a readers-writer lock (reentrant
per thread); a training takes the exclusive side only to install the snapshot of the old
model (references to its arrays; copies of the two factor matrices, which training updates in
place) before it changes anything, so reads never wait for epochs.

After ``fork()`` the child gets fresh locks (the parent's other threads, which may have held
them, do not exist there), and a model another thread was training at the fork is the model
as it was before that training.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class SharedLock:
    """Readers-writer lock, writer-preferring, reentrant for readers of one thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0
        self._local = threading.local()

    def acquire_shared(self) -> None:
        local = self._local
        depth = getattr(local, "depth", 0)
        if depth == 0:
            with self._cond:
                while self._writer or self._waiting_writers:
                    self._cond.wait()
                self._readers += 1
        local.depth = depth + 1

    def release_shared(self) -> None:
        local = self._local
        local.depth -= 1
        if local.depth == 0:
            with self._cond:
                self._readers -= 1
                if self._readers == 0 and self._waiting_writers:
                    self._cond.notify_all()

    @contextmanager
    def shared(self) -> Iterator[None]:
        self.acquire_shared()
        try:
            yield
        finally:
            self.release_shared()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._waiting_writers -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class TrainingToken:
    """One training run of one model; ``active`` until finished, failed or abandoned."""

    def __init__(self, thread: int, snapshot: Any, model: Any) -> None:
        self.thread = thread
        self.snapshot = snapshot
        self.model = weakref.ref(model)
        self.active = True


class StateGuard:
    """Per-model: the shared lock, and the training (if any) in progress."""

    def __init__(self) -> None:
        self.lock = SharedLock()
        self.training: TrainingToken | None = None
        self._start = threading.Lock()

    def reader(self, model: Any) -> Any:
        """Call with the shared lock held: the object a read on ``model`` should use."""
        token = self.training
        if token is not None and token.active and token.thread != threading.get_ident():
            return token.snapshot
        return model

    def begin(self, model: Any, snapshot: Any) -> TrainingToken:
        """Start a training of ``model`` in this thread; ``snapshot()`` (called with the
        exclusive lock held) gives the object other threads read meanwhile."""
        me = threading.get_ident()
        with self._start:
            current = self.training
            if current is not None and current.active:
                if current.thread != me:
                    raise RuntimeError(
                        f"this {type(model).__name__} is already being trained in another "
                        "thread; train a separate model object, or wait for that training"
                    )
                current.active = False  # this thread abandons its own suspended loop
                frozen = current.snapshot
            else:
                with self.lock.exclusive():
                    frozen = snapshot()
            token = TrainingToken(me, frozen, model)
            self.training = token
            return token

    def reset_after_fork(self) -> None:
        """In a forked child only the forking thread exists: locks another thread held stay
        held forever, and a training run by another thread will never finish. Fresh locks;
        such a training's model goes back to its snapshot (the consistent model as it was
        before that training), so the child can read and train it."""
        self.lock = SharedLock()
        self._start = threading.Lock()
        token = self.training
        if token is None or not token.active or token.thread == threading.get_ident():
            return
        token.active = False
        self.training = None
        model = token.model()
        if model is not None:
            state = {k: v for k, v in token.snapshot.__dict__.items() if k != "_state_guard"}
            model.__dict__.update(state)

    def end(self, token: TrainingToken) -> None:
        with self._start:
            token.active = False
            if self.training is token:
                self.training = None


_CREATE = threading.Lock()
_GUARDS: weakref.WeakSet[StateGuard] = weakref.WeakSet()


def guard_of(model: Any) -> StateGuard:
    """The model's guard (created on first use; never pickled or copied)."""
    guard = model.__dict__.get("_state_guard")
    if guard is None:
        with _CREATE:
            guard = model.__dict__.get("_state_guard")
            if guard is None:
                guard = model.__dict__["_state_guard"] = StateGuard()
                _GUARDS.add(guard)
    return guard  # type: ignore[no-any-return]


def _reset_after_fork() -> None:
    global _CREATE
    _CREATE = threading.Lock()
    for guard in list(_GUARDS):
        guard.reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
