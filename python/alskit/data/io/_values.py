"""Turning parsed columns into ids, ratings and timestamps, with errors naming the row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._arrays import first_index

#: Row position (0-based, in file order) → how a message names it ("line 3", "row 2").
RowLabel: TypeAlias = Callable[[int], str]


class Column:
    """One parsed column: its values, its missing cells, and how to name a row in errors."""

    def __init__(self, where: str, name: str, series: pd.Series, row: RowLabel) -> None:
        self.where = where
        self.name = name
        self.series = series
        self.row = row
        missing = series.isna().to_numpy()
        if missing.any():
            raise ValueError(f"{where}{row(first_index(missing))}: column {name!r} is empty")

    def _error(self, i: int, what: str) -> ValueError:
        value = self.series.iloc[i]
        if isinstance(value, np.generic):
            value = value.item()
        return ValueError(f"{self.where}{self.row(i)}: column {self.name!r} has {what} {value!r}")

    def ids(self, *, parse_text: bool = True) -> NDArray[Any]:
        """int64 ids, or Python strings. With ``parse_text`` (a delimited file), whitespace
        around an id is not part of it and text that is all integers becomes int64."""
        s = self.series
        kind = s.dtype.kind
        if kind in "iu":
            return np.asarray(
                s.to_numpy()
            )  # uint64 beyond int64 is refused by the Dataset, never wrapped
        if kind == "f":
            arr = s.to_numpy()
            frac = arr != np.trunc(arr)
            if frac.any():
                raise self._error(first_index(frac), "non-integer id")
            return np.asarray(arr.astype(np.int64))
        text = s.astype(str)
        if not parse_text:
            return np.asarray(text.to_numpy(dtype=object))
        text = text.str.strip()
        if bool(text.str.fullmatch(r"[+-]?[0-9]+").all()):
            try:
                return np.asarray(text.to_numpy(dtype=object).astype(np.int64))
            except OverflowError:
                pass
        return np.asarray(text.to_numpy(dtype=object))

    def numbers(self) -> NDArray[np.float64]:
        """float64 values; text must be numbers."""
        s = self.series
        if s.dtype.kind in "biuf":
            return np.asarray(s.to_numpy(dtype=np.float64))
        text = s.astype(str).str.strip().to_numpy(dtype=np.str_)
        try:
            return np.asarray(text.astype(np.float64))  # numpy's parse: "nan"/"inf" are numbers
        except ValueError:
            bad = ~np.frompyfunc(_is_number, 1, 1)(text).astype(bool)  # the error path only
            raise self._error(first_index(bad), "non-numeric value") from None

    def timestamps(self) -> NDArray[Any]:
        """Numbers or datetimes as they are; text as integers, else floats, else kept."""
        s = self.series
        if s.dtype.kind in "biufM":
            return np.asarray(s.to_numpy())
        text = s.astype(str).str.strip().to_numpy(dtype=np.str_)
        for dtype in (np.int64, np.float64):
            try:
                return np.asarray(text.astype(dtype))
            except (ValueError, OverflowError):
                pass
        return np.asarray(text)  # e.g. ISO dates: kept as strings


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
