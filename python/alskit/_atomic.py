"""Writing an output file so that a reader only ever sees the old content or the new one.

Every file alskit writes (model files, recommendation tables) goes through
:func:`atomic_output`:

- a regular file (or a path that does not exist yet) is written to a unique temporary file
  in the same directory (``mkstemp``, so concurrent writers never share one), flushed and
  ``fsync``-ed, then renamed over the final name in one atomic step, and the directory is
  ``fsync``-ed so the rename itself survives a crash. An existing file keeps its permission
  bits (and, where allowed, its owner); a new file gets the usual ``0666 & ~umask``. A failed
  write (full disk, an exception, Ctrl-C) removes the temporary file and leaves the previous
  file untouched. Two processes writing one path leave one complete file: the last rename.
- a symbolic link is followed: its target is replaced, the link stays.
- a character device or FIFO (``/dev/null``, ``/dev/stdout``, a named pipe) is written
  directly: such a path cannot be replaced by a rename (that would swap the device node for
  a regular file), and there is no old content to protect.
- a directory, socket or block device is refused with an ``OSError`` naming the path.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO, cast


def _umask() -> int:
    """The process umask, read without changing it where the OS can tell (Linux ≥ 4.7)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # the only portable way to read it: set and restore at once
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # e.g. not permitted to open the directory: the rename still happened
        return
    try:
        os.fsync(fd)
    except OSError as e:  # some filesystems cannot sync a directory; nothing to gain then
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


class _Sequential(io.RawIOBase):
    """A device or pipe as a write-only stream that does not pretend to seek (``/dev/null``
    accepts seeks and reports position 0, which would confuse zip's offsets)."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__()
        self._stream = stream

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        self._stream.write(data)
        return len(memoryview(data))

    def tell(self) -> int:
        raise io.UnsupportedOperation("a device or pipe has no position")

    def seek(self, offset: int, whence: int = 0) -> int:
        raise io.UnsupportedOperation("a device or pipe cannot seek")

    def flush(self) -> None:
        self._stream.flush()


@contextmanager
def atomic_output(path: str | PathLike[str]) -> Iterator[BinaryIO]:
    """A binary stream whose content replaces ``path`` atomically when the block ends
    without an exception (see the module docstring for the rules)."""
    target = Path(os.path.realpath(path))  # a symlink: update its target, keep the link
    try:
        existing: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        if stat.S_ISCHR(existing.st_mode) or stat.S_ISFIFO(existing.st_mode):
            with open(target, "wb") as stream:  # a device or pipe: written in place
                yield cast(BinaryIO, _Sequential(stream))
            return
        if stat.S_ISDIR(existing.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        raise OSError(errno.EINVAL, "not a regular file, character device or FIFO", str(path))
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            if existing is not None:
                os.fchmod(stream.fileno(), stat.S_IMODE(existing.st_mode))
                try:
                    os.fchown(stream.fileno(), existing.st_uid, existing.st_gid)
                except PermissionError:  # only root may give a file away: keep our own
                    pass
            else:
                os.fchmod(stream.fileno(), 0o666 & ~_umask())
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)  # never leave a half-written file behind
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(target.parent)
