"""Pick the answer sentences inside the retrieved passages: score, select, join neighbours, collapse
near-duplicates into extra citations. Every quote is a slice of its article's original text."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from index.ann import MATCH_CONTEXT
from index.prefetch import gather
from index.records import Sentence
from server.facts import conflict, differ
from server.features import FEATURES, Pool, coverage
from server.qtype import Want, has_kind
from server.ranker import Ranker
from server.records import Hit


@dataclass(frozen=True)
class Weights:
    """How sentence evidence is combined; tuned on the gold set (see eval/README.md)."""

    dense: float = 0.55
    lexical: float = 0.30
    passage: float = 0.15
    type_match: float = 0.08
    heading_penalty: float = 0.30
    short_penalty: float = 0.15
    keep_ratio: float = 0.85  # further quotes must score at least this share of the best one
    follow_ratio: float = 0.75  # a next sentence carrying on a quote joins it at this share of its score
    nearest: int = 20  # sentences nearest the question corpus-wide, added to the passages' sentences
    context: float = MATCH_CONTEXT  # share of the in-context sentence vector in the dense match
    source_bonus: float = 0.1  # for sentences of an article whose source the question names
    sentence_boost: float = 0.5  # share of a passage's best sentence match in its retrieval score
    specific_idf: float = 1.0  # question terms rarer than this (in fewer than ~40% of passages) are specific


@dataclass(frozen=True)
class Candidate:
    sentence: int
    score: float
    dense: float
    lexical: float
    passage: float  # the best containing passage's fused score relative to the top hit
    type_ok: bool
    features: Sequence[float] | None = None  # the ranker's evidence, in FEATURES order (None: hand-set weights)


def same_fact(a: str, b: str, similarity: float, threshold: float) -> bool:
    """Two sentences state the same fact: similar enough, and not giving different figures or dates."""
    return similarity >= threshold and not conflict(a, b)


def differs(a: str, b: str, similarity: float, threshold: float) -> bool:
    """Two sentences report the same thing with different figures or dates ($5 billion against $4 billion)."""
    return similarity >= threshold and differ(a, b)


def pool_of(hits: list[Hit], spans: Sequence[tuple[int, int]], nearest: Sequence[int] = (),
            context: Sequence[int] = ()) -> Pool:
    """The candidate sentences: every sentence of the hit passages, the `nearest` ones, and `context`
    (the sentences around the previous turn's quotes, which a follow-up such as "why not?" often
    points to, counted as if in the best passage). `spans[p]` is passage p's (first, last) sentence."""
    top = hits[0].score if hits and hits[0].score > 0 else 1.0
    passage: dict[int, float] = {}
    rank: dict[int, int] = {}
    for r, hit in enumerate(hits):
        first, last = spans[hit.passage]
        for i in range(first, last + 1):
            passage[i] = max(passage.get(i, 0.0), max(hit.score, 0.0) / top)
            rank.setdefault(i, r)
    for i in nearest:
        passage.setdefault(i, 0.0)
    for i in context:
        passage[i] = 1.0
        rank[i] = 0
    return Pool(sorted(passage), passage, rank)


def distinct(pool: Pool, digests: np.ndarray | None, keep: Sequence[int] = ()) -> Pool:
    """One sentence of each group of word-for-word copies in the pool (syndicated copy: one sentence vector,
    by its build-time digest, in several articles): the one in the best retrieved passage, then the first;
    `keep` (the last answer's neighbourhood) is never dropped. The copies' articles are still cited: a
    sentence's build-time neighbours hold its copies (index.neighbours). In an archive about half of a
    question's candidates are copies, and each is a row read in every vector and text file."""
    if digests is None or len(pool.ids) < 2:
        return pool
    kept = set(keep)
    rows = gather(digests, pool.ids)
    best: dict[bytes, int] = {}
    fixed: set[bytes] = set()
    for i, row in zip(pool.ids, rows, strict=True):
        key = row.tobytes()
        if i in kept:
            fixed.add(key)
            continue
        j = best.get(key)
        if j is None or (pool.passage[i], -pool.rank.get(i, len(pool.ids))) > \
                (pool.passage[j], -pool.rank.get(j, len(pool.ids))):
            best[key] = i
    chosen = sorted(kept.intersection(pool.ids) | {i for key, i in best.items() if key not in fixed})
    if len(chosen) == len(pool.ids):
        return pool
    return Pool(chosen, {i: pool.passage[i] for i in chosen}, {i: pool.rank[i] for i in chosen if i in pool.rank})


