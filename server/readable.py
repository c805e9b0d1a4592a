"""How a quote is shown: the article's characters, less the residue of the markup it was flattened from.

Display only. The API's `text` and every offset stay exactly the article's (`text[start:end] == quote`);
the page shows `\\$4 billion` as `$4 billion`, `&nbsp;` as a space, and a line break inside a quote (a
page break in mid-sentence) as a space. web/static/app.js has the same rules for answers it renders.
"""

from __future__ import annotations

import re

__all__ = ["readable", "without_residue"]

ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$%&~|<>])")  # Markdown's backslash escapes
ENTITY = re.compile(r"&(nbsp|amp|quot|apos|lt|gt|#39);?")
ENTITIES = {"nbsp": " ", "amp": "&", "quot": '"', "apos": "'", "lt": "<", "gt": ">", "#39": "'"}
BREAK = re.compile(r"\s*\n\s*(?=(\w))")
PARAGRAPH = re.compile(r"\s*\n\s*\n\s*")
LINE_BREAK = re.compile(r"[^\S\n]*\n[^\S\n]*")


def without_residue(text: str) -> str:
    """`text` with Markdown escapes and HTML entities shown as the characters they stand for."""
    text = ESCAPED.sub(lambda m: m.group(1), text)
    return ENTITY.sub(lambda m: ENTITIES[m.group(1)], text)


def readable(text: str) -> str:
    """A quote as the page shows it: no residue; a break before a lower-case word (a page break in
    mid-sentence) and a lone line break read as a space; paragraphs kept."""
    text = BREAK.sub(lambda m: " " if m.group(1).islower() else m.group(0), without_residue(text).strip())
    text = PARAGRAPH.sub("\n\n", text)
    return "\n\n".join(LINE_BREAK.sub(" ", p) for p in text.split("\n\n"))
