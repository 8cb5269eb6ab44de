"""Accuracy metrics computed as LensKit computes them.

Ranking metrics take a recommendation list (item ids, best first) and the user's relevant
(held-out) item ids; gains are binary. Prediction metrics take aligned arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _hits(recs: ArrayLike, relevant: ArrayLike, k: int | None) -> NDArray[np.bool_]:
    ranked = np.asarray(recs)
    if k is not None:
        ranked = ranked[:k]
    return np.isin(ranked, np.asarray(relevant))


def _discount(n: int) -> NDArray[np.float64]:
    """1 / max(log2 rank, 1): ranks 1 and 2 are both undiscounted (LensKit's discount)."""
    ranks = np.arange(1, n + 1, dtype=np.float64)
    return 1.0 / np.maximum(np.log2(ranks), 1.0)


def ndcg(recs: ArrayLike, relevant: ArrayLike, k: int | None = None) -> float:
    """DCG of the list over the ideal DCG of min(|relevant|, k) hits (all of them if k is
    None, even when the list is shorter)."""
    hits = _hits(recs, relevant, k)
    n_rel = len(np.unique(np.asarray(relevant)))
    ideal_n = n_rel if k is None else min(n_rel, k)
    if ideal_n == 0:
        return float("nan")
    dcg = float(_discount(len(hits))[hits].sum())
    return dcg / float(_discount(ideal_n).sum())


def recall(recs: ArrayLike, relevant: ArrayLike, k: int | None = None) -> float:
    """Hits over min(|relevant|, k) (over |relevant| when k is None)."""
    n_rel = len(np.unique(np.asarray(relevant)))
    denominator = n_rel if k is None else min(n_rel, k)
    return float(_hits(recs, relevant, k).sum() / denominator) if denominator else float("nan")


def precision(recs: ArrayLike, relevant: ArrayLike, k: int | None = None) -> float:
    """Hits over the list length (truncated to k)."""
    hits = _hits(recs, relevant, k)
    return float(hits.mean()) if len(hits) else float("nan")


def hit(recs: ArrayLike, relevant: ArrayLike, k: int | None = None) -> float:
    """1 if any recommended item is relevant."""
    return float(_hits(recs, relevant, k).any())


def reciprocal_rank(recs: ArrayLike, relevant: ArrayLike, k: int | None = None) -> float:
    """1 / rank of the first relevant item, 0 if none."""
    hits = np.flatnonzero(_hits(recs, relevant, k))
    return 1.0 / (hits[0] + 1) if len(hits) else 0.0


def rbp(
    recs: ArrayLike, relevant: ArrayLike, k: int | None = None, patience: float = 0.85
) -> float:
    """Rank-biased precision: (1 − γ) Σ_hits γ^(rank − 1)."""
    hits = _hits(recs, relevant, k)
    weights = patience ** np.arange(len(hits), dtype=np.float64)
    return float((1.0 - patience) * weights[hits].sum())


def rmse(predictions: ArrayLike, truth: ArrayLike) -> float:
    """Root mean squared error (NaN for no predictions, as the ranking metrics give for no
    relevant items); a NaN prediction is an error (fill it with a fallback)."""
    err = _errors(predictions, truth)
    return float(np.sqrt(np.mean(np.square(err)))) if len(err) else float("nan")


def mae(predictions: ArrayLike, truth: ArrayLike) -> float:
    """Mean absolute error (NaN for no predictions); a NaN prediction is an error."""
    err = _errors(predictions, truth)
    return float(np.mean(np.abs(err))) if len(err) else float("nan")


def _errors(predictions: ArrayLike, truth: ArrayLike) -> NDArray[Any]:
    p = np.asarray(predictions, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    if p.shape != t.shape:
        raise ValueError(f"predictions {p.shape} and truth {t.shape} differ in shape")
    if np.isnan(p).any():
        raise ValueError(f"{int(np.isnan(p).sum())} predictions are NaN; use a fallback scorer")
    return p - t
