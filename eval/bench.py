"""`python -m eval bench`: how fast Verbatim is, against the floor of one query encode.

Measures, each `repeats` times (medians reported): in-process answer latency (Answerer.ask), question
analysis (Answerer.prepare: checks, typo repair, tagging, answer type; target p50 <= 3 ms), the floor
(one ONNX Runtime query encode, embed_queries([q]) with the index's encoder in the same run; the same
with sentence-transformers on torch beside it), /ask over HTTP through a real server
subprocess (sequential p50/p95/p99; 8 concurrent clients: throughput and p95), server cold start
(process start until /api/health answers), a fresh index build of the seed articles, the cost of
verifying the index's checksums (and its rate, extrapolated to 100,000 articles), and peak RSS of the
server (with its anonymous and file-backed resident memory at health and at the end) and of this
process. Once per run: the batch encoding rate of both encoders over the seed
index's sentences and passages at several batch sizes. Then each target of eval/targets.py, judged
against the floor. Requests go to 127.0.0.1 only, in bounded loops.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eval import EvalError
from eval.metrics import percentile

REPO = Path(__file__).resolve().parents[1]
CLIENTS = 8
PER_CLIENT = 12  # requests per concurrent client and run
START_TIMEOUT = 180.0
Say = Callable[[str], None]


def pct(values: Sequence[float]) -> dict[str, float]:
    return {f"p{q}": round(percentile(values, q) or 0.0, 2) for q in (50, 95, 99)}


def median_of(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """VmHWM (peak resident set) of a process from /proc, in MB; None where /proc is unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def resident_mb(pid: int | str = "self") -> dict[str, float]:
    """What a process holds resident now, in MB: anonymous memory (its own) and file pages (libraries,
    mapped files: the index's vectors and the model's weights, shared with the page cache)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {key[3:].lower(): round(int(line.split()[1]) / 1024, 1) for line in lines
            for key in ("RssAnon", "RssFile") if line.startswith(key + ":")}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(port: int, index_dir: Path) -> tuple[list[str], dict[str, str]] | None:
    """`python -m server`, or uvicorn with the app factory while that module does not exist yet."""
    env = {**os.environ, "VERBATIM_INDEX_DIR": str(index_dir)}
    if (REPO / "server" / "__main__.py").is_file():
        return [sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(port),
                "--index", str(index_dir)], env
    if (REPO / "server" / "app.py").is_file():
        return [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--host", "127.0.0.1",
                "--port", str(port)], env
    return None


@contextmanager
def running_server(index_dir: Path, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, float]]:
    """A real server on `index_dir` (its output appended to `log`): (process, base URL, seconds until
    /api/health answered); stopped on leaving. EvalError when this checkout has no server module or it
    does not come up."""
    import httpx

    port = free_port()
    found = server_command(port, index_dir)
    if found is None:
        raise EvalError("no server module to measure")
    command, env = found
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=os.getcwd())
    try:
        with httpx.Client(base_url=base, timeout=30.0) as client:
            while True:
                if proc.poll() is not None:
                    raise EvalError(f"the server exited ({proc.returncode}) before answering; see {log}")
                if time.perf_counter() - started > START_TIMEOUT:
                    raise EvalError(f"no answer from /api/health within {START_TIMEOUT:.0f} s; see {log}")
                try:
                    if client.get("/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        yield proc, base, time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve_and_measure(index_dir: Path, questions: Sequence[str], log: Path,
                      after: Callable[[str], None] | None = None) -> dict[str, float] | None:
    """Start a server, time its cold start, then sequential and concurrent /ask; stop it. `after(base_url)`
    runs between the two (more checks on the same live server). None when there is no server module."""
    import httpx

    if server_command(0, index_dir) is None:
        return None
    with running_server(index_dir, log) as (proc, base, cold):
        at_health = resident_mb(proc.pid)
        with httpx.Client(base_url=base, timeout=30.0) as client:
            client.post("/ask", json={"question": questions[0]})  # first request warms the route
            sequential = [timed_ask(client, q) for q in questions]
        if after is not None:
            after(base)
        wall, concurrent = run_clients(base, questions)
        return {"cold_start_s": round(cold, 2), **{f"seq_{k}_ms": v for k, v in pct(sequential).items()},
                "conc_throughput_rps": round(len(concurrent) / wall, 2),
                "conc_p50_ms": pct(concurrent)["p50"], "conc_p95_ms": pct(concurrent)["p95"],
                "server_peak_rss_mb": peak_rss_mb(proc.pid) or 0.0,
                **{f"server_{kind}_at_health_mb": mb for kind, mb in at_health.items()},
                **{f"server_{kind}_at_end_mb": mb for kind, mb in resident_mb(proc.pid).items()}}


def verification(index_dir: Path, sample_mb: int = 256) -> dict[str, float]:
    """What checking the index's checksums costs at load: on the index itself as the server does it (files
    unchanged since the build are not hashed again) and in full, and the full rate over a `sample_mb` MB
    file of random bytes, extrapolated to 100,000 articles at the seed index's bytes per article."""
    from index.integrity import checksums, problems
    from index.store import read_manifest

    manifest = read_manifest(index_dir)
    times = []
    for full in (False, True):
        t = time.perf_counter()
        if problems(index_dir, manifest.files, full=full):
            raise EvalError(f"the index at {index_dir} fails its own checksums")
        times.append((time.perf_counter() - t) * 1000)
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        folder = Path(tmp)
        with (folder / "sample.bin").open("wb") as out:
            for _ in range(sample_mb):
                out.write(os.urandom(1 << 20))
        sums = checksums(folder)
        t = time.perf_counter()
        problems(folder, sums)
        rate = sample_mb / (time.perf_counter() - t)
    # The encoder's files are the same size at any corpus size; the rest grows with the articles.
    fixed = sum(int(f["bytes"]) for name, f in manifest.files.items() if name.startswith("encoder/"))
    per_article = (sum(int(f["bytes"]) for f in manifest.files.values()) - fixed) / max(manifest.articles, 1)
    return {"verify_index_ms": round(times[0], 2), "verify_full_ms": round(times[1], 2),
            "verify_full_mb_per_s": round(rate, 1),
            "verify_full_100k_articles_s": round((fixed + per_article * 100_000) / 1e6 / rate, 2)}


