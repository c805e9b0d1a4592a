"""The HTML routes: the chat page (answers rendered on the server for `/?q=...`, so every answer is a link
and the page works without JavaScript) and an article page with a quote highlighted."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from server.answerer import InvalidQuestion
from server.api import (
    DEFAULT_LIMIT,
    AnswererDep,
    AskerDep,
    CataloguesDep,
    From,
    Limit,
    Offset,
    To,
    Words,
    find_article,
    listing,
    summary,
)
from server.catalogue import BadListQuery, Listing, bound
from server.errors import describe
from server.schemas import AskRequest, AskResponse

NEWEST = 10  # articles the chat page lists before linking to the whole list
EXAMPLES = (
    "What did Lavrov say about the agreement?",
    "Why did bilateral trade fall?",
    "Has Iran received the Su-35 jets?",
    "INSTC?",
)


async def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def article_url(doc_id: str, start: int, end: int) -> str:
    """Where a citation leads: the article with text[start:end] highlighted and scrolled into view."""
    return f"/articles/{quote(doc_id, safe='')}?start={start}&end={end}#quote"


BLANK_RUN = re.compile(r"\n[^\S\n]*\n(?:[^\S\n]*\n)+")  # three or more line breaks with only spaces between


def pieces(text: str, at_start: bool = False) -> list[tuple[str, bool]]:
    """`text` cut into (piece, extra) pairs that join back to exactly `text`. `extra` marks blank lines beyond
    the first of a run (and a run that opens the article), which the page hides: a paragraph break shows
    as one blank line while the page's text stays the article's text, character for character."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for run in BLANK_RUN.finditer(text):
        if at_start and run.start() == 0:
            keep = 0
        else:
            keep = text.index("\n", run.start() + 1) + 1 - run.start()  # up to the second line break
        out += [(text[pos:run.start()], False), (text[run.start():run.start() + keep], False),
                (text[run.start() + keep:run.end()], True)]
        pos = run.end()
    out.append((text[pos:], False))
    return [(piece, extra) for piece, extra in out if piece]


def span(start: str | None, end: str | None, length: int) -> tuple[int, int] | None:
    """The highlight `text[start:end]` when both are integers with 0 <= start < end <= length."""
    try:
        s, e = int(start or ""), int(end or "")
    except ValueError:
        return None
    return (s, e) if 0 <= s < e <= length else None


@router.get("/")
def chat(request: Request, answerer: AnswererDep, asker: AskerDep, catalogues: CataloguesDep,
         templates: TemplatesDep, q: str | None = None, doc: str | None = None) -> Response:
    """The conversation; with `?q=` the answer to q, rendered here; with `&doc=ID` from that article only
    ("ask this article")."""
    question = (q or "").strip()
    response: AskResponse | None = None
    error: str | None = None
    only = answerer.index.articles.get(doc) if doc else None
    if doc and only is None:
        error = f"No article has the id {doc!r}; pick one from the list of articles."
    elif question:
        try:
            response = asker(AskRequest(question=question).question, answerer=answerer,
                             doc_ids=[doc] if doc else [])
        except ValidationError as exc:
            error = describe(exc.errors())[0]
        except InvalidQuestion as exc:
            error = str(exc)
    # the newest few from the catalogue: the page stays the same size for five articles or 100,000
    newest = catalogues.get(answerer.index).search(limit=NEWEST)
    return templates.TemplateResponse(request, "chat.html", {
        "question": question,
        "response": response,
        "error": error,
        "examples": EXAMPLES,
        "total": newest.total,
        "newest": [summary(a) for a in newest.articles],
        "only": summary(only) if only else None,
        # The exchange as the page's script stores it, so a conversation continued with JS keeps it.
        "initial": {"question": question, "error": error, "doc": only.doc_id if only else None,
                    "response": response.model_dump() if response else None},
    }, status_code=422 if error else 200)


@router.get("/articles/{doc_id}")
def article(request: Request, doc_id: str, answerer: AnswererDep, templates: TemplatesDep,
            start: str | None = None, end: str | None = None) -> Response:
    """The article's full text; `?start=S&end=E` highlights text[S:E] in <mark id="quote">. A range that
    does not fit the text shows the article without a highlight."""
    found = find_article(answerer, doc_id)
    text = found.text
    highlight = span(start, end, len(text))
    if highlight:
        s, e = highlight
        segments = [(pieces(text[:s], at_start=True), False), (pieces(text[s:e]), True), (pieces(text[e:]), False)]
    else:
        segments = [(pieces(text, at_start=True), False)]
    return templates.TemplateResponse(request, "article.html", {
        "article": summary(found),
        "segments": segments,
        "highlighted": highlight is not None,
        "bad_range": highlight is None and (start is not None or end is not None),
    })


def day(value: str | None, end: bool) -> str:
    """A from/to value as the day a date input shows (YYYY-MM-DD), or as typed when it is not a date."""
    try:
        found = bound(value, "", end)
    except BadListQuery:
        return value or ""
    return dt.date.fromordinal(found).isoformat() if found is not None else ""


@router.get("/articles")
def article_list(request: Request, answerer: AnswererDep, catalogues: CataloguesDep, templates: TemplatesDep,
                 q: Words = "", source: str = "", from_: From = None, to: To = None, limit: Limit = DEFAULT_LIMIT,
                 offset: Offset = 0) -> Response:
    """The articles, newest first, searched and filtered by source and date, one page at a time: a GET
    form, so it works without JavaScript and every list is a link."""
    found: Listing | None = None
    error: str | None = None
    try:
        found = listing(catalogues, answerer, q, [source], from_, to, limit, offset)
    except BadListQuery as exc:
        error = str(exc)
    kept = [(k, v) for k, v in (("q", q.strip()), ("source", source), ("from", from_ or ""), ("to", to or "")) if v]
    kept += [("limit", str(limit))] if limit != DEFAULT_LIMIT else []

    def at(start: int) -> str:
        return "/articles?" + urlencode(kept + ([("offset", str(start))] if start else [])) if kept or start \
            else "/articles"

    total = found.total if found else 0
    return templates.TemplateResponse(request, "articles.html", {
        "listing": found,
        "error": error,
        "form": {"q": q, "source": source, "from": day(from_, end=False), "to": day(to, end=True)},
        "filtered": any(k != "limit" for k, _ in kept),
        "sources": catalogues.get(answerer.index).sources,
        "page": offset // limit + 1,
        "pages": max(1, -(-total // limit)),
        "previous": at(max(0, offset - limit)) if found and offset > 0 else None,
        "next": at(offset + limit) if found and offset + limit < total else None,
    }, status_code=422 if error else 200)
