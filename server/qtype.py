"""What kind of answer a question wants (a count, an amount of money, an age, a date, a name, a
person), and whether a sentence holds one. A sentence without the kind of fact asked for is weak
evidence, however similar its words are."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from index.text import STOPWORDS

Kind = Literal["count", "money", "age", "measure", "number", "date", "name", "person"]

DATE_Q = re.compile(
    r"\b(when|what (year|date|month|day|time|century|decade)|which (year|month|day|century|decade)|since when"
    r"|how long ago|what time)\b", re.IGNORECASE)
MONEY_Q = re.compile(r"\bhow much\b.*\b(cost|costs|price|pay|paid|paying|spend|spent|worth|invest\w*|value|"
                     r"budget|fund\w*|sell|sold|earn\w*|make|made)\b|\b(what|which) (price|cost|sum)\b"
                     r"|\bwhat (do|does|did|will|would) \b.*\bcosts?\W*$", re.IGNORECASE)
AGE_Q = re.compile(r"\bhow old\b|\b(what|which) age\b|\bage of\b", re.IGNORECASE)
COUNT_Q = re.compile(r"\bhow many ((?:[\w-]+\s+){0,3}[\w-]+)", re.IGNORECASE)
# What a "what population / what share / what range" question measures, and the words that show a
# sentence states that measure.
MEASURED = {
    "population": ("population", "inhabitants", "residents", "people"),
    "percentage": ("%", "percent", "per cent"), "percent": ("%", "percent", "per cent"),
    "share": ("%", "percent", "per cent", "share", "third", "half", "quarter"),
    "proportion": ("%", "percent", "per cent", "proportion", "third", "half", "quarter"),
    "range": ("range", "km", "kilomet", "miles"),
}
MEASURE_Q = re.compile(r"\bhow (long|far)\b", re.IGNORECASE)  # a length or a duration, with its unit
NUMBER_Q = re.compile(
    r"\b(how (much|long|far|big|large|high)|by how much|what (percentage|percent|share|proportion|amount|"
    r"number|figure|range|sum|value|size|level|population)|population)\b", re.IGNORECASE)
PERSON_Q = re.compile(r"\b(name of|who is the \w+ (of|to|for)|which (person|official|minister|leader|general|"
                      r"president|expert|analyst|scholar|researcher))\b", re.IGNORECASE)
# The role a person question names: "the name of Iran's ambassador to Moscow" -> "ambassador".
ROLE_Q = re.compile(r"\b(?:name of|who is|who was|who's)\s+(?:the\s+)?(.*?)(?=\s+(?:of|to|for|in|at|from|on)\b|"
                    r"[?.!,;]|$)", re.IGNORECASE)
# Offices and roles a person holds: "the name of the fund" asks for a name, not a person.
PERSON_ROLES = frozenset("""ambassador envoy diplomat minister president premier chancellor leader spokesman spokeswoman
    spokesperson commander chief head director secretary general official adviser advisor governor mayor king queen
    prince princess emperor ruler pope bishop ceo founder author writer journalist reporter editor coach captain
    player manager chairman chairwoman chair judge senator analyst expert scholar professor researcher economist
    negotiator representative deputy officer architect designer inventor owner creator composer singer actor actress
    artist poet successor predecessor wife husband son daughter father mother brother sister quarterback scientist
    philosopher""".split())
WH = re.compile(r"\b(how|what|why|who|whom|whose|which|where|when)\b", re.IGNORECASE)
NAME_Q = re.compile(r"\b(who|whom|whose|which (country|countries|organi[sz]ations?|city|cities|state|states))\b",
                    re.IGNORECASE)

MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
          "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
DATE_A = re.compile(rf"\b(1[0-9]{{3}}|20[0-9]{{2}})s?\b|\b({MONTHS})\b|\b\d{{1,2}}(st|nd|rd|th)\b|\bcentur(y|ies)\b"
                    r"|\b(yesterday|today|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
                    r"|\b(last|next|this) (year|month|week|decade)\b|\b(ago|earlier|later|since)\b", re.IGNORECASE)
NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?|"
                "once|twice|thrice|"
                "thousands?|millions?|billions?|trillions?|dozens?|half|percent|several|few")
NUMBER_WORD = re.compile(rf"^({NUMBER_WORDS})$", re.IGNORECASE)
MONEY_A = re.compile(r"[$€£¥₽]|\b(dollars?|euros?|pounds?|rubles?|roubles?|rials?|yuan|usd|eur)\b", re.IGNORECASE)
AGE_A = re.compile(r"\b\d+[- ]years?[- ]old\b|\baged? \d+\b|\b\d+-year-old\b", re.IGNORECASE)
UNIT = re.compile(r"^(km|kilomet(er|re)s?|miles?|met(er|re)s?|m|nautical|years?|months?|weeks?|days?|hours?|"
                  r"minutes?|decades?|centur(y|ies))$", re.IGNORECASE)
YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)s?\b")
SPAN = re.compile(r"^(years|months|weeks|days|hours|decades|centuries)$", re.IGNORECASE)  # "for decades"
# A word with digits that starts with letters is a name, not a figure: every model designation (index.text
# DESIGNATION: "Su-35", "S-400") and more that are no product ("G20", "H5N1", "Tu-22M3", "F16").
LETTERS_FIRST = re.compile(r"\W*[^\W\d_]+-?\d")
CAPITALISED = re.compile(r"[A-Z][\w’'-]*")
TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Want:
    kind: Kind
    head: str | None = None  # the noun counted ("jets" in "how many Su-35 jets"), or a person's role
    # for counts, every word that may be the counted noun: "how many UK viewers watched" -> uk, viewers,
    # watched (no tagger here to tell the noun from the verb)
    heads: tuple[str, ...] = ()


def expected(question: str) -> Want | None:
    """The kind of answer the question asks for, or None when any sentence may answer it."""
    date = DATE_Q.search(question)
    lead = WH.search(question)
    # "when" asks for a date only as the question's own wh-word: not in "How did Tehran react when ..."
    if date and not (date.group(0).lower() == "when" and lead and lead.group(0).lower() != "when"):
        return Want("date")
    if AGE_Q.search(question):
        return Want("age")
    if MONEY_Q.search(question):
        return Want("money")
    count = COUNT_Q.search(question)
    if count:
        words = [w for w in count.group(1).lower().split()]
        phrase = []
        for w in words:
            if w in STOPWORDS:
                break
            phrase.append(w)
        nouns = [w for w in phrase if w.isalpha()]
        nouns = [w for w in nouns if w not in ("times", "time")]  # answered "twice", rarely "three times"
        return Want("count", nouns[-1] if nouns else None, tuple(nouns))
    if MEASURE_Q.search(question):
        return Want("measure")
    number = NUMBER_Q.search(question)
    if number:
        asked = number.group(0).lower().split()[-1]
        return Want("number", asked if asked in MEASURED else None)
    person = PERSON_Q.search(question) or which_role(question)
    if person:
        office = role(question)
        if person.group(0).lower() == "name of" and office is None:
            return Want("name")  # "the name of the fund", "the name of the hotel"
        return Want("person", office)
    name = NAME_Q.search(question)
    # as with "when": "What gets transferred to students who ..." does not ask for a name
    if name and lead and lead.start() == name.start():
        return Want("name")
    return None


def is_office(word: str) -> bool:
    """"ambassador", "ministers": a role a person holds (lower case)."""
    return word in PERSON_ROLES or word.rstrip("s") in PERSON_ROLES


WHICH = re.compile(r"\bwhich((?:\s+[\w-]+){1,3})", re.IGNORECASE)


def which_role(question: str) -> re.Match[str] | None:
    """"Which former Kremlin adviser ...": a person, named by an office within three words of "which"."""
    found = WHICH.search(question)
    words = found.group(1).lower().split() if found else []
    return found if any(is_office(w) for w in words) else None


def role(question: str) -> str | None:
    """The office a person question asks about ("ambassador", "minister"), if it names one."""
    found = ROLE_Q.search(question)
    if not found:
        return None
    kept = [w.lower() for w in re.findall(r"[\w-]+(?:[’']s)?", found.group(1))
            if not re.search(r"[’']s$", w) and w.lower() not in STOPWORDS]
    heads = [w for w in kept if is_office(w)]
    return heads[-1] if heads else None


def is_quantity(token: str) -> bool:
    word = token.strip(".,;:!?()[]\"'“”‘’")
    if NUMBER_WORD.match(word):
        return True
    return any(ch.isdigit() for ch in word) and not LETTERS_FIRST.match(word)


def same_word(a: str, b: str) -> bool:
    """Loose equality for a counted noun: "jet" ~ "jets", "drone" ~ "drones"."""
    a, b = a.lower().strip(".,;:!?()\"'“”’"), b.lower()
    return a == b or a.rstrip("s") == b.rstrip("s")


def unasked(token: str, question: str) -> bool:
    """A capitalised word the question does not already contain (nor a word it starts, "Iran"/"Iranian")."""
    word = token.strip(".,;:!?()[]\"'“”‘’").split("’")[0].split("'")[0].lower()
    asked = [w.lower() for w in re.findall(r"[\w-]+", question)]
    return len(word) > 1 and not any(word.startswith(w) or w.startswith(word) for w in asked if len(w) > 2)


def years_agree(sentence: str, question: str) -> bool:
    """A question about 2021 is not answered by a sentence about 2022 and 2023 only."""
    asked = set(YEAR.findall(question))
    stated = set(YEAR.findall(sentence))
    return not asked or not stated or bool(asked & stated)


def with_unit(tokens: list[str]) -> bool:
    """A quantity with a unit of length or time: "300-700 km", "three months", "a 20-year period"; or a
    span of time without a figure, which answers "how long" as well: "for decades", "over many years",
    "since 1991"."""
    bare = [t.strip(".,;:!?()[]\"'“”‘’") for t in tokens]
    for i, t in enumerate(bare):
        lead = t.lower()
        if lead in ("for", "over") and any(SPAN.match(u) for u in bare[i + 1: i + 3]):
            return True
        if lead == "since" and i + 1 < len(bare) and YEAR.fullmatch(bare[i + 1]):
            return True
        parts = t.split("-")
        if len(parts) > 1 and is_quantity(parts[0]) and UNIT.match(parts[-1]):
            return True
        if is_quantity(t) and any(UNIT.match(u) for u in bare[i + 1: i + 3]):
            return True
    return False


def has_kind(sentence: str, want: Want | None, question: str) -> bool:
    """True when the sentence holds an answer of the wanted kind (always, when none is wanted) and
    does not state other years than the question asks about."""
    if not years_agree(sentence, question):
        return False
    if want is None:
        return True
    tokens = TOKEN.findall(sentence)
    if want.kind == "date":
        return bool(DATE_A.search(sentence))
    if want.kind == "money":
        return bool(MONEY_A.search(sentence)) and any(is_quantity(t) for t in tokens)
    if want.kind == "age":
        return bool(AGE_A.search(sentence))
    if want.kind == "count":
        if want.head is None:
            return any(is_quantity(t) for t in tokens)
        return any(
            (same_word(t, head) and any(is_quantity(u) for u in tokens[max(0, i - 4): i]))
            or (head.rstrip("s") in t.lower() and is_quantity(t))  # "20-year"
            for head in want.heads or (want.head,)
            for i, t in enumerate(tokens)
        )
    if want.kind == "measure":
        return with_unit(tokens)
    if want.kind == "number":
        shows = MEASURED.get(want.head or "")
        if shows and not any(w in sentence.lower() for w in shows):
            return False  # a number, but not of what was asked ("the population of Armenia")
        return any(is_quantity(t) for t in tokens)
    body = tokens[1:]  # the first word is capitalised anyway
    if want.kind == "person":
        if want.head and want.head.rstrip("s") not in sentence.lower():
            return False  # a name, but not of the office asked about
        return any(
            CAPITALISED.match(a) and CAPITALISED.match(b) and (unasked(a, question) or unasked(b, question))
            for a, b in zip(body, body[1:], strict=False)
        )
    return any(CAPITALISED.match(t) and unasked(t, question) for t in body)
