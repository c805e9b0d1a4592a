"""Nearest-neighbour search over unit vectors (FAISS), chosen by corpus size at build time.

A small corpus gets an exact (flat) index: its search is a product with every vector, microseconds for
the seed corpus, and the answers are exactly those of a brute-force search. From `flat_below` vectors on
it gets HNSW (a graph searched in about log(n) steps) over 8-bit scalar-quantised vectors, a quarter of
the flat index's memory; the scores of what it finds are recomputed exactly from the stored vectors, so
only which items are found is approximate, never their scores. From `ivf_from` vectors on it gets an
inverted file instead (IVF over the same 8-bit codes: the vectors grouped into `nlist` lists by k-means,
each list contiguous on disk, `nprobe` lists read per search). An HNSW search reads a code and a link
list wherever the walk goes, each on its own page: at 3.5 million sentences about 1,200 random pages a
question, a disk read each when the graph is not in the page cache (about 0.2 ms apiece here), and a
server mapping the graph soon holds most of it; it also found only 0.28 of the exact 20 nearest
(efSearch 128, hashing encoder), where 8 of 4,096 IVF lists found 0.62. An IVF search reads `nprobe`
runs of consecutive pages, and adding vectors appends them to their lists (no graph to insert into).
From `PQ_FROM` vectors on (enough for its codebooks' k-means) the lists hold product-quantised codes
(`pq` bytes a vector, 8 bits per sub-vector: 48 B at 384 dimensions, against the scalar codes' 384), so
a search reads an eighth of the bytes; it asks for `PQ_OVERSAMPLE` times the items wanted and keeps the
best by their exact scores. The kind and its parameters are recorded in the manifest (`AnnSpec.record`)
and read back with the index; an IVF record without `pq` (the indexes built before it) is the 8-bit
scalar codes it holds, and a load checks that the FAISS file holds the codes its record names.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from index.prefetch import gather

__all__ = ["MATCH_CONTEXT", "AnnSpec", "build_ann", "choose", "match_vectors", "nearest", "previous_spec",
           "search_params"]

# The share of the in-context vector in the vectors a question is matched against (server.extract.Weights'
# default): the sentence index is built over that blend, so the weight is fixed at build time.
MATCH_CONTEXT = 0.5
KINDS = ("flat", "hnsw", "ivf")
HNSW_M = 32  # graph links per vector: recall against memory (4 * 2 * M bytes per vector at the base layer)
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128  # candidates kept while searching: recall against time
TRAIN_SAMPLE = 100_000  # vectors the scalar quantiser learns its ranges from
ADD_BLOCK = 1 << 16  # vectors added at once
IVF_TRAIN_PER_LIST = 40  # k-means sample: vectors per list (FAISS warns below 39)
IVF_PROBE_SHARE = 256  # lists read per search: nlist / this (1/256 of the vectors scanned), at least IVF_MIN_PROBE
IVF_MIN_PROBE = 8
PQ_BYTES = (48, 64, 32, 16)  # IVF-PQ code size: the first that divides the dimension (none: scalar codes)
PQ_BITS = 8  # per sub-vector: 256 centroids each
PQ_FROM = 256 * IVF_TRAIN_PER_LIST  # vectors from which IVF lists hold PQ codes (the k-means sample's size)
# A PQ search asks for this many times the items wanted; their exact scores pick the best. Each is a random
# row read on a cold page cache (about 0.45 MB of a question's 3.8 MB at 100,000 articles), but 2 would
# cost the held-out half of SQuAD 0.007 of its answer sentences among the 20 nearest (`python -m eval pq`)
PQ_OVERSAMPLE = 4
# The codebooks' k-means (256 centroids in each of `pq` subspaces): 10 iterations on at most 64 points a
# centroid. FAISS's 25 on up to 256 cost 14 CPU s at 35,121 sentences for the same recall@20 (0.414 and
# 0.415, hashing encoder, IVF forced at 1,000 articles), and the sample grows with the lists.
PQ_TRAIN_ITERATIONS = 10
PQ_TRAIN_PER_CENTROID = 64


@dataclass(frozen=True)
class AnnSpec:
    kind: str = "flat"
    m: int = 0
    ef_construction: int = 0
    ef_search: int = 0
    context: float = 0.0  # sentences: the in-context share of the indexed blend (0 for passages)
    nlist: int = 0  # ivf: lists the vectors are grouped into
    nprobe: int = 0  # ivf: lists read per search
    pq: int = 0  # ivf: bytes of a vector's product-quantised code in the lists (0: 8-bit scalar codes)

    def record(self) -> dict[str, Any]:
        """The manifest's record; the IVF fields only for an IVF index, `pq` only for PQ codes (the records
        of the indexes built before they existed stay equal to those of the same kind built now, so those
        indexes still grow)."""
        found = asdict(self)
        return {k: v for k, v in found.items() if v or k not in ("nlist", "nprobe", "pq")}

    @classmethod
    def of(cls, record: dict[str, Any], what: str) -> AnnSpec:
        """The spec a manifest records; one this version cannot read is a ValueError (the store reports
        the index as damaged)."""
        try:
            spec = cls(**record)
        except TypeError as exc:
            raise ValueError(f"the manifest's {what} index record is not valid ({exc})") from exc
        if spec.kind not in KINDS:
            raise ValueError(f"the manifest's {what} index is of kind {spec.kind!r}; this version reads "
                               f"{', '.join(KINDS)}")
        if spec.pq and spec.kind != "ivf":
            raise ValueError(f"the manifest's {what} index records PQ codes for kind {spec.kind!r}")
        return spec


def pq_bytes(dim: int) -> int:
    """The PQ code size for `dim`-dimensional vectors (0: none of PQ_BYTES divides it)."""
    return next((m for m in PQ_BYTES if dim % m == 0), 0)


def lists_for(n: int) -> int:
    """IVF lists for `n` vectors: the power of two nearest sqrt(n) (about as many lists as vectors in
    each), never more than the vectors."""
    return max(1, min(n, 2 ** round(math.log2(max(1.0, math.sqrt(n))))))


def choose(n: int, flat_below: int, context: float = 0.0, ivf_from: int | None = None,
           previous: AnnSpec | None = None, dim: int = 0) -> AnnSpec:
    """Exact search for fewer than `flat_below` vectors, HNSW from there on, IVF from `ivf_from` (None:
    never), its lists of PQ codes from PQ_FROM vectors of `dim` dimensions. A `previous` IVF index (the
    one being grown) keeps its lists while they are at least half of what `n` vectors would get and
    its codes are those chosen now: growing adds to them, and they are made again, longer lists split,
    each time the corpus about quadruples (or once, for an index of scalar codes that gets PQ now)."""
    if n < flat_below:
        return AnnSpec(context=context)
    if ivf_from is None or n < ivf_from:
        return AnnSpec("hnsw", HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, context)
    nlist = lists_for(n)
    pq = pq_bytes(dim) if n >= PQ_FROM else 0
    if previous is not None and previous.kind == "ivf" and previous.context == context and \
            previous.nlist * 2 >= nlist and previous.pq == pq:
        return previous
    return AnnSpec("ivf", context=context, nlist=nlist, nprobe=min(nlist, max(IVF_MIN_PROBE, nlist // IVF_PROBE_SHARE)),
                   pq=pq)


def previous_spec(record: dict[str, Any] | None) -> AnnSpec | None:
    """The spec of a manifest's record (None: none recorded, or one this version does not read)."""
    if not record:
        return None
    try:
        return AnnSpec.of(record, "previous")
    except ValueError:
        return None


