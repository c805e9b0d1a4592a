"""The regression gate: the product's metrics against the committed eval/baseline.json.

A gated metric fails when it moves in its bad direction by more than the tolerance (absolute,
default 0.02: on ~65 answerable gold questions one question is worth ~0.015, so one flipped question
passes and two fail). Latency is reported, never gated: it depends on the machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval import EvalError

DEFAULT_TOLERANCE = 0.02
# metric -> +1 when higher is better, -1 when lower is better
GATED: dict[str, int] = {
    "recall@1": 1, "recall@3": 1, "recall@5": 1, "recall@10": 1, "mrr@10": 1, "ndcg@10": 1,
    "doc_recall@1": 1, "doc_recall@5": 1, "answer_keyword": 1, "answer_quote_overlap": 1,
    "abstain_precision": 1, "abstain_recall": 1, "answerable_abstained": -1, "unanswerable_answered": -1,
    "verbatim_rate": 1, "answer_indexed": 1, "phrase_keyword": 1, "phrase_precision": 1,
    # the conversation sets (eval/conversations.py)
    "followup_answered": 1, "followup_abstained": 1, "switch_kept_apart": 1, "switch_answered": 1,
    "first_answered": 1,
}


@dataclass(frozen=True)
class Change:
    metric: str
    baseline: float
    current: float | None  # None: the metric became undefined (e.g. no abstention at all)
    worse_by: float | None  # how far it moved in its bad direction (negative: improved; None: undefined)
    regressed: bool


def compare(current: Mapping[str, float | None], baseline: Mapping[str, float | None],
            tolerance: float = DEFAULT_TOLERANCE) -> list[Change]:
    """A Change for every gated metric the baseline has, in GATED's order."""
    changes = []
    for metric, direction in GATED.items():
        before = baseline.get(metric)
        if before is None:
            continue
        now = current.get(metric)
        if now is None:
            changes.append(Change(metric, before, None, None, True))
            continue
        worse_by = round((before - now) * direction, 6)
        changes.append(Change(metric, before, now, worse_by, worse_by > tolerance + 1e-9))
    return changes


def regressions(changes: list[Change]) -> list[Change]:
    return [c for c in changes if c.regressed]


def describe(change: Change) -> str:
    if change.current is None or change.worse_by is None:
        return f"{change.metric}: {change.baseline:.4f} -> undefined"
    verb = "dropped" if GATED[change.metric] > 0 else "rose"
    return (f"{change.metric} {verb} by {change.worse_by:.4f} "
            f"({change.baseline:.4f} -> {change.current:.4f})")


def read_baseline(path: Path) -> dict[str, Any] | None:
    """The baseline file's content, or None when there is none."""
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise EvalError(f"{path} cannot be read as JSON ({exc}); fix it or recreate it with "
                        "`make eval-baseline`") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("metrics"), dict):
        raise EvalError(f"{path} has no \"metrics\" object; recreate it with `make eval-baseline`")
    return raw


def baseline_record(metrics: Mapping[str, float | None], gold_sha256: str, questions: int) -> dict[str, Any]:
    return {
        "about": "Product metrics on eval/gold.jsonl; `make eval` fails when a gated metric gets worse by "
                 "more than the tolerance. Regenerate on purpose with `make eval-baseline`.",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "gold_sha256": gold_sha256,
        "questions": questions,
        "gated": sorted(GATED),
        "metrics": dict(metrics),
    }


def write_baseline(path: Path, record: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(record, indent=2, sort_keys=False) + "\n", encoding="utf-8")
