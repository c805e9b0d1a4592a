"""The sentence-transformers encoder (torch): for building and exporting only; the server encodes with
index/onnx_encoder.py."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from index.encoder import model_name


class Embedder:
    """A sentence-transformers model loaded from a local folder with the hub switched off."""

    def __init__(self, model_dir: Path, threads: int | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        if threads:
            import torch

            torch.set_num_threads(threads)
        self.model_dir = Path(model_dir)
        self.model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.name = model_name(self.model_dir)
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dimension() or 0)

    def dictionary(self) -> frozenset[str]:
        """Whole words of the model's tokenizer vocabulary (lower case): the words it knows."""
        tokenizer = getattr(self.model, "tokenizer", None)
        vocab = tokenizer.get_vocab() if tokenizer is not None and hasattr(tokenizer, "get_vocab") else {}
        return frozenset(w.lower() for w in vocab if w.isalpha())

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Questions -> array of shape (len(texts), dim), float32, unit length."""
        return self._encode(texts, batch_size=32, progress=False)

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Passages or sentences -> array of shape (len(texts), dim), float32, unit length."""
        return self._encode(texts, batch_size=batch_size, progress=progress)
