"""prepare_for_spans: ordinary added tokens, exact round trip, embeddings sized and initialised, idempotent."""

from __future__ import annotations

import copy

import pytest
import torch

from kardia.models.tokens import prepare_for_spans, tag_words
from kardia.spans import SPAN_TOKENS, render

SAMPLE = "<|emotion_begin|>sad<|emotion_end|>"


@pytest.fixture
def fresh(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir), AutoModelForCausalLM.from_pretrained(tiny_model_dir)


def test_tags_are_single_ordinary_tokens_that_round_trip(fresh):
    tokenizer, _ = fresh
    ids = prepare_for_spans(tokenizer)
    assert len(set(ids)) == 8 and all(i >= 49152 for i in ids)
    assert not set(SPAN_TOKENS) & set(tokenizer.all_special_tokens)
    encoded = tokenizer.encode(SAMPLE, add_special_tokens=False)
    assert encoded[0] == ids[4] and encoded[-1] == ids[5] and tokenizer.decode(encoded[1:-1]) == "sad"
    assert tokenizer.decode(encoded) == SAMPLE
    assert tokenizer.decode(encoded, skip_special_tokens=True) == SAMPLE  # what TRL's GRPO does
    text = render("User is sad.", "Validate.", "sad", "I'm so sorry.")
    assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text


def test_embeddings_resized_and_initialised_from_tag_words(fresh):
    tokenizer, model = fresh
    ids = prepare_for_spans(tokenizer, model)
    weight = model.get_input_embeddings().weight
    assert weight.shape[0] == len(tokenizer) == 49160
    words = tokenizer.encode(tag_words(SPAN_TOKENS[0]), add_special_tokens=False)
    assert tag_words(SPAN_TOKENS[0]) == "understanding begin"
    assert torch.allclose(weight[ids[0]], weight[words].mean(0))
    assert not torch.allclose(weight[ids[0]], weight[ids[1]])


def test_untied_output_embeddings_initialised_too(tiny_model_dir):
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = LlamaConfig.from_pretrained(tiny_model_dir)
    config.tie_word_embeddings = False
    model = LlamaForCausalLM(config)
    ids = prepare_for_spans(tokenizer, model)
    out = model.get_output_embeddings().weight
    assert out.shape[0] == len(tokenizer) and out is not model.get_input_embeddings().weight
    words = tokenizer.encode(tag_words(SPAN_TOKENS[7]), add_special_tokens=False)
    assert torch.allclose(out[ids[7]], out[words].mean(0))


def test_idempotent(fresh):
    tokenizer, model = fresh
    first = prepare_for_spans(tokenizer, model)
    state = copy.deepcopy(model.state_dict())
    size = len(tokenizer)
    assert prepare_for_spans(tokenizer, model) == first
    assert len(tokenizer) == size
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_tokenizer_first_then_model(fresh):
    tokenizer, model = fresh
    ids = prepare_for_spans(tokenizer)
    prepare_for_spans(tokenizer, model)  # tags exist already; rows are created now and initialised
    weight = model.get_input_embeddings().weight
    words = tokenizer.encode(tag_words(SPAN_TOKENS[2]), add_special_tokens=False)
    assert torch.allclose(weight[ids[2]], weight[words].mean(0))


def test_saved_and_reloaded_tokenizer_keeps_tags(fresh, tmp_path):
    from transformers import AutoTokenizer

    tokenizer, _ = fresh
    prepare_for_spans(tokenizer)
    tokenizer.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    assert again.decode(again.encode(SAMPLE, add_special_tokens=False)) == SAMPLE
    assert again.encode(SAMPLE, add_special_tokens=False) == tokenizer.encode(SAMPLE, add_special_tokens=False)
