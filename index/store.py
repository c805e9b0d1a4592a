"""The index folder on disk: write it atomically, read it back, and refuse one built differently."""

from __future__ import annotations

import json
import os
import time
import types
import typing
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from index.ann import AnnSpec, configure
from index.annotate import Annotation
from index.columns import Chained, LazyLines, PassageTable, SentenceTable, TermTable, tables, tabulate
from index.errors import IndexCorrupt, IndexMismatch
from index.integrity import MANIFEST, FileSums, checksums, problems, record_stats, sync_tree
from index.lexical_index import COUNTS as BM25_COUNTS
from index.lexical_index import FILE as PASSAGE_TERMS
from index.lexical_index import PassageTerms
from index.npz import load_npz
from index.records import Article, Metadata, Neighbour, Neighbours, Passage, Sentence, Skipped
from index.resident import random_reads, release
from index.segments import load_rows, segment_files
from index.swap import REBUILD, crash_point, resolve
from index.text import Lexicon, lexical_version
from index.texts import FILE as TEXTS
from index.texts import StoredArticle, TextFile, length, write_texts

# 4: the manifest records a checksum of every file (`files`) and the articles folder it was built from.
# 5: the model is stored as ONNX in encoder/, and the manifest records where it came from (`encoder`).
# 6: sentence annotations (entities, lemmas, noun chunks) in annotations.jsonl; the manifest's annotator.
# 7: sentences.faiss, a nearest-neighbour index over the sentences' match vectors; the manifest's `ann`
#    records the kind (flat or HNSW) and parameters of it and of passages.faiss.
# 8: match_vectors.npy (the blend the sentence index holds), every vector file mapped from disk rather than
#    read, and the neighbours as arrays (neighbours.npz) instead of JSON.
# 9: sentences and passages as columns (spans.npz, with each sentence's place in its article, the sentence
#    before it and its first passage), the sentences' terms as ids (terms.npz): no Python object per
#    sentence in a server (index.columns); the articles' texts in texts.utf8, read when asked for (index.texts).
FORMAT_VERSION = 9
ANNOTATION_ENDS = "annotations.ends.npy"  # where each annotation line ends (since session 10; optional)
DIGESTS = "copies.npy"  # the builder's: the sentence vectors' identity digests (since session 9; optional)
OLDEST_REUSABLE = 5  # the builder reuses the vectors of an index this old (it has checksums to verify)


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model: str
    dim: int
    articles: int
    passages: int
    sentences: int
    chunking: dict[str, int]
    pipeline: str  # version of cleaning/splitting/chunking rules; a change re-processes every article
    built_at: str
    build_seconds: float
    article_hashes: dict[str, str] = field(default_factory=dict)
    lexical: str = ""  # index.text.lexical_version() of the stop words, aliases and stemmer used for terms
    files: FileSums = field(default_factory=dict)  # every other file of the folder: bytes and SHA-256
    articles_dir: str = ""  # the folder the articles were read from (absolute)
    encoder: dict[str, str] = field(default_factory=dict)  # kind ("onnx") and source (the model folder's hash)
    annotator: str = ""  # the spaCy pipeline and version that annotated the sentences, or index.rule_annotate.KIND
    ann: dict[str, dict[str, Any]] = field(default_factory=dict)  # "passages", "sentences": index.ann.AnnSpec


@dataclass(frozen=True)
class IndexData:
    """Everything a server needs: texts, spans, vectors, the FAISS and BM25 indexes."""

    manifest: Manifest
    articles: dict[str, Article]
    sentences: SentenceTable  # each article's together, in the order of `articles`
    passages: PassageTable
    passage_vectors: np.ndarray  # (passages, dim) float32, unit length
    sentence_vectors: np.ndarray  # (sentences, dim) float32, unit length
    context_vectors: np.ndarray  # (sentences, dim): each sentence embedded with its neighbours
    faiss_index: Any
    bm25: Any
    neighbours: Neighbours  # sentence -> similar sentences in other articles
    skipped: list[Skipped]
    lexicon: Lexicon
    annotations: Sequence[Annotation] = field(default_factory=list)  # one per sentence; empty if never annotated
    sentence_ann: Any = None  # FAISS index over the sentences' match vectors (None: an older format's index)
    match_vectors: np.ndarray | None = None  # what sentence_ann holds (None: an older format's index)
    # the builder's: each passage's BM25 terms as ids (index.lexical_index), saved so that a grown index
    # makes BM25 again without tokenising the old passages; a server does not read it (None)
    passage_terms: PassageTerms | None = None
    # the builder's: each sentence vector's identity digest (index.neighbours.digests_of), saved so that a
    # grown index hashes only its new rows; a server does not use it (None when never saved)
    digests: np.ndarray | None = None
    # the builder's: doc_id -> its file's size and mtime (ns) when it was read (index.load.FileStat), saved
    # in articles.jsonl so that a growth reads only new or changed files; a server does not read it (None)
    sources: dict[str, tuple[int, int]] | None = None
    # the builder's: each BM25 entry's term count (index.lexical_index.bm25_counted), saved so that a growth
    # merges the new passages' entries into the old; read by index.append, not by read_folder (None)
    bm25_counts: np.ndarray | None = None


