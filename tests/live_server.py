"""A real uvicorn server over the seed index, once per test session, for the API, page and browser tests.

Test modules load this file as a pytest plugin (`pytest_plugins = ["live_server"]`) so that they all share
the one session-scoped `live_server` fixture (its value is the base URL, e.g. http://127.0.0.1:41234).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from index.settings import Settings
from server.answerer import Answerer
from server.app import create_app
from server.transport import uvicorn_config


@contextmanager
def serve(app: FastAPI, timeout: float = 60.0) -> Iterator[str]:
    """Run `app` with uvicorn on a free port in a background thread; yield its base URL once
    /api/health answers; stop it and wait for the thread on exit."""
    config = uvicorn_config(app, "127.0.0.1", 0, app.state.settings.read_timeout, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="verbatim-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the live server stopped during start-up (see the log above)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the live server did not start within {timeout} s")
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        while httpx.get(f"{base}/api/health", timeout=5).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{base}/api/health did not answer 200 within {timeout} s")
            time.sleep(0.05)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def live_server(seed_settings: Settings, answerer: Answerer) -> Iterator[str]:
    """Base URL of a server built with create_app(settings=seed_settings, answerer=answerer)."""
    with serve(create_app(settings=seed_settings, answerer=answerer)) as base:
        yield base


@pytest.fixture(scope="session")
def http(live_server: str) -> Iterator[httpx.Client]:
    """An httpx client for the live server."""
    with httpx.Client(base_url=live_server, timeout=30) as client:
        yield client
