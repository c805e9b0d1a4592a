"""Typed results of the answerer; the HTTP layer turns them into the pydantic shapes of schemas.py."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Hit:
    """A retrieved passage (index into IndexData.passages) with its fused and per-retriever scores."""

    passage: int
    score: float
    dense: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True)
class Citation:
    """A sentence of another article: text == article_text[start:end]."""

    doc_id: str
    title: str
    start: int
    end: int
    text: str = ""


@dataclass(frozen=True)
class Quote:
    """A verbatim span: text == article_text[start:end]; also_in cites articles stating the same fact,
    differs_in articles reporting the same thing with other figures or dates."""

    text: str
    doc_id: str
    title: str
    start: int
    end: int
    score: float
    also_in: tuple[Citation, ...] = ()
    focus: tuple[int, int] = (0, 0)  # the best-scoring sentence's span: the answer proper, without context
    differs_in: tuple[Citation, ...] = ()
    answer_start: int = 0  # the answering phrase (a date, sum, name) in the focus sentence, else the focus
    answer_end: int = 0
    before: Citation | None = None  # the article's sentences around the quote, for "show context"
    after: Citation | None = None
    source: str | None = None  # the article's publisher and date, where known: what a citation shows
    published: str | None = None


@dataclass(frozen=True)
class RetrievedPassage:
    doc_id: str
    title: str
    chunk_id: str
    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Exchange:
    """An earlier turn of the conversation as the client sends it back: the question it asked and the
    quotes it got, as (doc_id, start, end) spans into the articles' texts."""

    question: str
    quotes: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str | None
    abstained: bool
    confidence: float
    quotes: list[Quote]
    passages: list[RetrievedPassage]
    timings_ms: dict[str, float] = field(default_factory=dict)
    resolved_question: str = ""  # what was answered: the question made standalone with the history
    history_used: bool = False
    unresolved: str | None = None  # the words pointing back to a turn that was not given
    follows: str | None = None  # the earlier question whose words resolved_question carries in brackets
