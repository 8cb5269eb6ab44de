"""Loading interaction files into a Dataset: CSV/TSV, the MovieLens formats, Parquet.

``load_interactions`` picks the reader from the file name (and first line). A stream that
can be read only once (a pipe, process substitution, ``/dev/stdin``) is read into memory
once, and everything (format detection, header detection, parsing) works on that content.
"""

from __future__ import annotations

import bz2
import csv
import errno
import gzip
import importlib
import io
import lzma
import os
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import IO, Any, Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray

from ._arrays import first_index
from ._compat import optional_module
from .dataset import Dataset, Duplicates

MovieLensFormat: TypeAlias = Literal["u.data", "ratings.dat", "ratings.csv"]

_COMPRESSION = (".gz", ".bz2", ".xz")
_PARQUET = (".parquet", ".pq")
_TAB_SEPARATED = (".tsv", ".tab")
_DEFAULT_COLUMNS = ("user_id", "item_id", "rating", "timestamp")


def _pandas() -> ModuleType | None:
    """pandas if installed (a seam for testing the numpy fallback)."""
    return optional_module("pandas")


def _pyarrow() -> ModuleType | None:
    """pyarrow if installed (a seam for testing its absence)."""
    return optional_module("pyarrow")


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

    - ``*.parquet``/``*.pq``: :func:`load_parquet` (needs pyarrow);
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
    p = _check_file(path)
    data = _read_stream(p)
    if p.suffix.lower() in _PARQUET or (data is not None and data[:4] == _PARQUET_MAGIC):
        return _load_parquet(p, data, user_col, item_col, rating_col, timestamp_col, duplicates)
    named = (user_col, item_col, rating_col or "rating", timestamp_col or "timestamp")
    custom = sep is not None or header is not None or named != _DEFAULT_COLUMNS
    name = _base_name(p)
    if not custom:
        fmt = _movielens_format(p)
        if fmt is None and name.endswith(".dat") and "::" in _first_line(p, data):
            fmt = "ratings.dat"
        if fmt is None and not name.endswith(_TAB_SEPARATED):
            if _movielens_csv_columns(_first_line(p, data)) is not None:
                fmt = "ratings.csv"
        if fmt is not None:
            return _load_movielens(p, data, fmt, rating_col, timestamp_col, duplicates)
    if sep is None:
        sep = "\t" if name.endswith(_TAB_SEPARATED) else ","
    return _load_delimited(
        p, data, sep, header, user_col, item_col, rating_col, timestamp_col, duplicates
    )


def load_movielens(path: str | os.PathLike[str], *, duplicates: Duplicates = "error") -> Dataset:
    """Load a MovieLens ratings file, recognised by its name (optionally .gz/.bz2/.xz):

    - ``u.data`` (ML-100K): tab-separated user, item, rating, timestamp; no header;
    - ``ratings.dat`` (ML-1M/10M): ``user::item::rating::timestamp``; no header;
    - ``ratings.csv`` (ML-20M/25M/32M/latest): header ``userId,movieId,rating,timestamp``
      (``user_id,item_id,rating,timestamp`` is accepted too).

    The first line must match the format. The Dataset has ratings and timestamps.
    """
    p = _check_file(path)
    fmt = _movielens_format(p)
    if fmt is None:
        raise ValueError(
            f"{p}: not a MovieLens ratings file name {p.name!r}; "
            "expected u.data, ratings.dat or ratings.csv"
        )
    return _load_movielens(p, _read_stream(p), fmt, "rating", "timestamp", duplicates)


def _base_name(p: Path) -> str:
    """The lower-case file name without a compression suffix."""
    name = p.name.lower()
    for suffix in _COMPRESSION:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _movielens_format(p: Path) -> MovieLensFormat | None:
    name = _base_name(p)
    if name == "u.data":
        return "u.data"
    if name == "ratings.dat":
        return "ratings.dat"
    if name == "ratings.csv":
        return "ratings.csv"
    return None


def _movielens_csv_columns(first_line: str) -> tuple[str, str] | None:
    fields = _split(first_line, ",")
    if fields[:2] == ["userId", "movieId"]:
        return "userId", "movieId"
    if fields[:2] == ["user_id", "item_id"]:
        return "user_id", "item_id"
    return None


