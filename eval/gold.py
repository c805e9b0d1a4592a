"""The gold questions (eval/gold.jsonl) as frozen records, validated, with their quotes located.

Relevance survives re-chunking: a gold answer is "this article, this span of its text", never a
passage id, so the same labels score any index built from the same articles.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval import EvalError

FIELDS = ("id", "question", "answerable", "gold_doc", "gold_quotes", "also_docs", "answer_keywords", "kind")


class GoldError(EvalError):
    pass


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answerable: bool
    gold_doc: str | None
    gold_quotes: tuple[str, ...]  # verbatim substrings of gold_doc's text; any one is a right answer
    also_docs: tuple[str, ...]  # other articles that answer too (no spans: judged by document)
    answer_keywords: tuple[str, ...]  # a right answer contains one of these, case-insensitively
    kind: str

    @property
    def relevant_docs(self) -> frozenset[str]:
        return frozenset(([self.gold_doc] if self.gold_doc else []) + list(self.also_docs))


def _strings(value: object, name: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
        raise GoldError(f"{where}: {name} must be a list of non-empty strings")
    return tuple(value)


def parse_record(raw: object, where: str) -> GoldQuestion:
    """One JSON object as a GoldQuestion; GoldError says which field is wrong and where."""
    if not isinstance(raw, dict):
        raise GoldError(f"{where}: expected a JSON object")
    missing = [f for f in FIELDS if f not in raw]
    if missing:
        raise GoldError(f"{where}: missing field(s) {', '.join(missing)}")
    if not isinstance(raw["id"], str) or not raw["id"].strip():
        raise GoldError(f"{where}: id must be a non-empty string")
    if not isinstance(raw["question"], str) or not raw["question"].strip():
        raise GoldError(f"{where}: question must be a non-empty string")
    if not isinstance(raw["answerable"], bool):
        raise GoldError(f"{where}: answerable must be true or false")
    if raw["gold_doc"] is not None and not isinstance(raw["gold_doc"], str):
        raise GoldError(f"{where}: gold_doc must be a string or null")
    q = GoldQuestion(
        id=raw["id"], question=raw["question"], answerable=raw["answerable"], gold_doc=raw["gold_doc"],
        gold_quotes=_strings(raw["gold_quotes"], "gold_quotes", where),
        also_docs=_strings(raw["also_docs"], "also_docs", where),
        answer_keywords=_strings(raw["answer_keywords"], "answer_keywords", where),
        kind=str(raw["kind"]),
    )
    if q.answerable and not (q.gold_doc and q.gold_quotes and q.answer_keywords):
        raise GoldError(f"{where} ({q.id}): an answerable question needs gold_doc, gold_quotes and "
                        "answer_keywords")
    if not q.answerable and (q.gold_doc or q.gold_quotes or q.also_docs or q.answer_keywords):
        raise GoldError(f"{where} ({q.id}): an unanswerable question has no gold_doc, quotes, docs, "
                        "keywords")
    return q


def json_lines(lines: Iterable[str], source: str) -> Iterator[tuple[str, Any]]:
    """Each non-blank line parsed, with where it is ("gold line 7"); GoldError for one that is not JSON."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source} line {number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldError(f"{where}: not JSON ({exc.msg})") from exc


def parse_gold(lines: Iterable[str], source: str = "gold") -> list[GoldQuestion]:
    """Records from JSON lines (blank lines ignored); ids must be unique."""
    found: list[GoldQuestion] = []
    seen: set[str] = set()
    for where, raw in json_lines(lines, source):
        q = parse_record(raw, where)
        if q.id in seen:
            raise GoldError(f"{where}: duplicate id {q.id}")
        seen.add(q.id)
        found.append(q)
    if not found:
        raise GoldError(f"{source}: no gold questions")
    return found


def load_gold(path: Path) -> list[GoldQuestion]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GoldError(f"cannot read the gold file {path}: {exc.strerror or exc}") from exc
    return parse_gold(text.splitlines(), source=str(path))


def check_against(gold: Iterable[GoldQuestion], texts: Mapping[str, str]) -> None:
    """Every referenced article exists and every gold quote is verbatim in its article."""
    for q in gold:
        for doc in q.relevant_docs:
            if doc not in texts:
                raise GoldError(f"{q.id}: article {doc} is not in the corpus; evaluate the seed articles")
        for quote in q.gold_quotes:
            if q.gold_doc is not None and quote not in texts[q.gold_doc]:
                raise GoldError(f"{q.id}: gold quote is not verbatim in {q.gold_doc}: {quote[:60]!r}")


def quote_spans(q: GoldQuestion, texts: Mapping[str, str]) -> tuple[tuple[int, int], ...]:
    """Every occurrence of every gold quote in gold_doc's text, as (start, end), in text order."""
    if q.gold_doc is None or q.gold_doc not in texts:
        return ()
    text = texts[q.gold_doc]
    spans: set[tuple[int, int]] = set()
    for quote in q.gold_quotes:
        at = text.find(quote)
        while at >= 0:
            spans.add((at, at + len(quote)))
            at = text.find(quote, at + 1)
    return tuple(sorted(spans))
