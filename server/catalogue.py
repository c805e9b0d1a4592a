"""The list of articles: words searched in titles and texts, filters by source and by date, one stable
order (newest first, then title), one page at a time. GET /api/articles returns it, /articles renders it.

An archive may hold 100,000 articles, so a query never walks them in Python: the catalogue of an index
is built once, on first use (the order, each article's days and source as arrays, each passage's
article), and a query is a few numpy passes over those arrays plus one BM25 lookup per word (the index's
own BM25, over every passage with its article's title, and its own terms: stemmed, stop words dropped,
"Moscow" folded into "russia" as in retrieval).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.errors import VerbatimError
from index.records import Article
from index.store import IndexData
from index.text import terms

__all__ = ["BadListQuery", "Catalogue", "CatalogueCache", "Listing", "bound", "days"]

DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
BOUND = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")
UNDATED = -1


class BadListQuery(VerbatimError):
    """A list query that cannot be run (a date that is not one, a range that ends before it starts): 422."""


def days(published: str | None) -> tuple[int, int] | None:
    """The days a `published` value covers, as (first, last) proleptic ordinals: "2024-11" is all of
    November, "2024" the whole year, "2024-11-05T10:00Z" that day; None when it does not begin with a
    real date (it is then undated: last in the order, outside every date range)."""
    found = DATE.match((published or "").strip())
    if not found:
        return None
    year, month, day = (int(g) if g else None for g in found.groups())
    if year is None:  # never: the pattern's first group always takes part
        return None
    try:
        if month is None:
            return dt.date(year, 1, 1).toordinal(), dt.date(year, 12, 31).toordinal()
        first = dt.date(year, month, day or 1)
        if day is not None:
            return first.toordinal(), first.toordinal()
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        return first.toordinal(), following.toordinal() - 1
    except ValueError:  # month 13, February 30, year 0
        return None


def bound(value: str | None, name: str, end: bool) -> int | None:
    """A from/to bound as a day ordinal (`to` takes the last day of a month or year it names); None when
    empty; BadListQuery says what to send otherwise."""
    text = (value or "").strip()
    if not text:
        return None
    span = days(text) if BOUND.fullmatch(text) else None
    if span is None:
        raise BadListQuery(f"{name}: {text!r} is not a date; use YYYY-MM-DD (or YYYY-MM, YYYY), e.g. 2024-11-05")
    return span[1] if end else span[0]


@dataclass(frozen=True)
class Listing:
    total: int  # articles that match, on every page
    offset: int
    limit: int
    articles: list[Article]  # this page's, in the list's order


class Catalogue:
    """The articles of one index in the list's order, with what a query filters on."""

    def __init__(self, index: IndexData) -> None:
        articles = list(index.articles.values())
        seen: dict[str | None, tuple[int, int] | None] = {}  # an archive's articles share their dates
        spans = [seen[p] if (p := a.meta.published) in seen else seen.setdefault(p, days(p)) for a in articles]

        def place(i: int) -> tuple[bool, int, str, str]:
            span = spans[i]
            return span is None, -(span[0] if span else 0), articles[i].title.casefold(), articles[i].doc_id

        order = sorted(range(len(articles)), key=place)
        self.articles = [articles[i] for i in order]
        ordered = [spans[i] or (UNDATED, UNDATED) for i in order]
        self.first = np.array([s[0] for s in ordered], dtype=np.int64)
        self.last = np.array([s[1] for s in ordered], dtype=np.int64)
        counts = Counter(a.meta.source for a in self.articles if a.meta.source)
        self.sources: list[tuple[str, int]] = sorted(counts.items(), key=lambda sc: sc[0].casefold())
        number = {source: n for n, (source, _) in enumerate(self.sources)}
        self.source = np.array([number.get(a.meta.source or "", -1) for a in self.articles], dtype=np.int32)
        position = {a.doc_id: j for j, a in enumerate(self.articles)}
        self.passage_article = np.array([position[p.doc_id] for p in index.passages], dtype=np.int64)
        self.bm25 = index.bm25
        self.vocabulary = frozenset(getattr(index.bm25, "vocab_dict", {}) or {})

    def matching(self, words: str) -> np.ndarray:
        """Which articles hold every term of `words` in their title or text (a bool per article). Words
        with no term of their own (only stop words: "the", "and") are matched in the titles as typed."""
        n = len(self.articles)
        wanted = list(dict.fromkeys(terms(words)))
        if not wanted:
            needle = words.strip().casefold()
            return np.array([needle in a.title.casefold() for a in self.articles], dtype=bool)
        found = np.ones(n, dtype=bool)
        for term in wanted:
            if term not in self.vocabulary:
                return np.zeros(n, dtype=bool)
            scores = np.asarray(self.bm25.get_scores([term]))
            holding = np.zeros(n, dtype=bool)
            holding[self.passage_article[scores > 0]] = True
            found &= holding
        return found

    def search(self, words: str = "", sources: Sequence[str] = (), first: int | None = None,
               last: int | None = None, offset: int = 0, limit: int = 50) -> Listing:
        """One page of the articles that match all of: the words, any of the sources, a date within
        [first, last] (day ordinals; an undated article is outside every range)."""
        if first is not None and last is not None and first > last:
            raise BadListQuery(f"from ({dt.date.fromordinal(first)}) is after to ({dt.date.fromordinal(last)}): "
                               "swap them")
        keep = np.ones(len(self.articles), dtype=bool)
        if sources:
            numbers = {n for n, (source, _) in enumerate(self.sources) if source in set(sources)}
            keep &= np.isin(self.source, sorted(numbers)) if numbers else False
        if first is not None:
            keep &= self.last >= first
        if last is not None:
            keep &= (self.first <= last) & (self.first != UNDATED)
        if words.strip():
            keep &= self.matching(words)
        chosen = np.flatnonzero(keep)
        page = chosen[offset:offset + limit]
        return Listing(int(chosen.size), offset, limit, [self.articles[int(i)] for i in page])


class CatalogueCache:
    """The catalogue of the index being served, built on first use and again after a hot swap."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: IndexData | None = None
        self._catalogue: Catalogue | None = None

    def get(self, index: IndexData) -> Catalogue:
        with self._lock:
            if self._catalogue is None or self._index is not index:
                self._catalogue, self._index = Catalogue(index), index
            return self._catalogue
