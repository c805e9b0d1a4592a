"""Reading a folder of articles: every bad file is reported by name and reason, the rest is read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index.errors import ArticlesNotFound
from index.load import load_folder

PROSE = ("The council approved the new bridge on Monday after a long debate about its cost. "
         "Engineers expect the work to take two years and to employ three hundred people.\n")


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_missing_folder_and_file_instead_of_folder(tmp_path: Path) -> None:
    with pytest.raises(ArticlesNotFound, match="does not exist"):
        load_folder(tmp_path / "nope")
    file = write(tmp_path, "a.txt", PROSE)
    with pytest.raises(ArticlesNotFound, match="is a file"):
        load_folder(file)


def test_bad_files_skipped_with_reasons(tmp_path: Path) -> None:
    write(tmp_path, "good.txt", PROSE)
    write(tmp_path, "empty.txt", "")
    write(tmp_path, "blank.md", "  \n\n ")
    write(tmp_path, "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    write(tmp_path, "undecodable.txt", b"caf\xe9 \x81\x8d\x8f\x90 " * 20)
    write(tmp_path, "notes.pdf", b"%PDF-1.4")  # not an article type: ignored, not read
    corpus = load_folder(tmp_path)
    assert [a.doc_id for a in corpus.articles] == ["good"]
    reasons = {s.filename: s.reason for s in corpus.skipped}
    assert reasons == {
        "binary.txt": "binary data, not text",
        "blank.md": "empty file",
        "empty.txt": "empty file",
        "undecodable.txt": "undecodable: neither UTF-8 nor Windows-1252 text",
    }


def test_latin1_read_with_a_warning_and_crlf_normalised(tmp_path: Path) -> None:
    write(tmp_path, "latin.txt", ("Le café était fermé.\r\n" + PROSE).encode("latin-1"))
    corpus = load_folder(tmp_path)
    assert corpus.articles[0].text.startswith("Le café était fermé.\nThe council")
    assert corpus.warnings == ["latin.txt: not UTF-8; read as Windows-1252/Latin-1"]


def test_odd_names_and_large_files(tmp_path: Path) -> None:
    write(tmp_path, "my article ü.txt", PROSE)
    write(tmp_path, "big.txt", PROSE * 30_000)  # about 5 MB
    corpus = load_folder(tmp_path, max_article_mb=20)
    assert sorted(a.doc_id for a in corpus.articles) == ["big", "my article ü"]
    small_limit = load_folder(tmp_path, max_article_mb=1)
    assert [s.filename for s in small_limit.skipped] == ["big.txt"]
    assert "VERBATIM_MAX_ARTICLE_MB" in small_limit.skipped[0].reason


def test_metadata_lines_bad_json_and_derivation(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", PROSE)
    write(tmp_path, "b.txt", PROSE)
    write(tmp_path, "metadata.jsonl",
          '{"doc_id": "a", "title": "Bridge approved", "source": "Ledger", "author": null}\n'
          "this is not json\n"
          '["no", "doc_id"]\n')
    corpus = load_folder(tmp_path)
    by_id = {a.doc_id: a for a in corpus.articles}
    assert by_id["a"].meta.title == "Bridge approved" and by_id["a"].meta.source == "Ledger"
    assert by_id["b"].meta.title is None  # derived later from the text
    assert corpus.warnings[0].startswith("metadata.jsonl line 2: not JSON")
    assert corpus.warnings[1].startswith("metadata.jsonl line 3: needs an object")


def test_html_goes_through_the_extractor(tmp_path: Path) -> None:
    html = f"""<html><head><title>Bridge approved | Ledger</title>
    <meta name="author" content="Jane Doe"></head><body>
    <nav><a href="/">Home</a> <a href="/news">News</a></nav>
    <article><h1>Bridge approved</h1><p>{PROSE}</p><p>{PROSE.replace("council", "mayor")}</p></article>
    <footer>Subscribe to our newsletter. © 2024 Ledger</footer></body></html>"""
    write(tmp_path, "page.html", html)
    article = load_folder(tmp_path).articles[0]
    assert "The council approved the new bridge" in article.text
    assert "Subscribe" not in article.text and "Home" not in article.text
    assert article.meta.author == "Jane Doe"


def test_same_doc_id_twice(tmp_path: Path) -> None:
    write(tmp_path, "x.txt", PROSE)
    write(tmp_path, "x.md", PROSE)
    corpus = load_folder(tmp_path)
    assert len(corpus.articles) == 1
    assert "same doc_id" in corpus.skipped[0].reason


def test_many_control_bytes_without_a_nul_are_binary() -> None:
    from index.load import looks_binary

    text = ("A line of text.\tTabbed.\r\n" * 40).encode()
    assert not looks_binary(text)
    assert looks_binary(text[:300] + bytes([1, 2, 3, 27]) * 10)  # 40 control bytes in 340
    assert not looks_binary(text[:2000] + bytes([27]) * 8)  # a few escape codes: still text


def test_a_known_text_file_unchanged_in_size_and_mtime_is_not_read_again(tmp_path: Path) -> None:
    one = write(tmp_path, "one.txt", PROSE)
    write(tmp_path, "two.txt", PROSE.replace("bridge", "tunnel"))
    page = write(tmp_path, "page.html", f"<html><body><article><p>{PROSE}</p><p>{PROSE}</p></article></body></html>")
    first = load_folder(tmp_path)
    assert first.unread == 0 and set(first.stats) == {"one", "two", "page"}
    known = {a.filename: (first.stats[a.doc_id], a) for a in first.articles}
    write(tmp_path, "metadata.jsonl", '{"doc_id": "two", "title": "Tunnel approved"}\n')
    again = load_folder(tmp_path, known=known)
    assert again.unread == 2  # the HTML page is read again: its metadata comes out of the file
    assert [a.text for a in again.articles] == [a.text for a in first.articles]
    assert {a.doc_id: a.meta.title for a in again.articles}["two"] == "Tunnel approved"
    # other bytes of the same length, the mtime put back: taken as unchanged (make's and rsync's limit)
    st = one.stat()
    one.write_text(PROSE.replace("Monday", "Sunday"), encoding="utf-8")
    os.utime(one, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert load_folder(tmp_path, known=known).articles[0].text == PROSE
    assert "Sunday" in load_folder(tmp_path).articles[0].text  # read when nothing is known
    os.utime(one, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000))  # a new mtime: read again
    touched = load_folder(tmp_path, known=known)
    assert touched.unread == 1 and "Sunday" in touched.articles[0].text
    assert touched.stats["one"] == (st.st_size, st.st_mtime_ns + 1_000)
    assert load_folder(tmp_path, max_article_mb=1e-4, known=known).unread == 0  # now over the size limit: skipped
    page.unlink()
    assert [a.doc_id for a in load_folder(tmp_path, known=known).articles] == ["one", "two"]
