"""Follow-up questions resolved against the conversation, without a language model.

"Why not?", "when was that?", "and India?" mean nothing on their own: they lean on the turn before. A
question that does is rewritten into a standalone one (the previous question's focus and names carried
over) before retrieval; a full question on another subject is left alone. The evidence is lexical: the
question's own content words (terms() of the project's lexical module), the words that point back
(pronouns, demonstratives, an opening "and" / "what about"), and whether the question's own words meet
the previous turn at all. The server keeps no state: the client sends the earlier turns back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from index.text import ALIASES, STOPWORDS, fold, terms
from server.qtype import PERSON_ROLES

__all__ = ["Turn", "Resolution", "resolve", "resolve_history", "dependence"]

# Words that stand for something said before. "there" and "it" also open existential and impersonal
# clauses ("is there ...", "how long did it take ..."): those are told apart below by what follows.
PERSONAL = frozenset("he him his himself she her hers herself".split())  # a person: the names before
PLURAL = frozenset("they them their theirs themselves".split())  # people or things: the focus
NEUTER = frozenset("it its itself this that these those there then such same".split())
REFERRING = PERSONAL | PLURAL | NEUTER
REFLEXIVE = frozenset("himself herself themselves itself".split())
DEMONSTRATIVE = frozenset("this that these those such".split())
# Words whose sense is relative to something already said: the other one, the same thing, as well.
RELATIVE = frozenset("other others another same else too either instead again".split())
OTHER = frozenset("other others another else instead".split())  # not what was said: something besides it
POSSESSIVE = frozenset("their theirs his her hers its".split())
BE = frozenset("is are was were be been being isn aren wasn weren".split())
AUX = frozenset("is are was were has have had does do did will would can could should may might must shall "
                "isn aren wasn weren hasn haven hadn doesn don didn won wouldn can't couldn shouldn".split())
WH = frozenset("what when where why who whom whose which how".split())
NEGATION = frozenset("not no never n't".split())
# A question that opens like this continues the previous one ("and India?", "what about China?").
OPENERS = (("what", "about"), ("how", "about"), ("what", "of"), ("as", "for"), ("and",), ("but",), ("or",),
           ("also",), ("so",))
THIN = 1  # a pronoun with no antecedent leans on the turn before unless the question has more own words

WH_COMPLEMENTS = frozenset("much many far long often old big large soon".split())  # "how much", "how far"
FILLERS = frozenset("ok okay well hmm right alright yes no sure thanks".split())  # "OK, which areas ...?"
MAX_ANSWERED = 4  # names of the last answer carried with its focus: a list of four countries, not a page

Dependence = Literal["none", "weak", "bare", "strong"]


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


@dataclass(frozen=True)
class _Token:
    text: str
    fold: str
    start: int
    end: int
    content: bool  # a content word of the question (not a stop word, wh-word or auxiliary)
    aside: bool = False  # an opening "OK," or "Fine,": a reply to the last answer, not part of the question


WORD = re.compile(r"[^\W_]+(?:[-’'][^\W_]+)*")  # keeps "Su-35" and "Moscow's" whole, unlike TOKEN


def _tokens(question: str) -> list[_Token]:
    found: list[_Token] = []
    for m in WORD.finditer(question):
        f = fold(m.group(0))
        f = f.replace("’", "'")
        negated = f.endswith("n't")
        f = f.split("'")[0] if "'" in f else f  # "Moscow's" -> moscow, "didn't" -> didn, "I've" -> i
        if negated:
            f = "n't" if f in ("didn", "don", "doesn", "isn", "aren", "wasn", "weren", "hasn", "haven", "hadn",
                               "won", "wouldn", "can", "couldn", "shouldn") else f
        opening = not found and (f in FILLERS or _interjection(question, m.end()))
        found.append(_Token(m.group(0), f, m.start(), m.end(), _content(f) and not opening, opening))
    return found


AFTER_COMMA = re.compile(r"\s*,\s*([^\W_]+)")


def _interjection(question: str, end: int) -> bool:
    """The question's first word, set off by a comma before its wh-word or auxiliary ("Fine, why do they
    need one?", "Interesting, and when?"): a reply to the last answer, not what is asked about."""
    m = AFTER_COMMA.match(question, end)
    return m is not None and fold(m.group(1)) in WH | AUX | {"and", "but", "so"}


def _content(word: str) -> bool:
    return not (word in STOPWORDS or word in REFERRING or word in NEGATION or word in AUX or word in WH)


