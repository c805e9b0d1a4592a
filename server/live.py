"""Hot swap: a running server notices a new index in its folder and switches to it between requests.

The answerer in use is one reference (`app.state.answerer`). Each request takes it once, at its start,
and finishes on that object; the watcher replaces the reference whole when a new index has loaded and
passed every check, so no request ever sees half of one index and half of another. A damaged new
index is refused with a log line and the old one keeps serving; it is tried again once its manifest
changes again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from index.errors import VerbatimError
from index.integrity import MANIFEST
from index.swap import resolve
from server.answerer import Answerer

log = logging.getLogger("verbatim.index")

Stamp = tuple[int, int, int, int]  # inode, device, size, mtime of the manifest in use


def stamp(folder: Path) -> Stamp | None:
    """Identity of the manifest a server pointed at `folder` would read now; None while there is none
    (e.g. for the instant between a swap's two renames)."""
    try:
        st = (resolve(folder) / MANIFEST).stat()
    except (OSError, VerbatimError):
        return None
    return st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns


@dataclass
class Watch:
    """What the watcher has seen: the manifest in use, and the last one refused."""

    serving: Stamp | None
    refused: Stamp | None = None


async def check_once(app: FastAPI, folder: Path, watch: Watch, load: Callable[[], Answerer]) -> bool:
    """Load and swap in the index at `folder` if its manifest changed; True if it was swapped."""
    now = stamp(folder)
    if now is None or now in (watch.serving, watch.refused):
        return False
    old: Answerer = app.state.answerer
    try:
        new = await run_in_threadpool(load)
    except VerbatimError as exc:
        watch.refused = now
        log.error("A new index at %s was refused; still serving the one built at %s. %s", folder,
                  old.index.manifest.built_at, exc)
        return False
    if stamp(folder) != now:  # replaced again while loading: load the newest on the next check
        return False
    app.state.answerer = new  # the swap: one reference; requests already running keep the old one
    watch.serving, watch.refused = now, None
    m = new.index.manifest
    log.info("Switched to the new index at %s: %d articles, %d passages, built at %s", folder, m.articles,
             m.passages, m.built_at)
    return True


async def watch_index(app: FastAPI, folder: Path, interval: float, load: Callable[[], Answerer]) -> None:
    """Every `interval` seconds, one stat() of the manifest; a load only when it changed. Runs until
    cancelled (at shutdown)."""
    watch = Watch(stamp(folder))
    while True:
        await asyncio.sleep(interval)
        try:
            await check_once(app, folder, watch, load)
        except Exception:  # a bug must not end the watching: keep serving, say why, try the next one
            watch.refused = stamp(folder)
            log.exception("Loading the new index at %s failed; still serving the old one", folder)
