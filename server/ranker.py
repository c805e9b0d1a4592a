"""The fitted sentence ranker: the probability that a candidate sentence holds the answer, from its
named Features (server/features.py). Fitted by `make train` (eval/train.py), stored in
server/ranker.json with the features it was fitted on, their training means (a feature switched off
sits at its mean, so it adds nothing) and what it was fitted on; the eval records the file's hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import VerbatimError
from server.treescore import LeafTables, compile_trees, leaf_values

MODEL_FILE = Path(__file__).with_name("ranker.json")


class RankerMissing(VerbatimError):
    pass


@dataclass(frozen=True)
class Linear:
    """A logistic regression over named, standardised features."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    bias: float

    def logits(self, rows: np.ndarray) -> np.ndarray:
        z = (np.asarray(rows, dtype=np.float64) - np.asarray(self.mean)) / np.asarray(self.scale)
        return np.asarray(z @ np.asarray(self.coef) + self.bias)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "linear", "names": list(self.names), "mean": [round(v, 6) for v in self.mean],
                "scale": [round(v, 6) for v in self.scale], "coef": [round(v, 6) for v in self.coef],
                "bias": round(self.bias, 6)}


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted trees (fitted by LightGBM, binary objective) over named features: they can weigh
    one piece of evidence by another (a type match matters more when the words match too). Stored as
    flat node arrays and evaluated with numpy, every tree at once, so serving needs no LightGBM (whose
    scipy import also breaks in a process that refuses torch). Scored through leaf tables built once
    (server/treescore.py): the same leaves as walking the trees, several times faster."""

    names: tuple[str, ...]
    mean: tuple[float, ...]  # training means, for switching a feature off
    feature: np.ndarray  # per node: the feature it splits on (leaves: 0)
    threshold: np.ndarray  # go left when the feature is <= this
    left: np.ndarray  # child node indexes (leaves point to themselves)
    right: np.ndarray
    value: np.ndarray  # a leaf's output (0 for split nodes)
    roots: np.ndarray  # each tree's root node
    depth: int  # the deepest leaf's depth: steps to take
    tables: LeafTables | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tables", compile_trees(self.feature, self.threshold, self.left, self.right,
                                                         self.value, self.roots, len(self.names)))

    def logits(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.float64)
        if self.tables is not None:
            return np.asarray(leaf_values(self.tables, rows).sum(axis=1))
        return self.walk(rows)

    def walk(self, rows: np.ndarray) -> np.ndarray:
        """The logits by walking every tree a level a step (for trees too wide for the tables)."""
        rows = np.asarray(rows, dtype=np.float64)
        node = np.broadcast_to(self.roots, (len(rows), len(self.roots))).copy()
        at = np.arange(len(rows))[:, None]
        for _ in range(self.depth):
            go_left = rows[at, self.feature[node]] <= self.threshold[node]
            node = np.where(go_left, self.left[node], self.right[node])
        return np.asarray(self.value[node].sum(axis=1))

    def to_json(self) -> dict[str, Any]:
        return {"kind": "trees", "names": list(self.names), "mean": [round(v, 6) for v in self.mean],
                "feature": self.feature.tolist(), "threshold": self.threshold.tolist(), "left": self.left.tolist(),
                "right": self.right.tolist(), "value": self.value.tolist(), "roots": self.roots.tolist(),
                "depth": self.depth}

    @classmethod
    def from_json(cls, m: dict[str, Any]) -> Trees:
        return cls(tuple(m["names"]), tuple(map(float, m["mean"])), np.asarray(m["feature"], dtype=np.int64),
                   np.asarray(m["threshold"], dtype=np.float64), np.asarray(m["left"], dtype=np.int64),
                   np.asarray(m["right"], dtype=np.int64), np.asarray(m["value"], dtype=np.float64),
                   np.asarray(m["roots"], dtype=np.int64), int(m["depth"]))

    @classmethod
    def from_dump(cls, names: Sequence[str], mean: Sequence[float], dump: dict[str, Any]) -> Trees:
        """From LightGBM's `Booster.dump_model()` (numerical "<=" splits; the features are never missing)."""
        feature: list[int] = []
        threshold: list[float] = []
        left: list[int] = []
        right: list[int] = []
        value: list[float] = []
        roots: list[int] = []
        depth = 0

        def add(node: dict[str, Any], level: int) -> int:
            nonlocal depth
            i = len(feature)
            feature.append(0)
            threshold.append(0.0)
            left.append(i)
            right.append(i)
            value.append(0.0)
            if "leaf_value" in node or "split_feature" not in node:
                value[i] = float(node.get("leaf_value", 0.0))
                depth = max(depth, level)
                return i
            if node.get("decision_type", "<=") != "<=":
                raise ValueError(f"unsupported split {node.get('decision_type')!r}")
            feature[i] = int(node["split_feature"])
            threshold[i] = float(node["threshold"])
            left[i] = add(node["left_child"], level + 1)
            right[i] = add(node["right_child"], level + 1)
            return i

        for tree in dump["tree_info"]:
            roots.append(add(tree["tree_structure"], 0))
        return cls(tuple(names), tuple(mean), np.array(feature), np.array(threshold), np.array(left),
                   np.array(right), np.array(value), np.array(roots), depth)


