"""The speed targets of `make bench`, each judged against the ONNX floor measured in the same run.

Pure: a bench result (the medians of bench.json) in, one row per target out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Target", "judge", "table"]


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None
    limit: float
    unit: str
    at_most: bool  # True: value <= limit passes; False: value >= limit passes
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value <= self.limit if self.at_most else self.value >= self.limit


def judge(result: dict[str, Any]) -> list[Target]:
    """The targets of issue 10: in-process answer p50 <= 1.5x one ONNX query encode, /ask p50 over HTTP
    <= 2x, cold start <= 1.5 s, server peak RSS <= 300 MB, 8 clients >= 150 req/s with no errors."""
    floor = float(result.get("floor_p50_ms") or 0.0)

    def get(key: str) -> float | None:
        value = result.get(key)
        return float(value) if isinstance(value, int | float) else None

    seq, answer = get("seq_p50_ms"), get("answer_p50_ms")
    return [
        Target("in-process answer p50", answer, round(1.5 * floor, 2), "ms", True,
               f"{answer / floor:.2f}x floor" if answer and floor else ""),
        Target("/ask p50 over HTTP", seq, round(2 * floor, 2), "ms", True,
               f"{seq / floor:.2f}x floor" if seq and floor else ""),
        Target("cold start to healthy", get("cold_start_s"), 1.5, "s", True),
        Target("server peak RSS", get("server_peak_rss_mb"), 300.0, "MB", True),
        Target(f"{result.get('clients', 8)} concurrent clients", get("conc_throughput_rps"), 150.0, "req/s", False,
               f"p95 {result.get('conc_p95_ms', 0):.1f} ms, {result.get('conc_errors', 0):.0f} errors"),
    ]


def table(targets: list[Target]) -> list[str]:
    lines = [f"  {'target':26s} {'measured':>10s}   {'limit':>10s}   result"]
    for t in targets:
        value = "-" if t.value is None else f"{t.value:.2f}"
        verdict = {True: "met", False: "MISSED", None: "not measured"}[t.met]
        sign = "<=" if t.at_most else ">="
        note = f"  ({t.note})" if t.note else ""
        lines.append(f"  {t.name:26s} {value:>10s} {sign} {t.limit:8.2f} {t.unit:5s} {verdict}{note}")
    return lines
