"""An interaction file opened once: its compression, its first row, and errors naming it.

A regular file is opened once and rewound between passes (format sniffing, header detection,
parsing). A stream that can be read only once (a pipe, a FIFO, ``/dev/stdin``) is read into
memory once and every pass reads that copy. Compression is named by the file's suffix or, for
a name without one (a pipe), recognised from the first bytes; pandas decompresses.
"""

from __future__ import annotations

import errno
import io
import lzma
import os
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pandas as pd

#: Suffix → pandas compression method.
COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
PARQUET_MAGIC = b"PAR1"
ENCODING = "utf-8-sig"  # drops a byte-order mark that would stick to the first column name


def separator(sep: str) -> dict[str, str]:
    """pandas options splitting fields at ``sep`` exactly (a multi-character separator needs
    the python engine, which takes it as a regular expression)."""
    if len(sep) == 1:
        return {"sep": sep, "engine": "c"}
    return {"sep": re.escape(sep), "engine": "python"}


class Source:
    """An opened interaction file (use as a context manager, which closes it)."""

    path: Path
    handle: IO[bytes]
    compression: str | None
    head: bytes

    def __init__(self, path: str | os.PathLike[str], handle: IO[bytes] | None = None) -> None:
        """Open ``path`` (or name it for ``handle``, a seekable stream already open)."""
        p = Path(path)
        self.path = p
        if handle is not None:
            self.handle = handle
        else:
            self.handle = _open_once(p)
        self.head = self.handle.read(8)
        self.handle.seek(0)
        suffix = p.suffix.lower()
        self.compression = COMPRESSION_SUFFIXES.get(suffix) or next(
            (method for magic, method in _MAGIC.items() if self.head.startswith(magic)), None
        )

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    @property
    def name(self) -> str:
        """The lower-case file name without a compression suffix."""
        name = self.path.name.lower()
        for suffix in COMPRESSION_SUFFIXES:
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name

    @property
    def is_parquet(self) -> bool:
        return self.name.endswith((".parquet", ".pq")) or self.head.startswith(PARQUET_MAGIC)

    def rewind(self) -> IO[bytes]:
        """The handle, at the start of the file."""
        self.handle.seek(0)
        return self.handle

    def first_row(self, sep: str) -> list[str]:
        """The fields of the first line split by ``sep`` (stripped; [] for an empty file)."""
        rows = self.first_rows(sep, 1)
        return rows[0] if rows else []

    def first_rows(self, sep: str, count: int) -> list[list[str]]:
        """The fields of the first ``count`` lines (or fewer) split by ``sep``, stripped; []
        for an empty file or lines that do not split alike."""
        with self.reading():
            try:
                rows = pd.read_csv(
                    self.rewind(),
                    header=None,
                    nrows=count,
                    dtype=str,
                    compression=self.compression,
                    encoding=ENCODING,
                    keep_default_na=False,
                    skip_blank_lines=False,
                    **separator(sep),
                )
            except pd.errors.EmptyDataError:
                return []
            except pd.errors.ParserError:
                return []  # not delimited by sep at all: parsing reports it properly
            finally:
                self.rewind()
        # (a line shorter than the first reads as missing fields: empty, not "nan")
        rows = rows.fillna("")
        return [[str(v).strip() for v in row] for row in rows.itertuples(index=False)]

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Report a corrupt or truncated compressed file, or bytes that are not UTF-8 text, as a
        ValueError naming the file."""
        try:
            yield
        except UnicodeDecodeError as e:
            raise ValueError(f"{self.path}: malformed file: {e}") from e
        except (EOFError, zlib.error, lzma.LZMAError) as e:
            raise ValueError(f"{self.path}: cannot decompress: {e}") from e
        except OSError as e:
            # gzip and bz2 report bad data as an OSError without errno; real I/O errors have one.
            if e.errno is not None or self.compression is None:
                raise
            raise ValueError(f"{self.path}: cannot decompress: {e}") from e


def _open_once(p: Path) -> IO[bytes]:
    """A seekable binary handle on ``p``: the file itself, or (for a stream that can be read
    only once) its whole content, read now."""
    if not p.exists():
        raise FileNotFoundError(errno.ENOENT, "interaction file not found", str(p))
    if p.is_dir():
        raise IsADirectoryError(errno.EISDIR, "expected a file, got a directory", str(p))
    if p.is_file():
        return open(p, "rb")  # noqa: SIM115 (closed by Source.__exit__)
    with open(p, "rb") as stream:
        return io.BytesIO(stream.read())
