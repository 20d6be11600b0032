"""The four-span answer format: the eight tags, parsing with named problems, and rendering.

A Kardia answer is four spans in a fixed order::

    <|understanding_begin|>…<|understanding_end|>
    <|reasoning_begin|>…<|reasoning_end|>
    <|emotion_begin|>LABEL<|emotion_end|>
    <|response_begin|>…<|response_end|>

`parse` never raises. It returns the four fields and a list of `Problem`s; an answer is well formed
when that list is empty. The plain-tag variant of the KardiaBench dataset card
(`<understanding>…</understanding>`) is accepted in both modes. Lenient mode (the default) also
accepts tag case and spacing variants, strips trailing end-of-turn tokens and recovers the content of
an unclosed final span (still reporting it).

>>> s = parse(render("Sad about the exam.", "Validate first.", "sad", "That sounds hard."))
>>> s.ok, s.emotion, s.response
(True, 'sad', 'That sounds hard.')
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from kardia.emotions import EMOTIONS, normalize_emotion

SPAN_NAMES: tuple[str, ...] = ("understanding", "reasoning", "emotion", "response")
MAX_RESPONSE_TOKENS = 30


def begin_tag(name: str) -> str:
    return f"<|{name}_begin|>"


def end_tag(name: str) -> str:
    return f"<|{name}_end|>"


SPAN_TOKENS: tuple[str, ...] = tuple(t for n in SPAN_NAMES for t in (begin_tag(n), end_tag(n)))
"""The eight tag tokens, in order (begin, end for each span)."""

END_OF_TURN_TOKENS: tuple[str, ...] = (
    "<|im_end|>",
    "<end_of_turn>",
    "<|eot_id|>",
    "<|endoftext|>",
    "</s>",
    "<eos>",
    "<|end|>",
)

_NAMES = "|".join(SPAN_NAMES)
# Canonical tags and the dataset card's plain tags.
_STRICT_TAG = re.compile(rf"<\|(?P<n1>{_NAMES})_(?P<k1>begin|end)\|>|<(?P<slash>/?)(?P<n2>{_NAMES})>")
# Case and spacing variants: "< |Understanding Begin| >", "<|REASONING-END|>", "< /response >".
_LENIENT_TAG = re.compile(
    rf"<\s*\|\s*(?P<n1>{_NAMES})\s*[_\-\s]?\s*(?P<k1>begin|end)\s*\|\s*>"
    rf"|<\s*(?P<slash>/?)\s*(?P<n2>{_NAMES})\s*>",
    re.IGNORECASE,
)
_TRAILING_EOT = re.compile(
    "(?:\\s|" + "|".join(re.escape(t) for t in END_OF_TURN_TOKENS) + ")+\\Z"
)


class Tokenizer(Protocol):
    def encode(self, text: str, add_special_tokens: bool = ...) -> list[int]: ...


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an answer. `code` is stable; `message` is for people."""

    code: str
    span: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PROBLEM_CODES = (
    "missing_span",
    "wrong_order",
    "repeated_span",
    "unclosed_span",
    "stray_tag",
    "empty_span",
    "text_outside",
    "unknown_emotion",
    "response_too_long",
)


