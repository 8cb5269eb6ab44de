"""Batch results: ranked (user, item, score, rank) rows as parallel numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._atomic import atomic_output
from .data import ItemList, Vocabulary
from .data._compat import require_module


@dataclass(frozen=True)
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
        """A pandas DataFrame with columns (user_id | item, item_id, score, rank)."""
        import pandas as pd

        return pd.DataFrame(
            {
                self.query_column: self.query_ids,
                "item_id": self.item_ids,
                "score": self.scores,
                "rank": self.ranks,
            }
        )

    def to_csv(self, path: str | PathLike[str]) -> None:
        """Write :meth:`to_df` as CSV to ``path``, atomically: a failure (a full disk, an
        interruption) leaves any previous file as it was (see :mod:`alskit._atomic`)."""
        frame = self.to_df()
        with atomic_output(path) as stream:
            frame.to_csv(stream, index=False)

    def to_parquet(self, path: str | PathLike[str]) -> None:
        """Write :meth:`to_df` as Parquet to ``path`` (needs pyarrow), atomically."""
        frame = self.to_df()
        require_module("pyarrow", "Recommendations.to_parquet")  # before touching the file
        with atomic_output(path) as stream:
            frame.to_parquet(stream, index=False)

    def for_query(self, query_id: Any) -> ItemList:
        """One user's (or item's) list as an ItemList, best first; empty if absent."""
        mask = self.query_ids == query_id
        return ItemList(
            self.item_ids[mask],
            vocabulary=self.item_vocabulary,
            scores=self.scores[mask],
            rank=self.ranks[mask],
        )
