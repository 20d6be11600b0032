"""The 32 labels, the normaliser, the seed system prompt and turn messages."""

from __future__ import annotations

import pytest

from kardia.emotions import EMOTIONS, VARIANTS, normalize_emotion
from kardia.prompts import SYSTEM_PROMPT_TEMPLATE, fold_system, supports_system_role, system_prompt, turn_messages


def test_32_labels_as_in_the_seed_prompt():
    assert len(EMOTIONS) == len(set(EMOTIONS)) == 32
    listed = SYSTEM_PROMPT_TEMPLATE.split("Select the most fitting emotion from: ")[1].split("}}")[0]
    assert tuple(listed.split(", ")) == EMOTIONS


@pytest.mark.parametrize(
    "text, label",
    [("anxious", "anxious"), ("ANXIOUS", "anxious"), ("The user feels anxious.", "anxious"), ("anxiety", "anxious"),
     ("  Devastated!! ", "devastated"), ("gratitude", "grateful"), ("let down", "disappointed"), ("alone and sad", "sad")],
)
def test_normalise(text, label):
    assert normalize_emotion(text) == label


@pytest.mark.parametrize("text", ["", None, "bored", "upset", "sad and angry", "fear and joy", "42"])
def test_unknown_or_ambiguous_is_none(text):
    assert normalize_emotion(text) is None


def test_variants_point_at_labels():
    assert set(VARIANTS.values()) <= set(EMOTIONS)


def test_system_prompt_filled_word_for_word():
    text = system_prompt("MBTI: INFP\nAbout: a nurse", "Lost my keys.")
    assert "{{profile}}" not in text and "{{situation}}" not in text
    assert text.startswith("You are an emotional dialogue assistant and a psychological expert.")
    assert "### User Profile\nMBTI: INFP\nAbout: a nurse\n### Situation ###\nLost my keys.\n" in text
    assert "{{Concise summary of user's message, intent, and key emotional cues.}}" in text


def test_turn_messages_and_folding():
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}]
    msgs = turn_messages("p", "s", history)
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    folded = fold_system(msgs)
    assert [m["role"] for m in folded] == ["user", "assistant", "user"]
    assert folded[0]["content"].endswith("\n\nhi") and "User Profile" in folded[0]["content"]
    assert msgs[1]["content"] == "hi"  # the input is not mutated


class _NoSystemTokenizer:
    def apply_chat_template(self, messages, tokenize=False):
        if messages[0]["role"] == "system":
            raise ValueError("System role not supported")
        return "".join(m["content"] for m in messages)


def test_supports_system_role(tokenizer):
    assert supports_system_role(tokenizer)
    assert not supports_system_role(_NoSystemTokenizer())
