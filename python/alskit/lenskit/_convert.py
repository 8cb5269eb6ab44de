"""LensKit's data types → alskit's, sharing the arrays wherever the layouts agree.

A LensKit ``Dataset`` keeps its interaction matrix as CSR: int64 row pointers over an int32
column of item numbers, rows in user-number order, items ascending within each row. alskit's
``Dataset`` has the same layout, so the item-number column is used as it is (no copy); only
the per-interaction user numbers (alskit's bias model needs them) and, for explicit models,
float64 ratings are new arrays. A matrix whose items are not ascending within each row is
re-sorted by alskit's own constructor (a copy).
"""

from __future__ import annotations

import importlib.metadata
import re
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..data import Dataset, ItemList, Vocabulary
from ._missing import MISSING

try:
    from lenskit.data import Dataset as LKDataset
    from lenskit.data import ItemList as LKItemList
    from lenskit.data import Vocabulary as LKVocabulary
except ImportError as error:  # pragma: no cover - exercised by a run without LensKit
    raise ImportError(MISSING) from error


def _release(version: str) -> tuple[int, int]:
    parts = re.findall(r"\d+", version)
    return (int(parts[0]), int(parts[1])) if len(parts) >= 2 else (0, 0)


#: The installed LensKit's (year, release), e.g. (2025, 8).
LENSKIT_VERSION: tuple[int, int] = _release(importlib.metadata.version("lenskit"))

#: The factor dtype of the installed LensKit's ALS: float64 torch tensors up to 2025.2,
#: float32 numpy arrays from 2025.3 (the Rust kernels). The adapter trains in the same one.
FACTOR_DTYPE: str = "float32" if LENSKIT_VERSION >= (2025, 3) else "float64"


def to_alskit_vocabulary(vocab: LKVocabulary) -> Vocabulary:
    """alskit's vocabulary with the same ids in the same order (numbers agree)."""
    return Vocabulary(np.asarray(vocab.ids()), vocab.name, reorder=False)


def to_alskit_dataset(data: LKDataset, *, ratings: bool) -> Dataset:
    """An alskit ``Dataset`` with ``data``'s vocabularies (same numbering) and interactions.

    ``ratings``: carry the ``rating`` field (explicit models, ``use_ratings``); every
    interaction must have one.
    """
    if not isinstance(data, LKDataset):
        raise TypeError(f"data must be a LensKit Dataset, got {type(data).__name__}")
    users = to_alskit_vocabulary(data.users)
    items = to_alskit_vocabulary(data.items)
    structure = data.interaction_matrix(format="structure")
    indptr = np.asarray(structure.rowptrs)
    indices = np.asarray(structure.colinds)
    values: NDArray[np.float64] | None = None
    if ratings:
        values = _rating_values(data, len(indices))
    user_nums = np.repeat(np.arange(len(users), dtype=np.int32), np.diff(indptr))
    if indices.dtype != np.int32 or not _ascending_rows(indptr, indices):
        # alskit's public constructor sorts (and refuses duplicates): a copy.
        return Dataset(users, items, user_nums, indices, values)
    converted = Dataset.__new__(Dataset)
    converted._setup(users, items, user_nums, indices, values, None)
    return converted


def as_alskit_dataset(data: Any) -> Dataset:
    """``data`` (an alskit or a LensKit ``Dataset``) as an alskit ``Dataset``: the hook by
    which alskit's own scorers can train on LensKit data. Ratings are carried when the
    LensKit dataset has a ``rating`` field."""
    if isinstance(data, Dataset):
        return data
    if not isinstance(data, LKDataset):
        raise TypeError(
            f"data must be an alskit Dataset or a LensKit Dataset, got {type(data).__name__}"
        )
    try:
        return to_alskit_dataset(data, ratings=True)
    except _NoRatingField:
        return to_alskit_dataset(data, ratings=False)


class _NoRatingField(ValueError):
    pass


def _rating_values(data: LKDataset, nnz: int) -> NDArray[np.float64]:
    try:
        matrix = data.interaction_matrix(format="scipy", field="rating", layout="csr")
    except (KeyError, ValueError) as error:
        raise _NoRatingField(
            f"the LensKit Dataset has no 'rating' field to train on ({error}); an alskit "
            "Dataset needs ratings for this model"
        ) from error
    if matrix.nnz != nnz:
        raise ValueError(
            f"the LensKit Dataset has {nnz - matrix.nnz} interactions without a rating; the "
            "alskit Dataset needs a rating on every interaction"
        )
    return np.asarray(matrix.data, dtype=np.float64)


def _ascending_rows(indptr: NDArray[Any], indices: NDArray[np.int32]) -> bool:
    """Items strictly ascending within every row (row boundaries excepted)?"""
    nnz = len(indices)
    if nnz < 2:
        return True
    descending = indices[1:] <= indices[:-1]
    boundaries = indptr[1:-1]
    boundaries = boundaries[(boundaries > 0) & (boundaries < nnz)]
    descending[boundaries - 1] = False
    return not bool(descending.any())


def to_alskit_history(history: LKItemList, items: Vocabulary) -> ItemList:
    """A query's history as an alskit ``ItemList`` over the model's ``items`` (by id, so
    items the model does not know are left for alskit's fold-in to drop), with the
    ``rating`` field when the history has one."""
    fields: dict[str, NDArray[Any]] = {}
    rating = history.field("rating")
    if rating is not None:
        fields["rating"] = np.asarray(rating, dtype=np.float64)
    return ItemList(np.asarray(history.ids()), vocabulary=items, **fields)
