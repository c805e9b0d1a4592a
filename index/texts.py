"""Article texts kept on disk: one UTF-8 file of every text end to end (`texts.utf8`), read by range
(pread: a mapping would put whole page-cache folios into the server's memory, as index.columns.LazyLines
says), and each article's byte range recorded in articles.jsonl. A server reads an article's text when it quotes or
shows it, rather than holding every text (about 740 MB at 100,000 articles, and most of a start spent
parsing it out of JSON).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from index.records import Article, Metadata

__all__ = ["ArticleTexts", "StoredArticle", "TextFile", "length", "with_meta", "write_texts"]

FILE = "texts.utf8"


RECENT = 64  # decoded texts kept: more than the articles one answer reads (its passages' and their neighbours')


class TextFile:
    """The texts file: text(at, size) reads and decodes one article's bytes. The last RECENT texts decoded
    are kept: an answer slices its candidate sentences out of the same few articles hundreds of times
    (about 550 rows a question), and decoding the whole article for each one was 32 us a row, most
    of an answer's time outside the encode."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb", buffering=0)  # kept open: the folder may be swapped out and removed
        self.size = os.fstat(self._file.fileno()).st_size
        self._decoded = functools.lru_cache(maxsize=RECENT)(self._decode)

    def text(self, at: int, size: int) -> str:
        if not 0 <= at <= at + size <= self.size:
            raise ValueError(f"bytes {at}-{at + size} lie outside the texts file of {self.size}")
        return self._decoded(at, size)

    def copy_to(self, out: BinaryIO, at: int, size: int, block: int = 1 << 24) -> None:
        """Append bytes at..at+size of this file to `out`, copied by the kernel where it can."""
        out.flush()
        source, done = self._file.fileno(), 0
        try:
            while done < size:
                copied = os.copy_file_range(source, out.fileno(), min(block, size - done), at + done)
                if copied <= 0:
                    break
                done += copied
        except OSError:  # not between these files: read and write
            pass
        if done:
            out.seek(0, os.SEEK_END)  # copy_file_range moved the descriptor's offset, not `out`'s
        while done < size:
            data = os.pread(source, min(block, size - done), at + done)
            if not data:
                raise ValueError(f"bytes {at}-{at + size} lie outside the texts file of {self.size}")
            out.write(data)
            done += len(data)

    def _decode(self, at: int, size: int) -> str:
        return os.pread(self._file.fileno(), size, at).decode("utf-8")


class StoredArticle(Article):
    """An Article whose text is read from the texts file when asked for (only the last few read are kept,
    by TextFile), and whose length in characters is known without reading it."""

    _source: TextFile
    _at: int
    _size: int
    chars: int

    def __init__(self, doc_id: str, filename: str, sha256: str, meta: Metadata, source: TextFile, at: int,
                 size: int, chars: int) -> None:
        # past the frozen dataclass's __setattr__ in one step: 100,000 of these are made at a server's start
        self.__dict__.update(doc_id=doc_id, filename=filename, sha256=sha256, meta=meta, _source=source, _at=at,
                             _size=size, chars=chars)

    @property
    def text(self) -> str:
        return self._source.text(self._at, self._size)

    def _key(self) -> tuple[Any, ...]:
        return self.doc_id, self.filename, self.text, self.sha256, self.meta

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Article):
            return NotImplemented
        return self._key() == (other.doc_id, other.filename, other.text, other.sha256, other.meta)

    def __hash__(self) -> int:
        return hash(self._key())


def with_meta(article: Article, meta: Metadata) -> Article:
    """`article` with other metadata; a stored one's text stays unread (dataclasses.replace would read it
    and call a constructor StoredArticle does not have)."""
    if isinstance(article, StoredArticle):
        return StoredArticle(article.doc_id, article.filename, article.sha256, meta, article._source, article._at,
                             article._size, article.chars)
    return replace(article, meta=meta)


def length(article: Article) -> int:
    """An article's length in characters, without reading a stored one's text."""
    chars = getattr(article, "chars", None)
    return chars if isinstance(chars, int) else len(article.text)


def write_texts(path: Path, articles: Iterable[Article]) -> list[tuple[int, int, int]]:
    """Write every text end to end; each article's (byte offset, bytes, characters). A run of stored
    articles lying end to end in one texts file (a grown index's old ones) is copied as bytes, by the
    kernel where it can, not read, decoded and encoded again (3 s of a +100 build at 100,000 articles)."""
    ranges = []
    at = 0
    run: list[Any] = []  # [source, first byte, bytes] of the stored texts not copied yet
    with path.open("wb") as out:
        for article in articles:
            if isinstance(article, StoredArticle):
                if run and run[0] is article._source and run[1] + run[2] == article._at:
                    run[2] += article._size
                else:
                    if run:
                        run[0].copy_to(out, run[1], run[2])
                    run = [article._source, article._at, article._size]
                ranges.append((at, article._size, article.chars))
                at += article._size
                continue
            if run:
                run[0].copy_to(out, run[1], run[2])
                run = []
            data = article.text.encode("utf-8")
            out.write(data)
            ranges.append((at, len(data), len(article.text)))
            at += len(data)
        if run:
            run[0].copy_to(out, run[1], run[2])
    return ranges


class ArticleTexts(Mapping[str, str]):
    """doc_id -> its article's text, read when asked for."""

    def __init__(self, articles: Mapping[str, Article]) -> None:
        self._articles = articles

    def __getitem__(self, doc_id: str) -> str:
        return self._articles[doc_id].text

    def __iter__(self) -> Iterator[str]:
        return iter(self._articles)

    def __len__(self) -> int:
        return len(self._articles)
