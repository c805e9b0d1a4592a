"""Build an index folder from a folder of articles: incremental, atomic, with progress and a summary."""

from __future__ import annotations

import errno
import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from index.ann import MATCH_CONTEXT, build_ann, choose, match_vectors, previous_spec
from index.annotate import Annotation, annotate, load_pipeline, pipeline_version
from index.append import Reused, bm25_terms, grown, grown_ann, prefix_of, write_rows
from index.checkpoint import Checkpoint, sentence_key
from index.chunk import chunk
from index.clean import clean
from index.columns import tabulate
from index.encoder import Encoder
from index.errors import IndexMismatch, IndexWriteFailed, NoUsableArticles, VerbatimError
from index.hash_encoder import KIND as HASH_KIND
from index.integrity import linked_sums, record_stats
from index.lexical_index import PassageTerms, bm25_counted
from index.load import Corpus, FileStat, load_folder
from index.neighbours import digests_of, neighbours_of
from index.onnx_encoder import ENCODER_DIR
from index.provision import Plan, copy_files
from index.records import Article, Metadata, Neighbours, Passage, Sentence, Skipped
from index.rule_annotate import KIND as RULES_KIND
from index.rule_annotate import rule_annotate
from index.sentences import split_sentences
from index.settings import Settings
from index.store import (
    FORMAT_VERSION,
    IndexData,
    Manifest,
    Neighbour,
    folder_size,
    now_iso,
    read_folder,
    verify,
    write_folder,
)
from index.swap import remove_stale, resolve, staging_for, swap_in
from index.text import grow, lexical_version, lexicon
from index.texts import with_meta
from index.vectorise import encode_articles

# Bump when cleaning, splitting, chunking or annotating rules change: every article is then processed again.
PIPELINE_VERSION = "8"


@dataclass(frozen=True)
class Piece:
    """One article's share of the index; passage sentence numbers are relative to `sentences`."""

    article: Article
    sentences: list[Sentence]
    passages: list[Passage]
    sentence_vectors: np.ndarray
    passage_vectors: np.ndarray
    context_vectors: np.ndarray  # each sentence with its neighbours in the same block
    annotations: list[Annotation] | None = None  # None: not annotated yet (new, or from an older index)
    origin: int = -1  # reused from the previous index: its first sentence's number there


@dataclass(frozen=True)
class BuildReport:
    out: Path
    articles: int
    passages: int
    sentences: int
    embedded: int  # articles (re)processed and embedded in this build
    reused: int  # articles taken unchanged from the previous index
    removed: int  # articles of the previous index no longer in the folder
    skipped: list[Skipped]
    warnings: list[str]
    seconds: float
    size_bytes: int
    annotated: int = 0  # sentences annotated in this build
    annotate_seconds: float = 0.0
    resumed: int = 0  # vectors and annotations taken from an interrupted build's checkpoint

    def summary(self) -> str:
        lines = [
            f"Indexed {self.articles} articles into {self.out}: {self.passages} passages, {self.sentences} "
            f"sentences, {self.size_bytes / 1e6:.1f} MB, {self.seconds:.1f} s.",
            f"  {self.embedded} embedded, {self.reused} reused unchanged from the previous index, "
            f"{self.removed} removed.",
        ]
        if self.annotated:
            per = 1000 * self.annotate_seconds / self.annotated
            lines.append(f"  {self.annotated} sentences annotated in {self.annotate_seconds:.1f} s "
                         f"({per:.2f} s per 1,000 sentences).")
        if self.resumed:
            lines.append(f"  resumed: {self.resumed:,} vectors and annotations taken from the interrupted build.")
        lines += [f"  skipped {s.filename}: {s.reason}" for s in self.skipped]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def derived_title(article: Article, sentences: list[Sentence]) -> str:
    """The first heading-like line before the body; failing that, the start of the first sentence
    (a heading after body text is a section heading, not the title)."""
    for s in sentences:
        if not s.heading:
            break
        return " ".join(s.text.split())
    first = " ".join(sentences[0].text.split()) if sentences else article.doc_id
    return first if len(first) <= 90 else first[:90].rsplit(" ", 1)[0] + "…"


