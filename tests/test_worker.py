"""The batching worker: one thread owns the encoder, every waiting question joins one batch, one bad
question fails alone, and under 8 or 32 concurrent clients every answer is the answer asked alone."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from server.answerer import Answerer
from server.schemas import AskResponse
from server.worker import Worker

pytest_plugins = ["live_server"]

LAVROV = "What did Lavrov say about the agreement?"
QUESTIONS = [LAVROV, "Why did bilateral trade fall?", "Has Iran received the Su-35 jets?", "INSTC?",
             "Who wrote the Asia Times piece?", "What is the best lasagna recipe?",
             "When did Lavrov call for opening the Zangezur corridor?", "What is Iran's shadow fleet?"]


class CountingEmbedder:
    """The real encoder, recording how many questions each forward pass encodes, and in which thread."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.batches: list[int] = []
        self.threads: set[str] = set()

    def __getattr__(self, name: str) -> Any:  # name, dim, dictionary() of the real one
        return getattr(self.inner, name)

    def embed_queries(self, texts: list[str]) -> Any:
        self.batches.append(len(texts))
        self.threads.add(threading.current_thread().name)
        return self.inner.embed_queries(texts)


class Poisoned(CountingEmbedder):
    """The real encoder, refusing any batch that holds a text with POISON in it (as a tokenizer refuses
    text it cannot take)."""

    def embed_queries(self, texts: list[str]) -> Any:
        self.batches.append(len(texts))
        if any("POISON" in t for t in texts):
            raise ValueError("cannot tokenize")
        return self.inner.embed_queries(texts)


def queued(worker: Worker, asked: list[str]) -> tuple[ThreadPoolExecutor, list[Future[AskResponse]]]:
    """Ask every question from its own thread while the worker is not yet running, wait until all of them
    are queued, then start it: they are all waiting when it takes its first batch."""
    pool = ThreadPoolExecutor(len(asked))
    futures = [pool.submit(worker, q) for q in asked]
    deadline = time.monotonic() + 60
    while worker.waiting() < len(asked) and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.start()
    return pool, futures


def quotes(answer: AskResponse) -> list[tuple[str, int, int]]:
    return [(q.doc_id, q.start, q.end) for q in answer.quotes]


def test_waiting_questions_are_encoded_in_one_batch_by_the_worker_thread(answerer: Answerer) -> None:
    counting = CountingEmbedder(answerer.embedder)
    worker = Worker(Answerer(answerer.index, counting, answerer.settings))  # type: ignore[arg-type]
    asked = QUESTIONS[:5]
    pool, futures = queued(worker, asked)
    answers = [f.result(timeout=60) for f in futures]
    worker.stop()
    pool.shutdown()
    assert counting.batches == [len(asked)]  # one forward pass for the five
    assert counting.threads == {"verbatim-encoder"}  # request threads never touch the model
    for q, a in zip(asked, answers, strict=True):
        assert a.question == q and a.timings_ms["encode"] > 0
        assert quotes(a) == [(x.doc_id, x.start, x.end) for x in answerer.ask(q).quotes]


def test_max_batch_bounds_a_batch(answerer: Answerer) -> None:
    counting = CountingEmbedder(answerer.embedder)
    worker = Worker(Answerer(answerer.index, counting, answerer.settings), max_batch=2)  # type: ignore[arg-type]
    pool, futures = queued(worker, QUESTIONS[:5])
    for f in futures:
        f.result(timeout=60)
    worker.stop()
    pool.shutdown()
    assert counting.batches == [2, 2, 1]


def test_one_bad_question_fails_alone_not_its_batch_mates(answerer: Answerer) -> None:
    poisoned = Poisoned(answerer.embedder)
    worker = Worker(Answerer(answerer.index, poisoned, answerer.settings))  # type: ignore[arg-type]
    asked = [LAVROV, "POISON pill?", "INSTC?", "Why did bilateral trade fall?"]
    pool, futures = queued(worker, asked)
    with pytest.raises(ValueError, match="cannot tokenize"):
        futures[1].result(timeout=60)
    for q, f in zip(asked, futures, strict=True):
        if q != asked[1]:
            assert quotes(f.result(timeout=60)) == [(x.doc_id, x.start, x.end) for x in answerer.ask(q).quotes], q
    worker.stop()
    pool.shutdown()
    assert poisoned.batches[0] == len(asked) and sorted(poisoned.batches[1:]) == [1, 1, 1, 1]


def test_a_failing_model_fails_every_waiting_question(answerer: Answerer) -> None:
    class Failing(CountingEmbedder):
        def embed_queries(self, texts: list[str]) -> Any:
            raise RuntimeError("the model is gone")

    worker = Worker(Answerer(answerer.index, Failing(answerer.embedder), answerer.settings))  # type: ignore[arg-type]
    pool, futures = queued(worker, ["INSTC?", LAVROV])
    for f in futures:
        with pytest.raises(RuntimeError, match="model is gone"):
            f.result(timeout=60)
    worker.stop()
    pool.shutdown()
    assert worker.waiting() == 0


def test_stop_answers_what_is_queued_first(answerer: Answerer) -> None:
    worker = Worker(answerer)
    pool, futures = queued(worker, QUESTIONS[:3])
    worker.stop()
    assert all(f.result(timeout=60).question == q for f, q in zip(futures, QUESTIONS[:3], strict=True))
    pool.shutdown()


def test_a_question_the_answerer_refuses_never_reaches_the_queue(answerer: Answerer) -> None:
    from server.answerer import InvalidQuestion

    worker = Worker(answerer)  # not started: a question that got queued would wait forever
    with pytest.raises(InvalidQuestion):
        worker("\u200b\u200b")
    assert worker.waiting() == 0


@pytest.mark.parametrize("clients", [8, 32])
def test_concurrent_clients_get_the_answers_they_get_alone(live_server: str, http: httpx.Client,
                                                          clients: int) -> None:
    alone = {q: http.post("/ask", json={"question": q}).json() for q in QUESTIONS}
    asked = [QUESTIONS[i % len(QUESTIONS)] for i in range(clients * 2)]

    def post(question: str) -> dict[str, Any]:
        with httpx.Client(base_url=live_server, timeout=120) as client:
            response = client.post("/ask", json={"question": question})
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]

    with ThreadPoolExecutor(clients) as pool:
        together = list(pool.map(post, asked))
    for q, got in zip(asked, together, strict=True):
        want = alone[q]
        assert [(x["doc_id"], x["start"], x["end"]) for x in got["quotes"]] == \
            [(x["doc_id"], x["start"], x["end"]) for x in want["quotes"]], q
        assert got["abstained"] == want["abstained"] and got["answer"] == want["answer"], q
        assert abs(got["confidence"] - want["confidence"]) < 1e-3, q
        assert [p["chunk_id"] for p in got["passages"]] == [p["chunk_id"] for p in want["passages"]], q


def test_poisoned_requests_among_innocent_ones_fail_alone(live_server: str) -> None:
    """Questions the tokenizer cannot take are refused before they join a batch; the rest all answer."""
    bodies = [{"question": q} for q in QUESTIONS[:4] * 3] + [{"question": f"a \ud800 b {i}"} for i in range(6)]

    def post(body: dict[str, Any]) -> int:
        with httpx.Client(base_url=live_server, timeout=60) as client:
            # json.dumps escapes a lone surrogate as \ud800, as browsers' JSON.stringify may send it
            return client.post("/ask", content=json.dumps(body), headers={"content-type": "application/json"}) \
                .status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(post, bodies))
    assert codes == [200] * 12 + [422] * 6
