"""DatasetBuilder: a Dataset assembled from entities and interactions, as in LensKit."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from ._arrays import as_id_array, factorize_ids
from .dataset import Dataset, frame_columns
from .vocabulary import Vocabulary

_ENTITIES = ("user", "item")


class DatasetBuilder:
    """Builds a :class:`Dataset` step by step (LensKit's ``DatasetBuilder``), for the
    entity classes an alskit Dataset has (``user`` and ``item``) and one interaction class.

    Entities are numbered in the order they are added (each call's new ids sorted, as
    LensKit does); :meth:`build` makes the Dataset.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self._ids: dict[str, list[Any]] = {"user": [], "item": []}
        self._known: dict[str, set[Any]] = {"user": set(), "item": set()}
        self._class: str | None = None
        self._frames: list[pd.DataFrame] = []
        self._repeats = True

    def entity_classes(self) -> list[str]:
        return [e for e in _ENTITIES if self._ids[e]]

    def add_entities(
        self,
        cls: str,
        ids: Any,
        *,
        duplicates: Literal["error", "update", "overwrite"] = "error",
    ) -> None:
        """Add ``user`` or ``item`` ids. Ids repeated within the call are an error; ids
        added before are an error unless ``duplicates`` is ``"update"``/``"overwrite"``."""
        if cls not in _ENTITIES:
            raise ValueError(f"entity class must be 'user' or 'item', not {cls!r}")
        if duplicates not in ("error", "update", "overwrite"):
            raise ValueError(
                f"duplicates must be 'error', 'update' or 'overwrite', not {duplicates!r}"
            )
        arr = as_id_array(ids, f"{cls} ids")
        uniq, _ = factorize_ids(arr, f"{cls} ids")
        if len(uniq) < len(arr):
            raise ValueError(f"{len(arr) - len(uniq)} repeated {cls} ids in one add_entities call")
        known = self._known[cls]
        if self._ids[cls] and uniq.dtype.kind != np.asarray(self._ids[cls][:1]).dtype.kind:
            raise TypeError(f"{cls} ids mix integer and string types")
        fresh = [x for x in uniq.tolist() if x not in known]
        if len(fresh) < len(uniq) and duplicates == "error":
            raise ValueError(
                f"{len(uniq) - len(fresh)} {cls} ids were added before; pass duplicates='update'"
            )
        self._ids[cls].extend(fresh)
        known.update(fresh)

    def add_interactions(
        self,
        cls: str,
        data: Any,
        *,
        entities: list[str] | None = None,
        missing: Literal["error", "insert", "filter"] = "error",
        allow_repeats: bool = True,
        default: bool = False,
    ) -> None:
        """Add interactions of class ``cls`` (e.g. ``"rating"``) from a DataFrame (or a
        dict of columns, or a pyarrow Table) with ``user_id`` and ``item_id`` columns and
        optionally ``rating`` and ``timestamp``.

        ``missing``: ids not added as entities are an error, are added (``"insert"``), or
        their interactions dropped (``"filter"``). Repeated (user, item) pairs are an error
        unless ``allow_repeats``, in which case the last one is kept (a Dataset holds one
        interaction per pair).
        """
        if entities is not None and list(entities) != ["user", "item"]:
            raise ValueError(f"interactions must link ['user', 'item'], not {list(entities)}")
        if self._class is not None and cls != self._class:
            raise ValueError(
                f"an alskit Dataset has one interaction class; {self._class!r} was added, "
                f"not {cls!r}"
            )
        if missing not in ("error", "insert", "filter"):
            raise ValueError(f"missing must be 'error', 'insert' or 'filter', not {missing!r}")
        if isinstance(data, dict):
            data = pd.DataFrame(data)
        elif hasattr(data, "to_pandas") and not isinstance(data, pd.DataFrame):
            data = data.to_pandas()
        frame, columns = frame_columns(data, "user_id", "item_id", "rating", "timestamp")
        picked = {"user_id": frame[columns.user], "item_id": frame[columns.item]}
        if columns.rating is not None:
            picked["rating"] = frame[columns.rating]
        if columns.timestamp is not None:
            picked["timestamp"] = frame[columns.timestamp]
        table = pd.DataFrame({k: v.to_numpy() for k, v in picked.items()})
        for entity in _ENTITIES:
            col = f"{entity}_id"
            if missing == "insert":
                uniq, _ = factorize_ids(table[col].to_numpy(), f"{entity} ids")
                self.add_entities(entity, uniq, duplicates="update")
                continue
            if not self._ids[entity]:
                raise ValueError(f"no {entity} entities were added (pass missing='insert')")
            vocab = Vocabulary(self._ids[entity], entity, reorder=False)
            known = vocab.numbers(table[col].to_numpy(), missing="negative") >= 0
            if not known.all():
                if missing == "error":
                    raise ValueError(
                        f"{int((~known).sum())} unknown ids for entity class {entity}, e.g. "
                        f"{table[col].to_numpy()[~known][0]!r}"
                    )
                table = table[known]
        self._class = cls
        self._repeats = self._repeats and allow_repeats
        self._frames.append(table)

    def build(self) -> Dataset:
        """The Dataset: the vocabularies in the order entities were added; interactions
        sorted by user and item."""
        if not self._frames:
            raise ValueError("no interactions were added")
        frame = (
            pd.concat(self._frames, ignore_index=True) if len(self._frames) > 1 else self._frames[0]
        )
        users = Vocabulary(self._ids["user"], "user", reorder=False)
        items = Vocabulary(self._ids["item"], "item", reorder=False)
        ds = Dataset.from_interactions_df(
            frame, users=users, items=items, duplicates="last" if self._repeats else "error"
        )
        ds._class = self._class or ds._class
        return ds


def from_interactions_df(
    df: Any,
    *,
    user_col: str | None = None,
    item_col: str | None = None,
    rating_col: str | None = None,
    timestamp_col: str | None = None,
    users: Any = None,
    items: Any = None,
) -> Dataset:
    """A Dataset from a DataFrame of interactions, as LensKit's
    ``lenskit.data.from_interactions_df``.

    Columns left as None are detected: ``user_id``, ``user``, ``USER``, ``userId`` or
    ``UserId`` (items likewise), ``rating``/``RATING``, ``timestamp``/``TIMESTAMP``, also
    among the index levels. ``users``/``items`` (ids or a Vocabulary) fix the vocabularies
    and the interactions of other ids are dropped (the classmethod
    :meth:`Dataset.from_interactions_df` refuses them instead). Repeated (user, item) pairs
    are an error.
    """
    detect = "detect"
    frame, columns = frame_columns(
        df, user_col or detect, item_col or detect, rating_col or detect, timestamp_col or detect
    )
    table: dict[str, Any] = {
        "user_id": frame[columns.user].to_numpy(),
        "item_id": frame[columns.item].to_numpy(),
    }
    if columns.rating is not None:
        table["rating"] = frame[columns.rating].to_numpy()
    if columns.timestamp is not None:
        table["timestamp"] = frame[columns.timestamp].to_numpy()
    builder = DatasetBuilder()
    missing: Literal["insert", "filter"] = "insert"
    if users is not None or items is not None:
        missing = "filter"
        for entity, given in (("user", users), ("item", items)):
            ids = table[f"{entity}_id"] if given is None else given
            if isinstance(ids, Vocabulary):
                ids = ids.ids()
            builder.add_entities(entity, factorize_ids(ids, f"{entity} ids")[0])
    builder.add_interactions(
        "rating", table, entities=["user", "item"], missing=missing, allow_repeats=False
    )
    return builder.build()
