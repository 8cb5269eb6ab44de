"""Loading interaction files (CSV/TSV) into a Dataset."""

from __future__ import annotations

import bz2
import csv
import errno
import gzip
import lzma
import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from ._arrays import first_index
from ._compat import optional_module
from .dataset import Dataset, Duplicates


def _pandas() -> ModuleType | None:
    """pandas if installed (a seam for testing the numpy fallback)."""
    return optional_module("pandas")


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
    strings. Uses pandas when installed, else numpy.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(errno.ENOENT, "interaction file not found", str(p))
    if p.is_dir():
        raise IsADirectoryError(errno.EISDIR, "expected a file, got a directory", str(p))
    if header is None:
        header = _detect_header(p, sep, user_col, item_col)
    positional = [user_col, item_col, rating_col or "rating", timestamp_col or "timestamp"]
    pd = _pandas()
    if pd is not None:
        columns = _read_pandas(pd, p, sep, header, positional)
    else:
        columns = _read_numpy(p, sep, header, positional)
    first_line = 2 if header else 1

    def line(i: int) -> str:
        return f"line {i + first_line}"

    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    if n == 0:
        raise ValueError(f"{p}: no interactions")

    def find(name: str | None, default: str, legacy: str | None, required: bool) -> str | None:
        if name is None or name in columns:
            return name
        if name == default and legacy is not None and legacy in columns:
            return legacy
        if required or name != default:
            raise ValueError(f"{p}: column {name!r} not found; available columns: {names}")
        return None

    ucol = find(user_col, "user_id", "user", True)
    icol = find(item_col, "item_id", "item", True)
    rcol = find(rating_col, "rating", None, False)
    tcol = find(timestamp_col, "timestamp", None, False)
    assert ucol is not None and icol is not None
    uids = _ids(p, columns[ucol], ucol, line)
    iids = _ids(p, columns[icol], icol, line)
    ratings = None if rcol is None else _numbers(p, columns[rcol], rcol, line)
    timestamps = None if tcol is None else _timestamps(columns[tcol])
    try:
        return Dataset._from_ids(
            uids, iids, ratings, timestamps, None, None, duplicates, row_label=line
        )
    except ValueError as e:
        raise ValueError(f"{p}: {e}") from e


def _open_text(p: Path) -> IO[str]:
    # utf-8-sig drops a byte-order mark that would otherwise stick to the first column name.
    suffix = p.suffix.lower()
    if suffix == ".gz":
        return gzip.open(p, "rt", encoding="utf-8-sig", newline="")
    if suffix == ".bz2":
        return bz2.open(p, "rt", encoding="utf-8-sig", newline="")
    if suffix == ".xz":
        return lzma.open(p, "rt", encoding="utf-8-sig", newline="")
    return open(p, encoding="utf-8-sig", newline="")


def _split(line: str, sep: str) -> list[str]:
    fields = next(csv.reader([line], delimiter=sep)) if len(sep) == 1 else line.split(sep)
    return [f.strip() for f in fields]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _detect_header(p: Path, sep: str, user_col: str, item_col: str) -> bool:
    with _open_text(p) as f:
        first = f.readline().rstrip("\r\n")
    fields = _split(first, sep)
    if {user_col, item_col} <= set(fields) or {"user", "item"} <= set(fields):
        return True
    return len(fields) >= 3 and not _is_number(fields[2])


def _read_pandas(
    pd: ModuleType, p: Path, sep: str, header: bool, positional: list[str]
) -> dict[str, NDArray[Any]]:
    engine = "c" if len(sep) == 1 else "python"  # multi-character separators (e.g. '::')
    try:
        with _open_text(p) as f:
            first = _split(f.readline().rstrip("\r\n"), sep)
        names = (
            None
            if header
            else positional[: len(first)]
            + [f"column_{i}" for i in range(len(positional), len(first))]
        )
        df = pd.read_csv(
            p,
            sep=sep,
            header=0 if header else None,
            names=names,
            engine=engine,
            encoding="utf-8-sig",
            skipinitialspace=True,
            keep_default_na=False,
            na_values=[""],
        )
    except pd.errors.EmptyDataError:
        raise ValueError(f"{p}: no interactions") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise ValueError(f"{p}: malformed file: {e}") from e
    out: dict[str, NDArray[Any]] = {}
    for col in df.columns:
        s = df[col]
        missing = s.isna().to_numpy()
        if missing.any():
            # Missing cells become "" so both readers report them the same way.
            arr = s.to_numpy(dtype=object, copy=True)
            arr[missing] = ""
            out[str(col).strip()] = arr
        else:
            out[str(col).strip()] = s.to_numpy()
    return out


