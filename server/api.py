"""The JSON routes: /ask, /api/articles, /api/articles/{doc_id}, /api/health.

Responses are built from the answerer's dataclasses through the pydantic models of schemas.py, so each
shape has one definition. Doc ids are looked up in the loaded articles only, never used as paths.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from index.records import Article
from server.answerer import Answerer, Prepared
from server.records import Exchange
from server.schemas import ArticleFull, ArticleSummary, AskRequest, AskResponse, ErrorOut, Health, HistoryTurn

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No article has this id"},
    413: {"model": ErrorOut, "description": "The request body is larger than 64 KB"},
    422: {"model": ErrorOut, "description": "The request is not valid; `error` says what is wrong"},
    503: {"model": ErrorOut, "description": "The index or the model cannot be used; `error` says what to do"},
}


@dataclass
class Job:
    """One question waiting for the model, and what became of it."""

    prepared: Prepared
    answer: AskResponse | None = None
    error: BaseException | None = None
    done: bool = False


class Asker:
    """The answerer shared by the request threads. The model runs one forward pass at a time (its
    tokenizer must not be shared between threads, and two cores gain nothing from concurrent
    encodes), but questions that arrive while it is busy are encoded together in one batch, which
    costs little more than one question, and then answered in turn. Whichever thread holds the model
    serves every waiting question; the others find theirs done."""

    def __init__(self, answerer: Answerer, max_batch: int = 16) -> None:
        self.answerer = answerer
        self.max_batch = max_batch
        self._model = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[Job] = []

    def __call__(self, question: str, top_k: int | None = None, history: Sequence[Exchange] = ()) -> AskResponse:
        # bad input (history included) fails here, before any waiting; the history travels in the Prepared
        job = Job(self.answerer.prepare(question, top_k, history=history))
        with self._queue_lock:
            self._queue.append(job)
        with self._model:
            while not job.done:
                self._serve()
        if job.error is not None:
            raise job.error
        assert job.answer is not None
        return job.answer

    def _serve(self) -> None:
        """Encode the waiting questions in one batch, then answer each (the model lock is held)."""
        with self._queue_lock:
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
        if not batch:
            return
        started = time.perf_counter()
        try:
            vectors = list(self.answerer.embedder.embed_queries([j.prepared.query for j in batch]))
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error, batch[0].done = exc, True
                return
            # One question the encoder refuses must not fail its batch-mates: encode each alone, so
            # only the bad one gets the error (and a broken model still fails every question).
            vectors = []
            for j in batch:
                try:
                    vectors.append(self.answerer.embedder.embed_queries([j.prepared.query])[0])
                except Exception as alone:
                    j.error, j.done = alone, True
                    vectors.append(None)
        encode_ms = (time.perf_counter() - started) * 1000
        for j, vector in zip(batch, vectors, strict=True):
            if vector is None:
                continue
            try:
                p = j.prepared
                answer = self.answerer.evaluate(p.question, p.k, query_vector=vector, encode_ms=encode_ms,
                                                prepared=p).answer
                j.answer = AskResponse.model_validate(answer, from_attributes=True)
            except Exception as exc:  # reaches the route's error handlers through the asking thread
                j.error = exc
            j.done = True


def get_answerer(request: Request) -> Answerer:
    answerer: Answerer = request.app.state.answerer
    return answerer


def get_asker(request: Request) -> Asker:
    asker: Asker = request.app.state.asker
    return asker


AnswererDep = Annotated[Answerer, Depends(get_answerer)]
AskerDep = Annotated[Asker, Depends(get_asker)]


def summary(article: Article) -> ArticleSummary:
    meta = article.meta
    return ArticleSummary(doc_id=article.doc_id, title=article.title, source=meta.source, author=meta.author,
                          published=meta.published, chars=len(article.text))


def full(article: Article) -> ArticleFull:
    return ArticleFull(**summary(article).model_dump(), text=article.text)


def find_article(answerer: Answerer, doc_id: str) -> Article:
    """The loaded article with this id; 404 otherwise (the id is a dictionary key, never a path)."""
    article = answerer.index.articles.get(doc_id)
    if article is None:
        raise HTTPException(status_code=404, detail=f"No article has the id {doc_id!r}; see /api/articles.")
    return article


router = APIRouter()


@router.post("/ask", response_model=AskResponse, responses={k: ERRORS[k] for k in (413, 422, 503)},
             summary="Answer a question with verbatim, cited sentences")
def ask(body: AskRequest, asker: AskerDep) -> AskResponse:
    """Quotes copied verbatim from the articles (each `text == article_text[start:end]`), the retrieved
    passages, and `abstained: true` with no quotes when the articles do not answer the question.
    With `history` (the earlier turns and the quotes they got), a follow-up such as "why not?" is
    answered as the standalone question given in `resolved_question`."""
    return asker(body.question, body.top_k, exchanges(body.history))


def exchanges(history: Sequence[HistoryTurn]) -> tuple[Exchange, ...]:
    return tuple(Exchange(t.question, tuple((q.doc_id, q.start, q.end) for q in t.quotes)) for t in history)


@router.get("/api/articles", response_model=list[ArticleSummary], responses={503: ERRORS[503]},
            summary="List the indexed articles")
def articles(answerer: AnswererDep) -> list[ArticleSummary]:
    return [summary(a) for a in sorted(answerer.index.articles.values(), key=lambda a: a.doc_id)]


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
