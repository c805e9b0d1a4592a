"""Hand-computed cases for every metric in eval/metrics.py: ties, duplicates, empty inputs, no mutation."""

from __future__ import annotations

import math

import pytest

from eval.metrics import (
    covers,
    first_occurrences,
    hit_at_k,
    mean,
    mrr_at_k,
    ndcg_at_k,
    overlap,
    percentile,
    rank_by_score,
    ratio,
    recall_at_k,
)

RANKED = ["d3", "d1", "d7", "d2", "d9"]
RELEVANT = {"d1", "d2", "d5"}


def test_rank_by_score_breaks_ties_by_id() -> None:
    scores = {"b": 0.5, "a": 0.5, "c": 0.9, "d": 0.1}
    assert rank_by_score(scores) == ["c", "a", "b", "d"]
    assert rank_by_score({}) == []


def test_first_occurrences_keeps_first_rank() -> None:
    assert first_occurrences(["x", "y", "x", "z", "y"]) == ["x", "y", "z"]
    assert first_occurrences([]) == []


def test_hit_at_k() -> None:
    assert hit_at_k(RANKED, RELEVANT, 1) == 0.0
    assert hit_at_k(RANKED, RELEVANT, 2) == 1.0
    assert hit_at_k(RANKED, RELEVANT, 100) == 1.0
    assert hit_at_k([], RELEVANT, 5) == 0.0
    assert hit_at_k(RANKED, set(), 5) == 0.0


def test_recall_at_k_is_share_of_relevant_found() -> None:
    assert recall_at_k(RANKED, RELEVANT, 1) == 0.0
    assert recall_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / 3)
    assert recall_at_k(RANKED, RELEVANT, 4) == pytest.approx(2 / 3)
    assert recall_at_k(RANKED, RELEVANT, 10) == pytest.approx(2 / 3)  # d5 never retrieved
    assert recall_at_k(["d1", "d1", "d2"], RELEVANT, 2) == pytest.approx(1 / 3)  # a repeat counts once
    assert recall_at_k([], RELEVANT, 3) == 0.0
    assert recall_at_k(RANKED, [], 3) == 0.0


def test_mrr_at_k() -> None:
    assert mrr_at_k(RANKED, RELEVANT, 10) == 0.5
    assert mrr_at_k(RANKED, RELEVANT, 1) == 0.0
    assert mrr_at_k(["d2"], RELEVANT, 1) == 1.0
    assert mrr_at_k(["a", "b", "c", "d1"], RELEVANT, 4) == 0.25
    assert mrr_at_k([], RELEVANT, 10) == 0.0


def test_ndcg_at_k_hand_computed() -> None:
    # relevant at ranks 2 and 4; ideal: 3 relevant at ranks 1..3
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(RANKED, RELEVANT, 10) == pytest.approx(dcg / ideal)
    # at k=2 the ideal holds only 2 relevant
    assert ndcg_at_k(RANKED, RELEVANT, 2) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["d1", "d2", "d5"], RELEVANT, 3) == pytest.approx(1.0)
    assert ndcg_at_k(["x"], RELEVANT, 3) == 0.0
    assert ndcg_at_k([], RELEVANT, 3) == 0.0
    assert ndcg_at_k(RANKED, set(), 3) == 0.0


def test_ndcg_counts_a_repeated_id_once() -> None:
    # ["d1", "d1"] must not score more than a single d1 at rank 1
    assert ndcg_at_k(["d1", "d1"], {"d1", "d2"}, 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["d1", "d1"], {"d1"}, 2) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", [hit_at_k, recall_at_k, mrr_at_k, ndcg_at_k])
def test_k_must_be_positive(metric) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        metric(RANKED, RELEVANT, 0)


@pytest.mark.parametrize("metric", [hit_at_k, recall_at_k, mrr_at_k, ndcg_at_k])
def test_inputs_are_not_mutated(metric) -> None:  # type: ignore[no-untyped-def]
    ranked, relevant = list(RANKED), set(RELEVANT)
    metric(ranked, relevant, 3)
    assert ranked == RANKED and relevant == RELEVANT
    scores = {"b": 1.0, "a": 1.0}
    rank_by_score(scores)
    assert list(scores) == ["b", "a"]


def test_mean_ratio_percentile() -> None:
    assert mean([1.0, 0.0, 0.5]) == pytest.approx(0.5)
    assert mean([]) is None
    assert mean(iter([2.0])) == 2.0
    assert ratio(1, 4) == 0.25
    assert ratio(0, 0) is None
    values = [10.0, 1.0, 4.0, 3.0]  # sorted: 1, 3, 4, 10
    assert percentile(values, 50) == pytest.approx(3.5)
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 10.0
    assert percentile(values, 95) == pytest.approx(4 + 0.85 * 6)
    assert values == [10.0, 1.0, 4.0, 3.0]
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_overlap_and_covers() -> None:
    assert overlap((0, 10), (5, 20)) == 5
    assert overlap((0, 10), (10, 20)) == 0  # half-open spans only touch
    assert overlap((5, 6), (0, 100)) == 1
    assert covers((0, 100), (90, 110))  # exactly half
    assert not covers((0, 100), (91, 110))
    assert covers((0, 100), (10, 20))
    assert not covers((0, 100), (5, 5))  # an empty span is never covered
