"""Rows of mapped matrices read from the disk together rather than one page fault after another.

The server maps its vector and column files and marks them as read at random (index.resident): a row
that is not in the page cache is read when it is first touched, alone. A question gathers a few hundred
rows scattered over a large archive's files (its candidates' vectors, the approximate searches' finds
re-scored exactly, the postings of its terms), and touched in turn each waits for the one before: about
25 ms for 200 uncached rows of one file here, 4-7 ms when the kernel is told of all of them first
(madvise MADV_WILLNEED starts every read at once and returns; touching a page then waits only for its
own read). The bytes read are the same; only the waiting overlaps. Rows already cached cost a call each.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
from collections.abc import Iterable
from typing import Any

import numpy as np

from index.segments import Layout, Rows, layout

__all__ = ["gather", "will_need", "will_need_spans"]


@functools.cache
def _madvise() -> Any:
    """libc's madvise, or None where there is none (the prefetch is then skipped: only speed is lost)."""
    if getattr(mmap, "MADV_WILLNEED", None) is None:
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return call


def _layout(matrix: Any) -> Layout | None:
    """Where a matrix's rows are (an array: one part; index.segments.Rows: its segments, kept with it)."""
    if isinstance(matrix, Rows):
        return matrix.layout
    return layout([matrix]) if isinstance(matrix, np.ndarray) else None


def will_need_spans(matrix: Any, starts: Iterable[int], stops: Iterable[int]) -> None:
    """Start reading rows [start, stop) of each span of `matrix` (an array or index.segments.Rows); a span
    is taken within the part (segment) its first row is in."""
    call = _madvise()
    first = np.fromiter(starts, dtype=np.int64)
    last = np.fromiter(stops, dtype=np.int64)
    layout = _layout(matrix) if call is not None and len(first) else None
    if layout is None:
        return
    begins, counts, bases, strides = layout
    part = np.clip(np.searchsorted(begins, first, side="right") - 1, 0, len(begins) - 1)
    lo = np.clip(first - begins[part], 0, counts[part])
    hi = np.clip(last - begins[part], lo, counts[part])
    keep = hi > lo
    page = mmap.PAGESIZE
    begin = np.sort((bases[part] + lo * strides[part])[keep] // page * page)
    # starts and ends sorted apart: how many spans cover an address is the same however they are paired
    end = np.sort((bases[part] + hi * strides[part])[keep])
    if not len(begin):
        return
    # spans on the same or overlapping pages become one call
    new = np.ones(len(begin), dtype=bool)
    new[1:] = begin[1:] > end[:-1]
    groups = np.flatnonzero(new)
    for b, e in zip(begin[groups].tolist(), np.append(end[groups[1:] - 1], end[-1]).tolist(), strict=True):
        call(b, e - b, mmap.MADV_WILLNEED)


def will_need(matrix: Any, rows: Any) -> None:
    """Start reading these rows of `matrix` (an array or index.segments.Rows)."""
    ids = np.asarray(rows, dtype=np.int64).reshape(-1)
    will_need_spans(matrix, ids, ids + 1)


def gather(matrix: Any, rows: Any) -> np.ndarray:
    """matrix[rows], the rows' pages read from the disk together."""
    will_need(matrix, rows)
    return np.asarray(matrix[rows])
