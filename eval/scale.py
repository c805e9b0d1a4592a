"""`python -m eval scale` (`make bench-scale`): Verbatim on synthetic archives of growing size.

For each size N (default 1,000, 10,000 and 100,000 articles) it writes an archive with
`../shared/tools/make_archive.py` (real SciFact and SQuAD prose; paragraphs recur across articles as
syndicated copy does), builds it with the hashing encoder (`python -m index build --encoder hash`: the
model work replaced by a cheap deterministic stand-in, so everything but the model is measured; above
10,000 articles with `--step 10000`, as a user would build an archive that large), then reports the
build's time and peak memory, the index's size on disk, the server's cold start and peak RSS, `/ask`
latency (sequential p50/p95, 8 clients), whether every quote is verbatim, the first asking of each
question with the index dropped from the page cache (eval.cold: p50/p95 and the bytes read from the
disk), and the time of an incremental build that adds 100 articles. The real model's build throughput,
measured on a sample of articles, turns each hashing build time into an estimate for the real encoder.
Writes eval/reports/scale.json and scale.svg (p50 and server RSS against corpus size).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval import EvalError

REPO = Path(__file__).resolve().parents[1]
GROWTH = 100  # articles added by the incremental build
# One build of more new articles than this holds them all in memory at once (13 GB for 10,000 new ones
# beside 50,000, session 7): larger sizes are built this many at a time (index.steps), as a user would.
STEP = 10_000
QUESTIONS = 60
Say = Callable[[str], None]


def default_shared(repo: Path = REPO) -> Path:
    """The folder holding tools/make_archive.py and datasets/: `shared` beside the project, or beside
    the main checkout when `repo` is a git worktree (its .git is a file naming the main one's
    .git/worktrees/NAME); the first of them when neither holds the tool."""
    candidates = [repo.parent / "shared"]
    marker = repo / ".git"
    if marker.is_file():
        text = marker.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            gitdir = Path(text.split(":", 1)[1].strip())
            if len(gitdir.parents) > 3 and gitdir.parent.name == "worktrees":
                candidates.append(gitdir.parents[2].parent / "shared")
    found = [c for c in candidates if (c / "tools" / "make_archive.py").is_file()]
    return (found or candidates)[0]


def archive(n: int, folder: Path, shared: Path, say: Say) -> Path:
    """The archive of `n` articles in `folder` (written once; make_archive is deterministic in n and seed,
    and its first n articles are the same whatever n it is asked for)."""
    if (folder / "metadata.jsonl").is_file() and sum(1 for _ in folder.glob("a*.txt")) == n:
        return folder
    tool = shared / "tools" / "make_archive.py"
    if not tool.is_file():
        raise EvalError(f"{tool} is missing: pass --shared DIR, the folder holding tools/make_archive.py")
    shutil.rmtree(folder, ignore_errors=True)
    say(f"  writing an archive of {n:,} articles into {folder} ...")
    subprocess.run([sys.executable, str(tool), str(n), str(folder)], check=True, stdout=subprocess.DEVNULL)
    return folder


def first_articles(source: Path, n: int, folder: Path) -> Path:
    """A folder holding the first `n` articles of `source` (hard links) and their metadata lines."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    names = sorted(p.name for p in source.glob("a*.txt"))[:n]
    for name in names:
        os.link(source / name, folder / name)
    keep = {name.removesuffix(".txt") for name in names}
    lines = (source / "metadata.jsonl").read_text(encoding="utf-8").splitlines()
    (folder / "metadata.jsonl").write_text(
        "".join(line + "\n" for line in lines if json.loads(line)["doc_id"] in keep), encoding="utf-8")
    return folder


