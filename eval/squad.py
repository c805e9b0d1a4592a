"""SQuAD v1.1 dev as an open-retrieval task over its own 2,067 paragraphs (a closed corpus, much
easier than DrQA's all-of-Wikipedia setting): every paragraph becomes an article, indexed by the
real index.build.build, and every question goes through the real Answerer.

Scores: paragraph Recall@1/@5 (the question's own paragraph among the distinct articles of the
retrieved passages), answer_in_top_quote / answer_in_answer (a reference answer, after the official
SQuAD normalisation, appears as whole tokens in the first quote / the whole answer), abstained share.
"""

from __future__ import annotations

import json
import re
import string
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eval import EvalError
from eval.metrics import first_occurrences, hit_at_k, mean

# The recipe to beat (retrieve the paragraph, quote its best sentence), on this same closed corpus.
NAIVE = {"paragraph_recall@1": 0.72, "paragraph_recall@5": 0.93, "answer_in_top_quote": 0.62}


@dataclass(frozen=True)
class Paragraph:
    doc_id: str
    title: str
    context: str


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    doc_id: str
    answers: tuple[str, ...]


def load_squad(path: Path) -> tuple[list[Paragraph], list[SquadQuestion]]:
    """Paragraphs (doc_id f"{title}-{i:04d}", i counting within the article) and questions."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        paragraphs, questions = [], []
        for article in raw["data"]:
            for i, par in enumerate(article["paragraphs"]):
                doc_id = f"{article['title']}-{i:04d}"
                paragraphs.append(Paragraph(doc_id, article["title"].replace("_", " "), par["context"]))
                questions += [SquadQuestion(qa["id"], qa["question"], doc_id,
                                            tuple(a["text"] for a in qa["answers"])) for qa in par["qas"]]
    except OSError as exc:
        raise EvalError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise EvalError(f"{path} is not a SQuAD v1.1 file ({exc})") from exc
    return paragraphs, questions


def normalize_answer(text: str) -> str:
    """The official SQuAD v1.1 normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def holds_answer(text: str | None, answers: Iterable[str]) -> bool:
    """A normalised reference answer occurs in the normalised text as whole tokens."""
    if not text:
        return False
    padded = f" {normalize_answer(text)} "
    return any(norm and f" {norm} " in padded for norm in (normalize_answer(a) for a in answers))


def write_articles(paragraphs: Sequence[Paragraph], folder: Path) -> None:
    """One .txt per paragraph and a metadata.jsonl with the article titles."""
    folder.mkdir(parents=True, exist_ok=True)
    for p in paragraphs:
        (folder / f"{p.doc_id}.txt").write_text(p.context, encoding="utf-8")
    with (folder / "metadata.jsonl").open("w", encoding="utf-8") as out:
        for p in paragraphs:
            out.write(json.dumps({"doc_id": p.doc_id, "title": p.title}) + "\n")


def score(q: SquadQuestion, passage_docs: Sequence[str], quotes: Sequence[str], answer: str | None,
          abstained: bool, top_sentence: str | None = None) -> dict[str, Any]:
    """One question's scores from what the answerer returned. `top_sentence`: the best-scoring sentence
    of the first quote (a quote also joins neighbours and context), for a like-for-like "top sentence"."""
    docs = first_occurrences(passage_docs)
    top = quotes[0] if quotes else None
    return {
        "id": q.id, "paragraph_recall@1": hit_at_k(docs, {q.doc_id}, 1),
        "paragraph_recall@5": hit_at_k(docs, {q.doc_id}, 5),
        "answer_in_top_quote": float(holds_answer(top, q.answers)),
        "answer_in_top_sentence": float(holds_answer(top_sentence, q.answers)),
        "answer_in_answer": float(holds_answer(answer, q.answers)),
        "abstained": float(abstained), "top_quote_words": len(top.split()) if top else 0,
        "top_docs": docs[:5],
    }


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    names = ("paragraph_recall@1", "paragraph_recall@5", "answer_in_top_quote",
             "answer_in_top_sentence", "answer_in_answer", "abstained")
    found = {n: mean(r[n] for r in rows) for n in names}
    answered = [r for r in rows if not r["abstained"]]
    found["answer_in_top_quote_when_answered"] = mean(r["answer_in_top_quote"] for r in answered)
    found["paragraph_recall@1_when_answered"] = mean(r["paragraph_recall@1"] for r in answered)
    found["top_quote_words_mean"] = mean(r["top_quote_words"] for r in answered)
    found["questions"] = float(len(rows))
    return {k: (round(v, 4) if v is not None else None) for k, v in found.items()}


def run_squad(path: Path, index_dir: Path, limit: int | None = None, progress: bool = True,
              say: Callable[[str], None] = print) -> dict[str, Any]:
    """Index the paragraphs (incrementally, into index_dir), ask the questions, score them."""
    from tqdm import tqdm

    from eval.run import CachedEmbedder
    from index.build import build
    from index.settings import Settings
    from server.answerer import Answerer
    from server.query import repair

    paragraphs, questions = load_squad(path)
    questions = questions[:limit] if limit is not None else questions
    with tempfile.TemporaryDirectory(prefix="squad-articles-") as tmp:
        write_articles(paragraphs, Path(tmp))
        settings = Settings(articles_dir=Path(tmp), index_dir=index_dir)
        built = build(settings, progress=progress, say=say)
    say(built.summary())
    loaded = Answerer.load(settings)
    cached = CachedEmbedder(loaded.embedder)
    answerer = Answerer(loaded.index, cached, settings)
    # The answerer encodes one question at a time; encoding them in batches first is the same
    # vectors, several times faster.
    texts = [repair(q.question.strip(), answerer.vocabulary) for q in questions]
    for i in tqdm(range(0, len(texts), 256), desc="Encoding questions", disable=not progress):
        cached.embed_queries(texts[i: i + 256])
    rows = []
    for q in tqdm(questions, desc="Asking", unit="question", disable=not progress):
        a = answerer.ask(q.question, top_k=10)
        docs = [p.doc_id for p in a.passages]
        top = a.quotes[0] if a.quotes else None
        focus = answerer.index.articles[top.doc_id].text[top.focus[0]:top.focus[1]] if top else None
        rows.append(score(q, docs, [x.text for x in a.quotes], a.answer, a.abstained, focus))
    summary = {**summarise(rows), "paragraphs": len(paragraphs), "indexed_articles": built.articles,
               "skipped_articles": len(built.skipped), "setting": "closed corpus: the 2,067 dev paragraphs"}
    return {"summary": summary, "naive": NAIVE, "questions": rows,
            "skipped": [asdict(s) for s in built.skipped]}


def main(path: Path, cache: Path, reports: Path, limit: int | None,
         say: Callable[[str], None] = print) -> int:
    result = run_squad(path, cache / "squad-index", limit, say=say)
    reports.mkdir(parents=True, exist_ok=True)
    out = reports / "squad.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    s = result["summary"]
    say(f"\nSQuAD v1.1 dev, {s['questions']:.0f} questions over {s['indexed_articles']} paragraphs "
        f"({s['skipped_articles']} skipped by cleaning):")
    for name, value in s.items():
        if isinstance(value, float):
            ref = f"   (naive recipe {NAIVE[name]:.2f})" if name in NAIVE else ""
            say(f"  {name:36s} {value:.4f}{ref}")
    say(f"Wrote {out}")
    return 0
