"""`python -m index build [--articles DIR] [--out DIR] [--encoder model|hash] [--step N] [--rehash]`: build the
index with progress and a summary (with --step, the new articles N at a time: index.steps; with --rehash,
every article file read and the previous index verified in full);
`python -m index verify [--out DIR]`: hash every file of an index against its manifest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"takes a whole number of articles, 1 or more, not {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index", description="Build Verbatim's search index.")
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="index a folder of .txt/.md/.html articles")
    build_cmd.add_argument("--articles", type=Path, help="folder of articles (default: VERBATIM_ARTICLES_DIR)")
    build_cmd.add_argument("--out", type=Path, help="index folder to write (default: VERBATIM_INDEX_DIR)")
    build_cmd.add_argument("--quiet", action="store_true", help="no progress bars")
    build_cmd.add_argument("--encoder", choices=("model", "hash"), default="model",
                           help="model (default): the real embedding model; hash: a cheap deterministic stand-in "
                           "for load tests and benchmarks only (answers are poor), recorded in the manifest")
    build_cmd.add_argument("--step", type=positive, metavar="N",
                           help="add the articles not yet indexed N at a time, each step an incremental build "
                           "swapped in when done: bounded memory for a large archive, and an interrupted build "
                           "resumes after the last finished step")
    build_cmd.add_argument("--rehash", action="store_true",
                           help="read every article file and verify every file of the previous index in full "
                           "(by default a text file whose size and modification time are unchanged since "
                           "the last build is not read again)")
    verify_cmd = sub.add_parser("verify", help="hash every file of an index folder against its manifest")
    verify_cmd.add_argument("--out", type=Path, help="index folder to check (default: VERBATIM_INDEX_DIR)")
    args = parser.parse_args(argv)

    from index.build import build
    from index.cli import guarded
    from index.settings import Settings

    def run() -> int:
        if args.command == "verify":
            from index.store import read_manifest, verify
            from index.swap import resolve

            folder = args.out or Settings().index_dir
            manifest = read_manifest(folder)
            verify(resolve(folder), manifest, full=True)
            print(f"{folder}: all {len(manifest.files)} files match their checksums.")
            return 0
        embedder = None
        if args.encoder == "hash":
            from index.hash_encoder import HashEncoder

            embedder = HashEncoder()
        if args.step:
            from index.steps import build_in_steps

            report = build_in_steps(Settings(), args.step, args.articles, args.out, embedder=embedder,
                                    progress=not args.quiet)
        else:
            report = build(Settings(), args.articles, args.out, embedder=embedder, progress=not args.quiet,
                           rehash=args.rehash)
        print(report.summary())
        return 0

    return guarded(run)


if __name__ == "__main__":
    sys.exit(main())
