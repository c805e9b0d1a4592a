"""The answering phrase inside an answer sentence: the date, sum, number or name that answers, so the
page can emphasise it. Offsets are into the sentence; the caller adds the sentence's start.

The phrase is the first stretch of the wanted kind that the question does not already say ("When did
Lavrov call for the corridor?" -> "August 2023"). No phrase when the question wants no particular kind
(what, why, how): then the whole answering sentence is the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.annotate import Entity
from index.text import fold
from server.facts import DATE, RELATIVE
from server.qtype import NUMBER_WORDS, UNIT, YEAR, Want, unasked

__all__ = ["answer_phrase", "entity_phrase"]

CURRENCY = r"(?:[$€£¥₽]|\\\$)"  # "\$" is Markdown's escaped dollar
SCALE = r"(?:thousand|million|billion|trillion|bn|mn|tn)"
MONEY = re.compile(
    rf"{CURRENCY}\s?\d[\d,.]*(?:\s*{SCALE})?"
    rf"|\b\d[\d,.]*(?:\s*{SCALE})?\s+(?:dollars?|euros?|pounds?|rubles?|roubles?|rials?|yuan)\b",
    re.IGNORECASE,
)
QUANTITY = re.compile(rf"(?<![\w.-])(?:\d[\d,.]*(?:\s*(?:%|percent\b|per cent\b))?|(?:{NUMBER_WORDS})\b)"
                      rf"(?:[\s-]+{SCALE}\b)?", re.IGNORECASE)
SHARE_Q = re.compile(r"\b(percent|percentage|share|proportion|fraction)\b", re.IGNORECASE)
SHARE_A = re.compile(r"%|percent|per cent", re.IGNORECASE)
AGE = re.compile(r"\b\d+[- ]years?[- ]old\b|\baged? \d+\b", re.IGNORECASE)
NAME = re.compile(r"(?:[A-Z][\w’'.-]*)(?:\s+(?:(?:of|the|de|al|bin|von|van)\s+)?[A-Z][\w’'.-]*)*")
WORD = re.compile(r"\S+")


def _unsaid(match: re.Match[str], question: str) -> bool:
    """The phrase is new to the question: "2023" does not answer "What happened in 2023?"."""
    return match.group(0).strip().lower() not in question.lower()


def _with_unit(sentence: str, match: re.Match[str], want: Want) -> tuple[int, int]:
    """A quantity with the word after it when that is its unit or the counted noun ("three months")."""
    after = WORD.match(sentence, match.end() + 1) if match.end() < len(sentence) and \
        sentence[match.end()] == " " else None
    if after:
        word = after.group(0).strip(".,;:!?()\"'“”’")
        heads = want.heads or ((want.head,) if want.head else ())
        if UNIT.match(word) or any(word.lower().rstrip("s") == h.lower().rstrip("s") for h in heads):
            return match.start(), after.start() + len(word)
    return match.span()


def entity_phrase(text: str, entities: Sequence[Entity], labels: frozenset[str], question: str
                  ) -> tuple[int, int] | None:
    """(start, end) in the article `text` of the first entity (spaCy's, found at build time) of the
    labels the question asks for that the question does not already name ("When ...?" -> its DATE); of
    several, the one nearest a date naming a year the question asks about ("... fell from $4.9 billion in
    2022 to $4 billion in 2023" answers "What was trade worth in 2023?" with the second)."""
    asked = fold(question)
    found = [e for e in entities if e.label in labels and fold(text[e.start:e.end]) not in asked]
    years = set(YEAR.findall(question))
    anchors = [e for e in entities if e.label == "DATE" and years & set(YEAR.findall(text[e.start:e.end]))]
    if len(found) > 1 and anchors:
        found.sort(key=lambda e: min(max(a.start - e.end, e.start - a.end, 0) for a in anchors))  # stable
    return (found[0].start, found[0].end) if found else None


def answer_phrase(sentence: str, want: Want | None, question: str) -> tuple[int, int] | None:
    """(start, end) in `sentence` of the phrase that answers, or None when the whole sentence does."""
    if want is None:
        return None
    if want.kind == "date":
        found = [m for m in list(DATE.finditer(sentence)) + list(RELATIVE.finditer(sentence)) if _unsaid(m, question)]
        return min((m.span() for m in found), default=None)
    if want.kind == "money":
        return next((m.span() for m in MONEY.finditer(sentence) if _unsaid(m, question)), None)
    if want.kind == "age":
        return next((m.span() for m in AGE.finditer(sentence)), None)
    if want.kind in ("count", "measure", "number"):
        found = [m for m in QUANTITY.finditer(sentence)
                 if _unsaid(m, question) and not (want.kind != "number" and DATE.fullmatch(m.group(0)))]
        if SHARE_Q.search(question):  # "by what percentage": the share, not the sum beside it
            found = [m for m in found if SHARE_A.search(m.group(0))] or found
        return _with_unit(sentence, found[0], want) if found else None
    first = WORD.match(sentence)
    skip = first.end() if first else 0  # the first word is capitalised anyway
    for m in NAME.finditer(sentence, skip):
        words = m.group(0).split()
        if (want.kind != "person" or len(words) >= 2) and any(unasked(w, question) for w in words):
            return m.start(), m.start() + len(m.group(0).rstrip(".’'"))
    return None