@dataclass(frozen=True)
class HandScore:
    """The hand-set weights' score of a pool's sentence, and its type check (the costly part)."""

    pool: Pool
    sentences: Sequence[Sentence]
    sentence_terms: Sequence[frozenset[str]]
    question_terms: Mapping[str, float]
    wanted: Want | None
    question: str
    weights: Weights
    favoured: frozenset[str]

    def type_ok(self, i: int) -> bool:
        # A figure or date answers only next to what was asked about: a sentence with a sum of money but
        # none of the question's specific terms ("S-400") does not say what Iran pays for the S-400.
        wanted, terms = self.wanted, self.sentence_terms[i]
        figure = wanted is not None and wanted.kind not in ("name", "person")
        specific = [t for t, w in self.question_terms.items() if w >= self.weights.specific_idf] if figure else []
        return has_kind(self.sentences[i].text, wanted, self.question) and not (
            figure and specific and not any(t in terms for t in specific))

    def candidate(self, i: int, d: float, type_ok: bool, lex: float | None = None) -> Candidate:
        """Sentence i's Candidate, whose dense match is `d`. The score never falls when type_ok turns true
        (each step is monotone in it), so the score with type_ok=True bounds the score with it false."""
        weights, s = self.weights, self.sentences[i]
        lex = coverage(self.question_terms, self.sentence_terms[i]) if lex is None else lex
        score = weights.dense * d + weights.lexical * lex + weights.passage * self.pool.passage[i]
        score += weights.type_match * (1.0 if type_ok and self.wanted else 0.0) - (0 if type_ok else weights.type_match)
        if s.doc_id in self.favoured:
            score += weights.source_bonus
        if s.heading:
            score -= weights.heading_penalty
        if len(self.sentence_terms[i]) < 3:
            score -= weights.short_penalty
        return Candidate(i, score, d, lex, self.pool.passage[i], type_ok)


def candidates(
    pool: Pool,
    sentences: Sequence[Sentence],
    sentence_vectors: np.ndarray,
    sentence_terms: Sequence[frozenset[str]],
    query_vector: np.ndarray,
    question_terms: dict[str, float],
    wanted: Want | None,
    question: str,
    weights: Weights,
    favoured: frozenset[str] = frozenset(),
) -> list[Candidate]:
    """The pool's sentences scored by the hand-set weights, best first (ties by sentence index)."""
    ids = pool.ids
    if not ids:
        return []
    hand = HandScore(pool, sentences, sentence_terms, question_terms, wanted, question, weights, favoured)
    dense = (gather(sentence_vectors, ids) @ query_vector).tolist()
    found = [hand.candidate(i, d, hand.type_ok(i)) for i, d in zip(ids, dense, strict=True)]
    found.sort(key=lambda c: (-c.score, c.sentence))
    return found


def leading(hand: HandScore, dense: Sequence[float], n: int, eligible: Callable[[int], bool]) -> list[Candidate]:
    """The first `n` of candidates()' ranking among the `eligible` sentences, the same candidates, with
    the type check run only on sentences that could still be among them: in order of their score with
    the check passed (a bound), until the next bound falls behind the n-th found."""
    if n <= 0:
        return []
    passed = [hand.candidate(i, d, True) for i, d in zip(hand.pool.ids, dense, strict=True) if eligible(i)]
    best: list[Candidate] = []
    for c in sorted(passed, key=lambda c: (-c.score, c.sentence)):
        if len(best) >= n and (-c.score, c.sentence) > (-best[n - 1].score, best[n - 1].sentence):
            break
        best.append(c if hand.type_ok(c.sentence) else hand.candidate(c.sentence, c.dense, False, c.lexical))
        best.sort(key=lambda c: (-c.score, c.sentence))
    return best[:n]


DENSE, COVERAGE, PASSAGE, ANSWER_TYPE = (FEATURES.index(name) for name in ("dense", "coverage", "passage",
                                                                            "answer_type"))


def learned(pool: Pool, rows: np.ndarray, ranker: Ranker, off: frozenset[str] = frozenset()) -> list[Candidate]:
    """The pool's sentences scored by the fitted ranker (P(holds the answer)), best first; `rows`: their
    features (server.features.feature_rows)."""
    if not pool.ids:
        return []
    probability = ranker.probability(rows, off).tolist()
    found = [Candidate(i, p, f[DENSE], f[COVERAGE], f[PASSAGE], f[ANSWER_TYPE] >= 0, f)
             for i, p, f in zip(pool.ids, probability, rows.tolist(), strict=True)]
    found.sort(key=lambda c: (-c.score, c.sentence))
    return found


