"""`create_app(settings)`: the FastAPI application. The answerer (model and index) loads in the lifespan,
lives on app.state and reaches the routes through the Annotated dependencies of server/api.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import jinja2
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from index.settings import Settings
from index.store import read_folder
from server import api, docs, errors, live, pages
from server.answerer import Answerer
from server.catalogue import CatalogueCache
from server.feedback import FeedbackLog
from server.middleware import BodyLimit, HeadAsGet, RequestLog, SecurityHeaders, ServerErrors, TrustedHosts, trusted
from server.readable import quote_parts, readable
from server.worker import Worker

WEB = Path(__file__).resolve().parents[1] / "web"

DESCRIPTION = """Offline extractive question answering over a folder of news articles. Every answer is
made of sentences copied verbatim from the articles (`text == article_text[start:end]`), each one cited;
when the articles do not answer, the answer is `null` and `abstained` is true."""


def create_app(settings: Settings | None = None, answerer: Answerer | None = None) -> FastAPI:
    """The app. With `answerer` it serves that one; otherwise it loads one from `settings` at start-up
    (a VerbatimError such as IndexNotFound then stops the start-up with its message)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = answerer
        if loaded is None:
            loaded = await run_in_threadpool(Answerer.load, settings)
        app.state.answerer = loaded  # the one reference the hot swap replaces (server/live.py)
        # The one thread that touches the model; request threads hand it their questions.
        worker = Worker(loaded, settings.ask_max_batch, settings.ask_max_wait_ms / 1000).start()
        app.state.asker = worker

        def load_new() -> Answerer:  # the same model and question parser: only the index is new
            current = app.state.answerer
            return Answerer(read_folder(settings.index_dir), current.embedder, settings, parser=current.parser)

        watcher = None
        if settings.reload_interval > 0:
            watcher = asyncio.create_task(live.watch_index(app, settings.index_dir, settings.reload_interval,
                                                           load_new))
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            worker.stop()

    app = FastAPI(title="Verbatim", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.feedback = FeedbackLog(settings.feedback_path)  # opened per append: nothing to close
    app.state.catalogues = CatalogueCache()  # the article list's, built when it is first asked for
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(WEB / "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals["article_url"] = pages.article_url
    env.filters["readable"] = readable
    env.globals["quote_parts"] = quote_parts
    app.state.templates = Jinja2Templates(env=env)
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    docs.install(app)
    errors.install(app)
    # Added last runs first: the log line sees every response, 413s included, and every response
    # (a refused Host, a 500) passes through the security headers.
    app.add_middleware(BodyLimit, timeout=settings.read_timeout)
    app.add_middleware(ServerErrors)
    app.add_middleware(HeadAsGet)
    app.add_middleware(TrustedHosts, allowed=trusted(settings.host, settings.trusted_hosts))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestLog)
    return app
