"""Data types: vocabularies, item lists, queries, sparse matrices and datasets."""

from .dataset import Dataset
from .items import ItemList
from .loaders import load_csv, load_interactions, load_movielens, load_parquet
from .matrix import CSRMatrix, csr_from_coo
from .query import RecQuery
from .uipair import UIPair
from .vocabulary import Vocabulary

__all__ = [
    "CSRMatrix",
    "Dataset",
    "ItemList",
    "RecQuery",
    "UIPair",
    "Vocabulary",
    "csr_from_coo",
    "load_csv",
    "load_interactions",
    "load_movielens",
    "load_parquet",
]
