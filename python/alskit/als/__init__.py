"""Alternating-least-squares scorers (LensKit ``lenskit.als`` API).

Each scorer is registered here, once: model files (``load``/``save``), the command line
(``--model KIND``) and evaluation find scorers through :data:`SCORERS`.
"""

from ._base import ALSBase
from ._config import ALSConfig, BiasedMFConfig, ImplicitMFConfig
from ._explicit import BiasedMFScorer
from ._implicit import ImplicitMFScorer
from ._registry import SCORERS as SCORERS
from ._registry import kind_of as kind_of
from ._registry import load as load
from ._registry import register

register(BiasedMFScorer)
register(ImplicitMFScorer)

# (LensKit's names; the registry, ``load`` and ``kind_of`` are alskit's own, not re-exported)
__all__ = [
    "ALSBase",
    "ALSConfig",
    "BiasedMFConfig",
    "BiasedMFScorer",
    "ImplicitMFConfig",
    "ImplicitMFScorer",
]
