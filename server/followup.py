"""Follow-up questions resolved against the conversation, without a language model.

"Why not?", "when was that?", "and India?" mean nothing on their own: they lean on the turn before. A
question that does is rewritten into a standalone one (the previous question's focus and names carried
over) before retrieval; a full question on another subject is left alone. The evidence is lexical: the
question's own content words (terms() of the project's lexical module), the words that point back
(pronouns, demonstratives, an opening "and" / "what about"), and whether the question's own words meet
the previous turn at all (read by server.pointing). The server keeps no state: the client sends the
earlier turns back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from index.text import fold, terms
from server.pointing import (
    AUX,
    DEMONSTRATIVE,
    FILLERS,
    NEGATION,
    PERSONAL,
    PLACING,
    POSSESSIVE,
    THIN,
    WH,
    WH_COMPLEMENTS,
    core_of,
    dependence,
    is_calendar,
    is_country,
    is_name,
    names_in,
    opener_length,
    pointers,
    words_of,
)
from server.qtype import PERSON_ROLES

__all__ = ["Turn", "Resolution", "resolve", "resolve_history", "dependence", "mentions"]

MAX_ANSWERED = 4  # names of the last answer carried with its focus: a list of four countries, not a page
# not what was said: something besides it ("was there another turning point?")
OTHER = frozenset("other others another else instead".split())
ARTICLES = ("the", "a", "an")


@dataclass(frozen=True)
class Turn:
    """An earlier turn as the client sends it back: its question and the text of the quotes it got."""

    question: str
    quotes: tuple[str, ...] = ()
    # what its quotes gave of the kind it asked for, (entity label, text) ("Which countries ...?" -> the
    # GPEs its answer names): "that country" or "there" in the next question usually points at those
    answered: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Resolution:
    """What is answered: `question` standalone. `used` when it leans on the previous turn and was
    rewritten with it; `unresolved` names the word that points back when there was nothing to resolve
    it with (no history)."""

    question: str
    used: bool = False
    unresolved: str | None = None
    reference: str | None = None  # the words that point back ("that", "why not", "and India")
    focus: str = ""  # what the conversation is about at this turn, carried to the next follow-up
    leans: bool = False  # it leans on a turn before (any level of `dependence`), whether or not resolved with it
    # it asks for something other than what the last answer said ("was there another turning point?")
    other: bool = False
    # the last turn's words were added in brackets, not woven in: `follows` is the question it was read after
    follows: str | None = None
    # the name an ellipsis asks the last question about ("and India?"): its whole content, so an answer that
    # does not name it answers the last question again
    about: str | None = None


class Reading(NamedTuple):
    """A follow-up made standalone: the question, its focus, and whether the last turn's words ride in
    brackets after it (the page then names the question it was read after) or were woven in."""

    standalone: str
    focus: str
    bracketed: bool = False
    about: str = ""  # the name an ellipsis put in the place of the last question's ("and India?" -> "India")


def _bracketed(question: str, focus: str) -> str:
    return f"{question.strip().rstrip('?!. ')} ({focus})?"


def _carried(prev: Resolution, last: Turn) -> str:
    """The previous focus with what the last answer gave ("countries make up the 3+3 initiative: Turkey,
    Armenia, Azerbaijan, Georgia"): a follow-up points at the answer as often as at the question."""
    asked = fold(prev.question)
    new = list(dict.fromkeys(text for _, text in last.answered if fold(text) not in asked))[:MAX_ANSWERED]
    return f"{prev.focus}: {', '.join(new)}" if new and prev.focus else prev.focus


def _bare_wh(question: str, prev: Resolution, carried: str) -> Reading:
    """"why not?" after "Has Iran received the jets?" -> "why has Iran not received the jets?"; after a
    wh-question, the new question with the previous focus in brackets."""
    tokens, previous = words_of(question), prev.question
    before = words_of(previous)
    wh = [t.text.lower() for t in tokens if t.fold in WH]
    negated = any(t.fold in NEGATION for t in tokens)
    bare = all(t.fold in WH or t.fold in NEGATION or t.fold in FILLERS for t in tokens)  # "why not?", "when?"
    if before and before[0].fold in AUX and wh and bare and "(" not in previous:
        # the subject of a yes/no question ends at its first lower-case content word (its verb, mostly)
        rest = before[1:]
        split = next((j for j, t in enumerate(rest) if j and t.content and not t.text[:1].isupper()
                      and not any(c.isdigit() for c in t.text)), len(rest))
        subject = previous[rest[0].start:rest[split - 1].end] if rest and split else ""
        tail = previous[rest[split].start:].rstrip("?!. ").strip() if split < len(rest) else ""
        parts = [" ".join(wh), before[0].text.lower(), subject, "not" if negated else "", tail]
        standalone = " ".join(p for p in parts if p) + "?"
        return Reading(standalone, core_of(standalone))
    return Reading(_bracketed(question, carried), prev.focus, True)


def _ellipsis(question: str, prev: Resolution, opened: int) -> Reading:
    """"and India?" after "What did Russia say about Iran?" -> "What did Russia say about India?": the
    new name takes the place of the previous question's name of the same sort (a country for a country),
    else of its last name; with no name to replace, the previous focus goes in brackets."""
    tokens = words_of(question)
    rest = tokens[opened:]
    tail = rest[1:]
    if tail and rest[0].fold in PLACING and (len(tail) == 1 and tail[0].text.isdigit() or all(
            is_name(t, False) and t.text[:1].isupper() for t in tail)):
        rest = tail  # "and in 2021?", "and with China?": a year or a name where the last question had one
    if not rest:
        return Reading(_bracketed(question, prev.focus), prev.focus, True)
    phrase = question[rest[0].start:rest[-1].end]
    figure = len(rest) == 1 and rest[0].text.isdigit()  # "what about 2024?" takes the place of a figure
    noun_phrase = all(t.content or t.fold in ("the", "of", "and") for t in rest)
    bare_name = figure or noun_phrase and any(is_name(t, False) and t.text[:1].isupper() for t in rest)
    base = prev.question if "(" not in prev.question else prev.focus
    before = words_of(base)
    names = [(i, t) for i, t in enumerate(before) if is_name(t, i == 0) and t.text.isdigit() == figure
             and (figure or not any(c.isdigit() for c in t.text))]
    if bare_name and names:
        same = [(i, t) for i, t in names if is_country(t.text) == is_country(phrase)]
        i, _ = (same or names)[-1]
        j = i  # the whole capitalised name ("Recep Tayyip Erdogan")
        while not figure and j + 1 < len(before) and before[j + 1].text[:1].isupper():
            j += 1
        while not figure and i > 1 and before[i - 1].text[:1].isupper():
            i -= 1
        head = base[:before[i].start]
        if rest[0].fold in ARTICLES and head.rstrip().lower().endswith(tuple(f" {a}" for a in ARTICLES)):
            phrase = question[rest[1].start:rest[-1].end] if len(rest) > 1 else phrase  # "the Persians" after "the"
        replaced = head + phrase + base[before[j].end:]
        if base is prev.question:
            return Reading(replaced, core_of(replaced), about=phrase)
        return Reading(_bracketed(question, replaced), replaced, True, phrase)
    # "what about the helicopters?" after a question about the jets: no name to put it in the place of, but
    # it is still the whole of what is asked, so an answer must name it
    thing = question[rest[1].start:rest[-1].end] if rest[0].fold in ARTICLES and len(rest) > 1 else phrase
    return Reading(_bracketed(question, prev.focus), prev.focus, True, thing if noun_phrase else "")


def _substitute(question: str, prev: Resolution, last: Turn, carried: str, sources: frozenset[str]) -> Reading | None:
    """The first pointing word given what it points to: "he"/"she" becomes the person the last answer
    named or a name of the previous question ("why did he refuse?" -> "why did Lavrov refuse?"), and
    None when there is no one to be ("he" after a question about countries: not a guess at the focus);
    any other ("it", "they", "that") keeps its place with the previous focus in brackets after it, since
    it may be a thing as well as a name."""
    tokens = words_of(question)
    pointing = pointers(tokens)
    if not pointing:
        return Reading(_bracketed(question, carried), prev.focus, True)
    i = next((i for i, antecedent in pointing if not antecedent), pointing[0][0])
    t = tokens[i]
    if t.fold in PERSONAL:
        standalone = _person_named(question, prev, last, sources)
        return None if standalone is None else Reading(standalone, core_of(standalone))
    end = tokens[i + 1].end if t.fold in DEMONSTRATIVE and i + 1 < len(tokens) and tokens[i + 1].content else t.end
    return Reading(question[:end] + f" ({carried})" + question[end:], prev.focus, True)


def _person_named(question: str, prev: Resolution, last: Turn, sources: frozenset[str]) -> str | None:
    """The question with its first "he" or "she" given who it is ("why did he refuse?" -> "why did Lavrov
    refuse?"); the question as it is when it has none, None when there is no one to be."""
    t = next((t for t in words_of(question) if t.fold in PERSONAL), None)
    if t is None:
        return question
    names = _people(question, prev, last, sources)
    if not names:
        return None
    return question[:t.start] + names[0] + ("'s" if t.fold in POSSESSIVE else "") + question[t.end:]


def _people(question: str, prev: Resolution, last: Turn, sources: frozenset[str] = frozenset()) -> list[str]:
    """Who "he" or "she" may be: the people the last answer named, then the names of the previous
    question, those the question itself names, figures, months and days ("what did Iran warn against in
    September?"), and `sources` (the folded names of the articles' publishers: "Does Asia Times think ...?"
    then "why are they nervous about him?") left out."""
    mine = {fold(n) for n in names_in(question)}
    # "Who said so?" -> "Lavrov ...", then "why did he?": the person the answer named comes first
    people = [text for label, text in last.answered if label == "PERSON"]
    # the person the last question asked about by their office ("the name of the Russian ambassador ...?"
    # then "why was he summoned?"); a country or its people ("Russian") is never a "he"
    office = _office(prev.question)
    names = [n for n in dict.fromkeys(people + ([office] if office else []) + names_in(prev.question))
             if fold(n) not in mine]
    return [n for n in names if not any(c.isdigit() for c in n) and not is_country(n) and not is_calendar(n)
            and fold(n) not in sources]


def _office(question: str) -> str | None:
    """The person a question names by office, with the words before it that say which ("the Russian
    ambassador"), or None."""
    tokens = words_of(question)
    for i, t in enumerate(tokens):
        if t.fold in PERSON_ROLES and not t.text[:1].isupper():
            j = i
            while j > 1 and tokens[j - 1].text[:1].isupper():
                j -= 1
            if j > 0 and tokens[j - 1].fold in ("the", "a", "an"):
                j -= 1
            phrase = question[tokens[j].start:t.end]
            return phrase if tokens[j].fold in ("the", "a", "an") else "the " + phrase  # "which minister"
    return None


def _overlaps(question: str, previous: Turn, prev: Resolution) -> bool:
    """The question's own words meet the previous turn (its question or the quotes it got)."""
    own = set(terms(question))
    if not own:
        return True
    before = set(terms(prev.question))
    for quote in previous.quotes:
        before.update(terms(quote))
    return bool(own & before)


def _restates(question: str, last: Turn, prev: Resolution) -> bool:
    """Every name the question has was said in the last turn (its question or the quotes it got) and it
    has at most THIN words of its own beside them ("How did Iran react?", "Why does Tehran care so
    much?"): it asks more about what was just said. A new subject brings words of its own."""
    names = names_in(question)
    if not names:
        return False
    said = set(terms(prev.question)).union(*(terms(q) for q in last.quotes))
    named = {t for n in names for t in terms(n)}
    if not named or not named <= said:
        return False
    name_words = {t.fold for n in names for t in words_of(n)}
    # "how long", "so much": degree words, not a subject of the question's own
    own = [t for t in words_of(question) if t.content and t.fold not in name_words and t.fold not in WH_COMPLEMENTS]
    return len(own) <= THIN


SPACE = re.compile(r"\s+")


def resolve(question: str, history: Sequence[Turn], previous: Resolution | None = None,
            sources: frozenset[str] = frozenset()) -> Resolution:
    """The question as it is to be answered, given the earlier turns (oldest first).

    `previous`: the last turn's own resolution, when the caller has it (resolve_history); otherwise
    the last turn's question is taken as it was asked. `sources`: the folded names of the articles'
    publishers, which no "he" or "she" is."""
    question = SPACE.sub(" ", question).strip()
    level, reference = dependence(question)
    alone = Resolution(question, focus=core_of(question))
    if not history:
        if level == "strong":
            return Resolution(question, False, reference, reference, core_of(question))
        return alone
    last = history[-1]
    if previous is None:
        asked = SPACE.sub(" ", last.question).strip()
        previous = Resolution(asked, focus=core_of(asked))
    if level == "none" and _restates(question, last, previous):
        level = "weak"  # asks more about what was just said ("How did Iran react?")
    if level == "none":
        return alone
    leaning = replace(alone, leans=True)
    if previous.unresolved is not None:  # the turn before leaned on nothing: there is nothing to carry
        return Resolution(question, False, reference, reference, core_of(question), True) if level == "strong" \
            else leaning
    if level == "weak" and not _overlaps(question, last, previous):
        return leaning  # points back, but to nothing of the last turn: a new subject
    tokens = words_of(question)
    own = [t for t in tokens if t.content]
    opened = opener_length(tokens)
    carried = _carried(previous, last)
    if not own:
        named = _person_named(question, previous, last, sources)  # "what did he say?": who he is, then what about
        if named is None:
            return Resolution(question, False, reference, reference, core_of(question), True)
        reading = _bare_wh(named, previous, carried)
    elif opened:
        reading = _ellipsis(question, previous, opened)
    else:
        found = _substitute(question, previous, last, carried, sources)
        if found is None:  # a "he" or "she" with no one to be
            return Resolution(question, False, reference, reference, core_of(question), True)
        reading = found
    other = any(t.fold in OTHER for t in tokens)
    # the carried words ride in brackets ("how far can they (the missiles ...) fly?"): a reader is better
    # told which question this one was taken to follow than shown them
    follows = (previous.follows or previous.question[:1].upper() + previous.question[1:]) if reading.bracketed else None
    return Resolution(SPACE.sub(" ", reading.standalone).strip(), True, None, reference, reading.focus, True, other,
                      follows, reading.about or None)


def resolve_history(question: str, history: Sequence[Turn], sources: frozenset[str] = frozenset()) -> Resolution:
    """Resolve every earlier turn in order, each against the ones before it, then the question: "and
    why?" after "when was that?" leans on what "when was that?" itself was resolved to."""
    previous: Resolution | None = None
    for n in range(len(history)):
        previous = resolve(history[n].question, history[:n], previous, sources)
    return resolve(question, history, previous, sources)


def mentions(text: str, name: str) -> bool:
    """Whether `text` names `name`: each of its terms, or a word of the same stem ("Persia" in "the Persians",
    "Tehran" for Iran, as lexical matching folds them)."""
    wanted, found = terms(name), set(terms(text))
    return bool(wanted) and all(
        any(w == f or min(len(w), len(f)) >= 4 and (f.startswith(w) or w.startswith(f)) for f in found) for w in wanted)
