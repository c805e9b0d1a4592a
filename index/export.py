"""Export a sentence-transformers model folder to ONNX, once per build, and prove it encodes the same.

torch is needed here only (torch.onnx, with the `onnx` package); the server loads the result with ONNX
Runtime. The weights are written apart from the graph (ONNX external data, model.onnx.data), so ONNX
Runtime maps them from the file instead of copying them (index/onnx_encoder.py). The export is refused
unless ONNX Runtime's vectors match sentence-transformers' on a sample (cosine >= MIN_COSINE for every
text, padded batches and single texts both).
"""

from __future__ import annotations

import inspect
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embed import Embedder
from index.encoder import read_pooling
from index.errors import ExportMismatch, ModelUnsupported
from index.onnx_encoder import MODEL_FILE, TOKENIZER_FILE, WEIGHTS_FILE, EncoderSpec, OnnxEncoder, write_spec

__all__ = ["MIN_COSINE", "SAMPLE", "export", "externalise", "verify"]

MIN_COSINE = 0.9999
OPSET = 17
NAMES = ("input_ids", "attention_mask", "token_type_ids")
SAMPLE = (
    "Who is the president of France?",
    "x",
    "What did the European Union say about tariffs on steel imports in 2021, and why did it matter to "
    "manufacturers in Germany, Italy and Poland who had warned for months that prices would rise?",
    "Café owners in São Paulo — and in Zürich — reported 12% fewer customers.",
)


def _wrapped(model: Any, inputs: Sequence[str]) -> Any:
    """The transformer as a module of positional tensors -> last hidden state (batch, tokens, dim)."""
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: Any) -> Any:
            return self.model(**dict(zip(inputs, tensors, strict=True))).last_hidden_state

    return Hidden().eval()


def externalise(model_file: Path) -> None:
    """Move the weights of `model_file` into WEIGHTS_FILE beside it (the same bytes, referred to by offset),
    leaving the graph alone in `model_file`."""
    import onnx

    model = onnx.load(str(model_file))
    weights = model_file.with_name(WEIGHTS_FILE)
    weights.unlink(missing_ok=True)  # onnx appends to an existing data file
    onnx.save_model(model, str(model_file), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=WEIGHTS_FILE, size_threshold=1024)
    weights.chmod(0o644)  # onnx creates it readable by its owner only, unlike the index's other files


def export(embedder: Embedder, out: Path, source: str, texts: Sequence[str] = ()) -> OnnxEncoder:
    """Write model.onnx, model.onnx.data, tokenizer.json and encoder.json for `embedder`'s model into `out`
    (created), check them against it on SAMPLE plus `texts`, and return the ONNX encoder over them. `source`
    identifies the model folder's contents (index.provision.source_hash)."""
    import torch

    model_dir = embedder.model_dir
    pooling = read_pooling(model_dir)
    tokenizer_file = model_dir / TOKENIZER_FILE
    if not tokenizer_file.is_file():
        raise ModelUnsupported(f"{model_dir} has no {TOKENIZER_FILE} (a fast tokenizer); Verbatim needs one to "
                               "serve without torch. Choose another sentence-transformers model.")
    transformer: Any = embedder.model[0].auto_model
    accepted = set(inspect.signature(transformer.forward).parameters)
    inputs = tuple(n for n in NAMES if n in accepted)
    out.mkdir(parents=True, exist_ok=True)
    # Traced on a padded batch, so the graph keeps the attention mask's work for every batch shape.
    ids = torch.tensor([[101, 2054, 2003, 102], [101, 2054, 102, 0]], dtype=torch.long)
    sample = {"input_ids": ids, "attention_mask": (ids > 0).long(), "token_type_ids": torch.zeros_like(ids)}
    axes = {name: {0: "batch", 1: "tokens"} for name in (*inputs, "hidden")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on constant shapes, which a padded sample covers
        torch.onnx.export(_wrapped(transformer, inputs), tuple(sample[n] for n in inputs), str(out / MODEL_FILE),
                          input_names=list(inputs), output_names=["hidden"], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)
    externalise(out / MODEL_FILE)
    shutil.copyfile(tokenizer_file, out / TOKENIZER_FILE)
    write_spec(out, EncoderSpec(embedder.name, embedder.dim, pooling, inputs, source))
    encoder = OnnxEncoder(out)
    verify(embedder, encoder, [*SAMPLE, *texts])
    return encoder


def verify(reference: Embedder, encoder: OnnxEncoder, texts: Sequence[str]) -> float:
    """The lowest cosine between the two encoders' vectors of `texts` (as one padded batch and one by
    one); ExportMismatch below MIN_COSINE."""
    texts = list(texts)
    expected = reference.embed_passages(texts)
    batched = encoder.embed_passages(texts, batch_size=len(texts))
    single = np.vstack([encoder.embed_queries([t]) for t in texts])
    lowest = float(min((expected * batched).sum(axis=1).min(), (expected * single).sum(axis=1).min()))
    if lowest < MIN_COSINE:
        raise ExportMismatch(
            f"The ONNX export of {reference.model_dir} does not encode like sentence-transformers (lowest "
            f"cosine {lowest:.6f} < {MIN_COSINE}). This model cannot be served through ONNX Runtime; choose "
            "another sentence-transformers model folder (VERBATIM_MODEL_DIR)."
        )
    return lowest
