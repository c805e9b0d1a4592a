"""How much of the exact nearest sentences an index's sentence ANN finds (issue 11).

For each of the scale questions (eval.scale: SQuAD dev questions whose paragraphs are in the synthetic
archives), the question's vector by the index's own encoder is searched as the answerer searches it
(`index.ann.nearest`: finds re-scored exactly from the match vectors, a PQ index oversampled) and
exactly (a product with every match vector). A find counts when its exact score is at least the k-th
exact score, so copies of one sentence (syndicated paragraphs: equal scores) are not counted as misses.

`python -m eval.annrecall INDEX [INDEX ...] [--k 20]` prints recall@k of each and the bytes of its
sentence index.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval import EvalError

__all__ = ["recall_at"]

BLOCK = 1 << 16  # match vectors multiplied at once (they are mapped from disk)
Say = Callable[[str], None]


def exact_scores(vectors: Any, query: np.ndarray) -> np.ndarray:
    """query . every row of `vectors`, a block of rows at a time."""
    return np.concatenate([np.asarray(vectors[at: at + BLOCK], dtype=np.float32) @ query
                           for at in range(0, len(vectors), BLOCK)])


def recall_at(found: Sequence[int], scores: np.ndarray, k: int) -> float:
    """The share of the k exact nearest that `found` holds, a find counting when its exact score is at
    least the k-th best (ties are copies)."""
    if k <= 0 or not len(scores):
        return 0.0
    k = min(k, len(scores))
    floor = np.partition(scores, len(scores) - k)[len(scores) - k]
    return min(k, sum(1 for i in found[:k] if scores[i] >= floor)) / k


def measure(index_dir: Path, questions: Sequence[str], k: int) -> dict[str, Any]:
    from index.ann import nearest
    from index.encoder import index_encoder
    from index.store import read_folder
    from index.swap import resolve

    data = read_folder(index_dir)
    if data.sentence_ann is None or data.match_vectors is None:
        raise EvalError(f"{index_dir} has no sentence index (an older format): rebuild it")
    encoder = index_encoder(resolve(index_dir), data.manifest.encoder, data.manifest.dim, 2)
    qvecs = encoder.embed_queries(list(questions))
    recalls = [recall_at([i for i, _ in nearest(data.sentence_ann, data.match_vectors, q, k)],
                         exact_scores(data.match_vectors, q), k) for q in qvecs]
    size = (resolve(index_dir) / "sentences.faiss").stat().st_size
    return {"index": str(index_dir), "sentences": len(data.sentences), "ann": data.manifest.ann["sentences"],
            f"recall_at_{k}": round(statistics.mean(recalls), 3), "sentences_faiss_mb": round(size / 1e6, 1)}


def main(indexes: Sequence[Path], k: int, shared: Path | None = None, say: Say = print) -> int:
    from eval.scale import QUESTIONS, default_shared, squad_questions

    questions = squad_questions(shared or default_shared(), QUESTIONS)
    for folder in indexes:
        say(", ".join(f"{key} {value}" for key, value in measure(folder, questions, k).items()))
    return 0


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m eval.annrecall", description=__doc__.split("\n\n")[0])
    parser.add_argument("indexes", type=Path, nargs="+", help="index folders")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--shared", type=Path, default=None, help="folder holding datasets/")
    parsed = parser.parse_args()
    try:
        sys.exit(main(parsed.indexes, parsed.k, parsed.shared))
    except EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
