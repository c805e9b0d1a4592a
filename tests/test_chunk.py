"""Passages: whole sentences, bounded length, one sentence of overlap, never across blocks."""

from __future__ import annotations

from index.chunk import chunk, windows
from index.records import Sentence


def test_windows_respect_bounds_and_overlap() -> None:
    spans = windows([30] * 20, 80, 200, 1)
    assert spans[0] == (0, 5)
    for (a, b), (c, _) in zip(spans, spans[1:], strict=False):
        assert c == b  # one sentence shared
        assert 80 <= 30 * (b - a + 1) <= 200
    assert spans[-1][1] == 19


def test_long_sentence_alone_and_short_tail_merged() -> None:
    assert windows([500, 10], 80, 200, 1) == [(0, 0), (1, 1)]
    assert windows([100, 100, 20], 80, 200, 0) == [(0, 2)]  # 20 words left over join the passage
    assert windows([100, 100, 60], 80, 200, 0) == [(0, 1), (2, 2)]


def test_chunk_never_crosses_blocks_and_slices_text() -> None:
    text = "Aa bb. Cc dd.\nHead\nEe ff. Gg hh."
    sentences = [
        Sentence("d", 0, 6, "Aa bb.", block=0), Sentence("d", 7, 13, "Cc dd.", block=0),
        Sentence("d", 14, 18, "Head", heading=True, block=1), Sentence("d", 19, 25, "Ee ff.", block=1),
        Sentence("d", 26, 32, "Gg hh.", block=1),
    ]
    passages = chunk(text, sentences, base=10, min_words=2, max_words=4, overlap=0)
    assert [(p.text, p.first_sentence, p.last_sentence) for p in passages] == [
        ("Aa bb. Cc dd.", 10, 11), ("Head\nEe ff.", 12, 13), ("Gg hh.", 14, 14)]
    for p in passages:
        assert text[p.start:p.end] == p.text
        assert p.id == f"d:{p.start}"
