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
CACHE_MAX = 2_000_000  # features remembered per encoder (a bounded memory in a long-running server)


class HashEncoder:
    kind = KIND

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.name = f"hash-{dim}"
        self._features: dict[str, tuple[int, float]] = {}  # feature -> (bucket, sign): words recur a lot

    def dictionary(self) -> frozenset[str]:
        return frozenset()  # no vocabulary of its own: typo repair relies on the corpus alone

    def _vector(self, text: str) -> np.ndarray:
        words = WORD.findall(text.lower())
        cache = self._features
        buckets, signs = [], []
        for feature in words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]:
            hit = cache.get(feature)
            if hit is None:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                hit = (int.from_bytes(digest[:4], "little") % self.dim, 1.0 if digest[4] & 1 else -1.0)
                if len(cache) < CACHE_MAX:
                    cache[feature] = hit
            buckets.append(hit[0])
            signs.append(hit[1])
        # sums of +-1 are whole numbers, exact in any float type: the same vector as adding one by one
        vector = np.bincount(buckets, weights=signs, minlength=self.dim).astype(np.float32) if buckets else \
            np.zeros(self.dim, dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        if norm == 0:
            vector[0], norm = 1.0, 1.0  # an empty text still gets a unit vector
        return vector / norm

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Texts -> (len(texts), dim) float32, unit length."""
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return self.embed_queries(texts)
