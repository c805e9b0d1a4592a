"""The conversation sets (eval/conversations.jsonl, eval/conversations_check.jsonl): conversations of 2-3
turns, each turn a gold question plus `followup` (it leans on the turns before) and `standalone` (the
question in full). Each turn is asked as a client would: with the history the system itself returned
for the earlier turns. The same follow-ups asked alone, without history, give the "before" figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from eval.gold import GoldError, GoldQuestion, json_lines, parse_record
from eval.metrics import mean, ratio
from eval.run import Row, score_row
from server.answerer import Answerer
from server.records import Exchange


@dataclass(frozen=True)
class Turn:
    gold: GoldQuestion
    followup: bool
    standalone: str


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class TurnRow:
    """One turn's scored answer, what it was resolved to, and where it stands in its conversation."""

    conversation: str
    position: int  # 1 for the opening question
    followup: bool
    standalone: str
    resolved_question: str
    history_used: bool
    unresolved: str | None
    row: Row


def parse_conversations(lines: Sequence[str], source: str) -> list[Conversation]:
    """Conversations from JSON lines; GoldError says which line and field is wrong."""
    found: list[Conversation] = []
    seen: set[str] = set()
    for where, raw in json_lines(lines, source):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("turns"), list):
            raise GoldError(f"{where}: expected {{\"id\": str, \"turns\": [...]}}")
        if raw["id"] in seen:
            raise GoldError(f"{where}: duplicate id {raw['id']}")
        seen.add(raw["id"])
        turns = []
        for n, t in enumerate(raw["turns"], start=1):
            q = parse_record(t, f"{where} turn {n}")
            if not isinstance(t.get("followup"), bool) or not isinstance(t.get("standalone"), str) \
                    or not t["standalone"].strip():
                raise GoldError(f"{where} turn {n}: followup must be true or false and standalone a question")
            if n == 1 and t["followup"]:
                raise GoldError(f"{where} turn 1: the opening question cannot be a follow-up")
            if n == 1 and t["standalone"].strip() != q.question.strip():
                raise GoldError(f"{where} turn 1: an opening question is its own standalone form; "
                                "set standalone to the question")
            turns.append(Turn(q, t["followup"], t["standalone"]))
        if not turns:
            raise GoldError(f"{where}: a conversation needs turns")
        found.append(Conversation(raw["id"], tuple(turns)))
    if not found:
        raise GoldError(f"{source}: no conversations")
    return found


def load_conversations(path: Path) -> list[Conversation]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GoldError(f"cannot read the conversation file {path}: {exc.strerror or exc}") from exc
    return parse_conversations(text.splitlines(), str(path))


def ask_conversations(answerer: Answerer, conversations: Sequence[Conversation], texts: Mapping[str, str],
                      with_history: bool = True, top_k: int = 10) -> list[TurnRow]:
    """Every turn of every conversation, asked with the history the system returned for the turns
    before it (or, `with_history=False`, each alone as it is)."""
    sentences = frozenset((s.doc_id, s.start, s.end) for s in answerer.index.sentences)
    passages: dict[str, list[tuple[int, int]]] = {}
    for p in answerer.index.passages:
        passages.setdefault(p.doc_id, []).append((p.start, p.end))
    rows = []
    for conv in conversations:
        history: list[Exchange] = []
        for n, turn in enumerate(conv.turns, start=1):
            answer = answerer.ask(turn.gold.question, top_k, history=tuple(history) if with_history else ())
            rows.append(TurnRow(conv.id, n, turn.followup, turn.standalone, answer.resolved_question,
                                answer.history_used, answer.unresolved,
                                score_row(turn.gold, answer, texts, sentences, passages)))
            history.append(Exchange(turn.gold.question, tuple((q.doc_id, q.start, q.end) for q in answer.quotes)))
    return rows


def in_full(conversations: Sequence[Conversation]) -> list[Conversation]:
    """The same conversations with every turn in its standalone form: asked without history, what the
    answerer gives a follow-up rewritten as its author would, with none of what the history adds besides
    (the last answer's neighbourhood, the typed check), so it tells the rewrite's share of an error from
    the answerer's."""
    return [Conversation(c.id, tuple(Turn(replace(t.gold, question=t.standalone), t.followup, t.standalone)
                                     for t in c.turns)) for c in conversations]


