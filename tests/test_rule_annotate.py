"""The load-test mode's stand-in for spaCy: deterministic rules, recorded in the manifest, no spaCy loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from index.records import Sentence
from index.rule_annotate import KIND, rule_annotation
from index.store import read_folder

REPO = Path(__file__).resolve().parents[1]


def test_figures_names_and_lemmas_with_offsets_into_the_article() -> None:
    text = "Intro. Iran paid $5 billion in 2021, up 17% on what Vladimir Putin said."
    s = Sentence("d", 7, len(text), text[7:])
    note = rule_annotation(s)
    spans = {(text[e.start:e.end], e.label) for e in note.entities}
    assert {("$5", "MONEY"), ("2021", "DATE"), ("17%", "PERCENT"), ("Vladimir Putin", "ORG")} <= spans
    assert "iran" not in {text[e.start:e.end].lower() for e in note.entities}  # a sentence's first word is no name
    assert note.lemmas[:3] == ("iran", "paid", "5") and "on" not in note.lemmas
    assert rule_annotation(s) == note


def test_a_hash_build_annotates_by_rules_without_spacy(tmp_path: Path) -> None:
    script = ("import sys; from pathlib import Path; from index.build import build; from index.settings import "
              "Settings; from index.hash_encoder import HashEncoder; "
              f"build(Settings(articles_dir=Path({str(REPO / 'data' / 'articles')!r}), "
              f"index_dir=Path({str(tmp_path / 'i')!r})),"
              " embedder=HashEncoder(), progress=False, say=lambda _: None); "
              "print('spacy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "False"
    data = read_folder(tmp_path / "i")
    assert data.manifest.annotator == KIND and len(data.annotations) == len(data.sentences)
    assert any(a.entities for a in data.annotations) and all(a.lemmas or s.heading or len(s.text) < 40
                                                            for a, s in zip(data.annotations, data.sentences,
                                                                            strict=True))
