"""The nearest-neighbour indexes: exact below a size, HNSW above, IVF above a larger one, recorded in
the manifest; the answers of the seed corpus are the same through HNSW as through the exact search."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest

from index.ann import PQ_FROM, AnnSpec, build_ann, choose, nearest, previous_spec
from index.build import build
from index.errors import IndexCorrupt
from index.hash_encoder import HashEncoder
from index.onnx_encoder import OnnxEncoder
from index.settings import Settings
from index.store import read_folder, read_manifest

REPO = Path(__file__).resolve().parents[1]
SEED_ARTICLES = REPO / "data" / "articles"


def unit_rows(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_kind_is_chosen_by_size() -> None:
    assert choose(999, 1000) == AnnSpec()
    big = choose(1000, 1000, context=0.5)
    assert big.kind == "hnsw" and big.m > 0 and big.ef_search > 0 and big.context == 0.5
    assert isinstance(build_ann(unit_rows(50), choose(50, 1000)), faiss.IndexFlatIP)
    assert isinstance(build_ann(unit_rows(50), choose(50, 10)), faiss.IndexHNSW)


def test_ivf_from_a_larger_size_keeps_its_lists_while_they_are_long_enough() -> None:
    assert choose(10_000, 1000, ivf_from=None).kind == choose(10_000, 1000, ivf_from=20_000).kind == "hnsw"
    ivf = choose(20_000, 1000, context=0.5, ivf_from=20_000)
    assert (ivf.kind, ivf.nlist, ivf.nprobe, ivf.context) == ("ivf", 128, 8, 0.5)  # sqrt(20,000) = 141
    assert choose(3_505_830, 1000, ivf_from=20_000).nlist == 2048 and choose(3_505_830, 1000, ivf_from=1).nprobe == 8
    assert choose(80_000, 1000, context=0.5, ivf_from=20_000, previous=ivf) is ivf  # grown, not made again
    assert choose(300_000, 1000, context=0.5, ivf_from=20_000, previous=ivf).nlist == 512  # lists 4x as long
    assert choose(20_000_000, 1000, ivf_from=1).nprobe == 16
    assert choose(60_000, 1000, ivf_from=20_000, previous=ivf).nlist == 256  # another blend: another index
    hnsw = choose(20_000, 1000)
    assert "nlist" not in hnsw.record() and previous_spec(hnsw.record()) == hnsw  # older manifests' records
    assert previous_spec(ivf.record()) == ivf and previous_spec({"kind": "lsh"}) is None and previous_spec(None) is None


def test_ivf_lists_hold_pq_codes_from_pq_from_vectors_and_an_older_record_is_scalar_codes() -> None:
    assert choose(PQ_FROM - 1, 1000, ivf_from=100, dim=384).pq == 0
    pq = choose(PQ_FROM, 1000, context=0.5, ivf_from=100, dim=384)
    assert (pq.kind, pq.pq) == ("ivf", 48) and choose(PQ_FROM, 1000, ivf_from=100, dim=64).pq == 64
    assert choose(PQ_FROM, 1000, ivf_from=100, dim=7).pq == 0  # no code size divides it: scalar codes
    assert pq.record()["pq"] == 48 and previous_spec(pq.record()) == pq
    older = {"kind": "ivf", "m": 0, "ef_construction": 0, "ef_search": 0, "context": 0.5, "nlist": 128, "nprobe": 8}
    sq8 = previous_spec(older)
    assert sq8 is not None and sq8.pq == 0 and sq8.record() == older  # read as the scalar codes it holds
    assert choose(PQ_FROM // 2, 1000, 0.5, 100, sq8, 384) is sq8  # below PQ_FROM it grows as it is
    assert choose(PQ_FROM, 1000, 0.5, 100, sq8, 384).pq == 48  # made again once, with PQ codes
    assert choose(4 * PQ_FROM, 1000, 0.5, 100, pq, 384) is pq
    with pytest.raises(ValueError, match="PQ codes"):
        AnnSpec.of({**choose(20_000, 1000).record(), "pq": 48}, "sentences")


def test_a_pq_search_oversamples_and_keeps_the_best_by_exact_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    import index.ann as ann

    monkeypatch.setattr(ann, "PQ_FROM", 1000)
    rows = unit_rows(3000)
    spec = choose(3000, 100, ivf_from=100, dim=64)
    index = build_ann(rows, spec)
    assert isinstance(index, faiss.IndexIVFPQ) and index.pq.M == 64 and index.code_size == 64
    flat = build_ann(rows, choose(3000, 10_000))
    asked: list[int] = []
    search = index.search
    queries = rows[:20] + 0.1 * unit_rows(20, seed=1)
    hits = 0
    for q in queries:
        found = nearest(index, rows, q, 10)
        assert len(found) == 10 and [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        brute = rows @ q
        assert all(abs(s - float(brute[i])) < 1e-5 for i, s in found)  # scores recomputed, not from the codes
        hits += found[0][0] == nearest(flat, rows, q, 1)[0][0]
    assert hits >= 18
    monkeypatch.setattr(index, "search", lambda q, k, params=None: asked.append(k) or search(q, k, params=params))
    nearest(index, rows, queries[0], 10)
    assert asked == [10 * ann.PQ_OVERSAMPLE]


def test_an_ivf_search_reads_about_nprobe_average_lists_however_unbalanced() -> None:
    rows = unit_rows(4000)
    rows[:2000] = rows[0] + 0.05 * unit_rows(2000, seed=2)  # half of them in one tight cluster
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    index = build_ann(rows, choose(4000, 100, ivf_from=100))
    sizes = [index.invlists.list_size(k) for k in range(index.nlist)]
    assert index.max_codes == index.nprobe * 4000 // index.nlist and max(sizes) > 4 * index.max_codes // index.nprobe
    stats = faiss.cvar.indexIVF_stats
    for q in rows[:50:5]:  # questions near the big cluster
        stats.reset()
        nearest(index, rows, q, 10)
        assert stats.ndis <= index.max_codes + max(sizes)
        assert stats.ndis < sum(sorted(sizes)[-index.nprobe:])  # not every probed list read whole


@pytest.mark.parametrize("ivf_from", [None, 100])
def test_an_approximate_index_finds_what_the_exact_search_finds_with_exact_scores(ivf_from: int | None) -> None:
    rows = unit_rows(2000)
    flat, graph = build_ann(rows, choose(2000, 10_000)), build_ann(rows, choose(2000, 100, ivf_from=ivf_from))
    assert isinstance(graph, faiss.IndexIVF if ivf_from else faiss.IndexHNSW)
    queries = rows[:20] + 0.1 * unit_rows(20, seed=1)
    for q in queries:
        exact, found = nearest(flat, rows, q, 10), nearest(graph, rows, q, 10)
        assert exact[0][0] == found[0][0]
        brute = rows @ q
        assert all(abs(s - float(brute[i])) < 1e-5 for i, s in found)  # scores recomputed, not quantised
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    # asked for every row, a graph (which may miss some) gives way to the exact product
    assert sorted(i for i, _ in nearest(graph, rows, queries[0], 5000)) == list(range(2000))


def test_a_build_records_the_kinds_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    small = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "flat")
    build(small, embedder=HashEncoder(), progress=False, say=lambda _: None)
    manifest = read_manifest(small.index_dir)
    assert manifest.ann["passages"]["kind"] == manifest.ann["sentences"]["kind"] == "flat"
    large = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "hnsw", ann_flat_below=10)
    build(large, embedder=HashEncoder(), progress=False, say=lambda _: None)
    data = read_folder(large.index_dir)
    assert data.manifest.ann["passages"]["kind"] == data.manifest.ann["sentences"]["kind"] == "hnsw"
    assert isinstance(data.faiss_index, faiss.IndexHNSW) and isinstance(data.sentence_ann, faiss.IndexHNSW)
    assert data.sentence_ann.ntotal == len(data.sentences)
    path = large.index_dir / "manifest.json"
    raw = json.loads(path.read_text())
    raw["ann"]["sentences"]["kind"] = "lsh"
    path.write_text(json.dumps(raw))
    with pytest.raises(IndexCorrupt, match="kind 'lsh'"):
        read_folder(large.index_dir)


def pq_at_the_seeds_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """IVF lists of PQ codes for the seed corpus's few vectors (302 sentences, 44 passages): fewer bits."""
    monkeypatch.setattr("index.ann.PQ_FROM", 32)
    monkeypatch.setattr("index.ann.PQ_BITS", 5)


