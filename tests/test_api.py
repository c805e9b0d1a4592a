"""The JSON API through a real server (the real model on the seed articles): answers, bad input, errors,
headers, the request log, the lifespan, the OpenAPI contract and the `python -m server` entry point.

The OpenAPI snapshot is tests/snapshots/openapi.json. When the contract changes on purpose, regenerate it
with `UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_api.py -k openapi` and review the diff.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from index.errors import IndexCorrupt, IndexNotFound
from index.settings import Settings
from server.answerer import Answerer
from server.app import create_app

pytest_plugins = ["live_server"]

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = Path(__file__).with_name("snapshots") / "openapi.json"
LAVROV = "What did Lavrov say about the agreement?"
QUESTIONS = [LAVROV, "Why did bilateral trade fall?", "Has Iran received the Su-35 jets?", "INSTC?"]


def ask(http: httpx.Client, body: Any) -> httpx.Response:
    """POST the body as JSON with non-ASCII escaped, as browsers' JSON.stringify may send a lone surrogate."""
    return http.post("/ask", content=json.dumps(body), headers={"content-type": "application/json"})


def assert_error_shape(response: httpx.Response, status: int, *needles: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) <= {"error", "detail"} and isinstance(body["error"], str) and body["error"]
    for needle in needles:
        assert needle.lower() in body["error"].lower(), body["error"]
    return body


def article_text(http: httpx.Client, doc_id: str, cache: dict[str, str]) -> str:
    if doc_id not in cache:
        response = http.get(f"/api/articles/{doc_id}")
        assert response.status_code == 200
        cache[doc_id] = response.json()["text"]
    return cache[doc_id]


# ---- answers ----

@pytest.mark.parametrize("question", QUESTIONS)
def test_ask_quotes_are_verbatim_slices_of_their_articles(http: httpx.Client, question: str) -> None:
    response = ask(http, {"question": question, "top_k": 5})
    assert response.status_code == 200
    body = response.json()
    texts: dict[str, str] = {}
    assert body["question"] == question
    assert not body["abstained"] and body["answer"] and body["quotes"]
    assert 0.0 <= body["confidence"] <= 1.0
    assert len(body["passages"]) == 5
    assert body["timings_ms"]["total"] > 0
    for quote in body["quotes"]:
        assert article_text(http, quote["doc_id"], texts)[quote["start"]:quote["end"]] == quote["text"]
        for cited in quote["also_in"] + quote["differs_in"]:
            text = article_text(http, cited["doc_id"], texts)
            assert text[cited["start"]:cited["end"]] == cited["text"] and cited["doc_id"] != quote["doc_id"]
    for passage in body["passages"]:
        assert article_text(http, passage["doc_id"], texts)[passage["start"]:passage["end"]] == passage["text"]


def test_lavrov_is_quoted(http: httpx.Client) -> None:
    body = ask(http, {"question": LAVROV}).json()
    assert "Lavrov" in body["quotes"][0]["text"]
    assert len(body["passages"]) == 5  # the default top_k


@pytest.mark.parametrize("top_k", [1, 3, 20])
def test_top_k_sets_the_number_of_passages(http: httpx.Client, top_k: int) -> None:
    total = http.get("/api/health").json()["passages"]
    body = ask(http, {"question": "Why did bilateral trade fall?", "top_k": top_k}).json()
    assert len(body["passages"]) == min(top_k, total)


def test_off_topic_question_abstains_and_still_returns_passages(http: httpx.Client) -> None:
    body = ask(http, {"question": "What is the best lasagna recipe?"}).json()
    assert body["abstained"] is True
    assert body["answer"] is None and body["quotes"] == []
    assert 0.0 <= body["confidence"] <= 1.0
    assert len(body["passages"]) == 5


def test_question_is_trimmed(http: httpx.Client) -> None:
    body = ask(http, {"question": "   INSTC?  \n"}).json()
    assert body["question"] == "INSTC?"


# ---- bad input: never a 500, always the one error shape with a message saying what is wrong ----

