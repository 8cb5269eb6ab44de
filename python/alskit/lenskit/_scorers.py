"""The LensKit components: LensKit's classes outside, alskit's scorers inside.

Each component holds an alskit scorer (``alskit.BiasedMFScorer`` / ``alskit.ImplicitMFScorer``)
that does all training and scoring on the native core; the component converts LensKit's data
at the boundary and exposes the learned state under LensKit's attribute names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar, cast

import numpy as np
from numpy.typing import NDArray

from .. import als as _alskit_als
from ..data import ItemList as AlsItemList
from ..data import RecQuery as AlsRecQuery
from ..training import TrainingOptions as AlsTrainingOptions
from ._convert import FACTOR_DTYPE, to_alskit_dataset, to_alskit_history
from ._missing import MISSING

try:
    import lenskit.als as _lk_als
    import lenskit.training as _lk_training
    from lenskit.basic import BiasModel as LKBiasModel
    from lenskit.data import Dataset, ItemList, QueryInput, RecQuery, Vocabulary
    from lenskit.pipeline import Component
    from lenskit.training import TrainingOptions
except ImportError as error:  # pragma: no cover - exercised by a run without LensKit
    raise ImportError(MISSING) from error

# LensKit 2025.3 moved trainable components to UsesTrainer + ModelTrainer; 2025.1-2025.2 have
# IterativeTraining (training_loop) only. The adapter implements both interfaces.
_Trainable: Any = getattr(_lk_training, "UsesTrainer", _lk_training.IterativeTraining)
_ModelTrainer: Any = getattr(_lk_training, "ModelTrainer", object)


class ALSConfig(_lk_als.ALSConfig):
    """LensKit's ``ALSConfig`` (the installed version's fields, defaults and validation)."""


class BiasedMFConfig(_lk_als.BiasedMFConfig, ALSConfig):
    """LensKit's ``BiasedMFConfig`` (the installed version's fields, defaults and validation)."""


class ImplicitMFConfig(_lk_als.ImplicitMFConfig, ALSConfig):
    """LensKit's ``ImplicitMFConfig`` (the installed version's fields, defaults and
    validation)."""


def _lenskit_threads() -> int | None:
    """The thread count LensKit is configured with (``LK_NUM_THREADS`` etc.), if it says."""
    try:
        from lenskit.parallel import config as parallel
    except ImportError:  # pragma: no cover - LensKit without the parallel module
        return None
    ensure = getattr(parallel, "ensure_parallel_init", None)
    get = getattr(parallel, "get_parallel_config", None)
    if ensure is None or get is None:  # pragma: no cover - older layouts
        return None
    ensure()
    threads = getattr(get(), "threads", None)
    return int(threads) if isinstance(threads, int) and threads > 0 else None


class ALSBase(_Trainable, Component[ItemList], ABC):  # type: ignore[misc]
    """Base of the ALS components: LensKit's component interface over an alskit scorer.

    Learned state (LensKit 2025.3+ names): ``users`` and ``items`` (LensKit vocabularies;
    ``users`` is None with ``user_embeddings=False``), ``user_embeddings`` (or None) and
    ``item_embeddings`` (numpy, the installed LensKit's dtype). LensKit 2025.1's names
    (``users_``, ``items_``, ``user_features_``, ``item_features_``) read the same state.
    """

    config: ALSConfig
    users: Vocabulary | None
    items: Vocabulary
    _model: _alskit_als.ALSBase | None = None
    _backend: ClassVar[type[_alskit_als.ALSBase]]

    def __init__(self, config: Any = None, **kwargs: Any) -> None:
        cls = self.config_class()
        if (
            config is not None
            and cls is not None
            and not isinstance(config, cls)
            and type(config) in cls.__mro__
        ):
            # LensKit's own config class (lenskit.als.*Config): same fields, revalidated.
            config = cast(Any, cls).model_validate(config.model_dump())
        super().__init__(config, **kwargs)
        self._backend_config()  # refuse, now, a config alskit cannot train

    # ---- the alskit scorer -----------------------------------------------------------

    def _backend_config(self) -> dict[str, Any]:
        """The alskit config equal to this LensKit config, in the installed LensKit's dtype.
        A LensKit option alskit does not have is refused unless it is at its default."""
        backend_fields = self._backend.config_class().model_fields
        values = self.config.model_dump(mode="json")
        defaults = type(self.config)().model_dump(mode="json")
        unknown = [k for k in values if k not in backend_fields and values[k] != defaults.get(k)]
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: LensKit option(s) {unknown} are not supported by alskit"
            )
        options = {k: v for k, v in values.items() if k in backend_fields}
        options["dtype"] = FACTOR_DTYPE
        self._backend.config_class().model_validate(options)
        return options

    def _new_backend(self) -> _alskit_als.ALSBase:
        return self._backend(config=self._backend_config())

    def _trained(self) -> _alskit_als.ALSBase:
        if self._model is None:
            raise RuntimeError(f"{type(self).__name__} is not trained: call train() first")
        return self._model

    @property
    def alskit_model(self) -> _alskit_als.ALSBase:
        """The alskit scorer behind this component (alskit's own API: batch ``recommend``,
        ``predict``, ``save``)."""
        return self._trained()

    @abstractmethod
    def _needs_ratings(self) -> bool:
        """Does training need the dataset's ``rating`` field?"""

    # ---- training ----------------------------------------------------------------------

    def create_trainer(self, data: Dataset, options: TrainingOptions) -> _ALSTrainer:
        """LensKit's ``UsesTrainer`` hook: a trainer running alskit's epochs."""
        return _ALSTrainer(self, data, options)

    def training_loop(
        self, data: Dataset, options: TrainingOptions
    ) -> Iterator[dict[str, float] | None]:
        """LensKit's ``IterativeTraining`` hook (the 2025.1 interface): one epoch per item,
        finalized when exhausted. The caller (``train``) counts ``trained_epochs``."""
        trainer = self.create_trainer(data, options)
        for _ in range(self.config.epochs):
            yield trainer.train_epoch()
        trainer.finalize()

    # ---- learned state under LensKit's names -------------------------------------------

    def _state(self) -> _alskit_als.ALSBase:
        """The trained alskit scorer, for the learned-state attributes (an untrained
        component has none: AttributeError, as LensKit's)."""
        if self._model is None:
            raise AttributeError(f"{type(self).__name__} is not trained: no learned state")
        return self._model

    @property
    def user_embeddings(self) -> NDArray[np.floating[Any]] | None:
        return self._state().user_features_

    @property
    def item_embeddings(self) -> NDArray[np.floating[Any]]:
        return self._state().item_features_

    @property
    def users_(self) -> Vocabulary | None:  # LensKit 2025.1's name
        return self.users

    @property
    def items_(self) -> Vocabulary:  # LensKit 2025.1's name
        return self.items

    @property
    def user_features_(self) -> NDArray[np.floating[Any]] | None:  # LensKit 2025.1's name
        return self.user_embeddings

    @property
    def item_features_(self) -> NDArray[np.floating[Any]]:  # LensKit 2025.1's name
        return self.item_embeddings

    # ---- scoring -------------------------------------------------------------------------

    def __call__(self, query: QueryInput, items: ItemList) -> ItemList:
        """Scores of ``items`` for ``query`` (LensKit's rules, computed by alskit): a
        non-empty history is folded in unless ``user_embeddings="prefer"``; else the
        user's stored embedding; NaN for unknown items, and for every item when there is
        no embedding. The result keeps ``items``' order; scores in the factor dtype."""
        model = self._trained()
        query = RecQuery.create(query)
        nums = items.numbers(vocabulary=self.items, missing="negative")
        known = nums >= 0
        history = _history(query)
        als_query = AlsRecQuery(
            user_id=query.user_id,
            user_items=None if history is None else to_alskit_history(history, model.items_),
        )
        scored = model(als_query, AlsItemList(item_nums=nums[known], vocabulary=model.items_))
        scores = np.full(len(items), np.nan, dtype=model.dtype)
        known_scores = scored.scores()
        assert known_scores is not None
        scores[known] = known_scores
        return ItemList(items, scores=scores)

    def new_user_embedding(
        self, user_num: int | None, items: ItemList
    ) -> tuple[NDArray[np.floating[Any]], float | None]:
        """A user's embedding from their history ``items`` (alskit's native fold-in) and,
        for the biased model, their bias (else None)."""
        model = self._trained()
        return model.new_user_embedding(user_num, to_alskit_history(items, model.items_))


def _history(query: RecQuery) -> ItemList | None:
    """The query's history: ``query_items`` (2025.8), else ``user_items`` (2025.1)."""
    if hasattr(type(query), "query_items"):
        return query.query_items  # type: ignore[no-any-return]
    return getattr(query, "user_items", None)


class _ALSTrainer(_ModelTrainer):  # type: ignore[misc]
    """LensKit's ``ModelTrainer`` over alskit's training loop: each ``train_epoch`` is one
    epoch of the alskit scorer's generator (user half, then item half, natively)."""

    def __init__(self, scorer: ALSBase, data: Dataset, options: TrainingOptions) -> None:
        if not isinstance(options, TrainingOptions):
            raise TypeError(
                f"options must be LensKit's TrainingOptions, got {type(options).__name__}"
            )
        self.scorer = scorer
        model = scorer._new_backend()
        converted = to_alskit_dataset(data, ratings=scorer._needs_ratings())
        als_options = AlsTrainingOptions(
            rng=options.random_generator(), threads=_lenskit_threads(), progress=False
        )
        self._loop = model.training_loop(converted, als_options)
        scorer._model = model
        scorer.users = data.users
        scorer.items = data.items

    def train_epoch(self) -> dict[str, float] | None:
        try:
            return next(self._loop)
        except StopIteration:
            raise RuntimeError("the configured number of epochs has already run") from None

    def finalize(self) -> None:
        model = self.scorer._trained()
        if model.trained_epochs >= model.config.epochs:
            for _ in self._loop:  # the generator's tail: alskit's own finalization
                pass
        else:  # finalized early by the caller: keep the epochs run so far
            close = getattr(self._loop, "close", None)
            if close is not None:
                close()
            if not model.config.user_embeddings:
                model.user_features_ = None
            model.finalize_training()
        if not self.scorer.config.user_embeddings:
            self.scorer.users = None


class BiasedMFScorer(ALSBase):
    """Biased matrix factorization (explicit ratings, ALS-WR with a damped bias model),
    as LensKit's ``lenskit.als.BiasedMFScorer``, trained by ``alskit.BiasedMFScorer``.

    Learned state beyond :class:`ALSBase`'s: ``bias`` (a LensKit ``BiasModel``; 2025.1's
    ``bias_`` is the same).
    """

    config: BiasedMFConfig
    _backend = _alskit_als.BiasedMFScorer

    def _needs_ratings(self) -> bool:
        return True

    @property
    def bias(self) -> LKBiasModel:
        """The bias model as LensKit's ``BiasModel`` (float32 offsets, as LensKit's)."""
        model = self._state()
        assert isinstance(model, _alskit_als.BiasedMFScorer)
        learned = model.bias_
        return LKBiasModel(
            damping=self.config.damping,
            global_bias=float(learned.global_bias),
            items=self.items,
            item_biases=np.asarray(learned.item_biases, dtype=np.float32),
            users=self.users,
            user_biases=np.asarray(learned.user_biases, dtype=np.float32),
        )

    @property
    def bias_(self) -> LKBiasModel:  # LensKit 2025.1's name
        return self.bias


class ImplicitMFScorer(ALSBase):
    """Implicit-feedback matrix factorization (Hu, Koren & Volinsky), as LensKit's
    ``lenskit.als.ImplicitMFScorer``, trained by ``alskit.ImplicitMFScorer``.

    Learned state beyond :class:`ALSBase`'s: ``_OtOr`` = QᵀQ + λ_user·I (2025.1's ``OtOr_``).
    """

    config: ImplicitMFConfig
    _backend = _alskit_als.ImplicitMFScorer

    def _needs_ratings(self) -> bool:
        return bool(self.config.use_ratings)

    @property
    def _OtOr(self) -> NDArray[np.floating[Any]]:  # noqa: N802 (LensKit's name)
        model = self._state()
        assert isinstance(model, _alskit_als.ImplicitMFScorer)
        return model.OtOr_

    @property
    def OtOr_(self) -> NDArray[np.floating[Any]]:  # noqa: N802 (LensKit 2025.1's name)
        return self._OtOr
