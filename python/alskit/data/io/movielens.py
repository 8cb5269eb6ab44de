"""The MovieLens ratings formats: recognised by name (and first line), read by pandas.

- ``u.data`` (ML-100K): tab-separated user, item, rating, timestamp; no header;
- ``ratings.dat`` (ML-1M/10M): ``user::item::rating::timestamp``; no header;
- ``ratings.csv`` (ML-20M/25M/32M/latest): header ``userId,movieId,rating,timestamp``
  (``user_id,item_id,rating,timestamp`` is accepted too).

A MovieLens release (its directory or its zip file, as GroupLens ships it) is recognised by
which of these files it holds, as LensKit's ``load_movielens`` does.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

from .._columns import Columns, Request, resolve_columns
from ..dataset import Dataset, Duplicates
from ._source import Source
from .delimited import line_label, parse, to_dataset, values

MovieLensFormat: TypeAlias = Literal["u.data", "ratings.dat", "ratings.csv"]
FORMATS: tuple[MovieLensFormat, ...] = ("u.data", "ratings.dat", "ratings.csv")
_FIELDS = ["user_id", "item_id", "rating", "timestamp"]
_EXPECTED = "user, item, rating, timestamp"


def file_format(source: Source) -> MovieLensFormat | None:
    """The MovieLens format named by the file name, if any."""
    name = source.name
    return next((fmt for fmt in FORMATS if name == fmt), None)


def sniff_format(source: Source) -> MovieLensFormat | None:
    """The MovieLens format of a file, by its name or, under another name, by its first line:
    a ``.dat`` file of ``::``-separated fields, or a CSV with a MovieLens header."""
    fmt = file_format(source)
    if fmt is None and source.name.endswith(".dat") and len(source.first_row("::")) > 1:
        fmt = "ratings.dat"
    if fmt is None and not source.name.endswith((".tsv", ".tab")):
        if _csv_header(source.first_row(",")) is not None:
            fmt = "ratings.csv"
    return fmt


def _csv_header(fields: list[str]) -> tuple[str, str] | None:
    for user, item in (("userId", "movieId"), ("user_id", "item_id")):
        if fields[:2] == [user, item]:
            return user, item
    return None


def read_frame(
    source: Source, fmt: MovieLensFormat, rating_col: Request, timestamp_col: Request
) -> tuple[pd.DataFrame, Columns, bool]:
    """The parsed table of a MovieLens file, its columns and whether it had a header."""
    rcol = None if rating_col is None else "rating"
    tcol = None if timestamp_col is None else "timestamp"
    if fmt == "u.data":
        if len(source.first_row("\t")) != 4:
            raise ValueError(
                f"{source.path}: not a MovieLens u.data file: line 1 is not 4 tab-separated "
                f"fields ({_EXPECTED})"
            )
        frame = parse(source, "\t", header=False, names=_FIELDS)
        return frame, Columns("user_id", "item_id", rcol, tcol), False
    if fmt == "ratings.dat":
        if len(source.first_row("::")) != 4:
            raise ValueError(
                f"{source.path}: not a MovieLens ratings.dat file: line 1 is not 4 "
                f"'::'-separated fields ({_EXPECTED})"
            )
        # Split at every ':' and keep every other field: the fast C parser reads the file
        # (pandas reads a multi-character separator with its python engine, ~10x slower).
        names = ["user_id", "_1", "item_id", "_2", "rating", "_3", "timestamp"]
        frame = parse(source, ":", header=False, names=names, usecols=[0, 2, 4, 6])
        return frame, Columns("user_id", "item_id", rcol, tcol), False
    header = _csv_header(source.first_row(","))
    if header is None:
        first = ",".join(source.first_row(","))
        raise ValueError(
            f"{source.path}: not a MovieLens ratings.csv file: header {first[:80]!r}; "
            "expected userId,movieId,rating,timestamp"
        )
    frame = parse(source, ",", header=True)
    columns = resolve_columns(list(frame.columns), *header, rcol, tcol, where=f"{source.path}: ")
    return frame, columns, True


def read_movielens(
    source: Source,
    fmt: MovieLensFormat,
    rating_col: Request,
    timestamp_col: Request,
    duplicates: Duplicates,
) -> Dataset:
    frame, columns, header = read_frame(source, fmt, rating_col, timestamp_col)
    return to_dataset(source, frame, columns, duplicates, line_label(header))


def load_movielens(path: str | os.PathLike[str], *, duplicates: Duplicates = "error") -> Dataset:
    """Load MovieLens ratings as a Dataset with ratings and timestamps (integer seconds).

    ``path`` is a ratings file (``u.data``, ``ratings.dat`` or ``ratings.csv``, optionally
    .gz/.bz2/.xz; the first line must match the format), or a MovieLens release as GroupLens
    ships it: its directory (e.g. ``ml-100k/``) or zip file (``ml-100k.zip``), which is
    recognised by the ratings file it holds.
    """
    with _open_ratings(path) as (source, fmt):
        return read_movielens(source, fmt, "rating", "timestamp", duplicates)


def load_movielens_df(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The MovieLens ratings as a pandas DataFrame in file order, as LensKit's
    ``load_movielens_df``: columns ``user_id`` and ``item_id`` (int32, or strings),
    ``rating`` (float32) and ``timestamp`` (datetime64, from the file's seconds).

    ``path`` as for :func:`load_movielens`.
    """
    with _open_ratings(path) as (source, fmt):
        frame, columns, header = read_frame(source, fmt, "rating", "timestamp")
        users, items, ratings, stamps = values(
            frame, columns, f"{source.path}: ", line_label(header)
        )
    out = pd.DataFrame(
        {
            "user_id": users.astype(np.int32) if users.dtype.kind == "i" else users,
            "item_id": items.astype(np.int32) if items.dtype.kind == "i" else items,
            "rating": ratings.astype(np.float32),
        }
    )
    if stamps is not None:
        out["timestamp"] = (
            pd.to_datetime(stamps, unit="s") if stamps.dtype.kind in "iuf" else stamps
        )
    return out