def keyword(r: TurnRow) -> float:
    return r.row.scores.get("answer_keyword", 0.0)


def summarise(rows: Sequence[TurnRow]) -> dict[str, float | None]:
    """followup_answered: answerable follow-ups whose answer holds a keyword; followup_abstained:
    unanswerable follow-ups abstained on; switch_kept_apart: later turns that are not follow-ups
    answered without the history; switch_answered / first_answered: those, and the opening questions,
    answered right; verbatim over every quote."""
    follow_yes = [r for r in rows if r.followup and r.row.answerable]
    follow_no = [r for r in rows if r.followup and not r.row.answerable]
    switches = [r for r in rows if not r.followup and r.position > 1]
    first = [r for r in rows if r.position == 1]
    checked = sum(r.row.verbatim_checked for r in rows)
    failed = sum(len(r.row.verbatim_failures) for r in rows)
    found: dict[str, float | None] = {
        "followup_answered": mean(keyword(r) for r in follow_yes) if follow_yes else None,
        "followup_abstained": ratio(sum(r.row.abstained for r in follow_no), len(follow_no)),
        "followup_resolved": ratio(sum(r.history_used for r in rows if r.followup), len(follow_yes + follow_no)),
        "switch_kept_apart": ratio(sum(not r.history_used for r in switches), len(switches)),
        "switch_answered": mean(keyword(r) if r.row.answerable else float(r.row.abstained) for r in switches)
        if switches else None,
        "first_answered": mean(keyword(r) if r.row.answerable else float(r.row.abstained) for r in first)
        if first else None,
        "verbatim_rate": ratio(checked - failed, checked) if checked else 1.0,
        "followups_answerable": float(len(follow_yes)),
        "followups_unanswerable": float(len(follow_no)),
        "turns": float(len(rows)),
    }
    return {k: (round(v, 4) if v is not None else None) for k, v in found.items()}


def failures(rows: Sequence[TurnRow]) -> list[str]:
    """The follow-ups answered wrong, one line each (for the development set only)."""
    out = []
    for r in rows:
        wrong = (r.row.answerable and not keyword(r)) or (not r.row.answerable and not r.row.abstained)
        if wrong and (r.followup or r.position > 1):
            got = "abstained" if r.row.abstained else (r.row.answer or "")[:90]
            out.append(f"{r.row.id} {'follow-up' if r.followup else 'switch'}: {r.row.question!r} -> "
                       f"{r.resolved_question!r}: {got}")
    return out


DEV = "conversations"  # eval/conversations.jsonl: looked at and tuned on
CHECK = "conversations check (held out)"  # eval/conversations_check.jsonl: only run, never tuned on
COLUMNS = ("followup_answered", "followup_abstained", "followup_resolved", "switch_kept_apart", "switch_answered",
           "first_answered", "verbatim_rate")


@dataclass(frozen=True)
class SetResult:
    name: str
    with_history: dict[str, float | None]
    alone: dict[str, float | None]  # the same turns, each asked without history: the "before" figure
    in_full: dict[str, float | None]  # each turn asked in its standalone form, without history
    failures: list[str]
    verbatim_failures: list[str]


def evaluate_set(answerer: Answerer, name: str, conversations: Sequence[Conversation],
                 texts: Mapping[str, str]) -> SetResult:
    rows = ask_conversations(answerer, conversations, texts)
    alone = ask_conversations(answerer, conversations, texts, with_history=False)
    full = ask_conversations(answerer, in_full(conversations), texts, with_history=False)
    broken = [f"{name} / {r.row.id}: {f}" for r in rows + alone + full for f in r.row.verbatim_failures]
    listed = failures(rows) if name == DEV else []  # the held-out set's failures stay unseen
    return SetResult(name, summarise(rows), summarise(alone), summarise(full), listed, broken)


def table_rows(results: Sequence[SetResult]) -> list[list[str]]:
    def cell(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"
    out = []
    for r in results:
        out.append([f"{r.name}, with history", *(cell(r.with_history.get(c)) for c in COLUMNS)])
        out.append([f"{r.name}, each turn alone", *(cell(r.alone.get(c)) for c in COLUMNS)])
        out.append([f"{r.name}, asked in full, alone", *(cell(r.in_full.get(c)) for c in COLUMNS)])
    return out