def match_vectors(sentence_vectors: np.ndarray, context_vectors: np.ndarray,
                  context: float = MATCH_CONTEXT) -> np.ndarray:
    """Sentence vectors blended with their in-context vectors: what a question is matched against."""
    return ((1 - context) * sentence_vectors + context * context_vectors).astype(np.float32)


def build_ann(vectors: np.ndarray, spec: AnnSpec) -> Any:
    """A FAISS inner-product index over `vectors` (float32, one row per item, ids = row numbers)."""
    import faiss

    dim = vectors.shape[1]
    index: Any
    if spec.kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif spec.kind == "hnsw":
        index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, spec.m,  # type: ignore[arg-type]
                                  faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = spec.ef_construction
        step = max(1, len(vectors) // TRAIN_SAMPLE)
        index.train(np.ascontiguousarray(vectors[::step], dtype=np.float32))
    elif spec.kind == "ivf":
        quantizer = faiss.IndexFlatIP(dim)  # the lists' centroids, searched exactly (nlist of them)
        if spec.pq:
            index = faiss.IndexIVFPQ(quantizer, dim, spec.nlist, spec.pq, PQ_BITS, faiss.METRIC_INNER_PRODUCT)
            index.pq.cp.min_points_per_centroid = 1  # the codebooks learn from the lists' sample, however small
            index.pq.cp.max_points_per_centroid = PQ_TRAIN_PER_CENTROID
            index.pq.cp.niter = PQ_TRAIN_ITERATIONS
        else:
            index = faiss.IndexIVFScalarQuantizer(quantizer, dim, spec.nlist, faiss.ScalarQuantizer.QT_8bit,
                                                  faiss.METRIC_INNER_PRODUCT)
        step = max(1, len(vectors) // (max(spec.nlist * IVF_TRAIN_PER_LIST, PQ_FROM if spec.pq else 0)))
        index.cp.verbose = False
        index.train(np.ascontiguousarray(vectors[::step], dtype=np.float32))
    else:
        raise ValueError(f"no FAISS index of kind {spec.kind!r}")
    for at in range(0, len(vectors), ADD_BLOCK):  # a block at a time: `vectors` may be mapped from disk
        index.add(np.ascontiguousarray(vectors[at: at + ADD_BLOCK], dtype=np.float32))
    configure(index, spec)
    return index


def configure(index: Any, spec: AnnSpec) -> None:
    """Search-time parameters, set again on load (FAISS does not keep efSearch in every version)."""
    if spec.kind == "hnsw":
        index.hnsw.efSearch = max(spec.ef_search, 1)
    elif spec.kind == "ivf":
        import faiss

        if isinstance(index, faiss.IndexIVFPQ) != bool(spec.pq) or (spec.pq and index.pq.M != spec.pq):
            raise ValueError(f"the FAISS file does not hold the codes its record names ({spec.record()})")
        index.nprobe = max(spec.nprobe, 1)
        # A search stops after the list that takes it past `nprobe` lists of average length: k-means
        # leaves the lists unbalanced (hashing-encoder sentences at 100,000 articles: median 696 of 2,048
        # lists, the 8 a question probes 3,200 on average, 20 MB read), and a question's cost on a cold
        # page cache is the bytes it reads.
        index.max_codes = max(1, index.nprobe * index.ntotal // max(index.nlist, 1))


def search_params(index: Any, n: int) -> Any:
    """FAISS search parameters for `n` results: an HNSW search keeps at least `n` candidates (it finds
    at most efSearch items); other kinds search as configured (None)."""
    import faiss

    if isinstance(index, faiss.IndexHNSW):
        return faiss.SearchParametersHNSW(efSearch=max(index.hnsw.efSearch, n))  # type: ignore[attr-defined]
    return None


def nearest(index: Any, vectors: np.ndarray, query: np.ndarray, n: int,
            oversample: int = PQ_OVERSAMPLE) -> list[tuple[int, float]]:
    """The `n` items nearest `query` as (row, exact inner product), best first, ties by row. An
    approximate index's scores are recomputed from `vectors`, the rows it was built over (as is
    everything when `n` asks for every row); one of PQ codes is asked for `oversample` times `n` items
    and the best `n` of them by those scores kept."""
    if n <= 0 or index.ntotal == 0:
        return []
    import faiss

    q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
    if not isinstance(index, faiss.IndexFlat) and n >= index.ntotal:  # all of them: a graph may miss some
        sims = np.asarray(vectors, dtype=np.float32) @ q[0]
        return sorted(((i, float(s)) for i, s in enumerate(sims)), key=lambda p: (-p[1], p[0]))
    wanted = n * max(oversample, 1) if isinstance(index, faiss.IndexIVFPQ) else n
    scores, found = index.search(q, min(wanted, index.ntotal), params=search_params(index, wanted))
    ids = [int(i) for i in found[0] if i >= 0]
    if isinstance(index, faiss.IndexFlat):  # exact already
        pairs = [(int(i), float(s)) for s, i in zip(scores[0], found[0], strict=True) if i >= 0]
    else:
        sims = np.asarray(gather(vectors, ids), dtype=np.float32) @ q[0] if ids else np.zeros(0, dtype=np.float32)
        pairs = [(i, float(s)) for i, s in zip(ids, sims, strict=True)]
    return sorted(pairs, key=lambda p: (-p[1], p[0]))[:n]