@pytest.mark.parametrize(("flat_below", "ivf_from", "pq"), [(10, 500_000, False), (100_000, 500_000, False),
                                                          (10, 10, False), (10, 10, True)])
def test_a_server_maps_the_faiss_indexes_and_the_builder_reads_them_to_grow(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flat_below: int, ivf_from: int, pq: bool) -> None:
    if pq:
        pq_at_the_seeds_size(monkeypatch)
    settings = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "index", ann_flat_below=flat_below,
                        ann_ivf_from=ivf_from)
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    mapped, owned = read_folder(settings.index_dir), read_folder(settings.index_dir, growable=True)

    def own_memory(index: object) -> list[bool]:  # the codes (and a graph's links) held, or viewed on the file
        index = faiss.downcast_index(index)
        if isinstance(index, faiss.IndexHNSW):
            return [index.hnsw.neighbors.is_owned, faiss.downcast_index(index.storage).codes.is_owned]
        if isinstance(index, faiss.IndexIVF):  # each list's codes
            lists = faiss.downcast_InvertedLists(index.invlists)
            return [lists.codes.at(k).is_owned for k in range(index.nlist) if index.invlists.list_size(k)]
        return [index.codes.is_owned]

    for a, b in ((mapped.faiss_index, owned.faiss_index), (mapped.sentence_ann, owned.sentence_ann)):
        assert own_memory(a) and not any(own_memory(a)) and all(own_memory(b))
        assert type(faiss.downcast_index(a)) is type(faiss.downcast_index(b))
        assert isinstance(a, faiss.IndexIVFPQ) == pq
    for i in range(0, len(owned.sentences), 5):
        q = np.asarray(owned.match_vectors[i])
        assert nearest(mapped.sentence_ann, mapped.match_vectors, q, 8) == \
            nearest(owned.sentence_ann, owned.match_vectors, q, 8)
    for i in range(len(owned.passages)):
        q = np.asarray(owned.passage_vectors[i])
        assert nearest(mapped.faiss_index, mapped.passage_vectors, q, 4) == \
            nearest(owned.faiss_index, owned.passage_vectors, q, 4)


