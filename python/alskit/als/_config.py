"""Configurations of the ALS scorers (pydantic v2; LensKit 2025.1 names and defaults)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from ..bias import Damping, damping_pair
from ..data import UIPair


def _reject_bool(value: Any, name: str) -> Any:
    # pydantic's lax mode would read True as 1; a boolean is never a meaningful count here.
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, not a boolean")
    return value


class ALSConfig(BaseModel):
    """Configuration shared by the ALS scorers."""

    # Unknown options are errors: a misspelt option silently ignored trains the wrong model.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    embedding_size: int = Field(
        default=50, gt=0, validation_alias=AliasChoices("embedding_size", "features")
    )
    """The dimension of user and item embeddings (number of latent features); alias
    ``features``."""

    epochs: int = Field(default=10, gt=0)
    """The number of training epochs (each solves the user side, then the item side)."""

    regularization: float | UIPair[float] = 0.1
    """L2 regularization strength: one value, or separate user and item values
    (``{"user": λu, "item": λi}``)."""

    user_embeddings: bool | Literal["prefer"] = True
    """Keep user embeddings after training? ``True``: kept, but a query that carries a
    history is folded in. ``False``: dropped (queries need a history). ``"prefer"``: the stored
    embedding is used even when the query has a history (fastest)."""

    dtype: Literal["float32", "float64"] = "float32"
    """Floating-point type of the factors: float32 by default (as LensKit since 2025.3,
    implicit and Spark MLlib store them), about twice as fast as float64 and half the
    memory; ``"float64"`` (LensKit 2025.1's precision) on request."""

    @model_validator(mode="before")
    @classmethod
    def _one_embedding_size(cls, data: Any) -> Any:
        # Both names given would otherwise read as an unknown option ("features: Extra
        # inputs are not permitted"), though each alone is accepted.
        if isinstance(data, dict) and "embedding_size" in data and "features" in data:
            raise ValueError(
                "embedding_size and features are one option (features is its alias): give "
                f"one, not both (got {data['embedding_size']!r} and {data['features']!r})"
            )
        return data

    @field_validator("embedding_size", "epochs", mode="before")
    @classmethod
    def _integral(cls, value: Any, info: Any) -> Any:
        return _reject_bool(value, info.field_name)

    @field_validator("regularization")
    @classmethod
    def _check_regularization(cls, value: float | UIPair[float]) -> float | UIPair[float]:
        values = (value.user, value.item) if isinstance(value, UIPair) else (value,)
        for v in values:
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"regularization must be finite and non-negative, got {v}")
        return value

    @property
    def user_reg(self) -> float:
        """Regularization of the user side."""
        r = self.regularization
        return float(r.user if isinstance(r, UIPair) else r)

    @property
    def item_reg(self) -> float:
        """Regularization of the item side."""
        r = self.regularization
        return float(r.item if isinstance(r, UIPair) else r)


class BiasedMFConfig(ALSConfig):
    """Configuration of :class:`BiasedMFScorer`."""

    damping: Damping = 5.0
    """Damping of the bias model: one value, or ``{"user": βu, "item": βi}``."""

    @field_validator("damping")
    @classmethod
    def _check_damping(cls, value: Damping) -> Damping:
        damping_pair(value)
        return value

    @property
    def user_damping(self) -> float:
        return damping_pair(self.damping)[0]

    @property
    def item_damping(self) -> float:
        return damping_pair(self.damping)[1]


class ImplicitMFConfig(ALSConfig):
    """Configuration of :class:`ImplicitMFScorer`."""

    weight: float = Field(default=40.0, ge=0, allow_inf_nan=False)
    """The confidence weight w of observed items (confidence 1 + w·r)."""

    use_ratings: bool = False
    """Use rating values (confidence 1 + w·rating) instead of presence alone. Negative ratings
    are refused (ValueError) unless ``negative_feedback`` is set."""

    negative_feedback: bool = False
    """With ``use_ratings``, read a negative rating r as a dislike, as implicit and Spark MLlib
    do: preference [r > 0] and confidence 1 + w·|r| (so a rating of 0 has preference 0 too).
    Without it, negative ratings are an error: confidence 1 + w·r < 1 would give a user's most
    disliked items the top scores."""

    solver: Literal["cholesky", "cg", "subspace"] = "cholesky"
    """Exact Cholesky solves (LensKit's method), conjugate gradient (faster, approximate,
    warm-started from the previous epoch) or ``"subspace"``: iALS++ (Rendle et al. 2021),
    block coordinate descent over ``block_size`` coordinates at a time, each block solved
    exactly, warm-started too; the same loss as Cholesky at a fraction of its cost for large
    embeddings. New users are always folded in exactly (Cholesky)."""

    cg_steps: int = Field(default=3, ge=1, le=10_000)
    """Conjugate-gradient iterations per row and half-epoch (``solver="cg"`` only); at most
    10,000 (CG solves a k × k system exactly in k steps)."""

    block_size: int = Field(default=32, ge=1, le=100_000)
    """Coordinates per block of the subspace solver (``solver="subspace"`` only): b × b
    systems instead of k × k. Smaller blocks are cheaper per sweep and approach the exact
    solution more slowly; a block of at least ``embedding_size`` is the exact solve."""

    sweeps: int = Field(default=1, ge=1, le=10_000)
    """Passes over all blocks per row and half-epoch (``solver="subspace"`` only)."""

    @field_validator("cg_steps", "block_size", "sweeps", mode="before")
    @classmethod
    def _integral_steps(cls, value: Any, info: Any) -> Any:
        return _reject_bool(value, info.field_name)
