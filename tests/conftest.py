"""Session fixtures: the seed articles indexed once per test session (exporting the real model to ONNX),
and the ONNX encoder stored in that index, which the answerer and the server use as they do in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.build import build
from index.embed import Embedder
from index.onnx_encoder import OnnxEncoder
from index.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SEED_ARTICLES = REPO / "data" / "articles"
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="session")
def settings_base() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def torch_embedder(settings_base: Settings) -> Embedder:
    """The sentence-transformers model (torch): what the export is checked against."""
    return Embedder(settings_base.resolved_model_dir())


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("seed-index")
    # the feedback of the live server's tests goes beside its index, never into the worktree's var/
    return Settings(articles_dir=SEED_ARTICLES, index_dir=folder / "index", feedback_path=folder / "feedback.jsonl")


@pytest.fixture(scope="session")
def seed_index(seed_settings: Settings, torch_embedder: Embedder) -> Path:
    """The five seed articles, indexed once for the whole session (read-only for tests)."""
    build(seed_settings, embedder=torch_embedder, progress=False, say=lambda _: None)
    return seed_settings.index_dir


@pytest.fixture(scope="session")
def embedder(seed_index: Path) -> OnnxEncoder:
    """The real model through ONNX Runtime, as the seed index stores it (builds in tests reuse its files)."""
    return OnnxEncoder.from_index(seed_index)


@pytest.fixture(scope="session")
def answerer(seed_settings: Settings, seed_index: Path, embedder: OnnxEncoder):  # type: ignore[no-untyped-def]
    from server.answerer import Answerer

    return Answerer.load(seed_settings, embedder=embedder)


FACTS_ARTICLES = REPO / "tests" / "fixtures" / "facts"


@pytest.fixture(scope="session")
def facts_answerer(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder):  # type: ignore[no-untyped-def]
    """Three short articles written for the tests: two state one investment ($5 billion), one gives
    another figure ($4 billion) and another treaty date (January 17 against the end of the year)."""
    from server.answerer import Answerer

    settings = Settings(articles_dir=FACTS_ARTICLES, index_dir=tmp_path_factory.mktemp("facts-index") / "index")
    build(settings, embedder=embedder, progress=False, say=lambda _: None)
    return Answerer.load(settings, embedder=embedder)