def timed_ask(client: Any, question: str) -> float:
    t = time.perf_counter()
    response = client.post("/ask", json={"question": question, "top_k": 5})
    elapsed = (time.perf_counter() - t) * 1000
    if response.status_code != 200:
        raise EvalError(f"/ask answered {response.status_code}: {response.text[:200]}")
    return elapsed


def run_clients(base: str, questions: Sequence[str]) -> tuple[float, list[float]]:
    """CLIENTS threads, each sending PER_CLIENT requests back to back; (wall seconds, latencies)."""
    import httpx

    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def client(n: int) -> None:
        try:
            with httpx.Client(base_url=base, timeout=60.0) as c:
                for i in range(PER_CLIENT):
                    ms = timed_ask(c, questions[(n * PER_CLIENT + i) % len(questions)])
                    with lock:
                        latencies.append(ms)
        except (EvalError, httpx.HTTPError) as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise EvalError(f"concurrent clients failed: {errors[0]}")
    return time.perf_counter() - started, latencies


def main(repeats: int, index_dir: Path | None, reports: Path, say: Say = print) -> int:
    from eval.gold import load_gold
    from eval.targets import judge, table
    from index.build import build
    from index.embed import Embedder
    from index.settings import Settings
    from server.answerer import Answerer

    if repeats < 1:
        raise EvalError("--repeats must be at least 1")
    settings = Settings(index_dir=index_dir) if index_dir is not None else Settings()
    index_dir = settings.index_dir.resolve()
    questions = [q.question for q in load_gold(REPO / "eval" / "gold.jsonl")]
    build(settings, progress=False, say=lambda _: None)
    answerer = Answerer.load(settings)
    embedder = answerer.embedder
    answerer.ask(questions[0])  # warm-up
    torch_embedder = Embedder(settings.resolved_model_dir())
    torch_embedder.embed_queries(questions[:1])
    rates = encode_rates(answerer, {"onnx": embedder, "torch": torch_embedder}, say)
    runs: list[dict[str, float]] = []
    served: list[dict[str, float]] = []
    log = Path(tempfile.gettempdir()) / "verbatim-bench-server.log"
    for r in range(repeats):
        say(f"Run {r + 1}/{repeats}: in process, floor, build ...")
        floor = [timed(embedder.embed_queries, [q]) for q in questions]
        torch_floor = [timed(torch_embedder.embed_queries, [q]) for q in questions]
        answers = [timed(answerer.ask, q) for q in questions]
        analysis = [timed(answerer.prepare, q) for q in questions]
        with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
            t = time.perf_counter()
            build(settings, out=Path(tmp) / "index", progress=False, say=lambda _: None)
            build_s = time.perf_counter() - t
        runs.append({**{f"floor_{k}_ms": v for k, v in pct(floor).items()},
                     **{f"torch_floor_{k}_ms": v for k, v in pct(torch_floor).items()},
                     **{f"answer_{k}_ms": v for k, v in pct(answers).items()},
                     **{f"analysis_{k}_ms": v for k, v in pct(analysis).items()}, "build_s": round(build_s, 2),
                     **verification(index_dir)})
        say(f"Run {r + 1}/{repeats}: server ...")
        measured = serve_and_measure(index_dir, questions, log)
        if measured is None:
            say("  no server module yet (server/__main__.py or server/app.py): HTTP figures skipped")
        else:
            served.append(measured)
    result: dict[str, Any] = {"repeats": repeats, "questions": len(questions), "cpus": os.cpu_count(),
                              "index": str(index_dir), "clients": CLIENTS, "requests_per_client": PER_CLIENT,
                              **median_of(runs), **(median_of(served) if served else {}),
                              "bench_peak_rss_mb": peak_rss_mb(), "encode_rates": rates, "runs": runs,
                              "server_runs": served}
    result["targets"] = [{"name": t.name, "value": t.value, "limit": t.limit, "unit": t.unit, "met": t.met}
                         for t in judge(result)]
    reports.mkdir(parents=True, exist_ok=True)
    out = reports / "bench.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    floor_ms = result["floor_p50_ms"]
    say(f"\nMedians of {repeats} run(s); floor = one query encode, p50 {floor_ms:.1f} ms")
    for key, value in result.items():
        if isinstance(value, int | float) and key not in ("repeats", "questions", "cpus", "clients",
                                                          "requests_per_client"):
            ratio = f"  ({value / floor_ms:.1f}x floor)" if key.endswith("_ms") and floor_ms else ""
            say(f"  {key:24s} {value:10.2f}{ratio}")
    say("\nBatch encoding at build time (texts/s):")
    for row, rate in rates.items():
        say(f"  {row:24s} {rate:10.1f}")
    say(f"\nTargets (floor = one ONNX query encode, p50 {floor_ms:.2f} ms; torch: "
        f"{result.get('torch_floor_p50_ms', 0):.2f} ms):")
    for line in table(judge(result)):
        say(line)
    say(f"Wrote {out}")
    return 0


BATCH_SIZES = (8, 32, 128)


def encode_rates(answerer: Any, encoders: dict[str, Any], say: Say) -> dict[str, float]:
    """Texts per second each encoder embeds the seed index's sentences and passages at, per batch size."""
    from index.build import embedding_text

    index = answerer.index
    texts = {"sentences": [s.text for s in index.sentences],
             "passages": [embedding_text(index.articles[p.doc_id].title, p.text) for p in index.passages]}
    rates: dict[str, float] = {}
    say("Batch encoding rates ...")
    for kind, batch in texts.items():
        for size in BATCH_SIZES:
            for name, encoder in encoders.items():
                started = time.perf_counter()
                encoder.embed_passages(batch, batch_size=size)
                rates[f"{name} {kind} b{size}"] = round(len(batch) / (time.perf_counter() - started), 1)
    return rates


def timed(fn: Callable[[Any], object], arg: Any) -> float:
    """Milliseconds one call takes."""
    t = time.perf_counter()
    fn(arg)
    return (time.perf_counter() - t) * 1000