def _opener(tokens: list[_Token]) -> int:
    """How many tokens an opening "and" / "what about" takes (0 when there is none)."""
    aside = 1 if tokens and tokens[0].aside else 0
    words = [t.fold for t in tokens[aside:]]
    for opener in OPENERS:
        if tuple(words[:len(opener)]) == opener:
            return aside + len(opener)
    return 0


def _asked(tokens: list[_Token], j: int) -> bool:
    """Token j belongs to the question's wh-phrase ("how far", "which areas", "what kind"): what is
    asked about, not something a later pronoun can point back to."""
    return j > 0 and tokens[j - 1].fold in WH


def _pointing(tokens: list[_Token]) -> list[tuple[int, bool]]:
    """(index, has_antecedent) of each word that points outside the question. A demonstrative before a
    content word ("that deal") names its own noun; "there is", "is there" and an "it" before a verb of
    being or taking are not references; an antecedent is any content word before the pronoun."""
    found = []
    for i, t in enumerate(tokens):
        if t.fold not in REFERRING:
            continue
        after = tokens[i + 1].fold if i + 1 < len(tokens) else ""
        before = tokens[i - 1].fold if i else ""
        if t.fold == "there" and (after in BE or before in BE):
            continue
        if t.fold in DEMONSTRATIVE and i + 1 < len(tokens) and tokens[i + 1].content:
            found.append((i, True))  # "that deal": refers back, but carries its own noun
            continue
        if t.fold == "that" and before and tokens[i - 1].content:
            continue  # "the deal that ...", "said that ...": a relative or complement clause
        antecedent = any(u.content and not _asked(tokens, j) for j, u in enumerate(tokens[:i]))
        if antecedent and t.fold in REFLEXIVE:
            continue  # "do Russia and Iran present themselves as ...": bound inside its own clause
        found.append((i, antecedent))
    return found


def dependence(question: str) -> tuple[Dependence, str | None]:
    """How much the question leans on the turn before, and the words that do the leaning.

    strong: it cannot be asked alone (no content word of its own; an opening "and"/"what about"; a
    pronoun with no antecedent and at most THIN own words). bare: a pronoun with nothing before it to
    refer to, a demonstrative ("those exports"), or no name at all, with words of its own: a follow-up
    when there is a turn before, a question of its own when there is none. weak: it points back but may refer inside
    itself ("What did Lavrov say about it?"). none: a full question."""
    tokens = _tokens(question)
    if not tokens:
        return "none", None
    own = [t for t in tokens if t.content]
    opened = _opener(tokens)
    pointing = _pointing(tokens)
    if not own:  # "when was that?" leans on "that"; "why not?" and "and why?" as a whole
        pointing_words = [t.text for t in tokens if t.fold in REFERRING]
        return "strong", pointing_words[0] if pointing_words else question[tokens[0].start:tokens[-1].end]
    if opened:
        return "strong", question[:tokens[min(opened, len(tokens) - 1)].end].strip()
    bare = [tokens[i].text for i, antecedent in pointing if not antecedent]
    if bare and len(own) <= THIN:
        return "strong", bare[0]
    demonstrative = [tokens[i].text for i, _ in pointing if tokens[i].fold in DEMONSTRATIVE and
                     i + 1 < len(tokens) and tokens[i + 1].content]
    if bare or demonstrative:
        return "bare", (bare or demonstrative)[0]
    if pointing:
        return "weak", tokens[pointing[0][0]].text
    relative = _relative(tokens)
    if relative is not None:
        return "weak", relative
    if not _names(question) and not question.islower():
        # A news question asked on its own names what it is about (a person, country, body, figure or
        # date); one that names nothing ("When did things start to improve?", "Give me an example.")
        # continues the conversation when there is one, as a bare pronoun does. Typed all in lower case,
        # a question's names cannot be told by their capitals ("what did lavrov say?"): no evidence.
        return "bare", None
    return "none", None


def _relative(tokens: list[_Token]) -> str | None:
    """A word that compares with or answers to something said before ("which other countries did the
    same?", "what did Iran get in return?", "did India join too?"): the question may lean on the last
    turn without a pronoun."""
    for i, t in enumerate(tokens):
        if t.fold in RELATIVE or (t.fold == "return" and i and tokens[i - 1].fold == "in"):
            return t.text
    return None


def _is_name(t: _Token, first: bool) -> bool:
    return t.content and ((t.text[:1].isupper() and not first) or t.fold in ALIASES or t.fold in ALIASES.values()
                          or any(c.isdigit() for c in t.text))


