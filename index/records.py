"""Typed records of the pipeline. Every span is an offset pair into its article's original text."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Metadata:
    title: str | None = None
    source: str | None = None
    author: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class Article:
    """One article: `text` is the file's text (HTML: the extracted main text); all offsets point into it."""

    doc_id: str
    filename: str
    text: str
    sha256: str
    meta: Metadata = field(default_factory=Metadata)

    @property
    def title(self) -> str:
        return self.meta.title or self.doc_id


@dataclass(frozen=True)
class Span:
    """A stretch of an article's text chosen by cleaning; `heading` marks a title or section line."""

    start: int
    end: int
    heading: bool = False


@dataclass(frozen=True)
class Sentence:
    doc_id: str
    start: int
    end: int
    text: str
    heading: bool = False
    block: int = 0  # sentences of one block are contiguous body text; blocks are split by headings/debris

    @property
    def id(self) -> str:
        return f"{self.doc_id}:{self.start}"


@dataclass(frozen=True)
class Passage:
    doc_id: str
    start: int
    end: int
    text: str
    first_sentence: int  # index into the index's sentence list
    last_sentence: int  # inclusive

    @property
    def id(self) -> str:
        return f"{self.doc_id}:{self.start}"


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why; always reported, never silently dropped."""

    filename: str
    reason: str