def _load_movielens(
    p: Path,
    data: bytes | None,
    fmt: MovieLensFormat,
    rating_col: str | None,
    timestamp_col: str | None,
    duplicates: Duplicates,
) -> Dataset:
    rcol = None if rating_col is None else "rating"
    tcol = None if timestamp_col is None else "timestamp"
    first = _first_line(p, data)
    expected = "user, item, rating, timestamp"
    if fmt == "u.data":
        if len(first.split("\t")) != 4:
            raise ValueError(
                f"{p}: not a MovieLens u.data file: line 1 is not 4 tab-separated fields "
                f"({expected})"
            )
        return _load_delimited(p, data, "\t", False, "user_id", "item_id", rcol, tcol, duplicates)
    if fmt == "ratings.dat":
        if len(first.split("::")) != 4:
            raise ValueError(
                f"{p}: not a MovieLens ratings.dat file: line 1 is not 4 '::'-separated "
                f"fields ({expected})"
            )
        # One pass over the bytes turns '::' into a single-character separator, so the
        # fast C parser reads the file (pandas' regex/python engine is ~10x slower).
        content = (_read_bytes(p) if data is None else data).replace(b"::", b"\t")
        return _load_delimited(
            p, content, "\t", False, "user_id", "item_id", rcol, tcol, duplicates
        )
    columns = _movielens_csv_columns(first)
    if columns is None:
        raise ValueError(
            f"{p}: not a MovieLens ratings.csv file: header {first[:80]!r}; "
            "expected userId,movieId,rating,timestamp"
        )
    return _load_delimited(p, data, ",", True, *columns, rcol, tcol, duplicates)


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
    p = _check_file(path)
    return _load_parquet(
        p, _read_stream(p), user_col, item_col, rating_col, timestamp_col, duplicates
    )


def _load_parquet(
    p: Path,
    data: bytes | None,
    user_col: str,
    item_col: str,
    rating_col: str | None,
    timestamp_col: str | None,
    duplicates: Duplicates,
) -> Dataset:
    """Read the Parquet file ``p``, or ``data`` (its already-read content) when given."""
    pa = _pyarrow()
    if pa is None:
        raise ImportError(
            f"reading Parquet file {p} requires pyarrow: pip install 'alskit[parquet]'"
        )
    pq = importlib.import_module("pyarrow.parquet")

    def source() -> Any:
        return p if data is None else pa.BufferReader(data)

    try:
        schema = pq.read_schema(source())
        names = [n for n in schema.names if not n.startswith("__index_level_")]
        ucol, icol, rcol, tcol = _resolve_columns(
            p, names, user_col, item_col, rating_col, timestamp_col
        )
        wanted = [c for c in (ucol, icol, rcol, tcol) if c is not None]
        table = pq.read_table(source(), columns=wanted)
    except (pa.ArrowException, OSError) as e:
        raise ValueError(f"{p}: not a readable Parquet file: {_one_line(e)}") from e
    if table.num_rows == 0:
        raise ValueError(f"{p}: no interactions")

    def row(i: int) -> str:
        return f"row {i}"

    def column(name: str) -> NDArray[Any]:
        col = table.column(name)
        if col.null_count:
            nulls = np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            raise ValueError(f"{p}: {row(first_index(nulls))}: column {name!r} is empty")
        if pa.types.is_dictionary(col.type):  # categorical columns
            col = col.cast(col.type.value_type)
        arr: NDArray[Any] = np.asarray(col.to_numpy())
        return arr

    def ids(name: str) -> NDArray[Any]:
        arr = column(name)
        if arr.dtype.kind in "OUS":
            return arr.astype(np.str_)
        return _ids(p, arr, name, row)

    uids = ids(ucol)
    iids = ids(icol)
    ratings = None if rcol is None else _numbers(p, column(rcol), rcol, row)
    timestamps = None if tcol is None else _timestamps(p, column(tcol), tcol, row)
    try:
        return Dataset._from_ids(uids, iids, ratings, timestamps, None, None, duplicates, row)
    except ValueError as e:
        raise ValueError(f"{p}: {e}") from e


def _one_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


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
    p = _check_file(path)
    return _load_delimited(
        p, _read_stream(p), sep, header, user_col, item_col, rating_col, timestamp_col, duplicates
    )


