"""Alternating-least-squares scorers (LensKit ``lenskit.als`` API)."""

from ._base import ALSBase
from ._config import ALSConfig, BiasedMFConfig, ImplicitMFConfig
from ._explicit import BiasedMFScorer
from ._implicit import ImplicitMFScorer

__all__ = [
    "ALSBase",
    "ALSConfig",
    "BiasedMFConfig",
    "BiasedMFScorer",
    "ImplicitMFConfig",
    "ImplicitMFScorer",
]
