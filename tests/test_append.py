"""Growing an index in place (index.append): articles added after the others give the index a build
from scratch gives, with the old rows copied rather than made again; BM25 from the saved term ids has
bm25s's own scores; the pieces it is made of (patched neighbour lists, extended term tables, copied
annotation lines) keep what they had."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import bm25s
import faiss
import numpy as np
import pytest

import index.append as appender
from index.build import build
from index.columns import LazyLines, TermTable
from index.errors import IndexCorrupt
from index.hash_encoder import HashEncoder
from index.lexical_index import FILE as PASSAGE_TERMS
from index.lexical_index import PassageTerms, bm25_counted, bm25_of, fits
from index.records import Neighbour, Neighbours
from index.segments import Rows, load_rows, plain, segment_name
from index.settings import Settings
from index.store import read_folder, span_columns, verify
from index.text import terms

REPO = Path(__file__).resolve().parents[1]
SEED_ARTICLES = REPO / "data" / "articles"


def column_entries(bm25: object, token: str) -> list[tuple[int, float]]:
    scores, j = bm25.scores, bm25.vocab_dict[token]  # type: ignore[attr-defined]
    a, b = int(scores["indptr"][j]), int(scores["indptr"][j + 1])
    return sorted(zip(scores["indices"][a:b].tolist(), scores["data"][a:b].tolist(), strict=True))


def test_bm25_from_term_ids_has_the_scores_bm25s_computes(seed_index: Path) -> None:
    data = read_folder(seed_index)
    tokens = appender.bm25_terms(data.passages, data.articles)
    reference = bm25s.BM25()
    reference.index(tokens, show_progress=False)
    ours = bm25_of(PassageTerms.of(tokens))
    assert set(ours.vocab_dict) == set(reference.vocab_dict)
    for token in reference.vocab_dict:
        if token:
            assert column_entries(ours, token) == column_entries(reference, token), token  # bit for bit
    for question in ("Who won the election in Armenia?", "drones Russia Iran", "sanctions zzzz"):
        known = [t for t in terms(question) if t in reference.vocab_dict]
        assert np.array_equal(ours.get_scores(known), reference.get_scores(known))


def test_passage_terms_extend_save_and_load(tmp_path: Path) -> None:
    first = PassageTerms.of([["a", "b", "a"], []])
    grown = first.extended([["c", "a"]])
    assert grown.vocabulary == ["a", "b", "c"] and grown.starts.tolist() == [0, 3, 3, 5]
    assert grown.ids.tolist() == [0, 1, 0, 2, 0]
    grown.save(tmp_path / "t.npz")
    back = PassageTerms.load(tmp_path / "t.npz")
    assert back.vocabulary == grown.vocabulary and np.array_equal(back.ids, grown.ids)
    np.savez(tmp_path / "bad.npz", starts=np.array([0, 9]), ids=np.array([0], dtype=np.int32),
             vocabulary=np.frombuffer(b"a", dtype=np.uint8))
    with pytest.raises(ValueError, match="does not fit"):
        PassageTerms.load(tmp_path / "bad.npz")


def test_bm25_grown_by_merging_the_new_entries_is_the_bm25_of_every_passage() -> None:
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(50)]
    passages = [[words[j] for j in rng.integers(0, 40 if k < 30 else 50, rng.integers(0, 30))] for k in range(40)]
    passages[31] = []  # a new passage without a term
    whole = bm25_of(PassageTerms.of(passages))
    first = PassageTerms.of(passages[:30])
    old, counts = bm25_counted(first)
    assert fits(old, counts, 30) and not fits(old, counts[1:], 30) and not fits(old, counts, 31)
    grown, grown_counts = bm25_counted(first.extended(passages[30:]), (old, counts))
    for key in ("data", "indices", "indptr"):
        assert np.array_equal(grown.scores[key], whole.scores[key]), key  # bit for bit
    assert np.array_equal(grown_counts, bm25_counted(PassageTerms.of(passages))[1])
    assert grown.vocab_dict == whole.vocab_dict and grown.scores["num_docs"] == 40


def test_a_term_table_extends_as_one_made_of_every_row() -> None:
    rows = [frozenset({"x", "y"}), frozenset(), frozenset({"y"})]
    more = [frozenset({"z", "x"}), frozenset({"w"})]
    grown = TermTable.of(rows).extended(more)
    whole = TermTable.of(rows + more)
    assert list(grown) == rows + more and grown.vocabulary == whole.vocabulary
    assert np.array_equal(grown.ids, whole.ids) and np.array_equal(grown.starts, whole.starts)


def test_patched_neighbours_replace_only_the_changed_rows() -> None:
    lists = {0: [Neighbour(2, 0.875)], 2: [Neighbour(0, 0.875), Neighbour(1, 0.75)], 3: [Neighbour(1, 0.625)]}
    base = Neighbours.of(lists, 4)  # (similarities a float32 holds exactly)
    changed = {2: [Neighbour(5, 0.9375), Neighbour(0, 0.875)], 5: [Neighbour(2, 0.9375)]}
    patched = base.patched(changed, 6)
    assert patched.as_dict() == {0: lists[0], 2: changed[2], 3: lists[3], 5: changed[5]}
    assert patched.problem(6) is None


def test_lazy_lines_are_copied_byte_for_byte(tmp_path: Path) -> None:
    for text in ("", '{"a": 1}\n{"b": "é"}\n', '{"a": 1}\n{"b": 2}'):  # the last without its newline
        path = tmp_path / "lines.jsonl"
        path.write_text(text, encoding="utf-8")
        out = io.BytesIO()
        LazyLines(path, json.loads).write_to(out, block=4)
        assert out.getvalue().decode("utf-8") == (text if not text or text.endswith("\n") else text + "\n")


@pytest.mark.parametrize(("flat_below", "ivf_from"), [(10, 500_000), (100_000, 500_000), (10, 10)])
def test_a_grown_index_is_the_index_built_from_scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       flat_below: int, ivf_from: int) -> None:
    if ivf_from == 10:  # IVF lists of PQ codes at the seed corpus's size (fewer bits: its few vectors)
        monkeypatch.setattr("index.ann.PQ_FROM", 32)
        monkeypatch.setattr("index.ann.PQ_BITS", 5)
    articles = tmp_path / "articles"
    shutil.copytree(SEED_ARTICLES, articles)
    held = tmp_path / "held"
    held.mkdir()
    for name in sorted(articles.glob("*.txt"))[-2:]:  # the last two (by id) arrive later
        name.rename(held / name.name)
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index", ann_flat_below=flat_below,
                        ann_ivf_from=ivf_from)
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    first = read_folder(settings.index_dir).manifest.ann
    for name in held.iterdir():
        name.rename(articles / name.name)
    calls: list[int] = []
    real = appender.grown
    monkeypatch.setattr("index.build.grown", lambda *a, **k: calls.append(1) or real(*a, **k))
    report = build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    assert calls == [1] and (report.embedded, report.reused) == (2, 3)
    grown = read_folder(settings.index_dir)
    fresh = Settings(articles_dir=articles, index_dir=tmp_path / "fresh", ann_flat_below=flat_below,
                     ann_ivf_from=ivf_from)
    build(fresh, embedder=HashEncoder(), progress=False, say=lambda _: None)
    whole = read_folder(fresh.index_dir)
    if ivf_from == 10:  # the same codes; a grown IVF index keeps the lists it was made with
        assert {spec["pq"] for spec in whole.manifest.ann.values()} == {48} and grown.manifest.ann == first
        assert isinstance(grown.sentence_ann, faiss.IndexIVFPQ) and isinstance(grown.faiss_index, faiss.IndexIVFPQ)
    assert grown.manifest.ann == (first if ivf_from == 10 else whole.manifest.ann)
    assert grown.manifest.article_hashes == whole.manifest.article_hashes
    assert [a.text for a in grown.articles.values()] == [a.text for a in whole.articles.values()]
    for key, column in span_columns(whole.sentences, whole.passages).items():
        assert np.array_equal(span_columns(grown.sentences, grown.passages)[key], column), key
    for name in ("passage_vectors", "sentence_vectors", "context_vectors", "match_vectors"):
        assert np.array_equal(getattr(grown, name), getattr(whole, name)), name
    assert list(grown.annotations) == list(whole.annotations) and grown.lexicon == whole.lexicon
    assert grown.neighbours.as_dict() == whole.neighbours.as_dict()
    for question in ("Who won the election in Armenia?", "drones Russia Iran"):
        known = [t for t in terms(question) if t in whole.bm25.vocab_dict]
        assert np.allclose(grown.bm25.get_scores(known), whole.bm25.get_scores(known), atol=1e-6)
    assert PassageTerms.load(settings.index_dir / PASSAGE_TERMS).vocabulary  # saved for the next growth


def test_rows_read_segments_as_one_matrix(tmp_path: Path) -> None:
    whole = np.arange(7 * 3, dtype=np.float32).reshape(7, 3)
    for k, (a, b) in enumerate([(0, 3), (3, 4), (4, 7)]):
        np.save(tmp_path / segment_name("m.npy", k), whole[a:b])
    rows = load_rows(tmp_path, "m.npy", ["m.npy", "m.2.npy", "m.1.npy", "other.npy"])
    assert isinstance(rows, Rows) and rows.shape == (7, 3) and len(rows) == 7 and rows.dtype == np.float32
    for key in (0, 3, 6, -1, np.int64(4), slice(None), slice(2, 5), slice(5, 9), slice(None, None, 2), slice(4, 4),
                [6, 0, 3, 3], [], np.array([[1, 5], [4, 2]]), np.arange(7) % 2 == 0):
        assert np.array_equal(rows[key], whole[key]), key
    assert np.array_equal(np.asarray(rows), whole) and np.array_equal(0.5 * rows, 0.5 * whole)
    light = plain(rows)
    assert isinstance(light, Rows) and not any(isinstance(p, np.memmap) for p in light.parts)
    assert np.array_equal(light[[5, 1]], whole[[5, 1]]) and np.shares_memory(light[0:2], light.parts[0])
    with pytest.raises(IndexError):
        rows[7]
    with pytest.raises(ValueError, match="numbered"):
        load_rows(tmp_path, "m.npy", ["m.npy", "m.2.npy"])


def test_growth_links_full_segments_and_copies_only_the_last_short_one(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(SEED_ARTICLES, articles)
    held = tmp_path / "held"
    held.mkdir()
    later = sorted(articles.glob("*.txt"))[-3:]
    for name in later:
        name.rename(held / name.name)
    # exact FAISS indexes: a grown HNSW graph is not the graph a build from scratch makes, and the answers
    # compared below would differ by it rather than by the segments
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index", ann_flat_below=100_000)
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    monkeypatch.setattr(appender, "SEGMENT_ROWS", 1)  # every segment full: linked, never copied
    inodes: dict[str, int] = {}
    for step, name in enumerate(later[:2], start=1):
        inodes = {p.name: p.stat().st_ino for p in settings.index_dir.glob("*vectors*.npy")}
        (held / name.name).rename(articles / name.name)
        build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
        files = sorted(p.name for p in settings.index_dir.glob("sentence_vectors*.npy"))
        assert files == sorted(["sentence_vectors.npy"] + [f"sentence_vectors.{k}.npy" for k in range(1, step + 1)])
        for old, ino in inodes.items():  # the previous index's segments, hard-linked, not written again
            assert (settings.index_dir / old).stat().st_ino == ino, old
    inodes = {p.name: p.stat().st_ino for p in settings.index_dir.glob("*vectors*.npy")}
    monkeypatch.setattr(appender, "SEGMENT_ROWS", 1 << 30)  # the last segment short: merged with the new rows
    (held / later[2].name).rename(articles / later[2].name)
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    now = {p.name: p.stat().st_ino for p in settings.index_dir.glob("*vectors*.npy")}
    assert set(now) == set(inodes) and now["sentence_vectors.npy"] == inodes["sentence_vectors.npy"]
    assert now["sentence_vectors.2.npy"] != inodes["sentence_vectors.2.npy"]
    grown = read_folder(settings.index_dir)
    verify(settings.index_dir, grown.manifest, full=True)  # the carried checksums are the files' own
    fresh = Settings(articles_dir=articles, index_dir=tmp_path / "fresh", ann_flat_below=100_000)
    build(fresh, embedder=HashEncoder(), progress=False, say=lambda _: None)
    whole = read_folder(fresh.index_dir)
    for name in ("passage_vectors", "sentence_vectors", "context_vectors", "match_vectors"):
        assert isinstance(getattr(grown, name), Rows), name
        assert np.array_equal(getattr(grown, name), getattr(whole, name)), name
    assert grown.neighbours.as_dict() == whole.neighbours.as_dict()
    from server.answerer import Answerer  # a server on the segments answers as on one file each

    asked = [Answerer(data, HashEncoder(), s).ask("Who won the election in Armenia?")
             for data, s in ((grown, settings), (whole, fresh))]
    assert asked[0].passages and replace(asked[0], timings_ms={}) == replace(asked[1], timings_ms={})
    (settings.index_dir / "sentence_vectors.1.npy").unlink()
    with pytest.raises(IndexCorrupt, match="missing"):
        read_folder(settings.index_dir)


def test_a_growth_reads_only_new_or_changed_files_and_saves_the_annotation_line_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import index.load as loader
    from index.columns import _line_ends
    from index.store import ANNOTATION_ENDS

    articles = tmp_path / "articles"
    shutil.copytree(SEED_ARTICLES, articles)
    held = tmp_path / "held"
    held.mkdir()
    for name in sorted(articles.glob("*.txt"))[-2:]:
        name.rename(held / name.name)
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index")
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    rows = [json.loads(line) for line in (settings.index_dir / "articles.jsonl").read_text().splitlines()]
    assert all(row["file"] == [(articles / row["filename"]).stat().st_size,
                               (articles / row["filename"]).stat().st_mtime_ns] for row in rows)
    for name in held.iterdir():
        name.rename(articles / name.name)
    read: list[str] = []
    real = loader.read_article
    monkeypatch.setattr(loader, "read_article", lambda path, *a: read.append(path.name) or real(path, *a))
    report = build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    assert (report.embedded, report.reused) == (2, 3)
    assert sorted(read) == sorted(p.name for p in sorted(articles.glob("*.txt"))[-2:])  # only the new files
    # an edit that keeps the size and the mtime is not seen (as by make and rsync); --rehash sees it
    first = sorted(articles.glob("*.txt"))[0]
    st, text = first.stat(), first.read_text(encoding="utf-8")
    edited = text.replace("the", "THE", 1)
    first.write_text(edited, encoding="utf-8")
    os.utime(first, ns=(st.st_atime_ns, st.st_mtime_ns))
    read.clear()
    assert build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None).embedded == 0 and read == []
    assert read_folder(settings.index_dir).articles[first.stem].text == text
    report = build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None, rehash=True)
    assert report.embedded == 1 and len(read) == 5
    data = read_folder(settings.index_dir)
    assert data.articles[first.stem].text == edited
    notes = settings.index_dir / "annotations.jsonl"
    with notes.open("rb") as f:
        found = _line_ends(f.fileno(), notes.stat().st_size)
    assert np.array_equal(np.load(settings.index_dir / ANNOTATION_ENDS), found)
    assert len(data.annotations) == len(data.sentences) and data.annotations[len(data.sentences) - 1] is not None
