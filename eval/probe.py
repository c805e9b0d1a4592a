"""`python -m eval probe`: a real server probed as an attacker and an operator would. First every class of
bad input in CLASSES, each sent once on its own connection (target: no 5xx, no dropped connection); then
32 clients for 60 s with one poisoned request a second (a lone surrogate) and a rebuild of the index
(one article added) half-way, which the server must hot-swap in (target: no innocent request fails).
The seed articles are copied to var/probe/ and indexed there; the server runs on a free port of 127.0.0.1
and every loop is bounded in time."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Target:
    """The probed server (on 127.0.0.1) and the folder holding its articles and index."""

    port: int
    work: Path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"http://{self.host}"


def raw(t: Target, data: bytes, timeout: float = 40) -> bytes:
    with socket.create_connection(("127.0.0.1", t.port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return out


def post_raw(t: Target, body: bytes, ctype: bytes = b"application/json", extra: bytes = b"") -> bytes:
    return raw(t, b"POST /ask HTTP/1.1\r\nHost: " + t.host.encode() + b"\r\nContent-Type: " + ctype +
               b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n" + extra +
               b"\r\n" + body)


def get_raw(t: Target, target: bytes, headers: bytes = b"") -> bytes:
    return raw(t, b"GET " + target + b" HTTP/1.1\r\nHost: " + t.host.encode() + b"\r\nConnection: close\r\n" +
               headers + b"\r\n")


def status(response: bytes) -> int:
    try:
        return int(response.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0  # closed without a response


def classes(t: Target) -> dict[str, Callable[[], bytes]]:
    """Every class of bad input, each a call that sends it and returns the raw response."""
    return {
        "empty body": lambda: post_raw(t, b""),
        "not JSON": lambda: post_raw(t, b"{"),
        "JSON array": lambda: post_raw(t, b"[]"),
        "JSON null": lambda: post_raw(t, b"null"),
        "JSON string": lambda: post_raw(t, b'"q"'),
        "JSON number": lambda: post_raw(t, b"5"),
        "question missing": lambda: post_raw(t, b"{}"),
        "question null": lambda: post_raw(t, b'{"question": null}'),
        "question number": lambda: post_raw(t, b'{"question": 5}'),
        "question list": lambda: post_raw(t, b'{"question": ["a"]}'),
        "question object": lambda: post_raw(t, b'{"question": {"a": 1}}'),
        "question empty": lambda: post_raw(t, b'{"question": ""}'),
        "question spaces": lambda: post_raw(t, b'{"question": "   \\n\\t "}'),
        "question zero-width": lambda: post_raw(t, '{"question": "\u200b\u200b\ufeff"}'.encode()),
        "question NULs": lambda: post_raw(t, b'{"question": "\\u0000\\u0000"}'),
        "question lone surrogate escape": lambda: post_raw(t, b'{"question": "a \\ud800 b"}'),
        "question raw surrogate bytes": lambda: post_raw(t, b'{"question": "a \xed\xa0\x80 b"}'),
        "body invalid UTF-8": lambda: post_raw(t, b'{"question": "\xff\xfe"}'),
        "body latin-1": lambda: post_raw(t, '{"question": "caf\u00e9?"}'.encode("latin-1")),
        "question 1001 chars": lambda: post_raw(t, json.dumps({"question": "a" * 1001}).encode()),
        "question 10,000 capitalised words": lambda: post_raw(
            t, json.dumps({"question": " ".join(["Xyz"] * 8000)}).encode()),
        "question RTL/combining": lambda: post_raw(t, json.dumps({"question": "\u202e\u0301\u0301 who?"}).encode()),
        "question emoji": lambda: post_raw(t, json.dumps({"question": "\U0001F600 Lavrov?"}).encode()),
        "question HTML/script": lambda: post_raw(t, json.dumps({"question": "<script>alert(1)</script>"}).encode()),
        "question SQL": lambda: post_raw(t, json.dumps({"question": "' OR 1=1; --"}).encode()),
        "question control chars": lambda: post_raw(t, json.dumps({"question": "a\x07\x1b[31mb"}).encode()),
        "top_k 0": lambda: post_raw(t, b'{"question": "q", "top_k": 0}'),
        "top_k 21": lambda: post_raw(t, b'{"question": "q", "top_k": 21}'),
        "top_k -1": lambda: post_raw(t, b'{"question": "q", "top_k": -1}'),
        "top_k 13.0": lambda: post_raw(t, b'{"question": "q", "top_k": 13.0}'),
        "top_k 13.5": lambda: post_raw(t, b'{"question": "q", "top_k": 13.5}'),
        "top_k 1e999": lambda: post_raw(t, b'{"question": "q", "top_k": 1e999}'),
        "top_k huge int": lambda: post_raw(t, b'{"question": "q", "top_k": ' + b"9" * 5000 + b"}"),
        "top_k string": lambda: post_raw(t, b'{"question": "q", "top_k": "5"}'),
        "top_k bool": lambda: post_raw(t, b'{"question": "q", "top_k": true}'),
        "top_k NaN": lambda: post_raw(t, b'{"question": "q", "top_k": NaN}'),
        "extra field": lambda: post_raw(t, b'{"question": "q", "admin": true}'),
        "duplicate keys": lambda: post_raw(t, b'{"question": "q", "question": ""}'),
        "deep nesting": lambda: post_raw(t, b'{"question": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
        "body 65 KB": lambda: post_raw(t, json.dumps({"question": "a" * 66000}).encode()),
        "content-length lies high": lambda: raw(t, b"POST /ask HTTP/1.1\r\nHost: " + t.host.encode() +
                                            b"\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{}"),
        "chunked body": lambda: raw(t, b"POST /ask HTTP/1.1\r\nHost: " + t.host.encode() + b"\r\nContent-Type: "
                                b"application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                                b"11\r\n{\"question\": \"q\"}\r\n0\r\n\r\n"),
        "form content-type": lambda: post_raw(t, b"question=q", b"application/x-www-form-urlencoded"),
        "text content-type": lambda: post_raw(t, b'{"question": "q"}', b"text/plain"),
        "GET /ask": lambda: get_raw(t, b"/ask"),
        "DELETE /ask": lambda: raw(t, b"DELETE /ask HTTP/1.1\r\nHost: " + t.host.encode()
                                   + b"\r\nConnection: close\r\n\r\n"),
        "HEAD /api/health": lambda: raw(t, b"HEAD /api/health HTTP/1.1\r\nHost: " + t.host.encode() +
                                    b"\r\nConnection: close\r\n\r\n"),
        "path traversal": lambda: get_raw(t, b"/api/articles/..%2f..%2fetc%2fpasswd"),
        "static traversal": lambda: get_raw(t, b"/static/../../pyproject.toml"),
        "CRLF in path": lambda: get_raw(t, b"/x%0d%0aGET%20/admin"),
        "NUL in path": lambda: get_raw(t, b"/api/articles/%00"),
        "unknown doc id": lambda: get_raw(t, b"/api/articles/nope"),
        "very long path": lambda: get_raw(t, b"/" + b"a" * 20000),
        "huge header": lambda: get_raw(t, b"/api/health", b"X-Big: " + b"a" * 70000 + b"\r\n"),
        "evil Host": lambda: raw(t, b"GET /api/articles HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"),
        "page ?q= empty": lambda: get_raw(t, b"/?q="),
        "page ?q= surrogate": lambda: get_raw(t, b"/?q=%ED%A0%80"),
        "page ?q= zero-width": lambda: get_raw(t, b"/?q=%E2%80%8B"),
        "page ?q= huge": lambda: get_raw(t, b"/?q=" + b"a" * 5000),
        "article page unknown": lambda: get_raw(t, b"/articles/nope"),
        "garbage request line": lambda: raw(t, b"\x16\x03\x01\x02\x00\x01\x00\r\n\r\n"),
        "HTTP/1.0 no Host": lambda: raw(t, b"GET /api/health HTTP/1.0\r\n\r\n"),
    }


def bad_inputs(t: Target) -> tuple[int, Counter[int], list[str]]:
    seen: Counter[int] = Counter()
    fivexx = []
    found = classes(t)
    for name, fn in found.items():
        code = status(fn())
        seen[code] += 1
        if code >= 500 or code == 0 and name not in ("garbage request line",):
            fivexx.append(f"{name}: {code}")
    return len(found), seen, fivexx


def load(t: Target, seconds: float, clients: int, swap_at: float | None) -> dict[str, object]:
    questions = [json.loads(line)["question"] for line in (REPO / "eval" / "gold.jsonl").read_text().splitlines()
                 if line.strip()]
    stop = threading.Event()
    lock = threading.Lock()
    innocent: Counter[str] = Counter()
    poisoned: Counter[int] = Counter()
    failures: list[str] = []
    articles_seen: set[int] = set()

    def client(n: int) -> None:
        i = n
        with httpx.Client(base_url=t.base, timeout=120) as c:
            while not stop.is_set():
                i += clients
                try:
                    if i % 5 == 0:
                        r = c.get("/api/articles")
                        if r.status_code == 200:
                            with lock:
                                articles_seen.add(r.json()["total"])
                    else:
                        r = c.post("/ask", json={"question": questions[i % len(questions)]})
                    ok = r.status_code == 200
                except httpx.HTTPError as exc:
                    ok, r = False, None
                    failures.append(repr(exc))
                with lock:
                    innocent["ok" if ok else "failed"] += 1
                    if not ok and r is not None:
                        failures.append(f"{r.status_code} {r.text[:100]}")

    def poisoner() -> None:
        with httpx.Client(base_url=t.base, timeout=120) as c:
            while not stop.is_set():
                r = c.post("/ask", content=b'{"question": "a \\ud800 b"}', headers={"content-type": "application/json"})
                poisoned[r.status_code] += 1
                stop.wait(1.0)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)] + [threading.Thread(target=poisoner)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    swapped = None
    if swap_at is not None:
        time.sleep(swap_at)
        (t.work / "articles" / "probe-new.txt").write_text(
            "Harbour works\n\nThe port authority said on Monday that the new harbour wall will cost $12 million. "
            "Work starts in May and should end before the winter storms.\n", encoding="utf-8")
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-m", "index", "build", "--articles", str(t.work / "articles"), "--out",
                        str(t.work / "index"), "--quiet"], check=True, cwd=REPO, capture_output=True)
        swapped = round(time.monotonic() - t0, 1)
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    stop.set()
    for thread in threads:
        thread.join()
    return {"seconds": round(time.monotonic() - started, 1), "clients": clients, "innocent": dict(innocent),
            "poisoned": dict(poisoned), "failures": failures[:5], "articles_seen": sorted(articles_seen),
            "rebuild_s": swapped}


def main(seconds: float = 60.0, clients: int = 32) -> int:
    """Exit code 1 when a bad input got a 5xx (or no answer), or an innocent request failed."""
    from eval.bench import free_port

    t = Target(free_port(), Path("var/probe").resolve())
    shutil.rmtree(t.work, ignore_errors=True)
    t.work.mkdir(parents=True)
    shutil.copytree(REPO / "data" / "articles", t.work / "articles")
    subprocess.run([sys.executable, "-m", "index", "build", "--articles", str(t.work / "articles"), "--out",
                    str(t.work / "index"), "--quiet"], check=True, cwd=REPO, capture_output=True)
    log = (t.work / "server.log").open("wb")
    env = {**os.environ, "VERBATIM_ARTICLES_DIR": str(t.work / "articles")}
    proc = subprocess.Popen([sys.executable, "-m", "server", "--port", str(t.port), "--index", str(t.work / "index")],
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{t.base}/api/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"error: the server did not start; see {t.work / 'server.log'}")
            time.sleep(0.2)
        n, seen, fivexx = bad_inputs(t)
        print(f"bad-input classes: {n}; statuses {dict(sorted(seen.items()))}; 5xx or no response: {fivexx}")
        result = load(t, seconds, clients, swap_at=seconds / 2)
        print("load:", json.dumps(result))
        print("server still healthy:", httpx.get(f"{t.base}/api/health", timeout=10).json())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    innocent = result["innocent"]
    return 1 if fivexx or (isinstance(innocent, dict) and innocent.get("failed")) else 0