def select(
    ranked: list[Candidate],
    sentences: Sequence[Sentence],
    sentence_vectors: np.ndarray,
    max_quotes: int,
    duplicate_similarity: float,
    weights: Weights,
) -> tuple[list[Candidate], dict[int, list[int]]]:
    """The best candidates to quote (at most `max_quotes`), and for each, near-duplicate sentences of
    other articles found among the candidates (cited, not quoted again)."""
    chosen: list[Candidate] = []
    twins: dict[int, list[int]] = {}
    if not ranked:
        return chosen, twins
    floor = ranked[0].score * weights.keep_ratio if ranked[0].score > 0 else ranked[0].score
    for cand in ranked:
        if cand.score < floor or sentences[cand.sentence].heading:
            if chosen:
                break
            continue
        vec = sentence_vectors[cand.sentence]
        text = sentences[cand.sentence].text
        dup = next((c for c in chosen if same_fact(sentences[c.sentence].text, text,
                                                   float(sentence_vectors[c.sentence] @ vec), duplicate_similarity)),
                   None)
        if dup is not None:
            if sentences[dup.sentence].doc_id != sentences[cand.sentence].doc_id:
                twins.setdefault(dup.sentence, []).append(cand.sentence)
            continue
        if len(chosen) < max_quotes:
            chosen.append(cand)
    return chosen, twins


def merge_adjacent(chosen: list[Candidate], sentences: Sequence[Sentence]) -> list[list[Candidate]]:
    """Group chosen sentences that follow each other in one article block, so one quote spans them.
    Groups keep the order of their best member."""
    groups: list[list[Candidate]] = []
    for cand in chosen:
        s = sentences[cand.sentence]
        for group in groups:
            ids = [c.sentence for c in group]
            near = (min(ids) - 1 == cand.sentence or max(ids) + 1 == cand.sentence)
            g = sentences[ids[0]]
            if near and g.doc_id == s.doc_id and g.block == s.block:
                group.append(cand)
                break
        else:
            groups.append([cand])
    return groups


RESULT_START = re.compile(r"^\W*(as a result|therefore|thus|hence|consequently|that is why|this is why|for this "
                          r"reason|because of this|in exchange|in return|in response)\b", re.IGNORECASE)
# A sentence that opens by pointing back ("It therefore protested", "The latter will aim for ...") is
# unreadable without the sentence before it.
ANAPHOR = re.compile(r"^\W*(?:(?:but|and|yet|while|still|so|however,?)\s+)?(it|its|this|that|these|those|they|their|"
                     r"he|his|she|her|such|the latter|the former)\b", re.IGNORECASE)
REASON = re.compile(r"\b(because|since|given that|due to|owing to|as a result of|in order to|so that|for fear|"
                    r"fearing|as it|as they)\b", re.IGNORECASE)
WHY_Q = re.compile(r"\b(why|what (made|makes|caused|causes|drove|drives|explains)|for what reason|how come)\b",
                   re.IGNORECASE)


def with_context(ids: list[int], sentences: Sequence[Sentence], question: str,
                 scores: dict[int, float] | None = None, follow: float = 1.01) -> list[int]:
    """Widen a quote by one neighbour when the answer spans it: a sentence that opens with a
    consequence ("As a result, ...") or points back ("It ...", "The latter ...") needs the sentence
    before it; a "why" question whose quote gives no reason takes the next sentence when that one
    does; and a next sentence that carries on the quote ("While it refrained ...") is taken when it
    scores at least `follow` (a share of the quote's best score in `scores`)."""
    first, last = min(ids), max(ids)
    def same_block(i: int) -> bool:
        return 0 <= i < len(sentences) and not sentences[i].heading and \
            sentences[i].doc_id == sentences[first].doc_id and sentences[i].block == sentences[first].block
    wider = list(ids)
    scores = scores or {}
    best = max((scores.get(i, 0.0) for i in ids), default=0.0)
    opener = sentences[first].text
    # only the answering sentence's own reference is resolved, not a lesser one's joined before it
    answering = len(ids) == 1 or scores.get(first, 0.0) >= best
    if (RESULT_START.search(opener) or (answering and ANAPHOR.search(opener))) and same_block(first - 1):
        wider.append(first - 1)
    if same_block(last + 1) and ANAPHOR.search(sentences[last + 1].text) and best > 0 \
            and scores.get(last + 1, 0.0) >= follow * best:
        wider.append(last + 1)
    if WHY_Q.search(question) and not any(REASON.search(sentences[i].text) for i in ids) and same_block(last + 1) \
            and REASON.search(sentences[last + 1].text):
        wider.append(last + 1)
    return sorted(set(wider))
