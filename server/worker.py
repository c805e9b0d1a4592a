"""The encoder's one thread: questions are encoded in batches by a worker that alone touches the model.

Request threads check their question (cheap, no model), put the text to embed on a queue.Queue with a
concurrent.futures.Future, parse the question while it is encoded (the encoder releases the GIL), and
wait for its vector; then they retrieve and extract on their own. The
worker takes every question waiting (up to `max_batch`, after waiting up to `max_wait` seconds for more)
into one forward pass, which on two cores costs little more than one question. A batch the encoder
refuses is encoded again one question at a time, so only the question it cannot take fails.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from server.answerer import Answerer
from server.records import Exchange
from server.schemas import AskResponse

__all__ = ["Encoded", "Worker"]


@dataclass(frozen=True)
class Encoded:
    vector: np.ndarray  # (dim,) float32, unit length
    batch_ms: float  # how long its batch's forward pass took
    batch_size: int


Job = tuple[str, "Future[Encoded]"]  # the text to embed, and where its vector goes
STOP = None


class Worker:
    """Answers questions for many request threads; `start()` before use, `stop()` when done (the app's
    lifespan does both)."""

    def __init__(self, answerer: Answerer, max_batch: int = 16, max_wait: float = 0.0) -> None:
        self.answerer = answerer
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> Worker:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="verbatim-encoder", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Answer what is queued, then end the thread."""
        if self._thread is not None:
            self._queue.put(STOP)
            self._thread.join(timeout)
            self._thread = None

    def waiting(self) -> int:
        """Questions queued and not yet taken into a batch."""
        return self._queue.qsize()

    def __call__(self, question: str, top_k: int | None = None, history: Sequence[Exchange] = (),
                 answerer: Answerer | None = None, doc_ids: Sequence[str] = ()) -> AskResponse:
        """The answer from `answerer` (the one the request started with: a hot swap may install a new one
        meanwhile, server/live.py), else the worker's own; every answerer shares the worker's encoder.
        `doc_ids`: answer only from these articles."""
        answerer = answerer or self.answerer
        # bad input (history, doc ids) fails here, before it joins a batch; both travel in the Prepared
        checked = answerer.checked(question, top_k, history=history, doc_ids=doc_ids)
        encoding = self.encode(checked.query)
        prepared = answerer.analysed(checked)
        encoded = encoding.result()
        answer = answerer.evaluate(prepared.question, prepared.k, query_vector=encoded.vector,
                                        encode_ms=encoded.batch_ms, prepared=prepared).answer
        return AskResponse.model_validate(answer, from_attributes=True)

    def encode(self, text: str) -> Future[Encoded]:
        """The vector of a question's text, once the worker has encoded its batch."""
        future: Future[Encoded] = Future()
        self._queue.put((text, future))
        return future

    def _batch(self, first: Job) -> tuple[list[Job], bool]:
        """`first` and the questions waiting behind it (up to max_batch); True if STOP was among them."""
        batch = [first]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            try:
                left = deadline - time.monotonic()
                job = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if job is STOP:
                return batch, True
            batch.append(job)
        return batch, False

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is STOP:
                return
            batch, stopping = self._batch(job)
            self._encode(batch)
            if stopping:
                return

    def _encode(self, batch: list[Job]) -> None:
        encoder = self.answerer.embedder
        started = time.perf_counter()
        try:
            vectors: list[np.ndarray | None] = list(encoder.embed_queries([text for text, _ in batch]))
        except Exception as exc:  # the encoder's failure goes to the questions that caused it
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            # One question the encoder refuses must not fail its batch-mates: encode each alone, so only
            # the bad one gets the error (and a broken model still fails every question).
            vectors = []
            for text, future in batch:
                try:
                    vectors.append(encoder.embed_queries([text])[0])
                except Exception as alone:
                    future.set_exception(alone)
                    vectors.append(None)
        took = (time.perf_counter() - started) * 1000
        for (_, future), vector in zip(batch, vectors, strict=True):
            if vector is not None:
                future.set_result(Encoded(vector, took, len(batch)))
