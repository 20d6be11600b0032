"""Prompts of `kardia build`: the user simulator, the assistant (jointly or one span at a time) and the critique.

The assistant always sees the Kardia system prompt (`kardia.prompts.system_prompt`) and the dialogue.

- ``joint`` mode asks for the whole four-span answer in one call: right for models trained on the
  format or capable instruction followers.
- ``spans`` mode (progressive empathy) asks for one span per call, each given the spans before it:
  understanding, then reasoning, then the emotion, then the response. The step instruction is appended
  to the user's last message. Small models such as SmolLM2-135M cannot emit the eight tags reliably but
  can write one short piece of text at a time; `kardia.spans.render` assembles the answer, so it is
  always well formed. The emotion is chosen among the 32 labels by next-token log-probability when the
  model exposes it (every label's first token after a space is distinct in the SmolLM2 tokenizer), else
  generated and mapped with `normalize_emotion`.

A rewrite sees the same prompts plus `critique_text`: the lowest-scoring rubric criteria with their
question and the description of a top (level 5) reply, format problems, and a wrong emotion.

Bump `PROMPT_VERSION` whenever any text here changes: it enters the dialogue ids and the manifest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kardia.emotions import EMOTIONS
from kardia.prompts import turn_messages
from kardia.spans import MAX_RESPONSE_TOKENS, SPAN_NAMES

PROMPT_VERSION = "build-1"

Message = dict[str, str]

USER_SYSTEM = (
    "You are role-playing a real person who is chatting with a supportive listener. Stay in character: "
    "write as this person would, in the first person, consistent with their profile, what happened to them "
    "and how they feel. Never mention being an AI, a role-play or these instructions."
)

SPAN_INSTRUCTIONS: dict[str, str] = {
    "understanding": "In one sentence, summarise the user's last message, their intent and their key emotional cues.",
    "reasoning": (
        "In one or two sentences, explain how to respond with empathy: take the user's perspective and "
        "say which feeling to validate and how."
    ),
    "emotion": "Name the user's current emotion with exactly one word from this list: " + ", ".join(EMOTIONS) + ".",
    "response": (
        f"Write your reply to the user: warm, natural and supportive, at most {MAX_RESPONSE_TOKENS} words, "
        "fitting their personality. Reflect and validate their feelings; avoid unnecessary questions."
    ),
}

EMOTION_PREFIX = "Emotion:"
"""Assistant prefix after which the emotion label's first token is scored."""

_ROLE_NAMES = {"user": "You", "assistant": "Listener"}


def user_messages(persona: str, situation: str, emotion: str, history: Sequence[Message], response_of) -> list[Message]:
    """The user simulator's conversation: play `persona` and write the next message.

    `response_of(text)` extracts what the user saw of an assistant turn (its response span).
    """
    lines = [
        f"{_ROLE_NAMES[m['role']]}: {response_of(m['content']) if m['role'] == 'assistant' else m['content']}"
        for m in history
    ]
    if lines:
        task = (
            "The conversation so far:\n" + "\n".join(lines) + "\n\nWrite your next message to the listener: "
            "react to what they just said and share a bit more of what you feel or what happened."
        )
    else:
        task = "Start the conversation: tell the listener what is on your mind."
    content = (
        f"Your profile:\n{persona.strip()}\n\nWhat happened to you: {situation.strip()}\n"
        f"How you feel: {emotion or 'as the situation suggests'}\n\n{task}\n"
        "Write one to three sentences, casual and in character. Reply with the message only."
    )
    return [{"role": "system", "content": USER_SYSTEM}, {"role": "user", "content": content}]


def joint_messages(persona: str, situation: str, history: Sequence[Message], critique: str | None = None) -> list[Message]:
    """The Kardia prompt for a whole four-span answer, with the critique appended on a rewrite."""
    messages = turn_messages(persona, situation, history)
    if critique:
        messages[-1] = {"role": "user", "content": f"{messages[-1]['content']}\n\n[{critique}]"}
    return messages


def span_messages(
    persona: str,
    situation: str,
    history: Sequence[Message],
    span: str,
    written: dict[str, str],
    critique: str | None = None,
) -> list[Message]:
    """The Kardia prompt asking for one span, given the spans already `written` for this answer."""
    if span not in SPAN_NAMES:
        raise ValueError(f"unknown span {span!r}")
    messages = turn_messages(persona, situation, history)
    parts = [f"[Write only the {span} section of your answer."]
    if written:
        parts.append("Your sections so far: " + " ".join(f"{name.capitalize()}: {text}" for name, text in written.items()))
    if critique:
        parts.append(critique)
    parts.append(SPAN_INSTRUCTIONS[span] + " Reply with that text only.]")
    messages[-1] = {"role": "user", "content": f"{messages[-1]['content']}\n\n" + "\n".join(parts)}
    return messages


def critique_text(
    response: str | None,
    criteria: Sequence[tuple[str, float | None, str, str]],
    problems: Sequence[str] = (),
    emotion: tuple[str | None, str] | None = None,
) -> str:
    """The feedback for a rewrite.

    Args:
        response: the previous reply (its response span), quoted so the rewrite can improve on it.
        criteria: (name, 1-5 score or None, question, level-5 description) of the weakest criteria.
        problems: format problems of the previous answer.
        emotion: (label given, scenario label) when the emotion disagreed with the scenario.
    """
    lines = ["A reviewer graded your previous answer and asks you to improve it."]
    if response:
        lines.append(f'Previous reply: "{response}"')
    for name, raw, question, best in criteria:
        score = f"{raw:.1f}/5" if raw is not None else "not scored"
        lines.append(f"- {name} ({score}): {question} A top reply: {best}")
    lines.extend(f"- Format: {problem}" for problem in problems)
    if emotion is not None:
        given, target = emotion
        lines.append(f"- Emotion: you said {given or 'no valid label'}, but the user's situation suggests {target}.")
    return "\n".join(lines)


_TAG = re.compile(r"<\s*/?\s*\|?\s*(?:understanding|reasoning|emotion|response)\s*(?:[_\-\s]?\s*(?:begin|end))?\s*\|?\s*>", re.IGNORECASE)
_LEADING_LABEL = re.compile(r"^\s*(?:\**\s*(?:understanding|reasoning|emotion|response|reply|message|you|user|me)\s*\**\s*[:：-])+\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def clean_text(text: str) -> str:
    """One generated piece of text: span tags, a leading label ("Response:") and quotes removed, first paragraph only."""
    text = _TAG.sub(" ", text or "")
    text = text.strip().split("\n\n")[0]
    text = _LEADING_LABEL.sub("", text)
    text = " ".join(text.split())
    if len(text) >= 2 and text[0] in "\"'“" and text[-1] in "\"'”":
        text = text[1:-1].strip()
    return text


def limit_words(text: str, max_words: int) -> str:
    """Whole sentences of `text` up to `max_words` words; the first sentence cut at the limit if it alone is longer."""
    kept: list[str] = []
    count = 0
    for sentence in _SENTENCE_END.split(text.strip()):
        words = sentence.split()
        if count + len(words) > max_words:
            if not kept:
                kept.append(" ".join(words[:max_words]))
            break
        kept.append(sentence)
        count += len(words)
    return " ".join(kept)