def _read_numpy(p: Path, sep: str, header: bool, positional: list[str]) -> dict[str, NDArray[Any]]:
    if len(sep) != 1:
        raise ValueError(f"{p}: a multi-character separator {sep!r} requires pandas")
    with _open_text(p) as f:
        first = _split(f.readline().rstrip("\r\n"), sep)
    if first == [""]:
        raise ValueError(f"{p}: no interactions")
    try:
        with warnings.catch_warnings():
            # An empty table is reported below as "no interactions", not as a warning.
            warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
            table = np.loadtxt(
                p,
                delimiter=sep,
                dtype=np.str_,
                ndmin=2,
                comments=None,
                quotechar='"',
                encoding="utf-8-sig",
                skiprows=1 if header else 0,
            )
    except ValueError as e:
        raise ValueError(f"{p}: malformed file: {e}") from e
    if header:
        names = first
    else:
        extra = [f"column_{i}" for i in range(len(positional), len(first))]
        names = positional[: len(first)] + extra
    if table.shape[0] == 0:
        return {name: np.empty(0, dtype=np.str_) for name in names}
    if table.shape[1] != len(names):
        raise ValueError(f"{p}: header has {len(names)} columns but rows have {table.shape[1]}")
    return {name: np.char.strip(table[:, j]) for j, name in enumerate(names)}


def _missing(arr: NDArray[Any]) -> NDArray[np.bool_]:
    if arr.dtype.kind in "UO":
        empty: NDArray[np.bool_] = np.asarray(arr == "", dtype=bool)
        return empty
    if arr.dtype.kind == "f":
        nan: NDArray[np.bool_] = np.isnan(arr)
        return nan
    return np.zeros(len(arr), dtype=bool)


def _text_to_float(arr: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Parse text as floats; returns values (NaN where unparseable) and a parsed mask."""
    text = arr.astype(np.str_)
    try:
        return text.astype(np.float64), np.ones(len(text), dtype=bool)
    except ValueError:
        ok = np.asarray(np.frompyfunc(_is_number, 1, 1)(text)).astype(
            bool
        )  # only on the error path
        values = np.full(len(text), np.nan)
        values[ok] = text[ok].astype(np.float64)
        return values, ok


def _ids(p: Path, arr: NDArray[Any], col: str, line: Any) -> NDArray[Any]:
    miss = _missing(arr)
    if miss.any():
        raise ValueError(f"{p}: {line(first_index(miss))}: column {col!r} is empty")
    kind = arr.dtype.kind
    if kind in "iu":
        return arr
    if kind == "f":
        frac = arr != np.trunc(arr)
        if frac.any():
            i = first_index(frac)
            raise ValueError(f"{p}: {line(i)}: column {col!r} has non-integer id {arr[i]!r}")
        return arr.astype(np.int64)
    text = arr.astype(np.str_)
    try:
        return text.astype(np.int64)
    except (ValueError, OverflowError):
        return text  # not all integers: string ids


def _numbers(p: Path, arr: NDArray[Any], col: str, line: Any) -> NDArray[np.float64]:
    miss = _missing(arr)
    if miss.any():
        raise ValueError(f"{p}: {line(first_index(miss))}: column {col!r} is empty")
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    values, ok = _text_to_float(arr)
    if not ok.all():
        i = first_index(~ok)
        raise ValueError(f"{p}: {line(i)}: column {col!r} has non-numeric value {str(arr[i])!r}")
    return values


def _timestamps(arr: NDArray[Any]) -> NDArray[Any]:
    if arr.dtype.kind in "biufM":
        return arr
    text = arr.astype(np.str_)
    for dtype in (np.int64, np.float64):
        try:
            return text.astype(dtype)
        except (ValueError, OverflowError):
            pass
    return text  # e.g. ISO dates: kept as strings
