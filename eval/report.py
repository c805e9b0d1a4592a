"""Reports of a gold-set run: latest.json (everything), latest.md (tables and every failed question),
latest.html (Recall@k curves per ablation as inline SVG, and the tables). Pure text builders; `write`
is the only function that touches files."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from eval.gate import GATED, Change
from eval.run import CHECK, K_VALUES, PRODUCT, EvalRun, Row

LABELS: dict[str, str] = {
    **{f"recall@{k}": f"Passage Recall@{k}" for k in K_VALUES},
    "mrr@10": "Passage MRR@10", "ndcg@10": "Passage nDCG@10",
    "doc_recall@1": "Document Recall@1", "doc_recall@5": "Document Recall@5",
    "answer_indexed": "Answer reachable in the index",
    "answer_keyword": "Answer holds a keyword", "answer_quote_overlap": "First quote on a gold span",
    "phrase_shown": "Answers emphasising a phrase", "phrase_keyword": "Emphasised phrase holds a keyword",
    "phrase_precision": "Emphasised phrases holding one",
    "abstain_precision": "Abstention precision", "abstain_recall": "Abstention recall",
    "answerable_abstained": "Answerable but abstained", "unanswerable_answered": "Unanswerable but answered",
    "verbatim_rate": "Verbatim rate", "verbatim_checked": "Quotes and citations checked",
    "latency_total_p50_ms": "Latency p50 (ms)", "latency_total_p95_ms": "Latency p95 (ms)",
    "latency_encode_p50_ms": "Encode p50 (ms)", "latency_encode_p95_ms": "Encode p95 (ms)",
    "questions": "Questions",
}
SHORT: dict[str, str] = {
    "recall@1": "R@1", "recall@3": "R@3", "recall@5": "R@5", "recall@10": "R@10", "mrr@10": "MRR",
    "ndcg@10": "nDCG", "doc_recall@1": "DocR@1", "doc_recall@5": "DocR@5", "answer_keyword": "Keyword",
    "answer_quote_overlap": "OnSpan", "phrase_keyword": "Phrase", "abstain_precision": "AbstP",
    "abstain_recall": "AbstR",
    "answerable_abstained": "AnsAbst", "unanswerable_answered": "UnansAns", "verbatim_rate": "Verbatim",
}
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def failure_reasons(row: Row) -> list[str]:
    """Why a product answer counts as failed; empty when it did everything right."""
    if not row.answerable:
        return [] if row.abstained else ["answered an unanswerable question"]
    reasons = []
    if row.abstained:
        reasons.append("abstained")
    elif not row.scores.get("answer_keyword"):
        reasons.append("no expected keyword in the answer")
    if not row.abstained and not row.scores.get("answer_quote_overlap"):
        reasons.append("first quote is not on a gold span")
    if not row.scores.get("recall@10"):
        reasons.append("no answering passage in the top 10")
    return reasons


def summary_rows(metrics: Mapping[str, float | None], baseline: Mapping[str, float | None] | None,
                 changes: Sequence[Change]) -> list[list[str]]:
    """[metric, value, baseline, change, gate] for the product."""
    by_metric = {c.metric: c for c in changes}
    rows = []
    for name, label in LABELS.items():
        if name not in metrics:
            continue
        value, before = metrics[name], (baseline or {}).get(name)
        digits = 1 if name.startswith("latency") or name in ("questions", "verbatim_checked") else 3
        delta = "" if value is None or before is None else f"{value - before:+.{digits}f}"
        change = by_metric.get(name)
        gate = "" if name not in GATED else "-" if change is None else "FAIL" if change.regressed else "ok"
        rows.append([label, fmt(value, digits), fmt(before, digits) if baseline else "-", delta, gate])
    return rows


def ablation_rows(run: EvalRun) -> list[list[str]]:
    return [[a.name] + [fmt(a.metrics.get(m)) for m in SHORT] for a in run.ablations.values()]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    body = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                      for i, (c, w) in enumerate(zip(r, widths, strict=True))) for r in rows]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def md_table(header: list[str], rows: list[list[str]]) -> str:
    def esc(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    return "\n".join(lines + ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows])


SUMMARY_HEADER = ["metric", "product", "baseline", "change", "gate"]


def to_json(run: EvalRun, context: Mapping[str, Any]) -> dict[str, Any]:
    """Every metric of every ablation and every per-question row."""
    return {**context, "ablations": {
        name: {"options": a.options, "metrics": a.metrics, "questions": [asdict(r) for r in a.rows]}
        for name, a in run.ablations.items()}}


def markdown(run: EvalRun, baseline: Mapping[str, float | None] | None, changes: Sequence[Change],
             context: Mapping[str, Any]) -> str:
    parts = [f"# Gold-set evaluation\n\n{context.get('gold')} ({run.product.metrics.get('questions'):.0f} "
             f"questions), index {context.get('index')}, {context.get('when')}. Gate tolerance "
             f"{context.get('tolerance')} absolute; latency is reported, not gated.\n",
             "## Product\n", md_table(SUMMARY_HEADER, summary_rows(run.product.metrics, baseline, changes)),
             "\n## Ablations\n", "Each row is the product with one thing changed; "
             + ", ".join(f"{s} = {LABELS[m]}" for m, s in SHORT.items()) + ".\n",
             md_table(["ablation", *SHORT.values()], ablation_rows(run))]
    if CHECK in run.ablations:
        parts.append(f"\nThe row \"{CHECK}\" is the product on a second question set (eval/check.jsonl), "
                     "written apart from the gold set; no weight or calibration is fitted on it.\n")
    for name in (n for n in (PRODUCT, CHECK) if n in run.ablations):
        parts.append(f"\n## Failed questions ({name})\n")
        parts += failed_questions(run.ablations[name].rows)
    return "\n".join(parts) + "\n"


def failed_questions(rows: Sequence[Row]) -> list[str]:
    failed = [(r, failure_reasons(r)) for r in rows if failure_reasons(r)]
    if not failed:
        return ["None."]
    parts = []
    for row, reasons in failed:
        exp = row.expected
        expected = (f"keywords {exp['keywords']}, gold_doc {exp['gold_doc']}" + (
            f", also {exp['also_docs']}" if exp["also_docs"] else "")) if row.answerable else "abstention"
        docs = ", ".join(f"{p['doc_id']}{'*' if p['relevant'] else ''}" for p in row.passages[:5])
        first = row.quotes[0] if row.quotes else None
        parts.append(
            f"### {row.id} ({row.kind}): {row.question}\n\n- why: {'; '.join(reasons)}\n"
            f"- expected: {expected}\n"
            f"- answer (confidence {row.confidence:.3f}): {row.answer if row.answer else '(abstained)'}\n"
            + (f"- first quote from: {first['doc_id']}[{first['start']}:{first['end']}]\n" if first else "")
            + f"- top passages (* = answering): {docs}\n")
    return parts


def svg_recall_curves(run: EvalRun, width: int = 640, height: int = 360) -> str:
    """Passage Recall@k against k, one polyline per ablation, as a self-contained SVG element."""
    left, right, top, bottom = 50, 190, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(k: int) -> float:
        return left + plot_w * (k - 1) / (max(K_VALUES) - 1)

    lowest = min((a.metrics.get(f"recall@{k}") or 0.0 for a in run.ablations.values() for k in K_VALUES),
                 default=0.0)
    floor = max(0.0, math.floor(lowest * 10) / 10 - 0.1)  # zoom in: the curves differ by a few points

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - floor) / (1 - floor))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
           'aria-label="Passage Recall@k per ablation" font-family="sans-serif" font-size="12">']
    for tick in [floor + i / 10 for i in range(round((1 - floor) * 10) + 1)]:
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                   f'stroke="#ddd"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                   f"{tick:.2f}</text>")
    for k in K_VALUES:
        out.append(f'<text x="{x(k):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{k}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">k (passages)</text>')
    axis_y = top + plot_h
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{axis_y}" stroke="#333"/>'
               f'<line x1="{left}" x2="{left + plot_w}" y1="{axis_y}" y2="{axis_y}" stroke="#333"/>')
    for i, a in enumerate(run.ablations.values()):
        colour = COLOURS[i % len(COLOURS)]
        points = [(x(k), y(a.metrics.get(f"recall@{k}") or 0.0)) for k in K_VALUES]
        name = html.escape(a.name)
        line = 'stroke-width="3"' if a.name == PRODUCT else 'stroke-width="1.5" stroke-dasharray="5,3"'
        coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        out.append(f'<polyline fill="none" stroke="{colour}" {line} points="{coords}"><title>{name}</title>'
                   "</polyline>")
        out += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{colour}"/>' for px, py in points]
        lx, ly = left + plot_w + 15, top + 10 + 18 * i
        out.append(f'<line x1="{lx}" x2="{lx + 20}" y1="{ly}" y2="{ly}" stroke="{colour}" {line}/>'
                   f'<text x="{lx + 25}" y="{ly + 4}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out)


def html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_page(run: EvalRun, baseline: Mapping[str, float | None] | None, changes: Sequence[Change],
              context: Mapping[str, Any]) -> str:
    style = ("body{font-family:sans-serif;margin:2em;max-width:1100px}"
             "table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child"
             "{text-align:left}th{background:#f4f4f4}")
    title = "Verbatim gold-set evaluation"
    product = html_table(SUMMARY_HEADER, summary_rows(run.product.metrics, baseline, changes))
    ablations = html_table(["ablation", *SHORT.values()], ablation_rows(run))
    legend = ", ".join(f"{s} = {LABELS[m]}" for m, s in SHORT.items())
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{style}</style></head><body><h1>{title}</h1>"
            f"<p>{html.escape(str(context.get('gold')))}, {html.escape(str(context.get('when')))}.</p>"
            f"<h2>Passage Recall@k per ablation</h2>{svg_recall_curves(run)}"
            f"<h2>Product</h2>{product}<h2>Ablations</h2><p>{html.escape(legend)}</p>{ablations}"
            "</body></html>\n")


def write(folder: Path, run: EvalRun, baseline: Mapping[str, float | None] | None, changes: Sequence[Change],
          context: Mapping[str, Any]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "latest.json", folder / "latest.md", folder / "latest.html"]
    data = {**to_json(run, context), "gate": [asdict(c) for c in changes]}
    paths[0].write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(run, baseline, changes, context), encoding="utf-8")
    paths[2].write_text(html_page(run, baseline, changes, context), encoding="utf-8")
    return paths
