"""A deterministic hashing encoder: no model, no weights, the same vectors on every machine.

Each word of a text is hashed (blake2b, so not Python's salted hash) to 64 bits, and each word pair to a
mix of its two words' hashes; a feature's low 32 bits pick one of `dim` buckets and bit 32 its sign. The
counts are L2-normalised. Texts that share words get close vectors, which is enough for the mechanics of
building, serving and load benchmarks, never for answer quality. An index built with it records
`{"kind": "hash"}` and the server loads it back with no model at all.

Texts are encoded in batches with numpy (one hash per distinct word, the pairs and the counts as array
operations): a Python step per word and per pair made it slower than the rest of a build.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

__all__ = ["KIND", "HashEncoder"]

KIND = "hash"
WORD = re.compile(r"\w+")
CACHE_MAX = 2_000_000  # words remembered per encoder (a bounded memory in a long-running server)
BATCH = 4096  # texts counted at once: a (BATCH, dim) block of counts
_PAIR = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


class _WordHashes(dict[str, int]):
    """word -> its 64-bit blake2b hash, computed on first sight (words recur a lot)."""

    def __missing__(self, word: str) -> int:
        value = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        if len(self) < CACHE_MAX:
            self[word] = value
        return value


def pair_hashes(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each word pair from its words' hashes (splitmix64's finaliser over their mix)."""
    x = (first * _PAIR) ^ second
    x ^= x >> np.uint64(30)
    x *= _MIX1
    x ^= x >> np.uint64(27)
    x *= _MIX2
    x ^= x >> np.uint64(31)
    return x


def count_features(hashes: np.ndarray, lengths: np.ndarray, dim: int) -> np.ndarray:
    """(texts, dim) unit vectors from the texts' word hashes, concatenated (`lengths` words each)."""
    rows = np.repeat(np.arange(len(lengths)), lengths)
    same = rows[:-1] == rows[1:]  # neighbouring words of one text make a pair
    features = np.concatenate([hashes, pair_hashes(hashes[:-1][same], hashes[1:][same])])
    owners = np.concatenate([rows, rows[:-1][same]])
    buckets = (features & np.uint64(0xFFFFFFFF)) % np.uint64(dim)
    signs = np.where((features >> np.uint64(32)) & np.uint64(1), 1.0, -1.0)
    # sums of +-1 are whole numbers, exact in any float type: the same vector however they are added
    counts = np.bincount(owners * dim + buckets.astype(np.int64), weights=signs,
                         minlength=len(lengths) * dim).reshape(len(lengths), dim).astype(np.float32)
    norms = np.linalg.norm(counts, axis=1)
    empty = norms == 0
    counts[empty, 0], norms[empty] = 1.0, 1.0  # an empty text still gets a unit vector
    return counts / norms[:, None].astype(np.float32)


class HashEncoder:
    kind = KIND

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.name = f"hash-{dim}"
        self._hashes = _WordHashes()

    def dictionary(self) -> frozenset[str]:
        return frozenset()  # no vocabulary of its own: typo repair relies on the corpus alone

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Texts -> (len(texts), dim) float32, unit length."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        lookup = self._hashes.__getitem__
        for at in range(0, len(texts), BATCH):
            hashes: list[int] = []
            lengths: list[int] = []
            for text in texts[at: at + BATCH]:
                words = WORD.findall(text.lower())
                hashes.extend(map(lookup, words))
                lengths.append(len(words))
            out[at: at + len(lengths)] = count_features(np.array(hashes, dtype=np.uint64),
                                                        np.array(lengths, dtype=np.int64), self.dim)
        return out

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return self.embed_queries(texts)
