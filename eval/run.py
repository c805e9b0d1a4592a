"""The gold-set evaluation: every gold question through the answerer, for the product and for each
ablation (one stage switched off), scored against gold spans; the per-question scores are kept
beside the means. I/O lives in `main`; the scoring functions take and return plain data."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.gold import GoldQuestion, quote_spans
from eval.metrics import (
    covers,
    first_occurrences,
    hit_at_k,
    mean,
    mrr_at_k,
    ndcg_at_k,
    overlap,
    percentile,
    ratio,
)
from index.encoder import Encoder
from server.answerer import Answerer, Options
from server.features import FEATURES
from server.records import Answer

PRODUCT = "product"
ABLATIONS: tuple[tuple[str, Options], ...] = (
    (PRODUCT, Options()),  # hybrid retrieval with every stage on
    ("bm25 only", Options(retrieval="bm25")),
    ("dense only", Options(retrieval="dense")),
    ("rrf fusion", Options(retrieval="rrf")),
    ("no typo repair", Options(repair_typos=False)),
    ("no lexical extraction", Options(lexical_extraction=False)),
    ("no duplicate collapse", Options(collapse_duplicates=False)),
    ("copies scored each", Options(distinct_copies=False)),  # syndicated copies among the candidates
    ("no abstention", Options(abstain=False)),
    ("hand-set weights", Options(learned_ranker=False)),  # the ranker's predecessor, for comparison
    *((f"ranker without {name}", Options(off=frozenset({name}))) for name in FEATURES),
)
CHECK = "check set (not fitted on)"  # eval/check.jsonl through the product, beside the ablations
K_VALUES = (1, 3, 5, 10)
TOP_K = 10
GOLD_SPAN = "gold span"  # relevance key of a passage covering a gold quote


@dataclass(frozen=True)
class Row:
    """One question under one ablation: what was expected, what came back, and its scores."""

    id: str
    question: str
    kind: str
    answerable: bool
    expected: dict[str, Any]
    answer: str | None
    abstained: bool
    confidence: float
    quotes: list[dict[str, Any]]
    passages: list[dict[str, Any]]  # the retrieved passages, best first, with their relevance key
    scores: dict[str, float]  # per-question metric values (retrieval and answer ones: answerable only)
    verbatim_checked: int
    verbatim_failures: list[str]
    timings_ms: dict[str, float]


@dataclass(frozen=True)
class Ablation:
    name: str
    options: dict[str, Any]
    metrics: dict[str, float | None]
    rows: list[Row]


@dataclass(frozen=True)
class EvalRun:
    ablations: dict[str, Ablation] = field(default_factory=dict)

    @property
    def product(self) -> Ablation:
        return self.ablations[PRODUCT]


class CachedEmbedder:
    """The same loaded encoder, encoding each distinct query once: the ablations ask the same questions,
    so only the first pass (the product's, whose latency is reported) pays for encoding."""

    def __init__(self, inner: Encoder) -> None:  # shares inner's loaded model; loads nothing
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.memo: dict[str, np.ndarray] = {}

    def dictionary(self) -> frozenset[str]:
        return self.inner.dictionary()

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return self.inner.embed_passages(texts, batch_size, progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            self.memo.update(zip(missing, self.inner.embed_queries(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.memo[t] for t in texts])


def passage_keys(q: GoldQuestion, spans: Sequence[tuple[int, int]],
                 passages: Sequence[tuple[str, int, int]]) -> list[str]:
    """A relevance key per retrieved (doc_id, start, end): GOLD_SPAN for a gold_doc passage covering
    half a gold quote's span, the doc id for an also_docs passage, else a key of its own."""
    keys = []
    for rank, (doc, start, end) in enumerate(passages):
        if doc == q.gold_doc and any(covers((start, end), s) for s in spans):
            keys.append(GOLD_SPAN)
        elif doc in q.also_docs:
            keys.append(doc)
        else:
            keys.append(f"~{rank}")
    return keys


def retrieval_scores(q: GoldQuestion, spans: Sequence[tuple[int, int]],
                     passages: Sequence[tuple[str, int, int]]) -> dict[str, float]:
    """Passage hit@k (recall of an answering passage), MRR@10 and nDCG@10 (each answering source, the
    gold span or an also_docs article, counts once), and document hit@1/@5."""
    keys = passage_keys(q, spans, passages)
    relevant = {GOLD_SPAN, *q.also_docs}
    found = {f"recall@{k}": hit_at_k(keys, relevant, k) for k in K_VALUES}
    found["mrr@10"] = mrr_at_k(keys, relevant, 10)
    found["ndcg@10"] = ndcg_at_k(keys, relevant, 10)
    docs = first_occurrences(doc for doc, _, _ in passages)
    found["doc_recall@1"] = hit_at_k(docs, q.relevant_docs, 1)
    found["doc_recall@5"] = hit_at_k(docs, q.relevant_docs, 5)
    return found


def answer_scores(q: GoldQuestion, spans: Sequence[tuple[int, int]], answer: Answer) -> dict[str, float]:
    """keyword: the answer text holds an answer keyword; quote_overlap: the first quote shares
    characters with a gold quote span in gold_doc; phrase_shown / phrase_keyword: the first quote
    emphasises a phrase narrower than its answering sentence / one holding a keyword. An abstention
    scores 0 on all."""
    def holds(text: str) -> bool:
        text = " ".join(text.split()).casefold()
        return any(" ".join(k.split()).casefold() in text for k in q.answer_keywords)

    keyword = bool(answer.answer) and holds(answer.answer or "")
    first = answer.quotes[0] if answer.quotes else None
    hit = first is not None and first.doc_id == q.gold_doc and any(
        overlap((first.start, first.end), s) > 0 for s in spans)
    shown = first is not None and (first.answer_start, first.answer_end) != first.focus and \
        first.start <= first.answer_start < first.answer_end <= first.end
    phrase = first.text[first.answer_start - first.start:first.answer_end - first.start] if first and shown else ""
    return {"answer_keyword": float(keyword), "answer_quote_overlap": float(hit), "phrase_shown": float(shown),
            "phrase_keyword": float(shown and holds(phrase))}


def verbatim_check(answer: Answer, texts: Mapping[str, str],
                   sentences: frozenset[tuple[str, int, int]]) -> tuple[int, list[str]]:
    """(spans checked, failures): each quote must equal article_text[start:end]; each also_in and
    differs_in citation must be a whole sentence of its article, within its text."""
    failures = []
    checked = 0
    for quote in answer.quotes:
        checked += 1
        text = texts.get(quote.doc_id)
        if text is None or not quote.text or text[quote.start:quote.end] != quote.text:
            failures.append(f"quote {quote.doc_id}[{quote.start}:{quote.end}] is not verbatim")
        for c in quote.also_in + quote.differs_in:
            checked += 1
            cited = texts.get(c.doc_id)
            inside = cited is not None and 0 <= c.start < c.end <= len(cited)
            if not inside or (c.doc_id, c.start, c.end) not in sentences:
                failures.append(f"citation {c.doc_id}[{c.start}:{c.end}] is not a sentence of its article")
    return checked, failures


def indexed(q: GoldQuestion, spans: Sequence[tuple[int, int]],
            passages: Mapping[str, Sequence[tuple[int, int]]]) -> float:
    """1.0 when some passage of the index answers at all (covers a gold span, or is from an also_docs
    article): the ceiling of every retrieval metric. Cleaning that drops an answer shows up here."""
    gold = any(covers(p, s) for p in passages.get(q.gold_doc or "", ()) for s in spans)
    return float(gold or any(passages.get(d) for d in q.also_docs))


def score_row(q: GoldQuestion, answer: Answer, texts: Mapping[str, str],
              sentences: frozenset[tuple[str, int, int]], passages: Mapping[str, Sequence[tuple[int, int]]]) -> Row:
    """`passages`: every passage of the index as doc_id -> [(start, end)]."""
    spans = quote_spans(q, texts)
    retrieved = [(p.doc_id, p.start, p.end) for p in answer.passages]
    scores = ({**retrieval_scores(q, spans, retrieved), **answer_scores(q, spans, answer),
               "answer_indexed": indexed(q, spans, passages)} if q.answerable else {})
    keys = passage_keys(q, spans, retrieved) if q.answerable else ["~"] * len(retrieved)
    checked, failures = verbatim_check(answer, texts, sentences)
    return Row(
        id=q.id, question=q.question, kind=q.kind, answerable=q.answerable,
        expected={"keywords": list(q.answer_keywords), "gold_doc": q.gold_doc, "also_docs": list(q.also_docs),
                  "gold_spans": [list(s) for s in spans]},
        answer=answer.answer, abstained=answer.abstained, confidence=answer.confidence,
        quotes=[{"doc_id": x.doc_id, "start": x.start, "end": x.end, "score": x.score, "text": x.text,
                 "also_in": [[c.doc_id, c.start, c.end] for c in x.also_in]} for x in answer.quotes],
        passages=[{"doc_id": p.doc_id, "chunk_id": p.chunk_id, "score": p.score, "relevant": key[0] != "~"}
                  for p, key in zip(answer.passages, keys, strict=True)],
        scores=scores, verbatim_checked=checked, verbatim_failures=failures,
        timings_ms=dict(answer.timings_ms),
    )


def summarise(rows: Sequence[Row]) -> dict[str, float | None]:
    """Means over the answerable questions, abstention rates over all, verbatim rate, latency."""
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    names = list(answerable[0].scores) if answerable else []
    found: dict[str, float | None] = {name: mean(r.scores[name] for r in answerable) for name in names}
    if "phrase_shown" in names:
        found["phrase_precision"] = ratio(sum(r.scores["phrase_keyword"] > 0 for r in answerable),
                                          sum(r.scores["phrase_shown"] > 0 for r in answerable))
    right = sum(1 for r in unanswerable if r.abstained)
    found["abstain_precision"] = ratio(right, sum(1 for r in rows if r.abstained))
    found["abstain_recall"] = ratio(right, len(unanswerable))
    found["answerable_abstained"] = ratio(sum(1 for r in answerable if r.abstained), len(answerable))
    found["unanswerable_answered"] = ratio(len(unanswerable) - right, len(unanswerable))
    checked = sum(r.verbatim_checked for r in rows)
    failed = sum(len(r.verbatim_failures) for r in rows)
    found["verbatim_rate"] = ratio(checked - failed, checked) if checked else 1.0
    found["verbatim_checked"] = float(checked)
    for part in ("total", "encode"):
        values = [r.timings_ms.get(part, 0.0) for r in rows]
        found[f"latency_{part}_p50_ms"] = percentile(values, 50)
        found[f"latency_{part}_p95_ms"] = percentile(values, 95)
    found["questions"] = float(len(rows))
    return {k: (round(v, 4) if v is not None else None) for k, v in found.items()}


def evaluate_gold(
    answerer: Answerer, gold: Sequence[GoldQuestion], texts: Mapping[str, str],
    ablations: Sequence[tuple[str, Options]] = ABLATIONS, top_k: int = TOP_K, progress: bool = False,
) -> EvalRun:
    """Ask every gold question under every ablation (the first one first: its latency is the product's).
    `texts` are the articles' original texts, read from the files, independent of the index."""
    from dataclasses import asdict

    from tqdm import tqdm

    sentences = frozenset((s.doc_id, s.start, s.end) for s in answerer.index.sentences)
    passages: dict[str, list[tuple[int, int]]] = {}
    for p in answerer.index.passages:
        passages.setdefault(p.doc_id, []).append((p.start, p.end))
    found: dict[str, Ablation] = {}
    total = len(gold) * len(ablations)
    with tqdm(total=total, desc="Evaluating", unit="question", disable=not progress) as bar:
        for name, options in ablations:
            rows = []
            for q in gold:
                answer = answerer.evaluate(q.question, top_k, options).answer
                rows.append(score_row(q, answer, texts, sentences, passages))
                bar.update(1)
            found[name] = Ablation(name, asdict(options), summarise(rows), rows)
    return EvalRun(found)


def converse(answerer: Answerer, paths: Sequence[Path], texts: Mapping[str, str]) -> list[Any]:
    """The conversation sets that exist, evaluated (eval.conversations.SetResult each)."""
    from eval.conversations import CHECK, DEV, evaluate_set, load_conversations

    found = []
    for n, path in enumerate(paths):
        if path.is_file():
            found.append(evaluate_set(answerer, DEV if n == 0 else CHECK, load_conversations(path), texts))
    return found


def verbatim_failures(run: EvalRun) -> list[str]:
    """Every quote or citation of every ablation that is not verbatim, named."""
    return [f"{a.name} / {r.id}: {f}"
            for a in run.ablations.values() for r in a.rows for f in r.verbatim_failures]


Say = Callable[[str], None]


def main(gold_path: Path, index_dir: Path | None, baseline_path: Path, reports_dir: Path,
         update_baseline: bool, tolerance: float, progress: bool = True, say: Say = print,
         check_path: Path | None = None, conversation_paths: Sequence[Path] = ()) -> int:
    """`python -m eval run`: build (incrementally) and evaluate the seed index, write the reports,
    print the tables, then gate against the baseline (or replace it). Returns the exit code.
    `check_path`: a second question set, written apart from the gold set, on which no weight or
    calibration is fitted; its product metrics are reported and gated beside the gold set's.
    `conversation_paths`: the conversation sets (development, then held out), each turn asked with the
    history the system returned, and alone; reported and gated the same way."""
    import hashlib
    import json
    import time
    from dataclasses import asdict

    from eval import gate, report
    from eval.gold import check_against, load_gold
    from index.build import build
    from index.load import load_folder
    from index.settings import Settings

    started = time.perf_counter()
    settings = Settings(index_dir=index_dir) if index_dir is not None else Settings()
    gold = load_gold(gold_path)
    check = load_gold(check_path) if check_path is not None and check_path.is_file() else []
    built = build(settings, progress=False, say=say)
    say(built.summary().splitlines()[0])
    texts = {a.doc_id: a.text for a in load_folder(settings.articles_dir, settings.max_article_mb).articles}
    check_against(gold + check, texts)
    answerer = Answerer.load(settings)
    answerer = Answerer(answerer.index, CachedEmbedder(answerer.embedder), settings)
    run = evaluate_gold(answerer, gold, texts, progress=progress)
    if check:
        checked = evaluate_gold(answerer, check, texts, ablations=((CHECK, Options()),))
        run = EvalRun({**run.ablations, CHECK: checked.ablations[CHECK]})
    conv_results = converse(answerer, conversation_paths, texts)
    baseline = gate.read_baseline(baseline_path)
    before = baseline["metrics"] if baseline else None
    changes = gate.compare(run.product.metrics, before, tolerance) if before else []
    check_before = baseline.get("check_metrics") if baseline else None
    check_changes = gate.compare(run.ablations[CHECK].metrics, check_before, tolerance) \
        if check and check_before else []
    gold_sha = hashlib.sha256(gold_path.read_bytes()).hexdigest()
    context = {"gold": str(gold_path), "gold_sha256": gold_sha, "index": str(settings.index_dir),
               "model": answerer.embedder.name,
               "ranker": answerer.ranker.sha256 if answerer.ranker else "hand-set weights",
               "tolerance": tolerance, "baseline": str(baseline_path),
               "when": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds": round(time.perf_counter() - started, 1)}
    paths = report.write(reports_dir, run, before, changes, context)
    summary = report.summary_rows(run.product.metrics, before, changes)
    say("\n" + report.text_table(report.SUMMARY_HEADER, summary))
    say("\nAblations (" + ", ".join(f"{s}={m}" for m, s in report.SHORT.items()) + "):\n"
        + report.text_table(["ablation", *report.SHORT.values()], report.ablation_rows(run)))
    conv_before = (baseline or {}).get("conversation_metrics", {})
    conv_changes = [(r.name, gate.compare(r.with_history, conv_before[r.name], tolerance))
                    for r in conv_results if r.name in conv_before]
    if conv_results:
        from eval.conversations import COLUMNS, DEV, table_rows
        say("\nConversations (each turn asked with the history the system returned; 'alone': without it; 'asked in "
            "full': in its gold standalone form, without it, as a perfect rewrite alone would ask it):\n"
            + report.text_table(["set", *COLUMNS], table_rows(conv_results)))
        dev = next((r for r in conv_results if r.name == DEV), None)
        if dev and dev.failures:
            say(f"Development-set follow-ups answered wrong ({len(dev.failures)}):\n  " + "\n  ".join(dev.failures))
        written = reports_dir / "conversations.json"
        written.write_text(json.dumps([asdict(r) for r in conv_results], indent=1, ensure_ascii=False) + "\n",
                           encoding="utf-8")
        paths.append(written)
    say(f"\nReports: {', '.join(str(p) for p in paths)} ({time.perf_counter() - started:.0f} s)")
    failures = verbatim_failures(run) + [f for r in conv_results for f in r.verbatim_failures]
    if failures:
        say(f"FAILED: {len(failures)} quote(s) or citation(s) are not verbatim, e.g. {failures[0]}")
        return 1
    if update_baseline:
        record = gate.baseline_record(run.product.metrics, gold_sha, len(gold))
        if check:
            record["check_metrics"] = dict(run.ablations[CHECK].metrics)
            record["check_questions"] = len(check)
        if conv_results:
            record["conversation_metrics"] = {r.name: dict(r.with_history) for r in conv_results}
        gate.write_baseline(baseline_path, record)
        say(f"Baseline written to {baseline_path}.")
        return 0
    if baseline is None:
        say(f"Note: no baseline at {baseline_path}, so nothing is gated; "
            "create one with `make eval-baseline`.")
        return 0
    if baseline.get("gold_sha256") not in (None, gold_sha):
        say("Note: the baseline was made on a different gold file; regenerate it with `make eval-baseline`.")
    dropped = [("", c) for c in gate.regressions(changes)]
    dropped += [("check set: ", c) for c in gate.regressions(check_changes)]
    dropped += [(f"{name}: ", c) for name, changes_ in conv_changes for c in gate.regressions(changes_)]
    if dropped:
        say(f"FAILED: {len(dropped)} metric(s) got worse than the baseline by more than {tolerance} "
            "(absolute):")
        for where, c in dropped:
            say(f"  {where}{gate.describe(c)}")
        return 1
    say(f"Gate passed: no gated metric is worse than the baseline by more than {tolerance} (absolute).")
    return 0
