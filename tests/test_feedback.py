"""Feedback on answers: POST /api/feedback through the real server on the seed index, the feedback file
it appends to (contents, concurrent appends, a full disk, a line cut short), and `python -m eval feedback`
turning a real feedback file (with a malformed line) into draft gold items."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from eval.feedback import main as drafts_main
from eval.gold import check_against, parse_record
from index.settings import Settings
from server.answerer import Answerer
from server.app import create_app
from server.feedback import FeedbackLog, FeedbackNotStored, index_stamp

pytest_plugins = ["live_server"]

REPO = Path(__file__).resolve().parents[1]
LAVROV = "What did Lavrov say about the agreement?"


def answer(http: httpx.Client, question: str, **extra: Any) -> dict[str, Any]:
    response = http.post("/ask", json={"question": question, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["quotes"], body
    return body


def verdict(body: dict[str, Any], kind: str, comment: str | None = None) -> dict[str, Any]:
    """The feedback the page sends for an answer: whole quotes as received are fine."""
    return {"verdict": kind, "question": body["question"], "resolved_question": body["resolved_question"],
            "quotes": body["quotes"], "comment": comment}


def new_lines(path: Path, before: int) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[before:]]


def count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def test_feedback_is_stored_with_what_was_shown_and_which_index(http: httpx.Client, seed_settings: Settings,
                                                                 answerer: Answerer) -> None:
    path = seed_settings.feedback_path
    before = count(path)
    first = answer(http, LAVROV)
    sent = http.post("/api/feedback", json=verdict(first, "helpful"))
    assert sent.status_code == 201, sent.text
    follow = answer(http, "Why not?", history=[{"question": "Has Iran received the Su-35 jets?",
                                                "quotes": answer(http, "Has Iran received the Su-35 jets?")["quotes"]}])
    assert follow["history_used"]
    sent_wrong = http.post("/api/feedback", json=verdict(follow, "wrong_quote", "  It gives no reason.  "))
    assert sent_wrong.status_code == 201, sent_wrong.text
    helpful, wrong = new_lines(path, before)
    assert helpful["verdict"] == "helpful" and helpful["question"] == LAVROV and helpful["comment"] is None
    assert sent.json() == {"verdict": "helpful", "at": helpful["at"]}
    at = datetime.fromisoformat(helpful["at"].replace("Z", "+00:00"))
    assert at.tzinfo == UTC and abs((datetime.now(UTC) - at).total_seconds()) < 600
    assert helpful["index"] == index_stamp(answerer.index.manifest)
    assert helpful["index"]["built_at"] == answerer.index.manifest.built_at
    for line, body in ((helpful, first), (wrong, follow)):
        assert [(q["doc_id"], q["start"], q["end"]) for q in line["quotes"]] == [
            (q["doc_id"], q["start"], q["end"]) for q in body["quotes"]]
        for q in line["quotes"]:  # the text shown, exactly the article's
            assert q["text"] == answerer.index.articles[q["doc_id"]].text[q["start"]:q["end"]]
    assert wrong["question"] == "Why not?" and wrong["resolved_question"] == follow["resolved_question"] != "Why not?"
    assert wrong["comment"] == "It gives no reason."


QUOTE = {"doc_id": "000_949793db03e3c7b8", "start": 2615, "end": 2727}
GOOD = {"verdict": "helpful", "question": LAVROV, "quotes": [QUOTE]}


@pytest.mark.parametrize(("change", "needle"), [
    ({"verdict": "great"}, "verdict: Input should be 'helpful' or 'wrong_quote'"),
    ({"verdict": None}, "verdict"),
    ({"question": "   "}, "question is empty"),
    ({"question": "x" * 1001}, "limit is 1000"),
    ({"resolved_question": 5}, "resolved_question"),
    ({"quotes": []}, "quotes: List should have at least 1 item"),
    ({"quotes": [QUOTE] * 11}, "quotes: List should have at most 10"),
    ({"quotes": [{**QUOTE, "doc_id": "no-such-article"}]}, "quotes[0]: no article has the id 'no-such-article'"),
    ({"quotes": [{**QUOTE, "end": 10**9}]}, "quotes[0]: the span 2615-1000000000 is not inside"),
    ({"quotes": [{**QUOTE, "start": 30, "end": 30}]}, "start before end"),
    ({"quotes": [{**QUOTE, "start": "2615"}]}, "must be an integer, not str"),
    ({"comment": "y" * 501}, "comment is 501 characters long; keep it to 500"),
    ({"comment": ["a"]}, "comment: Input should be a valid string"),
    ({"unknown": 1}, "unknown: unknown field (the fields are verdict, question"),
])
def test_bad_feedback_is_a_422_that_says_what_to_fix(http: httpx.Client, seed_settings: Settings,
                                                      change: dict[str, Any], needle: str) -> None:
    before = count(seed_settings.feedback_path)
    response = http.post("/api/feedback", json={**GOOD, **change})
    assert response.status_code == 422, response.text
    assert needle.lower() in response.json()["error"].lower(), response.json()["error"]
    assert count(seed_settings.feedback_path) == before  # nothing stored


def test_a_body_that_is_not_feedback_says_what_to_send(http: httpx.Client) -> None:
    response = http.post("/api/feedback", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert 'JSON object like {"verdict": "helpful"' in response.json()["error"]
    lone = http.post("/api/feedback", content=json.dumps({**GOOD, "comment": "\ud800"}),
                     headers={"content-type": "application/json"})
    assert lone.status_code == 422 and "not valid Unicode" in lone.json()["error"]


def test_concurrent_feedback_loses_and_interleaves_nothing(http: httpx.Client, live_server: str,
                                                           seed_settings: Settings) -> None:
    path = seed_settings.feedback_path
    before = count(path)
    clients, each = 8, 12
    failures: list[str] = []

    def post(n: int) -> None:
        with httpx.Client(base_url=live_server, timeout=60) as client:
            for i in range(each):
                # long comments make a torn or interleaved write visible
                body = {**GOOD, "comment": f"client {n} post {i} " + "é" * 400}
                r = client.post("/api/feedback", json=body)
                if r.status_code != 201:
                    failures.append(r.text)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    lines = new_lines(path, before)  # each one whole JSON, or json.loads fails
    assert sorted(line["comment"].split(" é")[0] for line in lines) == sorted(
        f"client {n} post {i}" for n in range(clients) for i in range(each))
    assert path.read_bytes().endswith(b"\n")


def test_a_full_disk_or_a_folder_that_cannot_be_written_is_a_503(seed_settings: Settings, answerer: Answerer,
                                                                   tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    targets = [blocker / "feedback.jsonl"]
    if Path("/dev/full").exists():
        targets.append(Path("/dev/full"))  # every write: ENOSPC
    for target in targets:
        settings = seed_settings.model_copy(update={"feedback_path": target})
        with TestClient(create_app(settings, answerer=answerer), base_url="http://localhost") as client:
            response = client.post("/api/feedback", json=GOOD)
        assert response.status_code == 503, response.text
        message = response.json()["error"]
        assert f"Feedback cannot be stored in {target}" in message and "VERBATIM_FEEDBACK_PATH" in message


def test_a_failed_write_leaves_what_was_stored_and_a_cut_line_is_closed(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "var" / "feedback.jsonl"
    log = FeedbackLog(path)
    log.append({"n": 1})
    log.append({"n": 2})
    stored = path.read_bytes()
    real_write = os.write

    def half_then_full(fd: int, data: Any) -> int:  # a disk that fills half-way through the line
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("server.feedback.os.write", half_then_full)
    with pytest.raises(FeedbackNotStored, match="No space left on device"):
        log.append({"n": 3, "text": "x" * 100})
    monkeypatch.undo()
    assert path.read_bytes() == stored
    with path.open("ab") as out:  # a crash in mid-line, as another process might leave it
        out.write(b'{"n": 4, "te')
    log.append({"n": 5})
    assert path.read_text().splitlines() == ['{"n": 1}', '{"n": 2}', '{"n": 4, "te', '{"n": 5}']


def test_drafts_from_a_real_feedback_file(http: httpx.Client, answerer: Answerer, seed_settings: Settings,
                                          tmp_path: Path) -> None:
    path = seed_settings.feedback_path
    before = count(path)
    trade = answer(http, "Why did bilateral trade fall?")
    jets = answer(http, "Has Iran received the Su-35 jets?")
    unseen = answer(http, "When is Pezeshkian visiting Russia?")
    for body in (verdict(trade, "helpful"), verdict(jets, "wrong_quote", "Not about the jets"),
                 # the same question again (other case and spacing): merged into one draft
                 {**verdict(trade, "helpful"), "question": "why did  bilateral trade FALL", "resolved_question": None},
                 verdict(unseen, "helpful"), verdict(unseen, "wrong_quote")):
        assert http.post("/api/feedback", json=body).status_code == 201
    feedback = tmp_path / "feedback.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()[before:]
    feedback.write_text("\n".join(lines[:2] + ['{"verdict": "helpful", "question": "cut sh'] + lines[2:]) + "\n")
    gold = tmp_path / "gold.jsonl"  # the gold set already holds the question about the jets
    gold.write_text(json.dumps({"id": "g1", "question": "Has Iran received the Su-35 jets?", "answerable": False,
                                "gold_doc": None, "gold_quotes": [], "also_docs": [], "answer_keywords": [],
                                "kind": "x"}) + "\n")
    out = tmp_path / "drafts.jsonl"
    said: list[str] = []
    warned: list[str] = []
    assert drafts_main(feedback, out, [gold], say=said.append, warn=warned.append) == 0
    assert warned == [f"warning: {feedback} line 3: not JSON (Unterminated string starting at): skipped"]
    assert said[0] == f"Read 6 feedback lines from {feedback}: 5 verdicts, 1 skipped as malformed."
    assert "Drafted 2 items" in said[1] and "1 flagged" in said[1] and "1 to check" in said[1]
    assert "2 verdicts merged" in said[1] and "1 skipped as already in the gold set" in said[1]
    items = [json.loads(line) for line in out.read_text().splitlines()]
    by_question = {item["question"]: item for item in items}
    helpful = by_question["Why did bilateral trade fall?"]
    assert helpful["review"]["votes"] == {"helpful": 2, "wrong_quote": 0}
    assert helpful["review"]["asked"] == ["Why did bilateral trade fall?", "why did  bilateral trade FALL"]
    assert helpful["gold_doc"] == trade["quotes"][0]["doc_id"]
    assert set(helpful["gold_quotes"]) == {q["text"] for q in trade["quotes"] if q["doc_id"] == helpful["gold_doc"]}
    # once the reviewer adds keywords and drops `review`, it is a gold item whose quotes are verbatim
    reviewed = parse_record({**{k: v for k, v in helpful.items() if k != "review"}, "answer_keywords": ["trade"]},
                            "draft")
    check_against([reviewed], {d: a.text for d, a in answerer.index.articles.items()})
    flagged = by_question["When is Pezeshkian visiting Russia?"]
    assert flagged["answerable"] is None and flagged["gold_quotes"] == []
    assert flagged["review"]["status"] == "flagged" and flagged["review"]["votes"] == {"helpful": 1, "wrong_quote": 1}
    assert [q["text"] for q in flagged["review"]["wrong_quotes"]] == [q["text"] for q in unseen["quotes"]]
    with pytest.raises(Exception, match="answerable must be true or false"):  # unusable until reviewed
        parse_record({k: v for k, v in flagged.items() if k != "review"}, "draft")


def test_the_drafts_command_never_writes_a_gold_set(tmp_path: Path) -> None:
    feedback = tmp_path / "feedback.jsonl"
    feedback.write_text("not json\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "VERBATIM_FEEDBACK_PATH": str(feedback)}
    gold = REPO / "eval" / "gold.jsonl"
    refused = subprocess.run([sys.executable, "-m", "eval", "feedback", "--out", str(gold)], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "is a gold set" in refused.stderr
    out = tmp_path / "drafts.jsonl"
    done = subprocess.run([sys.executable, "-m", "eval", "feedback", "--out", str(out)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "line 1: not JSON" in done.stderr and "Drafted 0 items" in done.stdout
    assert out.read_text() == ""
