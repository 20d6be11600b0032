"""SFT data: one sequence per dialogue trains on exactly the turn-level targets, with their exact contexts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kardia.data.records import expand_record
from kardia.data.sources import load_records
from kardia.sft_data import dialogue_dataset, turn_dataset

END = "<|im_end|>\n"


@pytest.fixture(scope="module")
def sample_turns():
    return [e for r in load_records("sample") for e in expand_record(r)]


def _render(tokenizer, messages, **kwargs):
    return tokenizer.apply_chat_template(messages, tokenize=False, **kwargs)


def test_one_row_per_dialogue_with_every_assistant_turn_in_the_loss(tokenizer, sample_turns):
    rows = dialogue_dataset(sample_turns, tokenizer, max_length=None)
    dialogues = {e.record_id for e in sample_turns}
    assert len(rows) == len(dialogues) < len(sample_turns)
    by_record = {}
    for e in sample_turns:
        by_record.setdefault(e.record_id, []).append(e)
    for row, record_id in zip(rows, sorted(dialogues)):
        turns = sorted(by_record[record_id], key=lambda e: e.turn)
        masked = [t for t, m in zip(row["input_ids"], row["assistant_masks"]) if m]
        assert tokenizer.decode(masked) == "".join(e.target + END for e in turns)


def test_every_turn_sees_exactly_its_turn_level_context(tokenizer, sample_turns):
    """Under causal attention equal token prefixes give equal logits, so the losses are the turn-level ones."""
    rows = dialogue_dataset(sample_turns, tokenizer, max_length=None)
    first = min(e.record_id for e in sample_turns)
    turns = sorted((e for e in sample_turns if e.record_id == first), key=lambda e: e.turn)
    ids = rows[0]["input_ids"]
    for e in turns:
        prompt = tokenizer(_render(tokenizer, e.messages, add_generation_prompt=True), add_special_tokens=False)["input_ids"]
        answered = [*e.messages, {"role": "assistant", "content": e.target}]
        whole = tokenizer(_render(tokenizer, answered), add_special_tokens=False)["input_ids"]
        assert ids[: len(whole)] == whole
        assert rows[0]["assistant_masks"][len(prompt) - 1] == 0 and rows[0]["assistant_masks"][len(prompt)] == 1


def test_long_dialogues_are_cut_at_turn_boundaries(tokenizer, sample_turns):
    longest = max(len(tokenizer(_render(tokenizer, [*e.messages, {"role": "assistant", "content": e.target}]))["input_ids"])
                  for e in sample_turns)
    limit = longest - 1  # at least one turn no longer fits with its predecessors
    rows = dialogue_dataset(sample_turns, tokenizer, max_length=limit)
    assert len(rows) > len({e.record_id for e in sample_turns})
    trained = [tokenizer.decode([t for t, m in zip(r["input_ids"], r["assistant_masks"]) if m]).count(END) for r in rows]
    assert sum(trained) == len(sample_turns)  # no turn lost or trained twice
    assert all(len(r["input_ids"]) <= limit for r, n in zip(rows, trained) if n > 1)  # only a lone turn may be longer


def test_template_that_rewrites_history_falls_back_to_turn_pairs(tokenizer, sample_turns, caplog):
    """Like Qwen3's: the generation prompt opens a block that rendered answers lack."""
    rewriting = (
        "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n<think>\\n' }}{% endif %}"
    )
    original = tokenizer.chat_template
    tokenizer.chat_template = rewriting
    try:
        rows = dialogue_dataset(sample_turns[:6], tokenizer, max_length=None)
    finally:
        tokenizer.chat_template = original
    assert set(rows.column_names) == {"prompt", "completion"} and len(rows) == 6
    assert "does not render the answer after its prompt" in caplog.text


def test_imported_turns_without_gold_reasoning_are_left_out(tokenizer, sample_turns):
    partial = replace(sample_turns[0], gold_spans=["emotion", "response"])
    assert len(turn_dataset([partial, *sample_turns[:2]], tokenizer)) == 2
    with pytest.raises(ValueError, match="all four gold spans"):
        dialogue_dataset([partial], tokenizer, max_length=None)
