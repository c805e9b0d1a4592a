"""Building in steps (index.steps, `python -m index build --step N`): the index grown a step at a time is
the index built at once, each step is swapped in when complete, and an interrupted step resumes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import index.steps as steps
from index.build import build
from index.hash_encoder import HashEncoder
from index.load import load_folder
from index.onnx_encoder import OnnxEncoder
from index.settings import Settings
from index.store import IndexData, read_folder, read_manifest, span_columns
from index.text import terms
from tests.conftest import REPO
from tests.test_build import corpus

SEED_ARTICLES = REPO / "data" / "articles"


def quiet(_: str) -> None:
    pass


def same_index(a: IndexData, b: IndexData) -> None:
    assert a.manifest.article_hashes == b.manifest.article_hashes and a.manifest.ann == b.manifest.ann
    assert [x.text for x in a.articles.values()] == [x.text for x in b.articles.values()]
    for key, column in span_columns(b.sentences, b.passages).items():
        assert np.array_equal(span_columns(a.sentences, a.passages)[key], column), key
    for name in ("passage_vectors", "sentence_vectors", "context_vectors", "match_vectors"):
        assert np.allclose(getattr(a, name), getattr(b, name), atol=1e-6), name
    assert list(a.annotations) == list(b.annotations) and a.lexicon == b.lexicon
    assert a.neighbours.as_dict() == b.neighbours.as_dict()
    asked = 0
    for question in ("Who won the election in Armenia?", "drones Russia Iran", "harbour wall cost"):
        known = [t for t in terms(question) if t in b.bm25.vocab_dict]
        if not known:
            continue
        asked += 1
        assert np.allclose(a.bm25.get_scores(known), b.bm25.get_scores(known), atol=1e-6)
    assert asked


def test_step_sets_add_the_new_articles_a_step_at_a_time_after_those_indexed() -> None:
    articles = load_folder(SEED_ARTICLES).articles
    ids = sorted(a.doc_id for a in articles)
    sets = steps.step_sets(list(reversed(articles)), {}, 2)
    assert [[a.doc_id for a in s] for s in sets] == [ids[:2], ids[:4], ids]
    held = {a.doc_id: a.sha256 for a in articles if a.doc_id in (ids[1], ids[3])}
    held[ids[0]] = "0" * 64  # indexed with another text: added again, in its turn
    sets = steps.step_sets(articles, held, 2)
    assert [[a.doc_id for a in s] for s in sets] == [sorted([ids[1], ids[3], ids[0], ids[2]]), ids]
    assert [[a.doc_id for a in s] for s in steps.step_sets(articles, {a.doc_id: a.sha256 for a in articles}, 2)] \
        == [ids]  # nothing new: one plain build
    with pytest.raises(ValueError, match="one article or more"):
        steps.step_sets(articles, {}, 0)


def test_an_index_built_in_steps_is_the_index_built_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "index", ann_flat_below=100_000)
    seen: list[tuple[int, int]] = []
    real = steps.build

    def step(*args, **kw):  # type: ignore[no-untyped-def]
        report = real(*args, **kw)
        seen.append((read_manifest(settings.index_dir).articles, report.embedded))  # swapped in when done
        return report

    monkeypatch.setattr(steps, "build", step)
    report = steps.build_in_steps(settings, 2, embedder=HashEncoder(), progress=False, say=quiet)
    assert seen == [(2, 2), (4, 2), (5, 1)]
    assert (report.articles, report.embedded, report.reused) == (5, 5, 0) and "Indexed 5 articles" in report.summary()
    fresh = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "fresh", ann_flat_below=100_000)
    build(fresh, embedder=HashEncoder(), progress=False, say=quiet)
    same_index(read_folder(settings.index_dir), read_folder(fresh.index_dir))


def test_an_interrupted_step_keeps_the_last_finished_one_and_resumes_after_it(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "index", ann_flat_below=100_000)
    writes: list[str] = []

    def killed(step: str) -> None:  # Ctrl-C while the second step writes its folder
        writes.append(step)
        if step == "files-written" and writes.count(step) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("index.store.crash_point", killed)
    with pytest.raises(KeyboardInterrupt):
        steps.build_in_steps(settings, 2, embedder=HashEncoder(), progress=False, say=quiet)
    assert read_manifest(settings.index_dir).articles == 2  # the first step's index, served meanwhile
    assert not list(tmp_path.glob("index.building-*"))
    monkeypatch.undo()
    report = steps.build_in_steps(settings, 2, embedder=HashEncoder(), progress=False, say=quiet)
    assert (report.articles, report.embedded, report.reused) == (5, 3, 2)
    fresh = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "fresh", ann_flat_below=100_000)
    build(fresh, embedder=HashEncoder(), progress=False, say=quiet)
    same_index(read_folder(settings.index_dir), read_folder(fresh.index_dir))


def test_steps_with_the_real_model_equal_one_build(tmp_path: Path, embedder: OnnxEncoder) -> None:
    articles = corpus(tmp_path / "articles", 3)
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index")
    report = steps.build_in_steps(settings, 2, embedder=embedder, progress=False, say=quiet)
    assert (report.articles, report.embedded) == (3, 3)
    fresh = Settings(articles_dir=articles, index_dir=tmp_path / "fresh")
    build(fresh, embedder=embedder, progress=False, say=quiet)
    same_index(read_folder(settings.index_dir), read_folder(fresh.index_dir))


def test_cli_step_builds_with_one_progress_bar_across_steps(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(SEED_ARTICLES, articles)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "index", "build", "--articles", str(articles), "--out",
                               str(tmp_path / "out"), "--encoder", "hash", *args], cwd=REPO, capture_output=True,
                              text=True, timeout=300)

    result = cli("--step", "2")
    assert result.returncode == 0, result.stderr
    assert "Adding 5 articles to the 0 indexed, 2 at a time (3 steps)." in result.stdout
    assert "step 3/3: 5 articles indexed (1 embedded)" in result.stdout + result.stderr
    assert "All steps" in result.stderr and "article/s" in result.stderr  # the bar across the steps, with its rate
    assert "Indexed 5 articles" in result.stdout and "5 embedded, 0 reused" in result.stdout
    for bad in ("0", "-3", "ten"):
        refused = cli("--step", bad)
        assert refused.returncode == 2 and "1 or more" in refused.stderr, bad
    assert read_manifest(tmp_path / "out").articles == 5  # refused before anything was touched
