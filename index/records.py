"""Typed records of the pipeline. Every span is an offset pair into its article's original text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Metadata:
    title: str | None = None
    source: str | None = None
    author: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class Article:
    """One article: `text` is the file's text (HTML: the extracted main text); all offsets point into it."""

    doc_id: str
    filename: str
    text: str
    sha256: str
    meta: Metadata = field(default_factory=Metadata)

    @property
    def title(self) -> str:
        return self.meta.title or self.doc_id


@dataclass(frozen=True)
class Span:
    """A stretch of an article's text chosen by cleaning; `heading` marks a title or section line."""

    start: int
    end: int
    heading: bool = False


@dataclass(frozen=True)
class Sentence:
    doc_id: str
    start: int
    end: int
    text: str
    heading: bool = False
    block: int = 0  # sentences of one block are contiguous body text; blocks are split by headings/debris

    @property
    def id(self) -> str:
        return f"{self.doc_id}:{self.start}"


@dataclass(frozen=True)
class Passage:
    doc_id: str
    start: int
    end: int
    text: str
    first_sentence: int  # index into the index's sentence list
    last_sentence: int  # inclusive

    @property
    def id(self) -> str:
        return f"{self.doc_id}:{self.start}"


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why; always reported, never silently dropped."""

    filename: str
    reason: str


@dataclass(frozen=True)
class Neighbour:
    sentence: int
    similarity: float


@dataclass(frozen=True, eq=False)
class Neighbours:
    """Sentence -> similar sentences of other articles, best first, held as three arrays (sentence i's
    are ids[starts[i]:starts[i + 1]]): a few bytes a pair where a dict of objects took a hundred, and
    read from disk in one go."""

    starts: np.ndarray  # int64, one more than there are sentences
    ids: np.ndarray  # int32
    sims: np.ndarray  # float32

    @classmethod
    def of(cls, found: dict[int, list[Neighbour]], sentences: int) -> Neighbours:
        counts = np.zeros(sentences + 1, dtype=np.int64)
        for i, lst in found.items():
            counts[i + 1] = len(lst)
        order = sorted(found)
        ids = np.fromiter((n.sentence for i in order for n in found[i]), dtype=np.int32)
        sims = np.fromiter((n.similarity for i in order for n in found[i]), dtype=np.float32)
        return cls(np.cumsum(counts), ids, sims)

    def patched(self, changed: dict[int, list[Neighbour]], sentences: int) -> Neighbours:
        """These lists for `sentences` sentences (rows past these arrays' end are empty), with the rows of
        `changed` replaced: the unchanged stretches are copied as whole slices, not row by row."""
        old = len(self.starts) - 1
        counts = np.zeros(sentences, dtype=np.int64)
        counts[:min(old, sentences)] = np.diff(self.starts)[:sentences]
        rows = sorted(changed)
        for i in rows:
            counts[i] = len(changed[i])
        starts = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)])
        ids = np.empty(int(starts[-1]), dtype=np.int32)
        sims = np.empty(int(starts[-1]), dtype=np.float32)
        at = 0
        for stop in [*rows, sentences]:
            a, b = at, min(stop, old)
            if a < b:  # rows [a, b) as they were
                ids[starts[a]: starts[b]] = self.ids[self.starts[a]: self.starts[b]]
                sims[starts[a]: starts[b]] = self.sims[self.starts[a]: self.starts[b]]
            if stop < sentences:
                lst = changed[stop]
                ids[starts[stop]: starts[stop + 1]] = [n.sentence for n in lst]
                sims[starts[stop]: starts[stop + 1]] = [n.similarity for n in lst]
            at = stop + 1
        return Neighbours(starts, ids, sims)

    def get(self, i: int, default: Sequence[Neighbour] = ()) -> list[Neighbour]:
        if not 0 <= i < len(self.starts) - 1:
            return list(default)
        a, b = int(self.starts[i]), int(self.starts[i + 1])
        return [Neighbour(int(j), float(s)) for j, s in zip(self.ids[a:b], self.sims[a:b], strict=True)]

    def __getitem__(self, i: int) -> list[Neighbour]:
        return self.get(i)

    def as_dict(self) -> dict[int, list[Neighbour]]:
        counts = np.diff(self.starts)
        return {int(i): self.get(int(i)) for i in np.flatnonzero(counts)}

    def problem(self, sentences: int) -> str | None:
        """What is wrong with arrays read from disk (None when they fit `sentences`)."""
        starts = self.starts
        if starts.ndim != 1 or len(starts) != sentences + 1 or (len(starts) and starts[0] != 0) or \
                np.any(np.diff(starts) < 0) or self.ids.shape != self.sims.shape or self.ids.ndim != 1 or \
                int(starts[-1]) != len(self.ids):
            return "the neighbour arrays do not fit together"
        if len(self.ids) and (int(self.ids.min()) < 0 or int(self.ids.max()) >= sentences):
            return "a neighbour points outside the sentences"
        return None
