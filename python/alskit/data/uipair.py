"""UIPair: a value with separate user and item settings (e.g. regularization)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class UIPair(Generic[T]):
    """A pair of values for the user and item sides.

    Works as a pydantic field type: validates from ``{"user": u, "item": i}`` and dumps to
    that dict in JSON mode.
    """

    user: T
    item: T
