"""The evidence for each candidate answer sentence, as named features (STYLE.md 16). A fitted model
(server/ranker.py) turns a row of them into a score; none of them is a rule for one question, and
each can be switched off (held at its training mean) for the eval's ablations."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from index.annotate import Annotation
from index.records import Sentence
from index.text import fold
from server.answertype import UNIT_FORMS
from server.question import YEAR, Query

LETTERS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Features:
    """One candidate sentence's evidence. Signed features are +1 for, -1 against, and 0 when the
    question gives nothing to check (no answer type, no names, no head noun)."""

    dense: float  # cosine of the sentence's own vector with the question's
    context: float  # cosine of its in-context vector (embedded with its neighbours) with the question's
    dense_gap: float  # dense minus the best dense among this question's candidates (<= 0)
    dense_rank: float  # 1 / (1 + its rank by dense among the candidates)
    coverage: float  # IDF-weighted share of the question's terms it contains (BM25's own IDF)
    coverage_gap: float  # coverage minus the best coverage among the candidates (<= 0)
    before_coverage: float  # the coverage of the sentence before it in its article ("It was built in 1850")
    lemmas: float  # share of the question's content lemmas among its lemmas
    answer_type: float  # +1: it names an entity of the labels asked for that the question does not; -1: none
    entities: float  # share of the question's names and figures it mentions, as 2 * share - 1
    head_noun: float  # +1: it names the question's head noun or unit ("missile", "km"); -1: not
    year_conflict: float  # 1 when it states years and none of them is a year the question asks about
    passage: float  # its best containing passage's fused retrieval score, relative to the top passage
    passage_rank: float  # 1 / (1 + rank) of that passage; 0 when found only by its own vector
    position: float  # 1 / (1 + its position among its article's sentences)
    length: float  # log(1 + its content terms)
    heading: float  # 1 for a title or section heading
    source_named: float  # 1 when the question names its article's source

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in FEATURES]  # not astuple: that deep-copies, 20x slower


FEATURES: tuple[str, ...] = tuple(f.name for f in fields(Features))


@dataclass(frozen=True)
class Pool:
    """A question's candidate sentences and what retrieval said about each."""

    ids: list[int]  # sentence indexes, ascending
    passage: dict[int, float]  # sentence -> best containing passage's score relative to the top hit
    rank: dict[int, int]  # sentence -> rank of its best-ranked retrieved passage


def coverage(question_terms: Mapping[str, float], sentence_terms: frozenset[str]) -> float:
    """IDF-weighted share of the question's terms that the sentence contains."""
    total = sum(question_terms.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in question_terms.items() if t in sentence_terms) / total


def type_match(query: Query, note: Annotation | None, text: str, asked: str) -> float:
    """+1 when the sentence names an entity of the wanted labels that the question does not already
    name (the answer is what the question lacks), -1 when it names none, 0 for an untyped question."""
    labels = query.answer_type.labels
    if not labels or note is None:
        return 0.0
    return 1.0 if any(e.label in labels and fold(text[e.start:e.end]) not in asked for e in note.entities) else -1.0


def head_named(head: str | None, lemmas: frozenset[str], lower: str) -> float:
    """+1 when the sentence names the head noun (as a lemma, or a unit in any of its forms: "43km"),
    -1 when not, 0 when the question has none."""
    if head is None:
        return 0.0
    words = frozenset(LETTERS.findall(lower))
    forms = UNIT_FORMS.get(head, ())
    present = head in lemmas or head in words or any(
        f in words or (not f.isalpha() and f in lower) for f in forms)
    return 1.0 if present else -1.0


def features_of(query: Query, pool: Pool, dense: np.ndarray, context: np.ndarray, sentences: Sequence[Sentence],
                texts: Mapping[str, str], annotations: Sequence[Annotation], sentence_terms: Sequence[frozenset[str]],
                position: Sequence[int], previous: Sequence[int], favoured: frozenset[str] = frozenset()
                ) -> list[Features]:
    """The features of each candidate `pool.ids[n]`, whose cosines are `dense[n]` and `context[n]`.
    `texts`: article texts by doc id (entity offsets point into them); `position[i]`: sentence i's place
    in its article, `previous[i]` the sentence before it there (-1 for its first)."""
    best = float(dense.max()) if len(dense) else 0.0
    order = np.argsort(-dense, kind="stable")
    dense_rank = np.empty(len(dense), dtype=np.int64)
    dense_rank[order] = np.arange(len(dense))
    covered = [coverage(query.terms, sentence_terms[i]) for i in pool.ids]
    most = max(covered, default=0.0)
    asked = fold(query.text)
    names = [fold(n) for n in query.entities]
    head = query.answer_type.head
    found = []
    for n, i in enumerate(pool.ids):
        s = sentences[i]
        note = annotations[i] if annotations else None
        lower = fold(s.text)
        shared = (2 * sum(1 for name in names if name in lower) / len(names) - 1) if names else 0.0
        lemmas = frozenset(note.lemmas) if note else frozenset()
        lemma_share = len(query.lemmas & lemmas) / len(query.lemmas) if query.lemmas else 0.0
        years = frozenset(YEAR.findall(s.text))
        rank = pool.rank.get(i)
        before = previous[i] if previous[i] >= 0 else None
        found.append(Features(
            dense=float(dense[n]), context=float(context[n]), dense_gap=float(dense[n]) - best,
            dense_rank=1.0 / (1 + int(dense_rank[n])), coverage=covered[n], coverage_gap=covered[n] - most,
            before_coverage=coverage(query.terms, sentence_terms[before]) if before is not None else 0.0,
            lemmas=lemma_share,
            answer_type=type_match(query, note, texts[s.doc_id], asked), entities=shared,
            head_noun=head_named(head, lemmas, lower),
            year_conflict=float(bool(query.years and years and not query.years & years)),
            passage=pool.passage.get(i, 0.0), passage_rank=1.0 / (1 + rank) if rank is not None else 0.0,
            position=1.0 / (1 + position[i]), length=math.log1p(len(sentence_terms[i])),
            heading=float(s.heading), source_named=float(s.doc_id in favoured),
        ))
    return found
