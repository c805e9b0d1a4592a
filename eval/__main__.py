"""`python -m eval SUBCOMMAND`: run (gold set, ablations, gate), beir DIR, squad FILE, pq FILE, external, bench,
scale, probe, train, calibrate, feedback. Errors are one line on stderr and a non-zero exit code, never a traceback."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REPORTS = REPO / "eval" / "reports"
CACHE = Path("var/cache")


def run(args: argparse.Namespace) -> int:
    from eval.run import main

    return main(args.gold, args.index, args.baseline, args.reports, args.update_baseline, args.tolerance,
                progress=not args.quiet, check_path=args.check,
                conversation_paths=(args.conversations, args.conversations_check))


def pq(args: argparse.Namespace) -> int:
    from eval.pq import main

    return main(args.file, args.cache, args.reports, args.lists, args.probes)


def beir(args: argparse.Namespace) -> int:
    from eval.beir import main

    return main(args.folder, args.cache, args.reports, args.dense_weights)


def squad(args: argparse.Namespace) -> int:
    from eval.squad import main

    return main(args.file, args.cache, args.reports, args.limit, split=args.split, compare=args.compare_hand)


def external(args: argparse.Namespace) -> int:
    """SciFact and SQuAD from the shared datasets folder, both into eval/reports/external.json."""
    import json

    from eval.beir import main as run_beir
    from eval.squad import main as run_squad

    folder = args.datasets
    if not folder.is_dir():
        from eval import EvalError

        raise EvalError(f"no datasets folder at {folder}; pass --datasets DIR (scifact/, squad-v1.1/)")
    code = run_beir(folder / "scifact", args.cache, args.reports, [])
    code = max(code, run_squad(folder / "squad-v1.1" / "dev-v1.1.json", args.cache, args.reports, args.limit))
    found = {name: json.loads((args.reports / f"{name}.json").read_text())["summary"]
             for name in ("scifact", "squad")}
    (args.reports / "external.json").write_text(json.dumps(found, indent=2) + "\n")
    print(f"Wrote {args.reports / 'external.json'}")
    return code


def train(args: argparse.Namespace) -> int:
    from eval.train import main

    return main(args.datasets, args.cache, args.out, args.gold, args.limit, ablate=not args.no_ablation,
                reuse=args.reuse)


def bench(args: argparse.Namespace) -> int:
    from eval.bench import main

    return main(args.repeats, args.index, args.reports)


def probe(args: argparse.Namespace) -> int:
    from eval.probe import main

    return main(args.seconds, args.clients)


def scale(args: argparse.Namespace) -> int:
    from eval.scale import main

    try:
        sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    except ValueError:
        raise SystemExit(f"error: --sizes takes article counts separated by commas, not {args.sizes!r}") from None
    return main(sizes, args.real_sample, args.work, args.reports, args.shared)


def feedback(args: argparse.Namespace) -> int:
    from eval.feedback import main
    from index.settings import Settings

    source = args.feedback or Settings().feedback_path
    return main(source, args.out, [REPO / "eval" / "gold.jsonl", REPO / "eval" / "check.jsonl"])


def parser() -> argparse.ArgumentParser:
    from eval.gate import DEFAULT_TOLERANCE

    top = argparse.ArgumentParser(prog="python -m eval", description="Measure Verbatim's quality and speed.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="gold-set metrics and ablations, gated against eval/baseline.json")
    p.add_argument("--gold", type=Path, default=REPO / "eval" / "gold.jsonl", help="gold questions")
    p.add_argument("--index", type=Path, default=None, help="index folder (default: the settings' index_dir)")
    p.add_argument("--check", type=Path, default=REPO / "eval" / "check.jsonl",
                   help="second question set (nothing is fitted on it), reported and gated beside the gold set")
    p.add_argument("--conversations", type=Path, default=REPO / "eval" / "conversations.jsonl",
                   help="conversation set to develop on, asked turn by turn with the history")
    p.add_argument("--conversations-check", type=Path, default=REPO / "eval" / "conversations_check.jsonl",
                   help="held-out conversation set: reported and gated, its failures never listed")
    p.add_argument("--baseline", type=Path, default=REPO / "eval" / "baseline.json", help="the baseline file")
    p.add_argument("--reports", type=Path, default=REPORTS, help="folder for latest.json/.md/.html")
    p.add_argument("--update-baseline", action="store_true", help="save the product metrics as the baseline")
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                   help=f"largest allowed drop of a gated metric, absolute (default {DEFAULT_TOLERANCE})")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)

    p = sub.add_parser("beir", help="retrieval metrics on a BEIR dataset folder (e.g. SciFact)")
    p.add_argument("folder", type=Path, help="folder with corpus.jsonl[.gz], queries.jsonl, qrels/test.tsv")
    p.add_argument("--dense-weights", type=str, default="",
                   help="also score hybrid at these dense weights, e.g. 0.3,0.7")
    p.set_defaults(func=beir)

    p = sub.add_parser("squad", help="open retrieval + answer extraction on SQuAD v1.1 dev")
    p.add_argument("file", type=Path, help="dev-v1.1.json")
    p.add_argument("--limit", type=int, default=None, help="ask only the first N questions")
    p.add_argument("--split", choices=("all", "train", "test"), default="all",
                   help="train: the 24 articles whose titles sort first (fitted on); test: the other 24 (held out)")
    p.add_argument("--compare-hand", action="store_true",
                   help="also answer each question under the hand-set weights, for the ranker's comparison")
    p.set_defaults(func=squad)

    p = sub.add_parser("pq", help="PQ finds re-scored exactly against recall, real model on SQuAD's sentences")
    p.add_argument("file", type=Path, help="dev-v1.1.json")
    p.add_argument("--lists", type=int, default=None, help="IVF lists (default: as a build would choose)")
    p.add_argument("--probes", type=int, default=8, help="IVF lists searched per question")
    p.set_defaults(func=pq)

    p = sub.add_parser("external", help="SciFact and SQuAD -> eval/reports/external.json")
    p.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets",
                   help="folder holding scifact/ and squad-v1.1/")
    p.add_argument("--limit", type=int, default=None, help="ask only the first N SQuAD questions")
    p.set_defaults(func=external)

    p = sub.add_parser("bench", help="latency, throughput, build time, cold start, memory -> bench.json")
    p.add_argument("--repeats", type=int, default=3, help="runs of each measurement (medians are reported)")
    p.add_argument("--index", type=Path, default=None, help="index folder to serve (default: the settings')")
    p.set_defaults(func=bench)

    p = sub.add_parser("probe", help="bad-input classes, then clients with poisoned requests and a hot swap")
    p.add_argument("--seconds", type=float, default=60.0, help="length of the load phase")
    p.add_argument("--clients", type=int, default=32, help="concurrent clients in the load phase")
    p.set_defaults(func=probe)

    p = sub.add_parser("scale", help="archives of 1k/10k/100k articles: build, size, cold start, RSS, latency")
    p.add_argument("--sizes", default="1000,10000,100000", help="article counts, comma-separated")
    p.add_argument("--real-sample", type=int, default=1000,
                   help="articles built with the real model to measure its throughput (0: skip)")
    p.add_argument("--work", type=Path, default=Path("var/scale"), help="folder for the archives and indexes")
    p.add_argument("--shared", type=Path, default=None,
                   help="folder holding tools/make_archive.py and datasets/ (default: ../shared, beside the "
                   "main checkout in a git worktree)")
    p.set_defaults(func=scale)

    p = sub.add_parser("feedback", help="readers' feedback (Helpful / Wrong quote) -> draft gold items to review")
    p.add_argument("--feedback", type=Path, default=None,
                   help="the feedback file (default: VERBATIM_FEEDBACK_PATH, var/feedback.jsonl)")
    p.add_argument("--out", type=Path, default=Path("var/feedback-drafts.jsonl"),
                   help="drafts file, rewritten whole (never a gold set)")
    p.set_defaults(func=feedback)

    sub.add_parser("calibrate", help="fit the abstention model on the gold set (see eval/calibrate.py)",
                   add_help=False)

    p = sub.add_parser("train", help="fit the sentence ranker (SQuAD's training half + the gold set) -> "
                       "server/ranker.json")
    p.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets",
                   help="folder holding squad-v1.1/")
    p.add_argument("--gold", type=Path, default=REPO / "eval" / "gold.jsonl", help="the gold set")
    p.add_argument("--out", type=Path, default=REPO / "server" / "ranker.json", help="weights file to write")
    p.add_argument("--limit", type=int, default=None, help="only the first N SQuAD training questions")
    p.add_argument("--no-ablation", action="store_true", help="skip refitting without each feature")
    p.add_argument("--reuse", action="store_true",
                   help="refit on the candidates the last run collected (var/cache/train-candidates.pickle)")
    p.set_defaults(func=train)


    for name in ("beir", "squad", "pq", "external", "bench", "scale", "train"):
        sp = sub.choices[name]
        if name != "train":
            sp.add_argument("--reports", type=Path, default=REPORTS, help="folder for the report JSON")
        if name not in ("bench", "scale"):
            sp.add_argument("--cache", type=Path, default=CACHE, help="folder for cached vectors and indexes")
    return top


def main(argv: list[str] | None = None) -> int:
    from index.cli import guarded

    args_list = list(sys.argv[1:] if argv is None else argv)

    def run() -> int:
        if args_list[:1] == ["calibrate"]:
            from eval.calibrate import main as calibrate

            return calibrate(args_list[1:])
        args = parser().parse_args(args_list)
        if getattr(args, "dense_weights", None) is not None:
            args.dense_weights = weights(args.dense_weights)
        return int(args.func(args))

    return guarded(run)


def weights(text: str) -> list[float]:
    try:
        found = [float(w) for w in text.split(",") if w.strip()]
    except ValueError:
        raise SystemExit(f"error: --dense-weights takes numbers separated by commas, not {text!r}") from None
    if any(not 0 <= w <= 1 for w in found):
        raise SystemExit("error: dense weights must be within 0..1")
    return found


if __name__ == "__main__":
    sys.exit(main())
