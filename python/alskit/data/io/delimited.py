"""Delimited text files (CSV, TSV, ...), optionally compressed, read by pandas."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .._columns import FILE_SPELLINGS, Columns, Request, resolve_columns
from ..dataset import Dataset, Duplicates
from ._source import ENCODING, Source, separator
from ._values import Column, RowLabel, _is_number

TAB_SEPARATED = (".tsv", ".tab")


def load_csv(
    path: str | os.PathLike[str],
    *,
    sep: str = ",",
    header: bool | None = None,
    user_col: str = "user_id",
    item_col: str = "item_id",
    rating_col: str | None = "rating",
    timestamp_col: str | None = "timestamp",
    duplicates: Duplicates = "error",
) -> Dataset:
    """Load interactions from a delimited text file (optionally .gz/.bz2/.xz).

    ``header=None`` detects a header line: one naming the user and item columns, or whose
    third field is not a number. Without a header the columns are, in order, user, item,
    rating, timestamp (as many as the file has). Integer-looking ids become int64, others
    strings. ``path`` may be a pipe: it is read once.
    """
    with Source(path) as source:
        return read_delimited(
            source, sep, header, user_col, item_col, rating_col, timestamp_col, duplicates
        )


def read_delimited(
    source: Source,
    sep: str,
    header: bool | None,
    user_col: Request,
    item_col: Request,
    rating_col: Request,
    timestamp_col: Request,
    duplicates: Duplicates,
) -> Dataset:
    """A Dataset from the delimited file ``source``."""
    if not isinstance(sep, str):
        raise TypeError(f"sep (the field separator) must be a string, not {type(sep).__name__}")
    if not sep:
        raise ValueError("sep (the field separator) must not be empty")
    rows = source.first_rows(sep, 2) or [source.first_row(sep)]
    first = rows[0]
    if len(first) == 1:
        raise ValueError(
            f"{source.path}: line 1 is one field when split by sep={sep!r} (the user and item "
            f"need two): {first[0][:60]!r}; is {sep!r} the file's separator?"
        )
    if header is None:
        header = _has_header(rows, user_col, item_col)
    names = None
    if not header:
        positional = [user_col, item_col, rating_col or "rating", timestamp_col or "timestamp"]
        names = [str(n) for n in positional[: len(first)]]
        names += [f"column_{i}" for i in range(len(names), len(first))]
    frame = parse(source, sep, header=header, names=names)
    columns = resolve_columns(
        list(frame.columns),
        user_col,
        item_col,
        rating_col,
        timestamp_col,
        spellings=FILE_SPELLINGS,
        where=f"{source.path}: ",
    )
    return to_dataset(source, frame, columns, duplicates, line_label(header))


def line_label(header: bool) -> RowLabel:
    """Row position → its line in the file."""
    first_line = 2 if header else 1

    def line(i: int) -> str:
        return f"line {i + first_line}"

    return line


def parse(
    source: Source,
    sep: str,
    *,
    header: bool,
    names: Sequence[str] | None = None,
    usecols: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The file as a table of pandas-typed columns; empty cells are missing (NA)."""
    with source.reading():
        try:
            frame = pd.read_csv(
                source.rewind(),
                header=0 if header else None,
                names=names,
                usecols=usecols,
                compression=source.compression,
                encoding=ENCODING,
                skipinitialspace=True,
                keep_default_na=False,
                na_values=[""],
                **separator(sep),
            )
        except pd.errors.EmptyDataError:
            raise ValueError(f"{source.path}: no interactions") from None
        except (pd.errors.ParserError, ValueError) as e:
            raise ValueError(f"{source.path}: malformed file: {e}") from e
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) == 0:
        raise ValueError(f"{source.path}: no interactions")
    return frame


def to_dataset(
    source: Source | str,
    frame: pd.DataFrame,
    columns: Columns,
    duplicates: Duplicates,
    row: RowLabel,
    *,
    parse_ids: bool = True,
) -> Dataset:
    """A Dataset from the resolved columns of ``frame``, errors naming the file and row."""
    where = f"{source.path if isinstance(source, Source) else source}: "
    arrays = values(frame, columns, where, row, parse_ids=parse_ids)
    try:
        return Dataset._from_ids(*arrays, None, None, duplicates, row_label=row)
    except ValueError as e:
        raise ValueError(f"{where}{e}") from e


def values(
    frame: pd.DataFrame, columns: Columns, where: str, row: RowLabel, *, parse_ids: bool = True
) -> tuple[Any, Any, Any, Any]:
    """User ids, item ids, ratings (or None) and timestamps (or None) of ``frame``."""

    def column(name: str) -> Column:
        return Column(where, name, frame[name], row)

    return (
        column(columns.user).ids(parse_text=parse_ids),
        column(columns.item).ids(parse_text=parse_ids),
        None if columns.rating is None else column(columns.rating).numbers(),
        None if columns.timestamp is None else column(columns.timestamp).timestamps(),
    )


def _has_header(rows: list[list[str]], user_col: Request, item_col: Request) -> bool:
    """A header names the user and item columns, or has a third field that is not a number,
    or a field that is not a number above one that is (``user,movie`` over ``1,2``)."""
    fields = rows[0]
    if {user_col, item_col} <= set(fields) or {"user", "item"} <= set(fields):
        return True
    if len(fields) >= 3 and not _is_number(fields[2]):
        return True
    below = rows[1] if len(rows) > 1 else []
    return any(not _is_number(f) and _is_number(b) for f, b in zip(fields, below, strict=False))