BAD_BODIES = [
    ({"question": ""}, "empty"),
    ({"question": "   \n\t "}, "empty"),
    ({"question": "x" * 1001}, "1001 characters"),
    ({"question": "x" * 10_000}, "10000 characters"),
    ({"question": "a \ud800 b"}, "not valid Unicode"),  # a lone surrogate: the tokenizer would raise
    ({"question": "\u200b\u200b\ufeff"}, "empty"),  # zero-width characters only
    ({"question": "\u0000\u0000 \u200d"}, "empty"),  # NULs and a joiner
    ({"question": "ok?", "top_k": 0}, "top_k"),
    ({"question": "ok?", "top_k": 21}, "top_k"),
    ({"question": "ok?", "top_k": -3}, "top_k"),
    ({"question": 5}, "question"),
    ({"question": None}, "question"),
    ({"question": ["a"]}, "question"),
    ({"question": "ok?", "top_k": "3"}, "top_k"),
    ({"question": "ok?", "top_k": True}, "top_k"),
    ({"question": "ok?", "top_k": 2.5}, "top_k"),
    ({}, "question"),
    ({"top_k": 3}, "question"),
    ({"question": "ok?", "extra": 1}, "extra"),
    (["ok?"], "JSON object"),
    ("ok?", "JSON object"),
]


@pytest.mark.parametrize(("body", "needle"), BAD_BODIES)
def test_invalid_json_bodies_are_422_with_a_message(http: httpx.Client, body: Any, needle: str) -> None:
    error = assert_error_shape(ask(http, body), 422, needle)
    assert error["detail"] and all({"loc", "msg", "type"} <= set(d) for d in error["detail"])


@pytest.mark.parametrize(("content", "headers", "needle"), [
    (b'{"question": "ok?"', {"content-type": "application/json"}, "not valid JSON"),
    (b"question=ok", {"content-type": "application/json"}, "not valid JSON"),
    (b"", {"content-type": "application/json"}, "missing"),
    (b'{"question": "ok?"}', {"content-type": "text/plain"}, "Content-Type: application/json"),
    (b'{"question": "ok?"}', {}, "Content-Type: application/json"),
    (b'{"question": "a \xed\xa0\x80 b"}', {"content-type": "application/json"}, "not valid"),  # a surrogate, raw
])
def test_malformed_bodies_are_422(http: httpx.Client, content: bytes, headers: dict[str, str],
                                  needle: str) -> None:
    assert_error_shape(http.post("/ask", content=content, headers=headers), 422, needle)


def test_non_utf8_body_is_refused_with_a_message(http: httpx.Client) -> None:
    response = http.post("/ask", content=b'{"question": "\xff\xfe ok?"}', headers={"content-type": "application/json"})
    assert_error_shape(response, 400, "UTF-8")


def test_body_over_64_kb_is_413(http: httpx.Client) -> None:
    response = ask(http, {"question": "x" * 70_000})
    assert_error_shape(response, 413, "64 KB")


def test_streamed_body_over_64_kb_is_413(http: httpx.Client) -> None:
    def chunks() -> Any:
        yield b'{"question": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    response = http.post("/ask", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers  # sent chunked
    assert_error_shape(response, 413, "64 KB")


def test_wrong_method_says_which_to_use(http: httpx.Client) -> None:
    assert_error_shape(http.get("/ask"), 405, "POST")


# ---- articles and health ----

def test_health(http: httpx.Client, answerer: Answerer) -> None:
    body = http.get("/api/health").json()
    manifest = answerer.index.manifest
    assert body == {"status": "ok", "articles": 5, "passages": manifest.passages, "model": "all-MiniLM-L6-v2",
                    "built_at": manifest.built_at}


def test_articles_list_and_one_article(http: httpx.Client, answerer: Answerer) -> None:
    body = http.get("/api/articles").json()
    listed = body["articles"]
    assert body["total"] == 5 and sorted(a["doc_id"] for a in listed) == sorted(answerer.index.articles)
    for item in listed:
        assert set(item) == {"doc_id", "title", "source", "author", "published", "chars"}
        full = http.get(f"/api/articles/{item['doc_id']}").json()
        assert full == {**item, "text": answerer.index.articles[item["doc_id"]].text}
        assert full["chars"] == len(full["text"])
    first = next(a for a in listed if a["doc_id"] == "000_949793db03e3c7b8")
    assert first["title"] == "How allied are Iran and Russia really?" and first["source"] == "Asia Times"


