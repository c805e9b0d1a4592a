"""The question's part-of-speech tags without thinc: spaCy's tok2vec and tagger forward pass for one short
text, in a few numpy operations over the pipeline's own weights.

Why: through thinc, tagging a ten-word question costs 3-4 ms on this 2-core machine, most of it the
Python of some forty small layers and BLIS's generic kernel (BLIS does not recognise this CPU and falls
back to 'generic'); the same arithmetic here costs about 1.3 ms. It is the same model, the same weights
and the same order of operations, so the vectors agree with thinc's to about 1e-6 and the tags are the
same: `FastTagger.of` checks that on sample questions when it is made and returns None (spaCy's own
components are used) for a pipeline whose architecture or tags differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["FastTagger", "one_blas_thread"]

# What this module implements (en_core_web_sm 3.x's tok2vec and tagger); anything else is left to spaCy.
EMBED = "spacy.MultiHashEmbed.v2"
ENCODE = "spacy.MaxoutWindowEncoder.v2"
TOK2VEC = "spacy.Tok2Vec.v2"
TAGGER = "spacy.Tagger.v2"

SAMPLES = (  # questions of every shape the answerer sees, checked against spaCy's own tags at load
    "What did Lavrov say about the agreement?", "who wrote the Asia Times piece",
    "How many people were killed in the 2021 attack on Kabul's airport?", "When was that?",
    "WHERE IS THE PORT OF CHABAHAR", "Why not?", "and India?", "Did Masoud Pezeshkian visit Moscow in 2024?",
    "what's the name of the minister who signed it", "In which year did the U.S. impose sanctions on Iran?",
)


def one_blas_thread() -> None:
    """numpy's (and FAISS's) OpenBLAS at one thread, for the whole process. OpenBLAS splits a product as
    small as the tagger's (20 x 288 by 288 x 288) over both cores, and waking the second thread on a busy
    2-core machine made it 5-10x slower than one thread (tok2vec 12-15 ms against 1.9 ms, measured
    interleaved); the process's parallelism is its request threads and the encoder's own pool."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


@dataclass(frozen=True)
class Block:
    """Maxout (three pieces) then layer normalisation: the unit both halves of tok2vec are made of."""

    weights: np.ndarray  # (inputs, pieces * width): the pieces side by side, so the max is elementwise
    bias: np.ndarray  # (pieces * width,)
    width: int
    gain: np.ndarray  # (width,)
    shift: np.ndarray  # (width,)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y = x @ self.weights
        y += self.bias
        w = self.width
        z = np.maximum(np.maximum(y[:, :w], y[:, w:2 * w]), y[:, 2 * w:])
        # thinc's LayerNorm: (x - mean) * (var + 1e-8) ** -0.5 * G + b
        z -= np.add.reduce(z, axis=1, keepdims=True) / w
        z *= (np.add.reduce(z * z, axis=1, keepdims=True) / w + 1e-08) ** -0.5
        z *= self.gain
        z += self.shift
        return z


def window(x: np.ndarray) -> np.ndarray:
    """Each row beside the one before and after it (zeros past the ends): thinc's seq2col with nW=1."""
    n, w = x.shape
    cols = np.zeros((n, 3 * w), dtype=x.dtype)
    cols[1:, :w] = x[:-1]
    cols[:, w:2 * w] = x
    cols[:-1, 2 * w:] = x[1:]
    return cols


