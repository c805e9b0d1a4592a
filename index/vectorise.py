"""The new articles' vectors, encoded a chunk of texts at a time and written to files as they come.

A build used to hold every text's vector at once (three per sentence and one per passage: 1.2 GB at
10,000 articles, 12 GB at 100,000, and twice that while they were stacked into the index's matrices).
Here each chunk's vectors go straight into three row files (sentences, their in-context blends,
passages) in a scratch folder, and the pieces the index is assembled from are views of those files
mapped from disk: what the build holds in memory at once is one chunk's vectors.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from index.checkpoint import Checkpoint
from index.onnx_encoder import OnnxEncoder
from index.provision import Plan
from index.records import Article, Passage, Sentence
from index.settings import Settings

__all__ = ["CHUNK_TEXTS", "Encoded", "RowFile", "encode_articles"]

CHUNK_TEXTS = 65_536  # texts encoded between two writes: about 100 MB of vectors at 384 dimensions
Work = tuple[Article, list[Sentence], list[Passage]]


class RowFile:
    """An .npy file of float32 rows written in order: the header for the final row count first, then the
    rows as they come (plain writes: nothing of it is held or mapped until it is read back)."""

    def __init__(self, path: Path, rows: int, dim: int) -> None:
        self.path, self.rows, self.dim, self.written = path, rows, dim, 0
        self._out: BinaryIO = path.open("wb")
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False,
                  "shape": (rows, dim)}
        np.lib.format.write_array_header_1_0(self._out, header)

    def write(self, block: np.ndarray) -> None:
        self._out.write(np.ascontiguousarray(block, dtype=np.float32).tobytes())
        self.written += len(block)

    def copy(self, source: Path, rows: int) -> None:
        """Append the `rows` rows of the .npy file `source` (float32, as many columns), copied by the
        kernel (copy_file_range): never read into this process, nor mapped."""
        with source.open("rb") as src:
            version = np.lib.format.read_magic(src)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(src)
            if dtype != np.float32 or fortran or tuple(shape) != (rows, self.dim):
                raise ValueError(f"{source} holds {dtype} {shape}, not float32 rows of {self.dim}")
            at, left = src.tell(), shape[0] * self.dim * 4
            self._out.flush()
            try:
                while left > 0:
                    n = os.copy_file_range(src.fileno(), self._out.fileno(), left, at)
                    if n <= 0:
                        raise OSError(errno.EIO, "copy_file_range copied nothing")
                    at, left = at + n, left - n
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                src.seek(at)  # a file system without it: through this process, a block at a time
                shutil.copyfileobj(src, self._out, 1 << 24)
            self._out.seek(0, os.SEEK_END)
        self.written += shape[0]

    def mapped(self) -> np.ndarray:
        self._out.close()
        if self.written != self.rows:
            raise ValueError(f"{self.path.name}: {self.written} rows written where {self.rows} were expected")
        return np.load(self.path, mmap_mode="r") if self.rows else np.zeros((0, self.dim), dtype=np.float32)


class Encoded:
    """Where each new article's vectors are: rows of the three mapped files."""

    def __init__(self, sentences: np.ndarray, contexts: np.ndarray, passages: np.ndarray,
                 s_at: list[int], p_at: list[int]) -> None:
        self.sentences, self.contexts, self.passages = sentences, contexts, passages
        self._s_at, self._p_at = s_at, p_at

    def of(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Article k's (sentence, context, passage) vectors."""
        s = slice(self._s_at[k], self._s_at[k + 1])
        return self.sentences[s], self.contexts[s], self.passages[self._p_at[k]: self._p_at[k + 1]]


def encode_articles(plan: Plan, todo: Sequence[Work], texts_of: Callable[[Work], tuple[list[str], list[str],
                                                                                       list[str]]],
                    previous: Path | None, workdir: Path, settings: Settings, progress: bool,
                    say: Callable[[str], None], checkpoint: Checkpoint | None = None,
                    chunk: int = CHUNK_TEXTS) -> tuple[Encoded | None, int, Path | None]:
    """(the vectors of `todo`'s articles, or None when there are none; dim, 0 when unknown; encoder files to
    store), encoded about `chunk` texts at a time with Plan.encode. `texts_of` gives an article's sentence,
    in-context and passage texts. The first chunk exports the model if it must; the others reuse that."""
    from tqdm import tqdm

    if not todo:  # nothing to encode: the dim and the files to store (the previous index's export)
        _, dim, stored = plan.encode([], previous, workdir, settings, progress, say, checkpoint)
        return None, dim, stored
    s_at, p_at = [0], [0]
    for _, article_sentences, article_passages in todo:
        s_at.append(s_at[-1] + len(article_sentences))
        p_at.append(p_at[-1] + len(article_passages))
    groups: list[range] = []  # articles encoded together: about `chunk` texts (two a sentence, one a passage)
    start = 0
    for k in range(len(todo)):
        texts = 2 * (s_at[k + 1] - s_at[start]) + p_at[k + 1] - p_at[start]
        if texts >= chunk or k == len(todo) - 1:
            groups.append(range(start, k + 1))
            start = k + 1
    files: Path | None = None
    dim = 0
    row_files: list[RowFile] = []
    # one chunk: the encoder's own bar (texts); several: one bar over the articles
    with tqdm(total=len(todo), desc="Embedding", unit="article", disable=not progress or len(groups) == 1) as bar:
        for group in groups:
            texts_of_group = [texts_of(todo[k]) for k in group]
            flat = [t for s, c, p in texts_of_group for t in s + c + p]
            vectors, dim, found = plan.encode(flat, previous, workdir, settings, progress and len(groups) == 1,
                                              say, checkpoint)
            assert vectors is not None
            if files is None and found is not None:
                files = found
                if plan.other is None and plan.onnx is None:  # the export made by this chunk serves the others
                    plan = replace(plan, onnx=OnnxEncoder(found, settings.encoder_threads))
            if not row_files:
                row_files = [RowFile(workdir / f"new-{name}.npy", rows, dim) for name, rows in
                             (("sentences", s_at[-1]), ("contexts", s_at[-1]), ("passages", p_at[-1]))]
            pos = 0
            for s, c, p in texts_of_group:
                for out, n in zip(row_files, (len(s), len(c), len(p)), strict=True):
                    out.write(vectors[pos: pos + n])
                    pos += n
            del vectors
            bar.update(len(group))
    if not row_files:
        return None, dim, files
    sentence_rows, context_rows, passage_rows = (f.mapped() for f in row_files)
    return Encoded(sentence_rows, context_rows, passage_rows, s_at, p_at), dim, files
