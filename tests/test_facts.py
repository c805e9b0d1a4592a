"""Figures and dates: also_in only for sentences stating the same fact; the same thing reported with
other figures or dates is cited as differs_in. Sentences from the seed articles and from three
articles written for the test (tests/fixtures/facts)."""

from __future__ import annotations

from server.facts import differ, facts_of

JANUARY = "For Moscow, Iranian President Masoud Pezeshkian’s visit to Russia on January 17 is a diplomatic victory."
END_OF_YEAR = "Thus, Pezeshkian's visit to Russia is expected to happen by the end of the year."
OCTOBER = ("In mid-October, Russian President Putin met with Iranian President Masoud Pezeshkian, reassuring each "
           "other that their bilateral relationship is good and improving.")
TRADE = ("This is especially relevant as Russo-Iranian bilateral trade dropped from \\$4.9 billion in 2022 to \\$4 "
         "billion in 2023--a decrease of about 17%.")
TRADE_AGAIN = ("For instance, bilateral trade in 2023 decreased by some 17 percent in comparison with what was "
               "recorded a year before.")


def test_values_not_words_are_compared() -> None:
    assert facts_of("$4.9 billion, 17 percent and 1,200 troops").figures == {"4.9e+09", "17%", "1200"}
    assert facts_of("signed on 17 January 2025").dates == ((2025, 1, 17, None, None),)
    assert facts_of("It may rain.").dates == ()  # the verb, not the month
    assert facts_of("the S-400 and Su-35").figures == frozenset()  # model names are not figures


def test_the_same_thing_with_another_date_or_figure_differs() -> None:
    assert differ(JANUARY, END_OF_YEAR)
    assert differ("Russia will invest $5 billion in the fields.", "Moscow will invest $4 billion in the fields.")
    assert differ("The treaty is signed on January 17.", "The treaty is signed on January 20.")


def test_agreeing_or_unrelated_facts_do_not_differ() -> None:
    assert not differ(TRADE, TRADE_AGAIN)  # 17% and 2023 in both
    assert not differ("The deal was signed in January 2025.", "The deal was signed on January 17, 2025.")
    assert not differ(JANUARY, OCTOBER)  # a visit and a meeting: two events that share only names
    assert not differ("The treaty is signed.", "The treaty is signed on January 17.")


def test_differing_article_is_cited_apart(facts_answerer) -> None:  # type: ignore[no-untyped-def]
    answer = facts_answerer.ask("What will Russia invest in Iran's gas fields?")
    assert not answer.abstained
    first = answer.quotes[0]
    assert "$5 billion" in first.text and first.doc_id in {"gas-a", "gas-c"}
    assert [c.doc_id for c in first.also_in] == [({"gas-a", "gas-c"} - {first.doc_id}).pop()]
    assert [c.doc_id for c in first.differs_in] == ["gas-b"]
    cited = first.differs_in[0]
    assert "$4 billion" in cited.text
    assert facts_answerer.index.articles["gas-b"].text[cited.start:cited.end] == cited.text
    for quote in answer.quotes:  # a differing report is never cited as stating the same
        assert not {c.doc_id for c in quote.also_in} & {c.doc_id for c in quote.differs_in}
        assert all(("$4" in quote.text) == ("$4" in c.text) for c in quote.also_in)


def test_differing_date_is_cited_apart(facts_answerer) -> None:  # type: ignore[no-untyped-def]
    answer = facts_answerer.ask("When will the partnership treaty be signed?")
    assert not answer.abstained
    by_doc = {q.doc_id: q for q in answer.quotes}
    quote = by_doc.get("gas-a") or by_doc["gas-b"]
    other = "gas-b" if quote.doc_id == "gas-a" else "gas-a"
    assert [c.doc_id for c in quote.differs_in] == [other]
    assert quote.also_in == ()


def test_seed_visit_dates_differ(answerer) -> None:  # type: ignore[no-untyped-def]
    answer = answerer.ask("When is Pezeshkian visiting Russia?")
    texts = {c.text for q in answer.quotes for c in q.differs_in} | {q.text for q in answer.quotes}
    assert any("January 17" in t for t in texts) and any("end of the year" in t for t in texts)
    assert not any("mid-October" in c.text for q in answer.quotes for c in q.differs_in)


def test_conflicting_facts_of_two_events_are_neither_same_nor_differing() -> None:
    from server.extract import differs, same_fact

    said = "Pezeshkian and Putin will use their meeting to discuss trade, the Kremlin said on Monday."
    assert not same_fact(said, OCTOBER, 0.8, 0.75) and not differs(said, OCTOBER, 0.8, 0.75)
