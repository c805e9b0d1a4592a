"""`python -m eval feedback`: the readers' feedback (VERBATIM_FEEDBACK_PATH, written by POST /api/feedback)
turned into draft gold items for a reviewer, in a drafts file of their own, never the gold set.

A draft has the fields of eval/gold.jsonl plus `review`, what the reviewer must do before moving it into
a gold set. A question marked "wrong quote" (by anyone) is flagged: its `answerable` is null, so no gold
loader accepts it until the reviewer writes the right quote or marks it unanswerable, and `review`
records what was wrongly quoted and the readers' comments. A question only ever marked "helpful" gets
the quotes it was shown as its gold quotes; the reviewer checks them and adds `answer_keywords`.
The same question asked again (case, spaces and the final "?" aside) is one draft, its votes summed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval import EvalError
from eval.gold import load_gold

VERDICTS = ("helpful", "wrong_quote")


@dataclass(frozen=True)
class Feedback:
    """One stored line: a verdict on an answer and the quotes it showed."""

    line: int
    verdict: str
    question: str  # the standalone question answered (a follow-up resolved with its history)
    asked: str  # the question as the reader typed it
    quotes: tuple[dict[str, Any], ...]  # {doc_id, start, end, text}
    comment: str | None
    index: dict[str, Any]


@dataclass
class Summary:
    read: int = 0
    skipped: list[str] = field(default_factory=list)  # "line 4: not JSON (...)"
    merged: int = 0  # verdicts that joined an earlier draft of the same question
    known: int = 0  # questions already in a gold set
    drafted: int = 0
    flagged: int = 0  # of the drafted: a wrong quote reported


def key(question: str) -> str:
    """What makes two questions the same one: case, runs of spaces and the final punctuation aside."""
    return re.sub(r"\s+", " ", question).strip().rstrip("?!. ").casefold()


def _quote(raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    doc, start, end, text = raw.get("doc_id"), raw.get("start"), raw.get("end"), raw.get("text")
    if not (isinstance(doc, str) and isinstance(start, int) and isinstance(end, int) and isinstance(text, str)
            and text and end - start == len(text)):
        return None
    return {"doc_id": doc, "start": start, "end": end, "text": text}


def parse_line(raw: object, number: int) -> Feedback:
    """One stored object as Feedback; ValueError says what is wrong with it."""
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    verdict = raw.get("verdict")
    if verdict not in VERDICTS:
        raise ValueError(f"verdict is {verdict!r}, not one of {', '.join(VERDICTS)}")
    asked, resolved = raw.get("question"), raw.get("resolved_question", raw.get("question"))
    if not (isinstance(asked, str) and asked.strip() and isinstance(resolved, str) and resolved.strip()):
        raise ValueError("no question")
    quotes = raw.get("quotes")
    parsed = [_quote(q) for q in quotes] if isinstance(quotes, list) else []
    if not parsed or any(q is None for q in parsed):
        raise ValueError("quotes must be a list of {doc_id, start, end, text}")
    comment = raw.get("comment")
    index = raw.get("index")
    return Feedback(number, str(verdict), resolved.strip(), asked.strip(), tuple(q for q in parsed if q),
                    (comment.strip() or None) if isinstance(comment, str) else None,
                    index if isinstance(index, dict) else {})


def read_feedback(lines: Iterable[str], summary: Summary) -> list[Feedback]:
    """The well-formed lines; each other one is skipped and named in `summary.skipped`."""
    found = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        summary.read += 1
        try:
            found.append(parse_line(json.loads(line), number))
        except json.JSONDecodeError as exc:
            summary.skipped.append(f"line {number}: not JSON ({exc.msg})")
        except ValueError as exc:
            summary.skipped.append(f"line {number}: {exc}")
    return found


def _unique(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def draft(group: Sequence[Feedback]) -> dict[str, Any]:
    """The draft gold item for one question's verdicts (pure)."""
    first = group[0]
    wrong = [f for f in group if f.verdict == "wrong_quote"]
    helpful = [f for f in group if f.verdict == "helpful"]
    review: dict[str, Any] = {
        "votes": {"helpful": len(helpful), "wrong_quote": len(wrong)},
        "asked": _unique(f.asked for f in group),
        "comments": _unique(f.comment for f in group if f.comment),
        "feedback_lines": [f.line for f in group],
        "indexes": _unique(f.index for f in group if f.index),
    }
    item: dict[str, Any] = {"id": "fb-" + hashlib.sha256(key(first.question).encode()).hexdigest()[:10],
                            "question": first.question}
    if wrong:
        review["status"] = "flagged"
        review["todo"] = ("a reader said the quote is wrong: write the right gold_doc, gold_quotes and "
                          "answer_keywords and set answerable to true, or set answerable to false if the articles "
                          "do not answer; then drop `review` and move the item into a gold set")
        review["wrong_quotes"] = _unique(q for f in wrong for q in f.quotes)
        if helpful:
            review["helpful_quotes"] = _unique(q for f in helpful for q in f.quotes)
        item.update(answerable=None, gold_doc=None, gold_quotes=[], also_docs=[], answer_keywords=[])
    else:
        quotes = _unique(q for f in helpful for q in f.quotes)
        doc = quotes[0]["doc_id"]  # the best quote's article: every gold quote must be verbatim in it
        review["status"] = "check"
        review["todo"] = ("readers found these quotes helpful: check that they answer the question, add "
                          "answer_keywords (words a right answer contains), then drop `review` and move the item "
                          "into a gold set")
        item.update(answerable=True, gold_doc=doc,
                    gold_quotes=_unique(q["text"] for q in quotes if q["doc_id"] == doc),
                    also_docs=_unique(q["doc_id"] for q in quotes if q["doc_id"] != doc), answer_keywords=[])
    item.update(kind="feedback", review=review)
    return item