def process(article: Article, settings: Settings) -> tuple[Article, list[Sentence], list[Passage]]:
    """Clean, split and chunk one article (pure: no model involved)."""
    sentences = split_sentences(article.doc_id, article.text, clean(article.text))
    passages = chunk(article.text, sentences, 0, settings.chunk_min_words, settings.chunk_max_words,
                     settings.chunk_overlap)
    if not article.meta.title:
        article = replace(article, meta=replace(article.meta, title=derived_title(article, sentences)))
    return article, sentences, passages


def context_texts(sentences: list[Sentence]) -> list[str]:
    """Each sentence with the one before and after it in its block: the answer to "why" or a
    sentence that starts with "This" often needs its neighbour to be recognised."""
    texts = []
    for i, s in enumerate(sentences):
        parts = [s.text]
        if i > 0 and sentences[i - 1].block == s.block and not s.heading:
            parts.insert(0, sentences[i - 1].text)
        if i + 1 < len(sentences) and sentences[i + 1].block == s.block and not s.heading:
            parts.append(sentences[i + 1].text)
        texts.append(" ".join(" ".join(p.split()) for p in parts))
    return texts


def embedding_text(title: str, passage: str) -> str:
    """What the encoder sees for a passage: its article's title gives it context the text may lack."""
    return f"{title}\n{passage}"


def texts_of(work: tuple[Article, list[Sentence], list[Passage]]) -> tuple[list[str], list[str], list[str]]:
    """What is embedded of an article: its sentences, each in its context, and its passages."""
    article, sentences, passages = work
    return [s.text for s in sentences], context_texts(sentences), [embedding_text(article.title, p.text)
                                                                   for p in passages]


def known_files(reused: Iterable[Reused], sources: dict[str, FileStat] | None) -> dict[str, tuple[FileStat, Article]]:
    """File name -> (the size and mtime its file had when read, the article) of the previous index's
    articles whose text hashes to what its manifest records (pieces_from) and whose file's were
    recorded: what index.load.load_folder need not read again."""
    return {r.article.filename: (sources[r.article.doc_id], r.article) for r in reused
            if sources and r.article.doc_id in sources}


def reusable(previous: Path, settings: Settings, model: str, source: str,
             warnings: list[str], rehash: bool = False) -> IndexData | None:
    """The previous index if it is intact (every checksum verified) and was built the same way (model
    and its contents, pipeline, chunking), else None. It may be of an older format (from
    OLDEST_REUSABLE on): its vectors are reused and what the format added is computed anew. A damaged
    one is named in `warnings` and nothing of it is reused."""
    if not previous.exists() and not previous.with_name(previous.name + ".previous").exists():
        return None
    try:
        data = read_folder(previous, older=True, growable=True)  # its FAISS indexes grow into the new one
        if rehash:
            verify(resolve(previous), data.manifest, full=True)
    except IndexMismatch:
        return None
    except VerbatimError as exc:
        warnings.append(f"the previous index cannot be reused, every article is embedded again: {exc}")
        return None
    m = data.manifest
    same = (m.model == model and m.encoder.get("source") == source
            and m.pipeline == PIPELINE_VERSION and m.chunking == chunking(settings))
    return data if same else None


def chunking(settings: Settings) -> dict[str, int]:
    return {"min_words": settings.chunk_min_words, "max_words": settings.chunk_max_words,
            "overlap": settings.chunk_overlap}


def pieces_from(data: IndexData) -> dict[str, Reused]:
    """Where each article of a loaded index has its rows, keyed by content hash. An article whose text
    does not hash to what the manifest records is left out (and so embedded again)."""
    found: dict[str, Reused] = {}
    # each article's rows from the columns (a pass over every sentence per article was quadratic: most
    # of a +100 build at 10,000 articles)
    for doc_id, article in data.articles.items():
        recorded = data.manifest.article_hashes.get(doc_id)
        if recorded != article.sha256 or hashlib.sha256(article.text.encode("utf-8")).hexdigest() != recorded:
            continue
        found[article.sha256] = Reused(article, data.sentences.of_article(doc_id), data.passages.of_article(doc_id))
    return found


