"""Which encoder a build uses and which encoder files it stores in the index folder.

A build stores the model as ONNX (`encoder/`), so the server needs neither torch nor the model folder.
The export (torch) runs only when no earlier export of the same model can be reused: an encoder passed
in, or the previous index's `encoder/` when its source hash matches the model folder's.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from index.integrity import digest
from index.onnx_encoder import ENCODER_DIR, ENCODER_FILES, OnnxEncoder

__all__ = ["ENCODER_KIND", "copy_files", "encoder_record", "exported", "reusable_files", "source_hash"]

ENCODER_KIND = "onnx"
MODEL_SUFFIXES = (".json", ".txt", ".safetensors", ".bin", ".model")
SAMPLE_TEXTS = 24  # corpus texts checked against sentence-transformers after an export


def source_hash(model_dir: Path) -> str:
    """sha256 over the files that define a sentence-transformers folder (configs, vocabulary, weights),
    so a changed model is exported again; other exports in the folder (onnx/, openvino/) are ignored."""
    digest = hashlib.sha256()
    files = [p for p in sorted(model_dir.iterdir()) if p.is_file() and p.suffix in MODEL_SUFFIXES]
    files += sorted(model_dir.glob("1_Pooling/*.json"))
    for path in files:
        digest.update(f"{path.relative_to(model_dir).as_posix()}\0{digest(path)}\0".encode())
    return digest.hexdigest()


def encoder_record(source: str) -> dict[str, Any]:
    """What the manifest says of the stored encoder: its kind and the model it came from (its files are
    checksummed with every other file of the index)."""
    return {"kind": ENCODER_KIND, "source": source}


def reusable_files(previous_index: Path, record: dict[str, Any], source: str) -> Path | None:
    """The previous index's encoder folder, if it holds an export of this very model (the index was
    verified against its checksums when it was read)."""
    folder = previous_index / ENCODER_DIR
    if record.get("kind") != ENCODER_KIND or record.get("source") != source:
        return None
    return folder if all((folder / name).is_file() for name in ENCODER_FILES) else None


def copy_files(source: Path, target: Path) -> None:
    """Put the encoder files into a new index folder. Copies, not hard links: a link shares the inode
    whose ctime changes when the old folder is deleted, which would cost the integrity check's fast path
    (a full hash of the 90 MB model at every server start)."""
    target.mkdir()
    for name in ENCODER_FILES:
        shutil.copyfile(source / name, target / name)


def verify_sample(texts: Sequence[str]) -> list[str]:
    """A spread of the build's own texts (short sentences to long passages) for checking an export."""
    step = max(1, len(texts) // SAMPLE_TEXTS)
    return list(texts[::step][:SAMPLE_TEXTS])


def exported(model_dir: Path, reference: Any, workdir: Path, source: str, texts: Sequence[str],
             threads: int) -> OnnxEncoder:
    """Export the model (loading it with sentence-transformers unless `reference` is that model already)
    into `workdir/encoder`, checked on a sample of `texts`."""
    from index.embed import Embedder  # torch: only when an export is needed
    from index.export import export

    encoder = export(reference or Embedder(model_dir), workdir / ENCODER_DIR, source, verify_sample(texts))
    return encoder if threads == encoder.threads else OnnxEncoder(encoder.folder, threads)
