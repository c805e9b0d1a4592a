"""The evidence for each candidate answer sentence, as named features (STYLE.md 16). A fitted model
(server/ranker.py) turns a row of them into a score; none of them is a rule for one question, and
each can be switched off (held at its training mean) for the eval's ablations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from index.text import fold
from server.answertype import UNIT_FORMS
from server.question import Query
from server.sentence_view import SentenceView, SentenceViews


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


def type_match(query: Query, entities: Sequence[tuple[str, str]] | None, asked: str) -> float:
    """+1 when the sentence names an entity of the wanted labels that the question does not already
    name (the answer is what the question lacks), -1 when it names none, 0 for an untyped question.
    `entities`: the sentence's (label, folded text) pairs, None when it was never annotated."""
    labels = query.answer_type.labels
    if not labels or entities is None:
        return 0.0
    return 1.0 if any(label in labels and text not in asked for label, text in entities) else -1.0


def head_named(head: str | None, view: SentenceView) -> float:
    """+1 when the sentence names the head noun (as a lemma, or a unit in any of its forms: "43km"),
    -1 when not, 0 when the question has none."""
    if head is None:
        return 0.0
    forms = UNIT_FORMS.get(head, ())
    present = head in view.lemmas or head in view.words or any(
        f in view.words or (not f.isalpha() and f in view.lower) for f in forms)
    return 1.0 if present else -1.0


def feature_rows(query: Query, pool: Pool, dense: np.ndarray, context: np.ndarray, views: SentenceViews,
                 sentence_terms: Sequence[frozenset[str]], favoured: frozenset[str] = frozenset()) -> np.ndarray:
    """(len(pool.ids), len(FEATURES)) float64: the features of each candidate `pool.ids[n]`, in FEATURES
    order, whose cosines are `dense[n]` and `context[n]`; `views[i]` is what sentence i shows of itself."""
    n = len(pool.ids)
    if not n:
        return np.zeros((0, len(FEATURES)))
    dense = dense.astype(np.float64)
    order = np.argsort(-dense, kind="stable")
    dense_rank = np.empty(n, dtype=np.int64)
    dense_rank[order] = np.arange(n)
    qterms = query.terms
    covered: dict[int, float] = {}  # each sentence's coverage once: a candidate's is its follower's before_coverage

    def coverage_of(i: int) -> float:
        c = covered.get(i)
        if c is None:
            c = covered[i] = coverage(qterms, sentence_terms[i])
        return c

    seen = [views[i] for i in pool.ids]
    cover = np.array([coverage_of(i) for i in pool.ids])
    asked = fold(query.text)
    names = [fold(name) for name in query.entities]
    head = query.answer_type.head
    lemmas, years = query.lemmas, query.years
    rank = pool.rank
    columns = {
        "dense": dense, "context": context.astype(np.float64), "dense_gap": dense - dense.max(),
        "dense_rank": 1.0 / (1 + dense_rank), "coverage": cover, "coverage_gap": cover - cover.max(),
        "before_coverage": [coverage_of(v.previous) if v.previous >= 0 else 0.0 for v in seen],
        "lemmas": [len(lemmas & v.lemmas) / len(lemmas) for v in seen] if lemmas else 0.0,
        "answer_type": [type_match(query, v.entities, asked) for v in seen],
        "entities": [2 * sum(1 for name in names if name in v.lower) / len(names) - 1 for v in seen] if names else 0.0,
        "head_noun": [head_named(head, v) for v in seen] if head is not None else 0.0,
        "year_conflict": [float(bool(v.years and not years & v.years)) for v in seen] if years else 0.0,
        "passage": [pool.passage.get(i, 0.0) for i in pool.ids],
        "passage_rank": [1.0 / (1 + r) if (r := rank.get(i)) is not None else 0.0 for i in pool.ids],
        "position": [v.position for v in seen], "length": [v.length for v in seen],
        "heading": [v.heading for v in seen], "source_named": [float(v.doc_id in favoured) for v in seen],
    }
    rows = np.empty((n, len(FEATURES)), dtype=np.float64)
    for k, name in enumerate(FEATURES):
        rows[:, k] = columns[name]
    return rows


def features_of(query: Query, pool: Pool, dense: np.ndarray, context: np.ndarray, views: SentenceViews,
                sentence_terms: Sequence[frozenset[str]], favoured: frozenset[str] = frozenset()) -> list[Features]:
    """The features of each candidate as records (feature_rows' rows, named)."""
    return [Features(*row) for row in feature_rows(query, pool, dense, context, views, sentence_terms,
                                                   favoured).tolist()]