def materialised(reused: Reused, data: IndexData, annotator: str) -> Piece:
    """A reused article's rows of `data` as a Piece. Annotations made by another pipeline than
    `annotator` are dropped, to be made again."""
    notes = data.annotations if data.manifest.annotator == annotator else []
    s_idx, p_idx = list(reused.sentences), list(reused.passages)
    base = s_idx[0] if s_idx else 0
    passages = [replace(data.passages[i], first_sentence=data.passages[i].first_sentence - base,
                        last_sentence=data.passages[i].last_sentence - base) for i in p_idx]
    return Piece(reused.article, [data.sentences[i] for i in s_idx], passages, data.sentence_vectors[s_idx],
                 data.passage_vectors[p_idx], data.context_vectors[s_idx],
                 [notes[i] for i in s_idx] if notes else None, base if s_idx else -1)


def appends(reused: list[Reused], pieces: list[Piece], previous: IndexData, annotator: str) -> bool:
    """Whether the build only adds articles after the previous index's own, which is then grown in
    place (index.append) rather than put together anew: every article of it reused in its order, every
    new one sorting after them, and its annotations made as this build makes them."""
    after = not pieces or not reused or pieces[0].article.doc_id > reused[-1].article.doc_id
    notes = previous.manifest.annotator == annotator and len(previous.annotations) == len(previous.sentences)
    return bool(reused) and after and notes and prefix_of(reused, previous)


def appended(pieces: list[Piece], previous: IndexData) -> tuple[int, int] | None:
    """(sentences, passages) when `pieces` are the previous index's, unchanged and in the same order,
    followed by new ones only (articles added after the others, as an archive grows): what it holds then
    begins the new index as it is. None otherwise."""
    sentences = passages = 0
    for piece in pieces:
        if piece.origin < 0:
            break
        if piece.origin != sentences:
            return None
        sentences += len(piece.sentences)
        passages += len(piece.passages)
    if any(p.origin >= 0 for p in pieces[len([p for p in pieces if p.origin >= 0]):]):
        return None
    m = previous.manifest
    return (sentences, passages) if (sentences, passages) == (m.sentences, m.passages) and sentences else None


