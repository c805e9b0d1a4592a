"""What kind of answer a question wants, read from its parse: the wh-word, the noun it governs and
the unit it counts, mapped by one table to the entity labels (OntoNotes, as spaCy's recogniser
assigns them at build time) of a sentence that answers, and to a head noun that sentence must name.
A question without a wh-word, or with one the table does not type ("why", "how did"), wants "any"."""

from __future__ import annotations

from dataclasses import dataclass

from server.parse import NAME_TAGS, NOUN_TAGS, Parse, Token
from server.qtype import PERSON_ROLES

PERSON = frozenset({"PERSON", "ORG", "NORP"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
DATE = frozenset({"DATE", "TIME"})
COUNT = frozenset({"CARDINAL", "QUANTITY"})
AMOUNT = frozenset({"MONEY", "QUANTITY", "PERCENT", "CARDINAL"})
MEASURE = frozenset({"QUANTITY", "CARDINAL"})
DURATION = frozenset({"DATE", "TIME", "QUANTITY"})
NAMED = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "NORP"})

# The table: (type name, entity labels) for each way of asking.
TYPES: dict[str, frozenset[str]] = {
    "person": PERSON, "place": PLACE, "date": DATE, "time": DATE, "count": COUNT, "amount": AMOUNT,
    "money": frozenset({"MONEY"}), "percent": frozenset({"PERCENT"}), "measure": MEASURE, "duration": DURATION,
    "age": frozenset({"DATE", "CARDINAL"}), "organisation": frozenset({"ORG"}), "group": frozenset({"NORP", "ORG"}),
    "language": frozenset({"LANGUAGE", "NORP"}), "law": frozenset({"LAW"}), "event": frozenset({"EVENT", "DATE"}),
    "work": frozenset({"WORK_OF_ART"}), "product": frozenset({"PRODUCT", "ORG"}), "name": NAMED,
}
WH_WORD = {"who": "person", "whom": "person", "whose": "person", "where": "place", "when": "date"}
HOW = {  # "how" + the word after it
    "many": "count", "much": "amount", "long": "duration", "old": "age", "often": "count", "far": "measure",
    "high": "measure", "tall": "measure", "deep": "measure", "wide": "measure", "big": "measure",
    "large": "measure", "heavy": "measure", "fast": "measure", "late": "date", "early": "date",
}
_HEADS = {
    "date": "year date month day century decade era period season week",
    "time": "time hour",
    "place": """city country state nation place region town province continent location island village capital
        county district river mountain sea ocean lake border area territory neighbourhood neighborhood airport
        stadium bridge building street port site""",
    "organisation": """company organization organisation team party university agency institution club school
        college firm band network newspaper bank army navy court church""",
    "group": "nationality religion ethnicity tribe",
    "person": "person man woman people individual " + " ".join(sorted(PERSON_ROLES)),  # one list of roles
    "language": "language",
    "law": "law act treaty bill amendment agreement",
    "event": "war battle event festival tournament election revolution",
    "work": "book film movie song album painting novel show play poem opera series",
    "product": "product missile aircraft weapon car plane drone jet ship device",
    "money": "price cost sum fee salary budget",
    "amount": "value amount figure total level",
    "percent": "percentage percent proportion share",
    "count": "number population",
    "measure": "distance length height weight area speed temperature size depth range width",
    "age": "age",
}
HEAD_TYPE = {word: kind for kind, words in _HEADS.items() for word in words.split()}
MAGNITUDES = frozenset({"measure"})  # a dimension: one in the singular, places or kinds in the plural
PLURAL = frozenset({"NNS", "NNPS"})
# The forms a sentence may name a unit by.
UNIT_FORMS = {"kilometre": ("km", "kilometer", "kilometre"), "kilometer": ("km", "kilometer", "kilometre"),
              "mile": ("mile", "mi"), "metre": ("metre", "meter", "m"), "meter": ("metre", "meter", "m"),
              "kilogram": ("kilogram", "kg"), "percentage": ("%", "percent", "per cent", "percentage"),
              "percent": ("%", "percent", "per cent", "percentage"), "ton": ("ton", "tonne"), "tonne": ("ton", "tonne")}
