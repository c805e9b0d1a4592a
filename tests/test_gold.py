"""Sanity checks for the question sets: eval/gold.jsonl (tuned and calibrated on) and eval/check.jsonl
(written apart; nothing is fitted on it). Stdlib + pytest only."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GOLD_PATH = REPO / "eval" / "gold.jsonl"
CHECK_PATH = REPO / "eval" / "check.jsonl"
# set name -> (file, id prefix, minimum questions, minimum unanswerable, minimum per article as gold_doc)
SETS = {"gold": (GOLD_PATH, "q", 50, 8, 5), "check": (CHECK_PATH, "c", 30, 8, 4)}
ARTICLES_DIR = REPO / "data" / "articles"

FIELDS = {
    "id": str,
    "question": str,
    "answerable": bool,
    "gold_doc": (str, type(None)),
    "gold_quotes": list,
    "also_docs": list,
    "answer_keywords": list,
    "kind": str,
}
KINDS = {
    "fact",
    "paraphrase",
    "number",
    "date",
    "who",
    "which",
    "why",
    "multi",
    "typo",
    "short",
    "chatty",
    "unanswerable-ontopic",
    "unanswerable-offtopic",
}
UNANSWERABLE_KINDS = {"unanswerable-ontopic", "unanswerable-offtopic"}
BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _load_lines(path):
    return path.read_text(encoding="utf-8").splitlines()


def _load_gold(name):
    """The questions of one set, each tagged with the set's name."""
    return [{**json.loads(line), "_set": name} for line in _load_lines(SETS[name][0]) if line.strip()]


def _load_articles():
    return {
        p.stem: p.read_text(encoding="utf-8")
        for p in sorted(ARTICLES_DIR.glob("*.txt"))
    }


GOLD = [q for name, (path, *_) in SETS.items() if path.exists() for q in _load_gold(name)]
ARTICLES = _load_articles() if ARTICLES_DIR.is_dir() else {}
ANSWERABLE = [q for q in GOLD if q.get("answerable") is True]
UNANSWERABLE = [q for q in GOLD if q.get("answerable") is False]


def _ids(items):
    return [str(q.get("id")) for q in items]


def _fields(q):
    return {k: v for k, v in q.items() if k != "_set"}


@pytest.mark.parametrize("name", SETS)
def test_question_files_exist(name):
    assert SETS[name][0].is_file(), f"missing {SETS[name][0]}"


def test_articles_dir_exists():
    assert ARTICLES_DIR.is_dir(), f"missing {ARTICLES_DIR}"
    assert ARTICLES, f"no .txt articles in {ARTICLES_DIR}"


# 1. parsing, fields, types, unique ids, valid kinds ---------------------------


@pytest.mark.parametrize("name", SETS)
def test_every_line_parses_as_json_object(name):
    for n, line in enumerate(_load_lines(SETS[name][0]), 1):
        assert line.strip(), f"line {n} is blank"
        obj = json.loads(line)
        assert isinstance(obj, dict), f"line {n} is not a JSON object"


@pytest.mark.parametrize("q", GOLD, ids=_ids(GOLD))
def test_fields_and_types(q):
    prefix = SETS[q["_set"]][1]
    q = _fields(q)
    assert set(q) == set(FIELDS), f"fields differ: {sorted(set(q) ^ set(FIELDS))}"
    for name, typ in FIELDS.items():
        assert isinstance(q[name], typ), f"{name} has type {type(q[name]).__name__}"
    assert re.fullmatch(rf"{prefix}\d{{3}}", q["id"]), q["id"]
    assert q["question"].strip(), "empty question"
    assert q["kind"] in KINDS, q["kind"]
    for name in ("gold_quotes", "also_docs", "answer_keywords"):
        assert all(isinstance(x, str) and x.strip() for x in q[name]), name
        assert len(set(q[name])) == len(q[name]), f"duplicates in {name}"
    assert len(q["gold_quotes"]) <= 3
    assert len(q["answer_keywords"]) <= 3


def test_ids_unique():
    counts = Counter(q["id"] for q in GOLD)  # the prefixes keep the two sets apart
    dupes = [i for i, c in counts.items() if c > 1]
    assert not dupes, f"duplicate ids: {dupes}"


# 2. gold quotes are verbatim in the gold_doc article -------------------------


@pytest.mark.parametrize("q", ANSWERABLE, ids=_ids(ANSWERABLE))
def test_gold_quotes_verbatim(q):
    assert q["gold_doc"] in ARTICLES, f"unknown gold_doc {q['gold_doc']}"
    text = ARTICLES[q["gold_doc"]]
    for quote in q["gold_quotes"]:
        assert text.find(quote) >= 0, f"quote not in {q['gold_doc']}: {quote!r}"
        assert not BLANK_LINE.search(quote), f"quote spans a blank line: {quote!r}"


@pytest.mark.parametrize("q", GOLD, ids=_ids(GOLD))
def test_docs_exist(q):
    for doc in q["also_docs"]:
        assert doc in ARTICLES, f"unknown also_doc {doc}"
        assert doc != q["gold_doc"], "gold_doc repeated in also_docs"


# 3. keywords are backed by a quote or by an also_docs article ------------------


@pytest.mark.parametrize("q", ANSWERABLE, ids=_ids(ANSWERABLE))
def test_keywords_supported(q):
    quotes = [s.lower() for s in q["gold_quotes"]]
    also_texts = [ARTICLES.get(d, "").lower() for d in q["also_docs"]]
    for kw in q["answer_keywords"]:
        k = kw.lower()
        assert any(k in s for s in quotes) or any(k in t for t in also_texts), (
            f"keyword {kw!r} not found in gold quotes or also_docs"
        )


