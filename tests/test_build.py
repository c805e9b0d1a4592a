"""Index builds: verbatim spans, incremental reuse, atomic swap, refusal of mismatched indexes, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.build import build
from index.errors import IndexCorrupt, IndexMismatch, IndexNotFound, NoUsableArticles
from index.onnx_encoder import OnnxEncoder
from index.settings import Settings
from index.store import check_model, read_folder, read_manifest
from index.text import lexical_version, lexicon
from tests.conftest import REPO

ARTICLE = (
    "Harbour works\n\nThe port authority said on Monday that the new harbour wall will cost $12 million. "
    "Work starts in May and should end before the winter storms.\n\n"
    "Local fishermen welcomed the plan. They had asked for a higher wall since the 2019 floods.\n"
)


def corpus(folder: Path, n: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"doc{i}.txt").write_text(ARTICLE.replace("harbour", f"harbour {i}"), encoding="utf-8")
    return folder


def quiet_build(settings: Settings, embedder: OnnxEncoder, **kw):  # type: ignore[no-untyped-def]
    return build(settings, embedder=embedder, progress=False, say=lambda _: None, **kw)


def test_seed_index_spans_are_verbatim(seed_index: Path) -> None:
    data = read_folder(seed_index)
    assert data.manifest.articles == 5 and len(data.articles) == 5
    assert data.manifest.passages == len(data.passages) > 20
    for s in data.sentences:
        assert data.articles[s.doc_id].text[s.start:s.end] == s.text
    for p in data.passages:
        assert data.articles[p.doc_id].text[p.start:p.end] == p.text
        first, last = data.sentences[p.first_sentence], data.sentences[p.last_sentence]
        assert (first.doc_id, first.start, last.end) == (p.doc_id, p.start, p.end)
    assert data.passage_vectors.shape == (len(data.passages), 384)
    norms = (data.sentence_vectors ** 2).sum(axis=1)
    assert abs(norms.min() - 1) < 1e-3 and abs(norms.max() - 1) < 1e-3
    manifest = json.loads((seed_index / "manifest.json").read_text())
    assert set(manifest) >= {"format_version", "model", "dim", "articles", "passages", "built_at", "article_hashes"}


def test_seed_titles_from_metadata_or_derived(seed_index: Path) -> None:
    data = read_folder(seed_index)
    assert data.articles["000_949793db03e3c7b8"].title == "How allied are Iran and Russia really?"
    derived = data.articles["002_ea4729bba96c6d25"].title
    assert derived.startswith("For Moscow, Iranian President")


def test_incremental_rebuild_reuses_unchanged(tmp_path: Path, embedder: OnnxEncoder) -> None:
    articles = corpus(tmp_path / "articles")
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index")
    first = quiet_build(settings, embedder)
    assert (first.articles, first.embedded, first.reused) == (3, 3, 0)
    (articles / "doc1.txt").write_text(ARTICLE.replace("Monday", "Friday"), encoding="utf-8")
    (articles / "doc2.txt").unlink()
    second = quiet_build(settings, embedder)
    assert (second.articles, second.embedded, second.reused, second.removed) == (2, 1, 1, 1)
    data = read_folder(settings.index_dir)
    assert "Friday" in data.articles["doc1"].text and "doc2" not in data.articles
    for p in data.passages:
        assert data.articles[p.doc_id].text[p.start:p.end] == p.text
    assert "1 embedded, 1 reused" in second.summary()


class Interrupting(OnnxEncoder):
    """The real encoder that is interrupted (Ctrl-C) partway through a build."""

    def __init__(self, real: OnnxEncoder) -> None:
        self.__dict__.update(real.__dict__)

    def embed_passages(self, texts, batch_size=32, progress=False):  # type: ignore[no-untyped-def,override]
        raise KeyboardInterrupt


def test_interrupted_build_keeps_previous_index(tmp_path: Path, embedder: OnnxEncoder) -> None:
    articles = corpus(tmp_path / "articles", 2)
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index")
    quiet_build(settings, embedder)
    before = read_manifest(settings.index_dir)
    corpus(articles, 3)  # a new article needs embedding
    with pytest.raises(KeyboardInterrupt):
        quiet_build(settings, Interrupting(embedder))
    assert read_manifest(settings.index_dir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles", "index"]  # no half-written folder


def test_swap_cut_off_between_renames_is_recovered(tmp_path: Path, embedder: OnnxEncoder) -> None:
    settings = Settings(articles_dir=corpus(tmp_path / "articles", 1), index_dir=tmp_path / "index")
    quiet_build(settings, embedder)
    os.replace(settings.index_dir, tmp_path / "index.previous")
    assert read_folder(settings.index_dir).manifest.articles == 1


def test_no_usable_articles(tmp_path: Path, embedder: OnnxEncoder) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NoUsableArticles, match="No usable article"):
        quiet_build(Settings(articles_dir=empty, index_dir=tmp_path / "i"), embedder)
    (empty / "menu.txt").write_text("Home\nAbout us\nContact\n")
    with pytest.raises(NoUsableArticles):
        quiet_build(Settings(articles_dir=empty, index_dir=tmp_path / "i"), embedder)
    assert not (tmp_path / "i").exists()


def test_mismatched_or_broken_index_refused(tmp_path: Path, embedder: OnnxEncoder) -> None:
    settings = Settings(articles_dir=corpus(tmp_path / "articles", 1), index_dir=tmp_path / "index")
    quiet_build(settings, embedder)
    manifest = read_manifest(settings.index_dir)
    with pytest.raises(IndexMismatch, match="rebuild"):
        check_model(manifest, "other-model", 768, settings.index_dir)
    path = settings.index_dir / "manifest.json"
    raw = json.loads(path.read_text())
    path.write_text(json.dumps({**raw, "format_version": 999}))
    with pytest.raises(IndexMismatch, match="rebuild"):
        read_folder(settings.index_dir)
    path.write_text(json.dumps(raw))
    (settings.index_dir / "spans.npz").write_text("not an archive\n")
    with pytest.raises(IndexCorrupt, match="rebuild"):
        read_folder(settings.index_dir)
    with pytest.raises(IndexNotFound, match="python -m index build"):
        read_folder(tmp_path / "nowhere")


def test_lexicon_is_stored_and_matches_the_text(seed_index: Path) -> None:
    data = read_folder(seed_index)
    fresh = lexicon((s.text for s in data.sentences), (p.text for p in data.passages))
    assert data.lexicon == fresh
    assert data.lexicon.passages == len(data.passages)
    assert data.lexicon.words["lavrov"] > 0 and data.lexicon.document_frequency["russia"] > 10


def test_index_with_other_lexical_rules_is_refused_then_rebuilt_without_embedding(
        tmp_path: Path, embedder: OnnxEncoder) -> None:
    from server.answerer import Answerer

    settings = Settings(articles_dir=corpus(tmp_path / "articles", 2), index_dir=tmp_path / "index")
    quiet_build(settings, embedder)
    path = settings.index_dir / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "lexical": "older-rules"}))
    with pytest.raises(IndexMismatch, match="lexical rules.*rebuild"):
        Answerer.load(settings, embedder)
    report = quiet_build(settings, embedder)
    assert (report.embedded, report.reused) == (0, 2)  # vectors kept; terms and BM25 redone
    assert read_manifest(settings.index_dir).lexical == lexical_version()
    assert Answerer.load(settings, embedder).ask("When does the harbour work start?").quotes


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "index", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def test_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = run_cli("build", "--articles", str(tmp_path / "missing"), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: Articles folder") and "Traceback" not in result.stderr
    (tmp_path / "empty").mkdir()
    result = run_cli("build", "--articles", str(tmp_path / "empty"), "--out", str(tmp_path / "out"))
    assert result.returncode == 1 and "No usable article" in result.stderr


@pytest.mark.slow
def test_cli_builds_with_progress_and_summary(tmp_path: Path) -> None:
    articles = corpus(tmp_path / "articles", 2)
    (articles / "junk.bin.txt").write_bytes(b"\x00\x01\x02" * 100)
    result = run_cli("build", "--articles", str(articles), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "Indexed 2 articles" in result.stdout and "skipped junk.bin.txt: binary data" in result.stdout
    assert "Embedding" in result.stderr  # the progress bar


def test_unchanged_rebuild_does_not_load_the_model(tmp_path: Path, embedder: OnnxEncoder,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(articles_dir=corpus(tmp_path / "articles", 2), index_dir=tmp_path / "index")
    quiet_build(settings, embedder)

    def no_model(*_: object) -> None:
        raise AssertionError("the model was loaded for a rebuild with nothing to embed")

    monkeypatch.setattr("index.provision.exported", no_model)
    monkeypatch.setattr(OnnxEncoder, "__init__", no_model)
    report = build(settings, progress=False)
    assert (report.embedded, report.reused) == (0, 2)
    assert read_manifest(settings.index_dir).dim == 384


def test_cli_hash_encoder_builds_without_the_model_and_says_so_in_the_manifest(tmp_path: Path) -> None:
    """`--encoder hash` is the load-test mode: no model loaded or exported, recorded in the manifest."""
    articles = corpus(tmp_path / "articles", 2)
    result = run_cli("build", "--articles", str(articles), "--out", str(tmp_path / "out"), "--encoder", "hash",
                     "--quiet")
    assert result.returncode == 0, result.stderr
    manifest = read_manifest(tmp_path / "out")
    assert manifest.encoder["kind"] == "hash" and manifest.model.startswith("hash-")
    assert not any(name.endswith(".onnx") for name in manifest.files)
    bad = run_cli("build", "--articles", str(articles), "--out", str(tmp_path / "out"), "--encoder", "fast")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
