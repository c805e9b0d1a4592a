"""The first asking of a question (issue 11): what `/ask` costs when the index is not in the page cache.

An archive's index (about 20 GB at 100,000 articles) does not stay in the page cache of the machine
that serves it, so a question asked for the first time reads from the disk whatever its search and its
candidates touch. `first_asking` starts a real server on an index, then asks each question once, every
index file dropped from the page cache just before (`posix_fadvise(POSIX_FADV_DONTNEED)`, file by file),
and records per question the latency and the bytes the server read from storage (`read_bytes` of
`/proc/PID/io`), and which files they came from: each index file's bytes in the page cache before and
after the question (util-linux `fincore`; without it, no per-file figures), segments of one file summed.
Pages the server itself holds mapped (from earlier questions) cannot be dropped that way; they are what
a running server keeps anyway.

`python -m eval.cold INDEX [INDEX ...] --out var/cold.json` measures indexes already built, one after
the other; `python -m eval scale` adds the same figures to each size's row of scale.json.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval import EvalError
from eval.metrics import percentile
from index.segments import matrix_name

__all__ = ["drop_cached", "first_asking", "read_bytes", "resident"]

WARM_UP = "What is this archive about?"  # asked first (not measured): the route's own first-call costs
Say = Callable[[str], None]


def drop_cached(folder: Path) -> int:
    """Drop every file under `folder` (links followed) from the page cache; the bytes of the files."""
    total = 0
    for path in sorted(Path(folder).resolve().rglob("*")):
        if not path.is_file():
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            total += os.fstat(fd).st_size
        finally:
            os.close(fd)
    return total


def read_bytes(pid: int) -> int:
    """The bytes process `pid` has made the kernel fetch from storage (`/proc/PID/io` `read_bytes`)."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("read_bytes:"):
                return int(line.split()[1])
    except OSError as exc:
        raise EvalError(f"cannot read /proc/{pid}/io ({exc.strerror or exc}): the probe needs Linux's "
                        "per-process I/O counters") from exc
    raise EvalError(f"/proc/{pid}/io has no read_bytes line")


def resident(folder: Path) -> Counter[str]:
    """The bytes of each file under `folder` in the page cache (`fincore`), by file, the segments of one
    file (`match_vectors.3.npy`) counted as the file (`match_vectors.npy`); empty without `fincore`."""
    tool = shutil.which("fincore")
    root = Path(folder).resolve()
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    if tool is None or not files:
        return Counter()
    listed = subprocess.run([tool, "--bytes", "--noheadings", "--raw", "--output", "RES,FILE", *files],
                            cwd=root, capture_output=True, text=True, check=False).stdout
    found: Counter[str] = Counter()
    for line in listed.splitlines():
        size, _, name = line.partition(" ")
        if size.isdigit():
            found[matrix_name(name)] += int(size)
    return found


def first_asking(index_dir: Path, questions: Sequence[str], log: Path) -> dict[str, Any]:
    """Each question asked once of a fresh server on `index_dir`, the index dropped from the page cache
    before each: p50/p95 latency (ms), the median and total bytes the server read, the mean bytes each
    index file gained in the page cache (KB, largest first), with the per-question figures."""
    import httpx

    from eval.bench import running_server

    if not questions:
        raise EvalError("no questions to ask")
    latencies: list[float] = []
    reads: list[int] = []
    gained: Counter[str] = Counter()
    with running_server(index_dir, log) as (proc, base, _), httpx.Client(base_url=base, timeout=120.0) as client:
        client.post("/ask", json={"question": WARM_UP})
        for question in questions:
            drop_cached(index_dir)
            cached = resident(index_dir)  # what the server holds mapped stays: only the gain counts
            before = read_bytes(proc.pid)
            started = time.perf_counter()
            response = client.post("/ask", json={"question": question, "top_k": 5})
            latencies.append((time.perf_counter() - started) * 1000)
            reads.append(read_bytes(proc.pid) - before)
            if response.status_code != 200:
                raise EvalError(f"/ask answered {response.status_code}: {response.text[:200]}")
            gained.update({name: size - cached[name] for name, size in resident(index_dir).items()
                           if size > cached[name]})
    return {"first_p50_ms": round(percentile(latencies, 50) or 0.0, 2),
            "first_p95_ms": round(percentile(latencies, 95) or 0.0, 2),
            "first_read_bytes_median": int(statistics.median(reads)), "first_read_bytes_total": sum(reads),
            "first_questions": len(questions),
            "first_cached_kb_by_file": {name: round(size / len(questions) / 1000, 1)
                                        for name, size in gained.most_common()},
            "first_per_question": [{"ms": round(ms, 2), "read_bytes": b}
                                   for ms, b in zip(latencies, reads, strict=True)]}


def main(indexes: Sequence[Path], out: Path, shared: Path | None = None, say: Say = print) -> int:
    from eval.scale import each_index

    each_index(indexes, out, shared, say, "first asking on", first_asking)
    return 0


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m eval.cold", description=__doc__.split("\n\n")[0])
    parser.add_argument("indexes", type=Path, nargs="+", help="index folders")
    parser.add_argument("--out", type=Path, default=Path("var/cold.json"))
    parser.add_argument("--shared", type=Path, default=None,
                        help="folder holding datasets/ (default: ../shared, beside the main checkout in a worktree)")
    parsed = parser.parse_args()
    try:
        sys.exit(main(parsed.indexes, parsed.out, parsed.shared))
    except EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
