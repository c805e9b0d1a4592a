"""BM25 over the passages, made from their terms as numbers, in numpy.

bm25s computes its score matrix with a Python loop per passage (10 s of a 10,000-article build, and
most of the rest was tokenising every passage again): here the same Lucene-variant scores are computed
for every (passage, term) pair at once from the passages' term ids, which the build saves
(`passage_terms.npz`), so an index that grows by 100 articles tokenises only theirs. The result is a
bm25s.BM25 with the very scores bm25s would compute (tested against it) and is saved and read as one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["COUNTS", "FILE", "PassageTerms", "bm25_counted", "bm25_of", "fits", "postings", "will_need_postings"]

FILE = "passage_terms.npz"
COUNTS = "bm25_counts.npy"  # each BM25 entry's term count (bm25_counted; since session 10, optional)


@dataclass(frozen=True)
class PassageTerms:
    """Each passage's terms in order (repeats kept: BM25 counts them), as ids into `vocabulary`;
    passage i's are ids[starts[i]:starts[i + 1]]."""

    vocabulary: list[str]
    starts: np.ndarray  # int64, one more than there are passages
    ids: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.starts) - 1

    def extended(self, passages: Iterable[Sequence[str]]) -> PassageTerms:
        """These passages followed by more (given as their terms); new terms join the vocabulary's end."""
        number = {t: j for j, t in enumerate(self.vocabulary)}
        vocabulary = list(self.vocabulary)
        ids: list[int] = []
        counts: list[int] = []
        for terms in passages:
            for t in terms:
                j = number.get(t)
                if j is None:
                    j = number[t] = len(vocabulary)
                    vocabulary.append(t)
                ids.append(j)
            counts.append(len(terms))
        starts = np.concatenate([self.starts, self.starts[-1] + np.cumsum(counts, dtype=np.int64)])
        return PassageTerms(vocabulary, starts, np.concatenate([self.ids, np.asarray(ids, dtype=np.int32)]))

    @classmethod
    def of(cls, passages: Iterable[Sequence[str]]) -> PassageTerms:
        return cls([], np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32)).extended(passages)

    def save(self, path: Path) -> None:
        # words hold no newline (index.text.TOKEN): the vocabulary is one UTF-8 string
        words = np.frombuffer("\n".join(self.vocabulary).encode("utf-8"), dtype=np.uint8)
        with path.open("wb") as out:
            np.savez(out, starts=self.starts, ids=self.ids, vocabulary=words)

    @classmethod
    def load(cls, path: Path) -> PassageTerms:
        """The saved terms; a file that does not fit together is a ValueError."""
        with np.load(path, allow_pickle=False) as found:
            starts, ids, words = found["starts"], found["ids"], found["vocabulary"]
        text = words.tobytes().decode("utf-8")
        vocabulary = text.split("\n") if text else []
        if starts.ndim != 1 or not len(starts) or starts[0] != 0 or np.any(np.diff(starts) < 0) or \
                int(starts[-1]) != len(ids) or (len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= len(vocabulary))):
            raise ValueError(f"{path} does not fit together")
        return cls(vocabulary, starts.astype(np.int64), ids.astype(np.int32))


