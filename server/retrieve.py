"""Hybrid retrieval: dense (FAISS) and BM25 scores fused into one ranking of passages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from index.ann import nearest
from server.records import Hit

Mode = Literal["hybrid", "dense", "bm25", "rrf"]
RRF_K = 60


@dataclass(frozen=True)
class Scores:
    """Per-passage scores of one query: dense cosines for the dense candidates, BM25 for all passages."""

    dense: dict[int, float]
    bm25: np.ndarray


def dense_candidates(faiss_index: Any, query_vector: np.ndarray, n: int,
                     vectors: np.ndarray | None = None) -> dict[int, float]:
    """The `n` passages nearest to the query (inner product of unit vectors = cosine). `vectors`, the
    passage vectors the index holds, give an approximate index's finds their exact scores."""
    if n <= 0:
        return {}
    if vectors is not None:
        return dict(nearest(faiss_index, vectors, query_vector, n))
    sims, ids = faiss_index.search(query_vector.reshape(1, -1), n)
    return {int(i): float(s) for s, i in zip(sims[0], ids[0], strict=True) if i >= 0}


def top_ids(values: np.ndarray, n: int) -> list[int]:
    """Indices of the `n` largest positive values, best first, ties broken by index (the lower first)."""
    if n <= 0 or not len(values):
        return []
    # A question's terms are in a small share of an archive's passages: the selection runs over those
    # alone (a partition of every passage's score was the largest single cost of a warm question at 60,000
    # articles), and the n-th value's ties are taken lowest index first, so the result is one ranking.
    positive = np.flatnonzero(values > 0)
    scores = values[positive]
    if len(positive) > n:
        kth = np.partition(scores, len(scores) - n)[len(scores) - n]
        above = positive[scores > kth]
        positive = np.concatenate([above, positive[scores == kth][: n - len(above)]])
    return sorted(positive.tolist(), key=lambda i: (-values[i], i))


def minmax(values: dict[int, float]) -> dict[int, float]:
    if not values:
        return {}
    lo, hi = min(values.values()), max(values.values())
    span = hi - lo
    return {k: (v - lo) / span if span > 1e-9 else 1.0 for k, v in values.items()}


def fuse(scores: Scores, k: int, n: int, mode: Mode = "hybrid", dense_weight: float = 0.5) -> list[Hit]:
    """The top `k` passages under `mode`, best first (ties broken by passage index).

    hybrid: convex combination of min-max-normalised dense and BM25 scores over the union of each
    retriever's `n` candidates; rrf: reciprocal rank fusion of the same lists; dense / bm25: one alone.
    """
    dense_ids = sorted(scores.dense, key=lambda i: (-scores.dense[i], i))[:n]
    bm25_ids = top_ids(scores.bm25, n)
    if mode == "dense":
        candidates, fused = dense_ids, {i: scores.dense[i] for i in dense_ids}
    elif mode == "bm25":
        candidates = bm25_ids or dense_ids  # a query with no known term still gets passages
        fused = {i: float(scores.bm25[i]) for i in bm25_ids} or {i: 0.0 for i in dense_ids}
    elif mode == "rrf":
        candidates = list(dict.fromkeys(dense_ids + bm25_ids))
        fused = {i: 0.0 for i in candidates}
        for ranking in (dense_ids, bm25_ids):
            for rank, i in enumerate(ranking):
                fused[i] += 1.0 / (RRF_K + rank + 1)
    else:
        candidates = list(dict.fromkeys(dense_ids + bm25_ids))
        lexical = {i: float(scores.bm25[i]) for i in candidates}
        top = max(lexical.values(), default=0.0)
        floor = min(scores.dense.values(), default=0.0)  # once: per candidate it made fusion quadratic
        dense_n = minmax({i: scores.dense.get(i, floor) for i in candidates})
        fused = {
            i: dense_weight * dense_n[i] + (1 - dense_weight) * (lexical[i] / top if top > 0 else 0.0)
            for i in candidates
        }
    ranked = sorted(candidates, key=lambda i: (-fused[i], i))[:k]
    return [Hit(i, fused[i], scores.dense.get(i, 0.0), float(scores.bm25[i])) for i in ranked]
