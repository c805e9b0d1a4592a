"""Feedback on answers ("helpful", "wrong quote"): one JSON line per verdict, appended to
VERBATIM_FEEDBACK_PATH.

Each line records what the reader saw (the question as asked, the question answered, the quotes with
their text) and which index answered (its build time and a fingerprint of its files), so a later
reader (`python -m eval feedback`) knows what a verdict was about even after the articles changed.

Appending is safe from many request threads and processes: a lock and an exclusive `flock` around one
`write` to a file opened with O_APPEND, flushed with `fsync`. A write that fails (a full disk) is cut
back to where it started, and a line cut short by a crash is closed before the next one, so every
line already stored stays whole and readable.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.errors import VerbatimError
from index.integrity import sync_folder
from index.records import Article
from index.store import Manifest
from server.query import span_problem

__all__ = ["FeedbackLog", "FeedbackNotStored", "InvalidFeedback", "Shown", "feedback_record", "index_stamp",
           "shown_quotes"]

VERDICTS = ("helpful", "wrong_quote")


class InvalidFeedback(VerbatimError):
    """A feedback body that names quotes the index does not have (a 422)."""


class FeedbackNotStored(VerbatimError):
    """The feedback file cannot be written (a full disk, a folder that cannot be written): a 503."""


@dataclass(frozen=True)
class Shown:
    """A quote the reader was shown: text == article_text[start:end]."""

    doc_id: str
    start: int
    end: int
    text: str


def shown_quotes(quotes: Sequence[tuple[str, int, int]], articles: Mapping[str, Article]) -> tuple[Shown, ...]:
    """The quotes with their texts; InvalidFeedback names the first one the articles do not hold."""
    found = []
    texts = {doc_id: articles[doc_id].text for doc_id, _, _ in quotes if doc_id in articles}
    for m, (doc_id, start, end) in enumerate(quotes):
        problem = span_problem(texts, doc_id, start, end, f"quotes[{m}]")
        if problem:
            raise InvalidFeedback(problem)
        found.append(Shown(doc_id, start, end, texts[doc_id][start:end]))
    return tuple(found)


def index_stamp(manifest: Manifest) -> dict[str, Any]:
    """Which index answered: its build time, article count, and a fingerprint of its files (the SHA-256
    of the manifest's file checksums, so two indexes with the same files have the same one)."""
    files = json.dumps(manifest.files, sort_keys=True).encode("utf-8")
    return {"built_at": manifest.built_at, "articles": manifest.articles,
            "fingerprint": hashlib.sha256(files).hexdigest()[:16]}


def feedback_record(verdict: str, question: str, resolved_question: str, shown: Sequence[Shown],
                    comment: str | None, index: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """The line stored for one verdict (pure)."""
    return {"at": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "verdict": verdict, "question": question, "resolved_question": resolved_question,
            "quotes": [asdict(s) for s in shown], "comment": comment, "index": dict(index)}


def now() -> datetime:
    return datetime.now(UTC)


class FeedbackLog:
    """The feedback file; `append` one record at a time, from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: Mapping[str, Any]) -> None:
        """Store `record` as one line, on the disk when this returns; FeedbackNotStored otherwise."""
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                created = not self.path.exists()
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError as exc:
                raise self._failed(exc) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # another process appending to the same file waits
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":  # the last line was cut short (a crash)
                    line = b"\n" + line
                try:
                    write_all(fd, line)
                    os.fsync(fd)
                except OSError as exc:
                    with contextlib.suppress(OSError):  # what was stored before stays as it was
                        os.ftruncate(fd, size)
                    raise self._failed(exc) from exc
            finally:
                os.close(fd)
            if created:
                with contextlib.suppress(OSError):  # the line is on the disk; only its name may wait
                    sync_folder(self.path.parent)

    def _failed(self, exc: OSError) -> FeedbackNotStored:
        return FeedbackNotStored(
            f"Feedback cannot be stored in {self.path}: {exc.strerror or exc} (a full disk, or a folder that "
            "cannot be written). Free some space or set VERBATIM_FEEDBACK_PATH to a writable file; the "
            "feedback stored before is intact.")


def write_all(fd: int, data: bytes) -> None:
    """One write for the whole line (an O_APPEND write is not interleaved with another's); the loop only
    for the short writes a nearly full disk may make."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]

