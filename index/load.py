"""Read a folder of articles: text exactly as in each file (CRLF -> LF), metadata, and what was skipped."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from index.errors import ArticlesNotFound
from index.records import Article, Metadata, Skipped
from index.texts import with_meta

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
METADATA_FILE = "metadata.jsonl"
META_FIELDS = ("title", "source", "author", "published")


FileStat = tuple[int, int]  # an article file's size in bytes and modification time in nanoseconds


@dataclass(frozen=True)
class Corpus:
    articles: list[Article]
    skipped: list[Skipped]
    warnings: list[str]
    stats: dict[str, FileStat] = field(default_factory=dict)  # doc_id -> its file's, taken before it was read
    unread: int = 0  # articles taken from `known` (load_folder) without reading their file


def article_files(folder: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Article files directly in `folder` with their stat (a link's target's: one stat a file, which a
    growth of a large archive compares instead of reading the file), in a stable order (hidden files,
    metadata and dangling links excluded)."""
    with os.scandir(folder) as found:
        entries = sorted(found, key=lambda e: e.name)
    for entry in entries:
        suffix = os.path.splitext(entry.name)[1].lower()
        if entry.name.startswith(".") or entry.name == METADATA_FILE or not (
                suffix in TEXT_SUFFIXES or suffix in HTML_SUFFIXES):
            continue
        try:
            st = entry.stat()
        except OSError:  # a dangling link, or gone since the listing
            continue
        if stat.S_ISREG(st.st_mode):
            yield Path(entry.path), st


CONTROLS = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KB mean this is not a text file."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, CONTROLS))  # a byte at a time in Python took 6 s at 10k
    return controls > max(8, len(head) // 100)


def decode(data: bytes) -> tuple[str, str | None]:
    """Text of a file and a note when it was not UTF-8. Raises UnicodeDecodeError when undecodable."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    # Windows-1252 is the usual non-UTF-8 encoding of Western web text and a superset of Latin-1's
    # printable range; a result with C1 control characters means the guess was wrong.
    text = data.decode("cp1252", errors="strict")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text):
        raise UnicodeDecodeError("cp1252", data, 0, len(data), "control characters after decoding")
    return text, "not UTF-8; read as Windows-1252/Latin-1"


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_metadata(folder: Path) -> tuple[dict[str, Metadata], list[str]]:
    """metadata.jsonl beside the articles, by doc_id; bad lines become warnings naming the line."""
    path = folder / METADATA_FILE
    found: dict[str, Metadata] = {}
    warnings: list[str] = []
    if not path.is_file():
        return found, warnings
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return found, [f"{METADATA_FILE}: cannot be read ({exc}); titles will be derived from the text"]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            warnings.append(f"{METADATA_FILE} line {number}: not JSON ({exc.msg}); line ignored")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("doc_id"), str):
            warnings.append(f"{METADATA_FILE} line {number}: needs an object with a string doc_id; line ignored")
            continue
        values = {k: (str(row[k]).strip() or None) if row.get(k) is not None else None for k in META_FIELDS}
        found[row["doc_id"]] = Metadata(**values)
    return found, warnings


def extract_html(html: str) -> tuple[str, Metadata]:
    """Main text and metadata of a web page, through trafilatura."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    if doc is None:
        return "", Metadata()
    get = doc.get if isinstance(doc, dict) else lambda key: getattr(doc, key, None)
    text = get("text") or ""
    meta = Metadata(
        title=get("title") or None, source=get("sitename") or None,
        author=get("author") or None, published=get("date") or None,
    )
    return text, meta


def read_article(path: Path, max_bytes: int) -> tuple[Article | None, Skipped | None, str | None]:
    """One file as an Article, or the reason it is skipped; the third item is a warning to show."""
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, Skipped(name, f"cannot be read: {exc.strerror or exc}"), None
    if len(data) > max_bytes:
        return None, Skipped(name, f"larger than {max_bytes // 1_000_000} MB (raise VERBATIM_MAX_ARTICLE_MB)"), None
    if not data.strip():
        return None, Skipped(name, "empty file"), None
    if looks_binary(data):
        return None, Skipped(name, "binary data, not text"), None
    try:
        text, note = decode(data)
    except UnicodeDecodeError:
        return None, Skipped(name, "undecodable: neither UTF-8 nor Windows-1252 text"), None
    text = normalise_newlines(text)
    meta = Metadata()
    if path.suffix.lower() in HTML_SUFFIXES:
        text, meta = extract_html(text)
        if not text.strip():
            return None, Skipped(name, "no article text found in the HTML"), None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    article = Article(doc_id=path.stem, filename=name, text=text, sha256=digest, meta=meta)
    return article, None, (f"{name}: {note}" if note else None)


def merge_meta(derived: Metadata, given: Metadata | None) -> Metadata:
    """metadata.jsonl wins field by field; what it leaves null comes from the file itself."""
    if given is None:
        return derived
    return Metadata(**{k: getattr(given, k) or getattr(derived, k) for k in META_FIELDS})


def load_folder(folder: Path, max_article_mb: float = 20.0,
                known: Mapping[str, tuple[FileStat, Article]] | None = None) -> Corpus:
    """Every readable article in `folder`; unreadable files are listed in `skipped` with the reason.
    `known`: file name -> (its size and mtime, the article read from it), a previous index's. A text
    file (not HTML: its metadata comes out of the file) whose size and mtime in nanoseconds are still
    those is not read again: its article is the known one, with metadata.jsonl's fields (as make and
    rsync judge a file unchanged; an edit that keeps both is missed: `python -m index build --rehash`
    reads every file). Such a file's one-time warnings (not UTF-8) were given when it was read."""
    if not folder.exists():
        raise ArticlesNotFound(f"Articles folder {folder} does not exist: pass --articles DIR with your articles.")
    if not folder.is_dir():
        raise ArticlesNotFound(f"{folder} is a file, not a folder: pass --articles DIR with your articles.")
    metadata, warnings = read_metadata(folder)
    articles: list[Article] = []
    skipped: list[Skipped] = []
    seen: dict[str, str] = {}
    stats: dict[str, FileStat] = {}
    unread = 0
    max_bytes = int(max_article_mb * 1_000_000)
    for path, st in article_files(folder):
        now = (st.st_size, st.st_mtime_ns)
        held = known.get(path.name) if known else None
        if held is not None and held[0] == now and path.suffix.lower() in TEXT_SUFFIXES and \
                st.st_size <= max_bytes and held[1].doc_id == path.stem and path.stem not in seen:
            seen[path.stem] = path.name
            stats[path.stem] = now
            unread += 1
            articles.append(with_meta(held[1], merge_meta(Metadata(), metadata.get(path.stem))))
            continue
        article, skip, warning = read_article(path, max_bytes)
        if warning:
            warnings.append(warning)
        if skip is not None:
            skipped.append(skip)
            continue
        assert article is not None
        if article.doc_id in seen:
            skipped.append(Skipped(path.name, f"same doc_id as {seen[article.doc_id]}; rename one of them"))
            continue
        seen[article.doc_id] = path.name
        stats[article.doc_id] = now
        articles.append(replace(article, meta=merge_meta(article.meta, metadata.get(article.doc_id))))
    return Corpus(articles=articles, skipped=skipped, warnings=warnings, stats=stats, unread=unread)
