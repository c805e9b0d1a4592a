"""The JSON routes: /ask, /api/feedback, /api/articles, /api/articles/{doc_id}, /api/health.

Responses are built from the answerer's dataclasses through the pydantic models of schemas.py, so each
shape has one definition. Doc ids are looked up in the loaded articles only, never used as paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from index.records import Article
from index.texts import length
from server.answerer import Answerer
from server.catalogue import CatalogueCache, Listing, bound
from server.feedback import FeedbackLog, feedback_record, index_stamp, now, shown_quotes
from server.records import Exchange
from server.schemas import (
    ArticleFull,
    ArticleList,
    ArticleSummary,
    AskRequest,
    AskResponse,
    ErrorOut,
    FeedbackRequest,
    FeedbackStored,
    Health,
    HistoryTurn,
)
from server.worker import Worker

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not valid UTF-8, or the request was sent to a host name "
          "this server does not answer for (see VERBATIM_TRUSTED_HOSTS)"},
    408: {"model": ErrorOut, "description": "The request body took longer than VERBATIM_READ_TIMEOUT to arrive"},
    404: {"model": ErrorOut, "description": "No article has this id"},
    413: {"model": ErrorOut, "description": "The request body is larger than 64 KB"},
    422: {"model": ErrorOut, "description": "The request is not valid; `error` says what is wrong"},
    503: {"model": ErrorOut, "description": "The index or the model cannot be used; `error` says what to do"},
}


async def get_answerer(request: Request) -> Answerer:
    answerer: Answerer = request.app.state.answerer
    return answerer


async def get_asker(request: Request) -> Worker:
    asker: Worker = request.app.state.asker
    return asker


async def get_feedback_log(request: Request) -> FeedbackLog:
    log: FeedbackLog = request.app.state.feedback
    return log


async def get_catalogues(request: Request) -> CatalogueCache:
    catalogues: CatalogueCache = request.app.state.catalogues
    return catalogues


# The dependencies are coroutines: FastAPI runs a plain function's in the thread pool, a hop (and a wake-up of
# the event loop) per dependency per request for a dictionary lookup.
AnswererDep = Annotated[Answerer, Depends(get_answerer)]
CataloguesDep = Annotated[CatalogueCache, Depends(get_catalogues)]
AskerDep = Annotated[Worker, Depends(get_asker)]
FeedbackDep = Annotated[FeedbackLog, Depends(get_feedback_log)]


def summary(article: Article) -> ArticleSummary:
    meta = article.meta
    return ArticleSummary(doc_id=article.doc_id, title=article.title, source=meta.source, author=meta.author,
                          published=meta.published, chars=length(article))


def full(article: Article) -> ArticleFull:
    return ArticleFull(**summary(article).model_dump(), text=article.text)


def find_article(answerer: Answerer, doc_id: str) -> Article:
    """The loaded article with this id; 404 otherwise (the id is a dictionary key, never a path)."""
    article = answerer.index.articles.get(doc_id)
    if article is None:
        raise HTTPException(status_code=404, detail=f"No article has the id {doc_id!r}; see /api/articles.")
    return article


router = APIRouter()


@router.post("/ask", response_model=AskResponse, responses={k: ERRORS[k] for k in (400, 408, 413, 422, 503)},
             summary="Answer a question with verbatim, cited sentences")
def ask(body: AskRequest, asker: AskerDep, answerer: AnswererDep) -> Response:
    """Quotes copied verbatim from the articles (each `text == article_text[start:end]`), the retrieved
    passages, and `abstained: true` with no quotes when the articles do not answer the question.
    With `history` (the earlier turns and the quotes they got), a follow-up such as "why not?" is
    answered as the standalone question given in `resolved_question`. With `doc_ids`, only those
    articles answer ("ask this article")."""
    answer = asker(body.question, body.top_k, exchanges(body.history), answerer, body.doc_ids)
    # The JSON is written here, in the request's thread, from the model the worker made: FastAPI would
    # validate that model again (in another hop to the thread pool) before writing the same bytes.
    return Response(answer.model_dump_json(), media_type="application/json")


def exchanges(history: Sequence[HistoryTurn]) -> tuple[Exchange, ...]:
    return tuple(Exchange(t.question, tuple((q.doc_id, q.start, q.end) for q in t.quotes)) for t in history)


@router.post("/api/feedback", status_code=201, response_model=FeedbackStored,
             responses={k: ERRORS[k] for k in (400, 408, 413, 422, 503)}, summary="Say whether an answer was right")
def feedback(body: FeedbackRequest, answerer: AnswererDep, log: FeedbackDep) -> FeedbackStored:
    """A reader's verdict on an answer ("helpful" or "wrong_quote", with an optional comment) and the quotes
    it showed, appended as one JSON line to VERBATIM_FEEDBACK_PATH with the time and the index that
    answered; `python -m eval feedback` turns the file into draft gold items for review. Quotes the
    index does not hold are a 422; a file that cannot be written is a 503."""
    shown = shown_quotes([(q.doc_id, q.start, q.end) for q in body.quotes], answerer.index.articles)
    record = feedback_record(body.verdict, body.question, body.resolved_question or body.question, shown,
                             body.comment, index_stamp(answerer.index.manifest), now())
    log.append(record)
    return FeedbackStored(verdict=body.verdict, at=record["at"])


DEFAULT_LIMIT = 20
MAX_LIMIT = 200
MAX_WORDS = 200

# The list's query parameters, shared by GET /api/articles and the /articles page.
Words = Annotated[str, Query(max_length=MAX_WORDS, description="words that must all be in an article's title or "
                             "text (stemmed as the search index stems them; case does not matter)")]
From = Annotated[str | None, Query(alias="from", description="first day, YYYY-MM-DD (or YYYY-MM, YYYY); articles "
                                   "without a date are left out")]
To = Annotated[str | None, Query(description="last day, YYYY-MM-DD (or YYYY-MM, YYYY: to its last day)")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"articles per page, 1 to {MAX_LIMIT}")]
Offset = Annotated[int, Query(ge=0, le=10**9, description="articles to skip (the list's order is stable)")]
Sources = Annotated[list[str] | None, Query(description="only these sources (repeat it for several)")]


def listing(catalogues: CatalogueCache, answerer: Answerer, q: str, sources: Sequence[str], start: str | None,
            stop: str | None, limit: int, offset: int) -> Listing:
    """One page of the list; BadListQuery (a 422) for a date that is not one."""
    return catalogues.get(answerer.index).search(q, [s for s in sources if s], bound(start, "from", end=False),
                                                 bound(stop, "to", end=True), offset, limit)


@router.get("/api/articles", response_model=ArticleList, responses={k: ERRORS[k] for k in (422, 503)},
            summary="List, search and filter the articles")
def articles(answerer: AnswererDep, catalogues: CataloguesDep, q: Words = "",
             source: Sources = None,
             from_: From = None, to: To = None, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> ArticleList:
    """One page of the articles, newest first then by title (undated ones last), with the number that
    match: `q` (every word in the title or text), `source`, and a date range `from`/`to`."""
    found = listing(catalogues, answerer, q, source or [], from_, to, limit, offset)
    return ArticleList(total=found.total, offset=found.offset, limit=found.limit,
                       articles=[summary(a) for a in found.articles])


@router.get("/api/articles/{doc_id}", response_model=ArticleFull,
            responses={k: ERRORS[k] for k in (404, 422, 503)}, summary="One article with its original text")
def article(doc_id: str, answerer: AnswererDep) -> ArticleFull:
    """`text` is the text every offset of /ask points into."""
    return full(find_article(answerer, doc_id))


@router.get("/api/health", response_model=Health, summary="Service status and the index in use")
def health(answerer: AnswererDep) -> Health:
    manifest = answerer.index.manifest
    return Health(status="ok", articles=manifest.articles, passages=manifest.passages, model=manifest.model,
                  built_at=manifest.built_at)
