"""Sentences, passages and their terms held as columns of numbers rather than one Python object each.

An index of 100,000 articles has about 3.5 million sentences: as objects (each with its text sliced out,
its term set and its annotation line) they took about 1 KB apiece and most of a server's start. Here
each is a row of arrays saved by the builder (`spans.npz`, `terms.npz`), and a `Sentence`, `Passage` or
term set is made only when someone asks for that row, so the many readers see the same sequences as
before.
"""

from __future__ import annotations

import functools
import os
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from index.records import Article, Passage, Sentence

__all__ = ["ArticleRows", "Chained", "LazyLines", "PassageTable", "SentenceTable", "Spans", "TermTable",
           "article_layout", "spans_arrays", "tables", "tabulate"]


T = TypeVar("T")

# Rows a sentence or term table keeps once made (each table its own, least recently read dropped first).
# One answer reads about 235 sentence rows and 240 term sets but only about 80 and 87 distinct ones (the
# pool's sentences, read by each stage in turn), so even an answer from sentences no earlier question
# touched makes a third of them; at about 1 KB a row the bound is a few MB at any index size.
ROWS_KEPT = 4096


class _Rows(Sequence[T]):
    """A read-only sequence of rows made on demand by `_row`; equal to any sequence of equal rows."""

    def __len__(self) -> int:
        raise NotImplementedError

    def _row(self, i: int) -> T:
        raise NotImplementedError

    def _checked(self, i: int) -> T:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"row {i} of {n}")
        return self._row(int(i) % n)

    def _read(self, i: int) -> T:
        """Row i (negative from the end; IndexError out of range): made again at every read, unless the
        table keeps its rows (_keep)."""
        return self._checked(i)

    def _keep(self, rows: int = ROWS_KEPT) -> None:
        """Keep the last `rows` rows read, checked and made on a miss only (their values are immutable, so
        sharing them is safe; lru_cache is thread-safe and keeps no IndexError)."""
        self._read = functools.lru_cache(maxsize=rows)(self._checked)  # type: ignore[method-assign]

    @typing.overload
    def __getitem__(self, i: int) -> T: ...
    @typing.overload
    def __getitem__(self, i: slice) -> list[T]: ...
    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(len(self)))]
        return self._read(i)

    def __iter__(self) -> Iterator[T]:
        return (self._row(j) for j in range(len(self)))  # a whole pass is not kept: it would evict the rest

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and all(
            a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


class _ByArticle(_Rows[T]):
    """Rows grouped by article (the store refuses a doc column that ever decreases): an article's rows
    are one range, found by bisection."""

    doc_ids: list[str]
    doc: np.ndarray

    def _group(self, number: Mapping[str, int] | None) -> None:
        self._bounds = np.searchsorted(self.doc, np.arange(len(self.doc_ids) + 1))  # article k: [b[k], b[k+1])
        self._number = number if number is not None else {d: k for k, d in enumerate(self.doc_ids)}

    def of_article(self, doc_id: str) -> range:
        """An article's rows, in text order (empty for an unknown article)."""
        k = self._number.get(doc_id)
        return range(0) if k is None else range(int(self._bounds[k]), int(self._bounds[k + 1]))

    def of_articles(self, doc_ids: Iterable[str]) -> np.ndarray:
        """The rows of these articles, in row order (unknown ids have none)."""
        ranges = [self.of_article(d) for d in doc_ids]
        return np.sort(np.concatenate([np.arange(r.start, r.stop) for r in ranges])) if ranges else \
            np.zeros(0, dtype=np.int64)


class SentenceTable(_ByArticle[Sentence]):
    """The index's sentences: article number, start, end, heading and block per row; the text of row i
    sliced from its article when asked for."""

    def __init__(self, doc_ids: list[str], articles: Mapping[str, Article], columns: Mapping[str, np.ndarray],
                 number: Mapping[str, int] | None = None) -> None:
        self.doc_ids = doc_ids
        self.articles = articles
        self.doc, self.start, self.end = columns["s_doc"], columns["s_start"], columns["s_end"]
        self.heading, self.block = columns["s_heading"], columns["s_block"]
        # each sentence's place in its article, the sentence before it there (-1: none), and the first
        # passage holding it (-1: none)
        self.position, self.previous, self.home = columns["s_position"], columns["s_previous"], columns["s_home"]
        self._group(number)
        self._keep()

    def __len__(self) -> int:
        return len(self.doc)

    def find(self, doc_id: str, start: int) -> int | None:
        """The row of the article's sentence starting at `start`, if there is one."""
        rows = self.of_article(doc_id)
        j = rows.start + int(np.searchsorted(self.start[rows.start: rows.stop], start))
        return j if j < rows.stop and int(self.start[j]) == start else None

    def _row(self, i: int) -> Sentence:
        doc_id = self.doc_ids[self.doc[i]]
        start, end = int(self.start[i]), int(self.end[i])
        return Sentence(doc_id, start, end, self.articles[doc_id].text[start:end], bool(self.heading[i]),
                        int(self.block[i]))


class PassageTable(_ByArticle[Passage]):
    """The index's passages: article number, start, end and first and last sentence per row."""

    def __init__(self, doc_ids: list[str], articles: Mapping[str, Article], columns: Mapping[str, np.ndarray],
                 number: Mapping[str, int] | None = None) -> None:
        self.doc_ids = doc_ids
        self.articles = articles
        self.doc, self.start, self.end = columns["p_doc"], columns["p_start"], columns["p_end"]
        self.first, self.last = columns["p_first"], columns["p_last"]
        self._group(number)

    def __len__(self) -> int:
        return len(self.doc)

    def _row(self, i: int) -> Passage:
        doc_id = self.doc_ids[self.doc[i]]
        start, end = int(self.start[i]), int(self.end[i])
        return Passage(doc_id, start, end, self.articles[doc_id].text[start:end], int(self.first[i]),
                       int(self.last[i]))


class Spans(_Rows[tuple[int, int]]):
    """Passage p's (first, last) sentence rows."""

    def __init__(self, passages: PassageTable) -> None:
        self.first, self.last = passages.first, passages.last

    def __len__(self) -> int:
        return len(self.first)

    def _row(self, i: int) -> tuple[int, int]:
        return int(self.first[i]), int(self.last[i])


def tables(articles: Mapping[str, Article], columns: Mapping[str, np.ndarray]) -> tuple[SentenceTable, PassageTable]:
    doc_ids = list(articles)
    number = {d: k for k, d in enumerate(doc_ids)}
    return SentenceTable(doc_ids, articles, columns, number), PassageTable(doc_ids, articles, columns, number)


def tabulate(articles: Mapping[str, Article], sentences: Sequence[Sentence],
             passages: Sequence[Passage]) -> tuple[SentenceTable, PassageTable]:
    """Sentences and passages (each article's together, in the order of `articles`) as tables."""
    return tables(articles, article_layout(sentences, passages, {d: k for k, d in enumerate(articles)}))


class TermTable(_Rows[frozenset[str]]):
    """Each sentence's set of terms: ids into `vocabulary`, row i's at ids[starts[i]:starts[i + 1]]."""

    def __init__(self, vocabulary: list[str], starts: np.ndarray, ids: np.ndarray) -> None:
        self.vocabulary, self.starts, self.ids = vocabulary, starts, ids
        self._keep()

    @classmethod
    def of(cls, sets: Iterable[frozenset[str]]) -> TermTable:
        number: dict[str, int] = {}
        ids: list[int] = []
        counts = [0]
        for terms in sets:
            ids += [number.setdefault(t, len(number)) for t in sorted(terms)]
            counts.append(len(terms))
        return cls(list(number), np.cumsum(counts, dtype=np.int64), np.asarray(ids, dtype=np.int32))

    def extended(self, sets: Iterable[frozenset[str]]) -> TermTable:
        """These rows followed by `sets`: new terms join the end of the vocabulary (as TermTable.of over
        every row would number them), the old rows' ids are kept as they are."""
        more = TermTable.of(sets)
        number = {t: j for j, t in enumerate(self.vocabulary)}
        vocabulary = list(self.vocabulary)
        for t in more.vocabulary:
            if t not in number:
                number[t] = len(vocabulary)
                vocabulary.append(t)
        remap = np.asarray([number[t] for t in more.vocabulary], dtype=np.int32)
        return TermTable(vocabulary, np.concatenate([self.starts, self.starts[-1] + more.starts[1:]]),
                         np.concatenate([self.ids, remap[more.ids]]).astype(np.int32))

    def __len__(self) -> int:
        return len(self.starts) - 1

    def _row(self, i: int) -> frozenset[str]:
        words = self.vocabulary
        return frozenset(words[j] for j in self.ids[self.starts[i]: self.starts[i + 1]].tolist())

    def problem(self) -> str | None:
        s = self.starts
        if s.ndim != 1 or not len(s) or s[0] != 0 or np.any(np.diff(s) < 0) or int(s[-1]) != len(self.ids):
            return "the term arrays do not fit together"
        if len(self.ids) and (int(self.ids.min()) < 0 or int(self.ids.max()) >= len(self.vocabulary)):
            return "a term points outside the vocabulary"
        return None


class Chained(_Rows[T]):
    """The rows of `head` followed by those of `tail`, neither copied: a grown index's annotations are
    the previous file's lines (written again byte for byte) and the new articles' own."""

    def __init__(self, head: Sequence[T], tail: Sequence[T]) -> None:
        self.head, self.tail = head, tail

    def __len__(self) -> int:
        return len(self.head) + len(self.tail)

    def _row(self, i: int) -> T:
        return self.head[i] if i < len(self.head) else self.tail[i - len(self.head)]


class LazyLines(_Rows[Any]):
    """The lines of a text file read from disk, each decoded and parsed by `parse` when asked for: a
    server that reads few (or none) pays for few, and holds no line of its own. A line is read with
    pread, not through a mapping: the kernel caches a large file in folios of up to 2 MB, and a read
    through a mapping maps the whole folio into the process (1.5 MB of RSS for each of 200 random
    lines of the 796 MB annotations file at 100,000 articles), so a server's questions came to hold
    most of the file as its own resident memory (669 MB after 61 questions). Read by pread, the pages
    stay in the page cache, shared and reclaimable, and the process holds only what it parsed."""

    def __init__(self, path: Path, parse: Callable[[str], Any], ends: np.ndarray | None = None) -> None:
        """`ends`: the offset of each line's newline, when the writer saved them (checked against the file's
        size); None finds them by reading the file."""
        self._parse = parse
        self._file = path.open("rb", buffering=0)  # kept open: the folder may be swapped out and removed
        size = os.fstat(self._file.fileno()).st_size
        if ends is None:
            self._ends = _line_ends(self._file.fileno(), size)
        else:
            self._ends = np.asarray(ends)
            if self._ends.ndim != 1 or self._ends.dtype != np.int64 or (len(self._ends) and (
                    int(self._ends[-1]) != size - 1 or int(self._ends[0]) < 0 or np.any(np.diff(self._ends) <= 0))) \
                    or (not len(self._ends) and size):
                raise ValueError(f"the line ends saved for {path.name} do not fit its {size} bytes")

    @property
    def ends(self) -> np.ndarray:
        """The offset of each line's newline (the last may be the file's size: a last line without one)."""
        return self._ends

    def __len__(self) -> int:
        return len(self._ends)

    def _row(self, i: int) -> Any:
        start = int(self._ends[i - 1]) + 1 if i else 0
        return self._parse(os.pread(self._file.fileno(), int(self._ends[i]) - start, start).decode("utf-8"))

    def write_to(self, out: typing.BinaryIO, block: int = 1 << 24) -> None:
        """Every line as it is in the file, each ending in a newline, without parsing one (copied by the
        kernel where it can)."""
        end = int(self._ends[-1]) if len(self._ends) else 0
        source = self._file.fileno()
        out.flush()
        at = 0
        try:
            while at < end:
                copied = os.copy_file_range(source, out.fileno(), min(block, end - at), at)
                if copied <= 0:
                    break
                at += copied
            if at:
                out.seek(0, os.SEEK_END)  # copy_file_range moved the descriptor's offset, not `out`'s
        except OSError:  # not supported between these files: read and write
            pass
        while at < end:
            data = os.pread(source, min(block, end - at), at)
            out.write(data)
            at += len(data)
        if len(self._ends):
            out.write(b"\n")


def _line_ends(fd: int, size: int, block: int = 1 << 26) -> np.ndarray:
    """Offsets of the newlines ending each non-empty line (the writer leaves no empty ones)."""
    found = []
    last = b""
    for at in range(0, size, block):
        data = os.pread(fd, min(block, size - at), at)
        found.append(np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + at)
        last = data[-1:]
    ends = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    if size and last != b"\n":  # a last line without its newline
        ends = np.append(ends, size)
    return ends.astype(np.int64)


def article_layout(sentences: Sequence[Sentence], passages: Sequence[Passage],
                   doc_number: Mapping[str, int]) -> dict[str, np.ndarray]:
    """The columns spans.npz holds: every sentence's and passage's fields, and what a server would
    otherwise work out per sentence at start (each sentence's place in its article, the sentence before
    it there, and the first passage holding it)."""
    s_doc = np.fromiter((doc_number[s.doc_id] for s in sentences), dtype=np.int32, count=len(sentences))
    columns: dict[str, np.ndarray] = {
        "s_doc": s_doc,
        "s_start": np.fromiter((s.start for s in sentences), dtype=np.int64, count=len(sentences)),
        "s_end": np.fromiter((s.end for s in sentences), dtype=np.int64, count=len(sentences)),
        "s_heading": np.fromiter((s.heading for s in sentences), dtype=bool, count=len(sentences)),
        "s_block": np.fromiter((s.block for s in sentences), dtype=np.int32, count=len(sentences)),
        "p_doc": np.fromiter((doc_number[p.doc_id] for p in passages), dtype=np.int32, count=len(passages)),
        "p_start": np.fromiter((p.start for p in passages), dtype=np.int64, count=len(passages)),
        "p_end": np.fromiter((p.end for p in passages), dtype=np.int64, count=len(passages)),
        "p_first": np.fromiter((p.first_sentence for p in passages), dtype=np.int64, count=len(passages)),
        "p_last": np.fromiter((p.last_sentence for p in passages), dtype=np.int64, count=len(passages)),
    }
    return columns | spans_arrays(columns)


def spans_arrays(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each sentence's place among its article's sentences (in index order), the previous sentence of its
    article (-1 for the first) and the first passage holding it (-1: none)."""
    doc = columns["s_doc"]
    n = len(doc)
    order = np.argsort(doc, kind="stable")
    sorted_doc = doc[order]
    first_of_run = np.ones(n, dtype=bool)
    first_of_run[1:] = sorted_doc[1:] != sorted_doc[:-1]
    run_start = np.maximum.accumulate(np.where(first_of_run, np.arange(n), 0)) if n else np.zeros(0, dtype=np.int64)
    position = np.empty(n, dtype=np.int32)
    position[order] = np.arange(n) - run_start
    previous = np.full(n, -1, dtype=np.int64)
    previous[order[~first_of_run]] = order[np.flatnonzero(~first_of_run) - 1]
    home = np.full(n, -1, dtype=np.int64)
    first, last = columns["p_first"], columns["p_last"]
    for p in range(len(first) - 1, -1, -1):  # the earliest passage wins: written last
        home[first[p]: last[p] + 1] = p
    return {"s_position": position, "s_previous": previous, "s_home": home}


class ArticleRows(Mapping[str, range]):
    """doc_id -> the rows of its sentences, from the table's columns (no list per article)."""

    def __init__(self, sentences: SentenceTable) -> None:
        self._sentences = sentences

    def __getitem__(self, doc_id: str) -> range:
        if doc_id not in self._sentences._number:
            raise KeyError(doc_id)
        return self._sentences.of_article(doc_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self._sentences.doc_ids)

    def __len__(self) -> int:
        return len(self._sentences.doc_ids)
