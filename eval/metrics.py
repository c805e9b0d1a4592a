"""Ranking and summary metrics: pure functions over plain data (ids, sets, numbers).

Rankings are sequences of ids, best first. An id that appears more than once counts at its first
rank only (so several passages of one relevant article do not inflate a document metric). Scores
are turned into rankings by `rank_by_score`, which breaks ties by id. No function mutates its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")


def rank_by_score(scores: Mapping[str, float]) -> list[str]:
    """Ids by decreasing score; equal scores in increasing id order."""
    return sorted(scores, key=lambda i: (-scores[i], i))


def first_occurrences(ranked: Iterable[str]) -> list[str]:
    """The ranking with repeated ids removed, keeping each id at its first rank."""
    return list(dict.fromkeys(ranked))


def hit_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1.0 when any relevant id is among the first `k`, else 0.0 (success@k)."""
    _check_k(k)
    return 1.0 if any(i in relevant for i in ranked[:k]) else 0.0


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant ids found among the first `k` (BEIR's Recall@k). No relevant id: 0.0."""
    _check_k(k)
    if not relevant:
        return 0.0
    found = {i for i in ranked[:k] if i in relevant}
    return len(found) / len(set(relevant))


def mrr_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Reciprocal rank of the first relevant id within the first `k`, else 0.0."""
    _check_k(k)
    for rank, i in enumerate(ranked[:k], start=1):
        if i in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Binary-gain nDCG@k: sum of 1/log2(rank+1) over relevant ids at their first rank, divided by
    the same sum for an ideal ranking of min(len(relevant), k) relevant ids. No relevant id: 0.0."""
    _check_k(k)
    wanted = set(relevant)
    if not wanted:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank, i in enumerate(first_occurrences(ranked)[:k], start=1)
              if i in wanted)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), k) + 1))
    return dcg / ideal


def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean; None for no values (an undefined metric is not a zero)."""
    items = list(values)
    return sum(items) / len(items) if items else None


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when the denominator is 0."""
    return numerator / denominator if denominator else None


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (numpy's
    default); None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    items = sorted(values)
    if not items:
        return None
    pos = (len(items) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(items) - 1)
    return items[lo] + (items[hi] - items[lo]) * (pos - lo)


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Characters shared by the half-open spans a and b."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def covers(passage: tuple[int, int], span: tuple[int, int], share: float = 0.5) -> bool:
    """True when `passage` holds at least `share` of the characters of `span` (an empty span: never)."""
    length = span[1] - span[0]
    return length > 0 and overlap(passage, span) >= share * length
