"""BEIR-format retrieval benchmark (e.g. SciFact) through Verbatim's own retrieval.

Each document goes through the product's pipeline (index.build.process: clean, split, chunk); its
passages are embedded as embedding_text(title, passage) and indexed with BM25 over
terms(title + passage), exactly as index/build.py does; each query is ranked by
server.retrieve.fuse; a document scores the best of its passages. Passage vectors are cached in
var/cache/, keyed by the corpus, the chunking and the model, so a second run is quick.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval import EvalError
from eval.metrics import mean, ndcg_at_k, rank_by_score, recall_at_k
from index.embed import Embedder
from index.encoder import Encoder
from index.settings import Settings
from server.records import Hit
from server.retrieve import Mode, Scores, dense_candidates, fuse

MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25", "rrf")
DEPTH = 1000  # passages each retriever proposes: enough for document Recall@100
Fusion = Callable[[Scores, int, int], list[Hit]]


@dataclass(frozen=True)
class BeirData:
    corpus: dict[str, tuple[str, str]]  # doc id -> (title, text)
    queries: dict[str, str]  # only the queries of the split's qrels
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: relevance}
    digest: str  # sha256 over the files read


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    title: str
    text: str


@dataclass(frozen=True)
class PassageIndex:
    chunks: list[Chunk]
    vectors: np.ndarray  # (passages, dim) float32, unit length
    faiss_index: Any
    bm25: Any


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise EvalError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _jsonl(data: bytes, name: str) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalError(f"{name} is not JSON lines: {exc}") from exc


def load_beir(folder: Path, split: str = "test") -> BeirData:
    """corpus.jsonl[.gz], queries.jsonl and qrels/<split>.tsv of a BEIR dataset folder."""
    corpus_path = folder / "corpus.jsonl"
    if not corpus_path.is_file():
        corpus_path = folder / "corpus.jsonl.gz"
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for path in (corpus_path, folder / "queries.jsonl", qrels_path):
        if not path.is_file():
            raise EvalError(f"{folder} is not a BEIR dataset folder: {path.name} is missing")
    raw_corpus = _read(corpus_path)
    raw_queries = _read(folder / "queries.jsonl")
    raw_qrels = _read(qrels_path)
    digest = hashlib.sha256(raw_corpus + raw_queries + raw_qrels).hexdigest()
    if corpus_path.suffix == ".gz":
        raw_corpus = gzip.decompress(raw_corpus)
    corpus = {str(d["_id"]): (str(d.get("title") or ""), str(d.get("text") or ""))
              for d in _jsonl(raw_corpus, corpus_path.name)}
    qrels: dict[str, dict[str, int]] = {}
    # csv handles the CRLF line ends of BEIR's qrels; the first row is the header.
    rows = list(csv.reader(raw_qrels.decode("utf-8").splitlines(), delimiter="\t"))
    for row in rows[1:]:
        if len(row) >= 3 and int(row[2]) > 0:
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    all_queries = {str(q["_id"]): str(q["text"]) for q in _jsonl(raw_queries, "queries.jsonl")}
    unknown = sorted(q for q in qrels if q not in all_queries)
    if unknown:
        raise EvalError(f"qrels/{split}.tsv names queries not in queries.jsonl: {', '.join(unknown[:5])}")
    return BeirData(corpus, {q: all_queries[q] for q in sorted(qrels)}, qrels, digest)


def chunk_corpus(corpus: dict[str, tuple[str, str]], settings: Settings) -> list[Chunk]:
    """Passages of every document through the product pipeline; a document that yields none (cleaning
    rejects some short texts) is one passage of its whole text."""
    from index.build import process
    from index.records import Article, Metadata

    chunks: list[Chunk] = []
    for doc_id, (title, text) in corpus.items():
        article = Article(doc_id, doc_id, text, "", Metadata(title=title or None))
        _, _, passages = process(article, settings)
        chunks += [Chunk(doc_id, title, p.text) for p in passages] or [Chunk(doc_id, title, text)]
    return chunks


def cached_vectors(embedder: Encoder, texts: Sequence[str], cache: Path, progress: bool) -> np.ndarray:
    """embed_passages(texts), read from `cache` when it holds vectors for exactly these texts."""
    if cache.is_file():
        vectors = np.load(cache)
        if vectors.shape == (len(texts), embedder.dim):
            return vectors
    vectors = embedder.embed_passages(list(texts), batch_size=32, progress=progress)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".partial.npy")
    np.save(partial, vectors)
    partial.replace(cache)
    return vectors


def build_passage_index(chunks: list[Chunk], vectors: np.ndarray) -> PassageIndex:
    import bm25s
    import faiss

    from index.text import terms

    faiss_index = faiss.IndexFlatIP(vectors.shape[1])
    faiss_index.add(vectors)
    bm25 = bm25s.BM25()
    bm25.index([terms(c.title + "\n" + c.text) for c in chunks], show_progress=False)
    return PassageIndex(chunks, vectors, faiss_index, bm25)


def query_scores(index: PassageIndex, query: str, qvec: np.ndarray, depth: int) -> Scores:
    from index.text import terms

    bm25 = np.asarray(index.bm25.get_scores(terms(query)), dtype=np.float32)
    return Scores(dense_candidates(index.faiss_index, qvec, min(depth, len(index.chunks))), bm25)


def doc_ranking(hits: list[Hit], chunks: list[Chunk]) -> list[str]:
    """Documents by their best passage's score, ties by document id."""
    best: dict[str, float] = {}
    for h in hits:
        doc = chunks[h.passage].doc_id
        best[doc] = max(best.get(doc, float("-inf")), h.score)
    return rank_by_score(best)


