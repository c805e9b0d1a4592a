"""Checksums of every file in an index folder: recorded in the manifest when the folder is written,
verified whenever it is read, so a damaged or edited index is refused instead of served.

Generic over the folder's contents: whatever files a build writes are covered, with no list to keep.
Sizes are compared first (free); then each file is hashed in 1 MB reads (constant memory at any
scale), the files in parallel threads (hashlib releases the GIL on large updates). A size+mtime
shortcut is not taken: a flipped bit or an edit that keeps the mtime would pass it.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MANIFEST = "manifest.json"
CHUNK = 1 << 20

FileSums = dict[str, dict[str, int | str]]  # relative path -> {"bytes": n, "sha256": hex}


def files_of(folder: Path) -> list[str]:
    """Every regular file under `folder` but the manifest, as sorted relative POSIX paths."""
    found = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sorted(name for name in found if name != MANIFEST)


def digest(path: Path, sync: bool = False) -> str:
    """SHA-256 of a file read in 1 MB pieces; with `sync`, its data is also flushed to the disk."""
    sha = hashlib.sha256()
    with path.open("rb") as src:
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        while n := src.readinto(buffer):
            sha.update(view[:n])
        if sync:
            os.fsync(src.fileno())
    return sha.hexdigest()


def _workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def checksums(folder: Path, sync: bool = False) -> FileSums:
    """{"relative/path": {"bytes": n, "sha256": hex}} for every file of `folder` but the manifest."""
    names = files_of(folder)
    with ThreadPoolExecutor(_workers()) as pool:
        sums = list(pool.map(lambda name: digest(folder / name, sync), names))
    return {name: {"bytes": (folder / name).stat().st_size, "sha256": sha} for name, sha in zip(names, sums,
                                                                                                 strict=True)}


def problems(folder: Path, recorded: FileSums) -> list[str]:
    """What differs between `folder` and the checksums recorded for it (empty when it is intact)."""
    found: list[str] = []
    sized: list[str] = []
    for name, want in sorted(recorded.items()):
        path = folder / name
        if not path.is_file():
            found.append(f"{name} is missing")
        elif path.stat().st_size != want.get("bytes"):
            found.append(f"{name} has {path.stat().st_size} bytes, not {want.get('bytes')}")
        else:
            sized.append(name)
    with ThreadPoolExecutor(_workers()) as pool:
        sums = list(pool.map(lambda name: digest(folder / name), sized))
    found += [f"{name} has changed since the build" for name, sha in zip(sized, sums, strict=True)
              if sha != recorded[name].get("sha256")]
    return found


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (names created or renamed in it) to the disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_tree(folder: Path) -> None:
    """Flush every folder under `folder`, deepest first, then `folder` itself."""
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        sync_folder(sub)
    sync_folder(folder)
