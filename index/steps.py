"""Building a large archive in steps (`python -m index build --step N`): bounded memory, resumable.

A build holds every new article's sentences, vectors, neighbour lists and annotations of that build
at once: at 50,000 articles a build of 10,000 new ones peaked at 13 GB (session 7), so one build of
100,000 from nothing does not fit a 24 GB machine. Here the articles the index does not hold yet are
added N at a time, in doc_id order, each step an ordinary incremental build (index.build) that grows
the index in place (index.append) and swaps it in when done: a server on the folder sees the archive
grow step by step and never a half-built index. An interrupted build loses at most the step it was in
(with the real model, that step's embeddings are in the build's checkpoint too); the same command run
again continues after the last finished step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from index.build import BuildReport, build
from index.encoder import Encoder
from index.errors import VerbatimError
from index.load import Corpus, load_folder
from index.records import Article
from index.settings import Settings
from index.store import read_manifest


def held(article: Article, indexed: Mapping[str, str]) -> bool:
    """Whether the index holds `article` unchanged (`indexed`: doc_id -> SHA-256, its manifest's)."""
    return indexed.get(article.doc_id) == article.sha256


def step_sets(articles: Sequence[Article], indexed: Mapping[str, str], step: int) -> list[list[Article]]:
    """The articles each step builds: those the index already holds unchanged (`indexed`: doc_id ->
    SHA-256, the previous manifest's) plus the first step, 2 steps, ... of the others in doc_id order,
    the last set being every article. At least one set (a plain build when nothing is new)."""
    if step < 1:
        raise ValueError(f"a step is one article or more, not {step}")
    ordered = sorted(articles, key=lambda a: a.doc_id)
    known = [a for a in ordered if held(a, indexed)]
    rest = [a for a in ordered if not held(a, indexed)]
    sets = []
    for stop in range(step, len(rest) + step, step):
        sets.append(sorted(known + rest[:stop], key=lambda a: a.doc_id))
    return sets or [ordered]


def indexed_hashes(out: Path) -> dict[str, str]:
    """The articles the index at `out` holds (doc_id -> SHA-256), none when there is no usable index."""
    try:
        return dict(read_manifest(out, older=True).article_hashes)
    except VerbatimError:
        return {}


def build_in_steps(settings: Settings, step: int, articles_dir: Path | None = None, out: Path | None = None,
                   embedder: Encoder | None = None, progress: bool = True,
                   say: Callable[[str], None] = print) -> BuildReport:
    """Index `articles_dir` into `out` as `build` does, the articles not yet indexed added `step` at a
    time (each step swapped in when complete). Returns the summary of all the steps."""
    from tqdm import tqdm

    started = time.perf_counter()
    articles_dir = articles_dir or settings.articles_dir
    out = out or settings.index_dir
    corpus = load_folder(articles_dir, settings.max_article_mb)
    before = indexed_hashes(out)
    sets = step_sets(corpus.articles, before, step)
    new = sum(1 for a in sets[-1] if not held(a, before))
    if new:
        say(f"Adding {new:,} articles to the {len(sets[-1]) - new:,} indexed, {step:,} at a time "
            f"({len(sets)} steps).")
    reports: list[BuildReport] = []
    with tqdm(total=new, desc="All steps", unit="article", disable=not progress or len(sets) < 2) as bar:
        for k, articles in enumerate(sets, start=1):
            part = Corpus(articles, corpus.skipped, corpus.warnings, corpus.stats)
            report = build(settings, articles_dir, out, embedder, progress, say, corpus=part)
            reports.append(report)
            bar.update(report.embedded)
            if len(sets) > 1:
                bar.write(f"step {k}/{len(sets)}: {report.articles:,} articles indexed ({report.embedded:,} "
                          f"embedded) in {report.seconds:.0f} s")
    return summed(reports, time.perf_counter() - started)


def summed(reports: Sequence[BuildReport], seconds: float) -> BuildReport:
    """One report for the steps: the last index's figures with what every step did added up."""
    last = reports[-1]
    embedded = sum(r.embedded for r in reports)
    warnings = list(dict.fromkeys(w for r in reports for w in r.warnings))
    return replace(last, embedded=embedded, reused=last.articles - embedded, removed=reports[0].removed,
                   warnings=warnings, seconds=seconds, annotated=sum(r.annotated for r in reports),
                   annotate_seconds=sum(r.annotate_seconds for r in reports),
                   resumed=sum(r.resumed for r in reports))