@dataclass
class Spans:
    """The parsed answer. Fields are None when the span is absent (or unusable in strict mode)."""

    understanding: str | None = None
    reasoning: str | None = None
    emotion: str | None = None
    response: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the answer is well formed: all four spans, in order, no problem."""
        return not self.problems

    @property
    def emotion_label(self) -> str | None:
        """The emotion span mapped to one of the 32 labels, or None."""
        return normalize_emotion(self.emotion) if self.emotion else None

    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def to_dict(self) -> dict[str, Any]:
        return {
            "understanding": self.understanding,
            "reasoning": self.reasoning,
            "emotion": self.emotion,
            "emotion_label": self.emotion_label,
            "response": self.response,
            "ok": self.ok,
            "problems": [p.to_dict() for p in self.problems],
        }


def render(understanding: str, reasoning: str, emotion: str, response: str) -> str:
    """Canonical four-span text, one span per line.

    >>> render("u", "r", "sad", "Hi.").splitlines()[2]
    '<|emotion_begin|>sad<|emotion_end|>'
    """
    values = (understanding, reasoning, emotion, response)
    return "\n".join(f"{begin_tag(n)}{v.strip()}{end_tag(n)}" for n, v in zip(SPAN_NAMES, values))


def count_tokens(text: str, tokenizer: Tokenizer | None = None) -> int:
    """Tokens by `tokenizer` when given, else whitespace-separated words."""
    if tokenizer is not None:
        return len(tokenizer.encode(text, add_special_tokens=False))
    return len(text.split())


def _tag_events(text: str, lenient: bool) -> list[tuple[int, int, str, bool]]:
    """(start, end, span name, is_begin) for every tag in text."""
    pattern = _LENIENT_TAG if lenient else _STRICT_TAG
    events = []
    for m in pattern.finditer(text):
        if m.group("n1"):
            name, is_begin = m.group("n1").lower(), m.group("k1").lower() == "begin"
        else:
            name, is_begin = m.group("n2").lower(), not m.group("slash")
        events.append((m.start(), m.end(), name, is_begin))
    return events


def parse(
    text: Any,
    *,
    strict: bool = False,
    tokenizer: Tokenizer | None = None,
    max_response_tokens: int = MAX_RESPONSE_TOKENS,
) -> Spans:
    """Parse a model output into its four spans and the problems found. Never raises.

    Args:
        text: the raw output (anything that is not a string is read as empty).
        strict: only canonical and plain-card tags count; unclosed spans give no content.
        tokenizer: counts response tokens; words are counted without one.
        max_response_tokens: the response limit (30 in Kardia-R1).
    """
    try:
        return _parse(text, strict, tokenizer, max_response_tokens)
    except Exception as exc:  # a broken tokenizer must not break callers
        return Spans(problems=[Problem("missing_span", None, f"could not parse: {exc!r}")])


def _parse(text: Any, strict: bool, tokenizer: Tokenizer | None, max_tokens: int) -> Spans:
    if not isinstance(text, str):
        text = ""
    lenient = not strict
    if lenient:
        text = _TRAILING_EOT.sub("", text)
    problems: list[Problem] = []
    found: dict[str, str] = {}
    order: list[str] = []
    open_name: str | None = None
    open_at = 0
    cursor = 0  # end of the last closed span or stray tag: text after it is "outside"
    outside: list[str] = []

    def close(name: str, content: str) -> None:
        if name in found:
            problems.append(Problem("repeated_span", name, f"the {name} span appears more than once; the first is kept"))
        else:
            found[name] = content.strip()
            order.append(name)

    for start, end, name, is_begin in _tag_events(text, lenient):
        if open_name is None:
            outside.append(text[cursor:start])
            if is_begin:
                open_name, open_at = name, end
            else:
                problems.append(Problem("stray_tag", name, f"an end tag for {name} with no open span"))
                cursor = end
            continue
        if not is_begin and name == open_name:
            close(name, text[open_at:start])
            open_name, cursor = None, end
            continue
        # A tag inside an open span: the open span was never closed.
        problems.append(Problem("unclosed_span", open_name, f"the {open_name} span is not closed before another tag"))
        if lenient:
            close(open_name, text[open_at:start])
        if is_begin:
            open_name, open_at = name, end
        else:
            problems.append(Problem("stray_tag", name, f"an end tag for {name} with no open span"))
            open_name, cursor = None, end
    if open_name is None:
        outside.append(text[cursor:])
    else:
        problems.append(Problem("unclosed_span", open_name, f"the {open_name} span is never closed"))
        if lenient:
            close(open_name, text[open_at:])

    if any(chunk.strip() for chunk in outside):
        snippet = " ".join(c.strip() for c in outside if c.strip())[:60]
        problems.append(Problem("text_outside", None, f"text outside the spans: {snippet!r}"))
    for name in SPAN_NAMES:
        if name not in found:
            problems.append(Problem("missing_span", name, f"the {name} span is missing"))
        elif not found[name]:
            problems.append(Problem("empty_span", name, f"the {name} span is empty"))
    present = [n for n in order]
    if present != [n for n in SPAN_NAMES if n in present]:
        problems.append(Problem("wrong_order", None, f"spans in order {present}, expected {list(SPAN_NAMES)}"))
    emotion = found.get("emotion")
    if emotion:
        known = emotion.lower() in EMOTIONS if strict else normalize_emotion(emotion) is not None
        if not known:
            problems.append(Problem("unknown_emotion", "emotion", f"{emotion[:40]!r} is not one of the 32 labels"))
    response = found.get("response")
    if response:
        n = count_tokens(response, tokenizer)
        if n > max_tokens:
            unit = "tokens" if tokenizer is not None else "words"
            problems.append(Problem("response_too_long", "response", f"the response has {n} {unit} (limit {max_tokens})"))
    return Spans(
        understanding=found.get("understanding"),
        reasoning=found.get("reasoning"),
        emotion=emotion,
        response=response,
        problems=problems,
    )
