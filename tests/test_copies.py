"""Syndicated copy: a sentence that several articles print word for word is one candidate, scored once,
and its other articles are still cited. Mechanics, so the hashing encoder (index.hash_encoder) builds the
index; the seed articles' answers with the real model are `make eval`'s (unchanged by this stage)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.build import build
from index.hash_encoder import HashEncoder
from index.settings import Settings
from server.answerer import Answerer, Options
from server.extract import distinct
from server.features import Pool

WIRE = ("The port of Valdora handled 41 million tonnes of grain last year, officials said. "
        "Its new terminal opened in March after four years of building.")
QUESTION = "How much grain did the port of Valdora handle last year?"


def archive(folder: Path) -> Path:
    folder.mkdir()
    lead = {"a": "Harvests across the region were late this autumn.",
            "b": "Shipping firms reported a busy quarter on the coast.",
            "c": "Farmers in the north complained about fuel prices."}
    for name, first in lead.items():  # three articles printing the same wire paragraph after their own
        (folder / f"{name}.txt").write_text(f"Grain report {name}\n\n{first} Prices rose for a second month.\n\n"
                                            f"{WIRE}\n\nMore reporting followed in the afternoon.\n",
                                            encoding="utf-8")
    (folder / "d.txt").write_text("Fishing news\n\nThe fishing fleet stayed in harbour during the storm.\n",
                                  encoding="utf-8")
    return folder


def test_distinct_keeps_the_copy_in_the_best_passage_and_never_drops_kept_ones() -> None:
    digests = np.array([[1] * 16, [2] * 16, [1] * 16, [1] * 16, [3] * 16], dtype=np.uint8)
    pool = Pool([0, 1, 2, 3, 4], {0: 0.4, 1: 0.4, 2: 0.9, 3: 0.9, 4: 0.0}, {0: 2, 1: 2, 2: 0, 3: 1})
    assert distinct(pool, digests).ids == [1, 2, 4]  # 2 and 3 tie on the passage score: the better rank wins
    assert distinct(pool, digests, keep=[0]).ids == [0, 1, 4]  # the last answer's own sentence stays
    assert distinct(pool, None) is pool  # an index built before the digests were saved: nothing dropped


def test_a_sentence_printed_in_three_articles_is_scored_once_and_cited_in_the_others(tmp_path: Path) -> None:
    settings = Settings(articles_dir=archive(tmp_path / "articles"), index_dir=tmp_path / "index")
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    answerer = Answerer.load(settings)
    digests = answerer.index.digests
    assert digests is not None
    prepared = answerer.prepare(QUESTION)
    qvec = answerer.embedder.embed_queries([prepared.query])[0]
    hits, terms = answerer.retrieve(prepared.query, qvec, 10, "hybrid")
    loose, _ = answerer.rank(prepared, qvec, Options(distinct_copies=False), hits, terms)
    pool, _ = answerer.rank(prepared, qvec, Options(), hits, terms)
    keys = [digests[i].tobytes() for i in pool.ids]
    assert len(set(keys)) == len(keys) < len(loose.ids)  # each copy group once, where it was there three times
    answer = answerer.ask(QUESTION, options=Options(abstain=False))
    first = answer.quotes[0]
    assert "41 million tonnes" in first.text
    assert answerer.texts[first.doc_id][first.start:first.end] == first.text
    cited = {c.doc_id for c in first.also_in}
    assert cited == {"a", "b", "c"} - {first.doc_id}  # the other two printings, from the build's neighbours
