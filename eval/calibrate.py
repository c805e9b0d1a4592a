"""Fit the abstention model on the gold set: `python -m eval calibrate` writes server/calibration.json.

A logistic regression over the Evidence features (server/abstain.py), with non-negative weights so
that confidence only grows with the evidence, L2-regularised and class-balanced because the gold set
has fewer unanswerable questions than answerable ones. Deterministic: the same gold set and index
give the same file.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from server.abstain import CALIBRATION_FILE, FEATURES

REPO = Path(__file__).resolve().parents[1]
GOLD = REPO / "eval" / "gold.jsonl"


@dataclass(frozen=True)
class Fit:
    weights: np.ndarray
    bias: float


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.5, steps: int = 20000, lr: float = 1.0,
                 weight: np.ndarray | None = None) -> Fit:
    """Class-balanced logistic regression with weights kept >= 0 (projected gradient descent);
    `weight`: each row's weight, before the classes are balanced."""
    n, d = x.shape
    weight = np.ones(n) if weight is None else np.asarray(weight, dtype=float) * n / float(np.sum(weight))
    pos = max(float(np.sum(weight[y == 1])), 1e-9)
    neg = max(float(np.sum(weight[y == 0])), 1e-9)
    sample = weight * np.where(y == 1, n / (2 * pos), n / (2 * neg))
    w = np.zeros(d)
    b = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        err = (p - y) * sample
        w = np.maximum(w - lr * (x.T @ err / n + l2 * w / n), 0.0)
        b -= lr * float(err.mean())
    return Fit(w, b)


def rates(conf: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    answerable = y == 1
    return {
        "answerable_wrongly_abstained": float(np.mean(conf[answerable] < threshold)) if answerable.any() else 0.0,
        "unanswerable_answered": float(np.mean(conf[~answerable] >= threshold)) if (~answerable).any() else 0.0,
    }


def leave_one_out(x: np.ndarray, y: np.ndarray, l2: float, threshold: float = 0.5) -> dict[str, float]:
    """Rates when each question is judged by a model fitted without it: an honest estimate of how the
    threshold behaves on questions the calibration never saw."""
    conf = np.zeros(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        fit = fit_logistic(x[keep], y[keep], l2=l2, steps=4000)
        conf[i] = 1 / (1 + np.exp(-(x[i] @ fit.weights + fit.bias)))
    return rates(conf, y, threshold)


def collect(index_dir: Path | None, gold_path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Evidence features of every gold question (abstention off), and whether it is answerable."""
    from index.build import build
    from index.settings import Settings
    from server.answerer import Answerer, Options

    settings = Settings() if index_dir is None else Settings(index_dir=index_dir)
    build(settings, progress=False)
    answerer = Answerer.load(settings)
    rows, labels, ids = [], [], []
    for line in gold_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        gold = json.loads(line)
        evaluated = answerer.evaluate(gold["question"], options=Options(abstain=False))
        if evaluated.evidence is None:
            continue
        rows.append(evaluated.evidence.vector())
        labels.append(1.0 if gold["answerable"] else 0.0)
        ids.append(gold["id"])
    return np.array(rows), np.array(labels), ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval calibrate", description=__doc__)
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--index", type=Path, default=None, help="index folder (default: VERBATIM_INDEX_DIR)")
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    parser.add_argument("--l2", type=float, default=0.5)
    args = parser.parse_args(argv)
    x, y, _ = collect(args.index, args.gold)
    fit = fit_logistic(x, y, l2=args.l2)
    conf = 1 / (1 + np.exp(-(x @ fit.weights + fit.bias)))
    result = {
        "weights": {name: round(float(w), 4) for name, w in zip(FEATURES, fit.weights, strict=True)},
        "bias": round(fit.bias, 4),
        "fitted_on": {"gold": args.gold.name, "questions": int(len(y)), "answerable": int(y.sum())},
        "at_threshold_0.5": rates(conf, y, 0.5),
        "leave_one_out_at_0.5": leave_one_out(x, y, args.l2),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
        r = rates(conf, y, threshold)
        print(f"threshold {threshold:.1f}: answerable wrongly abstained {r['answerable_wrongly_abstained']:.1%}, "
              f"unanswerable answered {r['unanswerable_answered']:.1%}")
    return 0
