"""The one settings object: offline defaults, clear errors naming the variable, and a README table
that lists every setting."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from index.errors import ModelNotFound
from index.settings import Settings, bundled_model_dir
from tests.conftest import REPO


def test_defaults_work_offline() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.resolved_model_dir() == bundled_model_dir()
    assert (settings.resolved_model_dir() / "modules.json").is_file()


def test_environment_overrides_and_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBATIM_TOP_K", "7")
    assert Settings().top_k == 7
    monkeypatch.setenv("VERBATIM_TOP_K", "50")
    with pytest.raises(ValidationError, match="top_k"):
        Settings()
    monkeypatch.delenv("VERBATIM_TOP_K")
    monkeypatch.setenv("VERBATIM_CHUNK_MIN_WORDS", "500")
    with pytest.raises(ValidationError, match="VERBATIM_CHUNK_MIN_WORDS"):
        Settings()


def test_model_dir_must_be_a_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelNotFound, match="VERBATIM_MODEL_DIR"):
        Settings(model_dir=tmp_path).resolved_model_dir()


def test_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`VERBATIM_{name.upper()}`" not in readme]
    assert not missing, f"settings missing from the README table: {missing}"
