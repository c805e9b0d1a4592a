"""What the serving process refuses to import. Called first by `python -m server`, for that process only
(a build, which needs torch to export the model, runs in a child process; tests and the eval import as
they like)."""

from __future__ import annotations

import sys
import types

__all__ = ["refuse_unused_imports"]


class SpacyCliRefused(RuntimeError):
    pass


def _no_cli(*args: object, **kwargs: object) -> None:
    raise SpacyCliRefused("spaCy's command line is not loaded in the Verbatim server; run `python -m spacy info` "
                          "in a shell instead.")


def refuse_unused_imports() -> None:
    """torch: spaCy's thinc imports it whenever it is installed, for model types we never load (hundreds
    of MB, seconds of start-up). scipy: bm25s imports scipy.sparse when it can, for building an index
    with its scipy backend; reading and scoring one is numpy either way (75 modules, 0.4 s of start-up).
    spaCy's command line: `import spacy` imports it (typer, weasel, requests, httpx: about 360 modules,
    18 MB and up to a second of start-up) only to offer `spacy.info`, which the server never calls; a
    stand-in that says so takes its place. None is replaced once imported."""
    sys.modules.setdefault("torch", None)  # type: ignore[arg-type]
    sys.modules.setdefault("scipy", None)  # type: ignore[arg-type]
    if "spacy" in sys.modules or "spacy.cli" in sys.modules:
        return
    cli = types.ModuleType("spacy.cli", "A stand-in: the Verbatim server does not load spaCy's command line.")
    info = types.ModuleType("spacy.cli.info")
    info.info = _no_cli  # type: ignore[attr-defined]
    cli.info = info  # type: ignore[attr-defined]
    sys.modules["spacy.cli"] = cli
    sys.modules["spacy.cli.info"] = info