# Units a "how many" question counts in: the figure must be in that unit.
UNITS = frozenset("""kilometre kilometer km mile metre meter foot feet inch yard ton tonne kilogram kg gram pound
    acre hectare degree litre liter gallon barrel square""".split())
TIME_UNITS = frozenset("year month week day hour minute second decade century".split())
SKIPPED = frozenset({"DT", "PDT", "CD", "JJ", "JJR", "JJS", "RB", "POS", "PRP$", "HYPH", "VBN", "VBG"})
COPULA = frozenset({"be", "'s"})
STRANDED = frozenset({"IN", "RP"})  # a preposition or particle that ends a question
PUNCTUATION = frozenset({".", ",", ":", "``", "''", "-LRB-", "-RRB-", "NFP", "HYPH"})


@dataclass(frozen=True)
class AnswerType:
    name: str  # a key of TYPES, "head" (a sentence must name the head noun) or "any"
    labels: frozenset[str] = frozenset()  # entity labels of an answer
    head: str | None = None  # lemma of the noun the answer is ("missile", "route"), or the unit counted
    wh: str | None = None  # the wh-word, lower case

    @property
    def typed(self) -> bool:
        return bool(self.labels)


ANY = AnswerType("any")


def noun_run(tokens: tuple[Token, ...], i: int) -> tuple[Token | None, int]:
    """The head of the noun phrase starting at token i ("former Kremlin adviser" -> adviser), after
    determiners, numbers and adjectives, and the position after it."""
    head = None
    while True:
        while i < len(tokens) and tokens[i].tag in SKIPPED:
            i += 1
        while i < len(tokens) and tokens[i].tag in NOUN_TAGS:
            head = tokens[i]
            i += 1
        if head is None or i >= len(tokens) or tokens[i].tag != "POS":
            return head, i
        head = None  # "Iran's ambassador": the possessor is not the head


def unbracketed(tokens: tuple[Token, ...]) -> tuple[Token, ...]:
    kept, depth = [], 0
    for t in tokens:
        depth += t.tag == "-LRB-"
        if not depth:
            kept.append(t)
        depth -= depth > 0 and t.tag == "-RRB-"
    return tuple(kept)


def stranded(tokens: tuple[Token, ...], after: int) -> bool:
    """The question ends in a preposition with no verb between it and the noun phrase that ends at
    `after` ("what is that agreement about?"); with a verb between, the preposition ends a relative
    clause of that noun ("what was the first team he played for?") and the noun is still the answer."""
    words = [t for t in tokens[after:] if t.tag not in PUNCTUATION]
    return bool(words) and words[-1].tag in STRANDED and not any(t.tag.startswith("VB") for t in words)


def priced(tokens: tuple[Token, ...], j: int) -> bool:
    """"What does one cost?", "what did the S-400 cost?": after the wh-word an auxiliary "do", and the
    question ends on "cost", whose object (the wh-word) is a price."""
    words = [t for t in tokens[j:] if t.tag not in PUNCTUATION]
    return len(words) >= 2 and words[0].lemma == "do" and words[-1].text.lower() in ("cost", "costs")


def asks_who_named_is(parse: Parse) -> bool:
    """"Who is Masoud Pezeshkian?", "who are the Houthis?": the copula's subject is a name the question
    gives, so the question asks what that one is (an office, a description) and its answer is about them;
    the other people the answer names are not what it gave. "Who is the Iranian president?" asks for a
    person."""
    tokens = [t for t in unbracketed(parse.tokens) if t.tag not in PUNCTUATION]
    if len(tokens) < 3 or tokens[0].lemma not in ("who", "whom") or tokens[1].lemma not in COPULA:
        return False
    rest = tokens[3:] if tokens[2].lemma == "the" else tokens[2:]
    return bool(rest) and all(t.tag in NAME_TAGS and t.text[:1].isupper() for t in rest)


def possessor(tokens: tuple[Token, ...], i: int) -> Token | None:
    """The noun whose "'s" stands just before token i ("the ambassador's name" -> ambassador)."""
    return tokens[i - 2] if i >= 2 and tokens[i - 1].tag == "POS" and tokens[i - 2].tag in NOUN_TAGS else None


