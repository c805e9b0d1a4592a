"""A cheap deterministic stand-in for spaCy's sentence annotation, for the load-test mode only.

`python -m index build --encoder hash` replaces all the model work of a build: the hashing encoder
stands in for the sentence model, and these rules for the spaCy pipeline (which otherwise dominates a
large build). Figures become CARDINAL, PERCENT, MONEY or DATE entities, runs of capitalised words
inside a sentence ORG entities, and the lemmas are the lower-cased content words. No noun chunks. It is
good enough to exercise every code path at scale, never for answer quality: the manifest records it
(`annotator` = KIND) and a build with the real model annotates with spaCy again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from index.annotate import Annotation, Entity
from index.records import Sentence
from index.text import STOPWORDS

__all__ = ["KIND", "rule_annotate"]

KIND = "rules-1"
WORD = re.compile(r"[^\W_]+")
FIGURE = re.compile(r"(\$\s?)?\d+(?:[.,]\d+)*(\s?%| percent)?")
NAME = re.compile(r"(?<=\s)[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")


def label(match: re.Match[str]) -> str:
    text = match.group(0)
    if match.group(1):
        return "MONEY"
    if match.group(2):
        return "PERCENT"
    return "DATE" if re.fullmatch(r"1[89]\d\d|20\d\d", text) else "CARDINAL"


def rule_annotation(sentence: Sentence) -> Annotation:
    """One sentence's stand-in annotation; offsets point into its article, as spaCy's do."""
    text, offset = sentence.text, sentence.start
    entities = [Entity(offset + m.start(), offset + m.end(), label(m)) for m in FIGURE.finditer(text)]
    entities += [Entity(offset + m.start(), offset + m.end(), "ORG") for m in NAME.finditer(text)]
    lemmas = tuple(w for w in (m.group(0).lower() for m in WORD.finditer(text)) if w not in STOPWORDS)
    return Annotation(tuple(sorted(entities, key=lambda e: (e.start, e.end))), lemmas)


def rule_annotate(sentences: Sequence[Sentence], tick: Callable[[int], None] | None = None) -> list[Annotation]:
    found = []
    for s in sentences:
        found.append(rule_annotation(s))
        if tick is not None:
            tick(1)
    return found
