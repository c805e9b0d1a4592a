"""Fusion of the dense and BM25 candidate lists."""

from __future__ import annotations

import numpy as np

from server.retrieve import Scores, fuse, top_ids


def test_a_passage_only_bm25_found_gets_the_lowest_dense_score() -> None:
    scores = Scores({0: 0.9, 1: 0.5}, np.array([0.0, 0.0, 3.0], dtype=np.float32))
    hits = {h.passage: h.score for h in fuse(scores, 3, 3, "hybrid", 0.5)}
    assert hits[0] == 0.5 and hits[1] == 0.0  # dense 1 and 0 after min-max, no BM25
    assert hits[2] == 0.5  # no dense score: the floor (0 after min-max), and the best BM25



def test_the_top_bm25_passages_are_the_largest_positive_scores_ties_lowest_index_first() -> None:
    rng = np.random.default_rng(3)
    for size, n in [(0, 5), (6, 10), (1000, 1), (1000, 40), (5000, 300)]:
        # few distinct values, most of them zero: ties at the cut are the rule, as with BM25's repeated terms
        values = (rng.integers(0, 6, size) * (rng.random(size) < 0.2)).astype(np.float32)
        want = sorted((i for i in range(size) if values[i] > 0), key=lambda i: (-values[i], i))[:n]
        assert top_ids(values, n) == want
    assert top_ids(np.array([0.0, -1.0], dtype=np.float32), 2) == []
