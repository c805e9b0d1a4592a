"""Split the cleaned spans of an article into sentences with offsets into the original text."""

from __future__ import annotations

import re

from index.records import Sentence, Span

ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof gen lt col maj capt cmdr adm sgt cpl rep sen gov pres amb st jr sr rev fr hon "
    "inc ltd co corp bros dept univ assn est approx fig vol no nos op pp vs etc al cf "
    "jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun mt ft".split()
)
# Sentence end: terminal punctuation, closing quotes/brackets, then white space before the next sentence.
END = re.compile(r"(?:[.!?]+|…)[\"'”’»)\]]*(?=\s)")
# "BRICS.Today": a full stop with no space before a capitalised word, after a word of 3+ letters.
GLUED = re.compile(r"(?<=[^\W\d_]{3})\.(?=[A-Z][a-z]{2,})")
NEWLINE_GAP = re.compile(r"\s*\n\s*")
# "... ballistic missiles. scope. Iranian officials deny ...": one lower-case word between a sentence's
# full stop and the next sentence is residue of the page (a link or caption cut loose), neither a sentence
# nor part of one: it ends the sentence before it and is left out (spans select, never rewrite)
ORPHAN = re.compile(r"[^\W\d_A-Z]{2,}\.(?=\s+[A-Z\"'“‘(])")
ORPHAN_PIECE = re.compile(r"[^\W\d_A-Z]{2,}\.")
OPENERS = "\"'“‘«([¿¡—-"
TERMINALS = ".!?…:;\"'”’»)]"


def word_before(text: str, pos: int) -> str:
    """The token (letters, digits and dots) that ends just before `pos`."""
    start = pos
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "."):
        start -= 1
    return text[start:pos]


def is_sentence_end(text: str, dot_end: int, next_pos: int) -> bool:
    """Whether punctuation ending at `dot_end`, with the next sentence starting at `next_pos`, ends one."""
    if next_pos >= len(text):
        return True
    nxt = text[next_pos]
    orphan = nxt.islower() and ORPHAN.match(text, next_pos) is not None
    if nxt.islower() and not orphan:
        return False
    if not (orphan or nxt.isupper() or nxt.isdigit() or nxt in OPENERS or not nxt.isascii()):
        return False
    punct = text[dot_end - 1] if dot_end else ""
    mark = dot_end
    while mark > 0 and text[mark - 1] in "\"'”’»)]":
        mark -= 1
    if text[mark - 1 : mark] != "." or text[mark - 3 : mark] == "...":
        return True
    token = word_before(text, mark - 1)
    bare = token.lower().rstrip(".")
    if bare in ABBREVIATIONS:
        return bare in ("etc", "al") and nxt.isupper() and punct == "."
    if len(bare) == 1 and bare.isalpha():
        return False  # an initial: "J. Smith"
    if "." in token.strip("."):
        return False  # an acronym with dots: "U.S.", "a.m."
    return True


def cuts_in(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(end of one sentence, start of the next) pairs inside text[start:end]."""
    cuts: set[tuple[int, int]] = set()
    for m in END.finditer(text, start, end):
        nxt = m.end()
        while nxt < end and text[nxt].isspace():
            nxt += 1
        if nxt < end and is_sentence_end(text, m.end(), nxt):
            cuts.add((m.end(), nxt))
    for m in GLUED.finditer(text, start, end):
        if "." not in word_before(text, m.start()):
            cuts.add((m.end(), m.end()))
    for m in NEWLINE_GAP.finditer(text, start, end):
        before, after = m.start(), m.end()
        if before <= start or after >= end:
            continue
        # A line break ends a sentence unless the text runs on in lower case (a paragraph cut by a
        # page break); a line without end punctuation before a capital is a heading or list item.
        if text[before - 1] in TERMINALS or not text[after].islower():
            cuts.add((before, after))
    return sorted(cuts)


def split_span(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence offsets inside text[start:end], trimmed of white space; punctuation-only pieces dropped."""
    pieces: list[tuple[int, int]] = []
    pos = start
    for cut_end, next_start in cuts_in(text, start, end) + [(end, end)]:
        if cut_end <= pos:
            continue
        s, e = pos, cut_end
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if any(ch.isalnum() for ch in text[s:e]) and not (pieces and ORPHAN_PIECE.fullmatch(text, s, e)):
            pieces.append((s, e))
        pos = max(next_start, cut_end)
    return pieces


def blocks_of(text: str, spans: list[Span]) -> list[tuple[int, int, bool]]:
    """Merge spans into blocks of continuous body (only white space between); headings stand alone."""
    blocks: list[tuple[int, int, bool]] = []
    for span in spans:
        if blocks and not span.heading and not blocks[-1][2] and not text[blocks[-1][1] : span.start].strip():
            blocks[-1] = (blocks[-1][0], span.end, False)
        else:
            blocks.append((span.start, span.end, span.heading))
    return blocks


def split_sentences(doc_id: str, text: str, spans: list[Span]) -> list[Sentence]:
    """Sentences of the cleaned spans. `block` numbers runs that passages may join: a new block starts
    at a heading that follows body text, and wherever debris was cut out between two spans."""
    sentences: list[Sentence] = []
    block = -1
    prev_end: int | None = None
    prev_heading = False
    for start, end, heading in blocks_of(text, spans):
        gap_has_text = prev_end is None or bool(text[prev_end:start].strip())
        if gap_has_text or (heading and not prev_heading):
            block += 1
        pieces = [(start, end)] if heading else split_span(text, start, end)
        for s, e in pieces:
            sentences.append(Sentence(doc_id, s, e, text[s:e], heading=heading, block=block))
        prev_end, prev_heading = end, heading
    return sentences
