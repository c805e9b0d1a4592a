"""Letting go of the mapped index pages a load touched (index.resident): a loaded index holds none of its
files' pages resident, and it answers as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.resident import mapped_under, release
from index.store import read_folder


def resident_kb(folder: Path) -> int:
    """This process's resident KB of the read-only mappings of `folder`'s files (from /proc/self/smaps):
    what `release` lets go (a writable one, such as ONNX Runtime's private copy of encoder/model.onnx when
    a test loaded the index's encoder, is never released)."""
    total, inside = 0, False
    prefix = str(folder.resolve()) + "/"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if parts and "-" in parts[0] and ":" not in parts[0]:
            inside = len(parts) >= 6 and parts[5].startswith(prefix) and "w" not in parts[1]
        elif inside and parts[0] == "Rss:":
            total += int(parts[1])
    return total


def test_mapped_under_finds_the_read_only_mappings_of_the_folder(tmp_path: Path) -> None:
    inside = tmp_path / "index" / "a.npy"
    maps = "\n".join([
        f"7f0000000000-7f0000002000 r--s 00000000 fd:00 1 {inside}",
        f"7f0000003000-7f0000004000 rw-s 00000000 fd:00 2 {inside}",  # writable: never released
        f"7f0000005000-7f0000006000 r--p 00000000 fd:00 3 {tmp_path / 'index-old' / 'a.npy'}",
        "7f0000007000-7f0000008000 rw-p 00000000 00:00 0 ",
        f"7f0000009000-7f000000a000 r--s 00000000 fd:00 4 {inside} (deleted)",
    ])
    assert mapped_under(maps, tmp_path / "index") == [(0x7F0000000000, 0x7F0000002000),
                                                      (0x7F0000009000, 0x7F000000A000)]


def test_a_loaded_index_holds_no_page_of_its_files_and_still_answers(seed_index: Path) -> None:
    data = read_folder(seed_index, growable=True)  # loaded as the builder loads it: nothing let go
    assert resident_kb(seed_index) > 0  # the annotations' line ends were read through the mapping
    assert release(seed_index) > 0 and resident_kb(seed_index) == 0
    served = read_folder(seed_index)
    assert resident_kb(seed_index) == 0
    rows = np.asarray(served.sentence_vectors[:3]), np.asarray(data.sentence_vectors[:3])
    assert np.array_equal(*rows) and served.annotations[0] == data.annotations[0]  # read again from the cache
    assert resident_kb(seed_index) > 0


def vm_flags(folder: Path) -> dict[str, set[str]]:
    """The VmFlags of this process's mappings of `folder`'s files, by file name (from /proc/self/smaps)."""
    found: dict[str, set[str]] = {}
    name = None
    prefix = str(folder.resolve()) + "/"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if parts and "-" in parts[0] and ":" not in parts[0]:
            name = parts[5].removeprefix(prefix) if len(parts) >= 6 and parts[5].startswith(prefix) else None
        elif name and parts[0] == "VmFlags:":
            found.setdefault(name, set()).update(parts[1:])
    return found


def test_a_served_index_reads_its_vector_and_column_files_without_read_around(seed_index: Path,
                                                                              tmp_path: Path) -> None:
    maps = "\n".join([f"7f0000000000-7f0000002000 r--s 00000000 fd:00 1 {tmp_path / 'a.npy'}",
                      f"7f0000003000-7f0000004000 r--s 00000000 fd:00 2 {tmp_path / 'b.faiss'}"])
    assert mapped_under(maps, tmp_path, (".npy", ".npz")) == [(0x7F0000000000, 0x7F0000002000)]
    built = read_folder(seed_index, growable=True)  # the builder's load: no advice
    served = read_folder(seed_index)
    flags = vm_flags(seed_index)
    mapped = [n for n in flags if n.endswith((".npy", ".npz"))]
    assert "sentence_vectors.npy" in mapped and "spans.npz" in mapped
    assert all("rr" in flags[n] for n in mapped)  # MADV_RANDOM: a touched page is read alone
    assert np.array_equal(np.asarray(served.sentence_vectors[[5, 1]]), np.asarray(built.sentence_vectors[[5, 1]]))
