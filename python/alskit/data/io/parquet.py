"""Parquet files, read by pyarrow (the ``parquet`` extra): only the needed columns."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import numpy as np
import pandas as pd

from .._arrays import first_index
from .._columns import FILE_SPELLINGS, Request, resolve_columns
from .._compat import optional_module
from ..dataset import Dataset, Duplicates
from ._source import Source
from .delimited import to_dataset


def _pyarrow() -> ModuleType | None:
    """pyarrow if installed (a seam for testing its absence)."""
    return optional_module("pyarrow")


def load_parquet(
    path: str | os.PathLike[str],
    *,
    user_col: str = "user_id",
    item_col: str = "item_id",
    rating_col: str | None = "rating",
    timestamp_col: str | None = "timestamp",
    duplicates: Duplicates = "error",
) -> Dataset:
    """Load interactions from a Parquet file (requires pyarrow).

    Columns are found as in :func:`load_csv`; only the needed ones are read. Column types
    are kept: integer ids stay integers, string ids strings (even if they look numeric),
    timestamps keep their type (e.g. datetime64). Missing (null) cells are an error.
    """
    with Source(path) as source:
        return read_parquet(source, user_col, item_col, rating_col, timestamp_col, duplicates)


def read_parquet(
    source: Source,
    user_col: Request,
    item_col: Request,
    rating_col: Request,
    timestamp_col: Request,
    duplicates: Duplicates,
) -> Dataset:
    p = source.path
    pa = _pyarrow()
    if pa is None:
        raise ImportError(
            f"reading Parquet file {p} requires pyarrow: pip install 'alskit[parquet]'"
        )
    pq = importlib.import_module("pyarrow.parquet")
    try:
        file = pq.ParquetFile(source.rewind())
        names = [n for n in file.schema_arrow.names if not n.startswith("__index_level_")]
        columns = resolve_columns(
            names,
            user_col,
            item_col,
            rating_col,
            timestamp_col,
            spellings=FILE_SPELLINGS,
            where=f"{p}: ",
        )
        wanted = [c for c in columns if c is not None]
        table = file.read(columns=wanted)
    except (pa.ArrowException, OSError) as e:
        raise ValueError(f"{p}: not a readable Parquet file: {_one_line(e)}") from e
    if table.num_rows == 0:
        raise ValueError(f"{p}: no interactions")

    def row(i: int) -> str:
        return f"row {i}"

    def column(name: str) -> pd.Series:
        col = table.column(name)
        if col.null_count:  # nulls, not NaN values: those are for the Dataset to refuse
            nulls = np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            raise ValueError(f"{p}: {row(first_index(nulls))}: column {name!r} is empty")
        if pa.types.is_dictionary(col.type):  # categorical columns
            col = col.cast(col.type.value_type)
        return pd.Series(np.asarray(col.to_numpy()), name=name)

    frame = pd.DataFrame({name: column(name) for name in wanted})
    return to_dataset(source, frame, columns, duplicates, row, parse_ids=False)


def _one_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