def _check_file(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(errno.ENOENT, "interaction file not found", str(p))
    if p.is_dir():
        raise IsADirectoryError(errno.EISDIR, "expected a file, got a directory", str(p))
    return p


def _load_delimited(
    p: Path,
    data: bytes | None,
    sep: str,
    header: bool | None,
    user_col: str,
    item_col: str,
    rating_col: str | None,
    timestamp_col: str | None,
    duplicates: Duplicates,
) -> Dataset:
    """Parse the file ``p``, or ``data`` (its already-read content) when given."""
    if not isinstance(sep, str):
        raise TypeError(f"sep (the field separator) must be a string, not {type(sep).__name__}")
    if not sep:
        raise ValueError("sep (the field separator) must not be empty")
    if header is None:
        header = _detect_header(p, data, sep, user_col, item_col)
    positional = [user_col, item_col, rating_col or "rating", timestamp_col or "timestamp"]
    pd = _pandas()
    with _decompressing(p):  # the readers decompress as they go
        if pd is not None:
            columns = _read_pandas(pd, p, data, sep, header, positional)
        else:
            columns = _read_numpy(p, data, sep, header, positional)
    first_line = 2 if header else 1

    def line(i: int) -> str:
        return f"line {i + first_line}"

    n = len(next(iter(columns.values()))) if columns else 0
    if n == 0:
        raise ValueError(f"{p}: no interactions")
    ucol, icol, rcol, tcol = _resolve_columns(
        p, list(columns), user_col, item_col, rating_col, timestamp_col
    )
    uids = _ids(p, columns[ucol], ucol, line)
    iids = _ids(p, columns[icol], icol, line)
    ratings = None if rcol is None else _numbers(p, columns[rcol], rcol, line)
    timestamps = None if tcol is None else _timestamps(p, columns[tcol], tcol, line)
    try:
        return Dataset._from_ids(
            uids, iids, ratings, timestamps, None, None, duplicates, row_label=line
        )
    except ValueError as e:
        raise ValueError(f"{p}: {e}") from e


def _resolve_columns(
    p: Path,
    names: list[str],
    user_col: str,
    item_col: str,
    rating_col: str | None,
    timestamp_col: str | None,
) -> tuple[str, str, str | None, str | None]:
    """The user, item, rating and timestamp columns to use among ``names``.

    User and item are required (the LensKit legacy names ``user``/``item`` stand in for the
    defaults); the default rating/timestamp columns are optional, other names required.
    """

    def find(name: str | None, default: str, legacy: str | None, required: bool) -> str | None:
        if name is None or name in names:
            return name
        if name == default and legacy is not None and legacy in names:
            return legacy
        if required or name != default:
            raise ValueError(f"{p}: column {name!r} not found; available columns: {names}")
        return None

    ucol = find(user_col, "user_id", "user", True)
    icol = find(item_col, "item_id", "item", True)
    assert ucol is not None and icol is not None
    rcol = find(rating_col, "rating", None, False)
    tcol = find(timestamp_col, "timestamp", None, False)
    return ucol, icol, rcol, tcol


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


_PARQUET_MAGIC = b"PAR1"
_COMPRESSION_MAGIC = {b"\x1f\x8b": ".gz", b"BZh": ".bz2", b"\xfd7zXZ\x00": ".xz"}


def _read_stream(p: Path) -> bytes | None:
    """The whole (decompressed) content of ``p`` if it is a stream that can be read only
    once (a pipe, a FIFO, a terminal), else ``None`` (a regular file, read by name later).

    A pipe has no file name to tell its compression, so that is recognised from the first
    bytes instead (and a compressed suffix, if the name has one, is honoured as for files).
    """
    if p.is_file():
        return None
    raw = p.read_bytes()
    suffix = p.suffix.lower()
    if suffix not in _COMPRESSION:
        suffix = next((s for magic, s in _COMPRESSION_MAGIC.items() if raw.startswith(magic)), "")
    return _decompress(p, raw, suffix)


def _decompress(p: Path, raw: bytes, suffix: str) -> bytes:
    decompress = {".gz": gzip.decompress, ".bz2": bz2.decompress, ".xz": lzma.decompress}
    unpack = decompress.get(suffix)
    if unpack is None:
        return raw
    with _decompressing(p, suffix):
        return unpack(raw)


def _read_bytes(p: Path) -> bytes:
    """The whole (decompressed) content of the file."""
    return _decompress(p, p.read_bytes(), p.suffix.lower())


@contextmanager
def _decompressing(p: Path, suffix: str | None = None) -> Iterator[None]:
    """Report a corrupt or truncated compressed file as a ValueError naming it (``suffix``:
    its compression, by default from its name)."""
    suffix = p.suffix.lower() if suffix is None else suffix
    try:
        yield
    except (EOFError, zlib.error, lzma.LZMAError) as e:
        raise ValueError(f"{p}: cannot decompress: {e}") from e
    except OSError as e:
        # gzip and bz2 report bad data as an OSError without errno; real I/O errors have one.
        if e.errno is not None or suffix not in _COMPRESSION:
            raise
        raise ValueError(f"{p}: cannot decompress: {e}") from e


def _first_line(p: Path, data: bytes | None = None) -> str:
    """The first line of the file (or of its content ``data``), without the line break."""
    if data is None:
        try:
            with _decompressing(p), _open_text(p) as f:
                return f.readline().rstrip("\r\n")
        except UnicodeDecodeError as e:
            raise ValueError(f"{p}: malformed file: {e}") from e
    end = data.find(b"\n")
    head = data if end < 0 else data[:end]
    return head.decode("utf-8-sig", errors="replace").rstrip("\r\n")


def _detect_header(p: Path, data: bytes | None, sep: str, user_col: str, item_col: str) -> bool:
    fields = _split(_first_line(p, data), sep)
    if {user_col, item_col} <= set(fields) or {"user", "item"} <= set(fields):
        return True
    return len(fields) >= 3 and not _is_number(fields[2])


def _read_pandas(
    pd: ModuleType, p: Path, data: bytes | None, sep: str, header: bool, positional: list[str]
) -> dict[str, NDArray[Any]]:
    engine = "c" if len(sep) == 1 else "python"  # multi-character separators (e.g. '::')
    try:
        first = _split(_first_line(p, data), sep)
        names = (
            None
            if header
            else positional[: len(first)]
            + [f"column_{i}" for i in range(len(positional), len(first))]
        )
        df = pd.read_csv(
            p if data is None else io.BytesIO(data),
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


def _read_numpy(
    p: Path, data: bytes | None, sep: str, header: bool, positional: list[str]
) -> dict[str, NDArray[Any]]:
    if len(sep) != 1:
        raise ValueError(f"{p}: a multi-character separator {sep!r} requires pandas")
    first = _split(_first_line(p, data), sep)
    if first == [""]:
        raise ValueError(f"{p}: no interactions")
    try:
        source: Path | io.StringIO = p if data is None else io.StringIO(data.decode("utf-8-sig"))
        with warnings.catch_warnings():
            # An empty table is reported below as "no interactions", not as a warning.
            warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
            table = np.loadtxt(
                source,
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
    # One rule for both readers: a field's surrounding whitespace is not part of the id; ids
    # stay Python strings (no rows × longest-id fixed-width copy), and NUL-ended ones are
    # refused when the dataset is built, exactly as Dataset.from_arrays refuses them.
    text: NDArray[Any] = np.asarray(
        np.frompyfunc(str.strip, 1, 1)(arr.astype(object)), dtype=object
    )
    if np.frompyfunc(_is_int_text, 1, 1)(text).astype(bool).all():
        try:
            return text.astype(np.int64)
        except OverflowError:
            pass
    return text  # not all integers: string ids


def _is_int_text(text: str) -> bool:
    digits = text[1:] if text[:1] in ("-", "+") else text
    return digits.isascii() and digits.isdigit()


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


def _timestamps(p: Path, arr: NDArray[Any], col: str, line: Any) -> NDArray[Any]:
    miss = _missing(arr)
    if miss.any():
        raise ValueError(f"{p}: {line(first_index(miss))}: column {col!r} is empty")
    if arr.dtype.kind in "biufM":
        return arr
    text = arr.astype(np.str_)
    for dtype in (np.int64, np.float64):
        try:
            return text.astype(dtype)
        except (ValueError, OverflowError):
            pass
    return text  # e.g. ISO dates: kept as strings
