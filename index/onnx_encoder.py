"""The serving encoder: the model exported to ONNX, run by ONNX Runtime, tokenized by `tokenizers`.

It needs neither torch nor sentence-transformers: only the files the build stores in the index folder's
`encoder/`: model.onnx (the graph), model.onnx.data (its weights, as ONNX external data), tokenizer.json
and encoder.json (the name, dimension and pooling). ONNX Runtime maps external data from the file rather
than copying it into its own memory: the weights are file pages the kernel can share and drop, and the
session loads in a fraction of the time (eval/README.md, session 8). An index built before session 8
keeps the weights inside model.onnx; it is still served, the same vectors, only with the weights copied.
A single text is tokenized without padding; a batch is sorted by length and padded to its longest text,
so short questions never pay for 128 or 256 padding tokens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.encoder import Pooling, pool
from index.errors import IndexCorrupt
from index.swap import REBUILD

__all__ = ["ENCODER_DIR", "ENCODER_FILES", "WEIGHTS_FILE", "OnnxEncoder", "encoder_spec"]

ENCODER_DIR = "encoder"
MODEL_FILE = "model.onnx"
WEIGHTS_FILE = "model.onnx.data"  # the graph's initializers, which model.onnx refers to by offset
TOKENIZER_FILE = "tokenizer.json"
SPEC_FILE = "encoder.json"
ENCODER_FILES = (MODEL_FILE, WEIGHTS_FILE, TOKENIZER_FILE, SPEC_FILE)
SERVED_WITHOUT = (WEIGHTS_FILE,)  # an index of the older layout (weights inside model.onnx) still serves


@dataclass(frozen=True)
class EncoderSpec:
    name: str
    dim: int
    pooling: Pooling
    inputs: tuple[str, ...]  # the ONNX graph's input names, e.g. input_ids, attention_mask, token_type_ids
    source: str = ""  # index.provision.source_hash of the model folder it was exported from


def encoder_spec(folder: Path) -> EncoderSpec:
    raw = json.loads((folder / SPEC_FILE).read_text(encoding="utf-8"))
    return EncoderSpec(str(raw["name"]), int(raw["dim"]), Pooling.from_json(raw["pooling"]),
                       tuple(raw["inputs"]), str(raw.get("source", "")))


def write_spec(folder: Path, spec: EncoderSpec) -> None:
    (folder / SPEC_FILE).write_text(json.dumps({"name": spec.name, "dim": spec.dim,
                                                "pooling": spec.pooling.to_json(), "inputs": list(spec.inputs),
                                                "source": spec.source},
                                               indent=2), encoding="utf-8")


class OnnxEncoder:
    """ONNX Runtime over an exported sentence-transformers model (see the module docstring)."""

    def __init__(self, folder: Path, threads: int = 2, spin: bool = True) -> None:
        import onnxruntime as ort
        from onnxruntime.capi import onnxruntime_pybind11_state as state
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        try:
            self.spec = encoder_spec(self.folder)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            # Spinning threads wait for work by burning a core: quicker for one encode on an idle machine,
            # but under concurrent requests they take the cores the request threads need (eval/README.md)
            options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
            self.session = ort.InferenceSession(str(self.folder / MODEL_FILE), options,
                                                providers=["CPUExecutionProvider"])
        except (OSError, KeyError, ValueError, TypeError, state.Fail, state.InvalidProtobuf, state.NoSuchFile,
                state.InvalidArgument) as exc:
            raise IndexCorrupt(f"The encoder in {self.folder} cannot be loaded ({exc}); {REBUILD}.") from exc
        try:
            tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        except Exception as exc:  # tokenizers raises a bare Exception for a missing or malformed file
            raise IndexCorrupt(f"The tokenizer in {self.folder} cannot be loaded ({exc}); {REBUILD}.") from exc
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.spec.pooling.max_seq_length)
        self.tokenizer = tokenizer
        self.pad_id = tokenizer.token_to_id("[PAD]") or 0
        self.name = self.spec.name
        self.dim = self.spec.dim
        self.threads = threads

    @classmethod
    def from_index(cls, index_folder: Path, threads: int = 2, spin: bool = True) -> OnnxEncoder:
        """The encoder stored in an index folder (whose files read_folder has checked against the manifest)."""
        folder = index_folder / ENCODER_DIR
        missing = [name for name in ENCODER_FILES if name not in SERVED_WITHOUT and not (folder / name).is_file()]
        if missing:
            raise IndexCorrupt(f"The index at {index_folder} lacks {ENCODER_DIR}/{missing[0]}; {REBUILD}.")
        return cls(folder, threads, spin)

    def dictionary(self) -> frozenset[str]:
        """Whole words of the tokenizer's vocabulary (lower case): the words the model knows."""
        return frozenset(w.lower() for w in self.tokenizer.get_vocab() if w.isalpha())

    def _run(self, encodings: list[Any]) -> np.ndarray:
        """One forward pass over tokenized texts, padded to the longest of them."""
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self.session.run(None, {name: feeds[name] for name in self.spec.inputs})[0]
        return pool(hidden, mask, self.spec.pooling.mode)

    def _tokenize(self, texts: list[str]) -> list[Any]:
        if self.spec.pooling.lower_case:
            texts = [t.lower() for t in texts]
        return list(self.tokenizer.encode_batch(texts))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Questions -> (len(texts), dim) float32, unit length; all of them in one forward pass."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._run(self._tokenize(texts))

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Passages or sentences -> (len(texts), dim) float32, unit length; batches of similar length."""
        from tqdm import tqdm

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encodings = self._tokenize(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not progress or not texts) as bar:
            for start in range(0, len(order), batch_size):
                rows = order[start: start + batch_size]
                out[rows] = self._run([encodings[i] for i in rows])
                bar.update(len(rows))
        return out