def drafts(feedback: Sequence[Feedback], known: Iterable[str], summary: Summary) -> list[dict[str, Any]]:
    """One draft per question not already in a gold set (`known`: their questions), in the order first
    seen; `summary` counts what was merged, known and flagged (pure but for the summary)."""
    known_keys = {key(q) for q in known}
    groups: dict[str, list[Feedback]] = {}
    for f in feedback:
        k = key(f.question)
        if k in known_keys:
            summary.known += 1
            continue
        if k in groups:
            summary.merged += 1
        groups.setdefault(k, []).append(f)
    items = [draft(group) for group in groups.values()]
    summary.drafted = len(items)
    summary.flagged = sum(1 for item in items if item["review"]["status"] == "flagged")
    return items


def write_atomically(path: Path, items: Sequence[dict[str, Any]]) -> None:
    """The drafts file replaced whole: a reviewer never reads half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def warn(message: str) -> None:
    print(message, file=sys.stderr)


def main(source: Path, out: Path, gold_paths: Sequence[Path], say: Any = print, warn: Any = warn) -> int:
    protected = {p.resolve() for p in gold_paths}
    if out.resolve() in protected:
        raise EvalError(f"{out} is a gold set: drafts go to a file of their own (--out), and into a gold set "
                        "only after review")
    try:
        text = source.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise EvalError(f"no feedback at {source} yet: readers' verdicts are appended there by the page's "
                        "Helpful / Wrong quote buttons (set VERBATIM_FEEDBACK_PATH, or pass --feedback FILE)") from None
    except OSError as exc:
        raise EvalError(f"cannot read the feedback file {source}: {exc.strerror or exc}") from exc
    summary = Summary()
    feedback = read_feedback(text.splitlines(), summary)
    for problem in summary.skipped:
        warn(f"warning: {source} {problem}: skipped")
    known = [q.question for path in gold_paths if path.is_file() for q in load_gold(path)]
    items = drafts(feedback, known, summary)
    write_atomically(out, items)
    say(f"Read {summary.read} feedback lines from {source}: {len(feedback)} verdicts, {len(summary.skipped)} "
        f"skipped as malformed.")
    say(f"Drafted {summary.drafted} items into {out}: {summary.flagged} flagged (a wrong quote reported), "
        f"{summary.drafted - summary.flagged} to check (found helpful); {summary.merged} verdicts merged into "
        f"the draft of the same question, {summary.known} skipped as already in the gold set.")
    return 0
