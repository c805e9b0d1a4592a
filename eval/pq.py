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
from eval.squad import SquadQuestion, load_squad, split_titles

__all__ = ["OVERSAMPLES", "answer_rows", "main", "measure"]

OVERSAMPLES = (1, 2, 3, 4, 8)


def measure(index: Any, vectors: np.ndarray, queries: np.ndarray, gold: Sequence[set[int]], n: int,
            oversamples: Sequence[int] = OVERSAMPLES) -> dict[str, Any]:
    """For each oversampling: the mean recall of the exact `n` nearest (inner product with `vectors`) among
    the `n` that index.ann.nearest keeps, and the share of queries with a `gold` row among them."""
    from index.ann import nearest

    exact = [set(np.argsort(-(vectors @ q), kind="stable")[:n].tolist()) for q in queries]
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


def answer_rows(q: SquadQuestion, text: str, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> set[int]:
    """The sentences (rows, with their spans in `text`) that hold one of the question's answers."""
    return {int(r) for r in rows if any(a.lower() in text[starts[r]:ends[r]].lower() for a in q.answers)}


def main(path: Path, cache: Path, reports: Path, lists: int | None, probes: int, n: int = 20,
         say: Callable[[str], None] = print) -> int:
    import faiss

    from index.ann import AnnSpec, build_ann, lists_for, pq_bytes
    from index.onnx_encoder import OnnxEncoder

    folder = cache / "squad-index"
    if not (folder / "match_vectors.npy").is_file():
        raise EvalError(f"no SQuAD index at {folder}: run `python -m eval squad {path}` first (it builds one there)")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("encoder", {}).get("kind") != "onnx":
        raise EvalError(f"the index at {folder} was not built with the model; build it with `python -m eval squad`")
    vectors = np.load(folder / "match_vectors.npy")
    spans = np.load(folder / "spans.npz")
    docs = [json.loads(line)["doc_id"] for line in (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    at = {d: i for i, d in enumerate(docs)}
    paragraphs, questions = load_squad(path)
    context = {p.doc_id: p.context for p in paragraphs}
    spec = AnnSpec("ivf", context=float(manifest["ann"]["sentences"]["context"]),
                   nlist=lists or lists_for(len(vectors)), nprobe=probes, pq=pq_bytes(vectors.shape[1]))
    faiss.omp_set_num_threads(1)  # one question at a time, as served
    index = build_ann(vectors, spec)
    encoder = OnnxEncoder.from_index(folder)
    by_doc = {i: np.flatnonzero(spans["s_doc"] == i) for i in range(len(docs))}
    result: dict[str, Any] = {"sentences": len(vectors), "ann": spec.record(), "n": n}
    for half in ("train", "test"):
        asked = [q for q in split_titles(questions, half) if q.doc_id in at]
        texts = [q.question for q in asked]
        queries = np.vstack([encoder.embed_queries(texts[i: i + 256]) for i in range(0, len(texts), 256)])
        gold = [answer_rows(q, context[q.doc_id], by_doc[at[q.doc_id]], spans["s_start"], spans["s_end"])
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
