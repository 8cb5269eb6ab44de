"""alskit: fast, exact alternating-least-squares matrix factorization for recommenders.

The scorers reproduce LensKit's ``lenskit.als`` API (2025.1) on a C++/OpenMP core.
"""

from ._native import core as _native_core
from .als import (
    ALSBase,
    ALSConfig,
    BiasedMFConfig,
    BiasedMFScorer,
    ImplicitMFConfig,
    ImplicitMFScorer,
    load,
)
from .bias import BiasModel, Damping
from .component import Component
from .data import (
    CSRMatrix,
    Dataset,
    ItemList,
    RecQuery,
    UIPair,
    Vocabulary,
    load_csv,
    load_interactions,
    load_movielens,
    load_parquet,
)
from .persistence import ModelFileError
from .recommendations import Recommendations
from .training import IterativeTraining, TrainContext, TrainingData, TrainingOptions

__version__ = "0.1.0"


def openmp_enabled() -> bool:
    """Whether the native core runs its kernels on several threads."""
    return bool(_native_core.openmp_enabled())


def native_isa() -> str:
    """Instruction set of the native core in use ('avx2' or 'baseline')."""
    return str(_native_core.isa())


__all__ = [
    "ALSBase",
    "ALSConfig",
    "BiasModel",
    "BiasedMFConfig",
    "BiasedMFScorer",
    "CSRMatrix",
    "Component",
    "Damping",
    "Dataset",
    "ImplicitMFConfig",
    "ImplicitMFScorer",
    "ItemList",
    "IterativeTraining",
    "RecQuery",
    "TrainContext",
    "TrainingData",
    "TrainingOptions",
    "UIPair",
    "Vocabulary",
    "ModelFileError",
    "Recommendations",
    "load",
    "load_csv",
    "load_interactions",
    "load_movielens",
    "load_parquet",
    "native_isa",
    "openmp_enabled",
    "__version__",
]
