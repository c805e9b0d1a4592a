"""The answerer: question in, verbatim cited answer out. The server, the eval and the tests call it."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import cast

import numpy as np

from index.ann import nearest
from index.columns import ArticleRows, Spans
from index.encoder import Encoder, index_encoder
from index.lexical_index import will_need_postings
from index.prefetch import gather, will_need, will_need_spans
from index.segments import plain
from index.settings import Settings
from index.store import IndexData, check_lexical, check_model, read_folder, read_manifest, resolve
from index.text import fold, terms
from index.texts import ArticleTexts
from server.abstain import Calibration, Evidence, confidence, evidence_of
from server.answertype import asks_who_named_is
from server.byline import Titles, asks_author, author_sentences, named_sources, sources_of, without_sources
from server.extract import (
    Candidate,
    HandScore,
    Weights,
    candidates,
    distinct,
    leading,
    learned,
    pool_of,
)
from server.features import FEATURES, Features, Pool, coverage, feature_rows, features_of
from server.followup import Resolution, dependence, mentions, resolve_history
from server.history import History, InvalidQuestion
from server.parse import Parser
from server.qtype import expected
from server.query import Vocabulary, names_known, question_problem, repair
from server.question import Query, analyse
from server.quoting import Quoter
from server.ranker import MODEL_FILE, Ranker
from server.records import Answer, Exchange, Hit
from server.retrieve import Mode, Scores, dense_candidates, fuse
from server.sentence_view import SentenceViews

BYLINE_CONFIDENCE = 0.95
# the lexical, passage and type evidence the "no lexical extraction" ablation switches off
LEXICAL = frozenset({"coverage", "lemmas", "answer_type", "entities", "head_noun", "passage", "passage_rank"})


WIDER = 20  # a restriction to many articles searches this many times the usual dense candidates


@dataclass(frozen=True)
class Options:
    """Stages that can be switched off, for the eval's ablations. The defaults are the product."""

    retrieval: Mode = "hybrid"
    repair_typos: bool = True
    lexical_extraction: bool = True  # lexical/passage/type evidence when scoring sentences
    collapse_duplicates: bool = True
    abstain: bool = True
    learned_ranker: bool = True  # off: the hand-set weights of server.extract.Weights
    off: frozenset[str] = frozenset()  # ranker features switched off (held at their training mean)
    other_than_said: bool = True  # "another ...?", "what else ...?" is not answered with the last answer's sentences
    typed_first: bool = True  # a typed follow-up's repeated first quote gives way to one stating the kind asked for
    typed_followups: bool = True  # a follow-up asking for a kind of fact is answered only by a quote stating one
    about_named: bool = True  # "and India?" is answered only by quotes that name India
    distinct_copies: bool = True  # word-for-word copies among the candidates are scored once


Prepared = Query  # the analysed question that callers batching encodes (server.worker) hand to `evaluate`


@dataclass(frozen=True)
class Checked:
    """A question checked and resolved, with the text to embed for it: all a Prepared holds but the parse,
    so that a caller can start the encode and parse meanwhile (the encoder releases the GIL)."""

    question: str
    query: str  # what is embedded and matched
    k: int
    named: frozenset[str]
    resolution: Resolution
    context: tuple[int, ...]
    said: tuple[int, ...]
    only: frozenset[str]


@dataclass(frozen=True)
class Evaluated:
    """An answer with the evidence behind it, for calibration and reports."""

    answer: Answer
    evidence: Evidence | None
    hits: list[Hit]


