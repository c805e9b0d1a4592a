"""Questions as people type them: the same normalisation as the index, and one-letter typo repair."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from itertools import takewhile

from index.text import STOPWORDS, TOKEN, fold, stem

LETTERS = "abcdefghijklmnopqrstuvwxyz"
MAX_QUESTION = 1000


def question_problem(text: str) -> str | None:
    """Why `text` (already trimmed) cannot be asked, or None. Checked before a question joins an encode
    batch: one the tokenizer cannot take (a lone surrogate, e.g. from JSON "\\ud800") must fail alone,
    and one of only invisible characters (zero-width spaces, NULs, other format or control characters)
    is as empty as one of spaces."""
    if not any(not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc") for ch in text):
        return "question is empty: type a question about the articles"
    if len(text) > MAX_QUESTION:
        return f"question is {len(text)} characters long; the limit is {MAX_QUESTION}"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (f"question holds a character that is not valid Unicode text (U+{ord(text[exc.start]):04X} at "
                f"position {exc.start}): send the question as UTF-8 text")
    return None


@dataclass(frozen=True)
class Vocabulary:
    """Words of the corpus with their counts, the stems BM25 knows, and the words the language
    model knows (its tokenizer's whole words): a word known to either is not a typo."""

    words: Counter[str]
    stems: frozenset[str]
    dictionary: frozenset[str] = frozenset()

    @cached_property
    def ordered(self) -> tuple[str, ...]:
        """The corpus words sorted, for finding the longer forms of a word by bisection."""
        return tuple(sorted(self.words))


def edits1(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in LETTERS]
    inserts = [a + c + b for a, b in splits for c in LETTERS]
    return set(deletes + transposes + replaces + inserts)


def correct(word: str, vocab: Vocabulary) -> str | None:
    """The most frequent corpus word one edit away from an unknown `word` of 4+ letters, if any."""
    if len(word) < 4 or not word.isalpha() or word in STOPWORDS or word in vocab.dictionary:
        return None
    if word in vocab.words or stem(word) in vocab.stems:
        return None
    options = [w for w in edits1(word) if w in vocab.words]
    return max(options, key=lambda w: (vocab.words[w], w)) if options else None


NAME = re.compile(r"[A-Z][^\W_]*")
MAX_NAMES = 32
FIGURE = re.compile(r"(?<![\w.,])\d+(?![\w.,]?\d)")


def names_known(question: str, vocab: Vocabulary) -> float:
    """Share of the names and figures a question mentions (capitalised words after its first, numbers)
    that occur in the corpus; 1.0 when it names none. A question about "Xi Jinping" or about trade
    "in 2021" cannot be answered by articles that never mention them, however close its other words."""
    found = [m.group(0) for m in NAME.finditer(question) if m.start() > 0 and question[:m.start()].strip()]
    found = [w for w in found if fold(w) not in STOPWORDS] + FIGURE.findall(question)
    found = list(dict.fromkeys(found))[:MAX_NAMES]  # a long question must not cost a scan per word
    if not found:
        return 1.0
    return sum(1 for w in found if mentioned(fold(w), vocab)) / len(found)


def mentioned(word: str, vocab: Vocabulary) -> bool:
    """The corpus has the word, or a form of it: "Yemeni" for "Yemen", "America" for "American"."""
    if word in vocab.words or stem(word) in vocab.stems:
        return True
    if len(word) < 4:
        return False
    if any(word[:n] in vocab.words for n in range(max(4, len(word) - 3), len(word))):  # "yemeni" -> "yemen"
        return True
    # longer forms sort right after the word: "america" -> "american"
    ordered = vocab.ordered
    following = (ordered[i] for i in range(bisect_left(ordered, word), len(ordered)))
    longer = takewhile(lambda w: w.startswith(word), following)
    return any(len(w) <= len(word) + 3 for w in longer)


def repair(question: str, vocab: Vocabulary) -> str:
    """The question with misspelt words replaced by their likely corpus spelling (case kept loosely)."""
    def fix(match: re.Match[str]) -> str:
        original = match.group(0)
        better = correct(fold(original), vocab)
        if better is None:
            return original
        return better.capitalize() if original[:1].isupper() else better

    return TOKEN.sub(fix, question)


def span_problem(texts: Mapping[str, str], doc_id: str, start: int, end: int, where: str) -> str | None:
    """What is wrong with a quote a client sends back (`where` names it), or None: one check for the
    conversation's history and for feedback on an answer."""
    text = texts.get(doc_id)
    if text is None:
        return f"{where}: no article has the id {doc_id!r}; send the quotes as /ask returned them (see /api/articles)."
    if not 0 <= start < end <= len(text):
        return (f"{where}: the span {start}-{end} is not inside {doc_id} (0 to {len(text)} characters, start "
                "before end).")
    return None
