"""Choose the spans of an article that are its body; drop web debris. Spans select, never rewrite.

General rules, not a list of these files' lines: the body is the run of prose lines (full sentences);
before and after it only headings survive (title, byline). Debris is recognised by its shape:
navigation and share lines, contact details, photo credits, lines in another script than the article,
repeated lines (duplicated headlines, pull quotes), stop markers such as "Related posts", and the tail
of teasers (clipped lines ending in an ellipsis) that follows the last prose paragraph.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache

from index.records import Span

WORD = re.compile(r"[^\W_]+(?:[-'’.][^\W_]+)*")
PROSE_END = re.compile(r"(?<!\.\.)[.!?][\"'”’»)\]]*\s*$|[.!?][\"'”’)\]]+\s*$")
ELLIPSIS_END = re.compile(r"(\.\.\.|…)[\"'”’)\]]*\s*$")
STOP_MARKERS = re.compile(
    r"^\W*(related (posts?|articles?|stories|content|reading|coverage)|read (more|next|also)"
    r"|more (from|stories|on this)"
    r"|you (may|might) also like|recommended( for you| stories| articles)?|trending( now)?|most (read|popular)"
    r"|popular (posts?|stories)|latest (news|stories|posts)|further reading|see also|also read|sponsored( content)?"
    r"|advertisement|comments?|leave a (reply|comment)|share this( article| story)?|tags?:?|filed under.*"
    r"|繼續閱讀|相關新聞|延伸閱讀|贊助商|推薦閱讀)\W*$",
    re.IGNORECASE,
)
NAVIGATION = re.compile(
    r"^\W*(connect with us|follow us( on .*)?|share( on .*)?|subscribe( now| to .*)?|sign (up|in)( .*)?|log ?in"
    r"|newsletter|menu|search|home|skip to (main )?content|accept cookies|cookie (policy|settings)|privacy policy"
    r"|terms of (use|service)|all rights reserved.*|copyright.*|©.*|back to top|print|email|tweet|whatsapp"
    r"|facebook|twitter|linkedin|instagram|youtube|telegram|open in app|listen to this article|advertisement)\W*$",
    re.IGNORECASE,
)
CREDIT = re.compile(
    r"^\W*(photo|image|picture|video|graphic|illustration|credit|source|getty images|reuters|afp|ap photo)s?"
    r"(\s+(source|credit|by))?\s*[:/|]",
    re.IGNORECASE,
)
CONTACT = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.]+|https?://|www\.[\w-]+\.|\b(tel|fax|phone|mobile|p\.?\s?o\.?\s?box)\b\s*[:.]?"
    r"|\+\d[\d\s()-]{6,}|(^|\s)@\w{3,}",
    re.IGNORECASE,
)
FOREIGN_BRACKETS = "【】「」『』〔〕《》"
MARKDOWN_LINK_ONLY = re.compile(r"^\W*(\[[^\]]*\]\([^)]*\)\W*)+$")


@dataclass(frozen=True)
class Line:
    start: int  # offsets of the stripped line in the article text
    end: int
    text: str
    blank_before: bool

    @cached_property  # asked for several times per line
    def words(self) -> int:
        return len(WORD.findall(self.text))


def lines_of(text: str) -> list[Line]:
    """Non-blank lines with offsets of their stripped text, and whether a blank line precedes each."""
    found: list[Line] = []
    pos = 0
    blank = True
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            found.append(Line(pos + lead, pos + lead + len(stripped), stripped, blank))
            blank = False
        else:
            blank = True
        pos += len(raw) + 1
    return found


@lru_cache(maxsize=4096)
def script_of(ch: str) -> str:
    """A coarse script name: the first word of the character's Unicode name (LATIN, CJK, ARABIC, ...)."""
    try:
        return unicodedata.name(ch).split(" ")[0]
    except ValueError:
        return "UNKNOWN"


def letter_scripts(text: str) -> Counter[str]:
    """How many letters of `text` each script has: each distinct character named once, not every one
    (naming every character was most of a build's cleaning time)."""
    counts: Counter[str] = Counter()
    for ch, n in Counter(text).items():
        if ch.isalpha():
            counts[script_of(ch)] += n
    return counts


def dominant_script(text: str) -> str:
    if text.isascii():  # every ASCII letter is LATIN: no need to name each one
        return "LATIN"
    counts = letter_scripts(text)
    return max(counts, key=lambda s: counts[s]) if counts else "LATIN"


def script_share(text: str, script: str) -> float:
    if text.isascii():
        return float(script == "LATIN" and any(ch.isalpha() for ch in text))
    counts = letter_scripts(text)
    letters = sum(counts.values())
    return counts[script] / letters if letters else 0.0