def raw_get(base: str, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as written (httpx would resolve the dot segments before sending)."""
    netloc = urlsplit(base).netloc
    conn = http.client.HTTPConnection(netloc, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


TRAVERSALS = [
    "/api/articles/no-such-article",
    "/api/articles/../../etc/passwd",
    "/api/articles/..%2f..%2fetc%2fpasswd",
    "/api/articles/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/api/articles/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/api/articles/..",
    "/api/articles/%2e%2e",
    "/api/articles/000_949793db03e3c7b8.txt",
    "/api/articles/metadata",
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2f..%2fserver%2fapp.py",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_unknown_or_traversing_ids_are_404(live_server: str, path: str) -> None:
    status, body = raw_get(live_server, path)
    assert status == 404, body[:200]
    assert b"root:" not in body and b"create_app" not in body
    assert json.loads(body)["error"]


# ---- middleware: headers and the log line ----

@pytest.mark.parametrize("path", ["/", "/api/health", "/static/app.js", "/api/articles/nope", "/nowhere"])
def test_security_headers_on_every_response(http: httpx.Client, path: str) -> None:
    headers = http.get(path).headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"


def test_one_log_line_per_request(http: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="verbatim.http")
    http.get("/api/articles/not-here")
    http.post("/ask", json={"question": ""})
    deadline = time.monotonic() + 5
    wanted = ("GET /api/articles/not-here 404 ", "POST /ask 422 ")
    lines: list[str] = []
    while time.monotonic() < deadline:  # the line is written once the response has gone out
        lines = [r.getMessage() for r in caplog.records if r.name == "verbatim.http"]
        if all(any(line.startswith(w) for line in lines) for w in wanted):
            break
        time.sleep(0.02)
    for w in wanted:
        matching = [line for line in lines if line.startswith(w)]
        assert len(matching) == 1, lines
        assert matching[0].endswith("ms") and float(matching[0].split()[-1][:-2]) >= 0


def test_docs_and_openapi_are_served(http: httpx.Client) -> None:
    docs = http.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text and "/docs-assets/swagger-ui-bundle.js" in docs.text  # works offline
    csp = docs.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in csp and "unsafe-inline'; style" not in csp.split("script-src")[1][:80]
    assert http.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert http.get("/openapi.json").json()["info"]["title"] == "Verbatim"


def test_openapi_matches_the_snapshot(http: httpx.Client) -> None:
    """The HTTP contract; see the module docstring to regenerate the snapshot on purpose."""
    current = http.get("/openapi.json").json()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert SNAPSHOT.is_file(), "no snapshot: run UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_api.py"
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == expected, (
        "/openapi.json differs from tests/snapshots/openapi.json. If the change is intended, regenerate it "
        "with UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_api.py -k openapi and commit the diff."
    )


# ---- the app's own start-up (TestClient as a context manager runs the lifespan) ----

def test_create_app_loads_the_answerer_in_its_lifespan(seed_settings: Settings, seed_index: Path) -> None:
    app = create_app(seed_settings)
    assert not hasattr(app.state, "answerer")  # nothing heavy before start-up
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert isinstance(app.state.answerer, Answerer)
        assert client.get("/api/health").json()["articles"] == 5
        body = client.post("/ask", json={"question": LAVROV, "top_k": 2}).json()
        assert "Lavrov" in body["quotes"][0]["text"] and len(body["passages"]) == 2


def test_missing_index_stops_start_up(tmp_path: Path) -> None:
    app = create_app(Settings(index_dir=tmp_path / "none", articles_dir=tmp_path))
    with pytest.raises(IndexNotFound), TestClient(app, base_url="http://127.0.0.1"):
        pass


class BrokenAnswerer:
    """An answerer whose index went bad after start-up: the HTTP layer must answer 503, not 500."""

    def __init__(self, real: Answerer) -> None:
        self.index = real.index

    def checked(self, question: str, top_k: int | None = None, history: object = (), doc_ids: object = ()) -> None:
        raise IndexCorrupt("The index at var/index is damaged; rebuild it with `python -m index build`.")


def test_core_errors_are_503_with_their_message(seed_settings: Settings, answerer: Answerer) -> None:
    app = create_app(seed_settings, answerer=BrokenAnswerer(answerer))  # type: ignore[arg-type]
    with TestClient(app, base_url="http://127.0.0.1") as client:
        response = client.post("/ask", json={"question": "INSTC?"})
        assert response.status_code == 503
        assert response.json() == {"error": "The index at var/index is damaged; rebuild it with "
                                            "`python -m index build`."}
        page = client.get("/", params={"q": "INSTC?"})
        assert page.status_code == 503 and "damaged" in page.text and "text/html" in page.headers["content-type"]


# ---- python -m server ----

def run_server_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=REPO, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=300)


def test_cli_rejects_a_bad_port_in_one_line(tmp_path: Path) -> None:
    result = run_server_cli("--port", "70000", env={"VERBATIM_INDEX_DIR": str(tmp_path / "i")})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "PORT" in result.stderr


@pytest.mark.slow
def test_cli_reports_unusable_articles_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    result = run_server_cli("--index", str(tmp_path / "index"),
                            env={"VERBATIM_ARTICLES_DIR": str(tmp_path / "articles")})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(tmp_path / "articles") in errors[0], result.stderr
    assert not (tmp_path / "index").exists()


@pytest.mark.slow
def test_cli_serves_an_existing_index(seed_index: Path) -> None:
    """`python -m server --port 0 --index DIR` says where it serves, answers there without torch, and stops
    on Ctrl+C."""
    process = subprocess.Popen([sys.executable, "-m", "server", "--port", "0", "--index", str(seed_index)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        line = ""
        deadline = time.monotonic() + 120
        while not line.startswith("Verbatim is serving on ") and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line or process.poll() is None, "the server exited before serving"
        base = line.removeprefix("Verbatim is serving on ").strip()
        assert base.startswith("http://127.0.0.1:")
        assert httpx.get(f"{base}/api/health", timeout=10).json()["articles"] == 5
        assert httpx.post(f"{base}/ask", json={"question": LAVROV}, timeout=60).json()["quotes"]
        # The serving process encodes with ONNX Runtime and never loads torch or sentence-transformers.
        maps = Path(f"/proc/{process.pid}/maps").read_text()
        assert "libonnxruntime" in maps or "onnxruntime_pybind11_state" in maps
        assert "libtorch" not in maps and "/torch/" not in maps
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


def test_cli_refuses_an_index_of_the_previous_format(seed_index: Path, tmp_path: Path) -> None:
    """An index built before the model was stored as ONNX (format 4) is refused in one line: rebuild it."""
    import shutil

    old = tmp_path / "index"
    shutil.copytree(seed_index, old)
    manifest = json.loads((old / "manifest.json").read_text())
    (old / "manifest.json").write_text(json.dumps({**manifest, "format_version": 4}))
    result = run_server_cli("--port", "0", "--index", str(old), env={})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "format 4" in result.stderr and "rebuild it with `python -m index build`" in result.stderr


def test_doc_ids_limit_the_answer_to_those_articles(http: httpx.Client) -> None:
    question = "When is Pezeshkian visiting Russia?"
    everywhere = ask(http, {"question": question}).json()
    assert {q["doc_id"] for q in everywhere["quotes"]} - {"002_ea4729bba96c6d25"}  # others answer too
    body = ask(http, {"question": question, "doc_ids": ["002_ea4729bba96c6d25"]}).json()
    assert body["quotes"] and {q["doc_id"] for q in body["quotes"]} == {"002_ea4729bba96c6d25"}
    assert {p["doc_id"] for p in body["passages"]} == {"002_ea4729bba96c6d25"}


@pytest.mark.parametrize(("doc_ids", "message"), [(["no-such-article"], "no article has the id 'no-such-article'"),
                                                  (["x"] * 101, "at most 100"), ("001", "valid list")])
def test_bad_doc_ids_are_a_422_that_says_why(http: httpx.Client, doc_ids: object, message: str) -> None:
    response = ask(http, {"question": "Why did trade fall?", "doc_ids": doc_ids})
    assert response.status_code == 422
    assert message in json.dumps(response.json())
