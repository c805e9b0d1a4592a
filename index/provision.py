"""Which encoder a build uses and which encoder files it stores in the index folder.

A build stores the model as ONNX (`encoder/`), so the server needs neither torch nor the model folder.
The export (torch) runs only when no earlier export of the same model can be reused: an encoder passed
in, or the previous index's `encoder/` when its source hash matches the model folder's.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.checkpoint import Checkpoint
from index.encoder import Encoder, model_name
from index.integrity import digest
from index.onnx_encoder import ENCODER_DIR, ENCODER_FILES, OnnxEncoder
from index.settings import Settings

__all__ = ["ENCODER_KIND", "Plan", "copy_files", "source_hash"]

ENCODER_KIND = "onnx"
MODEL_SUFFIXES = (".json", ".txt", ".safetensors", ".bin", ".model")
SAMPLE_TEXTS = 24  # corpus texts checked against sentence-transformers after an export


def source_hash(model_dir: Path) -> str:
    """sha256 over the files that define a sentence-transformers folder (configs, vocabulary, weights),
    so a changed model is exported again; other exports in the folder (onnx/, openvino/) are ignored."""
    whole = hashlib.sha256()
    files = [p for p in sorted(model_dir.iterdir()) if p.is_file() and p.suffix in MODEL_SUFFIXES]
    files += sorted(model_dir.glob("1_Pooling/*.json"))
    for path in files:
        whole.update(f"{path.relative_to(model_dir).as_posix()}\0{digest(path)}\0".encode())
    return whole.hexdigest()


def reusable_files(previous_index: Path) -> Path | None:
    """The previous index's encoder folder, if it holds an export of this very model (the build reuses an
    index only when its manifest's encoder source matches, after verifying its checksums) in today's
    layout: an export from before session 8 (the weights inside model.onnx) is made again, once."""
    folder = previous_index / ENCODER_DIR
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


@dataclass(frozen=True)
class Plan:
    """The encoder of one build: an ONNX export to store (given, reused or made here from `model_dir`,
    checked against `reference` when that is loaded already), or another encoder that stores nothing."""

    name: str
    source: str
    model_dir: Path | None = None
    onnx: OnnxEncoder | None = None
    reference: Any = None  # index.embed.Embedder, the sentence-transformers model, if already loaded
    other: Encoder | None = None

    @classmethod
    def of(cls, embedder: Encoder | None, settings: Settings) -> Plan:
        if isinstance(embedder, OnnxEncoder):
            return cls(embedder.name, embedder.spec.source, onnx=embedder)
        model_dir = getattr(embedder, "model_dir", None)
        if embedder is not None and model_dir is None:  # e.g. a hashing encoder
            return cls(embedder.name, f"{embedder.name}/{embedder.dim}", other=embedder)
        model_dir = model_dir or settings.resolved_model_dir()
        return cls(model_name(model_dir), source_hash(model_dir), model_dir, reference=embedder)

    def record(self) -> dict[str, str]:
        kind = getattr(self.other, "kind", "other") if self.other else ENCODER_KIND
        return {"kind": kind, "source": self.source}

    def encode(self, texts: list[str], previous: Path | None, workdir: Path, settings: Settings,
               progress: bool, say: Callable[[str], None], checkpoint: Checkpoint | None = None
               ) -> tuple[np.ndarray | None, int, Path | None]:
        """(vectors of `texts` or None when there are none, dim or 0 when unknown, encoder files to store).
        The model loads only if something needs embedding or exporting: an unchanged corpus rebuilds in a
        second, and a changed one encodes with the previous index's export, without torch. With a
        `checkpoint`, the model's vectors are saved as they are made and those of an interrupted build
        reused."""
        if self.other is not None:
            vectors = self.other.embed_passages(texts, settings.batch_size, progress) if texts else None
            return vectors, self.other.dim, None
        onnx = self.onnx
        files = onnx.folder if onnx else reusable_files(previous) if previous else None
        if files is None:
            say(f"Exporting {self.name} to ONNX and checking it against sentence-transformers (once per model).")
            onnx = exported(self.model_dir, self.reference, workdir, self.source, texts,  # type: ignore[arg-type]
                            settings.encoder_threads)
            files = onnx.folder
        elif texts and onnx is None:
            onnx = OnnxEncoder(files, settings.encoder_threads)
        vectors = None
        if onnx and texts and checkpoint is not None:
            model = onnx
            vectors, _ = checkpoint.vectors(texts, lambda part: model.embed_passages(part, settings.batch_size),
                                            progress)
        elif onnx and texts:
            vectors = onnx.embed_passages(texts, settings.batch_size, progress)
        return vectors, onnx.dim if onnx else 0, files