def is_prose(line: Line, next_line: Line | None = None) -> bool:
    """A line of running text: ends like a sentence with enough words, is long enough to be one, or is
    a paragraph cut by a page break (the next line goes on in lower case)."""
    if ELLIPSIS_END.search(line.text):
        return line.words >= 40
    if PROSE_END.search(line.text):
        return line.words >= 6
    continued = next_line is not None and next_line.text[:1].islower()
    return line.words >= 20 or (continued and line.words >= 8)


def is_debris(line: Line, script: str) -> bool:
    """Shapes of web debris that are debris wherever they stand."""
    text = line.text
    if script_share(text, script) < 0.5:
        return True
    if NAVIGATION.match(text) or STOP_MARKERS.match(text) or MARKDOWN_LINK_ONLY.match(text):
        return True
    if CREDIT.match(text) and line.words <= 12:
        return True
    if line.words <= 12 and CONTACT.search(text):
        return True
    return False


def comparable(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def body_lines(lines: list[Line], script: str) -> list[tuple[Line, bool]]:
    """The lines kept, each with whether it is a heading (a kept line that is not prose)."""
    prose = [is_prose(line, lines[i + 1] if i + 1 < len(lines) else None) for i, line in enumerate(lines)]
    if not any(prose):
        return []
    first = prose.index(True)
    last = len(lines) - 1 - prose[::-1].index(True)
    for i in range(first, last + 1):
        # A stop marker once the body is under way ends it: what follows is other stories.
        if STOP_MARKERS.match(lines[i].text) and sum(prose[first:i]) >= 3:
            last = max((j for j in range(first, i) if prose[j]), default=first)
            break
    kept: list[tuple[Line, bool]] = []
    seen: list[str] = []
    for i, line in enumerate(lines[: last + 1]):
        if is_debris(line, script):
            continue
        key = comparable(line.text)
        if not key:
            continue
        # Repeats (a headline printed twice, a pull quote of a sentence above) are layout, not text.
        if any(key == earlier or (not prose[i] or line.words <= 40) and key in earlier for earlier in seen):
            continue
        if not prose[i] and i < len(lines) - 1 and short_run(lines, i):
            continue
        seen.append(key)
        kept.append((line, not prose[i]))
    return kept


def short_run(lines: list[Line], i: int) -> bool:
    """Part of 3+ adjacent short non-prose lines with no blank line between: an address or a menu."""
    def short(j: int) -> bool:
        return 0 <= j < len(lines) and lines[j].words <= 8 and not is_prose(lines[j], None)

    lo = i
    while short(lo - 1) and not lines[lo].blank_before:
        lo -= 1
    hi = i
    while short(hi + 1) and not lines[hi + 1].blank_before:
        hi += 1
    return hi - lo + 1 >= 3


def trim_foreign_prefix(text: str, start: int, end: int, script: str) -> int:
    """Skip a leading label in another script, such as a bracketed section tag, at the start of a line."""
    pos = start
    while pos < end and (text[pos] in FOREIGN_BRACKETS or text[pos].isalpha() and script_of(text[pos]) != script):
        pos += 1
    return pos if pos < end and text[pos].isalnum() else start


# What is left of a link when a page was flattened to text without its markup: an attribute value and
# the tag's end ("…defence treaty-with-iran-includes-closer-defense-cooperation”>cooperation"), or a
# whole tag. A word run straight into a quote mark and ">" is never prose.
MARKUP_DEBRIS = re.compile(r"""\s*(?:<[^<>\n]{1,300}>|(?:href=)?["'“”]?[^\s"'“”<>]*[\w/-]["'“”]\s*/?>)""")


def without_markup(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """text[start:end] with markup debris left out: the pieces between, in order (select, never rewrite)."""
    if text.find(">", start, end) < 0:  # every piece of debris ends with ">": most lines have none
        return [(start, end)] if text[start:end].strip() else []
    pieces = []
    pos = start
    for m in MARKUP_DEBRIS.finditer(text, start, end):
        pieces.append((pos, m.start()))
        pos = m.end()
    pieces.append((pos, end))
    return [(s, e) for s, e in pieces if text[s:e].strip()]


def clean(text: str) -> list[Span]:
    """Spans of `text` that are article body, in order; `heading` marks title and section lines."""
    script = dominant_script(text)
    spans: list[Span] = []
    for line, heading in body_lines(lines_of(text), script):
        start = trim_foreign_prefix(text, line.start, line.end, script)
        spans += [Span(s, e, heading) for s, e in without_markup(text, start, line.end)]
    return spans
