"""The index's .npz column files mapped from disk (index.npz): the arrays np.load reads, without the copy."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from index.npz import load_npz
from index.store import read_folder


def test_stored_arrays_are_mapped_and_equal_what_np_load_reads(tmp_path: Path) -> None:
    arrays = {"ints": np.arange(10, dtype=np.int64), "grid": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
              "flags": np.array([True, False, True]), "empty": np.zeros(0, dtype=np.int32),
              "scalar": np.float32(2.5)}
    np.savez(tmp_path / "s.npz", **arrays)  # type: ignore[arg-type]
    np.savez_compressed(tmp_path / "c.npz", **arrays)  # type: ignore[arg-type]
    for name in ("s.npz", "c.npz"):
        found = load_npz(tmp_path / name)
        with np.load(tmp_path / name) as reference:
            assert set(found) == set(reference.files)
            for key in reference.files:
                assert found[key].dtype == reference[key].dtype and np.array_equal(found[key], reference[key]), key
                assert found[key].shape == reference[key].shape, key
        mapped = [k for k in ("ints", "grid", "flags") if not found[k].flags.writeable]  # a read-only map
        assert mapped == (["ints", "grid", "flags"] if name == "s.npz" else [])


def test_a_damaged_npz_is_an_error_not_garbage(tmp_path: Path) -> None:
    np.savez(tmp_path / "a.npz", x=np.arange(1000))
    data = (tmp_path / "a.npz").read_bytes()
    (tmp_path / "short.npz").write_bytes(data[:600] + data[-200:])  # the directory kept, the array cut
    with pytest.raises((ValueError, OSError, zipfile.BadZipFile)):  # read_folder: IndexCorrupt
        load_npz(tmp_path / "short.npz")


def test_a_loaded_index_maps_its_columns(seed_index: Path) -> None:
    data = read_folder(seed_index)
    for column in (data.sentences.start, data.passages.first, data.neighbours.ids, data.neighbours.starts):
        assert not column.flags.writeable  # mapped read-only, not a copy
    assert data.sentences[3].text == data.articles[data.sentences[3].doc_id].text[
        data.sentences[3].start: data.sentences[3].end]
