"""What the ranker's features read of a sentence that does not depend on the question: its folded text,
words, lemmas, years, entities, length and place. Worked out the first time a question's pool holds the
sentence and kept for the index's life (an answerer holds one store per index), so the features of a
pool are set lookups rather than a fold, three regular expressions and a JSON parse per candidate."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from index.annotate import Annotation
from index.records import Sentence
from index.text import DESIGNATION, fold
from server.question import YEAR

__all__ = ["LETTERS", "SentenceView", "SentenceViews"]

LETTERS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class SentenceView:
    doc_id: str
    lower: str  # fold(text)
    words: frozenset[str]  # its runs of letters, folded
    lemmas: frozenset[str]  # of its content words (empty without annotations)
    years: frozenset[str]
    entities: tuple[tuple[str, str], ...] | None  # (label, folded text) of each entity; None: never annotated
    length: float  # log(1 + its content terms)
    position: float  # 1 / (1 + its position among its article's sentences)
    previous: int  # the sentence before it in its article, -1 for its first
    heading: float


def view_of(s: Sentence, note: Annotation | None, text: str, terms: frozenset[str], position: int,
            previous: int) -> SentenceView:
    """Sentence `s` seen once; `text` is its article's text (entity offsets point into it)."""
    lower = fold(s.text)
    entities = None if note is None else designated(tuple((e.label, fold(text[e.start:e.end])) for e in note.entities),
                                                    s.text)
    return SentenceView(s.doc_id, lower, frozenset(LETTERS.findall(lower)),
                        frozenset(note.lemmas) if note else frozenset(), frozenset(YEAR.findall(s.text)), entities,
                        math.log1p(len(terms)), 1.0 / (1 + position), previous, float(s.heading))


def designated(entities: tuple[tuple[str, str], ...], text: str) -> tuple[tuple[str, str], ...]:
    """The entities with each model designation in the text that none of them covers, as a PRODUCT
    ("which missiles ...?" asks for one)."""
    found = list(entities)
    for m in DESIGNATION.finditer(text):
        name = fold(m.group(0))
        if not any(name in t for _, t in entities):
            found.append(("PRODUCT", name))
    return tuple(found)


MAX_VIEWS = 20_000  # views kept: a few hundred questions' pools, not every sentence of an archive


class SentenceViews:
    """The views of an index's sentences, each made when first asked for and the last MAX_VIEWS asked
    for kept (a long-running server over an archive would otherwise come to hold one per sentence).
    Request threads may ask at once: functools' LRU cache is thread-safe, and a view is made from the
    index alone, so two threads making the same one make equal ones."""

    def __init__(self, sentences: Sequence[Sentence], texts: Mapping[str, str], annotations: Sequence[Annotation],
                 sentence_terms: Sequence[frozenset[str]], position: Sequence[int], previous: Sequence[int],
                 kept: int = MAX_VIEWS) -> None:
        self._args = (sentences, texts, annotations, sentence_terms, position, previous)
        self._view = functools.lru_cache(maxsize=kept)(self._make)

    def _make(self, i: int) -> SentenceView:
        sentences, texts, annotations, terms, position, previous = self._args
        s = sentences[i]
        return view_of(s, annotations[i] if annotations else None, texts[s.doc_id], terms[i], position[i], previous[i])

    def __getitem__(self, i: int) -> SentenceView:
        return self._view(int(i))
