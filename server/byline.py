"""Questions about who wrote a piece: answer with the article's own byline or author bio sentence."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

from index.records import Article, Sentence
from index.text import terms

AUTHOR_Q = re.compile(
    r"\b(who (wrote|writes|authored|penned|is the (author|writer))|author|writer|byline|written by|"
    r"whose (article|piece|op-?ed|analysis|column|commentary))", re.IGNORECASE)


def asks_author(question: str) -> bool:
    return bool(AUTHOR_Q.search(question))


class Titles:
    """Each term of an article's title or source -> the articles holding it: a question is then compared
    with the articles sharing one of its terms, not with every article of the archive."""

    def __init__(self, articles: Mapping[str, Article]) -> None:
        self.docs: dict[str, list[str]] = {}
        for doc_id, a in articles.items():
            for term in set(terms(" ".join(filter(None, (a.meta.title, a.meta.source))))):
                self.docs.setdefault(term, []).append(doc_id)

    def named(self, question: str) -> list[str]:
        """The articles whose title or source shares the most terms with the question (none: [])."""
        overlap = Counter(doc_id for term in set(terms(question)) for doc_id in self.docs.get(term, ()))
        best = max(overlap.values(), default=0)
        return sorted(d for d, n in overlap.items() if n == best)


def sources_of(articles: dict[str, Article]) -> dict[str, frozenset[str]]:
    """Each source name (as the metadata spells it, at least 4 characters) -> the articles it published:
    made once, so a question is compared with the few sources rather than with every article."""
    found: dict[str, set[str]] = {}
    for doc_id, a in articles.items():
        if a.meta.source and len(a.meta.source) >= 4:
            found.setdefault(a.meta.source, set()).add(doc_id)
    return {name: frozenset(ids) for name, ids in found.items()}


def named_sources(question: str, sources: dict[str, frozenset[str]]) -> frozenset[str]:
    """Articles whose source the question names ("what does Asia Times say about ..."); `sources`
    from sources_of. Whole words only: a source called "Time" is not named by "sometimes". And a question
    that capitalises its names ("Who was Iran's president at the time?") names a source only as the source
    capitalises itself: "the time" is no magazine, "the economist" no newspaper. One typed without capitals
    after its first word ("has the ledger's view changed?") gives no such evidence and matches in any case."""
    asked = " ".join(question.split())
    careful = any(w[:1].isupper() for w in asked.split()[1:])
    return frozenset().union(*(ids for name, ids in sources.items() if _named(asked, name, careful)))


def _named(asked: str, name: str, careful: bool) -> bool:
    for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", asked, re.IGNORECASE):
        if not careful or m.start() == 0:  # a question's first word is capitalised anyway
            return True
        # each capitalised word of the name capitalised in the question too ("the Economist" for "The Economist")
        if all(q[:1].isupper() or not s[:1].isupper() or n == 0 and s.lower() == "the"
               for n, (s, q) in enumerate(zip(name.split(), m.group(0).split(), strict=False))):
            return True
    return False


def without_sources(question: str, articles: dict[str, Article], named: frozenset[str]) -> str:
    """The question minus the source names it mentions: they say where to look, not what to find."""
    for source in dict.fromkeys(articles[doc_id].meta.source or "" for doc_id in sorted(named)):
        question = re.sub(re.escape(source), " ", question, flags=re.IGNORECASE)
    return " ".join(question.split())


def author_sentences(question: str, titles: Titles, retrieved: Sequence[str], articles: Mapping[str, Article],
                     doc_sentences: Mapping[str, Sequence[int]], sentences: Sequence[Sentence]) -> list[int]:
    """Sentences naming the author of the articles the question is about (bio lines, bylines): those whose
    title or source it names, else those retrieved for it."""
    found = []
    for doc_id in titles.named(question) or sorted(set(retrieved)):
        author = articles[doc_id].meta.author
        if author:
            surname = author.split()[-1].lower()
            found += [i for i in doc_sentences.get(doc_id, ()) if surname in sentences[i].text.lower()]
    return sorted(found)
