"""The question's parse: tokens with their part-of-speech tags and lemmas (spaCy's tagger and
lemmatizer only; the tagger's network through server/tagger.py, about 2 ms a question in all). One parse
serves the answer type, the question's entities and anyone else who reads the question (a follow-up
resolver looking for pronouns, say)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from index.annotate import QUESTION_EXCLUDE, load_pipeline
from server.tagger import FastTagger, one_blas_thread

MAX_PARSED = 2000  # characters: a pasted essay is tagged on its start only, which holds its question

WH_TAGS = frozenset({"WDT", "WP", "WP$", "WRB"})
NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
NAME_TAGS = frozenset({"NNP", "NNPS"})
PRONOUN_TAGS = frozenset({"PRP", "PRP$"})


@dataclass(frozen=True)
class Token:
    text: str
    lemma: str  # lower case
    tag: str  # Penn Treebank tag: WDT, NN, NNP, CD, ...
    start: int  # offsets into the parsed text
    end: int

    @property
    def noun(self) -> bool:
        return self.tag in NOUN_TAGS


@dataclass(frozen=True)
class Parse:
    text: str
    tokens: tuple[Token, ...]

    def wh(self) -> int | None:
        """Position of the question's own wh-word: its first one ("How did Tehran react when ..."
        asks how, not when), or None for a question without any."""
        return next((i for i, t in enumerate(self.tokens) if t.tag in WH_TAGS), None)

    def pronouns(self) -> tuple[Token, ...]:
        return tuple(t for t in self.tokens if t.tag in PRONOUN_TAGS)

    def names(self) -> tuple[str, ...]:
        """Runs of proper nouns and the figures of the question ("Masoud Pezeshkian", "2021")."""
        found: list[str] = []
        run: list[Token] = []
        for t in (*self.tokens, None):
            if t is not None and t.tag in NAME_TAGS and t.text[:1].isupper():
                run.append(t)
                continue
            if run:
                found.append(self.text[run[0].start: run[-1].end])
                run = []
            if t is not None and t.tag == "CD" and any(ch.isdigit() for ch in t.text):
                found.append(t.text)
        return tuple(dict.fromkeys(found))


class Parser:
    """The question tagger, loaded once (in the server's lifespan or the answerer's constructor)."""

    def __init__(self, pipeline: str) -> None:
        self.nlp: Any = load_pipeline(pipeline, exclude=QUESTION_EXCLUDE)
        one_blas_thread()  # the tagger's small products are much slower threaded (server/tagger.py)
        self.fast = FastTagger.of(self.nlp)  # None: spaCy's own tok2vec and tagger tag instead
        # what runs after the tags: the attribute ruler (tags -> parts of speech) and the lemmatizer
        self.after = [proc for name, proc in self.nlp.pipeline if name not in ("tok2vec", "tagger")]

    def doc(self, text: str) -> Any:
        if self.fast is None:
            return self.nlp(text)
        doc = self.fast(self.nlp.make_doc(text))
        for proc in self.after:
            doc = proc(doc)
        return doc

    def parse(self, text: str) -> Parse:
        text = text[:MAX_PARSED]
        # A question typed in capitals tags as a row of proper nouns; its lower-case form tags right.
        shown = text.lower() if text.isupper() else text
        doc = self.doc(shown)
        tokens = tuple(Token(t.text, str(t.lemma_).lower(), t.tag_, t.idx, t.idx + len(t.text))
                       for t in doc if not t.is_space)
        return Parse(shown, tokens)
