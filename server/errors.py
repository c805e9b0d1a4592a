"""One handler per kind of failure, one JSON error shape: `{"error": "what is wrong", "detail": [...]}`.

Pages get the same message as an HTML page. Bad input is a 4xx with a message that says what to fix;
a problem with the index or model is a 503 with the core's message; nothing leaks a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.errors import VerbatimError
from server.answerer import InvalidQuestion
from server.catalogue import BadListQuery
from server.feedback import InvalidFeedback
from server.schemas import AskRequest, ErrorOut, FeedbackRequest

log = logging.getLogger("verbatim.http")

API_PREFIXES = ("/ask", "/api/", "/openapi.json", "/docs", "/static/")
PAGE_PREFIXES = ("/articles",)
TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Too large",
          422: "Not a valid question", 500: "Something went wrong", 503: "Not ready"}


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(API_PREFIXES):
        return False
    return path == "/" or path.startswith(PAGE_PREFIXES) or "text/html" in request.headers.get("accept", "")


def error_response(request: Request, status: int, message: str,
                   detail: list[dict[str, object]] | None = None) -> Response:
    if wants_html(request):
        templates = request.app.state.templates
        return templates.TemplateResponse(request, "error.html", {
            "status": status, "heading": TITLES.get(status, "Error"), "message": message}, status_code=status)
    body = ErrorOut(error=message, detail=detail).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status)


# What each JSON body looks like, for the messages about a body that is missing or not an object.
BODIES: dict[str, tuple[tuple[str, ...], str]] = {
    "/ask": (tuple(AskRequest.model_fields), '{"question": "...", "top_k": 5}'),
    "/api/feedback": (tuple(FeedbackRequest.model_fields),
                      '{"verdict": "helpful", "question": "...", "quotes": [{"doc_id": "...", "start": 0, "end": 1}]}'),
}


def describe(errors: Sequence[Any], path: str = "/ask") -> tuple[str, list[dict[str, object]]]:
    """A sentence per validation error (`top_k: Input should be ...`) and the errors without their inputs
    (which may be huge) or exception objects (which are not JSON). `path` says which body was sent."""
    fields, example = BODIES.get(path, BODIES["/ask"])
    parts: list[str] = []
    detail: list[dict[str, object]] = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        field = ".".join(loc[1:] if loc and loc[0] in ("body", "query", "path") else loc)
        kind = str(err.get("type", ""))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if kind == "json_invalid":
            reason = err.get("ctx", {}).get("error", "malformed")
            where = f" at character {loc[1]}" if len(loc) > 1 else ""
            text = f"The body is not valid JSON ({reason}{where}): send JSON like {example}"
        elif not field and kind == "missing":
            text = f"The body is missing: send JSON like {example}"
        elif not field:
            text = f"The body must be a JSON object like {example}, sent with Content-Type: application/json"
        elif kind == "extra_forbidden":
            text = f"{field}: unknown field (the fields are {', '.join(fields)})"
        elif msg.startswith(field):  # the validator's own sentence, e.g. "question is empty: ..."
            text = msg[:1].upper() + msg[1:]
        else:
            text = f"{field}: {msg}"
        parts.append(text)
        detail.append({"loc": loc, "msg": msg, "type": kind})
    return "; ".join(parts) or "The request is not valid", detail


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    message, detail = describe(exc.errors(), request.url.path)
    return error_response(request, 422, message, detail)


async def invalid_request(request: Request, exc: Exception) -> Response:
    return error_response(request, 422, str(exc))


async def verbatim_error(request: Request, exc: Exception) -> Response:
    log.error("%s %s: %s", request.method, request.url.path, exc)
    return error_response(request, 503, str(exc))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        message = "The body is not valid UTF-8: send the JSON encoded as UTF-8"
    elif exc.status_code == 404 and exc.detail == "Not Found":
        message = f"Nothing here: {request.url.path} is not a page of Verbatim"
    elif exc.status_code == 405:
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        allowed = headers.get("allow", "another method")
        message = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
    else:
        message = str(exc.detail)
    response = error_response(request, exc.status_code, message)
    response.headers.update(exc.headers or {})
    return response


async def unexpected(request: Request, exc: Exception) -> Response:
    # Only for a crash outside server.middleware.ServerErrors (which handles the routes'). Starlette
    # re-raises the exception after this response, uvicorn logs it and closes the connection: say so.
    response = error_response(request, 500, "Something went wrong on the server; the log says what.")
    response.headers["connection"] = "close"
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(InvalidQuestion, invalid_request)
    app.add_exception_handler(InvalidFeedback, invalid_request)
    app.add_exception_handler(BadListQuery, invalid_request)
    app.add_exception_handler(VerbatimError, verbatim_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
