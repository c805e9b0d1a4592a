"""An answer's quotes: the chosen sentences as verbatim spans of their articles, each with its answering
phrase, the sentences around it, its source and date, and the other articles that state the same fact or
differ on it; and the passages shown beside them, those holding the quotes first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from index.records import Sentence
from index.settings import Settings
from index.store import IndexData
from server.answertype import ANY, AnswerType
from server.emphasis import answer_phrase, entity_phrase, unasked_entities
from server.extract import Candidate, Weights, differs, merge_adjacent, same_fact, select, with_context
from server.qtype import expected
from server.records import Citation, Hit, Quote, RetrievedPassage


class Planned(NamedTuple):
    """A quote before it is cut: its sentences, the one that answers, and the chosen candidates in it."""

    ids: list[int]
    focus: int
    group: list[Candidate]


def joined(planned: list[Planned], sentences: Sequence[Sentence]) -> list[Planned]:
    """The planned quotes with those that overlap once widened by their context (or that touch in one
    paragraph) made one, in the place and with the answering sentence of the better one: two quotes
    never show the same sentence twice."""
    kept: list[Planned] = []
    for plan in planned:
        first = sentences[plan.ids[0]]
        for n, other in enumerate(kept):
            o = sentences[other.ids[0]]
            shared = set(plan.ids) & set(other.ids)
            touch = min(plan.ids) == max(other.ids) + 1 or max(plan.ids) + 1 == min(other.ids)
            if shared or touch and o.doc_id == first.doc_id and o.block == first.block:
                kept[n] = Planned(sorted(set(other.ids) | set(plan.ids)), other.focus, other.group + plan.group)
                break
        else:
            kept.append(plan)
    return kept


class Quoter:
    def __init__(self, index: IndexData, sentence_vectors: np.ndarray, spans: Sequence[tuple[int, int]],
                 settings: Settings) -> None:
        self.index = index
        self.sentence_vectors = sentence_vectors  # for the near-duplicates among the chosen sentences
        self.spans = spans  # each passage's first and last sentence
        self.settings = settings

    def title(self, doc_id: str) -> str:
        return self.index.articles[doc_id].title

    def quotes(self, question: str, ranked: list[Candidate], weights: Weights, collapse_duplicates: bool = True,
               said: tuple[int, ...] = (), kind: AnswerType = ANY,
               keep_ratio: float | None = None, describes: bool = False) -> list[Quote]:
        """The chosen sentences as verbatim quotes. `said`: what the last answer quoted; a follow-up's
        quote that would only repeat it takes the sentence after it (else before), which is new and is
        the quote's answering sentence. `kind`: the question's answer type, whose entity is the
        answering phrase; none when the question `describes` a name it gives ("Who is Sina Azodi?": the
        sentence is the answer, not another name in it).
        `keep_ratio`: the fitted ranker's, when `ranked` holds its probabilities."""
        sentences, labels = self.index.sentences, kind.labels
        if ranked[0].features is not None and keep_ratio is not None:
            # probabilities, not the hand-set scores: the ratios fitted with the ranker
            weights = replace(weights, keep_ratio=keep_ratio, follow_ratio=keep_ratio)
        dup = self.settings.duplicate_similarity if collapse_duplicates else 1.01
        chosen, twins = select(ranked, sentences, self.sentence_vectors, self.settings.max_quotes, dup, weights)
        quotes = []
        wanted = expected(question)
        scores = {c.sentence: c.score for c in ranked}
        planned = []
        for group in merge_adjacent(chosen, sentences):
            ids = [c.sentence for c in group]
            top = max(group, key=lambda c: c.score)
            focus = top.sentence
            if said and all(i in said for i in ids):
                new = self.beside(ids)
                # the reader has seen the rest: the new sentence answers, unless only a seen one states the
                # kind of fact asked for ("when did he say it?": the last answer's "Later in October, ...")
                stating = [i for i in new + ids if self.states(i, labels, question)] if labels else []
                focus = stating[0] if stating else new[0] if new else focus
                ids += new
            planned.append(Planned(with_context(ids, sentences, question, scores, weights.follow_ratio), focus, group))
        for ids, focus, group in joined(planned, sentences):
            top = max(group, key=lambda c: c.score)
            first, last = sentences[ids[0]], sentences[ids[-1]]
            text = self.index.articles[first.doc_id].text
            cited, differing = self.citations(ids, twins, dup) if collapse_duplicates else ((), ())
            best = sentences[focus]
            if top.features is not None:  # the ranker's answer type: an entity of the labels asked for
                notes = self.index.annotations[focus].entities if self.index.annotations else ()
                phrased = None if describes else entity_phrase(text, notes, labels, question, kind.head)
                answer = phrased or (best.start, best.end)
            else:
                phrase = answer_phrase(best.text, wanted, question)
                answer = (best.start + phrase[0], best.start + phrase[1]) if phrase else (best.start, best.end)
            quotes.append(Quote(text[first.start:last.end], first.doc_id, self.title(first.doc_id), first.start,
                                last.end, round(max(c.score for c in group), 4), cited, (best.start, best.end),
                                differing, *answer, self.context_sentence(ids[0] - 1, first.doc_id),
                                self.context_sentence(ids[-1] + 1, first.doc_id),
                                *self.provenance(first.doc_id)))
        return quotes

    def states(self, i: int, labels: frozenset[str], question: str) -> bool:
        """Sentence i names an entity of the labels asked for that the question does not (build-time
        entities; False for an index never annotated)."""
        if not self.index.annotations:
            return False
        s = self.index.sentences[i]
        return bool(unasked_entities(self.index.articles[s.doc_id].text, self.index.annotations[i].entities, labels,
                                     question))

    def provenance(self, doc_id: str) -> tuple[str | None, str | None]:
        """The article's source and publication date, where its metadata gives them."""
        meta = self.index.articles[doc_id].meta
        return meta.source or None, meta.published or None

    def beside(self, ids: list[int]) -> list[int]:
        """The sentence after `ids` in their article block, else the one before (none at a block's edge)."""
        sentences = self.index.sentences
        first = sentences[ids[0]]
        for i in (max(ids) + 1, min(ids) - 1):
            if 0 <= i < len(sentences) and sentences[i].doc_id == first.doc_id and \
                    sentences[i].block == first.block and not sentences[i].heading:
                return [i]
        return []

    def context_sentence(self, i: int, doc_id: str) -> Citation | None:
        """Sentence i as context of a quote of doc_id: only a body sentence of the same article."""
        sentences = self.index.sentences
        if not 0 <= i < len(sentences) or sentences[i].doc_id != doc_id or sentences[i].heading:
            return None
        s = sentences[i]
        return Citation(doc_id, self.title(doc_id), s.start, s.end, s.text)

    def citations(self, ids: list[int], twins: dict[int, list[int]],
                  threshold: float) -> tuple[tuple[Citation, ...], tuple[Citation, ...]]:
        """Other articles on the same thing: (also_in, differs_in). also_in: near-duplicates among the
        candidates and, precomputed at build time, anywhere in the corpus; differs_in: sentences as
        similar that give other figures or dates. One citation per article, the closest sentence."""
        sentences = self.index.sentences
        own = sentences[ids[0]].doc_id
        same: dict[str, tuple[float, int]] = {}
        other: dict[str, tuple[float, int]] = {}
        for i in ids:
            for j in twins.get(i, []):
                same[sentences[j].doc_id] = (2.0, j)
            for n in self.index.neighbours.get(i, []):
                doc = sentences[n.sentence].doc_id
                if doc == own:
                    continue
                a, b = sentences[i].text, sentences[n.sentence].text
                found = same if same_fact(a, b, n.similarity, threshold) else \
                    other if differs(a, b, n.similarity, threshold) else None
                if found is not None and found.get(doc, (0.0, 0))[0] < n.similarity:
                    found[doc] = (n.similarity, n.sentence)
        other = {doc: v for doc, v in other.items() if doc not in same}  # it also says the same elsewhere
        return self._cite(same), self._cite(other)

    def _cite(self, best: dict[str, tuple[float, int]]) -> tuple[Citation, ...]:
        citations = []
        for doc, (_, j) in sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0])):
            s = self.index.sentences[j]
            citations.append(Citation(doc, self.title(doc), s.start, s.end, s.text))
        return tuple(citations)

    def quoted_first(self, hits: list[Hit], quotes: list[Quote]) -> list[Hit]:
        """The passages holding the quotes lead (an answer sentence can come from a passage that fused
        retrieval ranked low, or from a byline), then the rest in retrieval order. A leading passage
        carries at least the best retrieval score, so scores never rise down the list."""
        top = max((h.score for h in hits), default=0.0)
        lead: dict[int, Hit] = {}
        for quote in quotes:
            found = self.index.sentences.find(quote.doc_id, quote.start)  # a quote starts where a sentence starts
            assert found is not None, f"no sentence starts at {quote.doc_id}:{quote.start}"
            i, home = found, int(self.index.sentences.home[found])
            hit = next((h for h in hits if self.spans[h.passage][0] <= i <= self.spans[h.passage][1]), None)
            if hit is None and home >= 0:
                hit = Hit(home, 0.0)  # not retrieved by fusion: no retrieval score of its own
            if hit is not None and hit.passage not in lead:
                lead[hit.passage] = replace(hit, score=max(hit.score, top))
        return list(lead.values()) + [h for h in hits if h.passage not in lead]

    def retrieved(self, hit: Hit) -> RetrievedPassage:
        p = self.index.passages[hit.passage]
        return RetrievedPassage(p.doc_id, self.title(p.doc_id), p.id, p.text, p.start, p.end, round(hit.score, 4))
