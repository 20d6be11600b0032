"""Turn a model spec from the command line into a `ChatModel`.

A spec is ``default`` (the embedded SmolLM2 checkpoint), a local checkpoint directory, or a hub id /
served model name. With ``base_url`` it is a model behind an OpenAI-compatible server; with
``backend="vllm"`` it runs in the vLLM offline engine; otherwise it runs locally with transformers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kardia.models.base import ChatModel

DEFAULT_SPEC = "default"
BACKENDS = ("transformers", "vllm", "openai")


def _backend(spec: str, base_url: str | None, backend: str | None) -> str:
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    if base_url:
        if backend not in (None, "openai"):
            raise ValueError(f"--base-url serves the model over HTTP; it cannot be combined with backend={backend!r}")
        return "openai"
    if backend == "openai":
        raise ValueError("the openai backend needs a base_url (e.g. http://localhost:8000/v1)")
    return backend or "transformers"


def describe_spec(spec: str = DEFAULT_SPEC, base_url: str | None = None, *, backend: str | None = None) -> dict[str, Any]:
    """What `spec` resolves to, without loading anything.

    Keys: ``spec``, ``backend`` (transformers, vllm or openai), ``kind`` (embedded, local, hub or served)
    and ``source`` (a path, hub id or served model name); ``base_url`` for served models; ``converted``
    for the embedded model (whether its safetensors checkpoint exists yet).
    """
    chosen = _backend(spec, base_url, backend)
    info: dict[str, Any] = {"spec": spec, "backend": chosen}
    if chosen == "openai":
        return {**info, "kind": "served", "source": spec, "base_url": base_url}
    if spec == DEFAULT_SPEC:
        from kardia.models.embedded import EMBEDDED_NAME, _MARKER, cache_dir

        path = cache_dir() / "models" / "smollm2-135m-instruct"
        return {**info, "kind": "embedded", "source": str(path), "name": EMBEDDED_NAME, "converted": (path / _MARKER).is_file()}
    path = Path(spec).expanduser()
    if path.exists():
        return {**info, "kind": "local", "source": str(path.resolve())}
    return {**info, "kind": "hub", "source": spec}


def load_chat_model(
    spec: str = DEFAULT_SPEC,
    *,
    base_url: str | None = None,
    api_key_env: str | None = None,
    backend: str | None = None,
    **kwargs: Any,
) -> ChatModel:
    """Build the model `spec` names; `kwargs` go to the backend's constructor (e.g. ``batch_size``, ``concurrency``)."""
    chosen = _backend(spec, base_url, backend)
    if chosen == "openai":
        from kardia.models.openai_compat import OpenAIChatModel

        return OpenAIChatModel(spec, base_url, api_key_env=api_key_env or "OPENAI_API_KEY", **kwargs)
    source: str | Path = spec
    if spec == DEFAULT_SPEC:
        from kardia.models.embedded import embedded_checkpoint

        source = embedded_checkpoint()
    if chosen == "vllm":
        from kardia.models.vllm_engine import VLLMChatModel

        return VLLMChatModel(source, **kwargs)
    from kardia.models.local import LocalChatModel

    model = LocalChatModel(source, **kwargs)
    if spec == DEFAULT_SPEC:
        from kardia.models.embedded import EMBEDDED_NAME

        model.name = EMBEDDED_NAME
    return model


def list_local_checkpoints(root: str | Path = "outputs") -> list[Path]:
    """Directories under `root` (recursively) that hold a ``config.json``, sorted; empty if `root` is missing."""
    base = Path(root)
    if not base.is_dir():
        return []
    return sorted(p.parent for p in base.rglob("config.json") if p.is_file())
