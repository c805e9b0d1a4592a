"""The HTTP contract: one pydantic model per JSON shape. The page's JavaScript reads exactly these."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

from server.query import MAX_QUESTION, question_problem


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: StrictStr = Field(
        description=f"1 to {MAX_QUESTION} characters after trimming, not only invisible ones, valid Unicode",
        examples=["What did Lavrov say about the agreement?"])
    top_k: StrictInt = Field(default=5, ge=1, le=20, description="passages to return, 1 to 20")

    @field_validator("question")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        value = value.strip()
        problem = question_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class CitationOut(BaseModel):
    doc_id: str
    title: str
    start: int
    end: int
    text: str = Field(description="exactly article_text[start:end] of the cited article")


class QuoteOut(BaseModel):
    text: str = Field(description="exactly article_text[start:end]")
    doc_id: str
    title: str
    start: int
    end: int
    score: float
    also_in: list[CitationOut] = Field(default_factory=list, description="other articles stating the same")
    differs_in: list[CitationOut] = Field(
        default_factory=list, description="other articles reporting the same thing with different figures or dates")


class PassageOut(BaseModel):
    doc_id: str
    title: str
    chunk_id: str
    text: str
    start: int
    end: int
    score: float = Field(description="fused retrieval score; passages holding a quote come first and carry at "
                         "least the best score, so scores never rise down the list")


class AskResponse(BaseModel):
    question: str
    answer: str | None = Field(description="verbatim sentences from the articles, or null when abstaining")
    abstained: bool
    confidence: float = Field(ge=0.0, le=1.0)
    quotes: list[QuoteOut]
    passages: list[PassageOut]
    timings_ms: dict[str, float]


class ArticleSummary(BaseModel):
    doc_id: str
    title: str
    source: str | None
    author: str | None
    published: str | None
    chars: int


class ArticleFull(ArticleSummary):
    text: str = Field(description="the article's original text; every offset points into it")


class Health(BaseModel):
    status: str
    articles: int
    passages: int
    model: str
    built_at: str


class ErrorOut(BaseModel):
    error: str = Field(description="what went wrong and what to do")
    detail: list[dict[str, object]] | None = None
