"""Lexical normalisation shared by the BM25 index and the query side, so both see the same terms."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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


def fold(text: str) -> str:
    """Unicode-compatible, accent-free lower case: the form both sides of BM25 compare."""
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
