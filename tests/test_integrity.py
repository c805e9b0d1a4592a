"""A damaged index is refused with one line that says to rebuild; a build killed at any step of its write
and swap leaves a readable index; a full disk is a one-line error. Mechanics use a hashing encoder (no
model); the tamper tests use the real seed index."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.build import build
from index.errors import IndexCorrupt, IndexWriteFailed, VerbatimError
from index.integrity import checksums, record_stats, unchanged_since_build
from index.settings import Settings
from index.store import read_folder, read_manifest
from tests.conftest import REPO

ARTICLE = "Harbour {i}\n\nThe port said on Monday that harbour wall {i} will cost $12 million. Work starts in May.\n"


class HashEmbedder:
    """Deterministic unit vectors from a hash of each text: enough for the mechanics of a build."""

    name, dim = "hash-embedder", 8

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:32], dtype=np.uint8)[:8] for t in texts]
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), 8) + 1
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    embed_queries = embed_passages


def articles(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"doc{i}.txt").write_text(ARTICLE.format(i=i), encoding="utf-8")
    return folder


def hash_build(settings: Settings) -> None:
    build(settings, embedder=HashEmbedder(), progress=False)  # type: ignore[arg-type]


def refused(folder: Path) -> str:
    with pytest.raises(IndexCorrupt) as caught:
        read_folder(folder)
    message = str(caught.value)
    assert "\n" not in message and "rebuild it with `python -m index build`" in message, message
    return message


# ---- tampering: every file, every way of reading ----

@pytest.fixture()
def copy_of_seed(seed_index: Path, tmp_path: Path) -> Path:
    """A copy of the seed index with its stat.json recorded afresh, as if built there: the server's fast
    path (files unchanged since the build are not hashed again) applies to it."""
    folder = tmp_path / "index"
    shutil.copytree(seed_index, folder)
    record_stats(folder)
    assert unchanged_since_build(folder) == set(read_manifest(folder).files)
    return folder


def index_files(seed_index: Path) -> list[str]:
    return sorted(read_manifest(seed_index).files)


def test_the_manifest_records_every_file(seed_index: Path) -> None:
    manifest = read_manifest(seed_index)
    on_disk = sorted(p.relative_to(seed_index).as_posix() for p in seed_index.rglob("*") if p.is_file())
    assert sorted([*manifest.files, "manifest.json", "stat.json"]) == on_disk
    assert manifest.files == checksums(seed_index)
    assert manifest.articles_dir == str((REPO / "data" / "articles").resolve())


DAMAGES: dict[str, Callable[[Path], None]] = {
    "one byte flipped": lambda p: p.write_bytes(bytes([p.read_bytes()[0] ^ 1]) + p.read_bytes()[1:]),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: max(0, p.stat().st_size // 2)]),
    "emptied": lambda p: p.write_bytes(b""),
    "deleted": lambda p: p.unlink(),
    "random bytes, same size": lambda p: p.write_bytes(os.urandom(p.stat().st_size)),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_every_damaged_file_is_refused(copy_of_seed: Path, seed_index: Path, damage: str) -> None:
    for name in index_files(seed_index):
        shutil.rmtree(copy_of_seed)
        shutil.copytree(seed_index, copy_of_seed)
        record_stats(copy_of_seed)
        if damage == "one byte flipped" and (copy_of_seed / name).stat().st_size == 0:
            continue
        DAMAGES[damage](copy_of_seed / name)
        assert name in refused(copy_of_seed), (name, damage)


def test_an_edit_that_restores_the_mtime_is_still_refused(copy_of_seed: Path) -> None:
    path = copy_of_seed / "passage_vectors.npy"
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert "passage_vectors.npy has changed" in refused(copy_of_seed)


def test_verify_hashes_every_file_even_those_unchanged_since_the_build(copy_of_seed: Path) -> None:
    from index.store import verify

    manifest = read_manifest(copy_of_seed)
    verify(copy_of_seed, manifest, full=True)
    (copy_of_seed / "stat.json").write_text(json.dumps({}))  # no record: everything is hashed
    read_folder(copy_of_seed)
    result = subprocess.run([sys.executable, "-m", "index", "verify", "--out", str(copy_of_seed)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "files match their checksums" in result.stdout, result.stderr
    wrong = {**manifest.files, "lexicon.json": {**manifest.files["lexicon.json"], "sha256": "0" * 64}}
    with pytest.raises(IndexCorrupt, match="lexicon.json has changed"):
        verify(copy_of_seed, replace(manifest, files=wrong), full=True)


def test_an_article_edited_inside_the_index_is_refused(copy_of_seed: Path) -> None:
    path = copy_of_seed / "texts.utf8"  # the articles' texts, end to end
    path.write_text(path.read_text(encoding="utf-8").replace("Lavrov", "Lavrof", 1), encoding="utf-8")
    assert "texts.utf8 has changed" in refused(copy_of_seed)


MANIFESTS: dict[str, bytes] = {
    "not UTF-8": b"\xff\xfe{not utf-8}",
    "not JSON": b"{",
    "a list": b"[]",
    "null": b"null",
    "a number": b"42",
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("kind", sorted(MANIFESTS))
def test_an_unreadable_manifest_is_refused(copy_of_seed: Path, kind: str) -> None:
    (copy_of_seed / "manifest.json").write_bytes(MANIFESTS[kind])
    refused(copy_of_seed)


def test_every_manifest_field_of_the_wrong_type_is_refused(copy_of_seed: Path) -> None:
    path = copy_of_seed / "manifest.json"
    good = json.loads(path.read_text())
    for key, value in good.items():
        if key == "format_version":
            continue
        for wrong in ([], None, "x" if not isinstance(value, str) else 7, {"a": [1]}):
            path.write_text(json.dumps({**good, key: wrong}))
            refused(copy_of_seed)
    path.write_text(json.dumps({k: v for k, v in good.items() if k != "files"}))
    assert "no file checksums" in refused(copy_of_seed)
    path.write_text(json.dumps({**good, "unknown": 1}))
    refused(copy_of_seed)


def rewrite(folder: Path, name: str, data: bytes) -> None:
    """Replace a file and record its new checksum: damage the checksums cannot see, so the readers'
    own checks are what must catch it."""
    (folder / name).write_bytes(data)
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "files": checksums(folder)}))


def npy(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npz(**arrays: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


SPAN_COLUMNS = ("s_doc", "s_start", "s_end", "s_heading", "s_block", "s_position", "s_previous", "s_home", "p_doc",
                "p_start", "p_end", "p_first", "p_last")
CONSISTENT_DAMAGES: dict[str, tuple[str, bytes]] = {
    "neighbours not an archive": ("neighbours.npz", b"PK\x03\x04 not a zip"),
    "neighbours not arrays": ("neighbours.npz", b'{"0": "abc"}'),
    "neighbours that do not fit": ("neighbours.npz", npz(starts=np.zeros(3, np.int64), ids=np.zeros(0, np.int32),
                                                         sims=np.zeros(0, np.float32))),
    "neighbours outside": ("neighbours.npz", npz(starts=np.zeros(10_000, np.int64), ids=np.zeros(0, np.int32),
                                                  sims=np.zeros(0, np.float32))),
    "skipped an object": ("skipped.json", b'{"a": 1}'),
    "lexicon null": ("lexicon.json", b"null"),
    "lexicon a list": ("lexicon.json", b"[1, 2]"),
    "articles rows of lists": ("articles.jsonl", b"[1, 2, 3]\n"),
    "article text a number": ("articles.jsonl", b'{"doc_id": "a", "filename": "a", "text": 5, "sha256": "x"}\n'),
    "article past the texts": ("articles.jsonl", b'{"doc_id": "a", "filename": "a", "sha256": "x", "at": 0, '
                               b'"bytes": 99999999, "chars": 1}\n'),
    "article range negative": ("articles.jsonl", b'{"doc_id": "a", "filename": "a", "sha256": "x", "at": -5, '
                               b'"bytes": 1, "chars": 1}\n'),
    "texts truncated": ("texts.utf8", b"short"),
    "texts empty": ("texts.utf8", b""),
    "spans not an archive": ("spans.npz", b"PK\x03\x04 not a zip"),
    "spans lacking columns": ("spans.npz", npz(s_doc=np.zeros(3, np.int32))),
    "spans of strings": ("spans.npz", npz(**{k: np.array(["a", "b"]) for k in SPAN_COLUMNS})),
    "spans outside their articles": ("spans.npz", npz(**{k: np.full(3, 10 ** 9, np.int64) for k in SPAN_COLUMNS})),
    "terms that do not fit": ("terms.npz", npz(starts=np.zeros(3, np.int64), ids=np.zeros(0, np.int32))),
    "terms not an archive": ("terms.npz", b"not a zip"),
    "vectors truncated": ("passage_vectors.npy", npy(np.zeros((3, 384), np.float32))[:-100]),
    "vectors too few": ("sentence_vectors.npy", npy(np.zeros((3, 384), np.float32))),
    "vectors of another dimension": ("context_vectors.npy", npy(np.zeros((3, 12), np.float32))),
    "vectors of objects": ("passage_vectors.npy", b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, "
                           b"'shape': (1,), }" + b" " * 50 + b"\n"),
    "vectors empty": ("passage_vectors.npy", b""),
    "faiss garbage": ("passages.faiss", b"IxF2 not an index"),
    "faiss empty": ("passages.faiss", b""),
}


@pytest.mark.parametrize("kind", sorted(CONSISTENT_DAMAGES))
def test_files_of_the_wrong_shape_are_refused_even_with_matching_checksums(copy_of_seed: Path, kind: str) -> None:
    name, data = CONSISTENT_DAMAGES[kind]
    rewrite(copy_of_seed, name, data)
    refused(copy_of_seed)


def test_bm25_files_of_the_wrong_shape_are_refused(copy_of_seed: Path, seed_index: Path) -> None:
    for name in (n for n in index_files(seed_index) if n.startswith("bm25/")):
        for data in (b"", b"null", b"[]"):
            shutil.rmtree(copy_of_seed)
            shutil.copytree(seed_index, copy_of_seed)
            rewrite(copy_of_seed, name, data)
            refused(copy_of_seed)


def test_the_server_refuses_a_damaged_index_in_one_line(copy_of_seed: Path) -> None:
    (copy_of_seed / "passage_vectors.npy").write_bytes(b"\x00" * 16)
    result = subprocess.run([sys.executable, "-m", "server", "--index", str(copy_of_seed), "--port", "0"],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "is damaged: passage_vectors.npy" in result.stderr


# ---- incremental builds verify what they reuse ----

def test_an_incremental_build_reuses_nothing_of_a_damaged_index(tmp_path: Path) -> None:
    settings = Settings(articles_dir=articles(tmp_path / "articles", 3), index_dir=tmp_path / "index")
    hash_build(settings)
    clean = np.array(read_folder(settings.index_dir).sentence_vectors)  # a copy: the index maps its file
    vectors = settings.index_dir / "sentence_vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:128] + os.urandom(vectors.stat().st_size - 128))  # scrambled
    report = build(settings, embedder=HashEmbedder(), progress=False)  # type: ignore[arg-type]
    assert (report.embedded, report.reused) == (3, 0)
    assert any("cannot be reused" in w and "sentence_vectors.npy" in w for w in report.warnings)
    assert np.array_equal(read_folder(settings.index_dir).sentence_vectors, clean)


def test_an_article_whose_text_does_not_match_its_hash_is_embedded_again(tmp_path: Path) -> None:
    settings = Settings(articles_dir=articles(tmp_path / "articles", 2), index_dir=tmp_path / "index")
    hash_build(settings)
    texts = (settings.index_dir / "texts.utf8").read_bytes()
    assert b"May" in texts
    rewrite(settings.index_dir, "texts.utf8", texts.replace(b"May", b"Mai", 1))  # the same length: in place
    report = build(settings, embedder=HashEmbedder(), progress=False)  # type: ignore[arg-type]
    assert (report.embedded, report.reused) == (1, 1)
    assert "May" in read_folder(settings.index_dir).articles["doc0"].text


# ---- full disk ----

def test_a_full_disk_is_one_line_and_keeps_the_previous_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from index.cli import guarded

    settings = Settings(articles_dir=articles(tmp_path / "articles", 2), index_dir=tmp_path / "index")
    hash_build(settings)
    before = read_manifest(settings.index_dir)
    articles(settings.articles_dir, 3)

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "save", full)
    with pytest.raises(IndexWriteFailed, match="disk is full"):
        hash_build(settings)
    assert guarded(lambda: (hash_build(settings), 0)[1]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Cannot write the index") and err.count("\n") == 1 and "Traceback" not in err
    assert read_manifest(settings.index_dir) == before
    # beside the untouched index only the model work done, which the next build takes up
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles", "index", "index.resume"]


# ---- a build killed at each step of its write and swap ----

STEPS = ["articles-written", "files-written", "files-flushed", "manifest-written", "stale-previous-renamed",
         "old-moved-aside", "new-in-place", "previous-renamed", "swapped"]
CHILD = """
import os, sys
import index.store, index.swap
from index.settings import Settings
from tests.test_integrity import hash_build

