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
    doc_id: str
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Quote:
    """A verbatim span: text == article_text[start:end]; also_in cites articles stating the same fact."""

    text: str
    doc_id: str
    title: str
    start: int
    end: int
    score: float
    also_in: tuple[Citation, ...] = ()
    focus: tuple[int, int] = (0, 0)  # the best-scoring sentence's span: the answer proper, without context


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
class Answer:
    question: str
    answer: str | None
    abstained: bool
    confidence: float
    quotes: list[Quote]
    passages: list[RetrievedPassage]
    timings_ms: dict[str, float] = field(default_factory=dict)
