"""Confidence that the articles answer the question, and the decision to abstain.

A logistic model over evidence of the best sentence and passage, the ranker's own probability among
them. Its coefficients (kept >= 0, so confidence only grows with the evidence) are fitted by
`make train` (eval/train.py) on answerable and unanswerable questions, and stored in
server/calibration.json.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
FEATURES = ("dense", "lexical", "type_ok", "passage_dense", "bm25", "names_known", "ranker", "margin")


@dataclass(frozen=True)
class Evidence:
    dense: float  # cosine of the best sentence with the question
    lexical: float  # IDF-weighted share of question terms in that sentence
    type_ok: float  # 1 when it holds the kind of answer asked for (number, date, name)
    passage_dense: float  # cosine of the best passage with the question
    bm25: float  # top BM25 score squashed to [0, 1)
    names_known: float  # share of the names in the question that the corpus mentions
    ranker: float = 0.0  # the ranker's probability that the best sentence holds the answer
    margin: float = 0.0  # how far it leads the next best (a clear winner is surer than a tie)

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in FEATURES]


@dataclass(frozen=True)
class Calibration:
    weights: tuple[float, ...] = (2.3, 2.8, 3.2, 2.2, 1.3, 0.0, 0.0, 0.0)
    bias: float = -6.0

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        """The fitted coefficients, or the defaults when the file is absent."""
        if not path.is_file():
            return cls()
        raw = json.loads(path.read_text())
        return cls(tuple(float(raw["weights"].get(name, 0.0)) for name in FEATURES), float(raw["bias"]))


def evidence_of(best: tuple[float, float, bool], top: float, runner_up: float, passage_dense: float,
                bm25: float, names_known: float) -> Evidence:
    """The Evidence of an answer: `best` is its best sentence's (dense, lexical, type_ok), `top` and
    `runner_up` the two best sentences' scores (a probability; a hand-set score is clipped into one),
    `passage_dense` and `bm25` the best retrieval scores (raw BM25)."""
    top, runner_up = min(max(top, 0.0), 1.0), min(max(runner_up, 0.0), 1.0)
    return Evidence(dense=best[0], lexical=best[1], type_ok=1.0 if best[2] else 0.0, passage_dense=passage_dense,
                    bm25=squash_bm25(bm25), names_known=names_known, ranker=top, margin=top - runner_up)


def squash_bm25(score: float) -> float:
    return score / (score + 5.0) if score > 0 else 0.0


def confidence(evidence: Evidence, calibration: Calibration) -> float:
    """Probability-like confidence in [0, 1], increasing in every feature when weights are positive."""
    z = calibration.bias + sum(w * x for w, x in zip(calibration.weights, evidence.vector(), strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def write_calibration(path: Path, calibration: Calibration, about: dict[str, object]) -> None:
    """The coefficients by feature name, with what they were fitted on."""
    raw = {"weights": {name: round(w, 4) for name, w in zip(FEATURES, calibration.weights, strict=True)},
           "bias": round(calibration.bias, 4), **about}
    path.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
