"""Iterative training: options, the driver, and the data/context objects ALS passes around."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._native import core
from ._threads import resolve_threads
from .data import CSRMatrix, Dataset, Vocabulary
from .progress import EpochProgress, progress_wanted

RNGInput = int | np.random.Generator | np.random.SeedSequence | None


@dataclass
class TrainingOptions:
    """Options for one training run.

    ``retrain``: train again a model that is already trained (else return at once).
    ``rng``: a seed, SeedSequence or Generator; ``None`` draws fresh OS entropy.
    ``threads``: native threads (``None``/0 = all CPUs). ``progress``: show a progress bar
    (``None`` = only on an interactive terminal). ``resume``: continue a model from its last
    complete epoch (after an interruption, or loaded from a file) up to its configured epochs,
    instead of starting over; the data must be the same. ``device``: LensKit's option, for
    code written against it: alskit trains on the CPU, so only ``None`` or ``"cpu"``.
    """

    retrain: bool = True
    rng: RNGInput = None
    threads: int | None = None
    progress: bool | None = None
    resume: bool = False
    device: str | None = None

    def __post_init__(self) -> None:
        if self.device not in (None, "cpu"):
            raise ValueError(
                f"device={self.device!r}: alskit trains on the CPU (device None or 'cpu')"
            )

    def random_generator(self) -> np.random.Generator:
        """The generator this run draws its initial parameters from."""
        if isinstance(self.rng, np.random.Generator):
            return self.rng
        if self.rng is None or isinstance(self.rng, np.random.SeedSequence):
            return np.random.default_rng(self.rng)
        if isinstance(self.rng, bool) or not isinstance(self.rng, int | np.integer):
            raise TypeError(
                f"rng must be an int seed, SeedSequence, Generator or None, "
                f"got {type(self.rng).__name__}"
            )
        if self.rng < 0:
            raise ValueError(f"rng seed must be a non-negative integer, got {self.rng}")
        return np.random.default_rng(int(self.rng))

    def thread_count(self) -> int:
        return resolve_threads(self.threads)


class IterativeTraining(ABC):
    """A model trained by a generator that yields one metrics dict per epoch.

    The generator advances ``trained_epochs`` itself as each epoch completes, so the count is
    right however the generator is driven (by :meth:`train`, by hand, or cut short).
    """

    trained_epochs: int = 0

    @property
    def expected_training_epochs(self) -> int | None:
        """How many epochs a full run takes (for progress), if known."""
        return None

    def train(self, data: Dataset, options: TrainingOptions | None = None) -> None:
        """Train on ``data``; with ``options.retrain=False`` a trained model is left as is."""
        options = options if options is not None else TrainingOptions()
        if self.trained_epochs > 0 and not options.retrain:
            return
        loop = self.training_loop(data, options)
        label = type(self).__name__
        with EpochProgress(
            label, self.expected_training_epochs, progress_wanted(options.progress)
        ) as bar:
            for metrics in loop:
                bar.epoch_done(self.trained_epochs, metrics)

    @abstractmethod
    def training_loop(self, data: Dataset, options: TrainingOptions) -> Iterator[dict[str, float]]:
        """Set up eagerly, then return a generator running one epoch per ``next`` (and
        advancing ``trained_epochs``)."""


class TrainingData(NamedTuple):
    """The training matrix in both orientations, with its vocabularies."""

    users: Vocabulary
    items: Vocabulary
    ui_rates: CSRMatrix
    iu_rates: CSRMatrix

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @classmethod
    def create(
        cls, users: Vocabulary, items: Vocabulary, ratings: CSRMatrix, *, threads: int = 0
    ) -> TrainingData:
        """Wraps a user × item matrix and builds its transpose (natively, in parallel)."""
        if ratings.shape != (len(users), len(items)):
            raise ValueError(
                f"ratings has shape {ratings.shape}, expected {(len(users), len(items))}"
            )
        indptr, indices, values = core.transpose_csr(
            ratings.indptr, ratings.indices, ratings.values, ratings.ncols, threads=threads
        )
        transposed = CSRMatrix(indptr, indices, values, (ratings.ncols, ratings.nrows))
        return cls(users, items, ratings, transposed)


class TrainContext(NamedTuple):
    """One half of an epoch: solve the rows of ``left`` given the fixed ``right``.

    ``left`` is the model's own factor matrix, so the native kernel's in-place update lands
    directly in the model.
    """

    label: str
    matrix: CSRMatrix
    left: NDArray[Any]
    right: NDArray[Any]
    reg: float
    nrows: int
    ncols: int
    embed_size: int
    threads: int

    @property
    def regI(self) -> NDArray[Any]:  # noqa: N802 (LensKit's name)
        """reg · I_k, as LensKit's context carries it."""
        return self.reg * np.eye(self.embed_size, dtype=self.left.dtype)

    @classmethod
    def create(
        cls,
        label: str,
        matrix: CSRMatrix,
        left: NDArray[Any],
        right: NDArray[Any],
        reg: float,
        *,
        threads: int = 0,
    ) -> TrainContext:
        nrows, ncols = matrix.shape
        if left.shape[0] != nrows or right.shape[0] != ncols or left.shape[1] != right.shape[1]:
            raise ValueError(
                f"{label} context: matrix {matrix.shape}, left {left.shape} and right "
                f"{right.shape} do not agree"
            )
        return cls(label, matrix, left, right, reg, nrows, ncols, left.shape[1], threads)
