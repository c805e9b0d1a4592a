"""The archive-scale benchmark's pieces (the benchmark itself is `make bench-scale`, minutes to hours)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from eval import EvalError
from eval.scale import first_articles, main, svg_chart


def test_first_articles_links_the_first_n_with_their_metadata(tmp_path: Path) -> None:
    source = tmp_path / "archive"
    source.mkdir()
    for i in range(5):
        (source / f"a{i:07d}.txt").write_text(f"Title {i}\n\nBody {i}.\n", encoding="utf-8")
    (source / "metadata.jsonl").write_text(
        "".join(json.dumps({"doc_id": f"a{i:07d}", "title": f"T{i}"}) + "\n" for i in range(5)), encoding="utf-8")
    folder = first_articles(source, 3, tmp_path / "three")
    assert sorted(p.name for p in folder.glob("*.txt")) == [f"a{i:07d}.txt" for i in range(3)]
    lines = (folder / "metadata.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["doc_id"] for line in lines] == [f"a{i:07d}" for i in range(3)]
    assert (folder / "a0000000.txt").stat().st_ino == (source / "a0000000.txt").stat().st_ino


def test_chart_plots_each_size() -> None:
    rows = [{"articles": n, "seq_p50_ms": p, "server_peak_rss_mb": r}
            for n, p, r in ((1000, 10.0, 200.0), (10000, 12.5, 900.0))]
    svg = svg_chart(rows)
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and "10,000" in svg and "12.5" in svg


def test_bad_sizes_and_a_missing_shared_folder_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="positive article counts"):
        main([0], 0, tmp_path / "work", tmp_path / "reports", shared=tmp_path)
    with pytest.raises(EvalError, match="--shared"):
        main([10], 0, tmp_path / "work", tmp_path / "reports", shared=tmp_path / "nowhere")


def test_the_shared_folder_is_found_beside_the_main_checkout_from_a_worktree(tmp_path: Path) -> None:
    from eval.scale import default_shared

    main_repo, tree = tmp_path / "main", tmp_path / "wt" / "helper"
    (main_repo / ".git" / "worktrees" / "helper").mkdir(parents=True)
    tree.mkdir(parents=True)
    (tree / ".git").write_text(f"gitdir: {main_repo / '.git' / 'worktrees' / 'helper'}\n")
    assert default_shared(tree) == tmp_path / "wt" / "shared"  # neither holds the tool yet: the first
    (tmp_path / "shared" / "tools").mkdir(parents=True)
    (tmp_path / "shared" / "tools" / "make_archive.py").write_text("")
    assert default_shared(tree) == tmp_path / "shared"
    assert default_shared(main_repo) == tmp_path / "shared"


def test_a_cold_question_is_read_from_the_disk(tmp_path: Path) -> None:
    from eval.cold import drop_cached, first_asking
    from index.build import build
    from index.hash_encoder import HashEncoder
    from index.settings import Settings

    settings = Settings(articles_dir=Path(__file__).resolve().parents[1] / "data" / "articles",
                        index_dir=tmp_path / "index")
    build(settings, embedder=HashEncoder(), progress=False, say=lambda _: None)
    assert drop_cached(settings.index_dir) > 0
    found = first_asking(settings.index_dir, ["Who won the election in Armenia?", "drones Russia Iran"],
                         tmp_path / "server.log")
    assert found["first_questions"] == 2 and found["first_p50_ms"] > 0
    assert all(q["read_bytes"] > 0 for q in found["first_per_question"])  # dropped before each: read again
    assert found["first_read_bytes_total"] == sum(q["read_bytes"] for q in found["first_per_question"])
    assert found["first_cached_kb_by_file"].get("texts.utf8", 0) > 0  # the quotes' sentences were read


def test_the_bytes_cached_of_a_file_count_its_segments_and_go_when_dropped(tmp_path: Path) -> None:
    from eval.cold import drop_cached, resident

    (tmp_path / "bm25").mkdir()
    for name, size in [("match_vectors.npy", 3), ("match_vectors.1.npy", 5), ("bm25/data.npy", 2)]:
        (tmp_path / name).write_bytes(b"x" * size * 4096)
    os.sync()  # a dirty page is not dropped
    drop_cached(tmp_path)
    assert sum(resident(tmp_path).values()) == 0
    for name in ("match_vectors.npy", "match_vectors.1.npy", "bm25/data.npy"):
        (tmp_path / name).read_bytes()
    found = resident(tmp_path)
    assert found["match_vectors.npy"] == 8 * 4096 and found["bm25/data.npy"] == 2 * 4096


def test_recall_counts_a_find_that_ties_the_kth_exact_score() -> None:
    import numpy as np

    from eval.annrecall import recall_at

    scores = np.array([0.9, 0.8, 0.8, 0.5, 0.1])
    assert recall_at([0, 1], scores, 2) == 1.0
    assert recall_at([0, 2], scores, 2) == 1.0  # a copy of the 2nd: the same score
    assert recall_at([0, 3], scores, 2) == 0.5 and recall_at([], scores, 2) == 0.0
    assert recall_at([4, 3, 2, 1, 0], scores, 10) == 1.0  # k larger than the rows: all of them


def test_a_build_given_a_step_adds_the_articles_that_many_at_a_time(tmp_path: Path) -> None:
    from eval.scale import timed_build
    from index.store import read_manifest

    articles = Path(__file__).resolve().parents[1] / "data" / "articles"
    log = tmp_path / "build.log"
    found = timed_build(articles, tmp_path / "index", "hash", log, step=2)
    assert found["seconds"] > 0 and found["peak_rss_mb"] > 0
    assert read_manifest(tmp_path / "index").articles == 5
    assert "2 at a time (3 steps)" in log.read_text(encoding="utf-8")
