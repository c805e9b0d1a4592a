"""`python -m server [--host] [--port] [--index DIR]`: build the index if it is missing, then serve the chat
page and the API. A problem the user can fix is one line on stderr and exit code 1, never a traceback."""

from __future__ import annotations

import argparse
import copy
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from index.settings import Settings
    from server.answerer import Answerer


def prepare(settings: Settings) -> Answerer:
    """Load the index and the encoder stored in it. A missing index is built from settings.articles_dir
    first, unless the user named the index folder but not the articles: a folder they named may be meant
    for other articles, so it is never filled from the default ones. The build runs in a child process:
    it imports torch to export the model, and the server should not carry torch while it serves."""
    from index.errors import IndexNotFound
    from index.settings import Settings
    from index.store import read_manifest
    from server.answerer import Answerer

    try:
        read_manifest(settings.index_dir)
    except IndexNotFound:
        defaults = Settings.model_fields
        if settings.index_dir != defaults["index_dir"].default and \
                settings.articles_dir == defaults["articles_dir"].default:
            raise IndexNotFound(
                f"No index at {settings.index_dir}. Build it from the articles it is for, then run this again: "
                f"`python -m index build --articles DIR --out {settings.index_dir}`.") from None
        print(f"No index at {settings.index_dir}: building it from {settings.articles_dir} first.",
              flush=True)
        done = subprocess.run([sys.executable, "-m", "index", "build", "--articles", str(settings.articles_dir),
                               "--out", str(settings.index_dir)], check=False)
        if done.returncode != 0:
            raise SystemExit(done.returncode) from None  # the build has said why, in one line
    return Answerer.load(settings)


def log_config() -> dict[str, Any]:
    """uvicorn's logging, plus our one-line-per-request logger in the same format (uvicorn's own access
    log is switched off so each request is logged once)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["verbatim"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def serve(settings: Settings, answerer: Answerer) -> None:
    import uvicorn

    from server.app import create_app
    from server.transport import uvicorn_config

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                port = self.servers[0].sockets[0].getsockname()[1]
                host = f"[{settings.host}]" if ":" in settings.host else settings.host
                print(f"Verbatim is serving on http://{host}:{port}", flush=True)

    app = create_app(settings, answerer)
    config = uvicorn_config(app, settings.host, settings.port, settings.read_timeout, log_config=log_config(),
                            access_log=False)
    try:
        Server(config).run()
    except KeyboardInterrupt:  # uvicorn shuts down cleanly on Ctrl+C, then raises it again
        print("Verbatim stopped.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server",
                                     description="Serve Verbatim's chat page and JSON API.")
    parser.add_argument("--host", help="address to bind (default: VERBATIM_HOST, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to bind (default: VERBATIM_PORT, else 8000)")
    parser.add_argument("--index", type=Path, help="index folder (default: VERBATIM_INDEX_DIR, else var/index, "
                        "built from VERBATIM_ARTICLES_DIR when missing; a folder you name only from articles you name)")
    args = parser.parse_args(argv)
    # torch and spaCy's command line are refused for this process only, before anything imports them
    # (server/lean.py says why); a build, which needs torch, runs in a child process (prepare).
    from server.lean import refuse_unused_imports

    refuse_unused_imports()

    from index.cli import guarded
    from index.settings import Settings

    given = {"host": args.host, "port": args.port, "index_dir": args.index}

    def run() -> int:
        settings = Settings(**{name: value for name, value in given.items() if value is not None})
        serve(settings, prepare(settings))
        return 0

    return guarded(run)


if __name__ == "__main__":
    sys.exit(main())
