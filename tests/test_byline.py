"""Who-wrote questions: the articles a question names, found through their title and source terms."""

from __future__ import annotations

from index.records import Article, Metadata, Sentence
from server.answerer import Answerer
from server.byline import Titles, author_sentences


def article(doc_id: str, title: str, source: str, author: str | None, text: str) -> Article:
    return Article(doc_id, f"{doc_id}.txt", text, "", Metadata(title=title, source=source, author=author))


ARTICLES = {
    "a": article("a", "Bridge approved after long vote", "Ledger", "Ann Smith",
                 "By Ann Smith. The bridge was approved."),
    "b": article("b", "Harbour dredging begins", "Courier", "Bo Jones", "The harbour opened. Bo Jones reports."),
    "c": article("c", "Bridge tolls rise", "Courier", None, "Tolls rose."),
}
def sentences() -> list[Sentence]:
    found = []
    for doc_id, a in ARTICLES.items():
        start = 0
        for part in a.text.split(". "):
            end = start + len(part) + (0 if part.endswith(".") else 1)
            found.append(Sentence(doc_id, start, end, a.text[start:end]))
            start = end + 1
    return found


SENTENCES = sentences()
DOC_SENTENCES = {"a": [0, 1], "b": [2, 3], "c": [4]}


def test_titles_name_the_articles_sharing_most_terms() -> None:
    titles = Titles(ARTICLES)
    assert titles.named("who wrote the piece on the bridge vote?") == ["a"]  # bridge + vote beat bridge alone
    assert titles.named("who wrote the Courier article?") == ["b", "c"]
    assert titles.named("who wrote it?") == []


def test_author_sentences_of_the_named_articles_else_the_retrieved_ones() -> None:
    titles = Titles(ARTICLES)
    args = (ARTICLES, DOC_SENTENCES, SENTENCES)
    assert author_sentences("who wrote the bridge vote story", titles, ["b"], *args) == [0]
    assert author_sentences("who wrote the Courier article?", titles, [], *args) == [3]  # c has no author
    assert author_sentences("who wrote it?", titles, ["b", "b"], *args) == [3]
    assert author_sentences("who wrote it?", titles, [], *args) == []


def test_seed_author_question_without_a_title(answerer: Answerer) -> None:
    """Naming no title, the question is about the articles retrieved for it."""
    answer = answerer.ask("who wrote the analysis of the Su-35 fighter jets Iran has not received?")
    assert not answer.abstained
    doc = answer.quotes[0].doc_id
    author = answerer.index.articles[doc].meta.author
    assert author and author.split()[-1] in answer.quotes[0].text