def of_head(head: Token, tokens: tuple[Token, ...], after: int, wh: str) -> AnswerType:
    """The type for a head noun; "the name of X", "X's name" and "the number of X" look at X as well."""
    lemma = head.lemma
    owner = possessor(tokens, after - 1) if lemma in ("name", "title") else None  # noun_run: the head ends there
    owned = HEAD_TYPE.get(owner.lemma) if owner else None
    if owner and owned:  # "what's the ambassador's name?"
        return AnswerType(owned if lemma == "name" else "head", TYPES[owned] if lemma == "name" else frozenset(),
                          owner.lemma, wh)
    if lemma in ("name", "title", "kind", "type") and after + 1 < len(tokens) and tokens[after].lemma == "of":
        inner, _ = noun_run(tokens, after + 1)
        if inner is not None:
            kind = HEAD_TYPE.get(inner.lemma)
            if lemma == "name":
                return AnswerType(kind or "name", TYPES[kind or "name"], inner.lemma, wh)
            return AnswerType("head", frozenset(), inner.lemma, wh)
        return AnswerType("name", NAMED, None, wh)
    if lemma == "number" and after + 1 < len(tokens) and tokens[after].lemma == "of":
        inner, _ = noun_run(tokens, after + 1)
        return AnswerType("count", TYPES["count"], inner.lemma if inner else None, wh)
    kind = HEAD_TYPE.get(lemma)
    if kind is None or kind in MAGNITUDES and head.tag in PLURAL:
        # "which areas ...?" asks for things of a sort, not for a magnitude ("what area ...?")
        return AnswerType("head", frozenset(), lemma, wh)
    return AnswerType(kind, TYPES[kind], lemma, wh)


def answer_type(parse: Parse) -> AnswerType:
    """The answer type of a parsed question; ANY when it has no wh-word the table types. A bracketed
    insertion (the focus a follow-up carries over: "how far can they (the missiles) fly?") is context,
    not part of what the question's grammar asks."""
    parse = Parse(parse.text, unbracketed(parse.tokens))
    i = parse.wh()
    if i is None:
        return ANY
    tokens = parse.tokens
    wh = tokens[i].lemma
    if wh in WH_WORD:
        kind = WH_WORD[wh]
        return AnswerType(kind, TYPES[kind], None, wh)
    if wh == "how":
        nxt = tokens[i + 1].lemma if i + 1 < len(tokens) else ""
        how = HOW.get(nxt)
        if how is None:
            return AnswerType("any", frozenset(), None, wh)  # how did, how does: a manner, any sentence
        kind = how
        if kind in ("count", "amount"):
            head, _ = noun_run(tokens, i + 2)
            if head is not None and head.lemma in UNITS:
                return AnswerType("measure", TYPES["measure"], head.lemma, wh)
            if head is not None and head.lemma in TIME_UNITS:
                return AnswerType("duration", TYPES["duration"], head.lemma, wh)
            if kind == "amount" and head is None:
                return AnswerType("amount", TYPES["amount"], None, wh)
            if head is not None and head.lemma in ("time",):
                return AnswerType("count", TYPES["count"], None, wh)  # "how many times": answered "twice"
            return AnswerType(kind, TYPES[kind], head.lemma if head else None, wh)
        return AnswerType(kind, TYPES[kind], None, wh)
    if wh in ("what", "which"):
        j = i + 1
        copular = j < len(tokens) and tokens[j].lemma in COPULA  # "what is the capital of ..."
        j += copular
        if priced(tokens, j):
            # "what does one cost?": the wh-word is the verb's object, a price (spaCy's small model may tag
            # the verb "cost" a noun: the noun run it ends is no head of the answer)
            return AnswerType("money", TYPES["money"], None, wh)
        head, after = noun_run(tokens, j)
        if head is None:
            return AnswerType("any", frozenset(), None, wh)  # "what did they want": a clause, any sentence
        if copular and stranded(tokens, after):
            # "what is that agreement about?": the wh-word is the object of the stranded preposition, and
            # the noun the subject the question asks about, not what the answer is
            return AnswerType("any", frozenset(), None, wh)
        return of_head(head, tokens, after, wh)
    return AnswerType("any", frozenset(), None, wh)  # why, whether, ...
