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

__all__ = ["answer_phrase", "entity_phrase", "unasked_entities"]

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
WORDS = re.compile(r"[^\W_]+")  # "10-year": 10, year


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


# Labels the answer types hold as stand-ins ("who" may be answered by an organisation or a people, "how
# much" by a bare number): beside an entity of a label that names the kind itself, they come second.
STAND_INS = frozenset({"ORG", "NORP", "CARDINAL"})
DATES = frozenset({"DATE", "TIME"})


def unasked_entities(text: str, entities: Sequence[Entity], labels: frozenset[str], question: str) -> list[Entity]:
    """The entities (spaCy's, found at build time) of the labels the question asks for that it does not
    already name, in the article `text`."""
    asked = fold(question)
    return [e for e in entities if e.label in labels and fold(text[e.start:e.end]) not in asked]


def entity_phrase(text: str, entities: Sequence[Entity], labels: frozenset[str], question: str,
                  head: str | None = None) -> tuple[int, int] | None:
    """(start, end) in the article `text` of the entity that answers: the one entity of the labels asked
    for that the question does not already name ("When ...?" -> its DATE), or, of several, the one the
    evidence picks: it names the head noun asked about ("which ocean ...?" -> "the Indian Ocean"; "what
    year" -> a date with a year), else its label names the kind itself where the others' stand in for it
    (a PERSON before an ORG for "who"), else it is nearest a date naming a year the question asks about
    ("... from $4.9 billion in 2022 to $4 billion in 2023" answers "... in 2023?" with the second). None
    when nothing picks one: a wrong phrase emphasised misleads more than the sentence does."""
    found = unasked_entities(text, entities, labels, question)
    if len(found) < 2:
        return (found[0].start, found[0].end) if found else None
    years = set(YEAR.findall(question))
    anchors = [e for e in entities if e.label == "DATE" and years & set(YEAR.findall(text[e.start:e.end]))]

    def names_head(e: Entity) -> bool:
        span = text[e.start:e.end]
        if head == "year" and labels <= DATES:  # a calendar year asked for, not years counted
            return bool(YEAR.search(span))
        return head is not None and head in (w.rstrip("s") for w in WORDS.findall(fold(span)))

    def evidence(e: Entity) -> tuple[bool, bool, int, bool]:
        # "from $4.9 billion in 2022 to $4 billion": the year qualifies the figure before it
        gap, after = min(((max(a.start - e.end, e.start - a.end, 0), a.end <= e.start) for a in anchors),
                         default=(0, False))
        return not names_head(e), e.label in STAND_INS, gap, after

    ranked = sorted(found, key=evidence)
    if evidence(ranked[0]) == evidence(ranked[1]):
        return None
    return ranked[0].start, ranked[0].end


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
