"""A vector matrix stored as segment files, so that a grown index writes only the rows it adds.

A +100-article build copied every vector file of the previous index into the new folder (6.4 KB a
sentence: about 22 GB and 220 s at 100,000 articles, and twice the index's space on disk while it ran).
Here a matrix `sentence_vectors.npy` may continue in `sentence_vectors.1.npy`, `sentence_vectors.2.npy`,
...: a grown index hard-links the previous index's full segments into its folder (never modified once
written, so both indexes share them safely, and their checksums are carried rather than hashed again)
and writes the new rows into a new segment. Only the last segment may be smaller than
`SEGMENT_ROWS`: it is merged with the new rows instead of kept, which bounds the number of files
(about 14 per matrix at 100,000 articles) and the copying a build does (at most `SEGMENT_ROWS` rows).

`Rows` reads the segments as one matrix, mapped from disk: a row, a slice or an array of row numbers,
as a numpy array would give them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import numpy as np

__all__ = ["SEGMENT_ROWS", "Layout", "Rows", "layout", "load_rows", "matrix_name", "plain", "segment_files",
           "segment_name"]

SEGMENT_ROWS = 1 << 18  # rows of a closed segment at least: 384 MB of float32 at 384 dimensions


def segment_name(name: str, k: int) -> str:
    """The file of segment k of the matrix `name` ("x.npy", "x.1.npy", ...)."""
    return name if k == 0 else f"{name.removesuffix('.npy')}.{k}.npy"


def matrix_name(file: str) -> str:
    """The matrix a file is a segment of ("x.2.npy" -> "x.npy"); any other file's own name."""
    return re.sub(r"\.\d+\.npy$", ".npy", file)


def segment_names(name: str, recorded: Iterable[str]) -> list[str]:
    """The segment files of `name` among the `recorded` file names, in order (the first one always)."""
    pattern = re.compile(re.escape(name.removesuffix(".npy")) + r"\.(\d+)\.npy")
    more = sorted((int(m.group(1)), n) for n in recorded if (m := pattern.fullmatch(n)))
    if [k for k, _ in more] != list(range(1, len(more) + 1)):
        raise ValueError(f"the segments of {name} are not numbered 1 to {len(more)}: {[n for _, n in more]}")
    return [name] + [n for _, n in more]


# Where a matrix's rows are in memory: each part's first row, row count, address and row stride
Layout = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def layout(parts: list[np.ndarray]) -> Layout | None:
    """The Layout of the rows of these parts (one matrix's, in order); None when a part is not rows laid
    out in memory (no parts, a 0-d or a strided view)."""
    if not parts or any(p.ndim < 1 or not p.flags.c_contiguous for p in parts):
        return None
    counts = np.array([len(p) for p in parts], dtype=np.int64)
    return (np.concatenate([[0], np.cumsum(counts)[:-1]]), counts,
            np.array([p.ctypes.data for p in parts], dtype=np.int64),
            np.array([p.strides[0] if p.size else 0 for p in parts], dtype=np.int64))


class Rows:
    """Segments (mapped .npy matrices of one dtype and width) read as one matrix, read-only."""

    def __init__(self, parts: list[np.ndarray]) -> None:
        if not parts or len({(p.dtype, p.shape[1:]) for p in parts}) != 1:
            raise ValueError("segments must be one or more matrices of one dtype and width")
        self.parts = parts
        self.starts = np.cumsum([0] + [len(p) for p in parts])
        self.dtype = parts[0].dtype
        self.shape = (int(self.starts[-1]), *parts[0].shape[1:])
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    @functools.cached_property
    def layout(self) -> Layout | None:
        """Where the segments' rows are in memory (index.prefetch advises on them for every question)."""
        return layout(self.parts)

    @property
    def files(self) -> list[Path]:
        return [Path(p.filename) for p in self.parts if isinstance(p, np.memmap) and p.filename]

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            i = int(key) + (len(self) if key < 0 else 0)
            if not 0 <= i < len(self):
                raise IndexError(f"row {key} of {len(self)}")
            s = int(np.searchsorted(self.starts, i, side="right")) - 1
            return np.asarray(self.parts[s][i - self.starts[s]])
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                return self[np.arange(start, stop, step)]
            pieces = [p[max(start - a, 0): max(min(stop, b) - a, 0)] for p, a, b in
                      zip(self.parts, self.starts[:-1], self.starts[1:], strict=True) if a < stop and b > start]
            if not pieces:
                return np.empty((0, *self.shape[1:]), dtype=self.dtype)
            return np.concatenate(pieces) if len(pieces) > 1 else np.asarray(pieces[0])
        ids = np.asarray(key)
        if ids.dtype == bool:
            ids = np.flatnonzero(ids)
        if ids.size == 0:
            ids = ids.astype(np.int64)  # [] is a float array to numpy
        if ids.dtype.kind not in "iu":
            raise TypeError(f"Rows are indexed by row numbers, not {ids.dtype}")
        flat = ids.reshape(-1).astype(np.int64)
        flat = np.where(flat < 0, flat + len(self), flat)
        if len(flat) and (flat.min() < 0 or flat.max() >= len(self)):
            raise IndexError(f"a row number out of 0..{len(self) - 1}")
        seg = np.searchsorted(self.starts, flat, side="right") - 1
        out = np.empty((len(flat), *self.shape[1:]), dtype=self.dtype)
        for s in np.unique(seg).tolist():
            at = seg == s
            out[at] = self.parts[s][flat[at] - self.starts[s]]
        return out.reshape(*ids.shape, *self.shape[1:])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """Every row in memory (as a numpy product with the whole matrix needs)."""
        whole = np.concatenate([np.asarray(p) for p in self.parts])
        return whole if dtype is None else whole.astype(dtype, copy=False)

    def __mul__(self, other: Any) -> np.ndarray:
        return np.asarray(self) * other

    __rmul__ = __mul__

    def __matmul__(self, other: Any) -> np.ndarray:
        return np.asarray(self) @ other


def load_rows(folder: Path, name: str, recorded: Iterable[str]) -> np.ndarray:
    """The matrix `name` of an index folder, mapped: one array, or Rows over its segments (those of
    `recorded`, the manifest's file names), typed as the array it reads as for the index's readers
    (rows, slices, arrays of row numbers)."""
    parts = [np.load(folder / n, mmap_mode="r") for n in segment_names(name, recorded)]
    return parts[0] if len(parts) == 1 else cast(np.ndarray, Rows(parts))


def plain(rows: np.ndarray) -> np.ndarray:
    """`rows` read through plain ndarray views of its mapped files (no copy): slicing an np.memmap runs
    numpy's Python `__array_finalize__` each time, and np.asarray of Rows would read every segment."""
    if isinstance(rows, Rows):
        return cast(np.ndarray, Rows([np.asarray(p) for p in rows.parts]))
    return np.asarray(rows)


def segment_files(rows: Any) -> list[Path] | None:
    """The files a mapped matrix is read from, in order; None when it is not (all) mapped from files."""
    if isinstance(rows, Rows):
        files = rows.files
        return files if len(files) == len(rows.parts) else None
    name = getattr(rows, "filename", None)
    return [Path(name)] if isinstance(rows, np.memmap) and name else None
