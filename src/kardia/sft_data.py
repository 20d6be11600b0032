"""The SFT training set: turn-level prompt-completion pairs, or one token sequence per dialogue with the loss on
every assistant turn.

A dialogue with *n* assistant turns gives *n* turn-level examples whose prompts repeat the same growing prefix
(system prompt, persona, situation, earlier turns). Under causal attention the loss on turn *k* of the whole
dialogue, read once, equals the loss on turn-level example *k*: the tokens before it are exactly its prompt. So
`dialogue_sequences` trains on the same targets while reading each prefix once (about 3× fewer tokens on the
bundled sample). It needs a chat template that renders a conversation as the concatenation of its prefixes, which
is checked for every turn: a turn whose prompt is not the text before it, or that would push a sequence past
``max_length``, starts a new sequence (alone, it is the turn-level example again); a template that does not render
an answer right after its generation prompt falls back to the turn-level rows.

TRL's own `assistant_only_loss` does this only for chat templates with ``{% generation %}`` markers or for the
templates TRL knows how to patch; this works for any template, and the result is an ordinary pre-tokenised
dataset (``input_ids`` plus ``assistant_masks``) that `SFTTrainer` turns into labels itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from kardia.data.records import Example
from kardia.prompts import chat_messages_for, render_chat

logger = logging.getLogger(__name__)

FOUR_SPANS = {"understanding", "reasoning", "emotion", "response"}


def with_gold_spans(examples: Sequence[Example]) -> list[Example]:
    """The examples with all four gold spans (imported EmpatheticDialogues / ESConv turns have empty
    understanding and reasoning and cannot teach the format); raises when none is left."""
    full = [e for e in examples if set(e.gold_spans) >= FOUR_SPANS]
    if len(full) < len(examples):
        logger.warning("SFT: %d of %d examples lack gold understanding/reasoning spans and are left out",
                       len(examples) - len(full), len(examples))
    if not full:
        raise ValueError("SFT needs examples with all four gold spans (KardiaBench data, not imported partial records)")
    return full


def turn_dataset(examples: Sequence[Example], tokenizer: Any) -> Any:
    """TRL's conversational prompt-completion format, one row per assistant turn (loss on the completion)."""
    from datasets import Dataset

    return Dataset.from_list([
        {"prompt": chat_messages_for(tokenizer, e.messages), "completion": [{"role": "assistant", "content": e.target}]}
        for e in with_gold_spans(examples)
    ])


def dialogue_dataset(examples: Sequence[Example], tokenizer: Any, max_length: int | None) -> Any:
    """Pre-tokenised rows (``input_ids``, ``assistant_masks``), one per dialogue where it fits in ``max_length``
    tokens, with the mask on every assistant turn's tokens and its end-of-turn token.

    Falls back to `turn_dataset` (with a warning) when the chat template does not render an assistant answer
    right after its generation prompt.
    """
    from datasets import Dataset

    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("dialogue_sequences needs a fast tokenizer (character offsets); set it to false")
    rows: list[dict[str, Any]] = []
    examples = with_gold_spans(examples)
    ordered = sorted(examples, key=lambda e: (e.record_id, e.turn))
    try:
        for _, turns in groupby(ordered, key=lambda e: e.record_id):
            rows.extend(_dialogue_rows(list(turns), tokenizer, max_length))
    except _NotPrefixPreserving as err:
        logger.warning("SFT: %s; training on turn-level prompt-completion pairs instead", err)
        return turn_dataset(examples, tokenizer)
    logger.info("SFT: %d assistant turns in %d dialogue sequences", len(examples), len(rows))
    return Dataset.from_list(rows)


class _NotPrefixPreserving(ValueError):
    """The chat template renders an answer differently from its generation prompt followed by the answer."""


def _dialogue_rows(turns: list[Example], tokenizer: Any, max_length: int | None) -> list[dict[str, Any]]:
    """Greedily pack consecutive turns of one dialogue into sequences: each row is the text up to the end of its
    last turn (tokenised once, with character offsets), with the character spans of the turns it trains on."""
    rows: list[dict[str, Any]] = []
    text, encoded, spans = "", None, []
    for turn in turns:
        prompt = render_chat(tokenizer, turn.messages)
        full = render_chat(tokenizer, [*turn.messages, {"role": "assistant", "content": turn.target}], generation_prompt=False)
        if not full.startswith(prompt):
            raise _NotPrefixPreserving(f"example {turn.id}: the chat template does not render the answer after its prompt")
        full_encoded = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
        fits = max_length is None or len(full_encoded["input_ids"]) <= max_length
        if not (spans and fits and prompt.startswith(text)):
            if spans:
                rows.append(_masked(encoded, spans))
            spans = []
        text, encoded = full, full_encoded
        spans.append((len(prompt), len(full)))
    rows.append(_masked(encoded, spans))
    return rows


def _masked(encoded: Any, spans: list[tuple[int, int]]) -> dict[str, Any]:
    """The row of one tokenised text: its ids and a mask on the tokens that start inside the trained spans."""
    mask = [int(any(start <= begin < end for start, end in spans)) for begin, _ in encoded["offset_mapping"]]
    return {"input_ids": encoded["input_ids"], "assistant_masks": mask}