def postings(terms: PassageTerms, first: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(term, passage, count) of each distinct (passage, term) pair of the passages from `first` on,
    term by term and within a term by passage: the entries of BM25's matrix, before scoring."""
    n_vocab = max(len(terms.vocabulary), 1)
    doc = np.repeat(np.arange(first, len(terms), dtype=np.int64), np.diff(terms.starts[first:]))
    pairs, tf = np.unique(doc * n_vocab + terms.ids[int(terms.starts[first]):], return_counts=True)
    order = np.argsort(pairs % n_vocab, kind="stable")  # by term (the matrix's columns), then passage
    return (pairs % n_vocab)[order], (pairs // n_vocab)[order], tf[order]


def bm25_of(terms: PassageTerms, k1: float = 1.5, b: float = 0.75) -> Any:
    """A bm25s.BM25 (its defaults: Lucene scoring, float32) over the passages of `terms`."""
    return scored(terms, *postings(terms), k1, b)[0]


def bm25_counted(terms: PassageTerms, before: tuple[Any, np.ndarray] | None = None, k1: float = 1.5,
                 b: float = 0.75) -> tuple[Any, np.ndarray]:
    """bm25_of and each of its entries' term count (saved beside it: COUNTS). `before`: the BM25 of the
    first passages of `terms` and its counts, whose entries are kept and the new passages' merged in
    (each term's new entries after its old ones: the new passages come last) rather than every pair of
    the corpus sorted again (most of a +100 build's BM25 at 100,000 articles). Every score is computed
    again either way: the idf and the average length change with the corpus."""
    if before is None:
        return scored(terms, *postings(terms), k1, b)
    old, old_counts = before
    indptr = np.asarray(old.scores["indptr"], dtype=np.int64)
    first = int(old.scores["num_docs"])
    term, doc, tf = postings(terms, first)
    at = np.concatenate([indptr, np.full(len(terms.vocabulary) + 1 - len(indptr), indptr[-1])])[term + 1]
    old_term = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    return scored(terms, np.insert(old_term, at, term), np.insert(np.asarray(old.scores["indices"], dtype=np.int64),
                                                                 at, doc),
                  np.insert(np.asarray(old_counts, dtype=np.int64), at, tf), k1, b)


def will_need_postings(bm25: Any, terms: Iterable[str]) -> None:
    """Start reading the postings of these terms (their scores and passages) from the disk at once
    (index.prefetch): a question's terms are scored one after another, each a run of a mapped file."""
    from index.prefetch import will_need_spans

    scores, vocabulary = getattr(bm25, "scores", None), getattr(bm25, "vocab_dict", None)
    if not isinstance(scores, dict) or not isinstance(vocabulary, dict):
        return
    indptr = np.asarray(scores["indptr"])
    ids = np.asarray([j for t in terms if (j := vocabulary.get(t)) is not None and j + 1 < len(indptr)],
                     dtype=np.int64)
    for column in ("data", "indices"):
        will_need_spans(scores[column], indptr[ids], indptr[ids + 1])


def fits(bm25: Any, counts: Any, passages: int) -> bool:
    """Whether saved counts go with `bm25` (an index's, over its first `passages`) for bm25_counted."""
    return isinstance(counts, np.ndarray) and counts.ndim == 1 and len(counts) == len(bm25.scores["indices"]) and \
        int(bm25.scores["num_docs"]) == passages


def scored(terms: PassageTerms, term: np.ndarray, doc: np.ndarray, tf: np.ndarray, k1: float,
           b: float) -> tuple[Any, np.ndarray]:
    """The bm25s.BM25 whose matrix has these entries (postings' order), and their counts as saved."""
    import bm25s

    n_docs, n_vocab = len(terms), len(terms.vocabulary)
    lengths = np.diff(terms.starts)
    avg = np.asarray(lengths, dtype=np.int64).mean() if n_docs else np.float64(0)
    df = np.bincount(term, minlength=n_vocab)
    # bm25s takes each idf with math.log in Python: the same function, once per distinct count
    idf = np.zeros(n_vocab, dtype=np.float32)
    for count in np.unique(df[df > 0]).tolist():
        idf[df == count] = math.log(1 + (n_docs - count + 0.5) / (count + 0.5))
    # bm25s's operations in its order and types (float32 counts, float64 lengths), so the floats agree
    norm = k1 * ((1 - b) + b * lengths.astype(np.float64) / avg)
    counts = tf.astype(np.float32)
    scores = (idf[term] * (counts / (norm[doc] + counts))).astype(np.float32)
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    bm25 = bm25s.BM25()
    bm25.scores = {"data": scores, "indices": doc.astype(np.int32), "indptr": indptr, "num_docs": n_docs}
    bm25.vocab_dict = {t: j for j, t in enumerate(terms.vocabulary)}
    bm25.vocab_dict[""] = n_vocab  # as bm25s.BM25.index adds it
    bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
    bm25.nonoccurrence_array = None
    return bm25, tf.astype(np.uint16 if not len(tf) or int(tf.max()) < 1 << 16 else np.uint32)
