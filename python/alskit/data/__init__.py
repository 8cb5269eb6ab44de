"""Data types: vocabularies, item lists, queries, sparse matrices and datasets."""

from .builder import DatasetBuilder, from_interactions_df
from .dataset import Dataset, Entities, Interactions
from .io import (
    load_csv,
    load_interactions,
    load_movielens,
    load_movielens_df,
    load_parquet,
)
from .items import ItemList
from .matrix import CSRMatrix, csr_from_coo
from .query import RecQuery
from .uipair import UIPair
from .vocabulary import Vocabulary

__all__ = [
    "CSRMatrix",
    "Dataset",
    "DatasetBuilder",
    "Entities",
    "Interactions",
    "ItemList",
    "RecQuery",
    "UIPair",
    "Vocabulary",
    "csr_from_coo",
    "from_interactions_df",
    "load_csv",
    "load_interactions",
    "load_movielens",
    "load_movielens_df",
    "load_parquet",
]
