"""The question, analysed once at the edge (STYLE.md 17): every stage after reads this record and
none re-tokenises the question."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from index.annotate import content_lemma_text
from index.text import terms
from server.answertype import ANY, AnswerType, answer_type
from server.followup import Resolution
from server.parse import Parse, Parser

YEAR = re.compile(r"\b(1[0-9]\d\d|20\d\d)s?\b")


@dataclass(frozen=True)
class Query:
    text: str  # the question as asked, stripped
    repaired: str  # without the sources it names, typos repaired: what is embedded and matched
    stems: tuple[str, ...]  # its stemmed content terms in order, repeats kept: the BM25 query
    terms: Mapping[str, float]  # each distinct one with its BM25 IDF
    answer_type: AnswerType
    entities: tuple[str, ...]  # names and figures it mentions ("Masoud Pezeshkian", "2021")
    lemmas: frozenset[str]  # lemmas of its content words
    years: frozenset[str]  # years it asks about
    parse: Parse
    named: frozenset[str] = frozenset()  # doc ids of the articles whose source it names
    k: int = 5  # passages to return
    resolution: Resolution | None = None  # the question made standalone with the conversation's history
    context: tuple[int, ...] = field(default=())  # sentences around the previous turn's quotes: extra candidates
    said: tuple[int, ...] = field(default=())  # the sentences the previous turn quoted
    only: frozenset[str] = frozenset()  # doc ids the answer must come from ("ask this article"); empty: all

    @property
    def question(self) -> str:  # the names the server and eval have used for these two
        return self.text

    @property
    def query(self) -> str:
        return self.repaired

    @property
    def resolved(self) -> str:
        return self.resolution.question if self.resolution else self.text


def analyse(text: str, repaired: str, parser: Parser, idf: Mapping[str, float], default_idf: float,
            named: frozenset[str] = frozenset(), k: int = 5, resolution: Resolution | None = None,
            context: tuple[int, ...] = (), said: tuple[int, ...] = ()) -> Query:
    """The Query for a checked question and its repaired (and resolved) text: pure, but for the
    parser's model."""
    parse = parser.parse(repaired)
    kind = answer_type(parse) if parse.tokens else ANY
    stems = tuple(terms(repaired))
    qterms = {t: idf.get(t, default_idf) for t in stems}
    lemmas = frozenset(lemma for t in parse.tokens if (lemma := content_lemma_text(t.text, t.lemma)))
    return Query(text, repaired, stems, qterms, kind, parse.names(), lemmas, frozenset(YEAR.findall(repaired)), parse,
                 named, k, resolution, context, said)