def score_rankings(rankings: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Means of nDCG@10, Recall@10 and Recall@100 over the queries, and each query's scores."""
    per_query = {
        q: {"ndcg@10": ndcg_at_k(ranked, qrels[q], 10), "recall@10": recall_at_k(ranked, qrels[q], 10),
            "recall@100": recall_at_k(ranked, qrels[q], 100)}
        for q, ranked in rankings.items()
    }
    means = {m: round(mean(s[m] for s in per_query.values()) or 0.0, 4)
             for m in ("ndcg@10", "recall@10", "recall@100")}
    return {**means, "per_query": per_query}


def evaluate_fusions(
    index: PassageIndex, data: BeirData, qvecs: np.ndarray, fusions: dict[str, Fusion], depth: int = DEPTH,
) -> dict[str, dict[str, Any]]:
    """Each named fusion over the same per-query scores: {name: {metric: mean, "per_query": ...}}."""
    rankings: dict[str, dict[str, list[str]]] = {name: {} for name in fusions}
    n = min(depth, len(index.chunks))
    for qid, qvec in zip(data.queries, qvecs, strict=True):
        scores = query_scores(index, data.queries[qid], qvec, depth)
        for name, fusion in fusions.items():
            rankings[name][qid] = doc_ranking(fusion(scores, n, n), index.chunks)
    return {name: score_rankings(r, data.qrels) for name, r in rankings.items()}


def product_fusions(dense_weight: float, extra_weights: Sequence[float] = ()) -> dict[str, Fusion]:
    """The four modes of server.retrieve.fuse, plus hybrid at other dense weights if asked."""
    def make(mode: Mode, w: float) -> Fusion:
        return lambda scores, k, n: fuse(scores, k, n, mode, w)

    found: dict[str, Fusion] = {mode: make(mode, dense_weight) for mode in MODES}
    found.update({f"hybrid@{w:g}": make("hybrid", w) for w in extra_weights})
    return found


def cache_file(cache_dir: Path, data: BeirData, embedder: Encoder, texts: Sequence[str], name: str) -> Path:
    """Keyed by the dataset files, the model and the exact texts embedded (so a change of cleaning or
    chunking rules never reuses stale vectors)."""
    digest = hashlib.sha256(f"{data.digest}|{embedder.name}|{embedder.dim}".encode())
    for text in texts:
        digest.update(text.encode("utf-8") + b"\x00")
    return cache_dir / f"beir-{name}-{digest.hexdigest()[:16]}.npy"


def run_beir(
    data: BeirData, name: str, settings: Settings, embedder: Encoder, cache_dir: Path,
    extra_weights: Sequence[float] = (), progress: bool = True, say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Every retrieval mode on the test queries: {"modes": {mode: {...}}, "passages", "documents", ...}."""
    from index.build import embedding_text

    chunks = chunk_corpus(data.corpus, settings)
    say(f"{name}: {len(data.corpus)} documents -> {len(chunks)} passages, {len(data.queries)} test queries")
    texts = [embedding_text(c.title, c.text) for c in chunks]
    vectors = cached_vectors(embedder, texts, cache_file(cache_dir, data, embedder, texts, name), progress)
    index = build_passage_index(chunks, vectors)
    qvecs = embedder.embed_queries(list(data.queries.values()))
    modes = evaluate_fusions(index, data, qvecs, product_fusions(settings.dense_weight, extra_weights))
    return {"dataset": name, "documents": len(data.corpus), "passages": len(chunks),
            "queries": len(data.queries), "dense_weight": settings.dense_weight, "depth": DEPTH,
            "modes": modes}


# nDCG@10 on SciFact test as published (see ../shared/datasets/README.md).
PUBLISHED = {"BM25 (BEIR paper, Anserini)": 0.665, "BM25 (bm25s, MTEB)": 0.687,
             "all-MiniLM-L6-v2 dense (MTEB)": 0.645, "MiniLM + BM25 hybrid (txtai)": 0.713}


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The product (hybrid) figures at the top level, every mode beside them, without per-query rows."""
    modes = {m: {k: v for k, v in r.items() if k != "per_query"} for m, r in result["modes"].items()}
    return {**modes["hybrid"], "modes": modes, "passages": result["passages"],
            "documents": result["documents"], "queries": result["queries"],
            "dense_weight": result["dense_weight"], "depth": result["depth"]}


def main(folder: Path, cache: Path, reports: Path, extra_weights: Sequence[float],
         say: Callable[[str], None] = print) -> int:
    data = load_beir(folder)  # before the model loads: a bad folder fails at once
    settings = Settings()
    embedder = Embedder(settings.resolved_model_dir())
    result = run_beir(data, folder.name, settings, embedder, cache, extra_weights, say=say)
    reports.mkdir(parents=True, exist_ok=True)
    out = reports / f"{folder.name}.json"
    record = {"summary": summary(result), "published_ndcg@10": PUBLISHED, **result}
    out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    say(f"\n{folder.name} (test), a document scores its best passage, {result['depth']} candidates:")
    say(f"  {'mode':14s} {'nDCG@10':>8s} {'R@10':>8s} {'R@100':>8s}")
    for mode, r in result["modes"].items():
        say(f"  {mode:14s} {r['ndcg@10']:8.4f} {r['recall@10']:8.4f} {r['recall@100']:8.4f}")
    say("  published nDCG@10: " + ", ".join(f"{k} {v:.3f}" for k, v in PUBLISHED.items()))
    say(f"Wrote {out}")
    return 0
