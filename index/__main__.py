"""`python -m index build [--articles DIR] [--out DIR]`: build the index with progress and a summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index", description="Build Verbatim's search index.")
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="index a folder of .txt/.md/.html articles")
    build_cmd.add_argument("--articles", type=Path, help="folder of articles (default: VERBATIM_ARTICLES_DIR)")
    build_cmd.add_argument("--out", type=Path, help="index folder to write (default: VERBATIM_INDEX_DIR)")
    build_cmd.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    from index.build import build
    from index.cli import guarded
    from index.settings import Settings

    def run() -> int:
        report = build(Settings(), args.articles, args.out, progress=not args.quiet)
        print(report.summary())
        return 0

    return guarded(run)


if __name__ == "__main__":
    sys.exit(main())
