"""How a quote is shown: the article's characters, less the residue of the markup it was flattened from.

Display only. The API's `text` and every offset stay exactly the article's (`text[start:end] == quote`);
the page shows `\\$4 billion` as `$4 billion`, `&nbsp;` as a space, and a line break inside a quote (a
page break in mid-sentence) as a space. web/static/app.js has the same rules for answers it renders.
"""

from __future__ import annotations

import re
from typing import Protocol

from index.text import ENTITIES, ENTITY, ESCAPED

__all__ = ["quote_parts", "readable", "without_residue"]

BREAK = re.compile(r"\s*\n\s*(?=(\w))")
PARAGRAPH = re.compile(r"\s*\n\s*\n\s*")
LINE_BREAK = re.compile(r"[^\S\n]*\n[^\S\n]*")


def without_residue(text: str) -> str:
    """`text` with Markdown escapes and HTML entities shown as the characters they stand for."""
    text = ESCAPED.sub(lambda m: m.group(1), text)
    return ENTITY.sub(lambda m: ENTITIES[m.group(1)], text)


def readable(text: str, strip: bool = True) -> str:
    """A quote as the page shows it: no residue; a break before a lower-case word (a page break in
    mid-sentence) and a lone line break read as a space; paragraphs kept. `strip=False` for a piece
    of a quote, whose edges join its neighbours."""
    text = without_residue(text)
    text = BREAK.sub(lambda m: " " if m.group(1).islower() else m.group(0), text.strip() if strip else text)
    text = PARAGRAPH.sub("\n\n", text)
    return "\n\n".join(LINE_BREAK.sub(" ", p) for p in text.split("\n\n"))


class Quoted(Protocol):
    text: str
    start: int
    end: int
    answer_start: int
    answer_end: int


def quote_parts(quote: Quoted) -> list[tuple[str, bool]]:
    """A quote as readable pieces, (text, is the answering phrase): the phrase emphasised when it is
    less than the whole quote."""
    text = quote.text
    a, b = quote.answer_start - quote.start, quote.answer_end - quote.start
    if not 0 <= a < b <= len(text) or (a, b) == (0, len(text)):
        return [(readable(text), False)]
    pieces = [(text[:a].lstrip(), False), (text[a:b], True), (text[b:].rstrip(), False)]
    return [(readable(piece, strip=False), strong) for piece, strong in pieces if piece]