def _core(question: str) -> str:
    """The question without its leading question words and final punctuation: what it is about."""
    tokens = _tokens(question)
    i = 0
    while i < len(tokens) and (not tokens[i].content or tokens[i].fold in FILLERS or _asked(tokens, i)
                               and tokens[i].fold in WH_COMPLEMENTS):
        i += 1  # "By how much did trade drop" -> "trade drop"
    rest = question[tokens[i].start:] if i < len(tokens) else question
    return rest.strip().rstrip("?!. ").strip()


def _names(question: str) -> list[str]:
    """The names a question mentions, a run of capitalised words as one ("Arman Mahmoudian")."""
    tokens = _tokens(question)
    runs: list[list[_Token]] = []
    for i, t in enumerate(tokens):
        if _is_name(t, i == 0):
            if runs and tokens.index(runs[-1][-1]) == i - 1 and t.text[:1].isupper():
                runs[-1].append(t)
            else:
                runs.append([t])
    names = [question[r[0].start:r[-1].end] for r in runs]
    return [n[:-2] if n.endswith(("'s", "’s")) else n for n in names]  # "Pezeshkian's" -> Pezeshkian


def _country(word: str) -> bool:
    f = fold(word)
    return f in ALIASES or f in ALIASES.values()


def _bracketed(question: str, focus: str) -> str:
    return f"{question.strip().rstrip('?!. ')} ({focus})?"


def _carried(prev: Resolution, last: Turn) -> str:
    """The previous focus with what the last answer gave ("countries make up the 3+3 initiative: Turkey,
    Armenia, Azerbaijan, Georgia"): a follow-up points at the answer as often as at the question."""
    asked = fold(prev.question)
    new = list(dict.fromkeys(text for _, text in last.answered if fold(text) not in asked))[:MAX_ANSWERED]
    return f"{prev.focus}: {', '.join(new)}" if new and prev.focus else prev.focus


def _bare_wh(question: str, prev: Resolution, carried: str) -> tuple[str, str]:
    """"why not?" after "Has Iran received the jets?" -> "why has Iran not received the jets?"; after a
    wh-question, the new question with the previous focus in brackets."""
    tokens, previous = _tokens(question), prev.question
    before = _tokens(previous)
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
        return standalone, _core(standalone)
    return _bracketed(question, carried), prev.focus


def _ellipsis(question: str, prev: Resolution, opened: int) -> tuple[str, str]:
    """"and India?" after "What did Russia say about Iran?" -> "What did Russia say about India?": the
    new name takes the place of the previous question's name of the same sort (a country for a country),
    else of its last name; with no name to replace, the previous focus goes in brackets."""
    tokens = _tokens(question)
    rest = tokens[opened:]
    if not rest:
        return _bracketed(question, prev.focus), prev.focus
    phrase = question[rest[0].start:rest[-1].end]
    figure = len(rest) == 1 and rest[0].text.isdigit()  # "what about 2024?" takes the place of a figure
    bare_name = figure or all(t.content or t.fold in ("the", "of", "and") for t in rest) and any(
        _is_name(t, False) and t.text[:1].isupper() for t in rest)
    base = prev.question if "(" not in prev.question else prev.focus
    before = _tokens(base)
    names = [(i, t) for i, t in enumerate(before) if _is_name(t, i == 0) and t.text.isdigit() == figure
             and (figure or not any(c.isdigit() for c in t.text))]
    if bare_name and names:
        same = [(i, t) for i, t in names if _country(t.text) == _country(phrase)]
        i, _ = (same or names)[-1]
        j = i  # the whole capitalised name ("Recep Tayyip Erdogan")
        while not figure and j + 1 < len(before) and before[j + 1].text[:1].isupper():
            j += 1
        while not figure and i > 1 and before[i - 1].text[:1].isupper():
            i -= 1
        replaced = base[:before[i].start] + phrase + base[before[j].end:]
        if base is prev.question:
            return replaced, _core(replaced)
        return _bracketed(question, replaced), replaced
    return _bracketed(question, prev.focus), prev.focus


def _substitute(question: str, prev: Resolution, last: Turn, carried: str) -> tuple[str, str] | None:
    """The first pointing word given what it points to: "he"/"she" becomes the person the last answer
    named or a name of the previous question ("why did he refuse?" -> "why did Lavrov refuse?"), and
    None when there is no one to be ("he" after a question about countries: not a guess at the focus);
    any other ("it", "they", "that") keeps its place with the previous focus in brackets after it, since
    it may be a thing as well as a name."""
    tokens = _tokens(question)
    pointing = _pointing(tokens)
    if not pointing:
        return _bracketed(question, carried), prev.focus
    i = next((i for i, antecedent in pointing if not antecedent), pointing[0][0])
    t = tokens[i]
    if t.fold in PERSONAL:
        names = _people(question, prev, last)
        if not names:
            return None
        said = names[0] + ("'s" if t.fold in POSSESSIVE else "")
        standalone = question[:t.start] + said + question[t.end:]
        return standalone, _core(standalone)
    end = tokens[i + 1].end if t.fold in DEMONSTRATIVE and i + 1 < len(tokens) and tokens[i + 1].content else t.end
    return question[:end] + f" ({carried})" + question[end:], prev.focus


