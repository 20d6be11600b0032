"""Chat templates: ChatML with a default system prompt (Qwen2.5), SmolLM's (Llama-style), Gemma's (no system role)."""

from __future__ import annotations

import shutil

import pytest

from kardia.models.base import GenerationConfig
from kardia.models.local import LocalChatModel
from kardia.prompts import chat_messages_for, supports_system_role

QWEN25 = (
    "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}{%- for message in messages %}{%- if not (message.role == 'system' and loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
    "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}"
)
CONVERSATION = [{"role": "system", "content": "SYSTEM TEXT"}, {"role": "user", "content": "USER TEXT"}]


def checkpoint_with_template(tiny_model_dir, directory, template: str, extra_special: list[str] = ()):
    """A copy of the tiny checkpoint whose tokenizer has `template` (and extra special tokens)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    shutil.copytree(tiny_model_dir, directory)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    tokenizer.chat_template = template
    if extra_special:
        tokenizer.add_special_tokens({"additional_special_tokens": list(extra_special)})
        model = AutoModelForCausalLM.from_pretrained(directory)
        model.resize_token_embeddings(len(tokenizer))
        model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def test_smollm_template_keeps_system(tokenizer):
    assert supports_system_role(tokenizer)
    text = tokenizer.apply_chat_template(chat_messages_for(tokenizer, CONVERSATION), tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>system\nSYSTEM TEXT<|im_end|>\n<|im_start|>user\nUSER TEXT<|im_end|>\n<|im_start|>assistant\n"
    default = tokenizer.apply_chat_template(CONVERSATION[1:], tokenize=False)
    assert "SmolLM" in default  # its default system prompt appears only without ours


def test_qwen_chatml_with_default_system(tiny_model_dir, tmp_path):
    model = LocalChatModel(checkpoint_with_template(tiny_model_dir, tmp_path / "qwen", QWEN25))
    prompt = model.render_prompt(CONVERSATION)
    assert prompt.startswith("<|im_start|>system\nSYSTEM TEXT<|im_end|>") and "Qwen" not in prompt
    assert "You are Qwen" in model.render_prompt(CONVERSATION[1:])
    assert prompt.endswith("<|im_start|>assistant\n")
    assert model.tokenizer.convert_tokens_to_ids("<|im_end|>") in model.eos_token_ids


def test_gemma_folds_system_and_stops_at_end_of_turn(tiny_model_dir, tmp_path):
    directory = checkpoint_with_template(tiny_model_dir, tmp_path / "gemma", GEMMA, ["<start_of_turn>", "<end_of_turn>"])
    model = LocalChatModel(directory)
    with pytest.raises(Exception, match="System role not supported"):
        model.tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    assert not supports_system_role(model.tokenizer)
    prompt = model.render_prompt(CONVERSATION)
    assert "<start_of_turn>user\nSYSTEM TEXT\n\nUSER TEXT<end_of_turn>\n<start_of_turn>model\n" in prompt
    assert model.tokenizer.convert_tokens_to_ids("<end_of_turn>") in model.eos_token_ids
    out = model.generate([CONVERSATION], GenerationConfig(max_new_tokens=4))[0]
    assert out.error is None and "<end_of_turn>" not in out.text
