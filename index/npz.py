"""The arrays of an .npz file mapped from disk where they can be, instead of read into memory.

`np.savez` stores each array as an uncompressed .npy inside a zip file, so its bytes lie in the file as
they would in memory; `np.load` of an .npz reads every array it is asked for into the process all the
same. The index's column files (spans.npz, terms.npz, neighbours.npz) were most of a server's own memory
once the vectors and the FAISS indexes were mapped: 0.38 GB at 50,000 articles, growing with the
sentences. Here a stored member is mapped read-only at its offset; a compressed one (never written by
the index, but a valid .npz) is read as np.load reads it.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["load_npz"]

LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip member's local header: name and extra lengths at the end


def _member(path: Path, info: zipfile.ZipInfo) -> np.ndarray | None:
    """A stored .npy member of the zip at `path`, mapped read-only (a plain ndarray view of the map);
    None when its header is of a version this does not map (np.load reads it then)."""
    with path.open("rb") as f:
        f.seek(info.header_offset)
        raw = f.read(LOCAL_HEADER.size)
        fields = LOCAL_HEADER.unpack(raw) if len(raw) == LOCAL_HEADER.size else (b"",)
        if fields[0] != b"PK\x03\x04":
            raise ValueError(f"{path.name}: {info.filename} has no zip header where the directory says")
        data = info.header_offset + LOCAL_HEADER.size + fields[-2] + fields[-1]
        f.seek(data)
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            return None
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(f)
        offset = f.tell()
    count = int(np.prod(shape, dtype=np.int64))
    if dtype.hasobject or offset + count * dtype.itemsize > data + info.file_size:
        raise ValueError(f"{path.name}: {info.filename} is not an array of {shape} {dtype} as its header says")
    if count == 0:
        return np.zeros(shape, dtype=dtype)
    return np.asarray(np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                                order="F" if fortran else "C"))


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the .npz at `path` by name (without ".npy"): stored ones mapped, others read."""
    found: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    rest = []
    for info in infos:
        name = info.filename.removesuffix(".npy")
        mapped = _member(path, info) if info.compress_type == zipfile.ZIP_STORED else None
        if mapped is None:
            rest.append(name)
        else:
            found[name] = mapped
    if rest:
        with np.load(path, allow_pickle=False) as arrays:
            found.update((name, arrays[name]) for name in rest)
    return found
