"""VLLMChatModel: a real engine run where vLLM is installed (GPU machines); the missing-package error elsewhere."""

from __future__ import annotations

import importlib.util
import math

import pytest

from kardia.models.base import GenerationConfig
from kardia.models.vllm_engine import VLLMChatModel, strip_end_of_turn

HAS_VLLM = importlib.util.find_spec("vllm") is not None


def test_strip_end_of_turn():
    assert strip_end_of_turn("<|response_begin|>Hi.<|response_end|><|im_end|>\n<|endoftext|>") == "<|response_begin|>Hi.<|response_end|>"
    assert strip_end_of_turn("a <pad><pad>", ("<pad>",)) == "a"
    assert strip_end_of_turn("<|im_end|> in the middle") == "<|im_end|> in the middle"


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed")
def test_clear_error_without_vllm():
    with pytest.raises(ImportError, match=r"pip install 'kardia\[vllm\]'"):
        VLLMChatModel("whatever")


@pytest.mark.skipif(not HAS_VLLM, reason="vllm is not installed")
@pytest.mark.slow
def test_vllm_generates_and_scores(embedded_dir):
    model = VLLMChatModel(embedded_dir, gpu_memory_utilization=0.3, max_model_len=2048)
    conversations = [[{"role": "user", "content": "Say hello."}], [{"role": "user", "content": "What is 2+2?"}]]
    out = model.generate(conversations, GenerationConfig(max_new_tokens=16))
    assert len(out) == 2 and all(g.text and g.error is None and "<|im_end|>" not in g.text for g in out)
    scores = model.next_token_logprobs(conversations, "", ["Hello", "The"])
    assert all(s is not None and any(math.isfinite(v) for v in s.values()) for s in scores)
