"""A deterministic hashing encoder: no model, no weights, the same vectors on every machine.

Each word and each word pair of a text is hashed (blake2b, so not Python's salted hash) into one of
`dim` buckets with a sign; the counts are L2-normalised. Texts that share words get close vectors, which
is enough for the mechanics of building, serving and load benchmarks, never for answer quality. An index
built with it records `{"kind": "hash"}` and the server loads it back with no model at all.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

__all__ = ["KIND", "HashEncoder"]

KIND = "hash"
WORD = re.compile(r"\w+")


class HashEncoder:
    kind = KIND

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.name = f"hash-{dim}"

    def dictionary(self) -> frozenset[str]:
        return frozenset()  # no vocabulary of its own: typo repair relies on the corpus alone

    def _vector(self, text: str) -> np.ndarray:
        words = WORD.findall(text.lower())
        vector = np.zeros(self.dim, dtype=np.float32)
        for feature in words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dim
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0:
            vector[0], norm = 1.0, 1.0  # an empty text still gets a unit vector
        return vector / norm

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Texts -> (len(texts), dim) float32, unit length."""
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return self.embed_queries(texts)
