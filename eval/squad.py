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
from typing import Any, Literal

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
    if rows and "holds" in rows[0]:  # the first quote it would give with abstention off
        found["answer_in_top_quote_never_abstaining"] = mean(r["holds"] for r in rows)
    found["questions"] = float(len(rows))
    return {k: (round(v, 4) if v is not None else None) for k, v in found.items()}


def by_answer_type(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Accuracy by the answer type the question's parse asks for (server/answertype.py), most asked first:
    where the answerer is strong and where it fails."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["answer_type"], []).append(r)
    return {name: {"questions": float(len(mine)), "share": round(len(mine) / len(rows), 4),
                   "answer_in_top_quote": round(mean(r["answer_in_top_quote"] for r in mine) or 0.0, 4),
                   "never_abstaining": round(mean(r["holds"] for r in mine) or 0.0, 4),
                   "abstained": round(mean(r["abstained"] for r in mine) or 0.0, 4)}
            for name, mine in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))}


Split = Literal["all", "train", "test"]


def split_titles(questions: Sequence[SquadQuestion], split: Split) -> list[SquadQuestion]:
    """The questions of one half: "train", the 24 articles whose titles sort first (1973_oil_crisis ...
    Islamism, the only SQuAD questions anything is fitted on); "test", the other 24 (Jacksonville,_Florida
    ... Yuan_dynasty, held out); "all", both. The article title is the doc id without its "-NNNN"."""
    if split == "all":
        return list(questions)
    order = sorted({title_of(q.doc_id) for q in questions})
    first = set(order[: len(order) // 2])
    return [q for q in questions if (title_of(q.doc_id) in first) == (split == "train")]


def title_of(doc_id: str) -> str:
    return doc_id.rsplit("-", 1)[0]


def squad_answerer(path: Path, index_dir: Path, progress: bool = True, say: Callable[[str], None] = print,
                   fitted: bool = True) -> tuple[Any, list[SquadQuestion], int, list[Any]]:
    """The Answerer over all 2,067 dev paragraphs (built incrementally into index_dir) with an encoder
    that remembers each question's vector; the questions; the paragraphs indexed and those skipped.
    `fitted`: False for training (no fitted ranker read)."""
    from eval.run import CachedEmbedder
    from index.build import build
    from index.settings import Settings
    from server.answerer import Answerer

    paragraphs, questions = load_squad(path)
    with tempfile.TemporaryDirectory(prefix="squad-articles-") as tmp:
        write_articles(paragraphs, Path(tmp))
        settings = Settings(articles_dir=Path(tmp), index_dir=index_dir)
        built = build(settings, progress=progress, say=say)
    say(built.summary())
    loaded = Answerer.load(settings, fitted=fitted)
    answerer = Answerer(loaded.index, CachedEmbedder(loaded.embedder), settings, fitted=fitted)
    return answerer, questions, built.articles, list(built.skipped)


def encode_all(answerer: Any, texts: Sequence[str], progress: bool) -> None:
    """Encode the questions in batches first: the same vectors as one at a time, several times faster."""
    from tqdm import tqdm

    for i in tqdm(range(0, len(texts), 256), desc="Encoding questions", disable=not progress):
        answerer.embedder.embed_queries(list(texts[i: i + 256]))


COVERAGES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def risk_coverage(rows: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
    """Answer accuracy against the share answered: the questions answered most confidently first."""
    ranked = sorted(rows, key=lambda r: (-r["confidence"], r["id"]))
    points = []
    for share in COVERAGES:
        top = ranked[: max(1, round(share * len(ranked)))] if ranked else []
        if top:
            points.append({"coverage": share, "accuracy": round(mean(r["holds"] for r in top) or 0.0, 4),
                           "confidence_at_least": top[-1]["confidence"]})
    return points


def run_squad(path: Path, index_dir: Path, limit: int | None = None, progress: bool = True,
              say: Callable[[str], None] = print, split: Split = "all", compare: bool = False) -> dict[str, Any]:
    """Index the paragraphs (incrementally, into index_dir), ask the questions of `split`, score them;
    with `compare`, also under the hand-set weights (without abstention), for the ranker's comparison."""
    from tqdm import tqdm

    from server.answerer import Options
    from server.query import repair

    answerer, questions, indexed, skipped = squad_answerer(path, index_dir, progress, say)
    halves = {name: {q.id for q in split_titles(questions, name)} for name in ("train", "test")}
    questions = split_titles(questions, split)
    questions = questions[:limit] if limit is not None else questions
    encode_all(answerer, [repair(q.question.strip(), answerer.vocabulary) for q in questions], progress)
    rows: list[dict[str, Any]] = []
    hand_rows: list[dict[str, Any]] = []
    threshold = answerer.settings.abstain_threshold
    for q in tqdm(questions, desc="Asking", unit="question", disable=not progress):
        # asked without abstention, then judged by its confidence as the product would: the same
        # answers, and the quote it would have given for the risk-coverage curve
        prepared = answerer.prepare(q.question, 10)  # parsed once: the answer and its answer type
        a = answerer.evaluate(q.question, top_k=10, options=Options(abstain=False), prepared=prepared).answer
        docs = [p.doc_id for p in a.passages]
        top = a.quotes[0] if a.quotes else None
        focus = answerer.index.articles[top.doc_id].text[top.focus[0]:top.focus[1]] if top else None
        abstained = a.abstained or a.confidence < threshold
        shown = [] if abstained else [x.text for x in a.quotes]  # what the product would show
        row = score(q, docs, shown, None if abstained else a.answer, abstained, None if abstained else focus)
        rows.append({**row, "confidence": a.confidence, "holds": float(holds_answer(top.text if top else None,
                                                                                    q.answers)),
                     "answer_type": prepared.answer_type.name})
        if compare:  # the hand-set weights' answer to the same question, never withheld
            h = answerer.evaluate(q.question, top_k=10, options=Options(abstain=False, learned_ranker=False)).answer
            first = h.quotes[0] if h.quotes else None
            hand_rows.append(score(q, [p.doc_id for p in h.passages], [x.text for x in h.quotes], h.answer, False,
                                   answerer.index.articles[first.doc_id].text[first.focus[0]:first.focus[1]]
                                   if first else None))
    by_split: dict[str, dict[str, Any]] = {
        name: {**summarise(mine), "risk_coverage": risk_coverage(mine), "by_answer_type": by_answer_type(mine)}
        for name, ids in halves.items() if split in ("all", name)
        for mine in [[r for r in rows if r["id"] in ids]]}
    if compare:
        by_split["hand-set weights, never abstaining"] = summarise(hand_rows)
    summary = {**summarise(rows), "split": split, "by_split": by_split, "paragraphs": indexed + len(skipped),
               "indexed_articles": indexed,
               "skipped_articles": len(skipped), "setting": "closed corpus: the 2,067 dev paragraphs",
               "ranker": answerer.ranker.sha256[:12] if answerer.ranker else "hand-set weights"}
    return {"summary": summary, "naive": NAIVE, "questions": rows, "skipped": [asdict(s) for s in skipped]}


def main(path: Path, cache: Path, reports: Path, limit: int | None,
         say: Callable[[str], None] = print, split: Split = "all", compare: bool = False) -> int:
    result = run_squad(path, cache / "squad-index", limit, say=say, split=split, compare=compare)
    reports.mkdir(parents=True, exist_ok=True)
    out = reports / ("squad.json" if split == "all" else f"squad-{split}.json")
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    s = result["summary"]
    say(f"\nSQuAD v1.1 dev, {s['questions']:.0f} questions ({split}) over {s['indexed_articles']} paragraphs "
        f"({s['skipped_articles']} skipped by cleaning):")
    for name, value in s.items():
        if isinstance(value, float):
            ref = f"   (naive recipe {NAIVE[name]:.2f})" if name in NAIVE else ""
            say(f"  {name:36s} {value:.4f}{ref}")
    for name, figures in s["by_split"].items():
        held = {"train": "train half (fitted on", "test": "test half (held out"}.get(name, f"{name} ({split}")
        say(f"  {held}, {figures['questions']:.0f} questions): answer_in_top_quote "
            f"{figures['answer_in_top_quote']:.4f}, paragraph R@1 {figures['paragraph_recall@1']:.4f}, "
            f"R@5 {figures['paragraph_recall@5']:.4f}")
        if "risk_coverage" in figures:
            say("    risk-coverage (share answered: accuracy): " + ", ".join(
                f"{p['coverage']:.0%}: {p['accuracy']:.3f}" for p in figures["risk_coverage"]))
        if figures.get("by_answer_type"):
            say("    by answer type (questions: first quote holds the answer / never abstaining / abstained):")
            for kind, t in figures["by_answer_type"].items():
                say(f"      {kind:13s} {t['questions']:5.0f} ({t['share']:.0%}): {t['answer_in_top_quote']:.3f} / "
                    f"{t['never_abstaining']:.3f} / {t['abstained']:.3f}")
    say(f"Wrote {out}")
    return 0
