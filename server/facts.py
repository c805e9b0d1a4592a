"""The figures and dates a sentence states, and whether two similar sentences agree on them.

Two articles reporting one event often differ on the number or the day ("$5 billion" against
"$4 billion", "January 17" against "by the end of the year"). Such a pair is not a duplicate to cite
as "also in": it is a disagreement a reader wants shown. The comparison is on values, not words:
"17%" and "17 percent" agree, "January" and "January 17" agree (one is more precise), "January 17"
and "January 20" do not. And the differing facts must be said of the same thing: the two sentences
share a common word (a lower-case content word such as "visit" or "invest"), not only names, since
"Pezeshkian's visit on January 17" and "Putin met Pezeshkian in mid-October" are two events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from index.text import STOPWORDS, TOKEN, stem

__all__ = ["DATE", "RELATIVE", "Facts", "conflict", "differ", "facts_of"]

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?" \
        r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
YEAR = r"(?:19|20)\d{2}"
# "January 17, 2025", "17 January 2025", "January 2025", "January", "in 2025"; "May" only with a day or
# year beside it, since the verb is far more common.
DATE = re.compile(
    rf"\b(?P<m1>{MONTH})\.?\s+(?P<d1>{DAY})\b(?:,?\s+(?P<y1>{YEAR})\b)?"
    rf"|\b(?P<d2>{DAY})\s+(?P<m2>{MONTH})\b\.?(?:,?\s+(?P<y2>{YEAR})\b)?"
    rf"|\b(?P<m3>{MONTH})\.?\s+(?:of\s+)?(?P<y3>{YEAR})\b"
    rf"|\b(?P<m4>(?!may\b){MONTH})\b"
    rf"|\b(?P<y4>{YEAR})\b(?![.,]\d|\s*(?:%|percent|per cent))"
    rf"|\b(?P<wd>{'|'.join(WEEKDAYS)})\b",
    re.IGNORECASE,
)
# Time said without a calendar date: these name a different moment from any calendar date.
RELATIVE = re.compile(
    r"\b(?:(?:by|at|before|until|towards?)\s+)?(?:the\s+)?(?P<rel>(?:end|beginning|start|middle|close) of (?:the|this|"
    r"next|last) (?:year|month|week|decade|quarter)|(?:earlier|later) this (?:year|month|week)|(?:this|next|last|"
    r"coming) (?:year|month|week|spring|summer|autumn|fall|winter)|in the coming (?:days|weeks|months|years)|"
    r"yesterday|tomorrow|today)\b",
    re.IGNORECASE,
)
SCALE = {"thousand": 1e3, "million": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9,
         "trillion": 1e12, "tn": 1e12}
FIGURE = re.compile(
    r"(?<![\w.-])(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(?P<pct>%|percent\b|per cent\b)|[\s-]*"
    r"(?P<scale>thousand|million|billion|trillion|mn|bn|tn)\b)?",
    re.IGNORECASE,
)


Mention = tuple[int | None, int | None, int | None, str | None, str | None]  # year, month, day, weekday, relative


@dataclass(frozen=True)
class Facts:
    """`dates`: each mention as (year, month, day, weekday, relative) with None where not said; `figures`: the
    values of the other numbers ("$4.9 billion" -> '4.9e+09', "17 percent" -> '17%')."""

    dates: tuple[Mention, ...]
    figures: frozenset[str]
    topic: frozenset[str]  # stems of the lower-case content words outside the figures and dates


def _month(name: str) -> int:
    name = name.lower()
    return next(i for i, m in enumerate(MONTHS, 1) if m.startswith(name[:3]))


# Memos of pure functions of a sentence's text (their results immutable): a question over a large archive
# compares syndicated copies of one sentence with each other and with their neighbours, so the same texts
# recur, and the date and figure patterns cost about 0.2 ms a sentence.
@lru_cache(maxsize=8192)
def _stated(text: str) -> tuple[tuple[Mention, ...], frozenset[str], tuple[tuple[int, int], ...]]:
    """The dates and figures of `text` (as Facts has them) and the spans they and the relative dates take."""
    dates: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for m in DATE.finditer(text):
        g = m.groupdict()
        month = next((g[k] for k in ("m1", "m2", "m3", "m4") if g[k]), None)
        day = next((g[k] for k in ("d1", "d2") if g[k]), None)
        year = next((g[k] for k in ("y1", "y2", "y3", "y4") if g[k]), None)
        dates.append((int(year) if year else None, _month(month) if month else None,
                      int(re.sub(r"\D", "", day)) if day else None, g["wd"].lower() if g["wd"] else None, None))
        taken.append(m.span())
    relative = list(RELATIVE.finditer(text))
    dates += [(None, None, None, None, " ".join(m.group("rel").lower().split())) for m in relative]
    figures = set()
    found = list(FIGURE.finditer(text))
    for m in found:
        if any(s <= m.start() < e for s, e in taken):
            continue
        value = float(m.group("num").replace(",", ""))
        if m.group("pct"):
            figures.add(f"{value:g}%")
        else:
            scale = m.group("scale")
            figures.add(f"{value * SCALE[scale.lower()] if scale else value:g}")
    return tuple(dates), frozenset(figures), (*taken, *(m.span() for m in relative), *(m.span() for m in found))


@lru_cache(maxsize=8192)
def facts_of(text: str) -> Facts:
    dates, figures, spans = _stated(text)
    chars = list(text)
    for s, e in spans:  # blanked, so that the topic has no word of a figure or date
        chars[s:e] = " " * (e - s)
    topic = frozenset(stem(w) for w in TOKEN.findall("".join(chars)) if w[0].islower() and w not in STOPWORDS)
    return Facts(dates, figures, topic)


def _compatible(a: Mention, b: Mention) -> bool:
    """Two date mentions can name the same moment: they share a field and agree on every shared one."""
    shared = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    return bool(shared) and all(x == y for x, y in shared)


def conflict(a: str, b: str) -> bool:
    """Whether two sentences give different figures or dates: both state some, and none agree."""
    # the values only: the topic (most of facts_of's work) is not needed here; many candidates of a large
    # archive are syndicated copies, each compared in full
    dates_a, figures_a, _ = _stated(a)
    dates_b, figures_b, _ = _stated(b)
    if figures_a and figures_b and figures_a.isdisjoint(figures_b):
        return True
    return bool(dates_a and dates_b and not any(_compatible(x, y) for x in dates_a for y in dates_b))


def differ(a: str, b: str) -> bool:
    """Whether two sentences give different figures or dates of the same thing: their facts conflict
    and they share a common word."""
    return conflict(a, b) and not facts_of(a).topic.isdisjoint(facts_of(b).topic)
