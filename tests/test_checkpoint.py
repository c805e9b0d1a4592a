"""Resumable builds: an interrupted build keeps the model work it did, and the next build resumes from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import index.build as build_module
import index.checkpoint as checkpoint_module
from index.annotate import Annotation, Entity
from index.build import build
from index.checkpoint import Checkpoint, folder_for, sentence_key
from index.onnx_encoder import OnnxEncoder
from index.settings import Settings
from index.store import read_folder
from tests.conftest import FACTS_ARTICLES


def fake_encode(texts: list[str]) -> np.ndarray:
    return np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)


class Interrupt(Exception):
    pass


def test_vectors_are_saved_chunk_by_chunk_and_resumed(tmp_path: Path) -> None:
    texts = [f"text {n}" for n in range(7)] + ["text 1"]  # a repeated text is encoded once
    checkpoint, _ = Checkpoint.beside(tmp_path / "index", "model-a", chunk=3)
    calls: list[list[str]] = []

    def failing(part: list[str]) -> np.ndarray:
        calls.append(part)
        if len(calls) == 2:
            raise Interrupt
        return fake_encode(part)

    with pytest.raises(Interrupt):
        checkpoint.vectors(texts, failing)
    assert calls[0] == ["text 0", "text 1", "text 2"]
    again, _ = Checkpoint.beside(tmp_path / "index", "model-a", chunk=3)
    seen: list[str] = []
    vectors, resumed = again.vectors(texts, lambda part: seen.extend(part) or fake_encode(part))
    assert seen == ["text 3", "text 4", "text 5", "text 6"]  # only what the first run had not saved
    assert resumed == 4  # text 0, 1, 2 and the repeated text 1
    assert np.array_equal(vectors, fake_encode(texts))
    assert again.resumed == 4


def test_a_damaged_shard_is_recomputed_and_another_models_work_dropped(tmp_path: Path) -> None:
    checkpoint, _ = Checkpoint.beside(tmp_path / "index", "model-a", chunk=2)
    checkpoint.vectors(["a", "b", "c"], fake_encode)
    shards = sorted(checkpoint.folder.glob("vectors-*.npz"))
    assert len(shards) == 2
    shards[0].write_bytes(shards[0].read_bytes()[:40])  # a disk that lost the end of a file
    seen: list[str] = []
    vectors, resumed = checkpoint.vectors(["a", "b", "c"], lambda part: seen.extend(part) or fake_encode(part))
    assert seen == ["a", "b"] and resumed == 1 and np.array_equal(vectors, fake_encode(["a", "b", "c"]))
    other, dropped = Checkpoint.beside(tmp_path / "index", "model-b")
    assert dropped == [checkpoint.folder.name] and not checkpoint.folder.exists()
    other.clear()
    assert not folder_for(tmp_path / "index").exists()


def test_annotations_are_saved_and_resumed(tmp_path: Path) -> None:
    keys = [sentence_key("sha", n, n + 1) for n in range(5)]
    note = {n: Annotation((Entity(n, n + 1, "DATE"),), (f"w{n}",)) for n in range(5)}
    checkpoint, _ = Checkpoint.beside(tmp_path / "index", "model-a", chunk=2)
    asked: list[list[int]] = []

    def compute(positions: list[int], tick: object) -> list[Annotation]:
        asked.append(positions)
        if len(asked) == 3:
            raise Interrupt
        return [note[n] for n in positions]

    with pytest.raises(Interrupt):
        checkpoint.annotations(keys, compute)
    asked.clear()
    found, resumed = checkpoint.annotations(keys, lambda positions, tick: [note[n] for n in positions])
    assert resumed == 4 and found == [note[n] for n in range(5)]


ENCODE = OnnxEncoder.embed_passages  # the real one, whatever a test has patched in since


def counted_encodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the batches the real encoder is given from now on."""
    sizes: list[int] = []

    def counting(self: OnnxEncoder, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        sizes.append(len(texts))
        return ENCODE(self, texts, batch_size, progress)

    monkeypatch.setattr(OnnxEncoder, "embed_passages", counting)
    return sizes


def same_as_a_clean_build(settings: Settings, embedder: OnnxEncoder, tmp_path: Path) -> None:
    fresh = Settings(articles_dir=settings.articles_dir, index_dir=tmp_path / "fresh")
    build(fresh, embedder=embedder, progress=False, say=lambda _: None)
    same_index(settings.index_dir, fresh.index_dir)


def same_index(a: Path, b: Path) -> None:
    x, y = read_folder(a), read_folder(b)
    assert x.sentences == y.sentences and x.passages == y.passages
    for name in ("sentence_vectors", "context_vectors", "passage_vectors"):
        assert np.allclose(getattr(x, name), getattr(y, name), atol=1e-5), name  # batches differ, not texts
    assert list(x.annotations) == list(y.annotations)


def test_a_build_interrupted_while_embedding_resumes_with_the_same_index(
        tmp_path: Path, embedder: OnnxEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real model and spaCy on the three-article fixture, the checkpoint saving every 8 texts."""
    monkeypatch.setattr(checkpoint_module, "CHUNK", 8)
    settings = Settings(articles_dir=FACTS_ARTICLES, index_dir=tmp_path / "index")
    encoded: list[int] = []

    def stops_at_the_third_chunk(self: OnnxEncoder, texts: list[str], batch_size: int = 32,
                                 progress: bool = False) -> np.ndarray:
        encoded.append(len(texts))
        if len(encoded) == 3:
            raise KeyboardInterrupt
        return ENCODE(self, texts, batch_size, progress)

    monkeypatch.setattr(OnnxEncoder, "embed_passages", stops_at_the_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        build(settings, embedder=embedder, progress=False, say=lambda _: None)
    assert not settings.index_dir.exists()  # nothing half-built to serve
    assert len(list(folder_for(settings.index_dir).rglob("vectors-*.npz"))) == 2

    encoded = counted_encodes(monkeypatch)
    report = build(settings, embedder=embedder, progress=False, say=lambda _: None)
    assert report.resumed >= 16 and "resumed" in report.summary()
    total = len({t for t in build_texts(settings)})
    assert sum(encoded) == total - 16  # the two saved chunks were not encoded again
    assert not folder_for(settings.index_dir).exists()  # done: the saved work is deleted
    same_as_a_clean_build(settings, embedder, tmp_path)


def test_a_build_interrupted_while_annotating_keeps_its_vectors_and_annotations(
        tmp_path: Path, embedder: OnnxEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoint_module, "CHUNK", 4)
    settings = Settings(articles_dir=FACTS_ARTICLES, index_dir=tmp_path / "index")
    real = build_module.annotate
    calls: list[int] = []

    def stops_at_the_second_chunk(nlp: object, sentences: list, **kwargs: object) -> list[Annotation]:
        calls.append(len(sentences))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(nlp, sentences, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "annotate", stops_at_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        build(settings, embedder=embedder, progress=False, say=lambda _: None)
    assert not settings.index_dir.exists()
    calls.clear()

    def counted(nlp: object, sentences: list, **kwargs: object) -> list[Annotation]:
        calls.append(len(sentences))
        return real(nlp, sentences, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "annotate", counted)
    encoded = counted_encodes(monkeypatch)
    report = build(settings, embedder=embedder, progress=False, say=lambda _: None)
    assert encoded == []  # every vector came from the checkpoint
    assert sum(calls) == report.sentences - 4 and report.resumed > 4  # the first chunk's annotations were kept
    same_as_a_clean_build(settings, embedder, tmp_path)


def build_texts(settings: Settings) -> list[str]:
    """The texts a build of `settings` embeds: each sentence, each sentence in context, each passage."""
    from index.build import context_texts, embedding_text, process
    from index.load import load_folder

    texts: list[str] = []
    for article in load_folder(settings.articles_dir, settings.max_article_mb).articles:
        article, sentences, passages = process(article, settings)
        texts += [s.text for s in sentences] + context_texts(sentences)
        texts += [embedding_text(article.title, p.text) for p in passages]
    return texts


def test_work_that_cannot_be_saved_is_still_done(tmp_path: Path) -> None:
    (tmp_path / "index.resume").write_text("not a folder")  # as a full disk or a read-only folder would
    checkpoint, _ = Checkpoint.beside(tmp_path / "index", "model-a", chunk=2)
    vectors, resumed = checkpoint.vectors(["a", "b", "c"], fake_encode)
    assert np.array_equal(vectors, fake_encode(["a", "b", "c"])) and resumed == 0
    assert checkpoint.failed