def test_seed_answers_are_the_same_through_hnsw(tmp_path: Path, answerer, embedder: OnnxEncoder) -> None:  # type: ignore[no-untyped-def]
    from server.answerer import Answerer

    settings = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "index", ann_flat_below=10)
    build(settings, embedder=embedder, progress=False, say=lambda _: None)
    graph = Answerer.load(settings, embedder=embedder)
    assert isinstance(graph.index.sentence_ann, faiss.IndexHNSW)
    questions = [json.loads(line)["question"] for line in (REPO / "eval" / "gold.jsonl").read_text().splitlines()]
    for question in questions[::3]:
        exact, approximate = answerer.ask(question), graph.ask(question)
        assert [(q.doc_id, q.start, q.end) for q in approximate.quotes] == \
            [(q.doc_id, q.start, q.end) for q in exact.quotes], question
        assert [p.chunk_id for p in approximate.passages] == [p.chunk_id for p in exact.passages], question


@pytest.mark.parametrize(("ivf_from", "kind"), [(500_000, faiss.IndexHNSW), (10, faiss.IndexIVFScalarQuantizer),
                                               (10, faiss.IndexIVFPQ)])
def test_articles_added_after_the_others_grow_the_indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          ivf_from: int, kind: type) -> None:
    import shutil

    if kind is faiss.IndexIVFPQ:
        pq_at_the_seeds_size(monkeypatch)

    import index.append as appender
    import index.build as builder

    articles = tmp_path / "articles"
    shutil.copytree(SEED_ARTICLES, articles)
    names = sorted(articles.glob("*.txt"))
    held = tmp_path / "held"
    held.mkdir()
    for name in names[-2:]:  # the last two (by id) arrive later
        name.rename(held / name.name)
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index", ann_flat_below=10, ann_ivf_from=ivf_from)
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    first = read_manifest(settings.index_dir).ann
    made: list[int] = []
    real = builder.build_ann
    for module in (builder, appender):
        monkeypatch.setattr(module, "build_ann", lambda v, spec: made.append(len(v)) or real(v, spec))
    for name in held.iterdir():
        name.rename(articles / name.name)
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    assert made == []  # both FAISS indexes grew
    grown = read_folder(settings.index_dir)
    fresh = Settings(articles_dir=articles, index_dir=tmp_path / "fresh", ann_flat_below=10, ann_ivf_from=ivf_from)
    build(fresh, embedder=HashEncoder(), progress=False, say=lambda _: None)
    assert len(made) == 2  # a new folder builds its own
    whole = read_folder(fresh.index_dir)
    assert isinstance(grown.sentence_ann, kind) and isinstance(grown.faiss_index, kind)
    # an IVF index keeps the lists it was made with (the fresh one's are chosen for its own size)
    assert grown.lexicon == whole.lexicon and grown.manifest.ann == (whole.manifest.ann if kind is faiss.IndexHNSW
                                                                     else first)
    assert grown.sentence_ann.ntotal == len(whole.sentences) and grown.faiss_index.ntotal == len(whole.passages)
    for i in range(0, len(whole.sentences), 7):
        q = np.asarray(whole.match_vectors[i])
        assert nearest(grown.sentence_ann, grown.match_vectors, q, 1)[0][1] == pytest.approx(
            nearest(whole.sentence_ann, whole.match_vectors, q, 1)[0][1], abs=1e-5)
    # an article that sorts among the old ones renumbers what follows it: the indexes are made anew
    (articles / "000_0first.txt").write_text("A new first article.\n\nIt says something new about Armenia.\n")
    made.clear()
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    assert len(made) == 2


