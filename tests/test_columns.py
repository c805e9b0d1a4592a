"""Sentences, passages and term sets as columns (index.columns): the same rows as the objects they
replace, the per-sentence tables a server needs worked out at build time, and lines read on demand."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from index.columns import LazyLines, Spans, TermTable, article_layout, tabulate
from index.records import Article, Passage, Sentence


def corpus() -> tuple[dict[str, Article], list[Sentence], list[Passage]]:
    texts = {"a": "One two. Three four. Five.", "b": "Six seven. Eight.", "c": "Nine ten eleven."}
    articles = {d: Article(d, f"{d}.txt", t, "x") for d, t in texts.items()}
    spans = {"a": [(0, 8, True), (9, 20, False), (21, 26, False)], "b": [(0, 10, False), (11, 17, False)],
             "c": [(0, 16, False)]}
    sentences = [Sentence(d, s, e, texts[d][s:e], h, block=n) for d, rows in spans.items()
                 for n, (s, e, h) in enumerate(rows)]
    passages = [Passage("a", 0, 20, texts["a"][0:20], 0, 1), Passage("a", 9, 26, texts["a"][9:26], 1, 2),
                Passage("b", 0, 17, texts["b"], 3, 4), Passage("c", 0, 16, texts["c"], 5, 5)]
    return articles, sentences, passages


def test_the_tables_hold_the_same_rows_as_the_objects() -> None:
    articles, sentences, passages = corpus()
    s_table, p_table = tabulate(articles, sentences, passages)
    assert list(s_table) == sentences and s_table == sentences and len(s_table) == 6
    assert list(p_table) == passages and p_table[-1] == passages[-1] and p_table[1:3] == passages[1:3]
    with pytest.raises(IndexError):
        s_table[6]
    assert list(Spans(p_table)) == [(0, 1), (1, 2), (3, 4), (5, 5)]


def test_each_sentence_knows_its_place_the_one_before_and_its_first_passage() -> None:
    articles, sentences, passages = corpus()
    s_table, _ = tabulate(articles, sentences, passages)
    assert s_table.position.tolist() == [0, 1, 2, 0, 1, 0]
    assert s_table.previous.tolist() == [-1, 0, 1, -1, 3, -1]
    assert s_table.home.tolist() == [0, 0, 1, 2, 2, 3]
    assert list(s_table.of_article("b")) == [3, 4] and list(s_table.of_article("zz")) == []
    assert s_table.find("a", 9) == 1 and s_table.find("a", 10) is None and s_table.find("c", 0) == 5


def test_the_place_columns_match_a_plain_count_on_many_articles() -> None:
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 9, size=200)
    doc = np.repeat(np.arange(200), counts).astype(np.int32)
    first = np.arange(len(doc))
    layout = article_layout([], [], {})
    layout = {**layout, "s_doc": doc, "p_first": first, "p_last": np.minimum(first + 1, len(doc) - 1)}
    from index.columns import spans_arrays

    found = spans_arrays(layout)
    seen: dict[int, int] = {}
    for i, d in enumerate(doc.tolist()):
        assert found["s_position"][i] == seen.get(d, 0)
        assert found["s_previous"][i] == (i - 1 if seen.get(d, 0) else -1)
        seen[d] = seen.get(d, 0) + 1
    assert found["s_home"].tolist() == [max(i - 1, 0) for i in range(len(doc))]


def test_term_sets_round_trip_through_ids() -> None:
    sets = [frozenset({"b", "a"}), frozenset(), frozenset({"c", "a"})]
    table = TermTable.of(sets)
    assert list(table) == sets and table == sets and table.problem() is None
    assert TermTable(["a"], np.array([0, 1]), np.array([3], dtype=np.int32)).problem() is not None


def test_read_rows_are_kept_up_to_the_bound_and_indexing_is_unchanged() -> None:
    articles, sentences, passages = corpus()
    s_table, _ = tabulate(articles, sentences, passages)
    assert s_table[2] is s_table[2] and s_table[2] == sentences[2]  # made once, then kept
    assert s_table[-1] == sentences[-1] and s_table[np.int64(3)] == sentences[3]
    with pytest.raises(IndexError):
        s_table[-7]
    with pytest.raises(IndexError):  # refused again: a refusal is not kept
        s_table[6]
    terms = TermTable.of([frozenset({str(i)}) for i in range(10)])
    terms._keep(rows=3)
    first = terms[0]
    for i in (1, 2, 3):  # three more rows read: row 0 is the least recently read, and dropped
        terms[i]
    assert terms[0] == first and terms[0] is not first and terms[3] is terms[3]


def test_lines_are_read_from_the_mapped_file_when_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    rows = [{"n": i, "text": "é" * i} for i in range(5)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    lines = LazyLines(path, json.loads)
    assert len(lines) == 5 and list(lines) == rows and lines[-1] == rows[4]
    path.write_text('{"n": 0}\n{"n": 1}', encoding="utf-8")  # no newline after the last line
    assert list(LazyLines(path, json.loads)) == [{"n": 0}, {"n": 1}]
    (tmp_path / "empty.jsonl").write_text("")
    assert len(LazyLines(tmp_path / "empty.jsonl", json.loads)) == 0


def test_saved_line_ends_are_used_and_refused_when_they_do_not_fit(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"n": 0}\n{"n": 10}\n', encoding="utf-8")
    ends = LazyLines(path, json.loads).ends
    assert ends.tolist() == [8, 18] and list(LazyLines(path, json.loads, ends)) == [{"n": 0}, {"n": 10}]
    for wrong in ([8, 17], [8], [18, 8], [], [8.0, 18.0]):
        with pytest.raises(ValueError, match="do not fit"):
            LazyLines(path, json.loads, np.asarray(wrong, dtype=np.float64 if 8.0 in wrong else np.int64))


def test_a_format_8_index_is_refused_and_rebuilt_without_embedding(tmp_path: Path) -> None:
    """The previous format (sentences and passages as JSON lines, term lists in lexicon.json): a server
    refuses it with the rebuild message; the builder reads it and reuses every article."""
    from index.build import build
    from index.errors import IndexMismatch
    from index.hash_encoder import HashEncoder
    from index.integrity import STATS, checksums
    from index.settings import Settings
    from index.store import FORMAT_VERSION, read_folder, read_manifest
    from tests.conftest import SEED_ARTICLES

    settings = Settings(articles_dir=SEED_ARTICLES, index_dir=tmp_path / "index")
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    folder = settings.index_dir.resolve()
    data = read_folder(folder)
    lines = {"sentences.jsonl": [[s.doc_id, s.start, s.end, int(s.heading), s.block] for s in data.sentences],
             "passages.jsonl": [[p.doc_id, p.start, p.end, p.first_sentence, p.last_sentence] for p in data.passages]}
    for name, rows in lines.items():
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    raw = json.loads((folder / "lexicon.json").read_text())
    raw.pop("sentence_vocabulary")
    raw["sentence_terms"] = [sorted(t) for t in data.lexicon.sentence_terms]
    (folder / "lexicon.json").write_text(json.dumps(raw))
    (folder / "articles.jsonl").write_text("".join(json.dumps(
        {"doc_id": a.doc_id, "filename": a.filename, "sha256": a.sha256, **asdict(a.meta), "text": a.text}) + "\n"
        for a in data.articles.values()))
    for name in ("spans.npz", "terms.npz", "texts.utf8", STATS):
        (folder / name).unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "format_version": 8, "files": checksums(folder)}))
    with pytest.raises(IndexMismatch, match="rebuild"):
        read_folder(folder)
    old = read_folder(folder, older=True)
    assert list(old.sentences) == list(data.sentences) and list(old.lexicon.sentence_terms) == list(
        data.lexicon.sentence_terms) and old.articles == data.articles
    report = build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    assert (report.embedded, report.reused) == (0, len(data.articles))
    assert read_manifest(folder).format_version == FORMAT_VERSION
    again = read_folder(folder)
    assert list(again.sentences) == list(data.sentences) and again.lexicon.sentence_terms == data.lexicon.sentence_terms
    assert again.articles == data.articles


def test_texts_stay_on_disk_until_read(tmp_path: Path) -> None:
    from index.records import Metadata
    from index.texts import ArticleTexts, StoredArticle, TextFile, length, write_texts

    plain = [Article("a", "a.txt", "Ünïcode — text.", "h1", Metadata(title="A")), Article("b", "b.txt", "", "h2")]
    ranges = write_texts(tmp_path / "texts.utf8", plain)
    source = TextFile(tmp_path / "texts.utf8")
    stored = [StoredArticle(a.doc_id, a.filename, a.sha256, a.meta, source, *r) for a, r in zip(plain, ranges,
                                                                                                 strict=True)]
    assert stored == plain and [s.text for s in stored] == [a.text for a in plain]
    assert [length(s) for s in stored] == [15, 0] and stored[0].title == "A" and "text" not in vars(stored[0])
    assert dict(ArticleTexts({s.doc_id: s for s in stored})) == {"a": plain[0].text, "b": ""}
    with pytest.raises(ValueError, match="outside"):
        source.text(10, 100)


def test_recently_read_texts_are_kept_and_no_more(tmp_path: Path) -> None:
    from index.texts import RECENT, StoredArticle, TextFile, write_texts

    plain = [Article(f"a{i}", f"a{i}.txt", f"Text number {i} — ünïcode.", f"h{i}") for i in range(RECENT * 2)]
    ranges = write_texts(tmp_path / "texts.utf8", plain)
    source = TextFile(tmp_path / "texts.utf8")
    stored = [StoredArticle(a.doc_id, a.filename, a.sha256, a.meta, source, *r) for a, r in zip(plain, ranges,
                                                                                                 strict=True)]
    for _ in range(3):
        assert [s.text for s in stored] == [a.text for a in plain]
    assert stored[-1].text is stored[-1].text  # read again: the kept string, not a new decode
    assert source._decoded.cache_info().currsize == RECENT
