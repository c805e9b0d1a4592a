"""How a chat question points back at the turn before, read from its words alone: its tokens, the
words that point (pronouns, demonstratives, an opening "and" / "what about", a relative "other"), the
names it has, and how much it leans on the last turn (`dependence`). server.followup resolves it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from index.text import ALIASES, STOPWORDS, fold
from server.facts import MONTHS, WEEKDAYS

__all__ = ["Dependence", "Token", "dependence", "names_in", "pointers", "words_of"]

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
# "and in 2021?", "and with China?": the preposition the name keeps in the question it is put into
PLACING = frozenset("in at on for with to".split())
FILLERS = frozenset("ok okay well hmm right alright yes no sure thanks".split())  # "OK, which areas ...?"

Dependence = Literal["none", "weak", "bare", "strong"]


@dataclass(frozen=True)
class Token:
    text: str
    fold: str
    start: int
    end: int
    content: bool  # a content word of the question (not a stop word, wh-word or auxiliary)
    aside: bool = False  # an opening "OK," or "Fine,": a reply to the last answer, not part of the question


WORD = re.compile(r"[^\W_]+(?:[-’'][^\W_]+)*")  # keeps "Su-35" and "Moscow's" whole, unlike TOKEN


def words_of(question: str) -> list[Token]:
    found: list[Token] = []
    for m in WORD.finditer(question):
        f = fold(m.group(0))
        f = f.replace("’", "'")
        negated = f.endswith("n't")
        f = f.split("'")[0] if "'" in f else f  # "Moscow's" -> moscow, "didn't" -> didn, "I've" -> i
        if negated:
            f = "n't" if f in ("didn", "don", "doesn", "isn", "aren", "wasn", "weren", "hasn", "haven", "hadn",
                               "won", "wouldn", "can", "couldn", "shouldn") else f
        opening = not found and (f in FILLERS or _interjection(question, m.end()))
        found.append(Token(m.group(0), f, m.start(), m.end(), _content(f) and not opening, opening))
    # "the 2001 one", "why do they need one?": a pronoun for a thing of the kind said before, not a word of
    # the question's own
    return [replace(t, content=False) if pro_one(found, i) else t for i, t in enumerate(found)]


NOT_PRO_ONE = frozenset("no any every each some at".split())  # "no one", "at one point"


def pro_one(tokens: list[Token], i: int) -> bool:
    """"One" standing for a noun said before ("the old one", "which one?", "need one"): not "one of ...",
    "one country", "one other factor", "one another", "no one" or the "One" of a name."""
    t = tokens[i]
    if t.fold != "one" or i and (tokens[i - 1].fold in NOT_PRO_ONE or t.text[:1].isupper()):
        return False  # "Westwood One", "Number One": a word of a name
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    return after is None or not (after.content or after.fold in ("of", "another", "other", "more"))


AFTER_COMMA = re.compile(r"\s*,\s*([^\W_]+)")


def _interjection(question: str, end: int) -> bool:
    """The question's first word, set off by a comma before its wh-word or auxiliary ("Fine, why do they
    need one?", "Interesting, and when?"): a reply to the last answer, not what is asked about."""
    m = AFTER_COMMA.match(question, end)
    return m is not None and fold(m.group(1)) in WH | AUX | {"and", "but", "so"}


def _content(word: str) -> bool:
    return not (word in STOPWORDS or word in REFERRING or word in NEGATION or word in AUX or word in WH)


def opener_length(tokens: list[Token]) -> int:
    """How many tokens an opening "and" / "what about" takes (0 when there is none). Openers run on
    ("and what about China?", "OK, so how about India?"): each is taken in turn."""
    aside = 1 if tokens and tokens[0].aside else 0
    words = [t.fold for t in tokens]
    at = aside
    while opener := next((o for o in OPENERS if tuple(words[at:at + len(o)]) == o), None):
        at += len(opener)
    return at if at > aside else 0


