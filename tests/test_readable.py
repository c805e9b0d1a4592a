"""Quotes as the page shows them: markup residue and page breaks read cleanly; the text itself is untouched."""

from __future__ import annotations

from server.readable import readable, without_residue


def test_markup_residue_is_shown_as_its_character() -> None:
    assert readable("dropped from \\$4.9 billion to \\$4 billion") == "dropped from $4.9 billion to $4 billion"
    assert without_residue("Emil Avdaliani&nbsp, is &amp; \\*not\\* \\_x\\_") == "Emil Avdaliani , is & *not* _x_"
    assert readable("a \\\\ b") == "a \\ b"  # an escaped backslash is one backslash


def test_a_page_break_inside_a_sentence_reads_as_a_space() -> None:
    assert readable("Iran has long\n\nmaintained close ties.") == "Iran has long maintained close ties."
    assert readable("One line\ngoes on.") == "One line goes on."
    assert readable("First paragraph.\n\n  Second one.") == "First paragraph.\n\nSecond one."


def test_plain_text_is_unchanged() -> None:
    text = "For Moscow, Pezeshkian’s visit on January 17 is a victory (it says) — $5 & more."
    assert readable(text) == without_residue(text) == text