@dataclass(frozen=True)
class FastTagger:
    attrs: tuple[int, ...]  # spaCy attribute ids hashed into the embeddings (NORM, PREFIX, ...)
    tables: tuple[tuple[int, np.ndarray], ...]  # per attribute: its hash seed and its (rows, width) table
    embed: Block  # the embeddings' concatenation mixed down to the width
    encode: tuple[Block, ...]  # the residual window layers
    pad: int  # zero rows around the text, as thinc's with_array(pad=depth * window) adds
    weights: np.ndarray  # (width, tags): the tagger's output layer
    bias: np.ndarray
    tags: tuple[int, ...]  # each output's tag as a string-store hash
    hash: Any  # thinc's MurmurHash of a column of ids with a seed: (n,) uint64 -> (n, 4) uint32
    gather_add: Any  # thinc's sum of the rows of a table that each row of keys names

    def tag_ids(self, doc: Any) -> np.ndarray:
        """Index into `tags` of each token's tag, as spaCy's tagger would choose it."""
        ids = doc.to_array(list(self.attrs))
        parts = [self.gather_add(table, self.hash(np.ascontiguousarray(ids[:, i]), seed) % table.shape[0])
                 for i, (seed, table) in enumerate(self.tables)]
        x = self.embed(np.concatenate(parts, axis=1))
        pad = np.zeros((self.pad, x.shape[1]), dtype=x.dtype)
        x = np.concatenate([pad, x, pad])
        for block in self.encode:
            x += block(window(x))
        scores = x[self.pad: len(x) - self.pad] @ self.weights + self.bias
        return np.asarray(scores.argmax(axis=1))

    def __call__(self, doc: Any) -> Any:
        """`doc` (fresh from the tokenizer) with its tags set, as tok2vec then tagger would leave it
        (but for doc.tensor, which nothing here reads)."""
        if len(doc):
            for token, i in zip(doc, self.tag_ids(doc).tolist(), strict=True):
                token.tag = self.tags[i]
        return doc

    @classmethod
    def of(cls, nlp: Any, samples: Sequence[str] = SAMPLES) -> FastTagger | None:
        """The fast path for `nlp`'s tok2vec and tagger, or None when they are not the architecture
        implemented here or do not tag the samples exactly as spaCy does."""
        try:
            made = cls._made(nlp)
        except (KeyError, ValueError, AttributeError, IndexError, TypeError):
            return None
        return made if made is not None and agrees(nlp, made, samples) else None

    @classmethod
    def _made(cls, nlp: Any) -> FastTagger | None:
        from spacy.attrs import IDS

        if nlp.pipe_names[:2] != ["tok2vec", "tagger"]:
            return None
        config = nlp.config["components"]
        model, tagger = config["tok2vec"]["model"], config["tagger"]["model"]
        embed, encode = model["embed"], model["encode"]
        if (model["@architectures"], embed["@architectures"], encode["@architectures"], tagger["@architectures"]) \
                != (TOK2VEC, EMBED, ENCODE, TAGGER) or embed["include_static_vectors"] \
                or tagger["tok2vec"]["@architectures"] != "spacy.Tok2VecListener.v1" or tagger["normalize"] \
                or encode["window_size"] != 1 or encode["maxout_pieces"] != 3:
            return None
        net = nlp.get_pipe("tok2vec").model
        nodes = list(net.walk())
        tables = tuple((int(n.attrs["seed"]), n.get_param("E")) for n in nodes if n.name == "hashembed")
        maxouts = [n for n in nodes if n.name == "maxout"]
        norms = [n for n in nodes if n.name == "layernorm"]
        if len(tables) != len(embed["attrs"]) or not len(maxouts) == len(norms) == encode["depth"] + 1:
            return None
        blocks = [block_of(m.get_param("W"), m.get_param("b"), n.get_param("G"), n.get_param("b"))
                  for m, n in zip(maxouts, norms, strict=True)]
        out = [n for n in nlp.get_pipe("tagger").model.walk() if n.name == "softmax"]
        labels = nlp.get_pipe("tagger").labels
        weights, bias = out[0].get_param("W"), out[0].get_param("b")
        if len(out) != 1 or weights.shape[0] != len(labels):
            return None
        return cls(tuple(IDS[a.upper()] for a in embed["attrs"]), tables, blocks[0], tuple(blocks[1:]),
                   int(encode["depth"]) * int(encode["window_size"]), np.ascontiguousarray(weights.T), bias,
                   tuple(nlp.vocab.strings.add(label) for label in labels), net.ops.hash, net.ops.gather_add)


def agrees(nlp: Any, tagger: FastTagger, samples: Sequence[str] = SAMPLES) -> bool:
    """Whether `tagger` then the rest of `nlp` tags every sample as `nlp` itself does."""
    rest = nlp.pipeline[nlp.pipe_names.index("tagger") + 1:]
    # spaCy tags the samples in one batch: one pass through thinc's layers, not one per sample (60-100 ms
    # of the server's start less; the same tags as one at a time on every sample)
    for text, own in zip(samples, nlp.pipe(samples), strict=True):
        doc = tagger(nlp.make_doc(text))
        for _, proc in rest:
            doc = proc(doc)
        if [t.tag_ for t in doc] != [t.tag_ for t in own]:
            return False
    return True


def block_of(w: np.ndarray, b: np.ndarray, gain: np.ndarray, shift: np.ndarray) -> Block:
    """thinc's Maxout weights (width, pieces, inputs) laid out piece by piece for one product."""
    width, pieces, inputs = w.shape
    if pieces != 3:
        raise ValueError(f"maxout with {pieces} pieces")
    return Block(np.ascontiguousarray(w.transpose(1, 0, 2).reshape(pieces * width, inputs).T),
                 np.ascontiguousarray(b.T.reshape(pieces * width)), width, gain, shift)