class Answerer:
    def __init__(self, index: IndexData, embedder: Encoder, settings: Settings,
                 calibration: Calibration | None = None, weights: Weights | None = None,
                 ranker: Ranker | None = None, parser: Parser | None = None, fitted: bool = True) -> None:
        """`fitted`: rank by the fitted ranker (server/ranker.json, or `ranker`); False for training, which
        collects the hand-set ranking's candidates to fit one, whatever features the file was fitted on."""
        check_model(index.manifest, embedder.name, embedder.dim, settings.index_dir)
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.calibration = calibration or Calibration.load()
        self.weights = weights or Weights()
        self.ranker = None if not fitted else ranker or (
            Ranker.load(MODEL_FILE, FEATURES) if MODEL_FILE.is_file() else None)
        check_lexical(index.manifest, settings.index_dir)
        lexicon = index.lexicon  # terms, document frequencies and words were counted at build time
        self.sentence_terms = lexicon.sentence_terms
        n = max(lexicon.passages, 1)
        self.idf = {t: float(np.log(1 + (n - c + 0.5) / (c + 0.5))) for t, c in lexicon.document_frequency.items()}
        self.default_idf = float(np.log(1 + (n + 0.5) / 0.5))
        self.vocabulary = Vocabulary(lexicon.words, frozenset(lexicon.document_frequency), embedder.dictionary())
        # per sentence, arrays the build saved (index.columns), not lists made here at every start
        self.spans = Spans(index.passages)
        self.doc_sentences = ArticleRows(index.sentences)  # each article's sentences in text order
        self.position = cast(Sequence[int], index.sentences.position)  # each sentence's place in its article
        self.previous = cast(Sequence[int], index.sentences.previous)  # and the one before it there (-1)
        self.texts = ArticleTexts(index.articles)  # read when asked for, not every text at start
        # the build's blend, mapped from disk, when it is the one weighted here
        same = self.weights.context == index.manifest.ann.get("sentences", {}).get("context")
        stored = index.match_vectors if same else None
        self.match_vectors: np.ndarray = plain(stored) if stored is not None else self.mix(self.weights.context)
        # plain views of the mapped files (no copy, a grown index's segments too: index.segments.plain): a
        # np.memmap's every slice runs its Python __array_finalize__
        self.sentence_vectors = plain(index.sentence_vectors)
        self.context_vectors = plain(index.context_vectors)
        self.sources = sources_of(index.articles)
        self.publishers = frozenset(fold(name) for name in self.sources)  # never a "he" or "she"
        self.views = SentenceViews(index.sentences, self.texts, index.annotations, self.sentence_terms, self.position,
                                   self.previous)
        # the question tagger (tok2vec, tagger, lemmatizer); an index swapped in keeps the one loaded
        self.parser = parser or Parser(settings.spacy_pipeline)
        self.history = History(index.sentences, index.annotations, self.texts, self.views, self.parser)
        self.quoter = Quoter(index, self.sentence_vectors, self.spans, settings)
        # evaluate() encodes here while it parses: its thread starts with the first question asked
        self.encoding = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verbatim-encode")

    def mix(self, context: float) -> np.ndarray:
        """Sentence vectors blended with their in-context vectors: what a question is matched against."""
        return ((1 - context) * self.index.sentence_vectors + context * self.index.context_vectors).astype(np.float32)

    @classmethod
    def load(cls, settings: Settings, embedder: Encoder | None = None, fitted: bool = True) -> Answerer:
        """The index at settings.index_dir with the encoder stored in it (or `embedder`, which must be
        the same model). The encoder's session is made in a thread while the index and the question
        parser load (ONNX Runtime releases the GIL meanwhile): a start costs the longer, not the sum."""
        if embedder is not None:
            return cls(read_folder(settings.index_dir), embedder, settings, fitted=fitted)
        manifest = read_manifest(settings.index_dir)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="verbatim-load") as loading:
            encoder = loading.submit(index_encoder, resolve(settings.index_dir), manifest.encoder, manifest.dim,
                                     settings.encoder_threads, settings.encoder_spin)
            index = read_folder(settings.index_dir)
            parser = Parser(settings.spacy_pipeline)
            return cls(index, encoder.result(), settings, parser=parser, fitted=fitted)

    def ask(self, question: str, top_k: int | None = None, options: Options = Options(),
            history: Sequence[Exchange] = ()) -> Answer:
        return self.evaluate(question, top_k, options, history=history).answer

    def prepare(self, question: str, top_k: int | None = None, options: Options = Options(),
                history: Sequence[Exchange] = (), doc_ids: Sequence[str] = ()) -> Prepared:
        """The question checked, resolved and analysed (`checked`, then `analysed`)."""
        return self.analysed(self.checked(question, top_k, options, history, doc_ids))

    def checked(self, question: str, top_k: int | None = None, options: Options = Options(),
                history: Sequence[Exchange] = (), doc_ids: Sequence[str] = ()) -> Checked:
        """The question checked and resolved against the conversation's earlier turns (oldest first),
        and the text to embed for it: without the sources it names, typos repaired. Cheap, and bad input
        fails here (InvalidQuestion): callers that batch encodes (server.worker.Worker) call it first."""
        question = question.strip()
        problem = question_problem(question)
        if problem:
            raise InvalidQuestion(problem[:1].upper() + problem[1:] + ".")
        k = top_k or self.settings.top_k
        if not 1 <= k <= 20:
            raise InvalidQuestion(f"top_k must be between 1 and 20, not {k}.")
        unknown = [d for d in doc_ids if d not in self.index.articles]
        if unknown:
            raise InvalidQuestion(f"doc_ids: no article has the id {unknown[0]!r}; see /api/articles for the ids.")
        # what the last answer named is read (a parse of its question) only for a question that points back
        turns = self.history.turns(history, leaning=bool(history) and dependence(question)[0] != "none")
        resolution = resolve_history(question, turns, self.publishers)
        asked = resolution.question
        # a follow-up that names its own source ("and what does Ming Pao say?") drops the one carried over
        named = named_sources(asked, self.sources)
        own = named_sources(question, self.sources) if resolution.used else named
        query = without_sources(asked, self.index.articles, named) if named else asked
        query = repair(query, self.vocabulary) if options.repair_typos else query
        # the sentences around the last quotes are candidates for any next question, a follow-up that no
        # word marks as one included: the ranker judges them on the question's own evidence
        context, said = self.history.around(history[-1].quotes) if history else ((), ())
        said = said if resolution.used else ()
        return Checked(question, query, k, own or named, resolution, context, said, frozenset(doc_ids) or own or named)

    def analysed(self, checked: Checked) -> Prepared:
        """The checked question parsed and analysed into the Query every later stage reads."""
        c = checked
        return replace(analyse(c.question, c.query, self.parser, self.idf, self.default_idf, c.named, c.k,
                               c.resolution, c.context, c.said), only=c.only)

    def _encode(self, text: str) -> tuple[np.ndarray, float]:
        started = time.perf_counter()
        return self.embedder.embed_queries([text])[0], time.perf_counter() - started

    def evaluate(self, question: str, top_k: int | None = None, options: Options = Options(),
                 query_vector: np.ndarray | None = None, encode_ms: float = 0.0,
                 prepared: Prepared | None = None, history: Sequence[Exchange] = ()) -> Evaluated:
        """The answer with its evidence. A caller that batches encodes passes what it already has:
        `prepared` (from `prepare` with the same arguments) and its query's vector, whose batch took
        `encode_ms`."""
        started = time.perf_counter()
        batched = encode_ms / 1000 if query_vector is not None else 0.0  # the caller's encode, before this call
        encode_seconds = batched
        if prepared is None and query_vector is None:  # encode (in its thread) while the question is parsed
            checked = self.checked(question, top_k, options, history)
            encoding = self.encoding.submit(self._encode, checked.query)
            prepared = self.analysed(checked)
            query_vector, encode_seconds = encoding.result()
        prepared = prepared or self.prepare(question, top_k, options, history)
        if query_vector is None:
            query_vector, encode_seconds = self._encode(prepared.query)
        qvec = query_vector
        query, k = prepared.query, prepared.k
        question = prepared.resolved  # what is answered; the answer still carries the question as asked
        resolution = prepared.resolution or Resolution(question)
        t1 = time.perf_counter()
        hits, qterms = self.retrieve(query, qvec, max(k, 10), options.retrieval, prepared.only)
        t2 = time.perf_counter()
        pool, ranked = self.rank(prepared, qvec, options, hits, qterms)
        weights = self.weights if options.lexical_extraction else replace(
            self.weights, lexical=0, passage=0, type_match=0)
        bylines = self.by_author(question, qvec, hits) if asks_author(question) else []
        ranked = bylines + ranked
        if prepared.only:  # "ask this article": the corpus-wide nearest sentences are kept to it too
            ranked = [c for c in ranked if self.index.sentences[c.sentence].doc_id in prepared.only]
        if resolution.other and prepared.said and options.other_than_said:
            # "another", "what else": what the last answer quoted is what the question sets aside
            ranked = [c for c in ranked if c.sentence not in prepared.said] or ranked
        # A follow-up's carried words match the last answer's neighbourhood whatever it asks: what it
        # adds of its own ("how much cargo ... each year") must be in the answer for it to count as found.
        own = {t: self.idf.get(t, self.default_idf) for t in terms(prepared.question)} if resolution.used else {}
        # Whether to answer is judged on the hand-set ranking's evidence, the one the abstention model
        # was fitted on: the ranker's own abstainer withheld many more right answers (eval/README.md).
        judged = ranked
        if any(c.features is not None for c in ranked):
            kept = [c for c in bylines if not prepared.only or self.index.sentences[c.sentence].doc_id in prepared.only]
            judged = kept + self.hand_leading(prepared, qvec, pool, qterms, options, 2 - min(len(kept), 2))
        evidence = self.evidence(judged, hits, names_known(query, self.vocabulary), own) if judged else None
        conf = confidence(evidence, self.calibration) if evidence else 0.0
        if bylines:
            conf = max(conf, BYLINE_CONFIDENCE)  # the article's own byline answers "who wrote it"
        # a follow-up whose reference was not given is not answered from a guess at what it meant
        abstained = (options.abstain and conf < self.settings.abstain_threshold) or resolution.unresolved is not None
        keep = self.ranker.keep_ratio if self.ranker is not None else None
        quotes = [] if abstained or not ranked else self.quoter.quotes(
            question, ranked, weights, options.collapse_duplicates, prepared.said, prepared.answer_type, keep,
            asks_who_named_is(prepared.parse))
        # a question that leans on the last turn, resolved with it or not ("which other countries did the
        # same?"), has the last answer's neighbourhood among its candidates, which its words match anyway
        leans = resolution.used or bool(prepared.context) and resolution.leans
        typed = bool(quotes) and leans and options.typed_followups
        stated = not typed or self.history.states_type(prepared, quotes[0])
        if not stated and options.typed_first and prepared.said and \
                set(self.history.covered(quotes[0].doc_id, *quotes[0].focus)) <= set(prepared.said):
            # the first quote only repeats the last answer, which the reader has: another chosen quote that
            # states the kind of fact asked for answers ("since when ...?" -> the one with the year)
            stating = next((q for q in quotes[1:] if self.history.states_type(prepared, q)), None)
            if stating is not None:
                quotes, stated = [stating] + [q for q in quotes if q is not stating], True
        if evidence and not stated:
            # The quote does not state the kind of fact the follow-up asks for. That is the type evidence the
            # abstention model reads, so the same model decides, and the confidence reported says so.
            evidence = replace(evidence, type_ok=0.0)
            conf = confidence(evidence, self.calibration)
            if options.abstain and conf < self.settings.abstain_threshold:
                quotes = []
        if resolution.about and options.about_named:
            # "and India?" asks the last question about India: a quote that does not name it answers the last
            # question again, not this one
            quotes = [q for q in quotes if mentions(q.text, resolution.about)]
        t3 = time.perf_counter()
        passages = [self.quoter.retrieved(h) for h in self.quoter.quoted_first(hits, quotes)[:k]]
        answer = Answer(
            question=prepared.question,
            answer=" ".join(" ".join(q.text.split()) for q in quotes) if quotes else None,
            abstained=not quotes,
            confidence=round(conf, 4),
            quotes=quotes,
            passages=passages,
            timings_ms={"encode": ms(encode_seconds), "retrieve": ms(t2 - t1), "extract": ms(t3 - t2),
                        "total": ms(time.perf_counter() - started + batched)},
            resolved_question=question,
            history_used=resolution.used,
            follows=resolution.follows,
            unresolved=resolution.unresolved,
        )
        return Evaluated(answer, evidence, hits)

    def retrieve(self, query: str, qvec: np.ndarray, k: int, mode: Mode, only: frozenset[str] = frozenset(),
                 exclude: frozenset[str] = frozenset()) -> tuple[list[Hit], dict[str, float]]:
        """Top `k` passages for the query (of the articles in `only`, when given; never of those in
        `exclude`, which training uses to ask a question of an index without its article), and the
        query's terms with their IDF."""
        qterms_list = terms(query)
        qterms = {t: self.idf.get(t, self.default_idf) for t in qterms_list}
        known = [t for t in qterms_list if t in self.idf]
        if known:
            will_need_postings(self.index.bm25, known)
        bm25 = (self.index.bm25.get_scores(known) if known
                else np.zeros(len(self.index.passages), dtype=np.float32))
        bm25 = np.asarray(bm25, dtype=np.float32)
        if only:  # some articles ("ask this article", a source the question names): their passages alone
            rows = self.index.passages.of_articles(only)
            if len(rows) <= self.settings.restricted_exhaustive:
                sims = np.asarray(self.index.passage_vectors[rows]) @ qvec
                dense = dict(zip(rows.tolist(), sims.tolist(), strict=True))
            else:  # a source with a large share of an archive: a wider search, not a scan of its vectors
                wide = dense_candidates(self.index.faiss_index, qvec, WIDER * self.settings.candidates,
                                        self.index.passage_vectors)
                doc, ids = self.index.passages.doc, self.index.passages.doc_ids
                dense = {i: s for i, s in wide.items() if ids[doc[i]] in only}
            theirs = np.zeros_like(bm25)
            theirs[rows] = bm25[rows]
            return self.boosted(fuse(Scores(dense, theirs), len(rows), len(rows), mode, self.settings.dense_weight),
                                qvec, mode)[:k], qterms
        # Without some articles, every passage is a candidate, then theirs go.
        n = len(self.index.passages) if exclude else min(self.settings.candidates, len(self.index.passages))
        dense = dense_candidates(self.index.faiss_index, qvec, n, self.index.passage_vectors)
        hits = fuse(Scores(dense, bm25), n, n, mode, self.settings.dense_weight)
        if exclude:
            hits = [h for h in hits if self.index.passages[h.passage].doc_id not in exclude][:self.settings.candidates]
        return self.boosted(hits, qvec, mode)[:k], qterms

    def boosted(self, hits: list[Hit], qvec: np.ndarray, mode: Mode) -> list[Hit]:
        if self.weights.sentence_boost and mode != "bm25":
            return boost_by_sentence(hits, self.match_vectors, qvec, self.spans, self.weights.sentence_boost)
        return hits

    def nearest(self, qvec: np.ndarray, weights: Weights, vectors: np.ndarray) -> list[int]:
        """The `weights.nearest` sentences nearest the question anywhere in the corpus: a search of the
        index's sentence ANN (built over the match vectors of its recorded context share); an ablation
        with another share searches its own blend `vectors` exhaustively."""
        n = min(weights.nearest, len(vectors))
        if n <= 0:
            return []
        if weights.context == self.index.manifest.ann.get("sentences", {}).get("context"):
            return [i for i, _ in nearest(self.index.sentence_ann, vectors, qvec, n)]
        sims = vectors @ qvec
        top = np.argpartition(-sims, n - 1)[:n]
        return [int(i) for i in top[np.argsort(-sims[top], kind="stable")]]

    def rank(self, prepared: Prepared, qvec: np.ndarray, options: Options = Options(),
             hits: list[Hit] | None = None, qterms: dict[str, float] | None = None,
             exclude: frozenset[str] = frozenset()) -> tuple[Pool, list[Candidate]]:
        """The candidate sentences and their ranking, best first: by the fitted ranker, or by the
        hand-set weights when it is switched off. `hits`/`qterms`: retrieval's, when already done."""
        if hits is None or qterms is None:
            hits, qterms = self.retrieve(prepared.query, qvec, max(prepared.k, 10), options.retrieval, prepared.only,
                                         exclude)
        weights = self.weights if options.lexical_extraction else replace(
            self.weights, lexical=0, passage=0, type_match=0)
        vectors = self.match_vectors if weights.context == self.weights.context else self.mix(weights.context)
        wider = replace(weights, nearest=weights.nearest + 100) if exclude else weights
        nearest = [i for i in self.nearest(qvec, wider, vectors)
                   if self.index.sentences[i].doc_id not in exclude][:weights.nearest]
        pool = pool_of(hits, self.spans, nearest, prepared.context)
        if options.distinct_copies:
            pool = distinct(pool, self.index.digests, prepared.context)
        if self.ranker is not None and options.learned_ranker:
            off = options.off if options.lexical_extraction else options.off | LEXICAL
            return pool, learned(pool, self.feature_rows(prepared, qvec, pool), self.ranker, off)
        return pool, self.hand_ranked(prepared, qvec, pool, qterms, options)

    def hand_ranked(self, prepared: Prepared, qvec: np.ndarray, pool: Pool, qterms: dict[str, float],
                    options: Options = Options()) -> list[Candidate]:
        """The pool ranked by the hand-set weights: the ranker's predecessor, and what the abstention
        model (fitted on its evidence by `make calibrate`) reads."""
        weights = self.weights if options.lexical_extraction else replace(
            self.weights, lexical=0, passage=0, type_match=0)
        vectors = self.match_vectors if weights.context == self.weights.context else self.mix(weights.context)
        question = prepared.resolved
        return candidates(pool, self.index.sentences, vectors, self.sentence_terms, qvec, qterms,
                          expected(question), question, weights, prepared.named)

    def hand_leading(self, prepared: Prepared, qvec: np.ndarray, pool: Pool, qterms: dict[str, float],
                     options: Options, n: int) -> list[Candidate]:
        """What the abstention reads of hand_ranked (the question's articles' only): its first `n` body
        sentences (evidence() reads the best and the runner-up's score), type-checking only the sentences
        that could be among them; all of it when the pool holds headings only (evidence() then reads those)."""
        sentences, only = self.index.sentences, prepared.only
        weights = self.weights if options.lexical_extraction else replace(
            self.weights, lexical=0, passage=0, type_match=0)
        vectors = self.match_vectors if weights.context == self.weights.context else self.mix(weights.context)
        question = prepared.resolved
        hand = HandScore(pool, sentences, self.sentence_terms, qterms, expected(question), question, weights,
                         prepared.named)
        body = leading(hand, (gather(vectors, pool.ids) @ qvec).tolist() if pool.ids else [], n,
                       lambda i: not sentences[i].heading and (not only or sentences[i].doc_id in only))
        if body or n < 2:
            return body
        ranked = self.hand_ranked(prepared, qvec, pool, qterms, options)
        return [c for c in ranked if not only or sentences[c.sentence].doc_id in only]

    def features(self, query: Query, qvec: np.ndarray, pool: Pool) -> list[Features]:
        """The ranker's evidence for each sentence of the pool."""
        ids = pool.ids
        self.will_need_features(ids)
        return features_of(query, pool, self.sentence_vectors[ids] @ qvec,
                           self.context_vectors[ids] @ qvec, self.views, self.sentence_terms, query.named)

    def feature_rows(self, query: Query, qvec: np.ndarray, pool: Pool) -> np.ndarray:
        """The same as rows (len(pool.ids), len(FEATURES)), in FEATURES order."""
        ids = pool.ids
        self.will_need_features(ids)
        return feature_rows(query, pool, self.sentence_vectors[ids] @ qvec,
                            self.context_vectors[ids] @ qvec, self.views, self.sentence_terms, query.named)

    def will_need_features(self, ids: Sequence[int]) -> None:
        """Start reading the candidates' sentence and context vectors at once (index.prefetch)."""
        will_need(self.sentence_vectors, ids)
        will_need(self.context_vectors, ids)

    @functools.cached_property
    def titles(self) -> Titles:
        """The title and source terms of every article, made on the first "who wrote" question."""
        return Titles(self.index.articles)

    def by_author(self, question: str, qvec: np.ndarray, hits: Sequence[Hit]) -> list[Candidate]:
        """Byline and bio sentences of the articles a "who wrote ..." question names (else of those
        retrieved for it), best first."""
        retrieved = [self.index.passages[h.passage].doc_id for h in hits]
        ids = author_sentences(question, self.titles, retrieved, self.index.articles, self.doc_sentences,
                               self.index.sentences)
        sims = {i: float(self.match_vectors[i] @ qvec) for i in ids}
        sentences = self.index.sentences
        found = [Candidate(i, 2.0 + sims[i], sims[i], 1.0, 1.0, True) for i in ids if not sentences[i].heading]
        return sorted(found, key=lambda c: (-c.score, c.sentence))

    def evidence(self, ranked: list[Candidate], hits: list[Hit], known: float,
                 own: dict[str, float] | None = None) -> Evidence:
        """The best sentence's evidence; with `own` (a follow-up's own terms), its lexical match is
        that of those terms alone."""
        body = [c for c in ranked if not self.index.sentences[c.sentence].heading] or ranked
        best = body[0]
        lexical = coverage(own, self.sentence_terms[best.sentence]) if own else best.lexical
        return evidence_of((best.dense, lexical, best.type_ok), best.score, body[1].score if len(body) > 1 else 0.0,
                           max((h.dense for h in hits), default=0.0), max((h.lexical for h in hits), default=0.0),
                           known)

def boost_by_sentence(hits: list[Hit], vectors: np.ndarray, qvec: np.ndarray, spans: Sequence[tuple[int, int]],
                      share: float) -> list[Hit]:
    """Re-rank passages by their fused score blended with their best sentence's match (`vectors`: the
    sentences' match vectors; only the hits' rows are used): a passage with one sentence that answers
    beats one that is only loosely about the topic throughout."""
    if not hits:
        return hits
    will_need_spans(vectors, (spans[h.passage][0] for h in hits), (spans[h.passage][1] + 1 for h in hits))
    best = {h.passage: float((vectors[spans[h.passage][0]: spans[h.passage][1] + 1] @ qvec).max()) for h in hits}
    lo, hi = min(best.values()), max(best.values())
    top = max(h.score for h in hits) or 1.0
    def blended(h: Hit) -> float:
        norm = (best[h.passage] - lo) / (hi - lo) if hi - lo > 1e-9 else 1.0
        return (1 - share) * h.score / top + share * norm
    rescored = [replace(h, score=blended(h)) for h in hits]
    return sorted(rescored, key=lambda h: (-h.score, h.passage))


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)



