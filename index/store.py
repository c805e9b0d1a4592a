"""The index folder on disk: write it atomically, read it back, and refuse one built differently."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import IndexCorrupt, IndexMismatch, IndexNotFound
from index.records import Article, Metadata, Passage, Sentence, Skipped
from index.text import Lexicon, lexical_version

FORMAT_VERSION = 3
MANIFEST = "manifest.json"
REBUILD = "rebuild it with `python -m index build` (or `make index`)"


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model: str
    dim: int
    articles: int
    passages: int
    sentences: int
    chunking: dict[str, int]
    pipeline: str  # version of cleaning/splitting/chunking rules; a change re-processes every article
    built_at: str
    build_seconds: float
    article_hashes: dict[str, str] = field(default_factory=dict)
    lexical: str = ""  # index.text.lexical_version() of the stop words, aliases and stemmer used for terms


@dataclass(frozen=True)
class Neighbour:
    sentence: int
    similarity: float


@dataclass(frozen=True)
class IndexData:
    """Everything a server needs: texts, spans, vectors, the FAISS and BM25 indexes."""

    manifest: Manifest
    articles: dict[str, Article]
    sentences: list[Sentence]
    passages: list[Passage]
    passage_vectors: np.ndarray  # (passages, dim) float32, unit length
    sentence_vectors: np.ndarray  # (sentences, dim) float32, unit length
    context_vectors: np.ndarray  # (sentences, dim): each sentence embedded with its neighbours
    faiss_index: Any
    bm25: Any
    neighbours: dict[int, list[Neighbour]]  # sentence -> similar sentences in other articles
    skipped: list[Skipped]
    lexicon: Lexicon


def _jsonl(path: Path, rows: list[Any]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as src:
        return [json.loads(line) for line in src if line.strip()]


def write_folder(data: IndexData, folder: Path) -> None:
    """Write every part of the index into `folder` (which must be new and empty)."""
    import faiss

    folder.mkdir(parents=True, exist_ok=False)
    _jsonl(folder / "articles.jsonl", [
        {"doc_id": a.doc_id, "filename": a.filename, "sha256": a.sha256, **asdict(a.meta), "text": a.text}
        for a in data.articles.values()
    ])
    _jsonl(folder / "sentences.jsonl", [[s.doc_id, s.start, s.end, int(s.heading), s.block] for s in data.sentences])
    _jsonl(folder / "passages.jsonl", [
        [p.doc_id, p.start, p.end, p.first_sentence, p.last_sentence] for p in data.passages
    ])
    np.save(folder / "passage_vectors.npy", data.passage_vectors)
    np.save(folder / "sentence_vectors.npy", data.sentence_vectors)
    np.save(folder / "context_vectors.npy", data.context_vectors)
    faiss.write_index(data.faiss_index, str(folder / "passages.faiss"))
    data.bm25.save(str(folder / "bm25"))
    (folder / "neighbours.json").write_text(json.dumps(
        {str(k): [[n.sentence, round(n.similarity, 4)] for n in v] for k, v in data.neighbours.items()}
    ))
    (folder / "skipped.json").write_text(json.dumps([asdict(s) for s in data.skipped], ensure_ascii=False))
    lex = data.lexicon
    (folder / "lexicon.json").write_text(json.dumps({
        "sentence_terms": [sorted(t) for t in lex.sentence_terms], "document_frequency": lex.document_frequency,
        "passages": lex.passages, "words": dict(lex.words)}, ensure_ascii=False))
    # The manifest goes last: a folder without one was never finished.
    (folder / MANIFEST).write_text(json.dumps(asdict(data.manifest), indent=2, ensure_ascii=False))


def swap_in(new: Path, target: Path) -> None:
    """Replace `target` by the finished folder `new`; `target` is never left half-written."""
    previous = target.with_name(target.name + ".previous")
    if previous.exists():
        shutil.rmtree(previous)
    if target.exists():
        os.replace(target, previous)
    os.replace(new, target)
    shutil.rmtree(previous, ignore_errors=True)


def resolve(folder: Path) -> Path:
    """The folder to read: `folder`, or its `.previous` twin if a swap was cut off between two renames."""
    if (folder / MANIFEST).is_file():
        return folder
    previous = folder.with_name(folder.name + ".previous")
    if not folder.exists() and (previous / MANIFEST).is_file():
        return previous
    if folder.exists():
        raise IndexCorrupt(f"{folder} has no {MANIFEST}: it is not a finished index; {REBUILD}.")
    raise IndexNotFound(f"No index at {folder}: build one with `python -m index build --out {folder}`.")


def read_manifest(folder: Path) -> Manifest:
    path = resolve(folder) / MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(f"{path} cannot be read ({exc}); {REBUILD}.") from exc
    if raw.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"The index at {folder} has format {raw.get('format_version')}, this version reads format "
            f"{FORMAT_VERSION}; {REBUILD}."
        )
    try:
        return Manifest(**raw)
    except TypeError as exc:
        raise IndexCorrupt(f"{path} is not a valid manifest ({exc}); {REBUILD}.") from exc


def check_model(manifest: Manifest, model: str, dim: int, folder: Path) -> None:
    if manifest.model != model or manifest.dim != dim:
        raise IndexMismatch(
            f"The index at {folder} was built with {manifest.model} ({manifest.dim} dimensions) but the model "
            f"in use is {model} ({dim} dimensions); {REBUILD}, or set VERBATIM_MODEL_DIR to the model it was "
            "built with."
        )


def check_lexical(manifest: Manifest, folder: Path) -> None:
    """Refuse an index whose terms were made under other stop words, aliases or stemming: its BM25
    would silently miss query terms."""
    if manifest.lexical != lexical_version():
        raise IndexMismatch(
            f"The index at {folder} was built with other lexical rules (stop words, country aliases); {REBUILD}. "
            "Only BM25 and the term tables are redone: no article is embedded again."
        )


def read_folder(folder: Path) -> IndexData:
    """Load an index folder written by write_folder."""
    import bm25s
    import faiss

    manifest = read_manifest(folder)
    folder = resolve(folder)
    try:
        articles = {}
        for row in _read_jsonl(folder / "articles.jsonl"):
            meta = Metadata(**{k: row.get(k) for k in ("title", "source", "author", "published")})
            articles[row["doc_id"]] = Article(row["doc_id"], row["filename"], row["text"], row["sha256"], meta)
        sentences = [
            Sentence(d, s, e, articles[d].text[s:e], heading=bool(h), block=b)
            for d, s, e, h, b in _read_jsonl(folder / "sentences.jsonl")
        ]
        passages = [
            Passage(d, s, e, articles[d].text[s:e], first, last)
            for d, s, e, first, last in _read_jsonl(folder / "passages.jsonl")
        ]
        passage_vectors = np.load(folder / "passage_vectors.npy")
        sentence_vectors = np.load(folder / "sentence_vectors.npy")
        context_vectors = np.load(folder / "context_vectors.npy")
        faiss_index = faiss.read_index(str(folder / "passages.faiss"))
        bm25 = bm25s.BM25.load(str(folder / "bm25"))
        neighbours = {
            int(k): [Neighbour(int(i), float(sim)) for i, sim in v]
            for k, v in json.loads((folder / "neighbours.json").read_text()).items()
        }
        skipped = [Skipped(**s) for s in json.loads((folder / "skipped.json").read_text(encoding="utf-8"))]
        raw = json.loads((folder / "lexicon.json").read_text(encoding="utf-8"))
        lexicon = Lexicon([frozenset(t) for t in raw["sentence_terms"]], dict(raw["document_frequency"]),
                          int(raw["passages"]), Counter(raw["words"]))
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise IndexCorrupt(f"The index at {folder} is damaged ({exc}); {REBUILD}.") from exc
    if len(passages) != faiss_index.ntotal or not len(sentences) == len(sentence_vectors) == len(context_vectors) \
            == len(lexicon.sentence_terms):
        raise IndexCorrupt(f"The index at {folder} is inconsistent (vector counts differ); {REBUILD}.")
    return IndexData(manifest, articles, sentences, passages, passage_vectors, sentence_vectors,
                     context_vectors, faiss_index, bm25, neighbours, skipped, lexicon)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
