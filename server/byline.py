"""Questions about who wrote a piece: answer with the article's own byline or author bio sentence."""

from __future__ import annotations

import re

from index.records import Article, Sentence
from index.text import terms

AUTHOR_Q = re.compile(
    r"\b(who (wrote|writes|authored|penned|is the (author|writer))|author|writer|byline|written by|"
    r"whose (article|piece|op-?ed|analysis|column|commentary))", re.IGNORECASE)


def asks_author(question: str) -> bool:
    return bool(AUTHOR_Q.search(question))


def article_match(question: str, articles: dict[str, Article]) -> list[str]:
    """Articles whose title or source the question names (most shared terms), else every article."""
    asked = set(terms(question))
    overlap = {
        doc_id: len(asked & set(terms(" ".join(filter(None, (a.meta.title, a.meta.source))))))
        for doc_id, a in articles.items()
    }
    best = max(overlap.values(), default=0)
    return sorted(d for d, n in overlap.items() if n == best) if best else sorted(articles)


def sources_of(articles: dict[str, Article]) -> dict[str, frozenset[str]]:
    """Each source name (lower case, at least 4 characters) -> the articles it published: made once, so
    a question is compared with the few sources rather than with every article."""
    found: dict[str, set[str]] = {}
    for doc_id, a in articles.items():
        if a.meta.source and len(a.meta.source) >= 4:
            found.setdefault(a.meta.source.lower(), set()).add(doc_id)
    return {name: frozenset(ids) for name, ids in found.items()}


def named_sources(question: str, sources: dict[str, frozenset[str]]) -> frozenset[str]:
    """Articles whose source the question names ("what does Asia Times say about ..."); `sources`
    from sources_of."""
    asked = " ".join(question.lower().split())
    return frozenset().union(*(ids for name, ids in sources.items() if name in asked))


def without_sources(question: str, articles: dict[str, Article], named: frozenset[str]) -> str:
    """The question minus the source names it mentions: they say where to look, not what to find."""
    for source in dict.fromkeys(articles[doc_id].meta.source or "" for doc_id in sorted(named)):
        question = re.sub(re.escape(source), " ", question, flags=re.IGNORECASE)
    return " ".join(question.split())


def author_sentences(question: str, articles: dict[str, Article], sentences: list[Sentence]) -> list[int]:
    """Body sentences naming the author of the articles the question is about (bio lines, bylines)."""
    wanted = set(article_match(question, articles))
    found = []
    for i, s in enumerate(sentences):
        author = articles[s.doc_id].meta.author if s.doc_id in wanted else None
        if author and author.split()[-1].lower() in s.text.lower():
            found.append(i)
    return found
