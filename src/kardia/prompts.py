"""The Kardia-R1 system prompt and the chat messages a model sees at a given assistant turn.

The system prompt is the seed's, word for word; only `{{profile}}` and `{{situation}}` are filled.

>>> msgs = turn_messages("MBTI: INFP", "Lost my job.", [{"role": "user", "content": "Hi"}])
>>> [m["role"] for m in msgs]
['system', 'user']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Message = dict[str, str]

SYSTEM_PROMPT_TEMPLATE = """You are an emotional dialogue assistant and a psychological expert. Your task is to respond to the User's message in a roleplay scenario, taking into account the User's personality, emotional state, and situation. ### Role and Objective ### - Act as both a supportive therapist and an empathetic conversational partner. - Prioritize understanding the User’s feelings and providing emotional validation. - Keep the conversation natural, emotionally resonant, and aligned with the User's profile. ### Response Requirements ### - Structure your reply in 4 sections: <|understanding_begin|>: Summarize the User's message, intent, and key emotional cues. <|reasoning_begin|>: Explain your empathic rationale, considering psychological principles such as affective and cognitive empathy, emotion validation, and reflective listening. <|emotion_begin|>: Accurately reflect the User's current emotional state. <|response_begin|>: Provide a concise, natural, emotionally supportive reply (≤30 tokens), coherent and aligned with the User’s personality. - Avoid asking unnecessary questions; focus on reflecting, validating, and supporting the User. - Ensure each section is clear, concise, and well-structured.
### User Profile
{{profile}}
### Situation ###
{{situation}}
### <|understanding_begin|>{{Concise summary of user's message, intent, and key emotional cues.}}<|understanding_end|>
<|reasoning_begin|>{{Brief empathic rationale using perspective-taking and emotion validation.}}<|reasoning_end|>
<|emotion_begin|>{{Select the most fitting emotion from: sentimental, afraid, proud, faithful, terrified, joyful, angry, sad, jealous, grateful, prepared, embarrassed, excited, annoyed, lonely, ashamed, guilty, surprised, nostalgic, confident, furious, disappointed, caring, trusting, disgusted, anticipating, anxious, hopeful, content, impressed, apprehensive, devastated}}<|emotion_end|>
<|response_begin|>{{Provide a concise, supportive reply (≤30 tokens) aligned with the user's personality and emotional state.}}<|response_end|>
"""

PLAIN_PROMPT_TEMPLATE = """You are an empathetic listener offering emotional support.
### User Profile
{{profile}}
### Situation ###
{{situation}}
Reply to the user's last message in exactly two lines:
Emotion: <one word from: {labels}>
Reply: <a warm, supportive reply of at most 30 tokens>
"""
"""The `--mode plain` prompt for models not trained on the span format (baselines, API models)."""


def system_prompt(profile: str, situation: str) -> str:
    """The seed system prompt with the user's profile and situation filled in."""
    return SYSTEM_PROMPT_TEMPLATE.replace("{{profile}}", profile.strip()).replace("{{situation}}", situation.strip())


def plain_prompt(profile: str, situation: str) -> str:
    """The plain-mode system prompt: emotion label and reply as two labelled lines."""
    from kardia.emotions import EMOTIONS

    text = PLAIN_PROMPT_TEMPLATE.replace("{labels}", ", ".join(EMOTIONS))
    return text.replace("{{profile}}", profile.strip() or "(not given)").replace("{{situation}}", situation.strip())


def turn_messages(
    profile: str,
    situation: str,
    history: Sequence[Message],
    *,
    mode: str = "kardia",
) -> list[Message]:
    """System message plus the dialogue so far (which ends with the user's turn)."""
    if mode not in ("kardia", "plain"):
        raise ValueError(f"mode must be 'kardia' or 'plain', not {mode!r}")
    make = system_prompt if mode == "kardia" else plain_prompt
    turns = [{"role": m["role"], "content": m["content"]} for m in history]
    if mode == "plain":  # earlier assistant turns in the format the model is asked for, not as spans
        turns = [{"role": m["role"], "content": plain_turn(m["content"])} if m["role"] == "assistant" else m for m in turns]
    return [{"role": "system", "content": make(profile, situation)}, *turns]


def replies_only(messages: Sequence[Message]) -> list[Message]:
    """The messages with each assistant turn reduced to its response span (its content when it has none).

    >>> replies_only([{"role": "assistant", "content": "<|emotion_begin|>sad<|emotion_end|><|response_begin|>I'm here.<|response_end|>"}])
    [{'role': 'assistant', 'content': "I'm here."}]
    """
    from kardia.spans import parse

    return [
        {**m, "content": parse(m["content"]).response or m["content"]} if m.get("role") == "assistant" else m
        for m in messages
    ]


def plain_turn(content: str) -> str:
    """A four-span assistant turn rewritten in the plain two-line format (other text is kept as is).

    >>> plain_turn("<|emotion_begin|>sad<|emotion_end|><|response_begin|>I'm here.<|response_end|>").splitlines()
    ['Emotion: sad', "Reply: I'm here."]
    """
    from kardia.spans import parse

    spans = parse(content)
    if spans.response is None:
        return content
    return f"Emotion: {spans.emotion}\nReply: {spans.response}" if spans.emotion else f"Reply: {spans.response}"


def fold_system(messages: Sequence[Message]) -> list[Message]:
    """For chat templates without a system role (Gemma): put the system text before the first user turn."""
    msgs = [dict(m) for m in messages]
    if not msgs or msgs[0]["role"] != "system":
        return msgs
    system, rest = msgs[0]["content"], msgs[1:]
    if rest and rest[0]["role"] == "user":
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
        return rest
    return [{"role": "user", "content": system}, *rest]


def supports_system_role(tokenizer: Any) -> bool:
    """Whether the tokenizer's chat template accepts a system message (Gemma's raises)."""
    probe = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    try:
        text = tokenizer.apply_chat_template(probe, tokenize=False)
    except Exception:
        return False
    return "S" in text


def chat_messages_for(tokenizer: Any, messages: Sequence[Message]) -> list[Message]:
    """The messages as this tokenizer's template accepts them (system folded where needed)."""
    return list(messages) if supports_system_role(tokenizer) else fold_system(messages)


def render_chat(tokenizer: Any, messages: Sequence[Message], *, generation_prompt: bool = True) -> str:
    """The messages through the tokenizer's chat template as text (system folded where needed)."""
    return tokenizer.apply_chat_template(
        chat_messages_for(tokenizer, messages), tokenize=False, add_generation_prompt=generation_prompt
    )
