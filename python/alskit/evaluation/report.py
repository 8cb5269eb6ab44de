"""Evaluation results as text a person can read: labelled metrics and aligned tables.

Every ranking metric is shown with its cutoff (``NDCG@20``) and is a mean over the test
users; the rating errors (``RMSE``, ``MAE``) are over all held-out ratings pooled (one global
figure each, never a per-user mean next to a global one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .protocol import RANKING_METRICS, Measurement

PREDICTION_METRICS = ("RMSE", "MAE")


@dataclass(frozen=True)
class Column:
    """A table column: its title and, for numbers, how many decimals to show (numbers and
    their title are right-aligned; text is left-aligned)."""

    title: str
    decimals: int | None = None


Cell = str | float | int | None


def format_table(columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> str:
    """An aligned plain-text table; a missing or NaN number shows as ``-``."""

    def text(value: Cell, column: Column) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        if column.decimals is not None and isinstance(value, int | float):
            return f"{value:.{column.decimals}f}"
        return str(value)

    cells = [[text(v, c) for v, c in zip(row, columns, strict=True)] for row in rows]
    widths = [
        max(len(c.title), *(len(r[j]) for r in cells)) if cells else len(c.title)
        for j, c in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if c.decimals is not None else v.ljust(w)
            for v, w, c in zip(values, widths, columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line([c.title for c in columns]), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def metric_label(name: str, n: int) -> str:
    """``NDCG@20`` for a ranking metric at list length ``n``; a rating error as is."""
    return name if name in PREDICTION_METRICS else f"{name}@{n}"


def metric_values(result: Measurement) -> dict[str, float]:
    """The figures to show, labelled: ranking metrics (means over test users) at the
    cutoff, then the global rating errors if the run predicted ratings."""
    out = {
        metric_label(name, result.n): _mean(result, name)
        for name in RANKING_METRICS
        if name in result.per_user
    }
    for name in PREDICTION_METRICS:
        if name in result.global_metrics:
            out[name] = result.global_metrics[name]
    return out


def _mean(result: Measurement, name: str) -> float:
    values = result.per_user[name]
    valid = values[~np.isnan(values)]  # (np.nanmean warns when all are NaN)
    return float(valid.mean()) if len(valid) else float("nan")


def metrics_table(result: Measurement) -> str:
    """One row per metric: its label, value (4 decimals) and what it is averaged over."""
    users = f"mean over {result.test_users} test users"
    ratings = f"all {result.test_interactions} held-out ratings, pooled"
    rows: list[list[Cell]] = [
        [label, value, ratings if label in PREDICTION_METRICS else users]
        for label, value in metric_values(result).items()
    ]
    return format_table([Column("metric"), Column("value", 4), Column("over")], rows)


def describe_split(result: Measurement, user_count: int, holdout: str = "20%") -> str:
    """One sentence: who was tested, what was held out, what was trained on."""
    return (
        f"Split: {result.test_users} test users drawn at random from {user_count}; "
        f"{holdout} of each one's interactions held out ({result.test_interactions} in "
        f"all); trained on the other {result.train_interactions}."
    )