def timed_build(articles: Path, out: Path, encoder: str, log: Path, step: int | None = None) -> dict[str, float]:
    """`python -m index build` in a child process (with `step`, `--step N`: the new articles N at a
    time): wall seconds and the child's own peak RSS (of the largest step)."""
    command = [sys.executable, "-m", "index", "build", "--articles", str(articles), "--out", str(out),
               "--encoder", encoder, "--quiet", *(["--step", str(step)] if step else [])]
    with log.open("ab") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise EvalError(f"the build of {articles} failed ({proc.returncode}); see {log}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def squad_questions(shared: Path, n: int) -> list[str]:
    """Questions about the archive's text: `n` SQuAD dev questions spread over the set (its paragraphs are
    in the archive)."""
    path = shared / "datasets" / "squad-v1.1" / "dev-v1.1.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvalError(f"cannot read {path} ({exc.strerror or exc}): pass --shared DIR") from exc
    found = [qa["question"] for art in raw["data"] for par in art["paragraphs"] for qa in par["qas"]]
    return found[:: max(1, len(found) // n)][:n]


def verbatim_share(base: str, questions: Sequence[str]) -> tuple[int, int]:
    """(quotes checked, quotes equal to article_text[start:end]) over the answers to `questions`."""
    import httpx

    checked = good = 0
    texts: dict[str, str] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for q in questions:
            for quote in client.post("/ask", json={"question": q}).json()["quotes"]:
                doc = quote["doc_id"]
                if doc not in texts:
                    texts[doc] = client.get(f"/api/articles/{doc}").json()["text"]
                checked += 1
                good += texts[doc][quote["start"]:quote["end"]] == quote["text"]
    return checked, good


def served(index_dir: Path, questions: Sequence[str], log: Path) -> dict[str, Any]:
    """Cold start, latency, throughput and RSS of a real server on the index, and the verbatim check;
    then a second server's first asking of each question, the index dropped from the page cache before
    each (eval.cold: latency and bytes read from the disk)."""
    from eval.bench import serve_and_measure
    from eval.cold import first_asking

    found: dict[str, Any] = {}

    def check(base: str) -> None:
        checked, good = verbatim_share(base, questions[:20])
        found.update(quotes_checked=checked, quotes_verbatim=good)

    measured = serve_and_measure(index_dir, questions, log, after=check)
    if measured is None:
        raise EvalError("no server module to measure")
    return {**measured, **found, **first_asking(index_dir, questions, log)}


def real_throughput(source: Path, sample: int, work: Path, log: Path, say: Say) -> dict[str, float]:
    """The real model's steady build rate: one article is built first (it pays the one-time model export),
    then the first `sample` articles incrementally (the export is reused, only new articles are
    embedded); sentences of the second build per second of it."""
    from index.store import read_manifest

    out = work / f"real-index-{sample}"
    shutil.rmtree(out, ignore_errors=True)
    say(f"  real-model build of {sample} articles ...")
    first = timed_build(first_articles(source, 1, work / "real-1"), out, "model", log)
    before = read_manifest(out).sentences
    build = timed_build(first_articles(source, sample, work / f"real-{sample}"), out, "model", log)
    sentences = read_manifest(out).sentences - before
    shutil.rmtree(out, ignore_errors=True)
    return {"articles": sample, "sentences": sentences, "seconds": build["seconds"],
            "first_build_s": first["seconds"], "sentences_per_s": round(sentences / build["seconds"], 1)}


def measure_size(n: int, work: Path, shared: Path, questions: Sequence[str], log: Path,
                 say: Say) -> dict[str, Any]:
    from index.store import folder_size, read_manifest

    grown = archive(n + GROWTH, work / f"archive-{n + GROWTH}", shared, say)
    base = first_articles(grown, n, work / f"archive-{n}")
    out = work / f"index-{n}"
    shutil.rmtree(out, ignore_errors=True)
    step = STEP if n > STEP else None
    say(f"  building {n:,} articles with the hashing encoder" + (f", {step:,} at a time" if step else "") + " ...")
    build = timed_build(base, out, "hash", log, step)
    manifest = read_manifest(out)
    say(f"  serving {n:,} articles ...")
    server = served(out, questions, log)
    say(f"  adding {GROWTH} articles ...")
    grow = timed_build(grown, out, "hash", log)
    return {"articles": n, "passages": manifest.passages, "sentences": manifest.sentences,
            "build_s": build["seconds"], "build_peak_rss_mb": build["peak_rss_mb"],
            "build_steps": -(-n // step) if step else 1, "index_mb": round(folder_size(out) / 1e6, 1), **server,
            f"add_{GROWTH}_s": grow["seconds"], f"add_{GROWTH}_peak_rss_mb": grow["peak_rss_mb"]}


def svg_chart(rows: Sequence[dict[str, Any]], width: int = 640, height: int = 320) -> str:
    """/ask p50 (ms, left axis) and server peak RSS (MB, right axis) against articles (log scale)."""
    import math

    if not rows:
        return ""
    left, right, top, bottom = 60, 60, 20, 40
    xs = [math.log10(r["articles"]) for r in rows]
    lo, hi = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (width - left - right)

    def line(key: str, colour: str) -> str:
        peak = max(r[key] for r in rows) or 1.0
        points = " ".join(f"{x(xv):.1f},{top + (1 - r[key] / peak) * (height - top - bottom):.1f}"
                          for xv, r in zip(xs, rows, strict=True))
        return (f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
                + "".join(f'<text x="{x(xv):.1f}" y="{top + (1 - r[key] / peak) * (height - top - bottom) - 6:.1f}" '
                          f'font-size="11" fill="{colour}" text-anchor="middle">{r[key]:g}</text>'
                          for xv, r in zip(xs, rows, strict=True)))

    ticks = "".join(f'<text x="{x(xv):.1f}" y="{height - 20}" font-size="11" text-anchor="middle">'
                    f'{r["articles"]:,}</text>' for xv, r in zip(xs, rows, strict=True))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="/ask p50 and server peak RSS against corpus size">'
            f'<rect width="{width}" height="{height}" fill="white"/>{line("seq_p50_ms", "#1f5fa8")}'
            f'{line("server_peak_rss_mb", "#b5401d")}{ticks}'
            f'<text x="{left}" y="14" font-size="12" fill="#1f5fa8">/ask p50 (ms)</text>'
            f'<text x="{width - right}" y="14" font-size="12" fill="#b5401d" text-anchor="end">server peak RSS (MB)'
            f'</text><text x="{width / 2}" y="{height - 4}" font-size="12" text-anchor="middle">articles</text></svg>')


def main(sizes: Sequence[int], real_sample: int, work: Path, reports: Path, shared: Path | None = None,
         say: Say = print) -> int:
    if not sizes or any(n < 1 for n in sizes):
        raise EvalError("--sizes takes positive article counts, e.g. 1000,10000,100000")
    shared = shared or default_shared()
    work.mkdir(parents=True, exist_ok=True)
    log = work / "scale.log"
    questions = squad_questions(shared, QUESTIONS)
    rows: list[dict[str, Any]] = []
    result: dict[str, Any] = {"sizes": list(sizes), "encoder": "hash", "growth": GROWTH, "rows": rows,
                              "cpus": os.cpu_count()}
    reports.mkdir(parents=True, exist_ok=True)
    out = reports / "scale.json"
    for n in sorted(sizes):
        say(f"{n:,} articles:")
        rows.append(measure_size(n, work, shared, questions, log, say))
        out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")  # each size as it is done
    if real_sample:
        source = work / f"archive-{min(sizes) + GROWTH}"
        real = real_throughput(source, min(real_sample, min(sizes)), work, log, say)
        result["real_model"] = real
        for row in rows:
            row["real_build_estimate_h"] = round(row["sentences"] / real["sentences_per_s"] / 3600, 2)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (reports / "scale.svg").write_text(svg_chart(rows), encoding="utf-8")
    keys = ["articles", "sentences", "build_s", "build_peak_rss_mb", "index_mb", "cold_start_s",
            "server_peak_rss_mb", "seq_p50_ms", "seq_p95_ms", "first_p50_ms", "first_p95_ms",
            "first_read_bytes_median", "conc_throughput_rps", f"add_{GROWTH}_s",
            "real_build_estimate_h", "quotes_verbatim", "quotes_checked"]
    say("\n" + " | ".join(keys))
    for row in rows:
        say(" | ".join(str(row.get(k, "")) for k in keys))
    if "real_model" in result:
        r = result["real_model"]
        say(f"real model: {r['sentences']} sentences of {r['articles']} articles in {r['seconds']} s = "
            f"{r['sentences_per_s']} sentences/s")
    say(f"Wrote {out} and {reports / 'scale.svg'}")
    bad = [r["articles"] for r in rows if r.get("quotes_verbatim") != r.get("quotes_checked")]
    if bad:
        say(f"FAILED: quotes that are not verbatim at {bad} articles")
        return 1
    return 0


def each_index(indexes: Sequence[Path], out: Path, shared: Path | None, say: Say, doing: str,
               measure: Callable[[Path, Sequence[str], Path], dict[str, Any]],
               head: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """`measure(folder, questions, log)` on each index already built, one after the other with the same
    questions, each row (the index's size and ANN kinds beside what was measured) written to `out` (JSON)
    as it is done, so that an interrupted run keeps the rows before it."""
    from index.store import folder_size, read_manifest

    questions = squad_questions(shared or default_shared(), QUESTIONS)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for folder in indexes:
        manifest = read_manifest(folder)
        say(f"{doing} {folder} ({manifest.articles:,} articles, {manifest.sentences:,} sentences) ...")
        row = {"index": str(folder), "articles": manifest.articles, "sentences": manifest.sentences,
               "ann": manifest.ann, "index_mb": round(folder_size(folder) / 1e6, 1),
               **measure(folder, questions, out.with_suffix(".log"))}
        long = ("index", "ann", "first_per_question", "first_cached_kb_by_file")
        say("  " + ", ".join(f"{k} {v}" for k, v in row.items() if k not in long))
        rows.append(row)
        out.write_text(json.dumps({**(head or {}), "rows": rows}, indent=1) + "\n", encoding="utf-8")
    return rows


def prebuilt(indexes: Sequence[Path], out: Path, shared: Path | None = None, say: Say = print) -> int:
    """Serve indexes already built (a large one grown in segments, say, beside a small one) one after the
    other in the same run, with the same questions: cold start, RSS, `/ask` p50/p95 and the verbatim
    check of each, written to `out` (JSON)."""
    rows = each_index(indexes, out, shared, say, "serving", served, {"encoder": "hash"})
    return 0 if all(r.get("quotes_verbatim") == r.get("quotes_checked") for r in rows) else 1


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m eval.scale", description=prebuilt.__doc__)
    parser.add_argument("indexes", type=Path, nargs="+", help="index folders (built with --encoder hash)")
    parser.add_argument("--out", type=Path, default=Path("var/scale/served.json"))
    parser.add_argument("--shared", type=Path, default=None,
                        help="folder holding tools/make_archive.py and datasets/ (default: ../shared, beside "
                        "the main checkout in a git worktree)")
    parsed = parser.parse_args()
    try:
        sys.exit(prebuilt(parsed.indexes, parsed.out, parsed.shared))
    except EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
