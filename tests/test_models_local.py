"""LocalChatModel with the tiny random model: batching, seeds, decoding, scoring, loading errors."""

from __future__ import annotations

import shutil

import pytest
import torch

from kardia.models.base import GenerationConfig
from kardia.models.local import LocalChatModel, ModelLoadError, default_dtype, end_of_turn_ids
from kardia.spans import SPAN_TOKENS

USERS = ["Hi.", "I lost my job today and I do not know how to tell my family about it.",
         "My cat is sick.", "Nothing went right this week, the exam, the bus, the rain, everything.", "Thanks!"]


def convs(users=USERS):
    return [[{"role": "system", "content": "Be kind."}, {"role": "user", "content": u}] for u in users]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir, tmp_path_factory) -> LocalChatModel:
    """A tiny model with untied output embeddings, so its greedy outputs depend on the prompt (the tied
    tiny model mostly repeats its last input token)."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    directory = tmp_path_factory.mktemp("untied")
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = LlamaConfig.from_pretrained(tiny_model_dir)
    config.tie_word_embeddings = False
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return LocalChatModel(directory, batch_size=2)


def test_attributes_and_defaults(tiny):
    assert tiny.device == "cpu" and tiny.dtype == torch.float32 == default_dtype("cpu")
    assert tiny.tokenizer.padding_side == "left"
    assert tiny.tokenizer.convert_tokens_to_ids("<|im_end|>") in tiny.eos_token_ids
    assert tiny.describe()["backend"] == "LocalChatModel"


def test_batched_equals_one_at_a_time_in_order(tiny):
    config = GenerationConfig(max_new_tokens=12)
    tiny.batch_size = 3
    batched = tiny.generate(convs(), config)
    tiny.batch_size = 1
    single = [tiny.generate([c], config)[0] for c in convs()]
    tiny.batch_size = 2
    assert [g.text for g in batched] == [g.text for g in single]
    assert [g.prompt_tokens for g in batched] == [len(tiny.encode_prompt(c)) for c in convs()]
    assert len({g.text for g in batched}) > 1  # different prompts, different outputs: order is checked


def test_progress_and_usage(tiny):
    seen = []
    before = tiny.usage.requests
    out = tiny.generate(convs(), GenerationConfig(max_new_tokens=3), progress=seen.append)
    assert sum(seen) == len(USERS) and len(seen) == 3  # batches of 2, 2, 1
    assert tiny.usage.requests - before == len(USERS)
    assert all(0 < g.completion_tokens <= 3 for g in out)


def test_min_new_tokens_forces_length(tiny):
    out = tiny.generate(convs()[:2], GenerationConfig(max_new_tokens=6, min_new_tokens=6))
    assert [g.completion_tokens for g in out] == [6, 6] and {g.finish_reason for g in out} == {"length"}


def test_sampling_is_seeded(tiny):
    sampled = GenerationConfig(max_new_tokens=10, temperature=1.0, seed=7)
    first = [g.text for g in tiny.generate(convs(), sampled)]
    again = [g.text for g in tiny.generate(convs(), sampled)]
    other = [g.text for g in tiny.generate(convs(), GenerationConfig(max_new_tokens=10, temperature=1.0, seed=8))]
    greedy = [g.text for g in tiny.generate(convs(), GenerationConfig(max_new_tokens=10))]
    assert first == again
    assert first != other and first != greedy


def test_bad_item_fails_alone(tiny):
    conversations = convs()[:2] + [[{"role": "user"}]]  # no content: the template cannot render it
    out = tiny.generate(conversations, GenerationConfig(max_new_tokens=2))
    assert out[0].error is None and out[1].error is None
    assert out[2].text == "" and "render" in out[2].error


def test_decoding_keeps_special_span_tags_and_strips_eos_and_pad(tiny_model_dir, tmp_path):
    # Simulate the released Kardia-R1 tokenizer: span tags registered as *special* tokens.
    directory = tmp_path / "r1"
    shutil.copytree(tiny_model_dir, directory)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(directory)
    tokenizer.add_special_tokens({"additional_special_tokens": list(SPAN_TOKENS)})
    model = AutoModelForCausalLM.from_pretrained(directory)
    model.resize_token_embeddings(len(tokenizer))
    tokenizer.save_pretrained(directory)
    model.save_pretrained(directory)

    r1 = LocalChatModel(directory)
    text = "<|emotion_begin|>sad<|emotion_end|><|response_begin|>I'm here.<|response_end|>"
    ids = r1.encode(text)
    assert all(r1.tokenizer.convert_tokens_to_ids(t) in ids for t in SPAN_TOKENS[4:])  # single special tokens
    eos, pad = r1.eos_token_ids[0], r1.tokenizer.pad_token_id
    generation = r1.decode_completion(ids + [eos, pad, pad], prompt_tokens=5, config=GenerationConfig())
    assert generation.text == text
    assert generation.finish_reason == "stop" and generation.completion_tokens == len(ids) + 1
    unfinished = r1.decode_completion(ids, prompt_tokens=5, config=GenerationConfig())
    assert unfinished.text == text and unfinished.finish_reason == "length"
    # And through real generation: nothing special is skipped, eos never appears.
    for g in r1.generate(convs()[:2], GenerationConfig(max_new_tokens=8)):
        assert "<|im_end|>" not in g.text


def test_stop_strings_cut_text(tiny):
    full = tiny.generate(convs()[:1], GenerationConfig(max_new_tokens=12))[0].text
    stop = full[3:6]
    if not stop.strip():
        pytest.skip("random output too short to pick a stop string")
    cut = tiny.generate(convs()[:1], GenerationConfig(max_new_tokens=12, stop=(stop,)))[0]
    assert cut.text == full[: full.index(stop)] and cut.finish_reason == "stop"


def test_next_token_logprobs_match_an_unpadded_forward(tiny):
    candidates = [" yes", " no", "5"]
    scores = tiny.next_token_logprobs(convs(), "Answer:", candidates)
    for conversation, score in zip(convs(), scores):
        ids = torch.tensor([tiny.encode_prompt(conversation, "Answer:")])
        with torch.inference_mode():
            logprobs = torch.log_softmax(tiny.model(input_ids=ids).logits[0, -1].float(), -1)
        for candidate in candidates:
            token = tiny.encode(candidate)[0]
            assert score[candidate] == pytest.approx(float(logprobs[token]), abs=1e-4)


def test_end_of_turn_ids_collects_all_sources(tokenizer):
    class Config:
        eos_token_id = [7, 2]

    ids = end_of_turn_ids(tokenizer, Config())
    assert ids[:2] == [7, 2] and len(ids) == len(set(ids))


def test_unreachable_hub_id_gives_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError) as info:
        LocalChatModel("kardia-nonexistent-org/no-such-model")
    message = str(info.value)
    assert "kardia-nonexistent-org/no-such-model" in message and "HF_HUB_OFFLINE" in message
    assert "HF_TOKEN" in message and "local checkpoint directory" in message


def test_missing_local_path_gives_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="not an existing directory"):
        LocalChatModel(tmp_path / "nope")