def assemble(pieces: list[Piece], manifest: Manifest, skipped: list[Skipped], dim: int,
             flat_below: int, staging: Path, previous: IndexData | None = None,
             ivf_from: int | None = None) -> IndexData:
    """The index of `pieces`, its vector files written into `staging`; its FAISS indexes exact below
    `flat_below` vectors, HNSW above, IVF from `ivf_from` (the kinds recorded in the manifest returned
    with it). `previous`:
    the index the reused pieces come from; their
    neighbours are kept (only the new sentences' are searched), and when the new articles come after
    all of its own, its FAISS indexes and lexicon grow rather than being made again."""
    sentences: list[Sentence] = []
    passages: list[Passage] = []
    for piece in pieces:
        base = len(sentences)
        sentences += piece.sentences
        passages += [replace(p, first_sentence=p.first_sentence + base, last_sentence=p.last_sentence + base)
                     for p in piece.passages]
    # written into the staging folder a piece at a time and mapped: no second copy of every vector
    staging.mkdir(parents=True, exist_ok=True)
    passage_vectors = write_rows(staging / "passage_vectors.npy", (p.passage_vectors for p in pieces), dim,
                                 len(passages))
    sentence_vectors = write_rows(staging / "sentence_vectors.npy", (p.sentence_vectors for p in pieces), dim,
                                  len(sentences))
    context_vectors = write_rows(staging / "context_vectors.npy", (p.context_vectors for p in pieces), dim,
                                 len(sentences))
    match = write_rows(staging / "match_vectors.npy", (match_vectors(p.sentence_vectors, p.context_vectors,
                                                                     MATCH_CONTEXT) for p in pieces),
                       dim, len(sentences))
    old = previous.manifest.ann if previous is not None else {}
    passage_spec = choose(len(passage_vectors), flat_below, 0.0, ivf_from, previous_spec(old.get("passages")),
                          dim)
    sentence_spec = choose(len(sentence_vectors), flat_below, MATCH_CONTEXT, ivf_from,
                           previous_spec(old.get("sentences")), dim)
    prefix = appended(pieces, previous) if previous is not None else None
    if previous is not None and prefix is not None:
        faiss_index = grown_ann(passage_vectors, passage_spec, previous.faiss_index, old.get("passages"), prefix[1])
        sentence_ann = grown_ann(match, sentence_spec, previous.sentence_ann, old.get("sentences"), prefix[0])
        lex = grow(previous.lexicon, (s.text for s in sentences[prefix[0]:]), (p.text for p in passages[prefix[1]:]))
    else:
        faiss_index, sentence_ann = build_ann(passage_vectors, passage_spec), build_ann(match, sentence_spec)
        lex = lexicon((s.text for s in sentences), (p.text for p in passages))
    manifest = replace(manifest, ann={"passages": passage_spec.record(), "sentences": sentence_spec.record()})
    articles = {p.article.doc_id: p.article for p in pieces}
    passage_terms = PassageTerms.of(bm25_terms(passages, articles))
    bm25, counts = bm25_counted(passage_terms)
    annotations = [a for piece in pieces for a in piece.annotations or []]
    fresh, kept = None, None
    if previous is not None:
        fresh, kept = carried_over(pieces, previous.neighbours, len(sentences))
    graph = sentence_ann if sentence_spec.kind != "flat" else None
    digests = digests_of(sentence_vectors)
    near = Neighbours.of(neighbours_of(sentences, sentence_vectors, flat_below, fresh, kept, graph, match, digests),
                         len(sentences))
    s_table, p_table = tabulate(articles, sentences, passages)
    return IndexData(manifest, articles, s_table, p_table, passage_vectors, sentence_vectors, context_vectors,
                     faiss_index, bm25, near, skipped, lex, annotations, sentence_ann, match, passage_terms, digests,
                     bm25_counts=counts)


def carried_over(pieces: list[Piece], previous: Neighbours,
                 total: int) -> tuple[np.ndarray, dict[int, list[Neighbour]]]:
    """(which sentences are new, the reused ones' previous neighbours renumbered): pieces in order, a
    neighbour whose article is gone or changed dropped."""
    fresh = np.ones(total, dtype=bool)
    renumber: dict[int, int] = {}
    pos = 0
    for piece in pieces:
        n = len(piece.sentences)
        if piece.origin >= 0:
            fresh[pos: pos + n] = False
            renumber.update((piece.origin + k, pos + k) for k in range(n))
        pos += n
    kept = {}
    for old, new in renumber.items():
        lst = [Neighbour(renumber[n.sentence], n.similarity) for n in previous.get(old, []) if n.sentence in renumber]
        if lst:
            kept[new] = lst
    return fresh, kept


