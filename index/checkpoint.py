"""Resumable builds: the model work a build has done so far (vectors, annotations), saved beside the
index folder as it goes, so a build that is interrupted (Ctrl-C, a killed process, a full disk) resumes
from what it had computed instead of starting again. A build of 100,000 articles encodes for hours.

The checkpoint is `<index>.resume/<key>/`, keyed by the encoder and the annotator, and holds shards
written whole (a temporary file renamed into place), so a shard is either complete or absent. Entries
are looked up by content: a vector by the SHA-256 of its text, an annotation by its article's hash and
the sentence's offsets. A changed article therefore misses and is computed anew; a half-built index is
never served, since the index folder itself is still only swapped in whole at the end. The build
deletes the checkpoint once the new index is in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from index.annotate import Annotation

T = TypeVar("T")
Tick = Callable[[int], None]
CHUNK = 2048  # texts or sentences computed between two saves: minutes of work lost at most
SUFFIX = ".resume"


KEY_BYTES = 20


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()[:KEY_BYTES]


def sentence_key(article_sha: str, start: int, end: int) -> str:
    return f"{article_sha}:{start}:{end}"


def folder_for(target: Path) -> Path:
    """Where the checkpoints of builds into `target` live (beside it, never inside the index)."""
    return target.with_name(target.name + SUFFIX)


@dataclass
class Checkpoint:
    folder: Path
    chunk: int = CHUNK
    resumed: int = 0  # texts and sentences this build took from the interrupted one
    failed: str = ""  # why saving stopped (a full disk): the build goes on, unsaved
    # a build that encodes a chunk at a time: the interrupted build's vectors are read on the first call
    # only and each is given out once (a text asked for again is encoded again), so that not every
    # vector is held to the end
    streamed: bool = False
    _unused: dict[bytes, np.ndarray] | None = None

    @classmethod
    def beside(cls, target: Path, key: str, chunk: int | None = None) -> tuple[Checkpoint, list[str]]:
        """The checkpoint for builds into `target` with this encoder and annotator (`key`), and the
        names of other keys' checkpoints removed (another model's vectors are of no use)."""
        root = folder_for(target)
        name = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        removed = []
        if root.is_dir():
            for other in sorted(root.iterdir()):
                if other.name != name:
                    if other.is_dir():
                        shutil.rmtree(other, ignore_errors=True)
                    else:
                        other.unlink(missing_ok=True)
                    removed.append(other.name)
        return cls(root / name, chunk or CHUNK), removed

    def clear(self) -> None:
        """Forget the work: the index that needed it is built."""
        shutil.rmtree(self.folder.parent, ignore_errors=True)

    def _chunked(self, todo: Sequence[T], resumed: int, desc: str, unit: str, pattern: str,
                 progress: bool) -> Iterator[tuple[list[T], int, Any]]:
        """`todo` a chunk at a time, with the number of the shard that saves it and the progress bar
        (rate, ETA, and how much came from the interrupted build)."""
        from tqdm import tqdm

        first = len(self._shards(pattern))
        with tqdm(total=len(todo), desc=desc, unit=unit, disable=not progress) as bar:
            if resumed:
                bar.set_postfix_str(f"{resumed:,} {unit}s from the interrupted build")
            for at in range(0, len(todo), self.chunk):
                yield list(todo[at: at + self.chunk]), first + at // self.chunk, bar

    def _shards(self, pattern: str) -> list[Path]:
        return sorted(self.folder.glob(pattern)) if self.folder.is_dir() else []

    def _write(self, path: Path, write: Callable[[Path], None]) -> None:
        """Save one shard whole, or (the disk full, the folder not writable) stop saving: the saved work
        only spares a rerun, and the index's own write reports the disk."""
        if self.failed:
            return
        tmp = path.with_name(path.name + ".tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write(tmp)
            os.replace(tmp, path)
        except OSError as exc:
            self.failed = exc.strerror or str(exc)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)

    def stored_vectors(self) -> dict[bytes, np.ndarray]:
        """Every vector saved so far, by text key; a shard that cannot be read is dropped."""
        found: dict[bytes, np.ndarray] = {}
        for path in self._shards("vectors-*.npz"):
            try:
                with np.load(path) as shard:
                    keys, vectors = shard["keys"], shard["vectors"]
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                path.unlink(missing_ok=True)
                continue
            # uint8 rows; an older shard's "S20" strings lost a key's trailing zero bytes (that text missed)
            names = (bytes(k) for k in keys) if keys.dtype.kind == "S" else (k.tobytes() for k in keys)
            found.update(zip(names, vectors, strict=True))
        return found

    def vectors(self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray],
                progress: bool = False) -> tuple[np.ndarray, int]:
        """The vectors of `texts` in order, and how many texts an earlier run had encoded: the others are
        encoded `chunk` distinct texts at a time, each chunk saved before the next starts."""
        keys = [text_key(t) for t in texts]
        if self._unused is None or not self.streamed:
            self._unused = self.stored_vectors()
        unused = self._unused
        stored = {k: unused.pop(k) for k in dict.fromkeys(keys) if k in unused}
        resumed = sum(1 for k in keys if k in stored)
        by_key = dict(zip(keys, texts, strict=True))
        missing = [k for k in by_key if k not in stored]
        for part, number, bar in self._chunked(missing, resumed, "Embedding", "text", "vectors-*.npz", progress):
            vectors = np.asarray(encode([by_key[k] for k in part]), dtype=np.float32)
            self._write(self.folder / f"vectors-{number:06d}.npz", _npz_writer(part, vectors))
            stored.update(zip(part, vectors, strict=True))
            bar.update(len(part))
        self.resumed += resumed
        return np.stack([stored[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32), resumed

    def stored_annotations(self) -> dict[str, Annotation]:
        """Every annotation saved so far, by sentence key; a shard that cannot be read is dropped."""
        found: dict[str, Annotation] = {}
        for path in self._shards("annotations-*.jsonl"):
            try:
                rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
                found.update((str(key), Annotation.from_row(row)) for key, row in rows)
            except (OSError, ValueError, TypeError):
                path.unlink(missing_ok=True)
        return found

    def annotations(self, keys: Sequence[str], compute: Callable[[list[int], Tick], list[Annotation]],
                    progress: bool = False) -> tuple[list[Annotation], int]:
        """The annotations of the sentences `keys` (sentence_key) in order, and how many an earlier run had
        made; `compute(positions, tick)` annotates the sentences at those positions of `keys`."""
        stored = self.stored_annotations()
        todo = [n for n, k in enumerate(keys) if k not in stored]
        resumed = len(keys) - len(todo)
        for part, number, bar in self._chunked(todo, resumed, "Annotating", "sentence", "annotations-*.jsonl",
                                               progress):
            notes = compute(part, _ticker(bar))
            lines = "".join(json.dumps([keys[n], a.to_row()]) + "\n" for n, a in zip(part, notes, strict=True))
            self._write(self.folder / f"annotations-{number:06d}.jsonl", _text_writer(lines))
            stored.update((keys[n], a) for n, a in zip(part, notes, strict=True))
        self.resumed += resumed
        return [stored[k] for k in keys], resumed


def _ticker(bar: Any) -> Tick:
    def tick(n: int) -> None:
        bar.update(n)
    return tick


def _text_writer(text: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")
    return write


def _npz_writer(keys: list[bytes], vectors: np.ndarray) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("wb") as out:  # a file object: np.savez would add ".npz" to a bare name
            # raw bytes: numpy's "S" strings drop trailing zero bytes, and a key may end in one
            np.savez(out, keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, KEY_BYTES), vectors=vectors)
    return write