def die(step):
    if step == sys.argv[1]:
        os._exit(86)

index.store.crash_point = index.swap.crash_point = die
hash_build(Settings(articles_dir=sys.argv[2], index_dir=sys.argv[3]))
"""


def killed_build(step: str, settings: Settings) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", CHILD, step, str(settings.articles_dir), str(settings.index_dir)],
                          cwd=REPO, env=env, timeout=300).returncode


def served_articles(settings: Settings) -> int:
    try:
        return read_folder(settings.index_dir).manifest.articles
    except VerbatimError as exc:
        pytest.fail(f"no readable index: {exc}")


@pytest.mark.parametrize("step", STEPS)
def test_a_build_killed_at_any_step_leaves_a_readable_index(tmp_path: Path, step: str) -> None:
    settings = Settings(articles_dir=articles(tmp_path / "articles", 2), index_dir=tmp_path / "index")
    hash_build(settings)
    if step == "stale-previous-renamed":  # only reached when a killed swap left a `.previous` beside the index
        shutil.copytree(settings.index_dir, tmp_path / "index.previous")
    articles(settings.articles_dir, 3)
    assert killed_build(step, settings) == 86
    swapped = STEPS.index(step) >= STEPS.index("new-in-place")
    assert served_articles(settings) == (3 if swapped else 2)  # all of the old index or all of the new
    if step == "old-moved-aside":  # killed between the renames: kill the builds that recover at every step
        last = 2
        for second in STEPS:
            n = 4 + STEPS.index(second)
            articles(settings.articles_dir, n)
            code = killed_build(second, settings)  # 0: this swap never reaches the step
            assert code in (0, 86)
            now = served_articles(settings)
            assert now == (n if code == 0 or STEPS.index(second) >= STEPS.index("new-in-place") else last)
            last = now
    hash_build(settings)  # the next build finishes and cleans up what the killed ones left
    assert served_articles(settings) == len(list(settings.articles_dir.glob("*.txt")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles", "index"]


def test_the_server_never_fills_a_named_index_folder_from_the_default_articles(tmp_path: Path) -> None:
    named = tmp_path / "elsewhere"
    result = subprocess.run([sys.executable, "-m", "server", "--index", str(named), "--port", "0"],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert f"python -m index build --articles DIR --out {named}" in result.stderr
    assert not named.exists()


@pytest.mark.parametrize("column, value", [("s_end", 10 ** 9), ("p_start", -1), ("p_last", 10 ** 9),
                                           ("s_doc", 10 ** 6)])
def test_span_columns_pointing_outside_are_refused(copy_of_seed: Path, column: str, value: int) -> None:
    with np.load(copy_of_seed / "spans.npz") as found:
        columns = {k: found[k].copy() for k in found.files}
    columns[column][len(columns[column]) // 2] = value
    rewrite(copy_of_seed, "spans.npz", npz(**columns))
    assert "outside" in refused(copy_of_seed) or "grouped" in refused(copy_of_seed)