def _jsonl(path: Path, rows: list[Any]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[Any]:
    # one parse of the whole file as a JSON array: a decoder call per line costs more than the parsing
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return json.loads("[" + ",".join(lines) + "]") if lines else []


def _annotations(path: Path) -> LazyLines:
    """The sentences' annotations, each parsed from its line (read from disk) when asked for; where each
    line ends read from the offsets saved beside them (ANNOTATION_ENDS) when there are: finding them in
    the file was 3 s of a server's start at 100,000 articles (800 MB read)."""
    offsets = path.with_name(ANNOTATION_ENDS)
    ends = np.load(offsets) if offsets.is_file() else None
    notes = LazyLines(path, lambda line: Annotation.from_row(json.loads(line)), ends)
    if len(notes):  # a damaged file is refused at load, as an eagerly read one would be
        notes[0], notes[len(notes) - 1]  # noqa: B018
    return notes


def span_columns(sentences: SentenceTable, passages: PassageTable) -> dict[str, np.ndarray]:
    """What spans.npz holds: the tables' columns."""
    return {"s_doc": sentences.doc, "s_start": sentences.start, "s_end": sentences.end,
            "s_heading": sentences.heading, "s_block": sentences.block, "s_position": sentences.position,
            "s_previous": sentences.previous, "s_home": sentences.home, "p_doc": passages.doc,
            "p_start": passages.start, "p_end": passages.end, "p_first": passages.first, "p_last": passages.last}


def written_in_place(array: Any, path: Path) -> bool:
    """Whether `array` is the .npy file at `path` mapped, or its segments there (index.segments): the
    builder wrote or linked them there as it went."""
    files = segment_files(array)
    return files is not None and files[0].resolve() == path.resolve() and \
        all(f.resolve().parent == path.resolve().parent for f in files)


def _save_vectors(folder: Path, name: str, array: Any) -> None:
    if not written_in_place(array, folder / name):
        np.save(folder / name, np.asarray(array))


def _save_annotations(path: Path, notes: Sequence[Annotation]) -> None:
    """One JSON line per sentence, and where each line's newline is (ANNOTATION_ENDS); a grown index's
    old lines (a Chained head read from the previous index) are copied as bytes, not parsed and written
    again."""
    head = np.zeros(0, dtype=np.int64)
    lengths: list[int] = []
    with path.open("wb") as out:
        rest: Sequence[Annotation] = notes
        if isinstance(notes, Chained) and isinstance(notes.head, LazyLines):
            notes.head.write_to(out)
            head, rest = notes.head.ends, notes.tail
        for a in rest:
            line = (json.dumps(a.to_row(), ensure_ascii=False) + "\n").encode("utf-8")
            out.write(line)
            lengths.append(len(line))
    after = int(head[-1]) + 1 if len(head) else 0
    np.save(path.with_name(ANNOTATION_ENDS), np.concatenate([head, after + np.cumsum(lengths, dtype=np.int64) - 1]))


def write_folder(data: IndexData, folder: Path, also: Callable[[Path], None] | None = None,
                 carried: FileSums | None = None) -> Manifest:
    """Write every part of the index into `folder` (new, or holding only the vector files the builder
    wrote there as it went: `written_in_place`), flushed to the disk, and return the manifest written,
    with the checksum of every file. `also` adds files of its own (the encoder's) before the checksums
    are taken. `carried`: the checksums of files hard-linked from a verified index, not hashed again."""
    import faiss

    folder.mkdir(parents=True, exist_ok=True)
    ranges = write_texts(folder / TEXTS, data.articles.values())
    sources = data.sources or {}
    _jsonl(folder / "articles.jsonl", [
        # the metadata's fields by name: dataclasses.asdict took 6 s a build at 100,000 articles
        {"doc_id": a.doc_id, "filename": a.filename, "sha256": a.sha256, "title": a.meta.title,
         "source": a.meta.source, "author": a.meta.author, "published": a.meta.published, "at": at, "bytes": size,
         "chars": chars, **({"file": list(sources[a.doc_id])} if a.doc_id in sources else {})}
        for a, (at, size, chars) in zip(data.articles.values(), ranges, strict=True)
    ])
    crash_point("articles-written")
    np.savez(folder / "spans.npz", **span_columns(data.sentences, data.passages))  # type: ignore[arg-type]
    _save_vectors(folder, "passage_vectors.npy", data.passage_vectors)
    _save_vectors(folder, "sentence_vectors.npy", data.sentence_vectors)
    _save_vectors(folder, "context_vectors.npy", data.context_vectors)
    faiss.write_index(data.faiss_index, str(folder / "passages.faiss"))
    if data.sentence_ann is not None:
        faiss.write_index(data.sentence_ann, str(folder / "sentences.faiss"))
    data.bm25.save(str(folder / "bm25"))
    if data.bm25_counts is not None:
        np.save(folder / BM25_COUNTS, data.bm25_counts)
    near = data.neighbours
    np.savez(folder / "neighbours.npz", starts=near.starts, ids=near.ids, sims=np.round(near.sims, 4))
    if data.match_vectors is not None:
        _save_vectors(folder, "match_vectors.npy", data.match_vectors)
    if data.passage_terms is not None:
        data.passage_terms.save(folder / PASSAGE_TERMS)
    if data.digests is not None:
        np.save(folder / DIGESTS, np.asarray(data.digests, dtype=np.uint8))
    (folder / "skipped.json").write_text(json.dumps([asdict(s) for s in data.skipped], ensure_ascii=False))
    lex = data.lexicon
    terms = lex.sentence_terms if isinstance(lex.sentence_terms, TermTable) else TermTable.of(lex.sentence_terms)
    np.savez(folder / "terms.npz", starts=terms.starts, ids=terms.ids)
    (folder / "lexicon.json").write_text(json.dumps({
        "sentence_vocabulary": terms.vocabulary, "document_frequency": lex.document_frequency,
        "passages": lex.passages, "words": dict(lex.words)}, ensure_ascii=False))
    _save_annotations(folder / "annotations.jsonl", data.annotations)
    if also is not None:
        also(folder)
    crash_point("files-written")
    # Hashing reads every file back anyway: the same pass flushes it to the disk.
    manifest = replace(data.manifest, files=checksums(folder, sync=True, carried=carried))
    crash_point("files-flushed")
    # The manifest goes last: a folder without one was never finished.
    with (folder / MANIFEST).open("w", encoding="utf-8") as out:
        out.write(json.dumps(asdict(manifest), indent=2, ensure_ascii=False))
        out.flush()
        os.fsync(out.fileno())
    record_stats(folder)
    sync_tree(folder)
    crash_point("manifest-written")
    return manifest


def conforms(value: Any, hint: Any) -> bool:
    """Whether a value read from JSON has the type a dataclass field declares (int is not bool)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, a) for a in args)
    if origin is dict and args == (str, str):  # article_hashes: 100,000 pairs in a large archive's manifest
        return isinstance(value, dict) and all(type(k) is str and type(v) is str for k, v in value.items())
    if origin is dict:
        return isinstance(value, dict) and all(conforms(k, args[0]) and conforms(v, args[1])
                                               for k, v in value.items())
    if origin is list:
        return isinstance(value, list) and all(conforms(v, args[0]) for v in value)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, origin or hint)


def read_manifest(folder: Path, older: bool = False) -> Manifest:
    """The manifest of an index folder, checked field by field; any damage is IndexCorrupt. `older`
    also accepts a format from OLDEST_REUSABLE on (the builder reuses its vectors)."""
    path = resolve(folder) / MANIFEST
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: not UTF-8, not JSON
        raise IndexCorrupt(f"{path} cannot be read ({exc}); {REBUILD}.") from exc
    if not isinstance(raw, dict):
        raise IndexCorrupt(f"{path} is not a manifest (a JSON {type(raw).__name__}); {REBUILD}.")
    version = raw.get("format_version")
    reusable = older and isinstance(version, int) and OLDEST_REUSABLE <= version < FORMAT_VERSION
    if version != FORMAT_VERSION and not reusable:
        raise IndexMismatch(
            f"The index at {folder} has format {raw.get('format_version')!r}, this version reads format "
            f"{FORMAT_VERSION}; {REBUILD}."
        )
    hints = typing.get_type_hints(Manifest)
    wrong = sorted(k for k, v in raw.items() if k in hints and not conforms(v, hints[k]))
    if wrong or not raw.get("files"):
        what = f"wrong types in {', '.join(wrong)}" if wrong else "no file checksums"
        raise IndexCorrupt(f"{path} is not a valid manifest ({what}); {REBUILD}.")
    try:
        return Manifest(**raw)
    except TypeError as exc:
        raise IndexCorrupt(f"{path} is not a valid manifest ({exc}); {REBUILD}.") from exc


def verify(folder: Path, manifest: Manifest, full: bool = False) -> None:
    """Refuse a folder whose files are not those its manifest records (IndexCorrupt, one line);
    `full` hashes every file, even those unchanged since the build."""
    found = problems(folder, manifest.files, full)
    if found:
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        raise IndexCorrupt(f"The index at {folder} is damaged: {found[0]}{more}; {REBUILD}.")


def check_model(manifest: Manifest, model: str, dim: int, folder: Path) -> None:
    if manifest.model != model or manifest.dim != dim:
        raise IndexMismatch(
            f"The index at {folder} was built with {manifest.model} ({manifest.dim} dimensions) but the model "
            f"in use is {model} ({dim} dimensions); {REBUILD}, or set VERBATIM_MODEL_DIR to the model it was "
            "built with."
        )


def check_lexical(manifest: Manifest, folder: Path) -> None:
    """Refuse an index whose terms were made under other stop words, aliases or stemming: its BM25
    would silently miss query terms."""
    if manifest.lexical != lexical_version():
        raise IndexMismatch(
            f"The index at {folder} was built with other lexical rules (stop words, country aliases); {REBUILD}. "
            "Only BM25 and the term tables are redone: no article is embedded again."
        )


def read_folder(folder: Path, older: bool = False, growable: bool = False) -> IndexData:
    """Load an index folder written by write_folder. `older`: also one of an earlier format, for the
    builder to reuse its vectors (its sentences may then lack annotations). The FAISS indexes are
    mapped from disk read-only, their graph and codes (FAISS's IO_FLAG_MMAP_IFC): a server holds only
    the pages its searches touch (the sentence graph was 656 bytes a sentence of its own memory, 2.3 GB
    at 100,000 articles) and reads them in a fraction of the time. `growable`: read into memory instead,
    for the builder to add to (adding to a mapped index aborts the process); otherwise the pages the
    load itself read through the mappings are let go (index.resident)."""
    import bm25s
    import faiss

    manifest = read_manifest(folder, older)
    folder = resolve(folder)
    verify(folder, manifest)
    try:
        sources: dict[str, tuple[int, int]] | None = {} if growable else None
        articles = read_articles(folder, sources)
        sentences, passages = read_spans(folder, articles)
        # mapped, not read: a server touches the rows of the candidates it scores, not every row
        # a grown index's matrices may continue in segment files (index.segments), as recorded
        passage_vectors = load_rows(folder, "passage_vectors.npy", manifest.files)
        sentence_vectors = load_rows(folder, "sentence_vectors.npy", manifest.files)
        context_vectors = load_rows(folder, "context_vectors.npy", manifest.files)
        blend = folder / "match_vectors.npy"
        match = load_rows(folder, blend.name, manifest.files) if blend.is_file() or \
            manifest.format_version == FORMAT_VERSION else None
        flags = 0 if growable else faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
        faiss_index = faiss.read_index(str(folder / "passages.faiss"), flags)
        ann = folder / "sentences.faiss"
        sentence_ann = faiss.read_index(str(ann), flags) if ann.is_file() or \
            manifest.format_version == FORMAT_VERSION else None
        for what, index in (("passages", faiss_index), ("sentences", sentence_ann)):
            if index is not None and what in manifest.ann:
                configure(index, AnnSpec.of(manifest.ann[what], what))
        bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=True)  # its score columns mapped, as the vectors
        neighbours = read_neighbours(folder, len(sentences))
        skipped = [Skipped(**s) for s in json.loads((folder / "skipped.json").read_text(encoding="utf-8"))]
        raw = json.loads((folder / "lexicon.json").read_text(encoding="utf-8"))
        lexicon = Lexicon(read_terms(folder, raw), dict(raw["document_frequency"]), int(raw["passages"]),
                          Counter(raw["words"]))
        notes = folder / "annotations.jsonl"
        annotations: Sequence[Annotation] = _annotations(notes) if notes.is_file() else []
        digests = np.load(folder / DIGESTS, mmap_mode="r") if (folder / DIGESTS).is_file() else None
    except (OSError, EOFError, LookupError, ValueError, TypeError, AttributeError, RuntimeError,
            zipfile.BadZipFile) as exc:
        # LookupError: a key or row missing; ValueError: not UTF-8, not JSON, a truncated .npy
        raise IndexCorrupt(f"The index at {folder} is damaged ({type(exc).__name__}: {exc}); {REBUILD}.") from exc
    problem = inconsistency(manifest, articles, sentences, passages, passage_vectors, sentence_vectors,
                            context_vectors, faiss_index, lexicon)
    if not problem and match is not None and (match.dtype, match.shape) != (sentence_vectors.dtype,
                                                                            sentence_vectors.shape):
        problem = f"match vectors are {match.dtype} {match.shape}, not those of the sentences"
    problem = problem or neighbours.problem(len(sentences))
    if not problem and sentence_ann is not None and (sentence_ann.ntotal, sentence_ann.d) != (len(sentences),
                                                                                             manifest.dim):
        problem = f"the sentence index holds {sentence_ann.ntotal} vectors of {sentence_ann.d}, not {len(sentences)}"
    if not problem and digests is not None and (digests.dtype, digests.shape) != (np.uint8, (len(sentences), 16)):
        problem = f"the vector digests are {digests.dtype} {digests.shape}, not uint8 ({len(sentences)}, 16)"
    if not problem and len(annotations) != len(sentences) and (annotations or manifest.format_version ==
                                                                FORMAT_VERSION):
        problem = f"{len(annotations)} sentence annotations for {len(sentences)} sentences"
    if problem:
        raise IndexCorrupt(f"The index at {folder} is inconsistent ({problem}); {REBUILD}.")
    if not growable:  # what the load read through the mappings is not what the questions will need
        release(folder)
        random_reads(folder)
    return IndexData(manifest, articles, sentences, passages, passage_vectors, sentence_vectors,
                     context_vectors, faiss_index, bm25, neighbours, skipped, lexicon, annotations, sentence_ann,
                     match, digests=digests, sources=sources)


def read_articles(folder: Path, sources: dict[str, tuple[int, int]] | None = None) -> dict[str, Article]:
    """articles.jsonl: from format 9 on, the texts stay in texts.utf8 until read (StoredArticle); an older
    format's rows hold them. `sources`: filled with each article's file size and mtime where recorded
    (the builder's). Checked row by row without a generator per field: most of a large index's start."""
    texts = TextFile(folder / TEXTS) if (folder / TEXTS).is_file() else None
    limit = texts.size if texts is not None else 0
    articles: dict[str, Article] = {}
    for row in _read_jsonl(folder / "articles.jsonl"):
        doc_id, filename, sha = row.get("doc_id"), row.get("filename"), row.get("sha256")
        if type(doc_id) is not str or type(filename) is not str or type(sha) is not str:
            raise TypeError("an article row lacks a string doc_id, filename or sha256")
        meta = Metadata(row.get("title"), row.get("source"), row.get("author"), row.get("published"))
        if sources is not None and (stat := _file_stat(row.get("file"))) is not None:
            sources[doc_id] = stat
        if texts is None or "text" in row:
            if not isinstance(row.get("text"), str):
                raise TypeError("an article row lacks its text")
            articles[doc_id] = Article(doc_id, filename, row["text"], sha, meta)
            continue
        at, size, chars = row.get("at"), row.get("bytes"), row.get("chars")
        if type(at) is not int or type(size) is not int or type(chars) is not int or at < 0 or chars < 0 or \
                size < chars or at + size > limit:
            raise ValueError(f"article {doc_id!r} points outside {TEXTS}")
        articles[doc_id] = StoredArticle(doc_id, filename, sha, meta, texts, at, size, chars)
    return articles


def _file_stat(value: Any) -> tuple[int, int] | None:
    """An articles.jsonl row's "file" ([bytes, mtime_ns] of the file it was read from), or None."""
    if isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value):
        return value[0], value[1]
    return None


def read_spans(folder: Path, articles: dict[str, Article]) -> tuple[SentenceTable, PassageTable]:
    """spans.npz, or an older format's sentences.jsonl and passages.jsonl (for the builder to reuse)."""
    arrays = folder / "spans.npz"
    if arrays.is_file() or not (folder / "sentences.jsonl").is_file():
        return tables(articles, load_npz(arrays))  # mapped, as the vectors
    sentences = [Sentence(d, s, e, articles[d].text[s:e], heading=bool(h), block=b)
                 for d, s, e, h, b in _read_jsonl(folder / "sentences.jsonl")]
    passages = [Passage(d, s, e, articles[d].text[s:e], first, last)
                for d, s, e, first, last in _read_jsonl(folder / "passages.jsonl")]
    return tabulate(articles, sentences, passages)


def read_terms(folder: Path, raw: dict[str, Any]) -> Sequence[frozenset[str]]:
    """terms.npz with lexicon.json's vocabulary, or an older format's term lists in lexicon.json."""
    if "sentence_terms" in raw and not (folder / "terms.npz").is_file():
        return [frozenset(t) for t in raw["sentence_terms"]]
    found = load_npz(folder / "terms.npz")
    table = TermTable(list(raw["sentence_vocabulary"]), found["starts"], found["ids"])
    problem = table.problem()
    if problem:
        raise ValueError(problem)
    return table


def read_neighbours(folder: Path, sentences: int) -> Neighbours:
    """neighbours.npz, or an older format's neighbours.json (for the builder to reuse)."""
    arrays = folder / "neighbours.npz"
    if arrays.is_file() or not (folder / "neighbours.json").is_file():
        found = load_npz(arrays)
        return Neighbours(found["starts"], found["ids"], found["sims"])
    raw = json.loads((folder / "neighbours.json").read_text())
    return Neighbours.of({int(k): [Neighbour(int(i), float(sim)) for i, sim in v] for k, v in raw.items()},
                         sentences)


def inconsistency(manifest: Manifest, articles: dict[str, Article], sentences: SentenceTable,
                  passages: PassageTable, passage_vectors: np.ndarray, sentence_vectors: np.ndarray,
                  context_vectors: np.ndarray, faiss_index: Any, lexicon: Lexicon) -> str | None:
    """What does not fit together in a loaded index (None when all of it does)."""
    for name, vectors, rows in (("passage", passage_vectors, len(passages)),
                                ("sentence", sentence_vectors, len(sentences)),
                                ("context", context_vectors, len(sentences))):
        if vectors.dtype != np.float32 or vectors.shape != (rows, manifest.dim):
            return f"{name} vectors are {vectors.dtype} {vectors.shape}, not float32 ({rows}, {manifest.dim})"
    if faiss_index.ntotal != len(passages) or faiss_index.d != manifest.dim:
        return f"the FAISS index holds {faiss_index.ntotal} vectors of {faiss_index.d}, not {len(passages)}"
    if len(lexicon.sentence_terms) != len(sentences):
        return "the lexicon and the sentences differ in number"
    if set(articles) != set(manifest.article_hashes) or (manifest.articles, manifest.passages,
                                                         manifest.sentences) != (len(articles), len(passages),
                                                                                 len(sentences)):
        return "the manifest's counts or article ids differ from the files"
    return span_problem(articles, sentences, passages)


def span_problem(articles: dict[str, Article], sentences: SentenceTable, passages: PassageTable) -> str | None:
    """What is wrong with the span columns (None when every span lies inside its article)."""
    lengths = np.fromiter((length(a) for a in articles.values()), dtype=np.int64, count=len(articles))
    n = len(sentences)
    columns = (sentences.doc, sentences.start, sentences.end, sentences.heading, sentences.block,
               sentences.position, sentences.previous, sentences.home)
    passage_columns = (passages.start, passages.end, passages.first, passages.last)
    if any(c.ndim != 1 or len(c) != n for c in columns) or any(
            c.ndim != 1 or len(c) != len(passages) for c in passage_columns):
        return "the span columns differ in length"
    for doc in (sentences.doc, passages.doc):
        if len(doc) and (int(doc.min()) < 0 or int(doc.max()) >= len(articles) or np.any(np.diff(doc) < 0)):
            return "the sentences or passages are not grouped by article"
    for doc, start, end in ((sentences.doc, sentences.start, sentences.end),
                            (passages.doc, passages.start, passages.end)):
        if len(doc) and (np.any(start < 0) or np.any(start > end) or np.any(end > lengths[doc])):
            return "a span points outside its article"
    first, last = passages.first, passages.last
    if len(first) and (np.any(first < 0) or np.any(first > last) or np.any(last >= n)):
        return "a passage points outside the sentences"
    return None


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
