"""Pure ASGI middleware: a request log line, security headers, trusted hosts, HEAD, a guard that turns
any crash into a clean 500, and a limit on the body's size and the time it takes to arrive."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlsplit, urlunsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("verbatim.http")

MAX_BODY = 64 * 1024

# Everything from our own origin, no inline script, nothing framed, forms post only to us.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]


def printable(text: str) -> str:
    """`text` with every unprintable character escaped (CR, LF, NUL ...): a path such as `/%0d%0aFAKE`
    cannot forge a line of the log."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestLog:
    """One line per request: `METHOD path status milliseconds`, the path escaped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            ms = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.1fms", printable(scope["method"]), printable(scope["path"]), status, ms)


class SecurityHeaders:
    """A strict Content-Security-Policy and the usual hardening headers on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = CSP  # a route may set its own (server/docs.py does); this one is the default

        host = header(scope, b"host")

        async def send_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra = [(b"content-security-policy", csp.encode())] + HEADERS
                message["headers"] = [(k, relative(v, host) if k.lower() == b"location" else v)
                                      for k, v in headers] + [h for h in extra if h[0] not in names]
            await send(message)

        await self.app(scope, receive, send_headers)


def relative(location: bytes, host: str | None) -> bytes:
    """A redirect to this server's own host as a path: the Host header is never echoed into a Location."""
    parts = urlsplit(location.decode("latin-1"))
    if not parts.netloc or host is None or parts.netloc.lower() != host.lower():
        return location
    return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment)).encode("latin-1")


def host_name(value: str) -> str:
    """The name part of a Host header, lower case: `[::1]:8000` -> `::1`, `Localhost.:80` -> `localhost`."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0].rstrip(".") if value.count(":") == 1 else value.rstrip(".")


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def trusted(bind_host: str, extra: str) -> frozenset[str] | None:
    """The Host names to answer: loopback names, the bind address (unless it is a wildcard) and the
    comma-separated `extra`; None when `extra` holds `*` (any host)."""
    names = {host_name(n) for n in extra.split(",") if n.strip()}
    if "*" in names:
        return None
    bind = host_name(f"[{bind_host}]" if ":" in bind_host else bind_host)
    return frozenset(LOOPBACK | names | ({bind} - WILDCARDS))


class TrustedHosts:
    """400 for a Host header this server was not told it has. A web page on another site that rebinds
    its DNS name to 127.0.0.1 sends its own name as the Host, so it cannot read the articles."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = header(scope, b"host")
        if scope["type"] != "http" or self.allowed is None or host is None or host_name(host) in self.allowed:
            await self.app(scope, receive, send)
            return
        from server.errors import error_response

        message = ("This server does not answer for the host name this request was sent to; if it is yours, "
                   "add it to VERBATIM_TRUSTED_HOSTS")
        await error_response(Request(scope), 400, message)(scope, receive, send)


class HeadAsGet:
    """HEAD on any GET route: the GET response's status and headers, without its body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class ServerErrors:
    """Any exception a route raises becomes a 500 in the one error shape, logged with its traceback,
    that passes through the security headers and says `Connection: close`: a crash never leaves a
    half-used connection for the client's next request to fall into."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("%s %s failed", printable(scope["method"]), printable(scope["path"]))
            if started:  # too late for a response: uvicorn closes the connection
                raise
            from server.errors import error_response

            response = error_response(Request(scope), 500, "Something went wrong on the server; the log says what.")
            response.headers["connection"] = "close"
            await response(scope, receive, send)


class BodyLimit:
    """Refuse bodies over `limit` bytes with 413, whether announced by Content-Length or streamed, and
    bodies that take longer than `timeout` seconds to arrive with 408.

    The body (at most `limit` bytes) is read here and replayed to the app, so an oversized or slow one is
    refused before anything parses it, and no request holds the server for longer than the timeout."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY, timeout: float = 30.0) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await self.refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":  # the client went away
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.limit:
                        await self.refuse(send)
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            await self.refuse(send, 408, f"The request body took longer than {self.timeout:g} s to arrive; "
                                         "send it at once")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def refuse(self, send: Send, status: int = 413, message: str | None = None) -> None:
        message = message or f"The request body is larger than {self.limit // 1024} KB; send a shorter question"
        body = json.dumps({"error": message}).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