def build(
    settings: Settings,
    articles_dir: Path | None = None,
    out: Path | None = None,
    embedder: Encoder | None = None,
    progress: bool = True,
    say: Callable[[str], None] = print,
    corpus: Corpus | None = None,
    rehash: bool = False,
) -> BuildReport:
    """Index `articles_dir` into `out`. The previous index at `out` stays intact until the new one is
    complete, and articles whose text did not change reuse its vectors. `embedder`: an ONNX encoder whose
    files the index stores, the sentence-transformers model to export, or another Encoder (stored as its
    `kind`, nothing exported); None exports the settings' model, or reuses the previous index's export.
    `corpus`: the articles of `articles_dir` to index, already read (a step of index.steps); None reads
    them, but a text file whose size and mtime are those the previous index recorded (its article taken
    from there: index.load.load_folder). `rehash`: read every file, and verify every file of the previous
    index in full."""
    from tqdm import tqdm

    started = time.perf_counter()
    articles_dir = articles_dir or settings.articles_dir
    out = out or settings.index_dir
    if corpus is None and not articles_dir.is_dir():
        load_folder(articles_dir)  # the error that names what is wrong, before the previous index is read
    warnings: list[str] = []
    removed_stale = remove_stale(out)
    if removed_stale:
        warnings.append(f"removed what killed builds left: {', '.join(sorted(removed_stale))}")
    plan = Plan.of(embedder, settings)
    previous = reusable(out, settings, plan.name, plan.source, warnings, rehash)
    old = pieces_from(previous) if previous else {}
    if corpus is None:
        corpus = load_folder(articles_dir, settings.max_article_mb,
                             None if rehash or previous is None else known_files(old.values(), previous.sources))
    warnings = list(corpus.warnings) + warnings
    if not corpus.articles:
        reasons = "; ".join(f"{s.filename}: {s.reason}" for s in corpus.skipped) or "no .txt, .md or .html files"
        raise NoUsableArticles(f"No usable article in {articles_dir} ({reasons}). Add article files and retry.")
    # the load-test mode replaces all model work: the spaCy annotation too (index.rule_annotate)
    rules = plan.record()["kind"] == HASH_KIND
    annotator = RULES_KIND if rules else pipeline_version(settings.spacy_pipeline)
    # the model work is saved as it is done, for a rerun after an interruption (the stand-ins are cheap)
    checkpoint = None
    if not rules:
        checkpoint, dropped = Checkpoint.beside(out, f"{plan.name} {plan.source} {annotator}")
        if dropped:
            warnings.append("dropped an interrupted build's saved work made with another model or annotator")
    reused: list[Reused] = []
    todo: list[tuple[Article, list[Sentence], list[Passage]]] = []
    skipped = list(corpus.skipped)
    for article in tqdm(corpus.articles, desc="Reading", unit="article", disable=not progress):
        reuse = old.get(article.sha256)
        if reuse is not None and reuse.article.doc_id == article.doc_id:
            meta = Metadata(**{k: getattr(article.meta, k) or getattr(reuse.article.meta, k)
                               for k in ("title", "source", "author", "published")})
            reused.append(replace(reuse, article=with_meta(article, meta)))
            continue
        article, sentences, passages = process(article, settings)
        if not passages:
            skipped.append(Skipped(article.filename, "no body text found (only headings, links or debris)"))
            continue
        todo.append((article, sentences, passages))
    workdir = tempfile.TemporaryDirectory(prefix="verbatim-export-")
    if checkpoint is not None:
        checkpoint.streamed = True
    encoded, dim, files = encode_articles(plan, todo, texts_of, resolve(out) if previous else None,
                                          Path(workdir.name), settings, progress, say, checkpoint)
    dim = dim or (previous.manifest.dim if previous else 0)
    pieces: list[Piece] = []
    for k, (article, sentences, passages) in enumerate(todo):
        assert encoded is not None
        s_vec, c_vec, p_vec = encoded.of(k)  # views of the files the vectors were written to
        pieces.append(Piece(article, sentences, passages, s_vec, p_vec, c_vec))
    if not pieces and not reused:
        raise NoUsableArticles(f"No article in {articles_dir} has body text to index. Check the files and retry.")
    reused.sort(key=lambda r: r.article.doc_id)
    pieces.sort(key=lambda p: p.article.doc_id)
    grows = previous is not None and appends(reused, pieces, previous, annotator)
    if previous is not None and not grows:  # the reused rows become pieces, to be put together anew
        pieces = sorted([materialised(r, previous, annotator) for r in reused] + pieces,
                        key=lambda p: p.article.doc_id)
    pieces, annotated, annotate_seconds = annotated_pieces(pieces, None if rules else settings.spacy_pipeline,
                                                           progress, checkpoint)
    kept = reused if grows else []
    manifest = Manifest(
        format_version=FORMAT_VERSION, model=plan.name, dim=dim, articles=len(kept) + len(pieces),
        passages=sum(len(r.passages) for r in kept) + sum(len(p.passages) for p in pieces),
        sentences=sum(len(r.sentences) for r in kept) + sum(len(p.sentences) for p in pieces),
        chunking=chunking(settings), pipeline=PIPELINE_VERSION, built_at=now_iso(),
        build_seconds=round(time.perf_counter() - started, 2),
        article_hashes={a.doc_id: a.sha256 for a in [r.article for r in kept] + [p.article for p in pieces]},
        lexical=lexical_version(), articles_dir=str(articles_dir.resolve()), encoder=plan.record(),
        annotator=annotator,
    )
    staging = staging_for(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if grows:
            assert previous is not None
            data = grown(previous, out, reused, pieces, manifest, skipped, dim, settings.ann_flat_below, staging,
                         settings.ann_ivf_from)
            carried = linked_sums(staging, resolve(out), previous.manifest.files)
        else:
            data = assemble(pieces, manifest, skipped, dim, settings.ann_flat_below, staging,
                            previous if previous is not None and any(p.origin >= 0 for p in pieces) else None,
                            settings.ann_ivf_from)
            carried = {}
        data = replace(data, sources={d: corpus.stats[d] for d in data.articles if d in corpus.stats})
        write_folder(data, staging, lambda folder: copy_files(files, folder / ENCODER_DIR) if files else None,
                     carried)
        swap_in(staging, out)
        if carried:  # removing the previous folder's links to the shared segments changed their ctime
            record_stats(out)
        if checkpoint is not None:
            checkpoint.clear()  # only once the index holds the work
            if checkpoint.failed:
                warnings.append(f"could not save the work as it went ({checkpoint.failed}); an interrupted "
                                "build would have started again")
    except OSError as exc:
        full = " (the disk is full: free some space)" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
        raise IndexWriteFailed(f"Cannot write the index to {out.parent}: {exc.strerror or exc}{full}; the previous "
                               "index (if any) is untouched. Fix that and run the build again.") from exc
    finally:
        # Also on Ctrl-C: a half-written folder is removed and the previous index is untouched.
        shutil.rmtree(staging, ignore_errors=True)
        workdir.cleanup()
    current = set(manifest.article_hashes)
    return BuildReport(
        out=out, articles=manifest.articles, passages=manifest.passages, sentences=manifest.sentences,
        embedded=len(todo), reused=manifest.articles - len(todo),
        removed=sum(1 for doc_id in (previous.articles if previous else {}) if doc_id not in current),
        skipped=skipped, warnings=warnings, seconds=time.perf_counter() - started,
        size_bytes=folder_size(out), annotated=annotated, annotate_seconds=annotate_seconds,
        resumed=checkpoint.resumed if checkpoint else 0,
    )


def annotated_pieces(pieces: list[Piece], pipeline: str | None, progress: bool,
                     checkpoint: Checkpoint | None = None) -> tuple[list[Piece], int, float]:
    """Every piece with its sentences' annotations, making those it lacks in one batched pass (the
    spaCy pipeline loads only then; None: the rules of index.rule_annotate instead), saved in
    `checkpoint` as they are made. Returns the pieces, the sentences annotated and the seconds."""
    from tqdm import tqdm

    missing = [p for p in pieces if p.annotations is None]
    sentences = [s for p in missing for s in p.sentences]
    if not sentences:
        return pieces, 0, 0.0
    started = time.perf_counter()
    if pipeline is not None and checkpoint is not None:
        loaded: list[Any] = []  # the pipeline, loaded on the first sentence the checkpoint lacks

        def compute(positions: list[int], tick: Callable[[int], None]) -> list[Annotation]:
            loaded[:] = loaded or [load_pipeline(pipeline)]
            return annotate(loaded[0], [sentences[n] for n in positions], tick=tick)

        keys = [sentence_key(p.article.sha256, s.start, s.end) for p in missing for s in p.sentences]
        notes, _ = checkpoint.annotations(keys, compute, progress)
    else:
        with tqdm(total=len(sentences), desc="Annotating", unit="sentence", disable=not progress) as bar:
            notes = rule_annotate(sentences, bar.update) if pipeline is None else \
                annotate(load_pipeline(pipeline), sentences, tick=bar.update)
    seconds = time.perf_counter() - started
    done: list[Piece] = []
    pos = 0
    for p in pieces:
        if p.annotations is None:
            p = replace(p, annotations=notes[pos: pos + len(p.sentences)])
            pos += len(p.sentences)
        done.append(p)
    return done, len(sentences), seconds
