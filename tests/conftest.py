"""Shared fixtures: a tiny random model with the real tokenizer, the embedded model, the real data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("KARDIA_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def embedded_dir() -> Path:
    """The converted embedded SmolLM2 checkpoint (converted once into the user cache)."""
    from kardia.models.embedded import embedded_checkpoint

    return embedded_checkpoint()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, embedded_dir) -> Path:
    """A 2-layer random Llama with the SmolLM2 tokenizer: fast, real code paths."""
    from kardia.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny"), tokenizer_dir=embedded_dir)


@pytest.fixture(scope="session")
def tokenizer(embedded_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(embedded_dir)


@pytest.fixture(scope="session")
def ed_csv() -> Path:
    """EmpatheticDialogues validation CSV from ../shared/data (skips when absent)."""
    path = SHARED_DATA / "empatheticdialogues" / "valid.csv"
    if not path.is_file():
        pytest.skip(f"real data not found at {path}")
    return path


@pytest.fixture(scope="session")
def esconv_dir() -> Path:
    """ESConv folder from ../shared/data (skips when absent)."""
    path = SHARED_DATA / "esconv"
    if not (path / "valid.txt").is_file():
        pytest.skip(f"real data not found at {path}")
    return path