def in_wh_phrase(tokens: list[Token], j: int) -> bool:
    """Token j belongs to the question's wh-phrase ("how far", "which areas", "what kind"): what is
    asked about, not something a later pronoun can point back to."""
    return j > 0 and tokens[j - 1].fold in WH


def pointers(tokens: list[Token]) -> list[tuple[int, bool]]:
    """(index, has_antecedent) of each word that points outside the question. A demonstrative before a
    content word ("that deal") names its own noun; "there is", "is there" and an "it" before a verb of
    being or taking are not references; an antecedent is any content word before the pronoun."""
    found = []
    for i, t in enumerate(tokens):
        # "one" as a pro-form: words_of (pro_one) marks it as no content word of the question
        if t.fold not in REFERRING and not (t.fold == "one" and not t.content and not t.aside):
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
        antecedent = any(u.content and not in_wh_phrase(tokens, j) for j, u in enumerate(tokens[:i]))
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
    tokens = words_of(question)
    if not tokens:
        return "none", None
    own = [t for t in tokens if t.content]
    opened = opener_length(tokens)
    pointing = pointers(tokens)
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
    relative = relative_word(tokens)
    if relative is not None:
        return "weak", relative
    if not names_in(question) and not question.islower():
        # A news question asked on its own names what it is about (a person, country, body, figure or
        # date); one that names nothing ("When did things start to improve?", "Give me an example.")
        # continues the conversation when there is one, as a bare pronoun does. Typed all in lower case,
        # a question's names cannot be told by their capitals ("what did lavrov say?"): no evidence.
        return "bare", None
    return "none", None


def relative_word(tokens: list[Token]) -> str | None:
    """A word that compares with or answers to something said before ("which other countries did the
    same?", "what did Iran get in return?", "did India join too?"): the question may lean on the last
    turn without a pronoun."""
    for i, t in enumerate(tokens):
        if t.fold in RELATIVE or (t.fold == "return" and i and tokens[i - 1].fold == "in"):
            return t.text
    return None


def is_name(t: Token, first: bool) -> bool:
    return t.content and ((t.text[:1].isupper() and not first) or t.fold in ALIASES or t.fold in ALIASES.values()
                          or any(c.isdigit() for c in t.text))


def core_of(question: str) -> str:
    """The question without its leading question words and final punctuation: what it is about."""
    tokens = words_of(question)
    i = 0
    while i < len(tokens) and (not tokens[i].content or tokens[i].fold in FILLERS or in_wh_phrase(tokens, i)
                               and tokens[i].fold in WH_COMPLEMENTS):
        i += 1  # "By how much did trade drop" -> "trade drop"
    rest = question[tokens[i].start:] if i < len(tokens) else question
    return rest.strip().rstrip("?!. ").strip()


def names_in(question: str) -> list[str]:
    """The names a question mentions, a run of capitalised words as one ("Arman Mahmoudian")."""
    tokens = words_of(question)
    runs: list[list[Token]] = []
    for i, t in enumerate(tokens):
        if is_name(t, i == 0):
            if runs and tokens.index(runs[-1][-1]) == i - 1 and t.text[:1].isupper():
                runs[-1].append(t)
            else:
                runs.append([t])
    names = [question[r[0].start:r[-1].end] for r in runs]
    return [n[:-2] if n.endswith(("'s", "’s")) else n for n in names]  # "Pezeshkian's" -> Pezeshkian


CALENDAR = frozenset(MONTHS + WEEKDAYS)


def is_calendar(name: str) -> bool:
    """"September", "Monday, January": a time, which no "he" or "she" is, whatever its capital letter."""
    words = [w for w in re.findall(r"[\w-]+", fold(name)) if not w.isdigit()]
    return bool(words) and all(w in CALENDAR for w in words)


def is_country(word: str) -> bool:
    f = fold(word)
    return f in ALIASES or f in ALIASES.values()
