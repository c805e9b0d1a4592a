"""Growing an index whose new articles all come after its own (as a dated archive grows): the previous
index's rows are carried over as columns and bytes, never as one Python object per sentence.

A +100-article build at 10,000 articles spent most of its 230 s making every old sentence, passage,
annotation and neighbour list into objects, tokenising every passage again for BM25 and writing it all
out again. Here the old rows of every column, vector file and annotation line are copied as they are,
the FAISS indexes and the lexicon grow, BM25 is made again from the saved passage term ids
(index.lexical_index), and only the new sentences' neighbours are searched (old lists are patched
where a new sentence found them). The result is the index a build from scratch would make (tested).
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from index.ann import MATCH_CONTEXT, AnnSpec, build_ann, choose, match_vectors, previous_spec
from index.annotate import Annotation
from index.columns import Chained, article_layout, spans_arrays, tables
from index.lexical_index import COUNTS as BM25_COUNTS
from index.lexical_index import FILE as PASSAGE_TERMS
from index.lexical_index import PassageTerms, bm25_counted, fits
from index.neighbours import digests_of, neighbours_of
from index.records import Article, Passage, Sentence, Skipped
from index.segments import SEGMENT_ROWS, Rows, segment_files, segment_name
from index.store import IndexData, Manifest, span_columns
from index.swap import resolve
from index.text import grow, terms
from index.vectorise import RowFile

__all__ = ["BLOCK", "Reused", "VECTOR_FILES", "bm25_terms", "grown", "grown_ann", "linked_to", "prefix_of", "stacked",
           "write_rows"]

BLOCK = 1 << 16  # rows copied at once between vector files
VECTOR_FILES = ("passage_vectors.npy", "sentence_vectors.npy", "context_vectors.npy", "match_vectors.npy")


@dataclass(frozen=True)
class Reused:
    """An article taken unchanged from the previous index: where its rows are there, not the rows."""

    article: Article
    sentences: range  # its sentences' rows in the previous index
    passages: range


def prefix_of(reused: Sequence[Reused], previous: IndexData) -> bool:
    """Whether the reused articles are all of the previous index's, in its order (the new ones then
    come after them): what `grown` needs."""
    m = previous.manifest
    if len(reused) != m.articles or not m.sentences:
        return False
    at_s = at_p = 0
    for r in reused:
        if r.sentences.start != at_s or r.passages.start != at_p:
            return False
        at_s, at_p = r.sentences.stop, r.passages.stop
    return (at_s, at_p) == (m.sentences, m.passages)


def write_rows(path: Path, parts: Iterable[np.ndarray], dim: int, rows: int) -> np.ndarray:
    """An .npy file of `rows` float32 rows: `parts` end to end, copied a block at a time (a part may be
    mapped from disk, or made as it is asked for); returned mapped, read-only."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, dim))
    at = 0
    for part in parts:
        for start in range(0, len(part), BLOCK):
            block = np.asarray(part[start: start + BLOCK], dtype=np.float32)
            out[at: at + len(block)] = block
            at += len(block)
    if at != rows:
        raise ValueError(f"{path.name}: {at} rows written where {rows} were expected")
    out.flush()
    del out
    return np.load(path, mmap_mode="r")


def stacked(staging: Path, name: str, old_rows: Any, new_rows: list[np.ndarray], dim: int) -> Any:
    """The matrix `name` in `staging`: the previous index's rows then the new ones. The previous index's
    full segments (index.segments) are hard-linked, never copied or changed; its last segment, when
    smaller than SEGMENT_ROWS, is copied by the kernel into the new segment, which takes the new rows."""
    added = sum(len(r) for r in new_rows)
    files = segment_files(old_rows)
    if files is None:  # not mapped from files (an older index's blend, made in memory): one new file
        return write_rows(staging / name, [old_rows, *new_rows], dim, len(old_rows) + added)
    parts = old_rows.parts if isinstance(old_rows, Rows) else [old_rows]
    keep = len(parts) if len(parts[-1]) >= SEGMENT_ROWS or not added else len(parts) - 1
    segments = [linked_to(files[k], staging / segment_name(name, k)) for k in range(keep)]
    if added:
        tail = len(parts[keep]) if keep < len(parts) else 0
        out = RowFile(staging / segment_name(name, keep), tail + added, dim)
        if tail:
            out.copy(files[keep], tail)
        for block in new_rows:
            out.write(block)
        segments.append(out.mapped())
    return segments[0] if len(segments) == 1 else Rows(segments)


def linked_to(source: Path, target: Path) -> np.ndarray:
    """`source` (a finished .npy) at `target` too, hard-linked (copied on a file system that cannot), mapped."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copyfile(source, target)
    return np.load(target, mmap_mode="r")


def grown_ann(vectors: np.ndarray, spec: AnnSpec, old: Any, old_spec: dict[str, Any] | None, start: int) -> Any:
    """The previous index with the rows from `start` added, when it is of the kind chosen now; else a new one."""
    if old is None or previous_spec(old_spec) != spec or old.ntotal != start:
        return build_ann(vectors, spec)
    for at in range(start, len(vectors), BLOCK):
        old.add(np.ascontiguousarray(vectors[at: at + BLOCK], dtype=np.float32))
    return old


def bm25_terms(passages: Sequence[Passage], articles: dict[str, Article]) -> list[list[str]]:
    """What BM25 indexes for each passage: its article's title and its text."""
    return [terms(articles[p.doc_id].title + "\n" + p.text) for p in passages]