def _people(question: str, prev: Resolution, last: Turn) -> list[str]:
    """Who "he" or "she" may be: the people the last answer named, then the names of the previous
    question, those the question itself names and figures left out."""
    mine = {fold(n) for n in _names(question)}
    # "Who said so?" -> "Lavrov ...", then "why did he?": the person the answer named comes first
    people = [text for label, text in last.answered if label == "PERSON"]
    # the person the last question asked about by their office ("the name of the Russian ambassador ...?"
    # then "why was he summoned?"); a country or its people ("Russian") is never a "he"
    office = _office(prev.question)
    names = [n for n in dict.fromkeys(people + ([office] if office else []) + _names(prev.question))
             if fold(n) not in mine]
    return [n for n in names if not any(c.isdigit() for c in n) and not _country(n)]


def _office(question: str) -> str | None:
    """The person a question names by office, with the words before it that say which ("the Russian
    ambassador"), or None."""
    tokens = _tokens(question)
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
    names = _names(question)
    if not names:
        return False
    said = set(terms(prev.question)).union(*(terms(q) for q in last.quotes))
    named = {t for n in names for t in terms(n)}
    if not named or not named <= said:
        return False
    name_words = {t.fold for n in names for t in _tokens(n)}
    # "how long", "so much": degree words, not a subject of the question's own
    own = [t for t in _tokens(question) if t.content and t.fold not in name_words and t.fold not in WH_COMPLEMENTS]
    return len(own) <= THIN


SPACE = re.compile(r"\s+")


def resolve(question: str, history: Sequence[Turn], previous: Resolution | None = None) -> Resolution:
    """The question as it is to be answered, given the earlier turns (oldest first).

    `previous`: the last turn's own resolution, when the caller has it (resolve_history); otherwise
    the last turn's question is taken as it was asked."""
    question = SPACE.sub(" ", question).strip()
    level, reference = dependence(question)
    alone = Resolution(question, focus=_core(question))
    if not history:
        if level == "strong":
            return Resolution(question, False, reference, reference, _core(question))
        return alone
    last = history[-1]
    if previous is None:
        asked = SPACE.sub(" ", last.question).strip()
        previous = Resolution(asked, focus=_core(asked))
    if level == "none" and _restates(question, last, previous):
        level = "weak"  # asks more about what was just said ("How did Iran react?")
    if level == "none":
        return alone
    leaning = replace(alone, leans=True)
    if previous.unresolved is not None:  # the turn before leaned on nothing: there is nothing to carry
        return Resolution(question, False, reference, reference, _core(question), True) if level == "strong" \
            else leaning
    if level == "weak" and not _overlaps(question, last, previous):
        return leaning  # points back, but to nothing of the last turn: a new subject
    tokens = _tokens(question)
    own = [t for t in tokens if t.content]
    opened = _opener(tokens)
    carried = _carried(previous, last)
    if not own and any(t.fold in PERSONAL for t in tokens) and not _people(question, previous, last):
        return Resolution(question, False, reference, reference, _core(question), True)  # "what did he say?"
    if not own:
        standalone, focus = _bare_wh(question, previous, carried)
    elif opened:
        standalone, focus = _ellipsis(question, previous, opened)
    else:
        found = _substitute(question, previous, last, carried)
        if found is None:  # a "he" or "she" with no one to be
            return Resolution(question, False, reference, reference, _core(question), True)
        standalone, focus = found
    other = any(t.fold in OTHER for t in tokens)
    # the carried words ride in brackets ("how far can they (the missiles ...) fly?"): a reader is better
    # told which question this one was taken to follow than shown them
    follows = None
    if standalone.count("(") > question.count("("):
        follows = previous.follows or previous.question[:1].upper() + previous.question[1:]
    return Resolution(SPACE.sub(" ", standalone).strip(), True, None, reference, focus, True, other, follows)


def resolve_history(question: str, history: Sequence[Turn]) -> Resolution:
    """Resolve every earlier turn in order, each against the ones before it, then the question: "and
    why?" after "when was that?" leans on what "when was that?" itself was resolved to."""
    previous: Resolution | None = None
    for n in range(len(history)):
        previous = resolve(history[n].question, history[:n], previous)
    return resolve(question, history, previous)
