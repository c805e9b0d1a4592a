"""Sentence splitting that survives abbreviations, numbers, model names, quotes and page breaks."""

from __future__ import annotations

from index.records import Span
from index.sentences import split_sentences


def split(text: str) -> list[str]:
    sentences = split_sentences("d", text, [Span(0, len(text))])
    for s in sentences:
        assert text[s.start:s.end] == s.text
    return [s.text for s in sentences]


def test_abbreviations_and_numbers_do_not_split() -> None:
    text = ("Gen. Smith met Dr. Jones in the U.S. capital on Jan. 5. Trade fell from $4.9 billion to "
            "$4 billion, i.e. about 17%. Iran wants Su-35 jets and the Shahed-101 drone.")
    assert split(text) == [
        "Gen. Smith met Dr. Jones in the U.S. capital on Jan. 5.",
        "Trade fell from $4.9 billion to $4 billion, i.e. about 17%.",
        "Iran wants Su-35 jets and the Shahed-101 drone.",
    ]


def test_quotes_and_ellipses() -> None:
    text = "“Iran needs a modern air force. It needs air defence,” Azodi says. He paused… then went on. Done!"
    assert split(text) == [
        "“Iran needs a modern air force.",
        "It needs air defence,” Azodi says.",
        "He paused… then went on.",
        "Done!",
    ]


def test_line_broken_paragraph_joins_and_heading_stands_alone() -> None:
    text = "Wider Context\n\nThe deal will include the\n\ncreation of a payment system. Trade grew."
    assert split(text) == [
        "Wider Context",
        "The deal will include the\n\ncreation of a payment system.",
        "Trade grew.",
    ]


def test_missing_space_after_full_stop() -> None:
    assert split("It showed in BRICS.Today there is inertia.") == ["It showed in BRICS.", "Today there is inertia."]


def test_initials_do_not_split() -> None:
    assert split("J. R. Smith wrote it. She agreed.") == ["J. R. Smith wrote it.", "She agreed."]


def test_blocks_split_at_headings_and_cut_debris() -> None:
    text = "Title\n\nOne sentence here. Two here.\n\nSection\n\nThree here.\nDEBRIS\nFour here."
    spans = [Span(0, 5, True), Span(7, 35), Span(37, 44, True), Span(46, 57), Span(65, 75)]
    blocks = [(s.text, s.block) for s in split_sentences("d", text, spans)]
    assert blocks == [("Title", 0), ("One sentence here.", 0), ("Two here.", 0), ("Section", 1),
                      ("Three here.", 1), ("Four here.", 2)]


def test_a_lower_case_word_cut_loose_between_two_sentences_is_left_out() -> None:
    text = ("Tehran has been accused of supplying Russia with short-range ballistic missiles. scope. Iranian "
            "officials deny the allegations. He lives in the U.S. today. Prices rose, e.g. rents. Jets arrived.")
    assert split(text) == [
        "Tehran has been accused of supplying Russia with short-range ballistic missiles.",
        "Iranian officials deny the allegations.",
        "He lives in the U.S. today.",  # a dotted acronym does not end a sentence: "today." is its own
        "Prices rose, e.g. rents.",
        "Jets arrived.",
    ]
