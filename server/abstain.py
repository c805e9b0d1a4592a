"""Confidence that the articles answer the question, and the decision to abstain.

A logistic model over a few evidence features of the best sentence and passage. Its coefficients are
fitted on the gold set by `python -m eval calibrate`, which writes server/calibration.json.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
FEATURES = ("dense", "lexical", "type_ok", "passage_dense", "bm25", "names_known")


@dataclass(frozen=True)
class Evidence:
    dense: float  # cosine of the best sentence with the question
    lexical: float  # IDF-weighted share of question terms in that sentence
    type_ok: float  # 1 when it holds the kind of answer asked for (number, date, name)
    passage_dense: float  # cosine of the best passage with the question
    bm25: float  # top BM25 score squashed to [0, 1)
    names_known: float  # share of the names in the question that the corpus mentions

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in FEATURES]


@dataclass(frozen=True)
class Calibration:
    weights: tuple[float, ...] = (2.3, 2.8, 3.2, 2.2, 1.3, 0.0)
    bias: float = -6.0

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        """The fitted coefficients, or the defaults when the file is absent."""
        if not path.is_file():
            return cls()
        raw = json.loads(path.read_text())
        return cls(tuple(float(raw["weights"].get(name, 0.0)) for name in FEATURES), float(raw["bias"]))


def squash_bm25(score: float) -> float:
    return score / (score + 5.0) if score > 0 else 0.0


def confidence(evidence: Evidence, calibration: Calibration) -> float:
    """Probability-like confidence in [0, 1], increasing in every feature when weights are positive."""
    z = calibration.bias + sum(w * x for w, x in zip(calibration.weights, evidence.vector(), strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
