"""Who-wrote questions: the articles a question names, found through their title and source terms."""

from __future__ import annotations

from index.records import Article, Metadata, Sentence
from server.answerer import Answerer
from server.byline import Titles, author_sentences, named_sources, sources_of


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


def test_a_source_is_named_by_its_whole_name_only() -> None:
    sources = sources_of({**ARTICLES, "d": article("d", "Clocks", "Time", None, "Clocks changed.")})
    assert named_sources("What does the Courier say about tolls?", sources) == {"b", "c"}
    assert named_sources("Has the ledger's view changed?", sources) == {"a"}  # case and a possessive aside
    assert named_sources("Why do tolls sometimes rise?", sources) == frozenset()  # not "Time"
    assert named_sources("Is it the couriers' strike?", sources) == frozenset()


def test_a_question_that_capitalises_names_names_a_source_only_capitalised() -> None:
    sources = sources_of({**ARTICLES, "d": article("d", "Clocks", "Time", None, "Clocks changed."),
                          "e": article("e", "Markets", "The Economist", None, "Markets fell.")})
    assert named_sources("Who was Iran's president at the time?", sources) == frozenset()
    assert named_sources("What did Time say about Iran?", sources) == {"d"}
    assert named_sources("What did the economist at the Bank of England say?", sources) == frozenset()
    assert named_sources("What does the Economist say about Iran?", sources) == {"e"}
    assert named_sources("Time and again, did the Courier report on Iran?", sources) == {"b", "c", "d"}  # first word
    # without capitals after its first word the question gives no evidence either way
    assert named_sources("what did time say about iran?", sources) == {"d"}


MING_PAO, GULF = "004_0baecaff5e4cbb7e", "001_e16f233a03124463"


def test_a_question_naming_a_source_is_answered_from_that_sources_articles(answerer: Answerer) -> None:
    # both articles give a 2023 trade figure: the one asked about is where to look, not a hint
    question = "What does the Ming Pao article put the 2023 Russia-Iran trade total at?"
    answer = answerer.ask(question)
    assert not answer.abstained and {q.doc_id for q in answer.quotes} == {MING_PAO}
    assert {p.doc_id for p in answer.passages} == {MING_PAO}
    other = answerer.ask("How much did bilateral trade drop in 2023, according to the Gulf Research Center?")
    assert {q.doc_id for q in other.quotes} == {GULF}


def test_a_source_too_large_to_scan_is_searched_through_the_index(answerer: Answerer) -> None:
    # past VERBATIM_RESTRICTED_EXHAUSTIVE passages the restriction filters a wider index search instead
    settings = answerer.settings.model_copy(update={"restricted_exhaustive": 0})
    narrow = Answerer(answerer.index, answerer.embedder, settings, parser=answerer.parser)
    question = "What does the Ming Pao article put the 2023 Russia-Iran trade total at?"
    scanned, searched = answerer.ask(question), narrow.ask(question)
    assert {p.doc_id for p in searched.passages} == {MING_PAO}
    assert [(q.doc_id, q.start, q.end) for q in searched.quotes] == [(q.doc_id, q.start, q.end) for q in scanned.quotes]
