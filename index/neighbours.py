"""Near-duplicate sentences across articles, found at build time for the `also_in` and `differs_in`
citations: for each body sentence, the most similar body sentences of other articles.

Without a product of every sentence with every other: sentences with identical vectors (syndicated
copy, word for word) are searched once, through a nearest-neighbour index: exact over the distinct
vectors below a size; above it, the index's own sentence index over the sentences' match vectors (HNSW,
or IVF in a large archive: index.ann; built for questions anyway, and grown rather than rebuilt when an
archive grows: a second graph over the distinct vectors took a third of a large build, and was made
again whole for 100 new articles). A copy's own
group is always among its neighbours; the scores are exact, from the sentence vectors. An incremental
build searches only for its new sentences, keeps the old sentences' neighbours and adds a new sentence
to the lists of the old ones it found (each list trimmed to the best `MAX_NEIGHBOURS`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from index.ann import build_ann, choose
from index.columns import SentenceTable
from index.records import Neighbours, Sentence
from index.store import Neighbour

__all__ = ["DIGEST", "MAX_NEIGHBOURS", "NEIGHBOUR_FLOOR", "digests_of", "neighbours_of"]

NEIGHBOUR_FLOOR = 0.6  # sentence pairs kept for `also_in`; the setting picks the cut-off at query time
MAX_NEIGHBOURS = 12  # per sentence: an answer cites one sentence per article, the closest
CHUNK = 4096  # queries scored at once
# Through the sentence graph, sentences rather than distinct vectors come back (copies take several
# places): SEARCH_K of them, with SEARCH_EF candidates kept while searching. On the 35,121 sentences of a
# 1,000-article archive this finds 98% of the pairs at >= NEIGHBOUR_FLOOR that an exact search finds.
SEARCH_K = 32
SEARCH_EF = 64


def columns_of(sentences: Sequence[Sentence]) -> tuple[np.ndarray, np.ndarray]:
    """(heading flag, article number) per sentence: a table's own columns, or read off the objects."""
    if isinstance(sentences, SentenceTable):
        return np.asarray(sentences.heading, dtype=bool), np.asarray(sentences.doc)
    number: dict[str, int] = {}
    doc = np.fromiter((number.setdefault(s.doc_id, len(number)) for s in sentences), dtype=np.int64,
                      count=len(sentences))
    return np.fromiter((s.heading for s in sentences), dtype=bool, count=len(sentences)), doc


DIGEST = 16  # bytes of a vector's identity digest


def digests_of(vectors: np.ndarray, known: np.ndarray | None = None, block: int = 1 << 16) -> np.ndarray:
    """A 16-byte digest of every row's bytes ((rows, DIGEST) uint8), for grouping identical vectors:
    the rows of `known` (a previous index's digests, its rows first) taken as they are, the others
    hashed (blake2b) a block at a time (`vectors` may be mapped from disk). Saved with the index
    (copies.npy), so that a growth hashes only its new rows: hashing every one of 3.5 million rows again
    read 5.4 GB and took 62 of a +100 build's seconds at 100,000 articles (cProfile, session 9)."""
    start = 0 if known is None else len(known)
    found = np.empty((len(vectors), DIGEST), dtype=np.uint8)
    if start:
        found[:start] = np.asarray(known)
    for at in range(start, len(vectors), block):
        rows = np.ascontiguousarray(vectors[at: at + block])
        found[at: at + len(rows)] = np.frombuffer(b"".join(
            hashlib.blake2b(row, digest_size=DIGEST).digest() for row in rows), dtype=np.uint8).reshape(-1, DIGEST)
    return found