def saved_terms(previous_dir: Path, previous: IndexData) -> PassageTerms:
    """The previous index's passage term ids, or (an index written before they were saved) its passages
    tokenised again."""
    path = resolve(previous_dir) / PASSAGE_TERMS
    if path.is_file():
        try:
            found = PassageTerms.load(path)
            if len(found) == len(previous.passages):
                return found
        except (OSError, ValueError, KeyError):
            pass
    return PassageTerms.of(bm25_terms(previous.passages, previous.articles))


def saved_counts(previous_dir: Path, previous: IndexData) -> tuple[Any, np.ndarray] | None:
    """The previous index's BM25 with its entries' saved counts, for bm25_counted to merge into; None
    when they were not saved or do not fit (BM25 is then made over every passage, as before)."""
    path = resolve(previous_dir) / BM25_COUNTS
    try:
        counts = np.load(path, mmap_mode="r") if path.is_file() else None
    except (OSError, ValueError):
        return None
    return (previous.bm25, counts) if counts is not None and fits(previous.bm25, counts, len(previous.passages)) \
        else None


def grown(previous: IndexData, previous_dir: Path, reused: Sequence[Reused], new: Sequence[Any],
          manifest: Manifest, skipped: list[Skipped], dim: int, flat_below: int, staging: Path,
          ivf_from: int | None = None) -> IndexData:
    """The previous index (its articles `reused`, `prefix_of` it) followed by the `new` pieces
    (index.build.Piece, annotated), its vector files written into `staging` as they are made; its FAISS
    indexes of the kinds index.ann.choose picks for their new sizes (grown when that is their kind)."""
    articles = {r.article.doc_id: r.article for r in reused} | {p.article.doc_id: p.article for p in new}
    base_s, base_p = len(previous.sentences), len(previous.passages)
    sentences: list[Sentence] = []
    passages: list[Passage] = []
    for piece in new:
        at = base_s + len(sentences)
        sentences += piece.sentences
        passages += [replace(p, first_sentence=p.first_sentence + at, last_sentence=p.last_sentence + at)
                     for p in piece.passages]
    layout = article_layout(sentences, passages, {d: k for k, d in enumerate(articles)})
    old = span_columns(previous.sentences, previous.passages)
    columns = {k: np.concatenate([np.asarray(old[k]), layout[k]]) for k in layout}
    columns |= spans_arrays(columns)
    s_table, p_table = tables(articles, columns)

    staging.mkdir(parents=True, exist_ok=True)
    s_new = [p.sentence_vectors for p in new]
    c_new = [p.context_vectors for p in new]
    passage_vectors = stacked(staging, "passage_vectors.npy", previous.passage_vectors,
                              [p.passage_vectors for p in new], dim)
    sentence_vectors = stacked(staging, "sentence_vectors.npy", previous.sentence_vectors, s_new, dim)
    context_vectors = stacked(staging, "context_vectors.npy", previous.context_vectors, c_new, dim)
    old_match = previous.match_vectors if previous.match_vectors is not None else \
        match_vectors(previous.sentence_vectors, previous.context_vectors, MATCH_CONTEXT)
    match = stacked(staging, "match_vectors.npy", old_match,
                    [match_vectors(s, c, MATCH_CONTEXT) for s, c in zip(s_new, c_new, strict=True)], dim)
    kinds = previous.manifest.ann
    passage_spec = choose(len(passage_vectors), flat_below, 0.0, ivf_from, previous_spec(kinds.get("passages")),
                          dim)
    sentence_spec = choose(len(sentence_vectors), flat_below, MATCH_CONTEXT, ivf_from,
                           previous_spec(kinds.get("sentences")), dim)
    faiss_index = grown_ann(passage_vectors, passage_spec, previous.faiss_index, kinds.get("passages"), base_p)
    sentence_ann = grown_ann(match, sentence_spec, previous.sentence_ann, kinds.get("sentences"), base_s)
    lexicon = grow(previous.lexicon, (s.text for s in sentences), (p.text for p in passages))
    passage_terms = saved_terms(previous_dir, previous).extended(bm25_terms(passages, articles))
    bm25, bm25_counts = bm25_counted(passage_terms, saved_counts(previous_dir, previous))
    fresh = np.arange(len(s_table)) >= base_s
    graph = sentence_ann if sentence_spec.kind != "flat" else None
    # the old rows' digests as the previous index saved them (an older one's hashed once, here)
    known = previous.digests if previous.digests is not None and len(previous.digests) == base_s else None
    digests = digests_of(sentence_vectors, known)
    changed = neighbours_of(s_table, sentence_vectors, flat_below, fresh, previous.neighbours, graph, match,
                            digests)
    near = previous.neighbours.patched(changed, len(s_table))
    notes: list[Annotation] = [a for piece in new for a in piece.annotations or []]
    manifest = replace(manifest, ann={"passages": passage_spec.record(), "sentences": sentence_spec.record()})
    return IndexData(manifest, articles, s_table, p_table, passage_vectors, sentence_vectors, context_vectors,
                     faiss_index, bm25, near, skipped, lexicon, Chained(previous.annotations, notes), sentence_ann,
                     match, passage_terms, digests, bm25_counts=bm25_counts)
