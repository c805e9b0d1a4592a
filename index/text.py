"""Lexical normalisation shared by the BM25 index and the query side, so both see the same terms."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from index.columns import TermTable

TOKEN = re.compile(r"[^\W_]+")
# Function words and question words carry no evidence of an answer.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not of off on once only or other our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your yours
    yourself yourselves s t d ll m o re ve y tell please know anything say said says
    """.split()
)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


# A model designation ("Fateh-110", "Su-35", "S-400", "Yak-130"): a capitalised name, a hyphen, digits. A
# name, not a quantity, though it holds digits; spaCy's small model tags some as products and others as
# nothing. (A figure is told from a name more broadly: server.qtype.LETTERS_FIRST.)
DESIGNATION = re.compile(r"(?<![\w-])[A-Z][A-Za-z]{0,9}-\d{1,4}[A-Za-z]?(?![\w-])")


# The residue of the markup an article was flattened from: Markdown's backslash escapes ("\\$4 billion"),
# HTML entities ("&nbsp;") and a double hyphen standing for a dash ("2023--a decrease").
ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$%&~|<>])")
ENTITY = re.compile(r"&(nbsp|amp|quot|apos|lt|gt|#39);?")
ENTITIES = {"nbsp": " ", "amp": "&", "quot": '"', "apos": "'", "lt": "<", "gt": ">", "#39": "'"}
DOUBLE_DASH = re.compile(r"(?<=\w)--(?=\w)")


def masked_residue(text: str) -> str:
    """`text` as a tagger should read it, character for character: an escape's backslash and an entity's
    spare characters become spaces and a double hyphen a dash, so that "\\$4.9 billion" reads as a sum of
    money; every character keeps its offset, so what is found there is a span of the article's text."""
    text = ESCAPED.sub(lambda m: " " + m.group(1), text)
    text = ENTITY.sub(lambda m: ENTITIES[m.group(1)].ljust(len(m.group(0))), text)
    return DOUBLE_DASH.sub(" \u2014", text)


def fold(text: str) -> str:
    """Unicode-compatible, accent-free lower case: the form both sides of BM25 compare."""
    if text.isascii():  # nothing to decompose (most English text): the same result, many times faster
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def words(text: str) -> list[str]:
    """Lower-cased words, stop words kept: the raw terms of a text."""
    return TOKEN.findall(fold(text))


# News names a state by its capital, its seat of power or its demonym ("the Kremlin", "Tehran",
# "Iranian officials"); for lexical matching they are the country.
ALIASES = {
    "kremlin": "russia", "moscow": "russia", "russian": "russia", "russians": "russia",
    "tehran": "iran", "iranian": "iran", "iranians": "iran",
    "beijing": "china", "chinese": "china", "kyiv": "ukraine", "kiev": "ukraine", "ukrainian": "ukraine",
    "ukrainians": "ukraine", "israeli": "israel", "israelis": "israel", "syrian": "syria",
    "armenian": "armenia", "azerbaijani": "azerbaijan", "baku": "azerbaijan", "yerevan": "armenia",
    "ankara": "turkey", "turkish": "turkey", "damascus": "syria", "indian": "india", "delhi": "india",
}


def terms(text: str) -> list[str]:
    """Stemmed content terms of a text, in order, stop words removed, country aliases folded."""
    kept = [ALIASES.get(w, w) for w in words(text) if w not in STOPWORDS]
    return list(_stemmer().stemWords(kept)) if kept else []


def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


@lru_cache(maxsize=1)
def lexical_version() -> str:
    """A fingerprint of the rules above: an index whose terms were made under other rules is stale."""
    rules = repr((sorted(STOPWORDS), sorted(ALIASES.items()), TOKEN.pattern, "snowball-english"))
    return hashlib.sha256(rules.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Lexicon:
    """The lexical side of an index, computed once at build time: each sentence's terms, each term's
    passage count (for IDF), and the corpus's words with their counts (for typo repair)."""

    sentence_terms: Sequence[frozenset[str]]  # one per sentence (index.columns.TermTable when read back)
    document_frequency: dict[str, int]
    passages: int
    words: Counter[str]


def lexicon(sentences: Iterable[str], passages: Iterable[str]) -> Lexicon:
    return grow(Lexicon([], {}, 0, Counter()), sentences, passages)


def grow(base: Lexicon, sentences: Iterable[str], passages: Iterable[str]) -> Lexicon:
    """`base` with more sentences and passages: the lexicon of all of them (every count is a sum)."""
    more = [frozenset(terms(s)) for s in sentences]
    # a table read back from an index grows as a table: its rows are not made into sets again
    table = base.sentence_terms
    sentence_terms = table.extended(more) if isinstance(table, TermTable) else list(table) + more
    df: Counter[str] = Counter(base.document_frequency)
    words: Counter[str] = Counter(base.words)
    n = base.passages
    for text in passages:
        n += 1
        df.update(set(terms(text)))
        words.update(TOKEN.findall(fold(text)))
    return Lexicon(sentence_terms, dict(df), n, words)
