"""Group sentences into passages of whole sentences, never across articles, headings or cut debris."""

from __future__ import annotations

from itertools import groupby

from index.records import Passage, Sentence
from index.text import TOKEN


def word_count(text: str) -> int:
    return len(TOKEN.findall(text))


def windows(lengths: list[int], min_words: int, max_words: int, overlap: int) -> list[tuple[int, int]]:
    """(first, last) index pairs of passages over sentences of the given word counts.

    A passage takes sentences while it stays within `max_words` (one longer sentence stands alone).
    Neighbours share `overlap` sentences. A remainder under `min_words / 2` joins the passage before
    it (up to 1.25 x `max_words`) rather than standing as a fragment.
    """
    n = len(lengths)
    found: list[tuple[int, int]] = []
    i = 0
    while i < n:
        j, total = i, 0
        while j < n and (total < min_words or total + lengths[j] <= max_words):
            if total and total + lengths[j] > max_words:
                break
            total += lengths[j]
            j += 1
        rest = sum(lengths[j:])
        if j < n and rest < min_words // 2 and total + rest <= max_words * 5 // 4:
            j = n
        found.append((i, j - 1))
        if j >= n:
            break
        i = max(j - overlap, i + 1)
    return found


def chunk(
    text: str, sentences: list[Sentence], base: int, min_words: int, max_words: int, overlap: int
) -> list[Passage]:
    """Passages over one article's sentences; `base` is the index of sentences[0] in the whole index.

    A block of sentences (see split_sentences) is chunked alone; blocks of headings only are skipped.
    """
    passages: list[Passage] = []
    offset = 0
    for _, group in groupby(sentences, key=lambda s: s.block):
        block = list(group)
        if all(s.heading for s in block):
            offset += len(block)
            continue
        lengths = [word_count(s.text) for s in block]
        for first, last in windows(lengths, min_words, max_words, overlap):
            start, end = block[first].start, block[last].end
            passages.append(
                Passage(block[0].doc_id, start, end, text[start:end], base + offset + first, base + offset + last)
            )
        offset += len(block)
    return passages
