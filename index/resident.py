"""Letting go of the index pages a load touched, so that a server's resident memory is what its questions use.

A loaded index is mostly files mapped read-only (vectors, FAISS graphs and codes, annotations, texts).
Loading reads some of them through their mapping once (the annotations' line ends, FAISS's checks of
its graph links): at 50,000 articles 0.38 GB of annotations and 0.46 GB of the sentence graph stayed
counted in the server's RSS afterwards, though no question needs most of them. `release` drops those
pages from the process (madvise MADV_DONTNEED on the mappings of files in the index folder); they stay
in the kernel's page cache, and a question that needs one maps it again from there. Only read-only
mappings are released: they hold no change of their own to lose.
"""

from __future__ import annotations

import ctypes
import mmap
from pathlib import Path

__all__ = ["RANDOM_SUFFIXES", "mapped_under", "random_reads", "release"]


RANDOM_SUFFIXES = (".npy", ".npz")  # the vector and column files: a question reads rows scattered over them


def mapped_under(maps: str, folder: Path, suffixes: tuple[str, ...] = ()) -> list[tuple[int, int]]:
    """The (start, end) addresses of the read-only mappings of files inside `folder` (with a name ending
    in one of `suffixes`, when given), from the text of /proc/<pid>/maps."""
    prefix = str(folder.resolve()) + "/"
    found = []
    for line in maps.splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) < 6 or not parts[5].startswith(prefix) or "w" in parts[1] or (
                suffixes and not parts[5].endswith(suffixes)):
            continue
        start, end = (int(x, 16) for x in parts[0].split("-"))
        found.append((start, end))
    return found


def _advise(folder: Path, name: str, suffixes: tuple[str, ...] = ()) -> int:
    """madvise(`name`) on this process's read-only mappings of `folder`'s files; the bytes advised (0
    where the system has no /proc or madvise)."""
    try:
        maps = Path("/proc/self/maps").read_text()
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return 0
    advice = getattr(mmap, name, None)
    if advice is None:
        return 0
    done = 0
    for start, end in mapped_under(maps, folder, suffixes):
        if libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), advice) == 0:
            done += end - start
    return done


def release(folder: Path) -> int:
    """Drop this process's resident pages of the read-only mappings of `folder`'s files; the bytes of
    the ranges released."""
    return _advise(folder, "MADV_DONTNEED")


def random_reads(folder: Path) -> int:
    """Mark the mappings of `folder`'s vector and column files as read at random (MADV_RANDOM): a page a
    question touches is read alone, without the kernel's read-around. This machine reads ahead 8 MB
    (/sys/block/*/queue/read_ahead_kb), so each row a question touched on a cold cache read up to 8 MB
    around it: 158 MB a question (median) and 15.5 GB over the first 60 at 101,100 articles, p50 849 ms
    (session 10, var/h/pages.py). The FAISS files keep read-around: a probed list is read end to end.
    The bytes advised."""
    return _advise(folder, "MADV_RANDOM", RANDOM_SUFFIXES)
