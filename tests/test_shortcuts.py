"""The serving shortcuts change no answer: the abstention's look at the hand-set ranking (its first
sentences, type-checking only those that could be among them) is the full ranking's start."""

from __future__ import annotations

import json
from pathlib import Path

from server.extract import HandScore, candidates, leading
from server.features import Pool
from server.qtype import expected

GOLD = Path(__file__).resolve().parents[1] / "eval" / "gold.jsonl"


def test_the_leading_hand_set_candidates_are_the_full_rankings_first(answerer) -> None:  # type: ignore[no-untyped-def]
    sentences = answerer.index.sentences
    questions = [json.loads(line)["question"] for line in GOLD.read_text().splitlines() if line.strip()]
    checked = 0
    for question in questions[:30]:
        prepared = answerer.prepare(question)
        qvec = answerer.embedder.embed_queries([prepared.query])[0]
        pool, _ = answerer.rank(prepared, qvec)
        _, qterms = answerer.retrieve(prepared.query, qvec, 10, "hybrid")
        args = (pool, sentences, answerer.sentence_terms, qterms, expected(prepared.resolved), prepared.resolved,
                answerer.weights, prepared.named)
        full = candidates(pool, sentences, answerer.match_vectors, answerer.sentence_terms, qvec, qterms,
                          *args[4:])
        dense = (answerer.match_vectors[pool.ids] @ qvec).tolist()
        some = frozenset({sentences[pool.ids[0]].doc_id})
        for eligible in (lambda i: not sentences[i].heading, lambda i, some=some: sentences[i].doc_id in some):
            expect = [c for c in full if eligible(c.sentence)]
            for n in (1, 2, 3):
                assert leading(HandScore(*args), dense, n, eligible) == expect[:n]
                checked += 1
    assert checked == 30 * 6
    empty = HandScore(Pool([], {}, {}), *args[1:])
    assert leading(empty, [], 2, lambda i: True) == [] and leading(HandScore(*args), dense, 0, bool) == []


def test_asking_in_process_encodes_while_it_parses_and_answers_as_before(answerer) -> None:  # type: ignore[no-untyped-def]
    import threading
    from dataclasses import replace

    from server.answerer import Answerer

    threads: set[str] = set()

    class Recording:
        def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
            self.inner = inner
            self.name, self.dim = inner.name, inner.dim

        def embed_queries(self, texts):  # type: ignore[no-untyped-def]
            threads.add(threading.current_thread().name)
            return self.inner.embed_queries(texts)

        def dictionary(self):  # type: ignore[no-untyped-def]
            return self.inner.dictionary()

    recording = Answerer(answerer.index, Recording(answerer.embedder), answerer.settings)  # type: ignore[arg-type]
    for question in ("What did Lavrov say about the agreement?", "What is the best lasagna recipe?"):
        together = recording.ask(question)
        apart = recording.evaluate(question, prepared=recording.prepare(question)).answer  # encoded after the parse
        assert replace(together, timings_ms={}) == replace(apart, timings_ms={})
        assert together.timings_ms["encode"] > 0
    assert {t.split("_")[0] for t in threads} == {"verbatim-encode", "MainThread"}


def test_the_server_process_loads_spacy_without_its_command_line() -> None:
    import subprocess
    import sys

    from index.settings import Settings

    code = ("import sys; from server.lean import refuse_unused_imports; refuse_unused_imports(); "
            "from server.parse import Parser; "
            f"p = Parser({Settings().spacy_pipeline!r}).parse('What did Lavrov say?'); "
            "print([t.tag for t in p.tokens], 'typer' in sys.modules, 'torch' in sys.modules and sys.modules['torch'])")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert shown.stdout.split("]")[0] == "['WP', 'VBD', 'NNP', 'VB', '.'"  # it still tags
    assert shown.stdout.split("]")[1].split() == ["False", "None"]  # no CLI (typer), torch refused
    code = "from server.lean import refuse_unused_imports; refuse_unused_imports(); import spacy; spacy.info()"
    refused = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "python -m spacy info" in refused.stderr


def test_the_servers_encoder_threads_sleep_unless_told_to_spin(seed_settings, seed_index) -> None:  # type: ignore[no-untyped-def]
    from server.answerer import Answerer

    def spinning(answerer: Answerer) -> str:
        options = answerer.embedder.session.get_session_options()  # type: ignore[attr-defined]
        return str(options.get_session_config_entry("session.intra_op.allow_spinning"))

    assert spinning(Answerer.load(seed_settings)) == "0"
    assert spinning(Answerer.load(seed_settings.model_copy(update={"encoder_spin": True}))) == "1"
