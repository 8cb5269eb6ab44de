"""alskit's scorers as LensKit components (``pip install 'alskit[lenskit]'``).

The classes here *are* components of the installed LensKit: subclasses of its
``lenskit.pipeline.Component`` and of its trainable base (``UsesTrainer`` since 2025.3,
``IterativeTraining`` before), configured by subclasses of its own ``lenskit.als`` config
classes (so the field names, defaults and validation are the installed version's), with its
learned-attribute names. They take and return LensKit's ``Dataset``, ``ItemList`` and
``RecQuery``, and train and score through alskit's native core. Switching is one import::

    from alskit.lenskit import ImplicitMFScorer   # was: from lenskit.als import ...
"""

try:
    import lenskit.als  # noqa: F401  (the extra's presence check)
    import lenskit.pipeline  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised by a run without LensKit
    raise ImportError(
        "alskit.lenskit requires LensKit: install it with pip install 'alskit[lenskit]'"
    ) from error

from ._convert import FACTOR_DTYPE, LENSKIT_VERSION, as_alskit_dataset, to_alskit_dataset
from ._scorers import (
    ALSBase,
    ALSConfig,
    BiasedMFConfig,
    BiasedMFScorer,
    ImplicitMFConfig,
    ImplicitMFScorer,
)

__all__ = [
    "ALSBase",
    "ALSConfig",
    "BiasedMFConfig",
    "BiasedMFScorer",
    "FACTOR_DTYPE",
    "ImplicitMFConfig",
    "ImplicitMFScorer",
    "LENSKIT_VERSION",
    "as_alskit_dataset",
    "to_alskit_dataset",
]
