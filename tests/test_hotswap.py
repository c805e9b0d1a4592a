"""Hot swap under load: a running server picks up each new index between requests, refuses a damaged
one (the old one keeps serving, with a log line), and not one request of eight busy clients fails."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from index.build import build
from index.embed import Embedder
from index.settings import Settings
from index.swap import swap_in
from server.answerer import Answerer
from server.app import create_app
from tests.conftest import SEED_ARTICLES
from tests.live_server import serve

QUESTIONS = ["What did Lavrov say about the agreement?", "Why did bilateral trade fall?", "INSTC?",
             "What is the best lasagna recipe?", "Who met in Tehran?"]
NEW_ARTICLE = ("Harbour works\n\nThe port authority said on Monday that the new harbour wall will cost $12 million. "
               "Work starts in May and should end before the winter storms.\n")


class Load:
    """Eight clients asking, listing and checking health until stopped; every response recorded."""

    def __init__(self, base: str, clients: int = 8) -> None:
        self.base = base
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self.articles_seen: set[int] = set()
        self.threads = [threading.Thread(target=self.client, args=(n,)) for n in range(clients)]

    def client(self, n: int) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as c:
            i = n
            while not self.stop.is_set():
                i += 1
                try:
                    if i % 3 == 0:
                        r = c.get("/api/articles")
                        seen = r.json()["total"] if r.status_code == 200 else None
                    else:
                        r = c.post("/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
                        seen = None
                        if r.status_code == 200:  # every quote verbatim in the index that answered
                            for q in r.json()["quotes"]:
                                assert q["end"] - q["start"] == len(q["text"])
                except (httpx.HTTPError, AssertionError, ValueError) as exc:
                    with self.lock:
                        self.failures.append(repr(exc))
                    continue
                with self.lock:
                    self.statuses[r.status_code] += 1
                    if r.status_code != 200:
                        self.failures.append(f"{r.status_code}: {r.text[:200]}")
                    if seen is not None:
                        self.articles_seen.add(seen)

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=120)


def wait_for(predicate, what: str, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def health(base: str) -> dict[str, object]:
    return dict(httpx.get(f"{base}/api/health", timeout=30).json())


@pytest.mark.slow
def test_hot_swap_under_load(tmp_path: Path, seed_index: Path, embedder: Embedder,
                             caplog: pytest.LogCaptureFixture) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(SEED_ARTICLES, articles)
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index", reload_interval=0.2)
    shutil.copytree(seed_index, settings.index_dir)  # the seed index, as if built here
    app = create_app(settings=settings, answerer=Answerer.load(settings, embedder=embedder))
    with caplog.at_level(logging.INFO, logger="verbatim.index"), serve(app) as base, Load(base) as load:
        wait_for(lambda: sum(load.statuses.values()) >= 20, "the first requests")
        (articles / "harbour.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        build(settings, embedder=embedder, progress=False)  # one article embedded, the rest reused
        wait_for(lambda: health(base)["articles"] == 6, "the server to switch to the 6-article index")

        keep = tmp_path / "keep"
        shutil.copytree(settings.index_dir, keep)
        damaged = tmp_path / "damaged"
        shutil.copytree(settings.index_dir, damaged)
        vectors = damaged / "passage_vectors.npy"
        vectors.write_bytes(vectors.read_bytes()[:-8] + b"\x7f" * 8)
        swap_in(damaged, settings.index_dir)
        wait_for(lambda: any("was refused" in r.getMessage() for r in caplog.records), "the refusal")
        refusal = next(r.getMessage() for r in caplog.records if "was refused" in r.getMessage())
        assert "passage_vectors.npy has changed" in refusal and "still serving" in refusal
        assert health(base)["articles"] == 6  # the old index keeps serving

        swap_in(keep, settings.index_dir)  # a good index again: taken
        (articles / "harbour2.txt").write_text(NEW_ARTICLE.replace("harbour", "marina"), encoding="utf-8")
        build(settings, embedder=embedder, progress=False)
        wait_for(lambda: health(base)["articles"] == 7, "the server to switch to the 7-article index")
        served = sum(load.statuses.values())
        wait_for(lambda: 7 in load.articles_seen and sum(load.statuses.values()) >= served + 20,
                 "requests on the newest index")
    assert load.failures == [], load.failures[:5]
    assert set(load.statuses) == {200} and sum(load.statuses.values()) > 40
    assert {6, 7} <= load.articles_seen  # 5 too, unless the first build finished before any listing
    switched = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Switched")]
    assert len(switched) >= 3  # 6 articles, the good copy, 7 articles
