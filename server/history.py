"""The conversation's earlier turns read against the index (the client sends them back; the server keeps
no state): checked, with their quotes' texts and the names the last answer gave; the sentences around
the last quotes, which join a follow-up's candidates; and whether a quote states the kind of fact a
follow-up asks for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from index.errors import VerbatimError
from index.text import fold, terms
from server.answertype import AMOUNT, NAMED, answer_type, asks_who_named_is
from server.features import head_named, type_match
from server.followup import Turn, dependence
from server.parse import Parser
from server.query import span_problem
from server.question import Query
from server.records import Exchange, Quote
from server.sentence_view import SentenceViews

TITLE_REACH = 30  # characters before a name where its title stands ("Iranian Foreign Minister Sayeed ...")
MAX_HISTORY = 10  # earlier turns a question may lean on (the client sends them back)


class InvalidQuestion(VerbatimError):
    pass


@dataclass(frozen=True)
class History:
    """What of the index the earlier turns are read against."""

    sentences: Any  # index.columns.SentenceTable: .of_article(doc_id), rows with doc_id, start, end, heading
    annotations: Sequence[Any] | None  # each sentence's spaCy annotation (its entities), None when never annotated
    texts: Mapping[str, str]  # the articles' texts by doc id
    views: SentenceViews
    parser: Parser

    def turns(self, history: Sequence[Exchange], leaning: bool = True) -> list[Turn]:
        """The earlier turns with their quotes' texts, and when the question asked now leans on them
        (`leaning`), what the last answer named; InvalidQuestion says which turn or quote is wrong."""
        if len(history) > MAX_HISTORY:
            raise InvalidQuestion(f"history has {len(history)} turns; send at most the last {MAX_HISTORY}.")
        turns = []
        for n, turn in enumerate(history):
            if not turn.question.strip():
                raise InvalidQuestion(f"history[{n}].question is empty: send each earlier question as asked.")
            texts = []
            for m, (doc_id, start, end) in enumerate(turn.quotes):
                problem = span_problem(self.texts, doc_id, start, end, f"history[{n}].quotes[{m}]")
                if problem:
                    raise InvalidQuestion(problem)
                texts.append(self.texts[doc_id][start:end])
            turns.append(Turn(turn.question, tuple(texts)))
        # a turn's answer is pointed at by the question after it (resolve_history reads each earlier follow-up
        # again against the turn before it): only those questions are parsed, the same whenever it is read
        after = [t.question for t in history[1:]] + [""]
        for n, turn in enumerate(history):
            next_leans = dependence(after[n])[0] != "none" if n + 1 < len(history) else leaning
            if next_leans and turn.quotes:
                turns[n] = replace(turns[n], answered=self.answered(turn))
        return turns

    def covered(self, doc_id: str, start: int, end: int) -> list[int]:
        """The sentences of an article that the span [start, end) touches, in text order."""
        sentences = self.sentences
        return [i for i in sentences.of_article(doc_id) if sentences[i].start < end and sentences[i].end > start]

    def answered(self, turn: Exchange) -> tuple[tuple[str, str], ...]:
        """(label, text) of the names (people, places, organisations, things) a turn's quotes give of the
        kind its question asked for that the question does not name: what that answer gave (spaCy's
        entities, found at build time)."""
        # names only: a pronoun points at a person, place or thing, not at a figure or a date
        parse = self.parser.parse(turn.question)
        kind = answer_type(parse)
        labels = kind.labels & NAMED
        if not labels or not self.annotations or asks_who_named_is(parse):
            return ()
        asked, found, titled = set(terms(turn.question)), [], []
        title = set(terms(kind.head)) if kind.head else set()
        for doc_id, start, end in turn.quotes:
            text = self.texts[doc_id]
            for i in self.covered(doc_id, start, end):
                # "Masoud Pezeshkian" is named by a question that says "Pezeshkian"
                for e in self.annotations[i].entities:
                    if e.label in labels and start <= e.start and e.end <= end \
                            and not asked & set(terms(text[e.start:e.end])):
                        found.append((e.label, text[e.start:e.end]))
                        # "which general ...?": the one the answer names by that title ("General Behrouz
                        # Esbati") before others it names in passing
                        if title and title & set(terms(text[max(start, e.start - TITLE_REACH):e.start])):
                            titled.append(found[-1])
        return tuple(dict.fromkeys(titled + found))

    def around(self, spans: Sequence[tuple[str, int, int]]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The sentences the previous quotes cover and the one before and after each, in their articles;
        and the covered ones alone."""
        found: set[int] = set()
        said: set[int] = set()
        for doc_id, start, end in spans:
            inside = self.covered(doc_id, start, end)
            if inside:  # an article's sentences are consecutive rows: the neighbours are one row either side
                said.update(inside)
                ids = self.sentences.of_article(doc_id)
                found.update(i for i in range(inside[0] - 1, inside[-1] + 2) if i in ids)
        return tuple(sorted(i for i in found if not self.sentences[i].heading)), tuple(sorted(said))

    def states_type(self, query: Query, quote: Quote) -> bool:
        """Whether the quote names an entity of the kind of fact the question asks for (a figure, a date,
        a place) that the question as answered does not already name, and the noun it counts or measures
        when it names one ("how much cargo": a figure beside the word cargo); true for an untyped question."""
        if not query.answer_type.labels:
            return True
        asked, ids = fold(query.resolved), self.covered(quote.doc_id, quote.start, quote.end)
        # a figure sits beside the noun it counts or measures ("how much cargo"); a name need not repeat the
        # noun that describes it ("which commander ...?" -> "General Behrouz Esbati")
        head = query.answer_type.head if query.answer_type.labels & AMOUNT else None
        return any(type_match(query, self.views[i].entities, asked) > 0 for i in ids) and (
            head is None or any(head_named(head, self.views[i]) > 0 for i in ids))
