"""Rows of mapped matrices read from the disk together (index.prefetch): the kernel is told of every row
before one is touched, so a cold question's reads overlap; what is read is what matrix[rows] gives."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from eval.cold import drop_cached, resident
from index.prefetch import gather, will_need, will_need_spans
from index.segments import Rows, plain

PAGE = 4096


def mapped(tmp_path: Path, rows: int, parts: int = 1) -> tuple[np.ndarray, Path]:
    """A float32 matrix of `rows` rows of one page each, saved in `parts` segments and mapped as the
    server maps its vectors (plain views of np.load's maps), and its folder, dropped from the page cache."""
    folder = tmp_path / "m"
    folder.mkdir()
    whole = np.arange(rows * PAGE // 4, dtype=np.float32).reshape(rows, PAGE // 4)
    pieces = np.array_split(whole, parts)
    for k, piece in enumerate(pieces):
        np.save(folder / (f"v.{k}.npy" if k else "v.npy"), piece)
    os.sync()  # a dirty page is not dropped
    maps = [np.load(folder / (f"v.{k}.npy" if k else "v.npy"), mmap_mode="r") for k in range(parts)]
    matrix = plain(maps[0] if parts == 1 else Rows(maps))
    drop_cached(folder)
    return matrix, folder


def cached_after(folder: Path, want: int, seconds: float = 10.0) -> int:
    """The folder's cached bytes once they reach `want` (the reads are asynchronous), or when time is up."""
    deadline = time.monotonic() + seconds
    while True:
        got = sum(resident(folder).values())
        if got >= want or time.monotonic() > deadline:
            return got
        time.sleep(0.01)


def test_the_rows_asked_for_are_read_into_the_cache_before_they_are_touched(tmp_path: Path) -> None:
    matrix, folder = mapped(tmp_path, 64, parts=3)
    assert sum(resident(folder).values()) < 4 * PAGE  # the .npy headers at most
    rows = [3, 30, 31, 60]
    will_need(matrix, rows)
    # four rows of a page each, in three files; not one of them touched
    assert cached_after(folder, 4 * PAGE) >= 4 * PAGE
    assert sum(resident(folder).values()) < 16 * PAGE  # those rows, not the files


def test_spans_of_rows_are_read_whole_and_postings_spans_of_any_length(tmp_path: Path) -> None:
    matrix, folder = mapped(tmp_path, 40)
    will_need_spans(matrix, [2, 20], [6, 22])  # 4 rows and 2 rows
    assert cached_after(folder, 6 * PAGE) >= 6 * PAGE
    assert sum(resident(folder).values()) < 12 * PAGE


def test_gather_gives_what_indexing_gives_for_arrays_and_segments(tmp_path: Path) -> None:
    matrix, _ = mapped(tmp_path, 50, parts=4)
    rows = np.array([49, 0, 13, 13, 25, 12])
    assert np.array_equal(gather(matrix, rows), np.asarray(matrix[rows]))
    assert np.array_equal(gather(matrix, []), np.asarray(matrix[[]]))
    small = np.arange(12, dtype=np.float32).reshape(4, 3)  # in memory: advised or not, the same rows
    assert np.array_equal(gather(small, [2, 0]), small[[2, 0]])
    assert np.array_equal(gather(small[:, ::2], [1]), small[:, ::2][[1]])  # not rows laid out: not advised
    will_need_spans(small, [], [])
    will_need(None, [1])  # nothing to advise: nothing happens


def test_a_terms_postings_and_only_theirs_are_read_before_scoring(tmp_path: Path) -> None:
    import bm25s

    from index.lexical_index import PassageTerms, bm25_of, will_need_postings

    # "common" in every passage: its postings fill pages of both score columns; the other terms' one entry each
    # fill the rest, so "common"'s pages are a small share of each file
    passages = [["common", f"w{i}", f"v{i}", f"u{i}", f"t{i}"] for i in range(4000)]
    folder = tmp_path / "bm25"
    bm25_of(PassageTerms.of(passages)).save(str(folder))
    os.sync()
    bm25 = bm25s.BM25.load(str(folder), mmap=True)
    drop_cached(folder)
    before = resident(folder)
    will_need_postings(bm25, ["common", "not-a-term"])
    span = 4000 * 4  # 4,000 entries of 4 bytes in each of the two columns
    columns = ("data.csc.index.npy", "indices.csc.index.npy")
    deadline = time.monotonic() + 10
    while min(resident(folder)[c] - before[c] for c in columns) < span and time.monotonic() < deadline:
        time.sleep(0.01)
    now = resident(folder)
    for column in columns:
        assert now[column] - before[column] >= span
        assert now[column] < 4000 * 5 * 4 // 2  # "common"'s pages, not the file's
    will_need_postings(bm25, [])  # no terms, and no bm25s layout: nothing to read, nothing fails
    will_need_postings(object(), ["common"])