def copies(heading: np.ndarray, vectors: np.ndarray, digests: np.ndarray | None = None) -> tuple[list[int],
                                                                                               list[list[int]]]:
    """Body sentences grouped by identical vector: (one representative per group, each group's members),
    groups in the order of their first sentence, members in order. Keyed by a 16-byte digest of each
    vector's bytes (`digests`, or digests_of(vectors)) rather than the 1,536 bytes themselves (a key per
    distinct sentence was 0.55 GB of a 10,000-article build; two vectors sharing a digest is a 2^-128
    chance), grouped by sorting the digests."""
    keys = digests if digests is not None else digests_of(vectors)
    body = np.flatnonzero(~np.asarray(heading, dtype=bool))
    if not len(body):
        return [], []
    pairs = np.ascontiguousarray(keys[body]).view(np.uint64).reshape(len(body), 2)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))  # stable: equal digests keep the sentences' order
    ordered = pairs[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    run = np.cumsum(starts) - 1
    firsts = order[starts]  # each group's first sentence (its place among the body sentences)
    number = np.empty(len(firsts), dtype=np.int64)
    number[np.argsort(firsts, kind="stable")] = np.arange(len(firsts))  # groups by their first sentence
    group = np.empty(len(body), dtype=np.int64)
    group[order] = number[run]
    members = [m.tolist() for m in np.split(body[np.argsort(group, kind="stable")],
                                            np.cumsum(np.bincount(group))[:-1])]
    return body[np.sort(firsts)].tolist(), members


def near_groups(rep_vectors: np.ndarray, queries: np.ndarray, flat_below: int) -> list[list[tuple[float, int]]]:
    """For each query group, the groups at cosine >= NEIGHBOUR_FLOOR (itself included), exact scores."""
    index = build_ann(rep_vectors, choose(len(rep_vectors), flat_below))
    k = min(MAX_NEIGHBOURS + 1, len(rep_vectors))
    found: list[list[tuple[float, int]]] = []
    for at in range(0, len(queries), CHUNK):
        q = rep_vectors[queries[at: at + CHUNK]]
        _, ids = index.search(q, k)
        found += exact_groups(q, ids, rep_vectors)
    return found


def exact_groups(q: np.ndarray, ids: np.ndarray, vectors: np.ndarray,
                 rows: np.ndarray | None = None) -> list[list[tuple[float, int]]]:
    """Each query's found groups (-1: none) scored exactly, those at NEIGHBOUR_FLOOR or more; group g's
    vector is vectors[g], or vectors[rows[g]] (its representative's row)."""
    safe = np.where(ids >= 0, ids, 0)
    found = np.asarray(vectors[safe if rows is None else rows[safe]], dtype=np.float32)
    sims = np.einsum("qd,qkd->qk", q, found)  # exact, whatever the index's own scores
    return [[(float(s), int(h)) for s, h in zip(row_sims, row_ids, strict=True) if h >= 0 and s >= NEIGHBOUR_FLOOR]
            for row_ids, row_sims in zip(ids, sims, strict=True)]


def graph_groups(vectors: np.ndarray, queries: np.ndarray, reps: np.ndarray, group: np.ndarray,
                 graph: Any, graph_vectors: np.ndarray) -> list[list[tuple[float, int]]]:
    """near_groups through `graph`, the sentences' HNSW or IVF index over `graph_vectors` (a row per
    sentence): each query group searched with its representative's row there, the sentences found mapped
    to their groups, scored from the sentence `vectors` (read by row: they may be mapped from disk)."""
    import faiss

    k = min(SEARCH_K, graph.ntotal)
    params = faiss.SearchParametersHNSW(efSearch=max(SEARCH_EF, k)) if isinstance(  # type: ignore[attr-defined]
        graph, faiss.IndexHNSW) else None  # an IVF index reads its configured lists
    found: list[list[tuple[float, int]]] = []
    for at in range(0, len(queries), CHUNK):
        chunk = queries[at: at + CHUNK]
        rows = reps[chunk]
        _, ids = graph.search(np.ascontiguousarray(graph_vectors[rows], dtype=np.float32), k, params=params)
        groups = np.where(ids >= 0, group[np.where(ids >= 0, ids, 0)], -1)
        groups = np.concatenate([chunk[:, None], groups], axis=1)  # its own copies, whatever the graph found
        groups.sort(axis=1)
        groups[:, 1:][groups[:, 1:] == groups[:, :-1]] = -1  # each group once
        found += exact_groups(np.asarray(vectors[rows], dtype=np.float32), groups, vectors, reps)
    return found


def neighbours_of(sentences: Sequence[Sentence], vectors: np.ndarray, flat_below: int,
                  fresh: np.ndarray | None = None,
                  kept: dict[int, list[Neighbour]] | Neighbours | None = None, graph: Any = None,
                  graph_vectors: np.ndarray | None = None,
                  digests: np.ndarray | None = None) -> dict[int, list[Neighbour]]:
    """Sentence -> its neighbours in other articles, best first (ties by sentence). `fresh` (a boolean
    per sentence) limits the search to those sentences; the others keep their lists from `kept`. With
    `kept` as a dict, every list is returned; as Neighbours (arrays), only the lists that differ from it
    (the new sentences' and the old ones a new sentence found), for Neighbours.patched: a grown index
    does not turn every old list into objects. `graph`: the sentences' HNSW or IVF index over `graph_vectors`,
    searched instead of an exact index over the distinct vectors when there are `flat_below` of them or
    more. `sentences` may be an index.columns.SentenceTable: only its columns are read. `digests`: the
    vectors' digests_of, when the builder has them."""
    if len(sentences) < 2:
        return {}
    heading, docs = columns_of(sentences)
    reps, members = copies(heading, vectors, digests)
    if not reps:
        return {}
    group = np.full(len(sentences), -1)
    for g, ids in enumerate(members):
        group[ids] = g
    wanted = np.ones(len(reps), dtype=bool) if fresh is None else np.zeros(len(reps), dtype=bool)
    if fresh is not None:
        wanted[group[fresh & (group >= 0)]] = True
    queries = np.flatnonzero(wanted)
    old: dict[int, list[Neighbour]] | Neighbours = kept if kept is not None else {}
    found: dict[int, list[Neighbour]] = {}
    if graph is not None and graph_vectors is not None and len(reps) >= flat_below:
        near = graph_groups(vectors, queries, np.asarray(reps), group, graph, graph_vectors)
    else:  # below the size where the graph is searched: the distinct vectors are few enough to hold
        near = near_groups(np.ascontiguousarray(vectors[reps], dtype=np.float32), queries, flat_below)
    for q, groups in zip(queries, near, strict=True):
        ranked = sorted((-sim, j) for sim, h in groups for j in members[h])
        for i in members[q]:
            if fresh is not None and not fresh[i]:
                continue
            chosen = []
            for negative, j in ranked:
                if docs[j] != docs[i]:
                    chosen.append(Neighbour(j, -negative))
                    if len(chosen) == MAX_NEIGHBOURS:
                        break
            if chosen:
                found[i] = chosen
            if fresh is not None:  # the old sentences this one found have it as a neighbour too
                for n in chosen:
                    if not fresh[n.sentence]:
                        if n.sentence not in found:
                            found[n.sentence] = list(old.get(n.sentence, []))
                        found[n.sentence].append(Neighbour(i, n.similarity))
    if fresh is not None:
        if isinstance(old, dict):
            found = {i: list(v) for i, v in old.items()} | found
        for i, lst in found.items():
            if not fresh[i]:
                # the old lists' similarities were read back rounded as written (4 places): a new one
                # compared unrounded would put copies of one sentence (ties, ordered by sentence in a
                # build from scratch) in another order
                found[i] = sorted(lst, key=lambda n: (-round(n.similarity, 4), n.sentence))[:MAX_NEIGHBOURS]
    return found