def test_an_ivf_index_is_read_with_the_codes_its_record_names_and_refused_otherwise(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    older = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "sq8", ann_flat_below=10, ann_ivf_from=10)
    build(older, embedder=HashEncoder(), progress=False, say=lambda _: None)  # as before PQ: scalar codes
    record = read_manifest(older.index_dir).ann["sentences"]
    assert record["kind"] == "ivf" and "pq" not in record
    assert isinstance(read_folder(older.index_dir).sentence_ann, faiss.IndexIVFScalarQuantizer)
    pq_at_the_seeds_size(monkeypatch)
    assert isinstance(read_folder(older.index_dir).sentence_ann, faiss.IndexIVFScalarQuantizer)  # still read
    shutil.copytree(older.index_dir, tmp_path / "copy")
    build(older, embedder=HashEncoder(), progress=False, say=lambda _: None)  # the next build makes it again
    assert read_manifest(older.index_dir).ann["sentences"] == {**record, "pq": 48}
    assert isinstance(read_folder(older.index_dir).sentence_ann, faiss.IndexIVFPQ)
    path = tmp_path / "copy" / "manifest.json"
    raw = json.loads(path.read_text())
    raw["ann"]["sentences"]["pq"] = 48  # a record naming codes the file does not hold
    path.write_text(json.dumps(raw))
    with pytest.raises(IndexCorrupt, match="does not hold the codes"):
        read_folder(tmp_path / "copy")
    fresh = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "pq", ann_flat_below=10, ann_ivf_from=10)
    build(fresh, embedder=HashEncoder(), progress=False, say=lambda _: None)
    assert read_manifest(fresh.index_dir).ann["sentences"]["pq"] == 48
    path = fresh.index_dir / "manifest.json"
    raw = json.loads(path.read_text())
    del raw["ann"]["sentences"]["pq"]  # an older record beside PQ codes: never searched as scalar codes
    path.write_text(json.dumps(raw))
    with pytest.raises(IndexCorrupt, match="does not hold the codes"):
        read_folder(fresh.index_dir)


def test_the_pq_measure_finds_recall_growing_with_the_finds_rescored_and_whole_when_all_are(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import index.ann as ann
    from eval.pq import measure

    monkeypatch.setattr(ann, "PQ_FROM", 1000)
    rows = unit_rows(3000)
    index = build_ann(rows, replace(choose(3000, 100, ivf_from=100, dim=64), pq=16))
    index.nprobe = index.nlist  # every list searched: only the codes' ranking is approximate
    index.max_codes = 0
    queries = rows[:30] + 0.3 * unit_rows(30, seed=2)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    gold = [{int(np.argmax(rows @ q))} for q in queries]
    found = measure(index, rows, queries, gold, 10, (1, 2, 4, 300))
    recalls = [r["recall@10"] for r in found["oversamples"]]
    assert recalls == sorted(recalls) and recalls[0] < 1.0 and recalls[-1] == 1.0
    assert found["exact_answer_among"] == 1.0 and found["oversamples"][-1]["answer_among"] == 1.0
