"""Checksums of every file in an index folder: recorded in the manifest when the folder is written,
verified whenever it is read, so a damaged or edited index is refused instead of served.

Generic over the folder's contents: whatever files a build writes are covered, with no list to keep.
Sizes are compared first (free); then each file is hashed in 1 MB reads (constant memory at any
scale), the files in parallel threads (hashlib releases the GIL on large updates).

The fast path: the build also records each file's inode, size, mtime and ctime (in `stat.json`) once
it has flushed it. A file whose four are unchanged has not been written through the kernel since the
build (any write or replacement changes the ctime or the inode, and the ctime cannot be set back, so
an edit that restores the mtime is still seen); it is not hashed again. A copied, moved-between-disks
or touched folder is hashed in full. What only a full hash catches (bits rotting under the filesystem)
is what `python -m index verify` is for.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MANIFEST = "manifest.json"
STATS = "stat.json"
UNCHECKED = {MANIFEST, STATS}  # written after the checksums are taken
CHUNK = 1 << 20

FileSums = dict[str, dict[str, int | str]]  # relative path -> {"bytes": n, "sha256": hex}


def files_of(folder: Path) -> list[str]:
    """Every regular file under `folder` but the manifest and stat.json, as sorted relative POSIX paths."""
    found = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sorted(name for name in found if name not in UNCHECKED)


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


def checksums(folder: Path, sync: bool = False, carried: FileSums | None = None) -> FileSums:
    """{"relative/path": {"bytes": n, "sha256": hex}} for every file of `folder` but the manifest.
    `carried`: files whose checksums are known (hard links to a verified index's files, flushed when it
    was written): taken as they are when the size agrees, not read again."""
    names = files_of(folder)
    known = {name: carried[name] for name in names if carried and name in carried
             and carried[name].get("bytes") == (folder / name).stat().st_size}
    todo = [name for name in names if name not in known]
    with ThreadPoolExecutor(_workers()) as pool:
        sums = dict(zip(todo, pool.map(lambda name: digest(folder / name, sync), todo), strict=True))
    return {name: dict(known[name]) if name in known else {"bytes": (folder / name).stat().st_size,
                                                           "sha256": sums[name]} for name in names}


def linked_sums(folder: Path, source: Path, recorded: FileSums) -> FileSums:
    """The checksums `recorded` for `source` (a verified index) of the files of `folder` that are hard
    links to source's files of the same name (one inode): what `checksums` need not hash again."""
    found: FileSums = {}
    for name, sums in recorded.items():
        mine, theirs = folder / name, source / name
        try:
            if mine.is_file() and not mine.is_symlink() and mine.stat().st_ino == theirs.stat().st_ino and \
                    mine.stat().st_dev == theirs.stat().st_dev:
                found[name] = sums
        except OSError:
            continue
    return found


def _stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def record_stats(folder: Path) -> None:
    """Write stat.json: inode, size, mtime and ctime of every checked file, as they are now."""
    stats = {name: _stat(folder / name) for name in files_of(folder)}
    with (folder / STATS).open("w", encoding="utf-8") as out:
        out.write(json.dumps(stats))
        out.flush()
        os.fsync(out.fileno())


def unchanged_since_build(folder: Path) -> set[str]:
    """The files whose inode, size, mtime and ctime are still those stat.json recorded."""
    try:
        stats = json.loads((folder / STATS).read_text(encoding="utf-8"))
        return {name for name, st in stats.items() if (folder / name).is_file() and _stat(folder / name) == st}
    except (OSError, ValueError, TypeError, AttributeError):
        return set()  # no usable record: every file is hashed


def problems(folder: Path, recorded: FileSums, full: bool = False) -> list[str]:
    """What differs between `folder` and the checksums recorded for it (empty when it is intact).
    Files unchanged since the build (see above) are not hashed again unless `full`."""
    found: list[str] = []
    sized: list[str] = []
    trusted = set() if full else unchanged_since_build(folder)
    for name, want in sorted(recorded.items()):
        path = folder / name
        if not path.is_file():
            found.append(f"{name} is missing")
        elif path.stat().st_size != want.get("bytes"):
            found.append(f"{name} has {path.stat().st_size} bytes, not {want.get('bytes')}")
        elif name not in trusted:
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
