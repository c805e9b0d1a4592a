"""Putting a finished index folder in place: durable, and readable after a crash at any step.

A build writes `<out>.building-<pid>-<ms>` beside `<out>`, flushes it to the disk, then swaps:
`<out>` -> `<out>.previous`, the new folder -> `<out>`, and only then deletes the previous one (renamed
to `<out>.deleting-...` first, so a half-deleted folder never carries a name that is read). At every
instant one complete index is readable as `<out>` or, between the two renames, as `<out>.previous`
(see `resolve`). What a killed build leaves behind is removed by the next one (`remove_stale`).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from index.errors import IndexCorrupt, IndexNotFound
from index.integrity import MANIFEST, sync_folder

REBUILD = "rebuild it with `python -m index build` (or `make index`)"


def crash_point(step: str) -> None:
    """A named step of the write and the swap. Does nothing; the fault-injection tests replace it
    (in a child process) with one that kills the process at the step they name."""


def previous_of(target: Path) -> Path:
    return target.with_name(target.name + ".previous")


def staging_for(target: Path) -> Path:
    """A new staging folder name: the pid tells a later build whether its writer is still alive."""
    return target.with_name(f"{target.name}.building-{os.getpid()}-{int(time.time() * 1000)}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale(target: Path) -> list[str]:
    """Delete the staging folders of builds that died, and half-deleted old indexes; the names removed."""
    removed: list[str] = []
    if not target.parent.is_dir():
        return removed
    for path in target.parent.glob(f"{target.name}.*"):
        kind, _, rest = path.name[len(target.name) + 1:].partition("-")
        pid = rest.partition("-")[0]
        dead_build = kind == "building" and pid.isdigit() and not _alive(int(pid))
        if path.is_dir() and (dead_build or kind == "deleting"):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def _discard(folder: Path, step: str) -> None:
    trash = folder.with_name(f"{folder.name.rsplit('.', 1)[0]}.deleting-{os.getpid()}-{int(time.time() * 1000)}")
    os.replace(folder, trash)
    sync_folder(folder.parent)
    crash_point(step)
    shutil.rmtree(trash, ignore_errors=True)


def swap_in(new: Path, target: Path) -> None:
    """Replace `target` by the finished, flushed folder `new`; a readable index exists at every step."""
    previous = previous_of(target)
    if target.exists():
        if previous.exists():  # `target` is complete (only a rename of a finished folder creates it)
            _discard(previous, "stale-previous-renamed")
        os.replace(target, previous)
        sync_folder(target.parent)
        crash_point("old-moved-aside")
    # else: none, or a swap was cut off between its renames and `previous` is the live index
    os.replace(new, target)
    sync_folder(target.parent)
    crash_point("new-in-place")
    if previous.exists():
        _discard(previous, "previous-renamed")
    crash_point("swapped")


def resolve(folder: Path) -> Path:
    """The folder to read: `folder`, or its `.previous` twin if a swap was cut off between two renames."""
    if (folder / MANIFEST).is_file():
        return folder
    previous = previous_of(folder)
    if not folder.exists() and (previous / MANIFEST).is_file():
        return previous
    if folder.exists():
        raise IndexCorrupt(f"{folder} has no {MANIFEST}: it is not a finished index; {REBUILD}.")
    raise IndexNotFound(f"No index at {folder}: build one with `python -m index build --out {folder}`.")
