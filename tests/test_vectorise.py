"""The new articles' vectors encoded a chunk at a time into files (index.vectorise): the same vectors as
one pass, held as views of files mapped from disk; a checkpoint that streams gives each saved vector
out once; a vector file grown by copying another's rows file to file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.build import process, texts_of
from index.checkpoint import Checkpoint
from index.hash_encoder import HashEncoder
from index.load import load_folder
from index.provision import Plan
from index.settings import Settings
from index.vectorise import RowFile, encode_articles

REPO = Path(__file__).resolve().parents[1]


def test_chunks_give_the_vectors_of_one_pass_as_mapped_views(tmp_path: Path) -> None:
    settings = Settings()
    todo = [process(a, settings) for a in load_folder(REPO / "data" / "articles").articles]
    plan = Plan.of(HashEncoder(), settings)
    whole = np.asarray(HashEncoder().embed_passages([t for w in todo for part in texts_of(w) for t in part]))
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    one, dim, _ = encode_articles(plan, todo, texts_of, None, tmp_path / "one", settings, False, print)
    many, _, _ = encode_articles(plan, todo, texts_of, None, tmp_path / "many", settings, False, print, chunk=40)
    assert one is not None and many is not None and dim == HashEncoder().dim
    pos = 0
    for k, (_, sentences, passages) in enumerate(todo):
        n, m = len(sentences), len(passages)
        expected = (whole[pos: pos + n], whole[pos + n: pos + 2 * n], whole[pos + 2 * n: pos + 2 * n + m])
        pos += 2 * n + m
        for got_one, got_many, want in zip(one.of(k), many.of(k), expected, strict=True):
            assert isinstance(got_many, np.memmap) and np.array_equal(got_one, want)
            assert np.array_equal(got_many, want)
    assert pos == len(whole)


def test_a_streaming_checkpoint_gives_each_saved_vector_out_once(tmp_path: Path) -> None:
    def encode(part: list[str]) -> np.ndarray:
        seen.extend(part)
        return np.asarray(HashEncoder(8).embed_passages(part))

    seen: list[str] = []
    first, _ = Checkpoint.beside(tmp_path / "index", "model", chunk=2)
    first.vectors(["a", "b", "c", "d"], encode)  # an interrupted build's saved work ("b"'s key ends in a zero byte)
    again, _ = Checkpoint.beside(tmp_path / "index", "model", chunk=2)
    again.streamed = True
    seen.clear()
    left, resumed_left = again.vectors(["a", "b"], encode)
    right, resumed_right = again.vectors(["c", "d", "a"], encode)
    assert (resumed_left, resumed_right) == (2, 2) and seen == ["a"]  # "a" was given out already
    assert np.array_equal(np.vstack([left, right]), encode(["a", "b", "c", "d", "a"]))


def test_a_row_file_copies_another_files_rows_then_takes_more(tmp_path: Path) -> None:
    old = np.arange(24, dtype=np.float32).reshape(6, 4)
    np.save(tmp_path / "old.npy", old)
    more = np.full((2, 4), 7, dtype=np.float32)
    out = RowFile(tmp_path / "new.npy", 8, 4)
    out.copy(tmp_path / "old.npy", 6)
    out.write(more)
    assert np.array_equal(out.mapped(), np.vstack([old, more]))
    with pytest.raises(ValueError, match="not float32 rows"):
        RowFile(tmp_path / "bad.npy", 8, 4).copy(tmp_path / "old.npy", 5)
    short = RowFile(tmp_path / "short.npy", 3, 4)
    short.write(more)
    with pytest.raises(ValueError, match="2 rows written where 3"):
        short.mapped()
