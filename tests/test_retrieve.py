"""Fusion of the dense and BM25 candidate lists."""

from __future__ import annotations

import numpy as np

from server.retrieve import Scores, fuse


def test_a_passage_only_bm25_found_gets_the_lowest_dense_score() -> None:
    scores = Scores({0: 0.9, 1: 0.5}, np.array([0.0, 0.0, 3.0], dtype=np.float32))
    hits = {h.passage: h.score for h in fuse(scores, 3, 3, "hybrid", 0.5)}
    assert hits[0] == 0.5 and hits[1] == 0.0  # dense 1 and 0 after min-max, no BM25
    assert hits[2] == 0.5  # no dense score: the floor (0 after min-max), and the best BM25

