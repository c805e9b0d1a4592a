"""The gold-set evaluation and its gate, on the real model and the seed index (session fixtures):
the gate passes against a baseline made from the same run and fails when retrieval is broken; every
quote of every ablation is verbatim. Plus the pure pieces: scoring, gate rules, gold parsing, the
SQuAD normalisation and the BEIR loader."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eval import EvalError
from eval.gate import compare, regressions
from eval.gold import GoldError, GoldQuestion, load_gold, parse_gold, quote_spans
from eval.run import (
    ABLATIONS,
    CHECK,
    GOLD_SPAN,
    PRODUCT,
    CachedEmbedder,
    EvalRun,
    answer_scores,
    evaluate_gold,
    passage_keys,
    retrieval_scores,
    verbatim_check,
    verbatim_failures,
)
from index.load import load_folder
from server.answerer import Answerer, Options
from server.records import Answer, Citation, Hit, Quote

REPO = Path(__file__).resolve().parents[1]
GOLD = load_gold(REPO / "eval" / "gold.jsonl")
SUBSET = GOLD[::3]  # 27 questions, answerable and not, every article


class WorstFirst(Answerer):
    """A deliberately broken retriever: the passages ranked worst first."""

    def retrieve(self, query, qvec, k, mode, only=frozenset()):  # type: ignore[no-untyped-def]
        everything, qterms = super().retrieve(query, qvec, len(self.index.passages), mode, only)
        return list(reversed(everything))[:k], qterms


@pytest.fixture(scope="module")
def texts(seed_settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {a.doc_id: a.text for a in load_folder(seed_settings.articles_dir).articles}


@pytest.fixture(scope="module")
def good_run(answerer, texts) -> EvalRun:  # type: ignore[no-untyped-def]
    return evaluate_gold(answerer, SUBSET, texts, ablations=[(PRODUCT, Options())])


def test_gate_passes_against_its_own_baseline(good_run: EvalRun) -> None:
    metrics = good_run.product.metrics
    assert metrics["questions"] == len(SUBSET)
    assert metrics["recall@10"] is not None and metrics["recall@10"] > 0.5
    changes = compare(metrics, dict(metrics))
    assert changes and not regressions(changes)


def test_gate_fails_with_a_broken_retriever(answerer, good_run, texts) -> None:  # type: ignore[no-untyped-def]
    broken = WorstFirst(answerer.index, CachedEmbedder(answerer.embedder), answerer.settings)
    bad = evaluate_gold(broken, SUBSET, texts, ablations=[(PRODUCT, Options())])
    dropped = {c.metric for c in regressions(compare(bad.product.metrics, good_run.product.metrics))}
    assert {"recall@1", "mrr@10", "ndcg@10", "doc_recall@1"} <= dropped
    # a broken retriever still quotes verbatim: the gate, not the verbatim check, catches it
    assert not verbatim_failures(bad)


def test_every_quote_of_every_ablation_is_verbatim(answerer, texts) -> None:  # type: ignore[no-untyped-def]
    few = [q for q in GOLD if q.answerable][:5] + [q for q in GOLD if not q.answerable][:1]
    run = evaluate_gold(answerer, few, texts, ablations=ABLATIONS)
    assert list(run.ablations) == [name for name, _ in ABLATIONS]
    assert not verbatim_failures(run)
    checked = sum(r.verbatim_checked for a in run.ablations.values() for r in a.rows)
    assert checked > 0
    for ablation in run.ablations.values():
        assert ablation.metrics["verbatim_rate"] == 1.0
        for row in ablation.rows:
            for quote in row.quotes:
                assert texts[quote["doc_id"]][quote["start"]:quote["end"]] == quote["text"]
    assert run.ablations["no abstention"].metrics["abstain_recall"] == 0.0


def test_reports_are_written(good_run: EvalRun, tmp_path: Path) -> None:
    from eval import report

    context = {"gold": "gold.jsonl", "when": "now", "tolerance": 0.02}
    paths = report.write(tmp_path, good_run, None, [], context)
    data = json.loads(paths[0].read_text())
    assert data["ablations"][PRODUCT]["metrics"]["questions"] == len(SUBSET)
    assert len(data["ablations"][PRODUCT]["questions"]) == len(SUBSET)
    assert "## Failed questions" in paths[1].read_text()
    page = paths[2].read_text()
    assert "<svg" in page and "<polyline" in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # self-contained


def test_check_set_is_reported_with_its_failures(answerer, texts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from eval import report

    check = load_gold(REPO / "eval" / "check.jsonl")[::4]
    broken = WorstFirst(answerer.index, answerer.embedder, answerer.settings)
    checked = evaluate_gold(broken, check, texts, ablations=[(CHECK, Options())])
    run = EvalRun({PRODUCT: evaluate_gold(answerer, SUBSET[:3], texts, ablations=[(PRODUCT, Options())]).product,
                   CHECK: checked.ablations[CHECK]})
    text = report.write(tmp_path, run, None, [], {"gold": "gold.jsonl", "when": "now", "tolerance": 0.02})[1]
    md = text.read_text()
    assert f"## Failed questions ({CHECK})" in md and "### c0" in md
    assert CHECK in " ".join(row[0] for row in report.ablation_rows(run))


def test_cli_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from eval.__main__ import main

    code = main(["run", "--gold", str(tmp_path / "missing.jsonl"), "--reports", str(tmp_path)])
    err = capsys.readouterr().err
    assert code != 0 and err.startswith("error: ") and err.count("\n") == 1


# pure pieces ------------------------------------------------------------------------------------

Q = GoldQuestion("q1", "who?", True, "A", ("needle",), ("B",), ("Needle",), "who")


def test_passage_keys_and_retrieval_scores() -> None:
    spans = [(100, 110)]
    retrieved = [("C", 0, 500), ("A", 0, 104), ("A", 90, 300), ("B", 0, 50), ("A", 95, 200)]
    keys = passage_keys(Q, spans, retrieved)
    assert keys == ["~0", "~1", GOLD_SPAN, "B", GOLD_SPAN]  # 4 of 10 gold chars is not enough
    s = retrieval_scores(Q, spans, retrieved)
    assert (s["recall@1"], s["recall@3"], s["mrr@10"]) == (0.0, 1.0, pytest.approx(1 / 3))
    ideal = 1 + 1 / np.log2(3)
    assert s["ndcg@10"] == pytest.approx((1 / np.log2(4) + 1 / np.log2(5)) / ideal)
    assert (s["doc_recall@1"], s["doc_recall@5"]) == (0.0, 1.0)


def quote(doc: str, start: int, end: int, text: str, also: tuple[Citation, ...] = ()) -> Quote:
    return Quote(text, doc, doc, start, end, 1.0, also)


def test_answer_scores() -> None:
    none = {"phrase_shown": 0.0, "phrase_keyword": 0.0}
    hit = Answer("who?", "The NEEDLE  here", False, 0.9, [quote("A", 105, 120, "x")], [])
    assert answer_scores(Q, [(100, 110)], hit) == {"answer_keyword": 1.0, "answer_quote_overlap": 1.0, **none}
    elsewhere = Answer("who?", "needle", False, 0.9, [quote("B", 105, 120, "x")], [])
    assert answer_scores(Q, [(100, 110)], elsewhere) == {"answer_keyword": 1.0, "answer_quote_overlap": 0.0, **none}
    abstained = Answer("who?", None, True, 0.1, [], [])
    assert answer_scores(Q, [(100, 110)], abstained) == {"answer_keyword": 0.0, "answer_quote_overlap": 0.0, **none}
    # the emphasised phrase: narrower than the answering sentence, and holding a keyword or not
    text = "Then Needle came to town."
    sentence = Quote(text, "A", "A", 100, 125, 1.0, focus=(100, 125), answer_start=105, answer_end=111)
    emphasised = Answer("who?", text, False, 0.9, [sentence], [])
    assert answer_scores(Q, [(100, 110)], emphasised) == {
        "answer_keyword": 1.0, "answer_quote_overlap": 1.0, "phrase_shown": 1.0, "phrase_keyword": 1.0}
    wrong = Answer("who?", text, False, 0.9, [replace(sentence, answer_start=112, answer_end=116)], [])
    assert answer_scores(Q, [(100, 110)], wrong)["phrase_keyword"] == 0.0
    whole = Answer("who?", text, False, 0.9, [replace(sentence, answer_start=100, answer_end=125)], [])
    assert answer_scores(Q, [(100, 110)], whole)["phrase_shown"] == 0.0


def test_verbatim_check_catches_a_bad_quote_and_a_bad_citation() -> None:
    texts = {"A": "One. Two words.", "B": "Alpha. Beta."}
    sentences = frozenset({("A", 0, 4), ("A", 5, 15), ("B", 0, 6), ("B", 7, 12)})
    ok = Answer("q", "x", False, 1.0, [quote("A", 5, 15, "Two words.", (Citation("B", "B", 7, 12),))], [])
    assert verbatim_check(ok, texts, sentences) == (2, [])
    bad = Answer("q", "x", False, 1.0, [quote("A", 5, 15, "Two  words.", (Citation("B", "B", 6, 12),))], [])
    checked, failures = verbatim_check(bad, texts, sentences)
    assert checked == 2 and len(failures) == 2


def test_gate_rules() -> None:
    base = {"recall@1": 0.60, "answerable_abstained": 0.10, "abstain_precision": 0.5,
            "latency_total_p50_ms": 10.0}
    same = compare({**base, "latency_total_p50_ms": 99.0}, base)
    assert not regressions(same)  # latency is never gated
    assert {c.metric for c in same} == {"recall@1", "answerable_abstained", "abstain_precision"}
    small = compare({**base, "recall@1": 0.58}, base)  # exactly the tolerance
    assert not regressions(small)
    worse = regressions(compare({**base, "recall@1": 0.57, "answerable_abstained": 0.13}, base))
    assert [c.metric for c in worse] == ["recall@1", "answerable_abstained"]  # lower is better for the latter
    assert regressions(compare({**base, "abstain_precision": None}, base))[0].current is None
    assert not regressions(compare({"recall@1": 0.99}, {}))  # nothing in the baseline: nothing gated


def test_parse_gold_rejects_bad_records() -> None:
    good = json.dumps({"id": "q1", "question": "?", "answerable": False, "gold_doc": None, "gold_quotes": [],
                       "also_docs": [], "answer_keywords": [], "kind": "unanswerable-offtopic"})
    assert parse_gold([good, ""])[0].answerable is False
    with pytest.raises(GoldError, match="line 2: duplicate id q1"):
        parse_gold([good, good])
    with pytest.raises(GoldError, match="line 1: not JSON"):
        parse_gold(["{"])
    with pytest.raises(GoldError, match="missing field"):
        parse_gold(['{"id": "q1"}'])
    with pytest.raises(GoldError, match="needs gold_doc"):
        parse_gold([good.replace('"answerable": false', '"answerable": true')])


def test_quote_spans_finds_every_occurrence() -> None:
    q = GoldQuestion("q", "?", True, "A", ("ab", "zz"), (), ("ab",), "fact")
    assert quote_spans(q, {"A": "ab ab"}) == ((0, 2), (3, 5))
    assert quote_spans(q, {}) == ()


def test_squad_normalisation_and_whole_token_match() -> None:
    from eval.squad import holds_answer, normalize_answer

    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert holds_answer("In 1990, the Broncos won.", ["the Broncos"])
    assert not holds_answer("In 1990 they won.", ["199"])  # whole tokens only
    assert not holds_answer(None, ["x"])


def test_squad_accuracy_by_answer_type() -> None:
    from eval.squad import by_answer_type

    rows = [{"answer_type": t, "answer_in_top_quote": a, "holds": h, "abstained": x}
            for t, a, h, x in [("date", 1.0, 1.0, 0.0), ("date", 0.0, 1.0, 1.0), ("date", 0.0, 0.0, 0.0),
                               ("person", 1.0, 1.0, 0.0)]]
    found = by_answer_type(rows)
    assert list(found) == ["date", "person"]  # most asked first
    assert found["date"] == {"questions": 3.0, "share": 0.75, "answer_in_top_quote": 0.3333,
                             "never_abstaining": 0.6667, "abstained": 0.3333}
    assert found["person"]["answer_in_top_quote"] == 1.0


def test_beir_loader_reads_crlf_qrels(tmp_path: Path) -> None:
    from eval.beir import Chunk, doc_ranking, load_beir

    rows = [{"_id": "d1", "title": "T", "text": "one"}, {"_id": "d2", "title": "", "text": "two"}]
    (tmp_path / "corpus.jsonl.gz").write_bytes(gzip.compress("\n".join(map(json.dumps, rows)).encode()))
    (tmp_path / "queries.jsonl").write_text('{"_id": "q1", "text": "one?"}\n{"_id": "q2", "text": "x"}\n')
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_bytes(b"query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\n")
    data = load_beir(tmp_path)
    assert data.qrels == {"q1": {"d1": 1}} and list(data.queries) == ["q1"] and len(data.corpus) == 2
    chunks = [Chunk("d2", "", "a"), Chunk("d1", "", "b"), Chunk("d2", "", "c")]
    assert doc_ranking([Hit(2, 0.9), Hit(1, 0.9), Hit(0, 0.1)], chunks) == ["d1", "d2"]
    with pytest.raises(EvalError, match="not a BEIR dataset"):
        load_beir(tmp_path / "qrels")


def test_conversations_are_asked_with_the_history_the_system_returned(answerer, texts) -> None:  # type: ignore[no-untyped-def]
    from eval.conversations import DEV, evaluate_set, load_conversations

    conversations = load_conversations(REPO / "eval" / "conversations.jsonl")[:4]
    result = evaluate_set(answerer, DEV, conversations, texts)
    follow = result.with_history
    assert follow["followups_answerable"] and follow["followup_resolved"] and follow["followup_resolved"] > 0.5
    assert result.alone["followup_resolved"] == 0.0  # asked alone, nothing is resolved
    # asked in full (the author's standalone forms), a follow-up needs no history to be answered
    assert result.in_full["followup_resolved"] == 0.0 and result.in_full["followup_answered"] is not None
    assert result.in_full["followup_answered"] > result.alone["followup_answered"]
    assert follow["followup_answered"] is not None and result.alone["followup_answered"] is not None
    assert follow["followup_answered"] >= result.alone["followup_answered"]
    assert follow["verbatim_rate"] == 1.0 and not result.verbatim_failures


def test_parse_conversations_rejects_bad_records() -> None:
    from eval.conversations import parse_conversations

    turn = {"id": "v1.1", "question": "q?", "answerable": False, "gold_doc": None, "gold_quotes": [],
            "also_docs": [], "answer_keywords": [], "kind": "fact", "followup": False, "standalone": "q?"}
    assert parse_conversations([json.dumps({"id": "v1", "turns": [turn]})], "t")[0].turns[0].standalone == "q?"
    with pytest.raises(GoldError, match="opening question cannot be a follow-up"):
        parse_conversations([json.dumps({"id": "v1", "turns": [{**turn, "followup": True}]})], "t")
    with pytest.raises(GoldError, match="set standalone to the question"):
        parse_conversations([json.dumps({"id": "v1", "turns": [{**turn, "standalone": "q in full?"}]})], "t")
    with pytest.raises(GoldError, match="followup must be true or false"):
        parse_conversations([json.dumps({"id": "v1", "turns": [{**turn, "followup": "yes"}]})], "t")
    with pytest.raises(GoldError, match="duplicate id v1"):
        parse_conversations([json.dumps({"id": "v1", "turns": [turn]})] * 2, "t")
