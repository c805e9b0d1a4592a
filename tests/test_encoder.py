"""The model exported to ONNX: stored in the index, the same vectors as sentence-transformers, pooling
as the model folder says, and a clear refusal of what cannot be served that way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.embed import Embedder
from index.encoder import Encoder, pool, read_pooling
from index.errors import ExportMismatch, IndexCorrupt, ModelUnsupported
from index.export import SAMPLE, export, verify
from index.integrity import digest
from index.onnx_encoder import ENCODER_DIR, ENCODER_FILES, WEIGHTS_FILE, OnnxEncoder
from index.provision import reusable_files, source_hash
from index.settings import Settings
from index.store import read_folder, read_manifest
from server.answerer import Answerer

QUESTIONS = ["What did Lavrov say about the corridor?", "Who is Iran's president?", "x", "Armenia"]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1))


def test_index_stores_the_export_with_hashes(seed_index: Path, torch_embedder: Embedder) -> None:
    manifest = read_manifest(seed_index)
    assert manifest.encoder == {"kind": "onnx", "source": source_hash(torch_embedder.model_dir)}
    for name in ENCODER_FILES:
        assert manifest.files[f"{ENCODER_DIR}/{name}"]["sha256"] == digest(seed_index / ENCODER_DIR / name)
    # the weights apart from the graph (ONNX external data), which ONNX Runtime maps instead of copying
    assert manifest.files[f"{ENCODER_DIR}/{WEIGHTS_FILE}"]["bytes"] > 10_000_000
    assert manifest.files[f"{ENCODER_DIR}/model.onnx"]["bytes"] < 1_000_000


def mapped_files() -> set[str]:
    with open("/proc/self/maps") as maps:
        return {line.split(maxsplit=5)[5].strip() for line in maps if len(line.split(maxsplit=5)) == 6}


def test_the_weights_are_mapped_from_the_index_not_copied(seed_index: Path, embedder: OnnxEncoder) -> None:
    assert embedder.embed_queries(QUESTIONS).shape == (4, 384)
    assert str((seed_index / ENCODER_DIR / WEIGHTS_FILE).resolve()) in mapped_files()


def test_an_export_of_the_older_layout_still_serves_the_same_vectors(tmp_path: Path, seed_index: Path,
                                                                     embedder: OnnxEncoder) -> None:
    """Before session 8 the weights were inside model.onnx: such an index answers with the same vectors
    (its weights copied into memory), and a build makes its export again rather than carry it on."""
    import onnx

    folder = tmp_path / "index" / ENCODER_DIR
    shutil.copytree(seed_index / ENCODER_DIR, folder)
    onnx.save_model(onnx.load(str(folder / "model.onnx")), str(folder / "model.onnx"))  # weights inline
    (folder / WEIGHTS_FILE).unlink()
    old = OnnxEncoder.from_index(tmp_path / "index")
    assert np.array_equal(old.embed_queries(QUESTIONS), embedder.embed_queries(QUESTIONS))
    assert str((folder / "model.onnx").resolve()) not in mapped_files()
    assert reusable_files(tmp_path / "index") is None
    assert reusable_files(seed_index) == seed_index / ENCODER_DIR


def test_onnx_vectors_equal_sentence_transformers(seed_index: Path, embedder: OnnxEncoder,
                                                  torch_embedder: Embedder) -> None:
    assert isinstance(embedder, Encoder) and isinstance(torch_embedder, Encoder)
    data = read_folder(seed_index)
    texts = [s.text for s in data.sentences[:40]] + [p.text for p in data.passages[:8]] + QUESTIONS
    expected = torch_embedder.embed_passages(texts)
    assert cosines(embedder.embed_passages(texts, batch_size=7), expected).min() >= 0.9999
    assert cosines(embedder.embed_queries(QUESTIONS), torch_embedder.embed_queries(QUESTIONS)).min() >= 0.9999
    one_by_one = np.vstack([embedder.embed_queries([q]) for q in QUESTIONS])
    assert np.abs(one_by_one - embedder.embed_queries(QUESTIONS)).max() < 1e-5  # padding changes nothing
    # the index's vectors are the ONNX ones, which sentence-transformers agrees with
    assert cosines(data.sentence_vectors[:40], expected[:40]).min() >= 0.9999
    assert embedder.embed_queries([]).shape == (0, 384) and embedder.embed_passages([]).shape == (0, 384)


def test_dictionary_is_the_tokenizer_vocabulary(embedder: OnnxEncoder, torch_embedder: Embedder) -> None:
    assert embedder.dictionary() == torch_embedder.dictionary()
    assert {"president", "corridor"} <= embedder.dictionary()


def cls_model(model_dir: Path, model: Path) -> Path:
    """A copy of the model folder (its weights linked) that pools with the [CLS] token instead of the mean."""
    shutil.copytree(model_dir, model, ignore=shutil.ignore_patterns("*.safetensors"))
    (model / "model.safetensors").symlink_to(model_dir / "model.safetensors")
    config = json.loads((model / "1_Pooling" / "config.json").read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (model / "1_Pooling" / "config.json").write_text(json.dumps(config))
    return model


def test_pooling_follows_the_model_folder(tmp_path: Path, torch_embedder: Embedder) -> None:
    assert read_pooling(torch_embedder.model_dir).mode == "mean"
    assert read_pooling(torch_embedder.model_dir).max_seq_length == 256
    model = cls_model(torch_embedder.model_dir, tmp_path / "cls-model")
    assert read_pooling(model).mode == "cls"
    (model / "modules.json").write_text(json.dumps([*json.loads((model / "modules.json").read_text()),
                                                    {"idx": 3, "name": "3", "path": "3_Dense",
                                                     "type": "sentence_transformers.models.Dense"}]))
    with pytest.raises(ModelUnsupported, match="Dense"):
        read_pooling(model)


@pytest.mark.slow
def test_another_model_folder_is_exported_with_its_own_pooling(tmp_path: Path, torch_embedder: Embedder) -> None:
    model = cls_model(torch_embedder.model_dir, tmp_path / "cls-model")
    reference = Embedder(model)
    encoder = export(reference, tmp_path / "out", source_hash(model), ["A sentence about Armenia."])
    assert encoder.spec.pooling.mode == "cls"
    assert cosines(encoder.embed_queries(QUESTIONS), reference.embed_queries(QUESTIONS)).min() >= 0.9999
    assert cosines(encoder.embed_queries(QUESTIONS), torch_embedder.embed_queries(QUESTIONS)).min() < 0.99


def test_export_that_encodes_differently_is_refused(tmp_path: Path, seed_index: Path,
                                                    torch_embedder: Embedder) -> None:
    folder = tmp_path / "encoder"
    shutil.copytree(seed_index / ENCODER_DIR, folder)
    spec = json.loads((folder / "encoder.json").read_text())
    spec["pooling"]["mode"] = "max"
    (folder / "encoder.json").write_text(json.dumps(spec))
    with pytest.raises(ExportMismatch, match="cosine .* choose another"):
        verify(torch_embedder, OnnxEncoder(folder), SAMPLE)


def test_damaged_encoder_is_refused(tmp_path: Path, seed_index: Path, seed_settings: Settings) -> None:
    copy = tmp_path / "index"
    shutil.copytree(seed_index, copy)
    settings = seed_settings.model_copy(update={"index_dir": copy})
    assert Answerer.load(settings).embedder.name == "all-MiniLM-L6-v2"
    with (copy / ENCODER_DIR / "tokenizer.json").open("a") as f:
        f.write(" ")
    with pytest.raises(IndexCorrupt, match="encoder/tokenizer.json.*rebuild"):
        Answerer.load(settings)
    (copy / ENCODER_DIR / WEIGHTS_FILE).unlink()
    with pytest.raises(IndexCorrupt, match="encoder/model.onnx.data.*rebuild"):
        Answerer.load(settings)
    (copy / ENCODER_DIR / "model.onnx").unlink()
    with pytest.raises(IndexCorrupt, match="encoder/model.onnx.*rebuild"):
        Answerer.load(settings)
    bare = tmp_path / "bare"  # the graph without its weights, outside any index's checksums
    shutil.copytree(seed_index / ENCODER_DIR, bare, ignore=shutil.ignore_patterns(WEIGHTS_FILE))
    with pytest.raises(IndexCorrupt, match="cannot be loaded.*rebuild"):
        OnnxEncoder(bare)


def test_pool_modes() -> None:
    hidden = np.array([[[1.0, 0.0], [0.0, 3.0], [9.0, 9.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]])
    assert np.allclose(pool(hidden, mask, "mean"), [[1 / 10 ** 0.5, 3 / 10 ** 0.5]])
    assert np.allclose(pool(hidden, mask, "cls"), [[1.0, 0.0]])
    assert np.allclose(pool(hidden, mask, "max"), [[1 / 10 ** 0.5, 3 / 10 ** 0.5]])  # the padding never wins


def test_an_index_built_with_the_hashing_encoder_serves_with_it(tmp_path: Path) -> None:
    """The hashing encoder (no model) is recorded in the manifest and loaded back from it; no encoder files."""
    from index.build import build
    from index.hash_encoder import HashEncoder
    from tests.conftest import SEED_ARTICLES

    settings = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "index")
    build(settings, embedder=HashEncoder(64), progress=False, say=lambda _: None)
    manifest = read_manifest(settings.index_dir)
    assert manifest.encoder["kind"] == "hash" and (manifest.model, manifest.dim) == ("hash-64", 64)
    assert not (settings.index_dir / ENCODER_DIR).exists()
    answerer = Answerer.load(settings)
    assert isinstance(answerer.embedder, HashEncoder) and answerer.embedder.dim == 64
    answer = answerer.ask("What did Lavrov say about the Zangezur corridor?", top_k=3)
    assert len(answer.passages) == 3
    for q in answer.quotes:
        assert answerer.index.articles[q.doc_id].text[q.start:q.end] == q.text
    vectors = HashEncoder(64).embed_queries(["Lavrov said", "Lavrov said", ""])
    assert np.allclose(vectors[0], vectors[1]) and np.allclose(np.linalg.norm(vectors, axis=1), 1)
