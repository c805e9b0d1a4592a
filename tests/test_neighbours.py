"""Near-duplicate neighbours without the all-pairs product: the same lists as brute force, searched once
per identical vector, and on an incremental build only for the new sentences."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index.build import build
from index.hash_encoder import HashEncoder
from index.neighbours import MAX_NEIGHBOURS, NEIGHBOUR_FLOOR, neighbours_of
from index.records import Sentence
from index.settings import Settings
from index.store import Neighbour, read_folder

REPO = Path(__file__).resolve().parents[1]
SEED_ARTICLES = REPO / "data" / "articles"


def corpus(n: int, seed: int = 0) -> tuple[list[Sentence], np.ndarray]:
    """`n` sentences over n // 4 articles: random vectors, a third of them copies or near-copies of others."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, 32)).astype(np.float32)
    for i in range(0, n, 3):
        j = int(rng.integers(0, n))
        vectors[i] = vectors[j] if i % 2 else vectors[j] + 0.3 * rng.standard_normal(32).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    sentences = [Sentence(f"d{i // 4}", 10 * i, 10 * i + 5, f"s{i}", heading=i % 17 == 0) for i in range(n)]
    return sentences, vectors


def brute(sentences: list[Sentence], vectors: np.ndarray) -> dict[int, list[Neighbour]]:
    sims = vectors @ vectors.T
    found = {}
    for i, s in enumerate(sentences):
        if s.heading:
            continue
        ok = [j for j in range(len(sentences)) if sentences[j].doc_id != s.doc_id and not sentences[j].heading
              and sims[i, j] >= NEIGHBOUR_FLOOR]
        ok.sort(key=lambda j: (-sims[i, j], j))
        if ok:
            found[i] = [Neighbour(j, float(sims[i, j])) for j in ok[:MAX_NEIGHBOURS]]
    return found


def same(a: dict[int, list[Neighbour]], b: dict[int, list[Neighbour]]) -> bool:
    return a.keys() == b.keys() and all(
        [n.sentence for n in a[i]] == [n.sentence for n in b[i]]
        and np.allclose([n.similarity for n in a[i]], [n.similarity for n in b[i]], atol=1e-5) for i in a)


def test_the_lists_are_those_of_brute_force() -> None:
    sentences, vectors = corpus(400)
    expected = brute(sentences, vectors)
    assert len(expected) > 50 and any(len(v) > 1 for v in expected.values())
    assert same(neighbours_of(sentences, vectors, flat_below=10_000), expected)


def test_many_copies_are_capped_and_never_cite_their_own_article() -> None:
    vectors = np.tile(np.eye(1, 16, dtype=np.float32), (30, 1))  # one sentence syndicated 30 times
    sentences = [Sentence(f"d{i // 2}", 10 * i, 10 * i + 5, "same") for i in range(30)]
    found = neighbours_of(sentences, vectors, flat_below=10_000)
    assert len(found) == 30 and all(len(v) == MAX_NEIGHBOURS for v in found.values())
    assert all(sentences[n.sentence].doc_id != sentences[i].doc_id for i, v in found.items() for n in v)


def test_an_incremental_search_covers_only_the_new_sentences() -> None:
    sentences, vectors = corpus(400, seed=3)
    old = 300
    before = neighbours_of(sentences[:old], vectors[:old], flat_below=10_000)
    fresh = np.arange(400) >= old
    grown = neighbours_of(sentences, vectors, 10_000, fresh=fresh, kept=before)
    full = brute(sentences, vectors)
    assert same({i: v for i, v in grown.items() if i >= old}, {i: v for i, v in full.items() if i >= old})
    for i in range(old):  # an old list: what it had, and the new sentences that found it
        new = [n for n in grown.get(i, []) if n.sentence >= old]
        assert all(any(m.sentence == i for m in grown[n.sentence]) for n in new)
        assert [n for n in grown.get(i, []) if n.sentence < old] == before.get(i, [])[:len(grown.get(i, [])) -
                                                                                     len(new)]
    assert any(n.sentence >= old for i in range(old) for n in grown.get(i, []))


def test_a_build_adding_a_copy_finds_it_from_the_old_articles(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(REPO / "data" / "articles", articles)
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index")
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    first = sorted(articles.glob("*.txt"))[0]
    shutil.copy(first, articles / "zz_copy.txt")  # a syndicated copy, word for word
    report = build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    assert report.embedded == 1
    data = read_folder(settings.index_dir)
    copy = [i for i, s in enumerate(data.sentences) if s.doc_id == "zz_copy" and not s.heading]
    original = {(s.start, s.end): i for i, s in enumerate(data.sentences) if s.doc_id == first.stem}
    for i in copy:
        twin = original[(data.sentences[i].start, data.sentences[i].end)]
        assert twin in [n.sentence for n in data.neighbours[i]]  # the new sentence finds its original
        assert i in [n.sentence for n in data.neighbours[twin]]  # and the original now has the copy


def test_through_the_sentence_graph_nearly_all_pairs_are_found_with_exact_scores() -> None:
    from index.ann import AnnSpec, build_ann

    sentences, vectors = corpus(2000, seed=5)
    expected = brute(sentences, vectors)
    graph = build_ann(vectors, AnnSpec("hnsw", 32, 80, 128))
    found = neighbours_of(sentences, vectors, 100, graph=graph, graph_vectors=vectors)
    pairs = {(i, n.sentence) for i, v in expected.items() for n in v}
    got = {(i, n.sentence) for i, v in found.items() for n in v}
    assert len(pairs) > 500 and len(got & pairs) >= 0.95 * len(pairs)
    sims = vectors @ vectors.T
    assert all(abs(n.similarity - sims[i, n.sentence]) < 1e-5 and n.similarity >= NEIGHBOUR_FLOOR
               and sentences[n.sentence].doc_id != sentences[i].doc_id for i, v in found.items() for n in v)
    assert all([n.similarity for n in v] == sorted((n.similarity for n in v), reverse=True) for v in found.values())


def test_a_grown_index_hashes_only_its_new_vectors_and_groups_as_before(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import index.neighbours as near
    from index.store import DIGESTS

    sentences, vectors = corpus(400)
    heading = np.array([s.heading for s in sentences])
    old = near.digests_of(vectors[:300])
    grown = near.digests_of(vectors, old)
    assert np.array_equal(grown, near.digests_of(vectors))
    hashed: list[int] = []
    real = near.hashlib.blake2b
    monkeypatch.setattr(near.hashlib, "blake2b", lambda *a, **k: hashed.append(1) or real(*a, **k))
    near.digests_of(vectors, grown[:300])
    assert len(hashed) == 100  # the rows after the known ones only
    assert near.copies(heading, vectors, grown) == near.copies(heading, vectors)
    # the grouping is by identity: the copies the corpus made share a group, a changed byte splits it
    reps, members = near.copies(heading, vectors)
    assert sum(len(m) for m in members) == int((~heading).sum()) and reps == [m[0] for m in members]
    changed = vectors.copy()
    big = max(members, key=len)
    changed[big[-1], 0] = np.nextafter(changed[big[-1], 0], np.float32(2))
    assert len(near.copies(heading, changed)[0]) == len(reps) + 1
    # a build saves them; the server reads them back (the next growth's)
    settings = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "index")
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    data = read_folder(settings.index_dir)
    assert (settings.index_dir / DIGESTS).is_file()
    assert np.array_equal(data.digests, near.digests_of(data.sentence_vectors))
