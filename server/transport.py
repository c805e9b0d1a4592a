"""The HTTP transport: uvicorn's h11 protocol with a deadline for a request's headers.

uvicorn bounds the idle time between requests (`timeout_keep_alive`) but not how long a client may take
to send its headers: one byte a second keeps a connection, and a slot of the server, forever. Here a
connection that has not delivered a request's complete headers within `read_timeout` seconds of opening
(or of its previous response) gets a 408 and is closed. The body has the same deadline, kept by
server.middleware.BodyLimit, which reads it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

TIMEOUT_408 = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
               b"content-length: 41\r\nconnection: close\r\n\r\nThe request headers took too long to send")


def deadline_protocol(seconds: float) -> type[H11Protocol]:
    """An H11Protocol that closes connections whose request headers take longer than `seconds`."""

    class HeaderDeadline(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before:  # a request's headers arrived
                self._disarm()

        def on_response_complete(self) -> None:
            self._arm()  # before: a pipelined request that starts now disarms it again
            super().on_response_complete()

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            waiting = self.cycle is None or self.cycle.response_complete
            if waiting and not self.transport.is_closing():
                self.transport.write(TIMEOUT_408)
                self.transport.close()

    return HeaderDeadline


def uvicorn_config(app: Any, host: str, port: int, read_timeout: float, **options: Any) -> uvicorn.Config:
    """The one uvicorn configuration, for `python -m server` and the tests' live servers alike."""
    return uvicorn.Config(app, host=host, port=port, http=deadline_protocol(read_timeout),
                          timeout_keep_alive=5, **options)
