"""One Kardia chat turn behind the safety layer, shared by `kardia chat` and `kardia serve`.

A turn is: screen the user's message (`screen_user`); if it is flagged, the user gets the safe reply
and the model is not called. Otherwise the model answers in the four-span format, the answer is parsed
leniently, the visible reply (the response span, or the raw text trimmed when the output is malformed)
is screened, and a flagged reply is replaced by the safe reply (`finish_turn`). The safe reply is not
bound by the 30-token response limit.

Only the visible reply is screened; when it is replaced, the understanding and reasoning spans are
dropped too, so nothing from a flagged answer is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kardia.serve.safety import SafetyLayer, SafetyOutcome
from kardia.spans import SPAN_NAMES, Spans, begin_tag, parse, render

KARDIA_PROMPT_MARKERS = tuple(begin_tag(name) for name in SPAN_NAMES)
"""A system prompt naming all four begin tags asks for the span format (the seed prompt does)."""

_TAG = re.compile(r"<\|[A-Za-z_]+\|>")
FALLBACK_CHARS = 600
"""Most characters of raw text shown when the output has no response span."""


def is_kardia_prompt(text: str) -> bool:
    """Whether a system message already is a Kardia prompt (it names all four span tags)."""
    return all(marker in text for marker in KARDIA_PROMPT_MARKERS)


def visible_reply(spans: Spans, raw: str) -> str:
    """What the user sees: the (lenient) response span, else the raw output without tags, trimmed."""
    if spans.response:
        return spans.response
    text = " ".join(_TAG.sub(" ", raw).split())
    return text if len(text) <= FALLBACK_CHARS else text[:FALLBACK_CHARS].rstrip() + "…"


def last_user_text(messages: list[dict[str, str]]) -> str:
    """The content of the last user message ("" when there is none)."""
    return next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")


@dataclass
class KardiaTurn:
    """The outcome of one turn.

    Attributes:
        content: the text shown to the user (response span, fallback text, or safe reply).
        raw: the model's raw output ("" when the model was not called).
        spans: the parsed answer (None when the model was not called).
        safety: the safety layer's outcome.
    """

    content: str
    raw: str
    spans: Spans | None
    safety: SafetyOutcome

    @property
    def flagged(self) -> bool:
        return self.safety.flagged

    def shown_spans(self) -> Spans | None:
        """The spans safe to show: none when the turn was flagged."""
        return None if self.flagged else self.spans

    def assistant_message(self) -> str:
        """The assistant turn as the model sees it next time: the four spans, with the shown reply."""
        spans = self.shown_spans()
        if spans is None:
            return render("", "", "", self.content)
        return render(spans.understanding or "", spans.reasoning or "", spans.emotion or "", self.content)

    def kardia_field(self) -> dict[str, Any]:
        """The `kardia` object of an API response: spans, problems and the safety verdict."""
        spans = self.shown_spans()
        return {
            "mode": "kardia",
            "understanding": spans.understanding if spans else None,
            "reasoning": spans.reasoning if spans else None,
            "emotion": spans.emotion if spans else None,
            "emotion_label": spans.emotion_label if spans else None,
            "problems": spans.codes() if spans else [],
            "well_formed": spans.ok if spans else None,
            "safety": safety_field(self.safety),
        }


def safety_field(outcome: SafetyOutcome) -> dict[str, Any]:
    """The safety verdict as JSON: flagged, which side was flagged, category and rule names."""
    return {
        "flagged": outcome.flagged,
        "source": outcome.source,
        "category": outcome.assessment.category if outcome.flagged else None,
        "rules": list(outcome.assessment.matched) if outcome.flagged else [],
    }


def screen_user(safety: SafetyLayer, user_text: str, locale: str | None = None) -> KardiaTurn | None:
    """The finished (safe-reply) turn when the user's message is flagged, else None."""
    outcome = safety.guard(user_text, None, locale)
    if not outcome.flagged:
        return None
    return KardiaTurn(content=outcome.reply, raw="", spans=None, safety=outcome)


def finish_turn(safety: SafetyLayer, user_text: str, raw: str, locale: str | None = None, *,
                tokenizer: Any = None) -> KardiaTurn:
    """Parse the model's output, screen the visible reply and replace it when flagged."""
    spans = parse(raw, tokenizer=tokenizer)
    reply = visible_reply(spans, raw)
    outcome = safety.guard(user_text, reply, locale)
    return KardiaTurn(content=outcome.reply, raw=raw, spans=spans, safety=outcome)
