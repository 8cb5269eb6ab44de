"""RecQuery: who a recommendation is for, and what they have interacted with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .items import ItemList


@dataclass
class RecQuery:
    """A recommendation query: a user id and/or the user's history items."""

    user_id: Any = None
    user_items: ItemList | None = None

    @property
    def query_items(self) -> ItemList | None:
        """The history items under LensKit 2025.3+'s name (``user_items`` in 2025.1)."""
        return self.user_items

    @classmethod
    def create(cls, query: RecQuery | ItemList | int | str | np.integer[Any] | None) -> RecQuery:
        """Interpret None, a RecQuery, an ItemList (history only) or a user id."""
        if query is None:
            return cls()
        if isinstance(query, RecQuery):
            return query
        if isinstance(query, ItemList):
            return cls(user_items=query)
        if isinstance(query, (bool, np.bool_)):
            raise TypeError("a boolean is not a user id")
        if isinstance(query, np.integer):
            return cls(user_id=int(query))
        if isinstance(query, (int, str)):
            return cls(user_id=query)
        raise TypeError(f"cannot interpret a {type(query).__name__} as a recommendation query")
