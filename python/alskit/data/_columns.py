"""Which columns of a table hold the user, item, rating and timestamp: one resolver for every
reader and for ``from_interactions_df``.

Each role has a canonical name and other spellings recognised for it: for data frames, those
LensKit's ``from_interactions_df`` looks for (``user``, ``userId``, ...); for interaction
files, only LensKit's legacy ``user``/``item`` (a MovieLens ``userId,movieId`` header is the
MovieLens reader's to recognise, not a plain CSV's). A role asked for by its canonical name (or left
to be detected) takes the first spelling present; another name must be present as given.
The user and item columns are required; a rating or timestamp column asked for by its
canonical name is used if present; ``None`` (``drop``) leaves it out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, NamedTuple, TypeAlias

Spellings: TypeAlias = Mapping[str, tuple[str, ...]]

#: Role → its canonical name first, then the spellings also recognised for it (data frames).
SPELLINGS: Spellings = {
    "user": ("user_id", "user", "USER", "userId", "UserId"),
    "item": ("item_id", "item", "ITEM", "itemId", "ItemId"),
    "rating": ("rating", "RATING"),
    "timestamp": ("timestamp", "TIMESTAMP"),
}
#: The same for interaction files.
FILE_SPELLINGS: Spellings = {
    "user": ("user_id", "user"),
    "item": ("item_id", "item"),
    "rating": ("rating",),
    "timestamp": ("timestamp",),
}

#: A column request: a name, ``"detect"`` (any spelling of the role), or None (leave it out).
Request: TypeAlias = str | Literal["detect"] | None


class Columns(NamedTuple):
    """The resolved column names (rating and timestamp may be absent)."""

    user: str
    item: str
    rating: str | None
    timestamp: str | None


def resolve_columns(
    names: Sequence[str],
    user: Request = "detect",
    item: Request = "detect",
    rating: Request = "detect",
    timestamp: Request = "detect",
    *,
    spellings: Spellings = SPELLINGS,
    where: str = "",
) -> Columns:
    """The columns among ``names`` to read for each role; a missing required column raises a
    ValueError listing the available ones (prefixed by ``where``, e.g. the file name)."""
    available = list(names)

    def find(role: str, request: Request, required: bool) -> str | None:
        known = spellings[role]
        if request is None:
            if required:
                raise ValueError(f"the {role} column cannot be left out")
            return None
        if request in available:
            return request
        if request in ("detect", known[0]):
            found = next((name for name in known if name in available), None)
            if found is not None or not required:
                return found
        missing = known[0] if request == "detect" else request
        raise ValueError(f"{where}column {missing!r} not found; available columns: {available}")

    ucol = find("user", user, True)
    icol = find("item", item, True)
    assert ucol is not None and icol is not None
    return Columns(ucol, icol, find("rating", rating, False), find("timestamp", timestamp, False))
