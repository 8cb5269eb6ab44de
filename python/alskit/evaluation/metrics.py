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


def _n_relevant(relevant: ArrayLike) -> int:
    return len(np.unique(np.asarray(relevant)))


def _ndcg(hits: NDArray[np.bool_], n_rel: int, k: int | None) -> float:
    ideal_n = n_rel if k is None else min(n_rel, k)
    if ideal_n == 0:
        return float("nan")
    dcg = float(_discount(len(hits))[hits].sum())
    return dcg / float(_discount(ideal_n).sum())


def _recall(hits: NDArray[np.bool_], n_rel: int, k: int | None) -> float:
    denominator = n_rel if k is None else min(n_rel, k)
    return float(hits.sum() / denominator) if denominator else float("nan")


def _precision(hits: NDArray[np.bool_], n_rel: int, k: int | None) -> float:
    return float(hits.mean()) if len(hits) else float("nan")


def _hit(hits: NDArray[np.bool_], n_rel: int, k: int | None) -> float:
    return float(hits.any())


def _reciprocal_rank(hits: NDArray[np.bool_], n_rel: int, k: int | None) -> float:
    ranks = np.flatnonzero(hits)
    return 1.0 / (ranks[0] + 1) if len(ranks) else 0.0


def _rbp(hits: NDArray[np.bool_], n_rel: int, k: int | None, patience: float = 0.85) -> float:
    weights = patience ** np.arange(len(hits), dtype=np.float64)
    return float((1.0 - patience) * weights[hits].sum())


def ndcg(recs: ArrayLike, relevant: ArrayLike, k: int | None = None) -> float:
    """DCG of the list over the ideal DCG of min(|relevant|, k) hits (all of them if k is
    None, even when the list is shorter)."""
    return _ndcg(_hits(recs, relevant, k), _n_relevant(relevant), k)


def recall(recs: ArrayLike, relevant: ArrayLike, k: int | None = None) -> float:
    """Hits over min(|relevant|, k) (over |relevant| when k is None)."""
    return _recall(_hits(recs, relevant, k), _n_relevant(relevant), k)


def precision(recs: ArrayLike, relevant: ArrayLike, k: int | None = None) -> float:
    """Hits over the list length (truncated to k)."""
    return _precision(_hits(recs, relevant, k), 0, k)


def hit(recs: ArrayLike, relevant: ArrayLike, k: int | None = None) -> float:
    """1 if any recommended item is relevant."""
    return _hit(_hits(recs, relevant, k), 0, k)


def reciprocal_rank(recs: ArrayLike, relevant: ArrayLike, k: int | None = None) -> float:
    """1 / rank of the first relevant item, 0 if none."""
    return _reciprocal_rank(_hits(recs, relevant, k), 0, k)


def rbp(
    recs: ArrayLike, relevant: ArrayLike, k: int | None = None, patience: float = 0.85
) -> float:
    """Rank-biased precision: (1 − γ) Σ_hits γ^(rank − 1)."""
    return _rbp(_hits(recs, relevant, k), 0, k, patience)


_FROM_HITS = {
    "NDCG": _ndcg,
    "Recall": _recall,
    "Precision": _precision,
    "RBP": _rbp,
    "Hit": _hit,
    "RecipRank": _reciprocal_rank,
}


def ranking_metrics(recs: ArrayLike, relevant: ArrayLike) -> dict[str, float]:
    """Every ranking metric of one list (NDCG, Recall, Precision, RBP, Hit, RecipRank; the
    same values as the functions above), its hits found once."""
    hits, n_rel = _hits(recs, relevant, None), _n_relevant(relevant)
    return {name: metric(hits, n_rel, None) for name, metric in _FROM_HITS.items()}


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