Model = Linear | Trees


@dataclass(frozen=True)
class Ranker:
    model: Model
    sha256: str  # of the weights file, so a report says which weights it measured
    about: dict[str, Any]

    @property
    def names(self) -> tuple[str, ...]:
        return self.model.names

    @property
    def keep_ratio(self) -> float | None:
        """The share of the best sentence's probability a further quote needs (fitted with the model)."""
        ratio = self.about.get("keep_ratio")
        return float(ratio) if ratio is not None else None

    def probability(self, rows: np.ndarray, off: Iterable[str] = ()) -> np.ndarray:
        """P(holds the answer) for each row (n, len(names)); features in `off` held at their mean."""
        rows = np.array(rows, dtype=np.float64).reshape(-1, len(self.names))
        for name in off:
            if name in self.names:
                rows[:, self.names.index(name)] = self.model.mean[self.names.index(name)]
        return 1.0 / (1.0 + np.exp(-np.clip(self.model.logits(rows), -30, 30)))

    @classmethod
    def load(cls, path: Path = MODEL_FILE, features: Sequence[str] = ()) -> Ranker:
        """The fitted ranker; refuses a file fitted on other features than the code computes."""
        try:
            data = path.read_bytes()
            raw = json.loads(data)
            m = raw["model"]
            model: Model
            if m.get("kind") == "linear":
                model = Linear(tuple(m["names"]), tuple(map(float, m["mean"])), tuple(map(float, m["scale"])),
                               tuple(map(float, m["coef"])), float(m["bias"]))
            elif m.get("kind") == "trees":
                model = Trees.from_json(m)
            else:
                raise ValueError(f"unknown model kind {m.get('kind')!r}")
        except OSError as exc:
            raise RankerMissing(f"No ranker weights at {path} ({exc.strerror or exc}); fit them with "
                                "`make train` (python -m eval train).") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise RankerMissing(f"{path} is not a ranker weights file ({exc}); refit it with `make train`.") from exc
        if features and model.names != tuple(features):
            raise RankerMissing(f"{path} was fitted on other features ({', '.join(model.names)}) than this code "
                                "computes; refit it with `make train`.")
        return cls(model, hashlib.sha256(data).hexdigest(), dict(raw.get("about", {})))


def write_ranker(path: Path, model: Model, about: dict[str, Any]) -> str:
    """Write the weights file; returns its sha256."""
    text = json.dumps({"about": about, "model": model.to_json()}, indent=1) + "\n"
    path.write_text(text, encoding="utf-8")
    return hashlib.sha256(text.encode()).hexdigest()
