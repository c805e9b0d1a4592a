"""The HTTP edge against a hostile or careless client, on real servers: a crash is a clean 500 that
closes its connection, other Host names are refused (DNS rebinding), HEAD works, log lines cannot be
forged, integers are read as JSON Schema reads them, and slow clients are cut off."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from index.settings import Settings
from server.answerer import Answerer
from server.app import create_app
from server.middleware import host_name, printable, trusted
from tests.live_server import serve

pytest_plugins = ["live_server"]

SECURITY = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


@pytest.fixture(scope="module")
def failing_server(seed_settings: Settings, answerer: Answerer) -> Iterator[str]:
    """A real server with one extra route that always raises."""
    app: FastAPI = create_app(settings=seed_settings.model_copy(update={"read_timeout": 2.0}), answerer=answerer)

    def boom() -> None:
        raise RuntimeError("forced failure for the test")

    app.add_api_route("/api/boom", boom, methods=["GET"])
    with serve(app) as base:
        yield base


def test_a_500_carries_the_security_headers_and_never_breaks_the_next_request(failing_server: str) -> None:
    with httpx.Client(base_url=failing_server, timeout=30) as client:
        for _ in range(20):
            crashed = client.get("/api/boom")
            assert crashed.status_code == 500
            assert crashed.json() == {"error": "Something went wrong on the server; the log says what."}
            assert crashed.headers["connection"] == "close"
            assert all(name in crashed.headers for name in SECURITY)
            assert client.get("/api/health").status_code == 200  # the next request, same client


def raw(base: str, data: bytes, read_until_closed: bool = True) -> bytes:
    """Send bytes on one new connection; what the server sends back until it closes (30 s at most)."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
            if not read_until_closed:
                break
        return received


def test_after_a_500_the_same_connection_is_closed_not_left_half_used(failing_server: str) -> None:
    host = urlsplit(failing_server).netloc.encode()
    two = (b"GET /api/boom HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
           b"GET /api/health HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    received = raw(failing_server, two)
    assert received.startswith(b"HTTP/1.1 500") and b"connection: close" in received.lower()
    assert received.count(b"HTTP/1.1 ") == 1  # closed cleanly after the 500: the client retries elsewhere


# ---- trusted hosts ----

def test_trusted_host_names() -> None:
    assert host_name("LocalHost.:8000") == "localhost" and host_name("[::1]:80") == "::1"
    assert host_name("127.0.0.1") == "127.0.0.1"
    assert trusted("127.0.0.1", "") == {"localhost", "127.0.0.1", "::1"}
    assert trusted("0.0.0.0", "") == {"localhost", "127.0.0.1", "::1"}  # a wildcard is no name
    assert trusted("192.168.1.5", "verbatim.lan, Docs.Example:8000") == {
        "localhost", "127.0.0.1", "::1", "192.168.1.5", "verbatim.lan", "docs.example"}
    assert trusted("::1", "*") is None


def test_other_host_names_are_refused_and_never_echoed(live_server: str) -> None:
    port = urlsplit(live_server).port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST"):
        assert httpx.get(f"{live_server}/api/health", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", "localhost.evil"):
        refused = httpx.get(f"{live_server}/api/articles", headers={"host": host})
        assert refused.status_code == 400, host
        assert "VERBATIM_TRUSTED_HOSTS" in refused.json()["error"] and "evil" not in refused.text
        assert all(name in refused.headers for name in SECURITY)
    page = httpx.get(f"{live_server}/", headers={"host": "evil.example", "accept": "text/html"})
    assert page.status_code == 400 and "text/html" in page.headers["content-type"]


def test_redirects_never_carry_the_host_header(live_server: str) -> None:
    port = urlsplit(live_server).port
    response = httpx.get(f"{live_server}/api/health/", headers={"host": f"localhost:{port}"})
    assert response.status_code in (301, 307, 308)
    assert response.headers["location"] == "/api/health"


def test_a_setting_adds_host_names(seed_settings: Settings, answerer: Answerer) -> None:
    app = create_app(settings=seed_settings.model_copy(update={"trusted_hosts": "verbatim.lan"}), answerer=answerer)
    with serve(app) as base:
        assert httpx.get(f"{base}/api/health", headers={"host": "verbatim.lan:8000"}).status_code == 200
        assert httpx.get(f"{base}/api/health", headers={"host": "other.lan"}).status_code == 400


# ---- HEAD, log lines, integers ----

@pytest.mark.parametrize("path", ["/api/health", "/api/articles", "/", "/openapi.json", "/static/app.css"])
def test_head_on_get_routes(http: httpx.Client, path: str) -> None:
    head, get = http.head(path), http.get(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    assert all(name in head.headers for name in SECURITY)
    assert http.head("/ask").status_code == 405


def test_a_path_cannot_forge_a_log_line(http: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    assert printable("/a\r\nGET /admin 200\x00") == "/a\\r\\nGET /admin 200\\x00"
    with caplog.at_level(logging.INFO, logger="verbatim.http"):
        http.get("/nothing%0d%0aGET%20/api/health%20200%200.1ms")
        # the server thread logs the request after the response has gone out: wait for the line
        deadline = time.monotonic() + 30
        forged: list[str] = []
        while not forged and time.monotonic() < deadline:
            lines = [r.getMessage() for r in caplog.records if r.name == "verbatim.http"]
            forged = [line for line in lines if "nothing" in line]
            time.sleep(0.02)
    assert forged and all("\n" not in line and "\r" not in line for line in forged)
    assert "\\r\\n" in forged[0]


@pytest.mark.parametrize(("top_k", "status"), [(3, 200), (3.0, 200), (20.0, 200), (3.5, 422), ("3", 422),
                                               (True, 422), (None, 422), (1e300, 422), (0.0, 422)])
def test_top_k_is_an_integer_as_json_schema_means_it(http: httpx.Client, top_k: object, status: int) -> None:
    response = http.post("/ask", json={"question": "Who met in Tehran?", "top_k": top_k})
    assert response.status_code == status, response.text
    if status == 200:
        assert len(response.json()["passages"]) == int(top_k)  # type: ignore[call-overload]
    else:
        assert "top_k" in response.json()["error"]


@pytest.mark.parametrize("question", ["\u200b\u200b", "\x00", "\x00\u200b \ufeff", "\u2060\u00ad"])
def test_invisible_only_questions_are_empty(http: httpx.Client, question: str) -> None:
    response = http.post("/ask", json={"question": question})
    assert response.status_code == 422 and "empty" in response.json()["error"]


# ---- slow clients ----

def test_slow_request_headers_are_cut_off(failing_server: str) -> None:
    """read_timeout is 2 s on this server: headers that never finish get a 408 and the connection closes
    (recv returns once the server closes it, not when a client-side timer runs out)."""
    received = raw(failing_server, b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
    assert received.startswith(b"HTTP/1.1 408")
    assert raw(failing_server, b"").startswith(b"HTTP/1.1 408")  # a connection that sends nothing at all


def test_a_slow_body_is_cut_off(failing_server: str) -> None:
    host = urlsplit(failing_server).netloc.encode()
    head = (b"POST /ask HTTP/1.1\r\nHost: " + host + b"\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{\"question\": ")
    received = raw(failing_server, head)
    assert received.startswith(b"HTTP/1.1 408") and b"took longer than 2 s" in received
    assert b"connection: close" in received.lower()


def test_keep_alive_still_works_with_the_deadline(failing_server: str) -> None:
    with httpx.Client(base_url=failing_server, timeout=30) as client:
        for _ in range(5):
            assert client.get("/api/health").status_code == 200