# 4. answerable vs unanswerable consistency ------------------------------------


@pytest.mark.parametrize("q", GOLD, ids=_ids(GOLD))
def test_answerable_consistency(q):
    if q["answerable"]:
        assert q["kind"] not in UNANSWERABLE_KINDS
        assert q["gold_doc"], "answerable question without gold_doc"
        assert len(q["gold_quotes"]) >= 1
        assert len(q["answer_keywords"]) >= 1
    else:
        assert q["kind"] in UNANSWERABLE_KINDS
        assert q["gold_doc"] is None
        assert q["gold_quotes"] == []
        assert q["answer_keywords"] == []
        assert q["also_docs"] == []


# 5. the mix ----------------------------------------------------------------------


@pytest.mark.parametrize("name", SETS)
def test_minimum_size(name):
    found = [q for q in GOLD if q["_set"] == name]
    assert len(found) >= SETS[name][2], f"only {len(found)} questions in {name}"


@pytest.mark.parametrize("name", SETS)
def test_minimum_unanswerable(name):
    found = [q for q in UNANSWERABLE if q["_set"] == name]
    assert len(found) >= SETS[name][3], f"only {len(found)} unanswerable in {name}"


@pytest.mark.parametrize("name", SETS)
def test_every_article_is_gold_doc_often_enough(name):
    counts = Counter(q["gold_doc"] for q in ANSWERABLE if q["_set"] == name)
    assert ARTICLES, "no articles found"
    for doc in ARTICLES:
        assert counts[doc] >= SETS[name][4], f"{doc} is gold_doc of only {counts[doc]} questions in {name}"


def test_the_sets_ask_different_questions():
    asked = Counter(" ".join(q["question"].lower().split()) for q in GOLD)
    assert not [q for q, n in asked.items() if n > 1]


# 6. the conversation sets ------------------------------------------------------------
# eval/conversations.jsonl (developed on) and eval/conversations_check.jsonl (held out): 2-3 turns each, every
# turn a question record as above plus `followup` and `standalone` (the question in full).

CONVERSATION_SETS = {"conversations": (REPO / "eval" / "conversations.jsonl", 30),
                     "conversations_check": (REPO / "eval" / "conversations_check.jsonl", 20)}
CONVERSATIONS = [(name, json.loads(line)) for name, (path, _) in CONVERSATION_SETS.items() if path.exists()
                 for line in _load_lines(path) if line.strip()]
TURNS = [(name, conv["id"], n, t) for name, conv in CONVERSATIONS for n, t in enumerate(conv["turns"], 1)]


def _turn_ids(items):
    return [t["id"] for *_, t in items]


@pytest.mark.parametrize("name", CONVERSATION_SETS)
def test_conversation_files_exist_and_are_big_enough(name):
    path, minimum = CONVERSATION_SETS[name]
    assert path.is_file(), f"missing {path}"
    assert sum(1 for n, _ in CONVERSATIONS if n == name) >= minimum


@pytest.mark.parametrize("name, conv_id, n, turn", TURNS, ids=_turn_ids(TURNS))
def test_conversation_turns(name, conv_id, n, turn):
    assert set(turn) == set(FIELDS) | {"followup", "standalone"}
    for field_name, typ in FIELDS.items():
        assert isinstance(turn[field_name], typ), field_name
    assert turn["id"] == f"{conv_id}.{n}"
    assert isinstance(turn["followup"], bool) and turn["standalone"].strip()
    if n == 1:
        assert not turn["followup"] and turn["standalone"] == turn["question"]
    elif turn["followup"]:
        assert turn["standalone"] != turn["question"], "a follow-up's standalone form says it in full"
    if turn["answerable"]:
        assert turn["gold_doc"] in ARTICLES and turn["gold_quotes"] and turn["answer_keywords"]
        for quote in turn["gold_quotes"]:
            assert quote in ARTICLES[turn["gold_doc"]], f"quote not in {turn['gold_doc']}: {quote!r}"
        # a follow-up's keyword may sit beside its quote in the article ("Zangezur" for "that corridor")
        docs = [turn["gold_doc"], *turn["also_docs"]]
        texts = [q.lower() for q in turn["gold_quotes"]] + [ARTICLES.get(d, "").lower() for d in docs]
        for kw in turn["answer_keywords"]:
            assert any(kw.lower() in t for t in texts), f"keyword {kw!r} not in its articles"
    else:
        assert turn["gold_doc"] is None and not (turn["gold_quotes"] or turn["answer_keywords"] or turn["also_docs"])
    for doc in turn["also_docs"]:
        assert doc in ARTICLES and doc != turn["gold_doc"]


@pytest.mark.parametrize("name", CONVERSATION_SETS)
def test_conversation_sets_mix_follow_ups_and_topic_switches(name):
    turns = [t for n, _, k, t in TURNS if n == name and k > 1]
    assert len({c["id"] for n, c in CONVERSATIONS if n == name}) == sum(1 for n, _ in CONVERSATIONS if n == name)
    assert sum(t["followup"] and t["answerable"] for t in turns) >= 10
    assert sum(t["followup"] and not t["answerable"] for t in turns) >= 5
    assert sum(not t["followup"] for t in turns) >= 3  # topic switches


def test_the_conversation_sets_ask_different_questions_from_each_other():
    first = {" ".join(t["question"].lower().split()) for n, _, k, t in TURNS if n == "conversations" and k == 1}
    held = {" ".join(t["question"].lower().split()) for n, _, k, t in TURNS if n == "conversations_check" and k == 1}
    assert not first & held
