"""The HTTP contract: one pydantic model per JSON shape. The page's JavaScript reads exactly these."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr, field_validator

from server.query import MAX_QUESTION, question_problem

MAX_TURNS = 10


def _whole_number(value: object) -> object:
    """JSON Schema's integer: 13 and 13.0 are the same integer; 13.5, "13" and true are not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be an integer, not {type(value).__name__ if value is not None else 'null'}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"must be a whole number, not {value}")
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


class HistoryQuote(BaseModel):
    """A quote an earlier answer gave, as /ask returned it (its text is not needed: the server has it)."""

    model_config = ConfigDict(extra="ignore")  # a client may send back the whole quote it received

    doc_id: StrictStr
    start: WholeNumber = Field(ge=0)
    end: WholeNumber = Field(ge=1)


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: StrictStr = Field(description="the earlier question as it was asked")
    quotes: list[HistoryQuote] = Field(default_factory=list, description="the quotes its answer gave")

    @field_validator("question")
    @classmethod
    def _asked(cls, value: str) -> str:
        value = value.strip()
        problem = question_problem(value)  # it is embedded with the follow-up, so it must be as askable
        if problem:
            raise ValueError(problem)
        return value


MAX_DOC_IDS = 100


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: StrictStr = Field(
        description=f"1 to {MAX_QUESTION} characters after trimming, not only invisible ones, valid Unicode",
        examples=["What did Lavrov say about the agreement?"], json_schema_extra={"minLength": 1})
    top_k: WholeNumber = Field(default=5, ge=1, le=20, description="passages to return, 1 to 20")
    history: list[HistoryTurn] = Field(
        default_factory=list, description=f"the conversation's earlier turns, oldest first, at most {MAX_TURNS}, "
        "each with the quotes /ask returned for it; a follow-up ('why not?') is resolved against them")

    doc_ids: list[StrictStr] = Field(
        default_factory=list, max_length=MAX_DOC_IDS, description="answer only from these articles (ids as in "
        "/api/articles; 'ask this article'); empty: all. An unknown id is a 422")

    @field_validator("history")
    @classmethod
    def _turns(cls, value: list[HistoryTurn]) -> list[HistoryTurn]:
        if len(value) > MAX_TURNS:
            raise ValueError(f"history has {len(value)} turns; send at most the last {MAX_TURNS}")
        return value

    @field_validator("question")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        value = value.strip()
        problem = question_problem(value)
        if problem:
            raise ValueError(problem)
        return value


MAX_COMMENT = 500
MAX_FEEDBACK_QUOTES = 10


class FeedbackRequest(BaseModel):
    """A reader's verdict on one answer, with what the answer showed."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["helpful", "wrong_quote"] = Field(
        description="helpful: the quotes answer the question; wrong_quote: they do not")
    question: StrictStr = Field(description="the question as it was asked", json_schema_extra={"minLength": 1})
    resolved_question: StrictStr | None = Field(
        default=None, description="the question /ask answered (`resolved_question`); default: `question`")
    quotes: list[HistoryQuote] = Field(
        min_length=1, max_length=MAX_FEEDBACK_QUOTES,
        description=f"the quotes the answer showed, as /ask returned them (1 to {MAX_FEEDBACK_QUOTES})")
    comment: StrictStr | None = Field(
        default=None, description=f"what was wrong, in the reader's words (at most {MAX_COMMENT} characters)",
        json_schema_extra={"maxLength": MAX_COMMENT})

    @field_validator("question", "resolved_question")
    @classmethod
    def _asked(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        problem = question_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("comment")
    @classmethod
    def _comment(cls, value: str | None) -> str | None:
        value = value or ""
        if len(value) > MAX_COMMENT:  # before trimming, as the schema's maxLength says
            raise ValueError(f"comment is {len(value)} characters long; keep it to {MAX_COMMENT}")
        value = value.strip()
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"comment holds a character that is not valid Unicode text (U+{ord(value[exc.start]):04X} "
                             f"at position {exc.start}): send it as UTF-8 text") from None
        return value or None


class FeedbackStored(BaseModel):
    verdict: str
    at: str = Field(description="when it was stored (UTC, ISO 8601)")


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
    answer_start: int = Field(description="the phrase that answers (a date, sum, number or name), as offsets into "
                              "the article's text inside [start, end); the answering sentence when no phrase is wanted")
    answer_end: int
    before: CitationOut | None = Field(default=None, description="the article's sentence before the quote, if any")
    after: CitationOut | None = Field(default=None, description="the article's sentence after the quote, if any")
    source: str | None = Field(default=None, description="the article's publisher, where its metadata names it")
    published: str | None = Field(default=None, description="the article's publication date as its metadata gives it")


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
    resolved_question: str = Field(description="the question actually answered: a follow-up made standalone "
                                   "with the history; equal to `question` when no history was used")
    history_used: bool = Field(description="true when the question leaned on the history and was resolved with it")
    unresolved: str | None = Field(default=None, description="the words pointing back to an earlier turn that "
                                   "was not given ('that' in 'when was that?'); the answer then abstains: ask "
                                   "the question in full or send the history")
    follows: str | None = Field(default=None, description="the earlier question this one was read as following, "
                                "when `resolved_question` carries its words in brackets rather than in a sentence "
                                "('how far can they (...) fly?'): what a page shows instead of the brackets")


class ArticleSummary(BaseModel):
    doc_id: str
    title: str
    source: str | None
    author: str | None
    published: str | None
    chars: int


class ArticleList(BaseModel):
    total: int = Field(description="articles that match the query, on every page")
    offset: int
    limit: int
    articles: list[ArticleSummary] = Field(description="this page's, newest first, then by title")


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
