"""Reading interaction files into a Dataset, on pandas: one reader per format.

- :mod:`.delimited`: CSV, TSV and other delimited text;
- :mod:`.movielens`: the MovieLens ratings files and releases;
- :mod:`.parquet`: Parquet (pyarrow).

Each file is opened once (:class:`._source.Source`), so pipes and process substitution
work; compressed text (.gz/.bz2/.xz, or recognised by its first bytes) is decompressed by
pandas. Columns are found by one resolver (:mod:`._columns`), shared with
``from_interactions_df``. Errors name the file and the line (or row).
"""

from __future__ import annotations

import os

from .._columns import Columns, resolve_columns
from ..dataset import Dataset, Duplicates
from ._source import Source
from .delimited import TAB_SEPARATED, load_csv, read_delimited
from .movielens import load_movielens, load_movielens_df, read_movielens, sniff_format
from .parquet import load_parquet, read_parquet

_DEFAULT_COLUMNS = ("user_id", "item_id", "rating", "timestamp")


def load_interactions(
    path: str | os.PathLike[str],
    *,
    sep: str | None = None,
    header: bool | None = None,
    user_col: str = "user_id",
    item_col: str = "item_id",
    rating_col: str | None = "rating",
    timestamp_col: str | None = "timestamp",
    duplicates: Duplicates = "error",
) -> Dataset:
    """Load interactions from any supported file, choosing the reader from its name.

    - ``*.parquet``/``*.pq`` (or Parquet content): :func:`load_parquet` (needs pyarrow);
    - MovieLens files (``u.data``, ``ratings.dat``, or a CSV whose header starts
      ``userId,movieId``): :func:`load_movielens`, unless ``sep``, ``header`` or a
      non-default column name is given, which marks the file as a custom one;
    - ``*.tsv``/``*.tab``: :func:`load_csv` with ``sep='\\t'`` (unless ``sep`` is given);
    - anything else: :func:`load_csv` with ``sep`` (default ``','``).

    Text files may be compressed (.gz/.bz2/.xz). ``rating_col=None`` or
    ``timestamp_col=None`` drop that column whatever the format. ``path`` may be a pipe
    (e.g. ``/dev/stdin`` or a shell process substitution): it is read once, every row, and
    its compression and Parquet format are then recognised from the content.
    """
    with Source(path) as source:
        if source.is_parquet:
            return read_parquet(source, user_col, item_col, rating_col, timestamp_col, duplicates)
        named = (user_col, item_col, rating_col or "rating", timestamp_col or "timestamp")
        custom = sep is not None or header is not None or named != _DEFAULT_COLUMNS
        fmt = None if custom else sniff_format(source)
        if fmt is not None:
            return read_movielens(source, fmt, rating_col, timestamp_col, duplicates)
        if sep is None:
            sep = "\t" if source.name.endswith(TAB_SEPARATED) else ","
        return read_delimited(
            source, sep, header, user_col, item_col, rating_col, timestamp_col, duplicates
        )


__all__ = [
    "Columns",
    "load_csv",
    "load_interactions",
    "load_movielens",
    "load_movielens_df",
    "load_parquet",
    "resolve_columns",
]
