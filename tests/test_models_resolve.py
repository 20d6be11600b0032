"""Model specs: what they resolve to, and building the right backend."""

from __future__ import annotations

import pytest

from kardia.models.local import LocalChatModel
from kardia.models.openai_compat import OpenAIChatModel
from kardia.models.resolve import describe_spec, list_local_checkpoints, load_chat_model


def test_describe_spec_kinds(tmp_path, embedded_dir):
    default = describe_spec("default")
    assert default["kind"] == "embedded" and default["converted"] is True and default["source"] == str(embedded_dir)
    assert describe_spec(str(tmp_path))["kind"] == "local"
    assert describe_spec("Qwen/Qwen2.5-1.5B-Instruct") == {
        "spec": "Qwen/Qwen2.5-1.5B-Instruct", "backend": "transformers", "kind": "hub", "source": "Qwen/Qwen2.5-1.5B-Instruct"}
    served = describe_spec("gpt-4o-mini", "http://localhost:8000/v1")
    assert served["backend"] == "openai" and served["base_url"] == "http://localhost:8000/v1"
    assert describe_spec("org/m", backend="vllm")["backend"] == "vllm"


def test_backend_conflicts_are_errors():
    with pytest.raises(ValueError, match="base-url"):
        describe_spec("m", "http://x/v1", backend="vllm")
    with pytest.raises(ValueError, match="needs a base_url"):
        load_chat_model("m", backend="openai")
    with pytest.raises(ValueError, match="backend must be one of"):
        load_chat_model("m", backend="tgi")


def test_load_served_and_local(tiny_model_dir):
    served = load_chat_model("served-name", base_url="http://127.0.0.1:9/v1", api_key_env="MY_KEY", concurrency=2)
    assert isinstance(served, OpenAIChatModel) and served.api_key_env == "MY_KEY" and served.concurrency == 2
    local = load_chat_model(str(tiny_model_dir), batch_size=3)
    assert isinstance(local, LocalChatModel) and local.batch_size == 3


def test_list_local_checkpoints(tmp_path):
    for name in ("sft", "grpo/checkpoint-10", "notes"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "sft" / "config.json").write_text("{}")
    (tmp_path / "grpo" / "checkpoint-10" / "config.json").write_text("{}")
    assert list_local_checkpoints(tmp_path) == [tmp_path / "grpo" / "checkpoint-10", tmp_path / "sft"]
    assert list_local_checkpoints(tmp_path / "missing") == []