class _open_ratings:  # noqa: N801 (a context manager used like a function)
    """The ratings file of a MovieLens path (a file, a release directory or zip) and its
    format, opened."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        p = Path(path)
        self.source: Source
        if p.is_dir():
            found = next((p / name for name in FORMATS if (p / name).is_file()), None)
            if found is None:
                raise ValueError(
                    f"{p}: not a MovieLens directory: it has none of {', '.join(FORMATS)}"
                )
            self.source = Source(found)
        elif p.suffix.lower() == ".zip" and p.is_file():
            self.source = _zip_member(p)
        else:
            self.source = Source(p)
        fmt = file_format(self.source)
        if fmt is None:
            self.source.handle.close()
            raise ValueError(
                f"{p}: not a MovieLens ratings file name {p.name!r}; "
                "expected u.data, ratings.dat or ratings.csv"
            )
        self.fmt: MovieLensFormat = fmt

    def __enter__(self) -> tuple[Source, MovieLensFormat]:
        return self.source, self.fmt

    def __exit__(self, *exc: object) -> None:
        self.source.handle.close()


def _zip_member(path: Path) -> Source:
    """The ratings file inside a MovieLens zip (``ml-100k/u.data``, ...), read into memory."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {Path(name).name: name for name in archive.namelist()}
            name = next((members[f] for f in FORMATS if f in members), None)
            if name is None:
                raise ValueError(
                    f"{path}: not a MovieLens zip file: it has none of {', '.join(FORMATS)}"
                )
            content = archive.read(name)
    except zipfile.BadZipFile as e:
        raise ValueError(f"{path}: not a readable zip file: {e}") from e
    return Source(path / name, handle=io.BytesIO(content))
