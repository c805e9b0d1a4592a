"""How many of a PQ search's finds must be re-scored exactly (index.ann.PQ_OVERSAMPLE), measured with the
real model. The eval's own corpora are too small for IVF-PQ, so SQuAD v1.1 dev's paragraphs (indexed by
`python -m eval squad` into its cache) stand in: an IVF-PQ index is made over their sentences' match
vectors as an archive's is (its lists and probes as given), and every question of the training half and
of the held-out half is searched with each oversampling. Reported: the kept `n`'s recall of the exact
`n` nearest, and how often a sentence holding the answer is among them (exact search's rate beside).
Each find re-scored is a random row read on a cold page cache, so this is reads against recall."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval import EvalError
from eval.squad import holds_answer, load_squad, split_titles

__all__ = ["OVERSAMPLES", "main", "measure"]

OVERSAMPLES = (1, 2, 3, 4, 8)


def measure(index: Any, vectors: np.ndarray, queries: np.ndarray, gold: Sequence[set[int]], n: int,
            oversamples: Sequence[int] = OVERSAMPLES) -> dict[str, Any]:
    """For each oversampling: the mean recall of the exact `n` nearest (inner product with `vectors`) among
    the `n` that index.ann.nearest keeps, and the share of queries with a `gold` row among them."""
    from index.ann import AnnSpec, build_ann, nearest

    flat = build_ann(np.asarray(vectors, dtype=np.float32), AnnSpec())
    exact = [{i for i, _ in nearest(flat, vectors, q, n)} for q in queries]

    def share(flags: Sequence[float]) -> float:
        return round(float(np.mean(flags)), 4) if len(flags) else 0.0

    rows = []
    for over in oversamples:
        kept = [{i for i, _ in nearest(index, vectors, q, n, oversample=over)} for q in queries]
        rows.append({"oversample": over,
                     f"recall@{n}": share([len(k & e) / n for k, e in zip(kept, exact, strict=True)]),
                     "answer_among": share([bool(k & g) for k, g in zip(kept, gold, strict=True)])})
    found = share([bool(e & g) for e, g in zip(exact, gold, strict=True)])
    return {"questions": len(queries), "exact_answer_among": found, "oversamples": rows}


def main(path: Path, cache: Path, reports: Path, lists: int | None, probes: int, n: int = 20,
         say: Callable[[str], None] = print) -> int:
    import faiss

    from index.ann import AnnSpec, build_ann, lists_for, pq_bytes
    from index.encoder import index_encoder
    from index.store import read_folder

    folder = cache / "squad-index"
    if not (folder / "manifest.json").is_file():
        raise EvalError(f"no SQuAD index at {folder}: run `python -m eval squad {path}` first (it builds one there)")
    data = read_folder(folder)
    if data.manifest.encoder.get("kind") != "onnx" or data.match_vectors is None:
        raise EvalError(f"the index at {folder} was not built with the model by this version; build it again "
                        f"with `python -m eval squad {path}`")
    vectors = np.asarray(data.match_vectors, dtype=np.float32)
    spec = AnnSpec("ivf", context=float(data.manifest.ann["sentences"]["context"]),
                   nlist=lists or lists_for(len(vectors)), nprobe=probes, pq=pq_bytes(vectors.shape[1]))
    faiss.omp_set_num_threads(1)  # one question at a time, as served
    index = build_ann(vectors, spec)
    encoder = index_encoder(folder, data.manifest.encoder, data.manifest.dim, threads=2)
    _, questions = load_squad(path)
    sentences = data.sentences
    result: dict[str, Any] = {"sentences": len(vectors), "ann": spec.record(), "n": n}
    for half in ("train", "test"):
        asked = [q for q in split_titles(questions, half) if q.doc_id in data.articles]
        texts = [q.question for q in asked]
        queries = np.vstack([encoder.embed_queries(texts[i: i + 256]) for i in range(0, len(texts), 256)])
        gold = [{i for i in sentences.of_article(q.doc_id) if holds_answer(sentences[i].text, q.answers)}
                for q in asked]
        result[half] = measure(index, vectors, queries, gold, n)
        say(f"{half} ({len(asked):,} questions; exact search: answer among the {n} nearest "
            f"{result[half]['exact_answer_among']:.4f})")
        for row in result[half]["oversamples"]:
            say(f"  oversample {row['oversample']}: recall@{n} {row[f'recall@{n}']:.4f}, "
                f"answer among the {n} {row['answer_among']:.4f}")
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "pq.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0
