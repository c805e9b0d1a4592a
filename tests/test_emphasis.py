"""The answering phrase inside a quote, found by the kind of answer the question wants."""

from __future__ import annotations

from server.emphasis import answer_phrase
from server.qtype import expected
from server.readable import quote_parts, readable
from server.records import Quote


def phrase(sentence: str, question: str) -> str | None:
    found = answer_phrase(sentence, expected(question), question)
    return sentence[found[0]:found[1]] if found else None


def test_the_phrase_of_the_wanted_kind_is_found() -> None:
    assert phrase("In August 2023, Lavrov advocated for the opening of the corridor, which drew a sharp response "
                  "from Tehran.", "when did Lavrov call for opening the Zangezur corridor") == "August 2023"
    assert phrase("Russia had also pledged to invest in Iran's oil and gas industries, promising a \\$40 billion "
                  "investment package during Putin's visit to Tehran in 2022.",
                  "How much did Russia pledge to invest?") == "\\$40 billion"
    assert phrase("Gaining expertise on how to use them requires a long time (i.e., the S-400 air defense system "
                  "would need at least three months).", "How long would Iranians need to learn the S-400?") \
        == "three months"
    assert phrase("This is especially relevant as Russo-Iranian bilateral trade dropped from \\$4.9 billion in 2022 "
                  "to \\$4 billion in 2023--a decrease of about 17%.",
                  "By what percentage did trade fall in 2023?") == "17%"


def test_no_phrase_when_any_sentence_may_answer_or_none_is_there() -> None:
    assert phrase("Lavrov confirmed that the agreement would involve more defence", "What did Lavrov say?") is None
    assert phrase("The two sides are eager to conclude the treaty.", "When will the treaty be signed?") is None
    assert phrase("It happened in 2023.", "What happened in 2023?") is None  # the question's own year


def test_quote_parts_keep_the_text_and_mark_the_phrase() -> None:
    text = "Later, in August 2023, Lavrov\nspoke; it cost \\$4 billion."
    start = 100
    q = Quote(text, "d", "t", start, start + len(text), 1.0, answer_start=start + 10, answer_end=start + 21)
    parts = quote_parts(q)
    assert [p for p, strong in parts if strong] == ["August 2023"]
    assert "".join(p for p, _ in parts) == readable(text)
    whole = Quote(text, "d", "t", start, start + len(text), 1.0, answer_start=start, answer_end=start + len(text))
    assert quote_parts(whole) == [(readable(text), False)]


def test_the_ranker_emphasises_the_entity_of_the_type_asked_for() -> None:
    from index.annotate import Entity
    from server.emphasis import entity_phrase

    text = "In August 2023, Lavrov met Iran's envoy in Moscow."
    entities = (Entity(3, 14, "DATE"), Entity(16, 22, "PERSON"), Entity(27, 31, "GPE"), Entity(42, 48, "GPE"))
    date = frozenset({"DATE", "TIME"})
    place = frozenset({"GPE", "LOC", "FAC"})
    assert entity_phrase(text, entities, date, "When did Lavrov meet the envoy?") == (3, 14)
    # the question's own names are not its answer: Iran is asked about, Moscow answers
    assert entity_phrase(text, entities, place, "Where did Lavrov meet Iran's envoy?") == (42, 48)
    assert entity_phrase(text, entities, frozenset(), "What did Lavrov do?") is None  # untyped: the sentence
    assert entity_phrase(text, entities, frozenset({"MONEY"}), "How much did it cost?") is None


def test_of_several_answers_the_one_beside_the_year_asked_about_is_emphasised() -> None:
    from index.annotate import Entity
    from server.emphasis import entity_phrase

    text = "Trade fell from $4.9 billion in 2022 to $4 billion in 2023, and $2 billion went to arms."
    spans = {"$4.9 billion": "MONEY", "2022": "DATE", "$4 billion": "MONEY", "2023": "DATE", "$2 billion": "MONEY"}
    entities = tuple(Entity(text.index(w), text.index(w) + len(w), label) for w, label in spans.items())
    money = frozenset({"MONEY"})

    def phrase(question: str) -> str | None:
        found = entity_phrase(text, entities, money, question)
        return None if found is None else text[found[0]:found[1]]

    assert phrase("How much was trade worth in 2023?") == "$4 billion"
    assert phrase("How much was trade worth in 2022?") == "$4.9 billion"
    # nothing picks one of the three: none is emphasised (the sentence answers)
    assert phrase("How much was trade worth?") is None
    assert phrase("How much was trade worth in 2019?") is None  # a year the sentence does not state


def test_the_emphasis_prefers_the_head_asked_about_and_a_kind_over_its_stand_in() -> None:
    from index.annotate import Entity
    from server.emphasis import entity_phrase

    def phrase(text: str, spans: dict[str, str], labels: set[str], question: str, head: str | None) -> str | None:
        entities = tuple(Entity(text.index(w), text.index(w) + len(w), label) for w, label in spans.items())
        found = entity_phrase(text, entities, frozenset(labels), question, head)
        return None if found is None else text[found[0]:found[1]]

    place = {"GPE", "LOC", "FAC"}
    text = "Moscow wants to reach the Indian Ocean through Iran."
    spans = {"Moscow": "GPE", "the Indian Ocean": "LOC", "Iran": "GPE"}
    assert phrase(text, spans, place, "Which ocean does Russia want to reach?", "ocean") == "the Indian Ocean"
    assert phrase(text, spans, place, "Where does Russia want to go?", None) is None  # nothing picks one
    text = "The treaty was signed in 2001 for a 10-year period."
    spans = {"2001": "DATE", "10-year": "DATE"}
    assert phrase(text, spans, {"DATE", "TIME"}, "In what year was it signed?", "year") == "2001"
    text = "A 10-year deal replaced the one of 2001."
    spans = {"10-year": "DATE", "2001": "DATE"}
    assert phrase(text, spans, {"DATE", "TIME"}, "In what year was it signed?", "year") == "2001"
    assert phrase(text, spans, {"DATE", "TIME", "QUANTITY"}, "How many years is it for?", "year") == "10-year"
    text = "The Carnegie Endowment's Nicole Grajewski wrote it."
    spans = {"The Carnegie Endowment's": "ORG", "Nicole Grajewski": "PERSON"}
    assert phrase(text, spans, {"PERSON", "ORG", "NORP"}, "Who wrote it?", None) == "Nicole Grajewski"
