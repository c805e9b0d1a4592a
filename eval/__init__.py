"""Verbatim's evaluation: the gold set with ablations and a regression gate, external benchmarks
(BEIR SciFact, SQuAD v1.1) and a latency benchmark. Entry point: `python -m eval`."""

from index.errors import VerbatimError


class EvalError(VerbatimError):
    """Bad evaluation input (gold file, dataset folder, baseline): one line that says what to fix."""
