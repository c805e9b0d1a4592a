"""`python -m index build [--articles DIR] [--out DIR]`: build the index with progress and a summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from index.errors import VerbatimError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index", description="Build Verbatim's search index.")
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="index a folder of .txt/.md/.html articles")
    build_cmd.add_argument("--articles", type=Path, help="folder of articles (default: VERBATIM_ARTICLES_DIR)")
    build_cmd.add_argument("--out", type=Path, help="index folder to write (default: VERBATIM_INDEX_DIR)")
    build_cmd.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    from pydantic import ValidationError

    from index.build import build
    from index.settings import Settings

    try:
        settings = Settings()
        report = build(settings, args.articles, args.out, progress=not args.quiet)
    except ValidationError as exc:
        print(f"error: invalid setting: {exc}", file=sys.stderr)
        return 2
    except VerbatimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the previous index (if any) is untouched.", file=sys.stderr)
        return 130
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
