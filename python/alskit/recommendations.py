"""Batch results: ranked (user, item, score, rank) rows as parallel numpy arrays."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from os import PathLike, fspath
from pathlib import PurePath
from typing import Any, BinaryIO, cast

import numpy as np
from numpy.typing import NDArray

from ._atomic import atomic_output
from ._display import REPR_ROWS, table_repr
from .data import ItemList, Vocabulary
from .data._compat import require_module
from .data.io._source import COMPRESSION_SUFFIXES

#: Output file extensions and the format each names; text formats may add a compression
#: suffix (``.csv.gz``), Parquet not (it compresses inside the file).
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".json": "json"}
EXTENSIONS[".jsonl"] = "jsonl"
#: The readers' compression methods (by suffix, ``COMPRESSION_SUFFIXES``), for writing.
_COMPRESSORS: dict[str, Callable[[BinaryIO], Any]] = {
    "gzip": lambda stream: gzip.GzipFile(fileobj=stream, mode="wb"),
    "bz2": lambda stream: bz2.BZ2File(stream, "wb"),
    "xz": lambda stream: lzma.LZMAFile(stream, "wb"),
}
COMPRESSION = tuple(COMPRESSION_SUFFIXES)
_FORMATS = tuple(EXTENSIONS.values())


def _compression_of(path: str | PathLike[str]) -> str:
    name = fspath(path).lower()
    return next((s for s in COMPRESSION if name.endswith(s)), "")


def format_of(path: str | PathLike[str]) -> str:
    """The output format ``path``'s extension names (``recs.csv.gz``: csv); a ValueError
    naming the path if it names none."""
    name = fspath(path).lower()
    compressed = _compression_of(name)
    suffix = PurePath(name[: len(name) - len(compressed)]).suffix
    fmt = EXTENSIONS.get(suffix)
    if fmt is None or (compressed and fmt == "parquet"):
        shown = suffix + compressed if suffix else "no extension"
        raise ValueError(
            f"cannot tell the output format of {fspath(path)} ({shown}): use one of "
            f"{', '.join(EXTENSIONS)} (text formats may end in {', '.join(COMPRESSION)})"
        )
    return fmt


@contextmanager
def _compressing(stream: BinaryIO, path: str | PathLike[str]) -> Iterator[BinaryIO]:
    """``stream`` itself, or a compressor writing into it (by the path's suffix); the
    compressor is finished on exit, the stream left open."""
    compression = _compression_of(path)
    if not compression:
        yield stream
        return
    compressor = cast(BinaryIO, _COMPRESSORS[COMPRESSION_SUFFIXES[compression]](stream))
    with compressor:
        yield compressor


@dataclass(frozen=True, repr=False)
class Recommendations:
    """Top-N lists of many users (or similar items of many items), one row per entry.

    ``query_ids`` repeats each user (or query item) once per returned entry; entries of a
    query are in rank order (``rank`` starts at 1).
    """

    query_ids: NDArray[Any]
    item_ids: NDArray[Any]
    scores: NDArray[np.floating[Any]]
    ranks: NDArray[np.int32]
    item_vocabulary: Vocabulary
    query_column: str = "user_id"

    @classmethod
    def from_matrix(
        cls,
        query_ids: NDArray[Any],
        item_nums: NDArray[np.int32],
        scores: NDArray[np.floating[Any]],
        items: Vocabulary,
        query_column: str = "user_id",
    ) -> Recommendations:
        """From (queries × n) item numbers and scores, padded with -1 where a list is short."""
        n = item_nums.shape[1] if item_nums.ndim == 2 else 0
        valid = item_nums >= 0
        rows, cols = np.nonzero(valid)
        return cls(
            query_ids=np.asarray(query_ids)[rows],
            item_ids=items.ids(item_nums[valid]),
            scores=scores[valid],
            ranks=(cols + 1).astype(np.int32) if n else np.empty(0, np.int32),
            item_vocabulary=items,
            query_column=query_column,
        )

    def __len__(self) -> int:
        return len(self.item_ids)

    def to_df(self) -> Any:
        """A pandas DataFrame with columns (user_id | query_item_id, item_id, score, rank)."""
        return self._frame(slice(None))

    def _frame(self, rows: slice) -> Any:
        import pandas as pd

        return pd.DataFrame(
            {
                self.query_column: self.query_ids[rows],
                "item_id": self.item_ids[rows],
                "score": self.scores[rows],
                "rank": self.ranks[rows],
            }
        )

    def write(self, path: str | PathLike[str], format: str | None = None) -> None:
        """Write :meth:`to_df` to ``path`` as ``csv``, ``tsv``, ``parquet`` (needs pyarrow),
        ``json`` or ``jsonl`` (one record per line), atomically: a failure (a full disk, an
        interruption) leaves any previous file as it was (see :mod:`alskit._atomic`). The
        format is the path's extension's (:func:`format_of`) unless given. Text formats are
        compressed when ``path`` ends in ``.gz``, ``.bz2`` or ``.xz``."""
        if format is None:
            try:
                format = format_of(path)
            except ValueError as e:
                raise ValueError(f"{e}, or pass format=") from None
        elif format not in _FORMATS:
            raise ValueError(f"format must be one of {', '.join(_FORMATS)}, got {format!r}")
        if format == "parquet" and _compression_of(path):
            raise ValueError(
                f"{fspath(path)}: Parquet compresses inside the file; a "
                f"{_compression_of(path)} suffix would name a compression it does not have"
            )
        frame = self.to_df()
        if format == "parquet":
            require_module("pyarrow", "writing Parquet")  # before the output is touched
            with atomic_output(path) as stream:
                frame.to_parquet(stream, index=False)
            return
        with atomic_output(path) as stream, _compressing(stream, path) as binary:
            text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
            try:
                if format == "csv" or format == "tsv":
                    frame.to_csv(text, index=False, sep="\t" if format == "tsv" else ",")
                else:
                    frame.to_json(
                        text, orient="records", lines=format == "jsonl", double_precision=15
                    )
                text.flush()
            finally:
                text.detach()  # the binary stream stays open for atomic_output to finish

    def __repr__(self) -> str:
        queries = len(np.unique(self.query_ids)) if len(self) else 0
        kind = "user" if self.query_column == "user_id" else "query item"
        kind += "" if queries == 1 else "s"
        title = f"Recommendations({len(self)} rows for {queries} {kind})"
        return table_repr(title, self._frame(slice(REPR_ROWS)), len(self))

    def for_query(self, query_id: Any) -> ItemList:
        """One user's (or item's) list as an ItemList, best first; empty if absent."""
        mask = self.query_ids == query_id
        return ItemList(
            self.item_ids[mask],
            vocabulary=self.item_vocabulary,
            scores=self.scores[mask],
            rank=self.ranks[mask],
        )
